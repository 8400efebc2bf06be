"""``cdisc-umsc validate`` / ``define`` and the validation step of ``cdisc-umsc run``."""

from __future__ import annotations

import csv
import json
import re
import shutil
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from cdisc_umsc.cli import main
from cdisc_umsc.core.xmlsafe import parse_xml
from cdisc_umsc.read.define import read_define
from cdisc_umsc.validate.diff import diff_findings, load_findings
from cdisc_umsc.validate.findings import Findings
from cdisc_umsc.validate.folder import validate_folder
from cdisc_umsc.write.define import validate_define
from cdisc_umsc.write.xpt import write_xpt

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
PILOT = SHARED / "reference" / "cdiscpilot01" / "sdtm"
EXAMPLE = (
    SHARED
    / "reference"
    / "define-xml-2.1"
    / "examples"
    / "DefineXML-2-1-SDTM"
    / "defineV21-SDTM.xml"
)
needs_pilot = pytest.mark.skipif(not PILOT.is_dir(), reason="../shared absent")


def _cli(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture()
def sdtm_dir(bundled_run, tmp_path) -> Path:
    """A writable copy of the bundled run's SDTM folder (with its define.xml)."""
    dest = tmp_path / "sdtm"
    shutil.copytree(bundled_run[1] / "sdtm", dest)
    return dest


def _seed_ae_defect(bundled_run, folder: Path) -> tuple[str, float, int]:
    """Rewrite ae.xpt with a wrong AESTDY on the 3rd record; returns (USUBJID, AESEQ, row)."""
    result = bundled_run[0]
    ae = result.sdtm.data["AE"].copy()
    ae.loc[2, "AESTDY"] = ae.loc[2, "AESTDY"] + 5
    write_xpt(
        folder / "ae.xpt",
        ae,
        result.sdtm.meta["AE"],
        created=datetime.fromisoformat(result.spec.settings["created"]),
    )
    return str(ae.loc[2, "USUBJID"]), float(ae.loc[2, "AESEQ"]), 3


# --------------------------------------------------------------------------- validate DIR


#: The bundled trial's SDTM findings: 10 sponsor terms in extensible codelists, one AE record
#: whose EPOCH cannot be told (a year-only start, also in mappings/umsc/known_findings.csv),
#: and EC records without timing: the 17 SCHEDULED records (the planned dose level of each
#: subject, collected without dates: P21 SD0021 / SD0022 / SD1118) and subject 004's planned
#: infusion not given, which has no date (SD1118; ECOCCUR = N exempts it from the others). TS
#: carries every parameter the FDA lists (no UMSC-TS0001) and VS holds the collected heights
#: and weights (no UMSC-PR0002).
BUNDLED = {
    ("UMSC-CR000701", "warning"): 1,
    ("UMSC-CT0002", "warning"): 10,
    ("UMSC-PSD0021", "warning"): 17,
    ("UMSC-PSD0022", "warning"): 17,
    ("UMSC-PSD1118", "warning"): 18,
}


def test_bundled_sdtm_findings(sdtm_dir, tmp_path):
    out = tmp_path / "r.json"
    res = _cli("validate", sdtm_dir, "--report", "json", "--out", out)
    assert res.exit_code == 0, res.output
    assert "17 datasets" in res.output and "0 errors" in res.output
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert {(s["rule"], s["severity"]): s["count"] for s in doc["summary"]} == BUNDLED
    assert not [f for f in doc["findings"] if f["rule"].startswith("UMSC-TS")]
    untimed = {f["dataset"] for f in doc["findings"] if f["rule"].startswith("UMSC-PSD")}
    assert untimed == {"EC"}


def test_error_exits_1_and_names_the_record(bundled_run, sdtm_dir, tmp_path):
    usubjid, seq, row = _seed_ae_defect(bundled_run, sdtm_dir)
    out = tmp_path / "r.csv"
    res = _cli("validate", sdtm_dir, "--out", out)  # format from the suffix
    assert res.exit_code == 1, res.output
    assert re.search(r"UMSC-DT0003\s+error\s+1\b", res.output)
    rows = [r for r in csv.DictReader(out.open(encoding="utf-8")) if r["rule"] == "UMSC-DT0003"]
    assert len(rows) == 1
    hit = rows[0]
    assert (
        hit["dataset"],
        hit["usubjid"],
        float(hit["seq"]),
        int(hit["row"]),
        hit["variable"],
    ) == ("AE", usubjid, seq, row, "AESTDY")
    assert hit["core_id"] == "CORE-000529;CORE-000552;CORE-000553"


def test_html_report_is_self_contained_and_filterable(bundled_run, sdtm_dir, tmp_path):
    _seed_ae_defect(bundled_run, sdtm_dir)
    out = tmp_path / "r.html"
    res = _cli("validate", sdtm_dir, "--report", "html", "--out", out)
    assert res.exit_code == 1
    total = int(re.search(r"(\d+) findings: 2 errors,", res.output).group(1))
    page = out.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "<style>" in page and "<script>" in page
    for select in ("f-dataset", "f-rule", "f-severity"):
        assert f'<select id="{select}">' in page
    assert page.count("<tr class=") == total
    assert page.count('<tr class="error"') == 2  # AESTDY (2 rules)
    assert '<option value="UMSC-DT0003">' in page and '<option value="AE">' in page
    assert re.search(
        r'data-ds="AE" data-rule="UMSC-DT0003" data-sev="error">'
        r"<td>error</td><td>UMSC-DT0003</td><td>AE</td><td>[^<]+</td>"
        r'<td class="num">\d+</td><td class="num">3</td><td>AESTDY</td>',
        page,
    )


def test_values_are_escaped_in_html():
    from cdisc_umsc.validate.html import render_html

    f = Findings(pd_frame(value="<b>&'\"", message="x < y"))
    page = render_html(f, "t<").decode("utf-8")
    assert "<td>&lt;b&gt;&amp;'&quot;</td>" in page and "<title>t&lt;</title>" in page


def pd_frame(**cols):
    import pandas as pd

    base = {
        "rule": "R1",
        "severity": "error",
        "dataset": "AE",
        "usubjid": "S-1",
        "seq": 1.0,
        "row": 1,
        "variable": "AETERM",
        "value": "v",
        "message": "m",
    }
    return pd.DataFrame({k: [v] for k, v in (base | cols).items()})


def test_development_profile_downgrades_expected(sdtm_dir):
    import dataclasses

    from cdisc_umsc.read.xpt import read_xpt

    frame, meta = read_xpt(sdtm_dir / "dm.xpt")
    keep = tuple(v for v in meta.variables if v.name != "ARMNRS")
    write_xpt(
        sdtm_dir / "dm.xpt",
        frame.drop(columns="ARMNRS"),
        dataclasses.replace(meta, variables=keep),
        created=datetime(2024, 1, 1),
    )
    sub = _cli("validate", sdtm_dir)
    dev = _cli("validate", sdtm_dir, "--profile", "development")
    assert re.search(r"UMSC-SD0003\s+warning\s+1\b", sub.output), sub.output
    assert re.search(r"UMSC-SD0003\s+notice\s+1\b", dev.output), dev.output


# --------------------------------------------------------------------------- bad usage: exit 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "give a FOLDER of datasets to validate"),
        (("{tmp}/nowhere",), "not a folder of datasets"),
        (
            ("{tmp}",),
            "no datasets (expected *.xpt, *.json or *.ndjson files, or the sdtm/ and adam/",
        ),
        (("{sdtm}", "--encoding", "klingon"), "unknown text encoding"),
        (("{sdtm}", "--out", "{tmp}/r.txt"), "cannot tell the report format"),
        (("{sdtm}", "--define", "{tmp}/none.xml"), "none.xml"),
        (("--diff", "{tmp}/a.json", "{tmp}/b.json"), "findings report not found"),
        (("{sdtm}", "--diff", "{tmp}/a.json", "{tmp}/b.json"), "give no FOLDER"),
    ],
)
def test_bad_usage_is_one_line_exit_2(sdtm_dir, tmp_path, args, message):
    empty = tmp_path / "empty"
    empty.mkdir()
    args = [a.format(tmp=empty, sdtm=sdtm_dir) for a in args]
    res = _cli("validate", *args)
    assert res.exit_code == 2, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], lines
    assert "Traceback" not in res.output


@needs_pilot
def test_unreadable_text_is_a_finding_and_the_rest_is_validated(tmp_path):
    out = tmp_path / "v.json"
    res = _cli("validate", PILOT, "--out", out)  # ts.xpt holds a cp1252 byte, not ascii
    assert res.exit_code == 1, res.output
    found = load_findings(out)
    bad = found.of("UMSC-FI0001")
    assert bad[["dataset", "row", "variable"]].values.tolist() == [
        ["TS", 9, "TSVAL"],
        ["TS", 14, "TSVAL"],
        ["TS", 29, "TSVAL"],
    ]
    assert "ts.xpt: row 9, variable TSVAL: byte 0x92 at position" in bad["message"].iloc[0]
    assert "\u2019" in bad["value"].iloc[0]  # read as Windows-1252: a right single quote
    assert {"DM", "AE", "TS"} <= set(found.frame["dataset"])  # the rest was still checked


# --------------------------------------------------------------------------- --diff


def test_diff_lists_new_fixed_unchanged(bundled_run, sdtm_dir, tmp_path):
    old, new, out = tmp_path / "old.json", tmp_path / "new.json", tmp_path / "d.json"
    _cli("validate", sdtm_dir, "--report", "json", "--out", old)
    _seed_ae_defect(bundled_run, sdtm_dir)
    _cli("validate", sdtm_dir, "--report", "json", "--out", new)
    before = len(load_findings(old))
    assert before > 0
    res = _cli("validate", "--diff", old, new, "--out", out)
    assert res.exit_code == 1, res.output  # a new error
    # the seeded AESTDY breaks the study-day rule, P21 SD0012 and CORE-000708 (--STDY after
    # --ENDY; each catalogue's rule reports under its own id)
    assert f"3 new, 0 fixed, {before} unchanged findings" in res.output, res.output
    assert re.search(r"new error UMSC-DT0003 AE \S+ \d+ AESTDY '\d+'", res.output)
    assert re.search(r"new error UMSC-PSD0012 AE \S+ \d+ AESTDY, AEENDY", res.output)
    back = _cli("validate", "--diff", new, old)
    assert back.exit_code == 0 and f"0 new, 3 fixed, {before} unchanged" in back.output
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert [len(doc[k]) for k in ("new", "fixed", "unchanged")] == [3, 0, before]
    again = _cli("validate", "--diff", new, old, "--out", out)  # its own previous file
    assert again.exit_code == 0 and json.loads(out.read_text(encoding="utf-8"))["fixed"]


@pytest.mark.parametrize(
    "content",
    [b'{"new": []}', b"notes I keep\n", b""],
    ids=["other-json", "text", "empty"],
)
def test_diff_never_overwrites_a_file_it_did_not_write(bundled_run, sdtm_dir, tmp_path, content):
    old, user = tmp_path / "old.json", tmp_path / "mine.json"
    _cli("validate", sdtm_dir, "--report", "json", "--out", old)
    user.write_bytes(content)
    res = _cli("validate", "--diff", old, old, "--out", user)
    assert res.exit_code == 2
    assert res.output.strip().splitlines()[-1] == (
        f"error: --out {user}: exists and is no cdisc-umsc validate --diff report; it is left "
        "untouched (remove it, or name another file)"
    )
    assert user.read_bytes() == content
    link = tmp_path / "link.json"
    link.symlink_to(user)
    res = _cli("validate", "--diff", old, old, "--out", link)
    assert res.exit_code == 2 and "exists and is not a regular file" in res.output
    assert link.is_symlink() and user.read_bytes() == content


def test_diff_pairs_repeated_findings_and_ignores_rows():
    a = Findings(pd_frame().pipe(lambda f: f.loc[[0, 0]].reset_index(drop=True)))
    b = Findings(pd_frame(row=40, message="other wording"))
    d = diff_findings(a, b)
    assert (len(d.new), len(d.fixed), len(d.unchanged)) == (0, 1, 1)


def test_load_findings_rejects_other_json(tmp_path):
    from cdisc_umsc.core.errors import InputError

    path = tmp_path / "x.json"
    path.write_text('{"rules": []}', encoding="utf-8")
    with pytest.raises(InputError, match='x.json: expected an object with a "findings" list'):
        load_findings(path)


# --------------------------------------------------------------------------- --define


def test_validate_by_the_runs_own_define(sdtm_dir):
    res = _cli("validate", sdtm_dir, "--define", sdtm_dir / "define.xml")
    assert res.exit_code == 0, res.output  # warnings only
    # the same findings as with the define beside the data (used by default)
    assert "checked against define.xml (Define-XML, SDTMIG 3.4)" in res.output
    assert "63 findings: 0 errors, 63 warnings" in res.output
    assert _cli("validate", sdtm_dir).output.splitlines()[1:] == res.output.splitlines()[1:]


def test_ig_and_ct_override_the_define(sdtm_dir):
    """--ig and --ct name the versions to judge by, whatever the define.xml declares."""
    res = _cli(
        "validate",
        sdtm_dir,
        "--define",
        sdtm_dir / "define.xml",
        "--ig",
        "3.3",
        "--ct",
        "2024-12-20",
    )
    assert res.exit_code == 0, res.output
    assert "70 findings: 0 errors, 68 warnings, 2 notices" in res.output  # 63 under 2025-03-28
    validation = validate_folder(
        sdtm_dir, define=sdtm_dir / "define.xml", ig="SDTMIG 3.3", ct="2024-12-20"
    )
    assert validation.header["standards"] == (
        "declares SDTMIG 3.3, judged by SDTMIG 3.4 (not bundled)"
    )
    assert validation.header["CT"] == "SDTM CT 2024-12-20"


def test_ig_and_ct_must_be_versions_and_name_the_sdtm_standards(sdtm_dir, bundled_run):
    """A --ig or --ct that is no version is one line before any work; on a run's output
    they judge its SDTM part, not the ADaM one (ADaMIG has its own versions)."""
    res = _cli("validate", sdtm_dir, "--ig", "banana")
    assert res.exit_code == 2
    assert res.output.splitlines() == ["error: --ig banana: expected an SDTMIG version such as 3.4"]
    res = _cli("validate", sdtm_dir, "--ct", "banana")
    assert res.exit_code == 2
    assert res.output.splitlines() == [
        "error: --ct banana: expected an SDTM CT release date such as 2025-03-28"
    ]
    res = _cli("validate", bundled_run[1], "--ig", "3.3", "--out", sdtm_dir / "v.json")
    assert res.exit_code == 0, res.output
    assert "ADaMIG 3.3" not in res.output


@needs_pilot
def test_pilot_define_1_0(tmp_path):
    out = tmp_path / "p.json"
    res = _cli(
        "validate", PILOT, "--encoding", "cp1252", "--define", PILOT / "define.xml", "--out", out
    )
    assert res.exit_code == 1, res.output
    assert "SDTM 3.1.2" in res.output
    found = load_findings(out).frame
    counts = found.groupby(["rule", "dataset"]).size().to_dict()
    # def:DomainKeys of CM (STUDYID, USUBJID, CMTRT, CMSTDTC) do not identify its records
    assert counts[("UMSC-SD0010", "CM")] == 7341
    # MedDRA / WHODrug are external dictionaries: their values are not checked as CT
    assert not found["rule"].isin(["UMSC-CT0001", "UMSC-CT0004", "UMSC-PA0001"]).any()
    ae = found[(found["rule"] == "UMSC-DT0003")]
    assert list(zip(ae["dataset"], ae["row"], ae["usubjid"], strict=True)) == [
        ("AE", 971, "01-716-1063")
    ]


@needs_pilot
def test_cdisc_2019_example_define_on_other_data(sdtm_dir):
    if not EXAMPLE.is_file():
        pytest.skip("CDISC Define-XML 2.1 SDTM example absent")
    res = _cli("validate", sdtm_dir, "--define", EXAMPLE)
    assert res.exit_code == 1
    assert "checked against defineV21-SDTM.xml (Define-XML, SDTMIG 3.1.2)" in res.output
    study = read_define(EXAMPLE)
    assert {"DM", "EX", "LB"} <= set(study.datasets) and "AE" not in study.datasets
    assert re.search(r"UMSC-MD0001\s+error\s+10\b", res.output)  # AE, DS, QS ... undescribed
    assert re.search(r"UMSC-MD0005\s+notice\s+1\b", res.output)  # SDTMIG 3.1.2, not bundled


def test_unsupported_define_version(sdtm_dir, tmp_path):
    text = (sdtm_dir / "define.xml").read_text(encoding="utf-8")
    bad = tmp_path / "define.xml"
    bad.write_text(
        text.replace("http://www.cdisc.org/ns/def/v2.1", "http://www.cdisc.org/ns/def/v3.0"),
        encoding="utf-8",
    )
    res = _cli("validate", sdtm_dir, "--define", bad)
    assert res.exit_code == 2
    assert "define.xml: no Define-XML 1.0/2.0/2.1 namespace" in res.output


# --------------------------------------------------------------------------- define --sdtm / --adam


@pytest.mark.parametrize(("std", "purpose"), [("sdtm", "Tabulation"), ("adam", "Analysis")])
def test_define_for_a_folder(bundled_run, tmp_path, std, purpose):
    folder = tmp_path / std
    shutil.copytree(bundled_run[1] / std, folder)
    for p in folder.glob("define.*"):
        p.unlink()
    res = _cli("define", f"--{std}", folder)
    assert res.exit_code == 0, res.output
    first = (folder / "define.xml").read_bytes()
    assert validate_define(parse_xml(first)) == []
    assert (folder / "define.html").read_bytes().startswith(b"<")
    study = read_define(folder / "define.xml")
    assert {d.purpose for d in study.datasets.values()} == {purpose}
    data = bundled_run[0].sdtm.data if std == "sdtm" else bundled_run[0].adam
    assert set(study.datasets) == set(data)
    dm = study.datasets["DM" if std == "sdtm" else "ADSL"]
    assert dm.var("USUBJID").length == data[dm.name]["USUBJID"].str.len().max()
    assert study.created == bundled_run[0].spec.settings["created"]
    assert _cli("define", f"--{std}", folder).exit_code == 0
    assert (folder / "define.xml").read_bytes() == first  # deterministic
    check = _cli("validate", folder, "--define", folder / "define.xml")
    # no errors: TS carries the FDA parameters (BUNDLED)
    assert check.exit_code == 0 and "0 errors" in check.output, check.output


def test_define_usage_errors(bundled_run, tmp_path):
    assert "exactly one of --sdtm" in _cli("define").output
    res = _cli("define", "--adam", bundled_run[1] / "sdtm")
    assert res.exit_code == 2 and "is SDTMIG data, not ADaMIG" in res.output
    res = _cli("define", "--sdtm", bundled_run[1] / "sdtm", "--created", "yesterday")
    assert res.exit_code == 2 and "expected an ISO 8601 date-time" in res.output


@needs_pilot
def test_define_for_the_pilot_folder(tmp_path):
    folder = tmp_path / "pilot"
    shutil.copytree(PILOT, folder)
    (folder / "define.xml").unlink()
    res = _cli("define", "--sdtm", folder, "--encoding", "cp1252")
    assert res.exit_code == 0, res.output
    study = read_define(folder / "define.xml")
    assert study.created == "2012-04-04T22:16:21" or study.created > "2012"
    assert study.datasets["AE"].var("AESTDTC").data_type in ("date", "partialDate")
    assert study.datasets["DM"].var("AGE").data_type == "integer"


# --------------------------------------------------------------------------- inside run


def test_run_writes_validation_reports(bundled_run):
    result, out = bundled_run
    assert set(result.validation) == {"SDTM", "ADaM"}
    assert len(result.validation["ADaM"]) == 0
    assert set(result.validation["SDTM"].frame["rule"]) == {r for r, _ in BUNDLED}
    doc = json.loads((out / "validation.json").read_text(encoding="utf-8"))
    assert len(doc["findings"]) == len(result.validation["SDTM"])
    assert "validation.json" in result.manifest["files"]
    assert '<table id="findings" data-page="500">' in (out / "validation.html").read_text(
        encoding="utf-8"
    )


def test_run_prints_one_line_per_standard(tmp_path):
    from tests.conftest import RAW, SPEC

    res = _cli("run", "--spec", SPEC, "--raw", RAW, "--out", tmp_path / "out")
    assert res.exit_code == 0, res.output
    assert re.search(r"SDTM: 63 findings \(0 errors, 63 warnings, 0 notices\)", res.output)
    assert "ADaM: 0 findings (0 errors, 0 warnings, 0 notices)" in res.output


def test_define_keeps_a_define_it_did_not_write(bundled_run, tmp_path):
    folder = tmp_path / "sdtm"
    shutil.copytree(bundled_run[1] / "sdtm", folder)
    theirs = (
        (folder / "define.xml")
        .read_bytes()
        .replace(b'SourceSystem="cdisc-umsc"', b'SourceSystem="another tool"')
    )
    (folder / "define.xml").write_bytes(theirs)
    res = _cli("define", "--sdtm", folder)
    assert res.exit_code == 2
    assert res.output == (
        f"error: {folder / 'define.xml'}: was not written by cdisc-umsc; it is left untouched "
        "(use --force to replace it)\n"
    )
    assert (folder / "define.xml").read_bytes() == theirs
    (folder / "define.xml").unlink()
    (folder / "define.html").write_text("<html>theirs</html>")
    assert _cli("define", "--sdtm", folder).exit_code == 2
    assert (folder / "define.html").read_text() == "<html>theirs</html>"
    res = _cli("define", "--sdtm", folder, "--force")
    assert res.exit_code == 0, res.output
    assert b'SourceSystem="cdisc-umsc"' in (folder / "define.xml").read_bytes()
