"""Our validator on the bundled trial's SDTM: the default spec reports exactly its documented
placement findings; the SDTMIG 3.4 placement spec reports none."""

from __future__ import annotations

import csv

import pytest

from cdisc_umsc.run import run, study_metadata
from cdisc_umsc.validate import validate_study
from tests.conftest import ROOT


@pytest.mark.parametrize("spec", ["umsc", "umsc-ig34"])
def test_findings_are_the_documented_ones(spec, tmp_path):
    result = run(ROOT / "mappings" / spec, out_dir=tmp_path / "out")
    found = validate_study(
        result.sdtm.data, study_metadata(result.spec, result.sdtm.meta, "Tabulation")
    ).frame
    adam = validate_study(result.adam, study_metadata(result.spec, result.adam_meta, "Analysis"))
    assert len(adam.frame) == 0
    path = ROOT / "mappings" / spec / "known_placement_findings.csv"
    known = list(csv.DictReader(path.open(encoding="utf-8"))) if path.exists() else []
    got = sorted((r.rule, r.dataset, r.variable, r.value) for r in found.itertuples())
    placement = [g for g in got if g[0].startswith("UMSC-CT")]
    want = sorted((k["rule_id"], k["dataset"], k["variable"], k["value"]) for k in known)
    assert placement == want
    # what both specs lack as a submission (P21 / CORE): three FDA Trial Summary parameters,
    # a VS dataset, and the EPOCH of one year-only AE start (known_findings.csv, CORE-000701)
    assert [g for g in got if not g[0].startswith("UMSC-CT")] == [
        ("UMSC-CR000701", "AE", "EPOCH", ""),
        ("UMSC-PR0002", "VS", "", "VS"),
        ("UMSC-TS0001", "TS", "TSPARMCD", "OBJPRIM"),
        ("UMSC-TS0001", "TS", "TSPARMCD", "OUTMSPRI"),
        ("UMSC-TS0001", "TS", "TSPARMCD", "TDIGRP"),
    ]
    for k in known:
        assert k["justification"] and k["citation"]
        assert (
            f"on {k['count']} record(s)"
            in found[(found["variable"] == k["variable"]) & (found["value"] == k["value"])][
                "message"
            ].iloc[0]
        )
    if spec == "umsc-ig34":
        assert not (found["rule"].str.startswith("UMSC-CT")).any()
