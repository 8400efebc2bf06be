"""Derived parameters (cdisc_umsc/adam/params.py): computed totals, their check, responders."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cdisc_umsc.adam.params import derive_param_check, derive_param_computed, derive_param_responder

ITEMS = pd.DataFrame(
    {
        "USUBJID": ["A"] * 3 + ["B"] * 2,
        "VISITNUM": [1.0] * 5,
        "TESTCD": ["E", "I", "W", "E", "W"],
        "VAL": [2.0, 3.0, 0.1, 1.0, 0.2],
    }
)


def test_computed_total_needs_every_item() -> None:
    total = derive_param_computed(ITEMS, ["USUBJID", "VISITNUM"], "TESTCD", "VAL", "(E + I) * W", 1)
    assert total.to_dict("list") == {"USUBJID": ["A"], "VISITNUM": [1.0], "AVAL": [0.5]}
    with pytest.raises(ValueError, match="no records for Z"):
        derive_param_computed(ITEMS, ["USUBJID"], "TESTCD", "VAL", "E + Z", 1)


def test_check_lists_disagreements() -> None:
    computed = pd.DataFrame({"USUBJID": ["A", "B", "C"], "AVAL": [0.5, 1.2, 3.0]})
    collected = pd.DataFrame({"USUBJID": ["A", "B", "D"], "AVAL": [0.5, 1.0, 2.0]})
    bad = derive_param_check(computed, collected, ["USUBJID"], 0.05)
    assert bad["USUBJID"].tolist() == ["B", "C", "D"]
    assert derive_param_check(computed.iloc[:1], collected.iloc[:1], ["USUBJID"], 0).empty


def test_responder_parameter() -> None:
    bds = pd.DataFrame(
        {
            "USUBJID": ["A", "B", "C"],
            "PARAMCD": ["PASITOT"] * 3,
            "PARAM": ["PASI"] * 3,
            "AVAL": [3.0, 9.0, 10.0],
            "BASE": [10.0] * 3,
            "CHG": [-7.0, -1.0, 0.0],
            "CRIT1": ["PASI40"] * 3,
            "CRIT1FL": ["Y", "N", "N"],
            "ANL01FL": ["Y", "Y", "Y"],
            "DTYPE": ["", "", "BLOCF"],
        }
    )
    out = derive_param_responder(bds, bds["ANL01FL"] == "Y", "CRIT1FL", "PASI40R", "PASI40 R")
    assert out["AVALC"].tolist() == ["Y", "N", "N"] and out["AVAL"].tolist() == [1.0, 0.0, 0.0]
    assert (out["PARAMCD"] == "PASI40R").all() and out["DTYPE"].tolist() == ["", "", "BLOCF"]
    assert out["BASE"].isna().all() and (out["CRIT1FL"] == "").all()
    assert (out["ANL01FL"] == "").all() and bds["PARAMCD"].eq("PASITOT").all()
    bds.loc[1, "CRIT1FL"] = ""
    with pytest.raises(
        ValueError, match=r"1 analysis record\(s\) at the primary visit have no CRIT1FL decision"
    ):
        derive_param_responder(bds, bds["ANL01FL"] == "Y", "CRIT1FL", "P", "P")
    assert np.isnan(out["CHG"]).all()


def test_change_from_previous_relative_to_range() -> None:
    from cdisc_umsc.adam.params import compute_change_from_previous

    frame = pd.DataFrame(
        {
            "USUBJID": ["A"] * 4 + ["B"] * 2,
            "PARAMCD": ["K"] * 6,
            "ADT": [1.0, 3.0, 2.0, 4.0, 1.0, 2.0],
            "AVAL": [4.0, 5.0, 4.5, 3.0, 2.0, 2.0],
            "A1LO": [3.0] * 4 + [2.0, 2.0],
            "A1HI": [5.0] * 4 + [2.0, 2.0],
        }
    )
    select = pd.Series([True, True, True, False, True, True])
    value = compute_change_from_previous(frame, ["USUBJID", "PARAMCD"], ["ADT"], select, 1)
    # A in date order: 4.0 (day 1), 4.5 (day 2), 5.0 (day 3); day 4 is not selected.
    # B's range has no width, so no value.
    assert value.tolist()[:3] == [pytest.approx(np.nan, nan_ok=True), 0.5, 0.5]
    assert np.isnan(value.iloc[3]) and value.iloc[4:].isna().all()
