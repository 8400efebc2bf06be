"""Values: blanks, numbers read from text, numbers written as text."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cdisc_umsc.core.values import blank, number_text, to_number


@pytest.mark.parametrize(
    "text, value",
    [
        ("1", 1.0),
        ("+0", 0.0),
        ("0", 0.0),
        (" 2.5 ", 2.5),
        (".5", 0.5),
        ("5.", 5.0),
        ("-1e-3", -0.001),
        ("1E2", 100.0),
        ("1e308", 1e308),
        ("1e-310", 1e-310),  # subnormal: a double still holds it
    ],
)
def test_numbers(text: str, value: float) -> None:
    got = to_number(pd.Series([text], dtype=object)).iloc[0]
    assert got == value
    assert np.signbit(got) == (value < 0)


@pytest.mark.parametrize(
    "text",
    [
        "inf", "-inf", "Infinity", "nan", "NaN", "1e400", "-1e400", "9" * 400, "-0", "-0.0",
        "-0e5", "-1e-400", "1e-400", "８２.４", "١٢", "1_000", "0x10", "1,5", "<5", "1.2.3", "e5",
        ".", "+", "", " ",
    ],
)  # fmt: skip
def test_not_numbers(text: str) -> None:
    assert np.isnan(to_number(pd.Series([text], dtype=object)).iloc[0])


def test_to_number_keeps_index_and_missing() -> None:
    values = pd.Series(["3", None, "3", np.nan, "x"], index=[5, 6, 7, 8, 9], dtype=object)
    got = to_number(values)
    assert got.dtype == "float64" and got.index.tolist() == [5, 6, 7, 8, 9]
    assert got.fillna(-1).tolist() == [3.0, -1, 3.0, -1, -1]
    assert to_number(pd.Series([], dtype=object)).tolist() == []


def test_number_text_and_blank() -> None:
    assert number_text(pd.Series([1.0, 0.1 + 0.2, 1e-5, np.nan])).tolist() == [
        "1",
        "0.30000000000000004",
        "0.00001",
        "",
    ]
    with pytest.raises(ValueError, match="inf is not a finite number"):
        number_text(pd.Series([np.inf]))
    assert blank(pd.Series(["", "  ", "a", None], dtype=object)).tolist() == [
        True, True, False, True,
    ]  # fmt: skip


def test_blank_of_a_nullable_string_column_is_the_same_short_or_long() -> None:
    # pd.NA (pandas "string" dtype) is missing below and above DISTINCT_FROM values alike
    short = pd.Series(["a", None, " "], dtype="string")
    assert blank(short).tolist() == [False, True, True]
    long = pd.Series(["a", None, " "] * 1000, dtype="string")
    assert blank(long).tolist() == [False, True, True] * 1000


def test_round_half_away_from_zero_as_sas_round() -> None:
    """The one rounding rule of results: halves away from zero (SAS ROUND), where pandas
    and numpy round halves to even (0.25 -> 0.2); binary noise (0.15 stored as 0.1499...)
    does not turn a half into a lower value; missing stays missing."""
    from cdisc_umsc.core.values import round_half_away

    values = pd.Series([0.05, -0.05, -0.25, 0.15, 0.949, 0.25, 2.5, np.nan], name="X")
    out = round_half_away(values, 1)
    assert out.tolist()[:7] == [0.1, -0.1, -0.3, 0.2, 0.9, 0.3, 2.5] and np.isnan(out.iloc[7])
    assert out.name == "X" and out.index.equals(values.index)
    assert round_half_away(pd.Series([2.5, -2.5, 3.5]), 0).tolist() == [3.0, -3.0, 4.0]
    assert round_half_away(pd.Series([1.005]), 2).tolist() == [1.01]


def test_distinct_texts() -> None:
    from cdisc_umsc.core.values import distinct_texts

    for dtype in ("str", object):
        found = distinct_texts(pd.Series(["B", None, "A", "B", "", " "], dtype=dtype))
        assert found is not None
        codes, texts = found
        assert texts.tolist() == ["B", "A", "", " ", ""]  # the last "" stands for missing
        assert codes.tolist() == [0, -1, 1, 0, 2, 3]
        assert texts[codes].tolist() == ["B", "", "A", "B", "", " "]
    empty = distinct_texts(pd.Series([], dtype="str"))
    assert empty is not None and empty[1].tolist() == [""] and len(empty[0]) == 0
    assert distinct_texts(pd.Series([1.0, None])) is None
    assert distinct_texts(pd.Series([True, False])) is None
    assert distinct_texts(pd.Series(["1", 1], dtype=object)) is None  # not all text


def test_a_number_no_double_holds_is_no_number() -> None:
    from cdisc_umsc.core.values import to_number

    got = to_number(pd.Series(["1e-400", "2e-324", "0", "0.000", "0e7", "5e-324", "1e-300"]))
    assert got.isna().tolist() == [True, True, False, False, False, False, False]
    assert got.iloc[2:].tolist() == [0.0, 0.0, 0.0, 5e-324, 1e-300]
