"""The declared P21 rules (validate/p21_rules.py and p21_rules.yaml): YAML leaves turned into
the engine's conditions, malformed entries refused, each entry a catalogue rule with P21's
severity and scope, and a sample of rules firing at their boundary."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from validate_support import hits

from cdisc_umsc.validate import p21_rules as P
from cdisc_umsc.validate.catalogue import CatalogueError, rule, rules
from cdisc_umsc.validate.core_rules import OPERATORS


def test_rule_id() -> None:
    assert P.rule_id("SD0026") == "UMSC-PSD0026"


def test_leaf_to_engine_condition() -> None:
    node = {"all": [{"op": "empty", "target": "--ENDTC"}, {"not": {"op": "exists", "target": "X"}}]}
    assert P._leaf(node, "w") == {
        "all": [
            {"operator": "empty", "value": {"target": "--ENDTC"}},
            {"not": {"operator": "exists", "value": {"target": "X"}}},
        ]
    }


@pytest.mark.parametrize(
    ("node", "message"),
    [
        ({"op": "bigger", "target": "X"}, "w: unknown operator 'bigger'"),
        ("X", "w: a condition is a mapping, not 'X'"),
        ({"every": []}, r"w: expected one of all / any / not / op, got \['every'\]"),
        ({"all": [], "any": []}, r"got \['all', 'any'\]"),
    ],
)
def test_malformed_leaves(node: object, message: str) -> None:
    with pytest.raises(CatalogueError, match=message):
        P._leaf(node, "w")


def test_every_entry_is_a_catalogue_rule_with_its_p21_severity() -> None:
    entries = P.declared()
    assert len(entries) == 94
    ids = [e.id for _, e in entries]
    assert len(set(ids)) == 94 and set(ids) <= {r.id for r in rules()}
    engine_rule, entry = entries[0]
    assert entry == rule("UMSC-PSD0009")
    assert (entry.severity, entry.scope, entry.applies, entry.p21_id) == (
        "error",
        "dataset",
        "sdtm",
        "SD0009",
    )
    assert entry.citation == "P21 SD0009; SDTMIG 3.2 6.2 AE (AESER and the seriousness criteria)"
    assert engine_rule["domains"] == {"Include": ["AE"]} and engine_rule["classes"] == {}
    assert engine_rule["versions"] == ["3.2", "3.3", "3.4"]
    for rule_dict, _ in entries:
        stack = [rule_dict["conditions"]]
        while stack:
            node = stack.pop()
            if isinstance(node, list):
                stack.extend(node)
            elif "operator" in node:
                assert node["operator"] in OPERATORS
            else:
                stack.extend(node.values())


def test_missing_fields_are_refused(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    class Fake:
        def joinpath(self, name):
            path = tmp_path / name
            path.write_text("- p21: SD9999\n  severity: error\n  colour: red\n", encoding="utf-8")
            return path

    monkeypatch.setattr(P, "files", lambda package: Fake())
    P.declared.cache_clear()
    try:
        with pytest.raises(
            CatalogueError,
            match=r"p21_rules.yaml entry 1: unexpected or missing fields \(\['colour'\]\)",
        ):
            P.declared()
    finally:
        monkeypatch.undo()
        P.declared.cache_clear()
    assert len(P.declared()) == 94


def ae(**cols: list) -> dict[str, pd.DataFrame]:
    n = len(next(iter(cols.values())))
    return {"AE": pd.DataFrame({"STUDYID": "S", "DOMAIN": "AE", "USUBJID": ["S-1"] * n, **cols})}


def test_sd0009_serious_without_a_criterion() -> None:
    data = ae(AESER=["Y", "Y", "N", ""], AESHOSP=["N", "Y", "", ""], AESDTH=["", "", "", ""])
    assert hits("UMSC-PSD0009", data, "AE") == [("AE", 0, "AESER", "Y", "AESER='Y'")]


def test_sd0012_study_day_order_tie_is_fine() -> None:
    data = ae(AESTDY=[3.0, 3.0, 4.0, np.nan], AEENDY=[3.0, 2.0, np.nan, 1.0])
    assert hits("UMSC-PSD0012", data, "AE") == [
        ("AE", 1, "AESTDY, AEENDY", "3, 2", "AESTDY='3', AEENDY='2'")
    ]


def test_sd0011_screen_failure_both_ways() -> None:
    dm = pd.DataFrame(
        {
            "STUDYID": "S",
            "DOMAIN": "DM",
            "USUBJID": ["S-1", "S-2", "S-3", "S-4"],
            "ARMCD": ["SCRNFAIL", "SCRNFAIL", "A", ""],
            "ARM": ["Screen Failure", "Screen failure", "Screen Failure", ""],
        }
    )
    assert [h[1] for h in hits("UMSC-PSD0011", {"DM": dm}, "DM")] == [1, 2]


def test_sd0014_negative_dose_zero_is_fine() -> None:
    ex = pd.DataFrame(
        {"STUDYID": "S", "DOMAIN": "EX", "USUBJID": ["S-1"] * 3, "EXDOSE": [0.0, -0.5, np.nan]}
    )
    assert hits("UMSC-PSD0014", {"EX": ex}, "EX") == [("EX", 1, "EXDOSE", "-0.5", "EXDOSE='-0.5'")]
