"""Precision on real-study shapes: split datasets (SDTMIG 4.1.7), baselines per natural keys,
unreadable bytes and files as findings, one answer for run / validate out / validate out/sdtm,
and the xlsx / HTML reports. Pilot-derived variants read ../shared and skip without it."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from cdisc_umsc.cli import main as cli
from cdisc_umsc.validate import study_from_ig, validate_study
from cdisc_umsc.validate.diff import load_findings
from tests.test_validate import clean, hits, run

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
PILOT = SHARED / "reference" / "cdiscpilot01"
needs_pilot = pytest.mark.skipif(not (PILOT / "sdtm").is_dir(), reason="../shared absent")


def _cli(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


# --------------------------------------------------------------------------- split datasets


def _split(frames: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """LB split into LBCH (first subject) and LBHE (second), SUPPLBCH on LBCH's records."""
    lb = frames.pop("LB")
    out = dict(frames)
    out["LBCH"] = lb[lb["USUBJID"] == "S1-001"].reset_index(drop=True)
    out["LBHE"] = lb[lb["USUBJID"] == "S1-002"].reset_index(drop=True)
    out["SUPPLBCH"] = pd.DataFrame(
        {
            "STUDYID": "S1",
            "RDOMAIN": "LB",
            "USUBJID": ["S1-001", "S1-001", "S1-001"],
            "IDVAR": "LBSEQ",
            "IDVARVAL": ["1", "2", "7"],
            "QNAM": "LBCLSIG",
            "QLABEL": "Clinically Significant",
            "QVAL": "N",
            "QORIG": "CRF",
            "QEVAL": "",
        }
    )
    return out


def test_supp_of_a_split_domain_points_into_its_split_dataset():
    frames = _split(clean())
    found = run(frames, study_from_ig(frames, study_id="S1"))
    assert hits(found, "UMSC-XD0002") == []  # RDOMAIN LB is the domain of LBCH / LBHE
    assert hits(found, "UMSC-XD0003") == []
    # IDVARVAL 7 has no LBCH record; 1 and 2 do
    assert hits(found, "UMSC-XD0004") == [("SUPPLBCH", 3, "IDVARVAL", "7")]
    assert (
        "no LBCH record with USUBJID 'S1-001' and LBSEQ = '7'"
        in (found.of("UMSC-XD0004")["message"].iloc[0])
    )
    assert not found.of("UMSC-SD0012").shape[0]  # LBCH, LBHE, SUPPLBCH are valid names


def test_supp_of_a_split_domain_whose_parent_record_is_in_the_other_split():
    frames = _split(clean())
    frames["SUPPLBCH"].loc[2, ["USUBJID", "IDVARVAL"]] = ["S1-002", "1"]  # an LBHE record
    found = run(frames, study_from_ig(frames, study_id="S1"))
    assert hits(found, "UMSC-XD0004") == [("SUPPLBCH", 3, "IDVARVAL", "1")]


def test_supp_without_a_split_name_looks_in_every_dataset_of_the_domain():
    frames = _split(clean())
    supp = frames.pop("SUPPLBCH")
    supp.loc[2, ["USUBJID", "IDVARVAL"]] = ["S1-002", "2"]  # in LBHE
    frames["SUPPLB"] = supp
    found = run(frames, study_from_ig(frames, study_id="S1"))
    assert hits(found, "UMSC-XD0002") == [] and hits(found, "UMSC-XD0004") == []
    frames["SUPPLB"].loc[0, "RDOMAIN"] = "QS"  # no QS dataset at all
    found = run(frames, study_from_ig(frames, study_id="S1"))
    assert hits(found, "UMSC-XD0002") == [("SUPPLB", 1, "RDOMAIN", "QS")]


# --------------------------------------------------------------------------- baselines


def _vs(pos: list[str], tpt: list[str], blfl: list[str]) -> pd.DataFrame:
    n = len(pos)
    return pd.DataFrame(
        {
            "STUDYID": "S1",
            "DOMAIN": "VS",
            "USUBJID": "S1-001",
            "VSSEQ": np.arange(1.0, n + 1),
            "VSTESTCD": "SYSBP",
            "VSTEST": "Systolic Blood Pressure",
            "VSPOS": pos,
            "VSORRES": "120",
            "VSORRESU": "mmHg",
            "VSSTRESC": "120",
            "VSSTRESN": 120.0,
            "VSSTRESU": "mmHg",
            "VSBLFL": blfl,
            "VSTPT": tpt,
            "VISITNUM": 1.0,
            "VISIT": "SCREENING",
            "VSDTC": "2024-01-09",
            "VSDY": -1.0,
        }
    )


def test_one_baseline_per_position_and_time_point():
    frames = clean()
    frames["VS"] = _vs(
        ["SUPINE", "STANDING", "SUPINE", "SUPINE"],
        ["PRE-DOSE", "PRE-DOSE", "1 HOUR", "1 HOUR"],
        ["Y", "Y", "Y", ""],
    )
    found = run(frames, study_from_ig(frames, study_id="S1"))
    assert hits(found, "UMSC-FN0005") == []
    frames["VS"].loc[3, "VSBLFL"] = "Y"  # a second baseline at SUPINE / 1 HOUR
    found = run(frames, study_from_ig(frames, study_id="S1"))
    assert hits(found, "UMSC-FN0005") == [("VS", 3, "VSBLFL", "Y"), ("VS", 4, "VSBLFL", "Y")]
    assert "USUBJID, VSTESTCD, VSPOS, VSTPT" in found.of("UMSC-FN0005")["message"].iloc[0]


# --------------------------------------------------------------------------- reading problems


def _xpt(path: Path, frame: pd.DataFrame, name: str) -> None:
    from datetime import datetime

    from cdisc_umsc.validate.igmeta import dataset_from_ig
    from cdisc_umsc.write.xpt import write_xpt

    write_xpt(path, frame, dataset_from_ig(name, frame), created=datetime(2024, 1, 1))


def _write_folder(folder: Path, frames: dict[str, pd.DataFrame]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        _xpt(folder / f"{name.lower()}.xpt", frame, name)


def test_unreadable_file_is_a_finding_and_the_rest_is_checked(tmp_path):
    folder = tmp_path / "sdtm"
    _write_folder(folder, {k: v for k, v in clean().items() if k in ("DM", "AE")})
    (folder / "lb.xpt").write_bytes(b"not an XPORT file at all" * 10)
    out = tmp_path / "v.json"
    res = _cli("validate", folder, "--out", out)
    assert res.exit_code == 1, res.output
    found = load_findings(out)
    bad = found.of("UMSC-FI0002")
    assert bad[["dataset", "variable", "value"]].values.tolist() == [["LB", "", "lb.xpt"]]
    assert pd.isna(bad["row"].iloc[0]) and "lb.xpt" in bad["message"].iloc[0]
    assert f"{folder}: 2 datasets," in res.output  # DM and AE were still validated


# --------------------------------------------------------------------------- one answer


def _key(findings) -> list[tuple]:
    f = findings.frame
    return sorted(
        zip(f["rule"], f["dataset"], f["row"].fillna(0), f["variable"], f["value"], strict=True)
    )


def test_run_validate_out_and_validate_out_sdtm_agree(bundled_run, tmp_path):
    result, out = bundled_run
    ran = load_findings(out / "validation.json")
    whole, sdtm, adam = tmp_path / "w.json", tmp_path / "s.json", tmp_path / "a.json"
    for folder, report in ((out, whole), (out / "sdtm", sdtm), (out / "adam", adam)):
        res = _cli("validate", folder, "--out", report)
        assert res.exit_code == 0, res.output  # warnings only
        assert "checked against define.xml (Define-XML" in res.output
    assert _key(ran) == _key(load_findings(whole))
    parts = _key(load_findings(sdtm)) + _key(load_findings(adam))
    assert sorted(parts) == _key(ran)
    assert len(ran) == 63  # tests/test_validate_cli.py BUNDLED
    # the bundled IG instead of the define gives the IG's codelists (DSDECOD, EXDOSU differ)
    res = _cli("validate", out / "sdtm", "--no-define")
    assert "checked against the bundled IG" in res.output


def test_define_and_no_define_contradict(bundled_run):
    _, out = bundled_run
    res = _cli("validate", out / "sdtm", "--define", out / "sdtm" / "define.xml", "--no-define")
    assert res.exit_code == 2 and "contradict" in res.output


def test_each_finding_names_the_standard_that_judged_it():
    frames = clean()
    frames["LB"].loc[0, "LBORRESU"] = "furlongs"
    found = validate_study(frames, study_from_ig(frames, study_id="S1"))
    judged = found.frame.set_index("rule")["standard"]
    assert judged["UMSC-CT0002"] == "SDTMIG 3.4; SDTM CT 2025-03-28"
    assert set(found.frame.loc[found.frame["rule"] != "UMSC-CT0002", "standard"]) <= {"SDTMIG 3.4"}


# --------------------------------------------------------------------------- reports


def test_xlsx_has_five_sheets_every_record_and_explanations(bundled_run, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    _, out = bundled_run
    known = tmp_path / "known.csv"
    known.write_text(
        "rule_id,dataset,variable,value,justification\n"
        "UMSC-CT0002,LB,LBTESTCD,TH17TH,T-helper subsets are kept in LB\n"
        "UMSC-CT0002,QS,QSCAT,,Questionnaire categories are sponsor terms\n",
        encoding="utf-8",
    )
    book = tmp_path / "v.xlsx"
    res = _cli("validate", out / "sdtm", "--report", "xlsx", "--out", book, "--known", known)
    assert res.exit_code == 0, res.output  # warnings only
    wb = openpyxl.load_workbook(book)
    assert wb.sheetnames == ["Report", "Dataset Summary", "Issue Summary", "Details", "Rules"]
    details = list(wb["Details"].values)
    head = details[0]
    rows = [dict(zip(head, r, strict=True)) for r in details[1:]]
    assert len(rows) == 63
    explained = {(r["Dataset"], r["Value(s)"]): r["Explanation"] for r in rows}
    assert explained[("LB", "TH17TH")] == "T-helper subsets are kept in LB"
    assert explained[("LB", "TLHMTH")] is None
    assert explained[("QS", "PASI FELDMAN")] == "Questionnaire categories are sponsor terms"
    summary = {r[0]: r[1:] for r in list(wb["Dataset Summary"].values)[1:]}
    assert summary["LB"][1:] == (0, 8, 0) and summary["DM"][1:] == (0, 0, 0)
    report = dict(list(wb["Report"].values)[1:])
    assert report["details shown"] == "63 of 63"
    assert "define.xml (Define-XML, SDTMIG 3.4)" in report["metadata"]
    rules = {r[0]: r[2] for r in list(wb["Rules"].values)[1:]}
    assert rules["UMSC-CT0002"] == "fail" and rules["UMSC-SD0001"] == "pass"
    assert rules["UMSC-AD0001"] == "not applicable"
    again = tmp_path / "again.xlsx"
    _cli("validate", out / "sdtm", "--report", "xlsx", "--out", again, "--known", known)
    assert again.read_bytes() == book.read_bytes()  # deterministic bytes


def test_html_has_the_dataset_summary_and_every_record(bundled_run, tmp_path):
    _, out = bundled_run
    page = (out / "validation.html").read_text(encoding="utf-8")
    assert '<table id="datasets">' in page and "<td>LB</td>" in page
    assert page.count('<tr class="warning"') == 63 and page.count('<tr class="error"') == 0
    assert 'data-page="500"' in page


# --------------------------------------------------------------------------- the real pilot


def _pilot_variant(tmp_path: Path) -> Path:
    """The pilot SDTM with LB (from the csv.gz) split into LBCH / LBHE plus SUPPLBCH, no
    define.xml, and TS's Windows-1252 byte kept."""
    folder = tmp_path / "pilot"
    folder.mkdir()
    for path in (PILOT / "sdtm").glob("*.xpt"):
        shutil.copy(path, folder / path.name)
    with gzip.open(PILOT / "csv_safetyData" / "sdtm_lb.csv.gz", "rt", encoding="utf-8") as fh:
        lb = pd.read_csv(fh, dtype=str, keep_default_na=False)
    subjects = sorted(set(lb["USUBJID"]))[:20]  # a small excerpt keeps the test quick
    lb = lb[lb["USUBJID"].isin(subjects)].reset_index(drop=True)
    for col in ("LBSEQ", "LBSTRESN", "LBSTNRLO", "LBSTNRHI", "VISITNUM", "VISITDY", "LBDY"):
        if col in lb.columns:
            lb[col] = pd.to_numeric(lb[col], errors="coerce")
    for part, cat in (("LBCH", "CHEMISTRY"), ("LBHE", "HEMATOLOGY")):
        part_lb = lb[lb["LBCAT"] == cat].reset_index(drop=True)
        _xpt(folder / f"{part.lower()}.xpt", part_lb, part)
    ch = lb[lb["LBCAT"] == "CHEMISTRY"].head(5)
    supp = pd.DataFrame(
        {
            "STUDYID": ch["STUDYID"].to_numpy(),
            "RDOMAIN": "LB",
            "USUBJID": ch["USUBJID"].to_numpy(),
            "IDVAR": "LBSEQ",
            "IDVARVAL": ch["LBSEQ"].map(lambda v: f"{v:g}").to_numpy(),
            "QNAM": "LBCLSIG",
            "QLABEL": "Clinically Significant",
            "QVAL": "N",
            "QORIG": "CRF",
            "QEVAL": "",
        }
    )
    _xpt(folder / "supplbch.xpt", supp, "SUPPLBCH")
    return folder


@needs_pilot
def test_pilot_split_lb_without_define(tmp_path):
    folder = _pilot_variant(tmp_path)
    out = tmp_path / "v.json"
    res = _cli("validate", folder, "--out", out)
    assert res.exit_code == 1, res.output  # the cp1252 byte in TS is an error finding
    found = load_findings(out)
    assert found.of("UMSC-XD0002").empty and found.of("UMSC-XD0004").empty
    assert found.of("UMSC-FN0005").empty  # one baseline per test, specimen and visit
    assert set(found.of("UMSC-FI0001")["dataset"]) == {"TS"}
    assert "the study declares SDTMIG" in res.output or "bundled IG" in res.output
    # a seeded duplicate DM record is found without a define
    from cdisc_umsc.read.xpt import read_xpt

    dm, _ = read_xpt(folder / "dm.xpt")
    _xpt(folder / "dm.xpt", pd.concat([dm, dm.iloc[[3]]], ignore_index=True), "DM")
    res = _cli("validate", folder, "--encoding", "cp1252", "--out", out)
    found = load_findings(out)
    dup = found.frame[found.frame["dataset"].eq("DM") & found.frame["rule"].eq("UMSC-SD0010")]
    assert dup["row"].tolist() == [4, len(dm) + 1]


def test_ct_errors_judged_by_another_release_are_warnings():
    frames = clean()
    frames["DM"].loc[0, "SEX"] = "X"  # not in the non-extensible SEX codelist
    own = validate_study(frames, study_from_ig(frames, study_id="S1"))
    assert own.of("UMSC-CT0001")["severity"].tolist() == ["error"]
    old = validate_study(frames, study_from_ig(frames, study_id="S1", ct_version="2016-03-25"))
    assert old.of("UMSC-CT0001")["severity"].tolist() == ["warning"]
    note = old.of("UMSC-CT0005")
    assert len(note) == 1 and "2016-03-25 is not bundled" in note["message"].iloc[0]
    assert "SDTM CT 2025-03-28" in note["message"].iloc[0]
