"""Our validator against the CDISC CORE harness, on the rules our catalogue cites.

The comparison logic (scripts/validate_vs_core.py) is tested offline; the runs against CORE
need ../shared and the harness ($CORE_HOME/run_core.sh, default ~/.cache/core) and skip
without them.
"""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from cdisc_umsc.write.xpt import write_xpt
from tests.conftest import load_script

ROOT = Path(__file__).resolve().parents[1]
PILOT = ROOT.parent / "shared" / "reference" / "cdiscpilot01" / "sdtm"
DOC = ROOT / "docs" / "validation-vs-core.md"


def _load():
    return load_script("scripts/validate_vs_core.py")


vc = _load()


def _needs_core() -> Path:
    home = vc.core_home()
    if not (home / "run_core.sh").is_file():
        pytest.skip(
            f"CORE harness not installed: {home / 'run_core.sh'} is missing "
            "(see ../shared/tools/core/scripts/setup.sh)"
        )
    return home


def _report(*results: tuple[str, str, str, list[int]]) -> dict:
    rules: dict[str, list] = {}
    for rid, ds, status, rows in results:
        rules.setdefault(rid, []).append(
            {
                "executionStatus": status,
                "dataset": ds,
                "errors": [{"row": r} if r else {} for r in rows],
            }
        )
    return {"rules": [{"id": rid, "results": res} for rid, res in rules.items()]}


def _ours(*hits: tuple[str, str, str, int | None, str]) -> pd.DataFrame:
    return pd.DataFrame(hits, columns=["rule", "dataset", "variable", "row", "message"]).astype(
        {"row": "Int64"}
    )


# --------------------------------------------------------------------------- offline logic


def test_compare_counts_records_per_cited_rule():
    report = _report(
        ("CORE-000552", "AE", "issue reported", [3, 7]),
        ("CORE-000552", "CM", "success", []),
        ("CORE-000553", "AE", "success", []),
        ("CORE-000334", "DM", "issue reported", [0]),
        ("CORE-000544", "LB", "execution error", []),
        ("CORE-999999", "AE", "issue reported", [1]),
    )  # not cited: ignored
    ours = _ours(
        ("UMSC-DT0003", "AE", "AESTDY", 3, "m"),
        ("UMSC-DT0003", "AE", "AEENDY", 9, "m"),
        ("UMSC-DT0003", "CM", "CMSTDY", 4, "m"),
        ("UMSC-SD0003", "DM", "ARMNRS", None, "m"),
        ("UMSC-SD0003", "DM", "ACTARMUD", None, "m"),
        ("UMSC-SD0009", "LB", "LBSEQ", 5, "m"),
    )
    summary, diff = vc.compare(report, ours)
    row = summary.set_index("core_id")
    assert row.loc["CORE-000552", ["core", "umsc", "agree", "core_only", "umsc_only"]].tolist() == [
        2,
        2,
        1,
        1,
        1,
    ]  # AE 3 both, AE 7 CORE only, CM 4 ours only (AEENDY is 553's)
    assert row.loc["CORE-000553", ["core", "umsc", "umsc_only"]].tolist() == [0, 1, 1]
    assert row.loc["CORE-000334", ["core", "umsc", "agree"]].tolist() == [1, 1, 1]
    assert row.loc[
        "CORE-000544", ["executed", "not_executed", "umsc", "umsc_not_comparable"]
    ].tolist() == [0, 1, 0, 1]
    assert "CORE-999999" not in row.index
    assert diff[["core_id", "dataset", "core_only", "umsc_only"]].values.tolist() == [
        ["CORE-000552", "AE", 1, 0],
        ["CORE-000552", "CM", 0, 1],
        ["CORE-000553", "AE", 0, 1],
    ]
    assert (diff["explanation"] == "").all()
    assert "| CORE-000552 | AE | 1 | 0 | UNEXPLAINED |" in vc.markdown(summary, diff)


def test_every_scoped_and_explained_rule_is_cited():
    ids = vc.cited()
    assert set(vc.SCOPE) <= set(ids)
    assert {c for c, _ in vc.EXPLAIN} <= set(ids)


def test_doc_has_generated_block():
    text = DOC.read_text(encoding="utf-8")
    block = vc.generated_block(text)
    assert block.startswith("| CORE rule | our rule(s) |") and "UNEXPLAINED" not in block


# --------------------------------------------------------------------------- with the harness


@pytest.mark.skipif(not PILOT.is_dir(), reason="../shared absent")
def test_doc_numbers_regenerate_on_the_pilot():
    _needs_core()
    report = vc.run_core(PILOT)
    summary, diff = vc.compare(report, vc.our_findings(PILOT, "cp1252"))
    table = vc.markdown(summary, diff)
    assert "UNEXPLAINED" not in table, table
    assert vc.generated_block(DOC.read_text(encoding="utf-8")) == table


def _seeded(bundled_run, folder: Path) -> None:
    """Defects CORE and our catalogue both name, written over the bundled SDTM files."""
    result = bundled_run[0]
    data, meta = result.sdtm.data, result.sdtm.meta
    stamp = datetime.fromisoformat(result.spec.settings["created"])
    ae = data["AE"].copy()
    ae.loc[0, "AESTDY"] = ae.loc[0, "AESTDY"] + 3  # CORE-000552 / UMSC-DT0003
    ae.loc[1, "AESEQ"] = ae.loc[2, "AESEQ"]  # CORE-000544 / UMSC-SD0009
    ae.loc[1, "USUBJID"] = ae.loc[2, "USUBJID"]
    write_xpt(folder / "ae.xpt", ae, meta["AE"], created=stamp)
    dm = data["DM"].copy()
    dm.loc[0, ["RFSTDTC", "RFENDTC"]] = ["2020-03-01", "2020-02-01"]  # CORE-000711 / DT0002
    write_xpt(folder / "dm.xpt", dm, meta["DM"], created=stamp)


@pytest.mark.parametrize("seeded", [False, True], ids=["as-built", "seeded-defects"])
def test_core_findings_on_the_bundled_trial_are_ours(bundled_run, tmp_path, seeded):
    _needs_core()
    folder = tmp_path / "sdtm"
    shutil.copytree(bundled_run[1] / "sdtm", folder)
    if seeded:
        _seeded(bundled_run, folder)
    summary, diff = vc.compare(vc.run_core(folder), vc.our_findings(folder, "ascii"))
    missed = diff[diff["core_only"] > 0]
    assert missed.empty, vc.markdown(summary, diff)
    assert summary["executed"].sum() >= 60  # CORE did run the cited rules on this data
    found = summary.set_index("core_id")["agree"]
    if seeded:
        assert found[["CORE-000552", "CORE-000544", "CORE-000711"]].min() >= 1, summary
