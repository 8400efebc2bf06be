"""CDISC CORE findings of each spec's SDTM output match the spec's known_findings.csv.

The CORE runs need the offline harness (``$CORE_HOME/run_core.sh``, default ~/.cache/core) and
are skipped without it; the comparison logic of scripts/core_check.py is tested on its own.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import load_script

ROOT = Path(__file__).resolve().parents[1]
#: spec -> the raw folder it maps
SPECS = {
    "umsc": ROOT / "fixtures" / "umsc" / "raw",
    "umsc-ig34": ROOT / "fixtures" / "umsc" / "raw",
    "pso201": ROOT / "fixtures" / "pso201" / "raw",
}


def _load_core_check():
    return load_script("scripts/core_check.py")


cc = _load_core_check()
HEADER = ",".join(cc.COLUMNS)


def _core_home() -> Path:
    return Path(os.environ.get("CORE_HOME") or Path.home() / ".cache" / "core")


def _report(*results: tuple[str, str, str, int]) -> dict:
    """A CORE JSON report with (rule, dataset, status, issue count) results."""
    rules: dict[str, list] = {}
    for rid, ds, status, n in results:
        rules.setdefault(rid, []).append(
            {
                "executionStatus": status,
                "dataset": ds,
                "message": f"{rid} message",
                "variables": ["X"],
                "errors": [{"row": i} for i in range(n)],
            }
        )
    return {"rules": [{"id": rid, "results": res} for rid, res in rules.items()]}


def _known(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "known.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def test_known_lists_are_valid():
    for name in SPECS:
        known = cc.load_known(ROOT / "mappings" / name / "known_findings.csv")
        assert known, name
        assert all(k.count > 0 and k.citation and k.justification for k in known.values())


def test_ig34_known_list_has_no_ct_findings():
    known = cc.load_known(ROOT / "mappings" / "umsc-ig34" / "known_findings.csv")
    text = " ".join(f"{k.rule_id} {k.variable} {k.justification}" for k in known.values())
    assert "codelist" not in text.lower() and "terminology" not in text.lower()


def test_findings_counted_per_rule_and_dataset():
    found, errors = cc.findings(
        _report(
            ("CORE-1", "AE", cc.ISSUE, 3),
            ("CORE-1", "DS", cc.ISSUE, 2),
            ("CORE-2", "AE", "success", 0),
            ("CORE-3", "AE", cc.ERROR, 0),
        )
    )
    assert {k: f.count for k, f in found.items()} == {("CORE-1", "AE"): 3, ("CORE-1", "DS"): 2}
    assert set(errors) == {"CORE-3"}


def test_compare_reports_unexplained_changed_and_stale(tmp_path):
    known = cc.load_known(
        _known(
            tmp_path, "CORE-1,AE,X,3,why,cite", "CORE-1,DS,X,5,why,cite", "CORE-9,TS,X,1,why,cite"
        )
    )
    found, _ = cc.findings(
        _report(
            ("CORE-1", "AE", cc.ISSUE, 3),
            ("CORE-1", "DS", cc.ISSUE, 2),
            ("CORE-4", "LB", cc.ISSUE, 7),
        )
    )
    lines = cc.compare(found, known)
    assert [line.split(":")[0] for line in lines] == [
        "CHANGED CORE-1 DS",
        "UNEXPLAINED CORE-4 LB",
        "STALE CORE-9 TS",
    ]
    assert "CORE reports 2, known list says 5" in lines[0]


def test_compare_clean(tmp_path):
    known = cc.load_known(_known(tmp_path, "CORE-1,AE,X,3,why,cite"))
    found, _ = cc.findings(_report(("CORE-1", "AE", cc.ISSUE, 3)))
    assert cc.compare(found, known) == []


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("CORE-1,AE,X,three,why,cite", "row 2, column count: expected a positive integer"),
        ("CORE-1,AE,X,3,,cite", "row 2, column justification: empty"),
        ("CORE-1,AE,X,3,why", "row 2: expected 6 columns, got 5"),
    ],
)
def test_bad_known_list(tmp_path, row, message):
    with pytest.raises(cc.CoreCheckError, match=message):
        cc.load_known(_known(tmp_path, row))


def test_duplicate_known_row(tmp_path):
    path = _known(tmp_path, "CORE-1,AE,X,3,why,cite", "CORE-1,AE,Y,4,why,cite")
    with pytest.raises(cc.CoreCheckError, match="row 3: rule CORE-1 dataset AE is listed twice"):
        cc.load_known(path)


def test_main_with_saved_report(tmp_path, capsys):
    import json

    report = tmp_path / "r.json"
    report.write_text(json.dumps(_report(("CORE-1", "AE", cc.ISSUE, 3))), encoding="utf-8")
    assert (
        cc.main(
            [
                str(tmp_path),
                str(_known(tmp_path, "CORE-1,AE,X,3,why,cite")),
                "--report",
                str(report),
            ]
        )
        == 0
    )
    assert (
        cc.main(
            [
                str(tmp_path),
                str(_known(tmp_path, "CORE-1,AE,X,2,why,cite")),
                "--report",
                str(report),
            ]
        )
        == 1
    )
    assert "CHANGED CORE-1 AE" in capsys.readouterr().out


@pytest.mark.parametrize("name", sorted(SPECS))
def test_core_findings_are_known(tmp_path, name):
    home = _core_home()
    if not (home / "run_core.sh").is_file():
        pytest.skip(
            f"CORE harness not installed: {home / 'run_core.sh'} is missing "
            "(see ../shared/tools/core/scripts/setup.sh)"
        )
    from cdisc_umsc.run import run

    out = tmp_path / "out"
    run(ROOT / "mappings" / name, SPECS[name], out)
    diffs, _notes = cc.check(
        out / "sdtm", ROOT / "mappings" / name / "known_findings.csv", home=home
    )
    assert diffs == [], "\n".join(diffs)
