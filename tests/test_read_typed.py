"""Typed export values as CSV text (read/typed.py): each kind of value, the display format's
decimals (never rounding), the declared date format, and values a field cannot hold."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from cdisc_umsc.core.errors import InputError
from cdisc_umsc.metadata.model import FieldSpec, FormSpec
from cdisc_umsc.read.typed import as_text


def _form(*fields: FieldSpec) -> FormSpec:
    return FormSpec("F", "f.xpt", "", (), fields, "xpt")


def _one(spec: FieldSpec, values: list, places: int = 0) -> list[str]:
    frame = pd.DataFrame(
        {"__row": range(1, len(values) + 1), spec.name: pd.Series(values, dtype=object)}
    )
    return as_text(_form(spec), frame, {spec.name: places} if places else None)[spec.name].tolist()


def test_each_kind_of_value():
    text = FieldSpec("X")
    values = [
        "a",
        None,
        np.nan,
        3,
        2.5,
        True,
        dt.date(2019, 1, 2),
        dt.datetime(2019, 1, 2, 3, 4, 5),
        dt.time(7, 8),
    ]
    assert _one(text, values) == [
        "a",
        "",
        "",
        "3",
        "2.5",
        "TRUE",
        "2019-01-02",
        "2019-01-02T03:04:05",
        "07:08",
    ]


def test_numeric_columns_and_display_decimals():
    frame = pd.DataFrame({"__row": [1, 2, 3, 4], "N": [2.0, 1.25, np.nan, 0.1 + 0.2]})
    spec = FieldSpec("N", "number")
    out = as_text(_form(spec), frame, {"N": 1})["N"].tolist()
    # 2.0 keeps its decimal; 1.25 and 0.30000000000000004 would be rounded by 1 decimal: kept
    assert out == ["2.0", "1.25", "", "0.30000000000000004"]


@pytest.mark.parametrize(
    ("fmt", "expected"), [("YYYY-MM-DD", "2019-05-09"), ("DD/MON/YYYY", "09/MAY/2019")]
)
def test_dates_in_the_declared_format(fmt, expected):
    assert _one(FieldSpec("D", "date", fmt), [dt.date(2019, 5, 9), None]) == [expected, ""]
    stamps = pd.DataFrame({"__row": [1], "D": pd.to_datetime(["2019-05-09"])})
    assert as_text(_form(FieldSpec("D", "date", fmt)), stamps)["D"].tolist() == [expected]


@pytest.mark.parametrize(
    ("spec", "value", "message"),
    [
        (FieldSpec("D", "date", "YYYY-MM-DD"), 21000.0, "expected a date, got the number 21000.0"),
        (
            FieldSpec("D", "date", "YYYY-MM-DD"),
            dt.time(1, 2),
            "holds a time (01:02:00) where a date is expected",
        ),
        (
            FieldSpec("T", "time"),
            dt.date(2019, 1, 1),
            "holds a date (2019-01-01) where a time is expected",
        ),
        (
            FieldSpec("T", "time"),
            dt.datetime(2019, 1, 1, 1),
            "holds a date and time (2019-01-01T01:00:00) where a time",
        ),
        (FieldSpec("N", "number"), float("inf"), "holds inf, not a finite number"),
        (FieldSpec("N", "number"), dt.timedelta(hours=1), "holds a duration"),
        (FieldSpec("N", "number"), b"x", "holds a bytes"),
    ],
)
def test_values_a_field_cannot_hold(spec, value, message):
    frame = pd.DataFrame({"__row": [1, 2], spec.name: pd.Series([None, value], dtype=object)})
    with pytest.raises(InputError) as err:
        as_text(_form(spec), frame)
    assert str(err.value).startswith(f"f.xpt: row 2, column {spec.name}: {message}")
