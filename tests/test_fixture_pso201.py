"""The second bundled trial, TLX-PSO-201 (fixtures/pso201, mappings/pso201): a randomised,
double-blind, placebo-controlled parallel trial exported Rave-style. Its generator's truth
(per-subject PASI50/75/90 and sPGA 0/1 at Week 16) is recomputed from the written SDTM with an
independent reader (pyreadstat, and the protocol's area bands written out again here)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest
from click.testing import CliRunner

from cdisc_umsc.cli import main

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "fixtures" / "pso201"
RAW = FIXTURE / "raw"
SPEC = ROOT / "mappings" / "pso201"
WEIGHTS = {"HEAD": 1, "ARMS": 2, "TRUNK": 3, "LEGS": 4}
ITEMS = {  # RSTESTCD -> (region, part) of the PASI Feldman items
    f"PASI02{n:02d}": (region, part)
    for n, (region, part) in enumerate(
        ((r, p) for r in WEIGHTS for p in ("E", "I", "S", "AREA")), start=1
    )
}


def area_score(percent: float) -> int:
    """The protocol's bands, written out independently of the spec."""
    if percent == 0:
        return 0
    return (
        1
        if percent < 10
        else 2
        if percent < 30
        else 3
        if percent < 50
        else (4 if percent < 70 else 5 if percent < 90 else 6)
    )


@pytest.fixture(scope="module")
def run_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("pso201") / "out"
    res = CliRunner().invoke(
        main, ["run", "--spec", str(SPEC), "--raw", str(RAW), "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    return out, res.output


def _xpt(out: Path, part: str, name: str) -> pd.DataFrame:
    frame, _meta = pyreadstat.read_xport(str(out / part / f"{name}.xpt"))
    return frame


def _truth() -> pd.DataFrame:
    return pd.read_csv(FIXTURE / "truth.csv", dtype=str, keep_default_na=False)


def test_generator_rewrites_the_committed_export_byte_for_byte(tmp_path):
    cmd = [
        sys.executable,
        str(FIXTURE / "make_raw.py"),
        "--out",
        str(tmp_path / "raw"),
        "--truth",
        str(tmp_path / "truth.csv"),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    written = sorted(p.name for p in (tmp_path / "raw").iterdir())
    assert written == sorted(p.name for p in RAW.iterdir())
    for name in written:
        assert (tmp_path / "raw" / name).read_bytes() == (RAW / name).read_bytes(), name
    assert (tmp_path / "truth.csv").read_bytes() == (FIXTURE / "truth.csv").read_bytes()
    assert proc.stdout.splitlines()[0] == (
        "TLX30: PASI50 21/24  PASI75 11/24  PASI90 7/24  sPGA 0/1 12/24"
    )


def test_the_trial_is_shaped_as_the_issue_asks():
    dm = pd.read_csv(RAW / "DM.csv", dtype=str)
    rand = pd.read_csv(RAW / "RAND.csv", dtype=str)
    eos = pd.read_csv(RAW / "EOS.csv", dtype=str, keep_default_na=False)
    assert len(dm) == 74 and dm["SiteNumber"].nunique() == 3
    assert rand["KITARM"].value_counts().to_dict() == {"A": 24, "B": 24, "C": 24}
    assert set(dm["Subject"]) - set(rand["Subject"]) == {"201-013", "301-007"}  # screen failures
    stopped = eos[eos["DSSTAT"].isin(["Discontinued", "Abgebrochen", "Arrêté"])]
    assert len(stopped) == 8  # 7 early withdrawals and the randomised subject never dosed
    assert set(dm["SEX"]) == {"Male", "Female", "männlich", "weiblich", "Homme", "Femme"}
    lab = pd.read_csv(RAW / "LAB.csv", dtype=str, keep_default_na=False)
    assert {"<0.50", "<5.0", ">90"} <= set(lab["LBORRES"])
    assert {"mg/dL", "mmol/L", "µmol/L", "g/dL", "g/L"} <= set(lab["LBORRESU"])
    visits = pd.read_csv(RAW / "VISIT.csv", dtype=str)
    assert (visits["Folder"] == "UNS").sum() == 17


def test_run_accounts_for_every_raw_file_record_and_field(run_out):
    out, output = run_out
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    forms = {f["file"] for f in manifest["raw_forms"]}
    assert forms | {"export_log.txt"} == {p.name for p in RAW.iterdir()}
    assert manifest["ignored_files"] == [
        {
            "file": "export_log.txt",
            "reason": "the EDC's log of the extract (file list and time), not study data",
        }
    ]
    for form in manifest["raw_forms"]:
        assert form["read"] == form["mapped"] + form["excluded"], form
        header = next(csv.reader((RAW / form["file"]).open(encoding="utf-8")))
        assert sorted(form["fields"]) == sorted(header), form["file"]
        assert all(form["fields"].values())
    elig = next(f for f in manifest["raw_forms"] if f["form"] == "ELIG")
    # IE leaves out the rows of subjects who met every criterion, but DS maps their consent
    assert (elig["read"], elig["mapped"], elig["reasons"]) == (74, 74, {})
    vs = next(f for f in manifest["raw_forms"] if f["form"] == "VS")
    assert vs["fields"]["HTU"] == "read by VS.VSORRESU"
    assert "Collected fields not submitted" in output and "DOSE.KITNO" in output


def test_recomputed_responders_equal_the_generators_truth(run_out):
    out, _output = run_out
    rs = _xpt(out, "sdtm", "rs")
    dm = _xpt(out, "sdtm", "dm")
    items = rs[rs["RSTESTCD"].isin(list(ITEMS))].copy()
    items["region"] = items["RSTESTCD"].map(lambda c: ITEMS[c][0])
    items["part"] = items["RSTESTCD"].map(lambda c: ITEMS[c][1])
    # the percent area as collected, banded again here; signs as collected
    value = pd.to_numeric(items["RSORRES"])
    items["score"] = np.where(items["part"] == "AREA", value.map(area_score), value)
    wide = items.pivot_table(
        index=["USUBJID", "VISITNUM", "region"], columns="part", values="score", aggfunc="first"
    ).reset_index()
    wide["tenths"] = (
        (wide["E"] + wide["I"] + wide["S"]) * wide["AREA"] * wide["region"].map(WEIGHTS)
    )
    pasi = wide.groupby(["USUBJID", "VISITNUM"])["tenths"].sum().astype(int)
    spga = rs[rs["RSTESTCD"] == "SPGA"].set_index(["USUBJID", "VISITNUM"])["RSSTRESN"]
    subj = dm.set_index("SUBJID")["USUBJID"]
    truth = _truth()
    assert len(truth) == 71
    counts: dict[tuple[str, str], int] = {}
    for row in truth.itertuples(index=False):
        usubjid = subj[row.SUBJID]
        base = pasi[(usubjid, 2.0)]
        w16 = pasi.get((usubjid, 7.0))
        assert f"{base / 10:.1f}" == row.PASI_BL
        got = {
            f"PASI{p}": "Y" if w16 is not None and (base - w16) * 100 >= p * base else "N"
            for p in (50, 75, 90)
        }
        got["SPGA01"] = "Y" if spga.get((usubjid, 7.0)) in (0.0, 1.0) else "N"
        assert got == {k: getattr(row, k) for k in got}, row.SUBJID
        for k, v in got.items():
            counts[(row.ARMCD, k)] = counts.get((row.ARMCD, k), 0) + (v == "Y")
    assert counts[("TLX30", "PASI75")] == 11 and counts[("PBO", "PASI50")] == 2
    # the designed boundaries: exactly 50 %, 75 % and 90 % are responders; 49.6 % is not
    t = truth.set_index("SUBJID")
    assert t.loc["101-002", ["PASI50", "PASI75"]].tolist() == ["Y", "N"]
    assert t.loc["201-002", ["PASI75", "PASI90"]].tolist() == ["Y", "N"]
    assert t.loc["301-002", "PASI90"] == "Y" and t.loc["101-003", "PASI50"] == "N"


def test_adam_responders_equal_the_truth(run_out):
    out, _output = run_out
    adeff = _xpt(out, "adam", "adeff")
    truth = _truth().set_index("SUBJID")
    anl = adeff[(adeff["ANL01FL"] == "Y") & (adeff["FASFL"] == "Y")]
    pasi = anl[anl["PARAMCD"] == "PASITOT"].set_index("SUBJID")
    spga = anl[anl["PARAMCD"] == "SPGA"].set_index("SUBJID")
    assert sorted(pasi.index) == sorted(truth.index)
    assert (pasi["CRIT1FL"] == truth.loc[pasi.index, "PASI50"]).all()
    assert (pasi["CRIT2FL"] == truth.loc[pasi.index, "PASI75"]).all()
    assert (pasi["CRIT3FL"] == truth.loc[pasi.index, "PASI90"]).all()
    assert (spga["CRIT1FL"] == truth.loc[spga.index, "SPGA01"]).all()
    # an early withdrawal has the baseline carried forward: a non-responder, never dropped
    assert pasi.loc["201-020", "DTYPE"] == "BLOCF" and pasi.loc["201-020", "CRIT1FL"] == "N"


def test_sdtm_values_of_the_new_spec_features(run_out):
    out, _output = run_out
    dm = _xpt(out, "sdtm", "dm").set_index("SUBJID")
    # birth 'UKFEB1983', consent 18 Feb 2023: the day is taken as the 15th (partial: mid)
    assert dm.loc["201-008", "AGE"] == 40.0
    assert dm.loc["201-013", "ARMNRS"] == "SCREEN FAILURE" and dm.loc["201-013", "ARMCD"] == ""
    assert dm.loc["101-019", "ARMNRS"] == "ASSIGNED, NOT TREATED"
    assert dm.loc["101-019", "ACTARMCD"] == "" and dm.loc["101-019", "ARMCD"] != ""
    assert set(dm["SEX"]) == {"M", "F"} and set(dm["COUNTRY"]) == {"USA", "DEU", "FRA"}
    ie = _xpt(out, "sdtm", "ie")
    assert sorted(zip(ie["IETESTCD"], ie["IECAT"], ie["IEORRES"], strict=True)) == [
        ("EX01", "EXCLUSION", "Y"),
        ("IN02", "INCLUSION", "N"),
    ]
    sv = _xpt(out, "sdtm", "sv")
    s4 = sv[sv["USUBJID"] == "TLX-PSO-201-101-004"].set_index("SVSTDTC")
    # three unscheduled visits after Week 4 (VISITNUM 4), numbered by date not by name
    assert s4.loc["2023-03-17", "VISITNUM"] == 4.01 and s4.loc["2023-03-22", "VISITNUM"] == 4.03
    assert s4.loc["2023-03-18", "VISIT"] == "UNSCHEDULED 4.02"
    assert s4.loc["2023-03-18", "SVUPDES"] == "REPEAT LABORATORY SAMPLE"
    lb = _xpt(out, "sdtm", "lb")
    crp = lb[(lb["LBTESTCD"] == "CRP") & (lb["LBORRES"] == "<0.50")]
    assert set(crp["LBSTRESC"]) == {"<5"} and crp["LBSTRESN"].isna().all()
    assert set(crp["LBSTRESU"]) == {"mg/L"} and set(crp["LBORRESU"]) == {"mg/dL"}
    assert set(lb.loc[lb["LBORRESU"] == "umol/L", "LBTESTCD"]) == {"CREAT"}
    vs = _xpt(out, "sdtm", "vs")
    lbs = vs[(vs["VSTESTCD"] == "WEIGHT") & (vs["VSORRESU"] == "LB")]
    assert np.allclose(lbs["VSSTRESN"], (pd.to_numeric(lbs["VSORRES"]) * 0.45359237).round(1))
    assert set(vs.loc[vs["VSTESTCD"] == "HEIGHT", "VISITNUM"]) == {1.0}
    assert (vs["VSDTC"] != "").all()  # every assessment dated from the visit form
    ae = _xpt(out, "sdtm", "ae")
    assert ae["AEDECOD"].ne("").all() and ae["AETERM"].str.isascii().all()
    assert {"2023-05"} <= set(ae["AESTDTC"])  # UN-MAY-2023 stays partial
    ta = _xpt(out, "sdtm", "ta")
    assert sorted(set(zip(ta["ARMCD"], ta["TAETORD"], ta["ETCD"], strict=True))) == sorted(
        {(a, 1.0, "SCRN") for a in ("TLX10", "TLX30", "PBO")}
        | {(a, 2.0, a) for a in ("TLX10", "TLX30", "PBO")}
        | {(a, 3.0, "FU") for a in ("TLX10", "TLX30", "PBO")}
    )
    se = _xpt(out, "sdtm", "se").merge(dm.reset_index()[["USUBJID", "ACTARMCD"]], on="USUBJID")
    treated = se[se["TAETORD"] == 2.0]
    assert (treated["ETCD"] == treated["ACTARMCD"]).all() and len(treated) == 71
    assert se[se["USUBJID"] == "TLX-PSO-201-201-013"]["ETCD"].tolist() == ["SCRN"]


def test_direct_identifiers_reach_no_output_file(run_out):
    out, _output = run_out
    dm = pd.read_csv(RAW / "DM.csv", dtype=str)
    secrets = [v for col in ("INITIALS", "MRN", "PHONE", "EMAIL") for v in dm[col] if len(v) > 3]
    assert len(secrets) >= 3 * 74
    for path in out.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for value in secrets:
                assert value.encode("utf-8") not in data, (path, value)


def test_review_page_shows_the_trials_endpoints_by_arm(run_out):
    import lxml.html

    out, _output = run_out
    doc = lxml.html.fromstring((out / "index.html").read_bytes())
    cells = {
        (td.get("data-endpoint"), td.get("data-group"), td.get("data-level")): td.text_content()
        for td in doc.xpath('//td[@data-table="efficacy"]')
    }
    assert cells[("PASI75", "TRT01P", "Tolvexinib 30 mg once daily")] == "11/24 (45.8 %)"
    assert doc.xpath('//figure[@id="fig-pchg-adeff-pasitot"]')
    assert doc.xpath('//table[@id="shift-adlb"]') and doc.xpath('//table[@id="labs-adlb"]')


def test_validation_finds_no_error_and_only_the_explained_warnings(run_out):
    """The trial's TS holds every parameter the FDA requires (OBJPRIM, OUTMSPRI, TDIGRP with
    the rest). What is left are warnings: the qualified lab results with ranges and the
    never-dosed subject's RFENDTC, which known_findings.csv explains; the same subject's null
    RFSTDTC/RFENDTC/ACTARMCD (assigned, not treated: ARMNRS, SDTMIG 3.4 DM assumptions); and
    the two qualified standard results, new terms of the extensible LBSTRESC codelist."""
    out, _output = run_out
    doc = json.loads((out / "validation.json").read_text(encoding="utf-8"))
    ts = _xpt(out, "sdtm", "ts")
    tdigrp = ts[ts["TSPARMCD"] == "TDIGRP"].iloc[0]
    assert (tdigrp["TSVAL"], tdigrp["TSVALCD"], tdigrp["TSVCDREF"]) == (
        "Plaque psoriasis",
        "200965009",
        "SNOMED",
    )
    assert {"OBJPRIM", "OUTMSPRI"} <= set(ts["TSPARMCD"])
    counts = {(s["rule"], s["severity"]): s["count"] for s in doc["summary"]}
    assert counts == {
        ("UMSC-CR000191", "warning"): 1,
        ("UMSC-CR000289", "warning"): 459,
        ("UMSC-CR000290", "warning"): 459,
        ("UMSC-CR000298", "warning"): 459,
        ("UMSC-CR000299", "warning"): 459,
        ("UMSC-CT0002", "warning"): 2,
        ("UMSC-PSD0087", "warning"): 1,
        ("UMSC-PSD0088", "warning"): 1,
        ("UMSC-PSD2236", "warning"): 1,
    }
    dosed_never = {f["usubjid"] for f in doc["findings"] if f["rule"].startswith("UMSC-PSD")}
    assert dosed_never == {"TLX-PSO-201-101-019"}
    known = pd.read_csv(SPEC / "known_findings.csv", dtype=str)
    assert {"CORE-000191", "CORE-000289", "CORE-000290", "CORE-000298", "CORE-000299"} <= set(
        known["rule_id"]
    )
