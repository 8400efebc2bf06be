"""The ADaM engine on the CDISC pilot's SDTM against the pilot's own ADaM (needs ../shared).

The comparison is benchmarks/pilot_adam_agreement.py; the committed table in
docs/adam-pilot-agreement.md must state the figures measured here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import load_script

ROOT = Path(__file__).resolve().parents[1]
PILOT = ROOT.parent / "shared" / "reference" / "cdiscpilot01"


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    if not PILOT.is_dir():
        pytest.skip("../shared/reference/cdiscpilot01 is not present")
    module = load_script("benchmarks/pilot_adam_agreement.py")
    return module.measure(PILOT, tmp_path_factory.mktemp("pilot"))


def test_every_variable_agrees_at_least_99_percent(measured) -> None:
    table, merged = measured
    assert set(table["variable"]) == {
        "TRTSDT",
        "TRTEDT",
        "SAFFL",
        "ITTFL",
        "AGEGR1",
        "AVISIT",
        "ADY",
        "AVAL",
        "BASE",
        "CHG",
        "ABLFL",
        "ANRIND",
        "BNRIND",
        "A1LO",
        "A1HI",
        "R2A1LO",
        "R2A1HI",
    }
    assert (table["share"] >= 0.99).all(), table[table["share"] < 0.99]
    assert table.loc[table["dataset"] == "ADSL", "records"].eq(254).all()
    assert table.loc[table["dataset"] == "ADLBC", "records"].eq(74264).all()
    for frame in merged.values():
        assert (frame["_in"] == "both").all()  # no record missing, none extra


def test_committed_table_states_the_measured_figures(measured) -> None:
    table, _merged = measured
    text = (ROOT / "docs" / "adam-pilot-agreement.md").read_text(encoding="utf-8")
    rows = {
        (m[1], m[2]): (int(m[3]), int(m[4]))
        for m in re.finditer(
            r"^\| (ADSL|ADLBC) +\| (\w+) +\| (\d+) +\| (\d+) +\|", text, re.MULTILINE
        )
    }
    for r in table.itertuples():
        assert rows[(r.dataset, r.variable)] == (r.records, r.equal), r.variable


def test_pilot_spec_names_no_subject_or_record() -> None:
    for path in sorted((ROOT / "mappings" / "cdiscpilot01").rglob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\d{2}-\d{3}-\d{4}", text), path  # a pilot USUBJID
        assert "USUBJID:" not in text and "LBSEQ:" not in text.replace("LBSEQ: LBSEQ", ""), path
