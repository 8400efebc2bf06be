"""Spec conditions (cdisc_umsc/adam/conditions.py): which records a where:/when: selects."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cdisc_umsc.adam.conditions import blank, match

FRAME = pd.DataFrame(
    {
        "VISIT": ["SCREENING 1", "WEEK 2", "RETRIEVAL", ""],
        "VISITNUM": [1.0, 4.0, 201.0, np.nan],
        "FL": ["Y", "N", "Y", ""],
    }
)


def _rows(cond) -> list[int]:
    return list(np.flatnonzero(match(FRAME, cond).to_numpy()))


def test_equal_text_and_number() -> None:
    assert _rows({"VISIT": "WEEK 2"}) == [1]
    assert _rows({"VISITNUM": 1}) == [0]  # 1 matches 1.0
    assert _rows({"VISITNUM": "4"}) == [1]  # text spec value against a number
    assert _rows({"FL": True}) == [0, 2]  # YAML yes/true is the flag Y


def test_lists_null_not_and_comparisons() -> None:
    assert _rows({"VISIT": ["WEEK 2", "RETRIEVAL"]}) == [1, 2]
    assert _rows({"VISIT": None}) == [3]
    assert _rows({"VISIT": {"not": ["RETRIEVAL", None]}}) == [0, 1]
    assert _rows({"VISITNUM": {"gt": 1, "le": 201}}) == [1, 2]
    assert _rows({"VISITNUM": {"lt": 4}}) == [0]  # a missing number never compares
    assert _rows({"FL": "Y", "VISITNUM": {"ge": 100}}) == [2]
    assert _rows(None) == [0, 1, 2, 3]


def test_errors_name_variable_and_operator() -> None:
    with pytest.raises(ValueError, match="no variable ARMCD"):
        match(FRAME, {"ARMCD": "A"}, "adsl.yaml:3")
    with pytest.raises(ValueError, match="unknown operator 'like'"):
        match(FRAME, {"VISIT": {"like": "WEEK%"}})


def test_blank() -> None:
    assert blank(pd.Series(["", " ", "x", None], dtype=object)).tolist() == [
        True,
        True,
        False,
        True,
    ]
    assert blank(pd.Series([0.0, np.nan])).tolist() == [False, True]
