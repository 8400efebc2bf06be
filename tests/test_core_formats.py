"""Shared facts of the submission file formats: the SAS epoch, the day range, the JSON pattern."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest

from cdisc_umsc.core import formats


def test_sas_epoch_is_1960_01_01_in_every_form() -> None:
    assert formats.SAS_EPOCH_D == np.datetime64("1960-01-01", "D")
    assert formats.SAS_EPOCH_D.dtype == np.dtype("datetime64[D]")
    assert formats.SAS_EPOCH_S == np.datetime64("1960-01-01T00:00:00", "s")
    assert formats.SAS_EPOCH_S.dtype == np.dtype("datetime64[s]")
    assert formats.SAS_EPOCH == pd.Timestamp(1960, 1, 1)
    # the Unix epoch is 3653 days (ten years, three of them leap years) after the SAS epoch
    unix = np.datetime64("1970-01-01", "D")
    assert int((unix - formats.SAS_EPOCH_D).astype(np.int64)) == 3653
    assert (pd.Timestamp("1970-01-01") - formats.SAS_EPOCH).days == 3653


def test_day_range_is_years_0001_to_9999() -> None:
    epoch = date(1960, 1, 1).toordinal()
    assert formats.MIN_DAY == date(1, 1, 1).toordinal() - epoch == -715509
    assert formats.MAX_DAY == date(9999, 12, 31).toordinal() - epoch == 2936549
    assert type(formats.MIN_DAY) is int and type(formats.MAX_DAY) is int
    # the bounds are the first and last day, not one past
    assert formats.SAS_EPOCH_D + np.timedelta64(formats.MIN_DAY, "D") == np.datetime64("0001-01-01")
    assert formats.SAS_EPOCH_D + np.timedelta64(formats.MAX_DAY, "D") == np.datetime64("9999-12-31")


def test_max_exact_int_is_the_float64_limit() -> None:
    assert formats.MAX_EXACT_INT == 9007199254740992
    assert float(formats.MAX_EXACT_INT - 1) != float(formats.MAX_EXACT_INT - 2)
    assert float(formats.MAX_EXACT_INT + 1) == float(formats.MAX_EXACT_INT)  # first lost integer


def test_dataset_json_version() -> None:
    assert formats.DATASET_JSON_VERSION == "1.1.0"


@pytest.mark.parametrize(
    "text",
    [
        "2025-01-31T12:00:00",
        "2025-01-31T12:00:00Z",
        "2025-01-31T12:00:00.5",
        "2025-01-31T12:00:00.123456+01:00",
        "2025-12-31T23:59:59-23:59",
        "0001-01-01T00:00:00+00:00",
        "2025-02-29T00:00:00",  # the pattern checks fields, not the calendar
        datetime(2025, 1, 31, 12, 0, 0).isoformat(),
    ],
)
def test_created_pattern_accepts(text: str) -> None:
    assert formats.CREATED_RE.fullmatch(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "2025-01-31",  # a date without time
        "2025-01-31 12:00:00",  # a space, not T
        "2025-01-31T12:00",  # no seconds
        "2025-13-01T00:00:00",
        "2025-00-01T00:00:00",
        "2025-01-32T00:00:00",
        "2025-01-00T00:00:00",
        "2025-01-31T24:00:00",
        "2025-01-31T12:60:00",
        "2025-01-31T12:00:60",
        "2025-01-31T12:00:00.",  # a point needs digits
        "2025-01-31T12:00:00+24:00",
        "2025-01-31T12:00:00+0100",
        "2025-01-31T12:00:00z",
        "25-01-31T12:00:00",
        "2025-1-31T12:00:00",
        "2025-01-31T12:00:00Z ",
    ],
)
def test_created_pattern_refuses(text: str) -> None:
    assert formats.CREATED_RE.fullmatch(text) is None
