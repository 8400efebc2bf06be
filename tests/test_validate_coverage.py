"""docs/rule-coverage.md is what scripts/rule_coverage.py generates from the P21 and CORE
catalogues and the rule registry (skips without ../shared)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import load_script

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
pytestmark = pytest.mark.skipif(not (SHARED / "reference").is_dir(), reason="../shared absent")


def test_committed_table_matches_the_catalogues_and_the_registry():
    cov = load_script("scripts/rule_coverage.py")
    assert (ROOT / "docs" / "rule-coverage.md").read_text(encoding="utf-8") == cov.table(SHARED)


def test_every_cited_rule_is_in_the_table_once():
    from cdisc_umsc.validate import catalogue

    text = (ROOT / "docs" / "rule-coverage.md").read_text(encoding="utf-8")
    rows = [r for r in text.splitlines() if r.startswith("| ") and not r.startswith("| P21 id")]
    ids = [r.split(" | ")[0][2:] for r in rows if not r.startswith("| CORE id")]
    assert len(ids) == len(set(ids))
    for rule in catalogue.rules():
        for cited in filter(None, (rule.p21_id + ";" + rule.core_id).split(";")):
            assert cited in ids, (rule.id, cited)
    assert "| SD0083 | Error | Duplicate USUBJID | implemented: UMSC-PSD0083 |" in text
    assert "| SD0008 | Error |" in text and "not applicable: needs the MedDRA dictionary" in text
