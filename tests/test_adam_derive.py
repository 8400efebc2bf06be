"""Core derivations (cdisc_umsc/adam/derive.py): merge, dates, ABLFL, BASE, CHG, PCHG, criteria,
imputed records."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cdisc_umsc.adam import derive as D

NAN = np.nan


def _bds() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "USUBJID": ["A"] * 4 + ["B"] * 3,
            "PARAMCD": ["P"] * 7,
            "AVISITN": [1.0, 2.0, 3.0, 11.0, 1.0, 2.0, 3.0],
            "ADT": [5.0, 10.0, 40.0, 200.0, 10.0, 10.0, 50.0],
            "TRTSDT": [10.0] * 4 + [10.0] * 3,
            "AVAL": [11.0, 11.5, 6.9, 0.0, 4.0, NAN, 0.0],
        }
    )


def test_merged_requires_unique_add() -> None:
    left = pd.DataFrame({"USUBJID": ["A", "B"], "X": [1, 2]})
    add = pd.DataFrame({"USUBJID": ["A", "B"], "SEX": ["F", "M"]})
    assert D.derive_vars_merged(left, add, ["USUBJID"], ["SEX"])["SEX"].tolist() == ["F", "M"]
    with pytest.raises(ValueError, match="not unique by USUBJID"):
        D.derive_vars_merged(left, pd.concat([add, add]), ["USUBJID"], ["SEX"])
    with pytest.raises(ValueError, match="missing variable"):
        D.derive_vars_merged(left, add, ["USUBJID"], ["AGE"])


def test_dt_and_ady_have_no_day_zero() -> None:
    dt = D.derive_var_dt(pd.Series(["1960-01-02", "2019-05", "1960-01-01T10:00"]))
    assert dt.iloc[0] == 1.0 and np.isnan(dt.iloc[1]) and dt.iloc[2] == 0.0
    ady = D.derive_var_ady(pd.Series([9.0, 10.0, 11.0]), pd.Series([10.0] * 3))
    assert ady.tolist() == [-1.0, 1.0, 2.0]


def test_ablfl_last_nonmissing_on_or_before_reference_and_ties() -> None:
    bds = _bds()
    flag = D.derive_var_ablfl(
        bds, ["USUBJID", "PARAMCD"], "AVAL", "ADT", "TRTSDT", order=["AVISITN"]
    )
    # A: day 10 (= first dose) wins over day 5; B: day 10 twice, the later visit has no value
    assert flag.tolist() == ["", "Y", "", "", "Y", "", ""]


def test_base_chg_pchg_null_on_baseline_and_before() -> None:
    bds = _bds()
    by = ["USUBJID", "PARAMCD"]
    bds["ABLFL"] = D.derive_var_ablfl(bds, by, "AVAL", "ADT", "TRTSDT", order=["AVISITN"])
    bds["BASE"] = D.derive_var_base(bds, by)
    post = (bds["ADT"] > bds["TRTSDT"]) & (bds["ABLFL"] != "Y")
    assert bds["BASE"].tolist() == [11.5] * 4 + [4.0] * 3
    chg = D.derive_var_chg(bds, post, 1)
    assert np.isnan(chg.iloc[0]) and np.isnan(chg.iloc[1])
    assert chg.iloc[2] == pytest.approx(-4.6) and chg.iloc[6] == -4.0
    pchg = D.derive_var_pchg(bds, post, 1)
    assert pchg.iloc[2] == pytest.approx(-40.0) and pchg.iloc[6] == -100.0
    zero = bds.assign(BASE=0.0)
    assert D.derive_var_pchg(zero, post, 1).isna().all()  # BASE 0: PCHG null
    text = D.derive_var_base(bds.assign(ANRIND=["N", "H", "L", "N", "N", "", "H"]), by, "ANRIND")
    assert text.tolist() == ["H"] * 4 + ["N"] * 3
    with pytest.raises(ValueError, match="more than one ABLFL"):
        D.derive_var_base(bds.assign(ABLFL="Y"), by)


def test_criteria_exact_on_boundary() -> None:
    frame = pd.DataFrame({"AVAL": [6.9, 7.0, NAN, 1.0], "BASE": [11.5, 11.5, 11.5, 0.0]})
    assert D.derive_var_crit_improvement(frame, 40, 1).tolist() == ["Y", "N", "", "N"]
    assert D.derive_var_crit_in(frame, [1.0, 7.0]).tolist() == ["N", "Y", "", "Y"]


def test_imputed_records_carry_baseline_forward() -> None:
    bds = _bds()
    by = ["USUBJID", "PARAMCD"]
    bds["ABLFL"] = D.derive_var_ablfl(bds, by, "AVAL", "ADT", "TRTSDT", order=["AVISITN"])
    bds["AVISIT"] = ""
    new = D.derive_param_imputed(
        bds, pd.DataFrame({"USUBJID": ["A", "B"]}), by, "MONTH 6", 11.0, "BLOCF"
    )
    assert new["USUBJID"].tolist() == ["B"] and new["AVAL"].tolist() == [4.0]
    assert new[["AVISIT", "AVISITN", "DTYPE", "ABLFL"]].iloc[0].tolist() == [
        "MONTH 6",
        11.0,
        "BLOCF",
        "",
    ]
    assert np.isnan(new["ADT"].iloc[0])
