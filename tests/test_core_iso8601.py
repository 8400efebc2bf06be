"""ISO 8601 parsing, validation and study day (SDTMIG 3.4 section 4.4)."""

from __future__ import annotations

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from cdisc_umsc.core import iso8601


def test_partial_dates_stay_partial():
    iso, err = iso8601.parse_raw_dates(
        pd.Series(["UK/MAR/2019", "UK/UNK/2019", "15/UNK/2019", "29/FEB/2020"]), "DD/MON/YYYY"
    )
    assert iso.tolist() == ["2019-03", "2019", "2019---15", "2020-02-29"]
    assert (err == "").all()


def test_impossible_dates_are_errors():
    _iso, err = iso8601.parse_raw_dates(
        pd.Series(["2019-02-29", "2019-13-01", "2019-04-31"]), "YYYY-MM-DD"
    )
    assert err.str.contains("impossible date").all()
    bad = iso8601.validate(
        pd.Series(
            [
                "2019-02-30",
                "2019-13",
                "2019-03-01T24:00",
                "2019-3-1",
                "2019---15",
                "2019-03-01T10:15",
                "",
            ]
        )
    )
    assert bad.tolist()[:4] == ["impossible date/time"] * 3 + ["not an ISO 8601 date/time"]
    assert bad.tolist()[4:] == ["", "", ""]


def test_seconds_past_59_are_impossible():
    bad = iso8601.validate(
        pd.Series(["2019-03-01T10:15:59", "2019-03-01T10:15:60", "2019-03-01T10:15:75.5"])
    )
    assert bad.tolist() == ["", "impossible date/time", "impossible date/time"]


def test_study_day_no_day_zero():
    days = iso8601.study_day(
        pd.Series(["2019-03-01", "2019-02-28", "2019-03-10T08:00", "2019-03"]),
        pd.Series(["2019-03-01T09:30"] * 4),
    )
    assert days.tolist()[:3] == [1.0, -1.0, 10.0] and pd.isna(days.iloc[3])


@given(
    st.dates(
        min_value=pd.Timestamp("1900-01-01").date(), max_value=pd.Timestamp("2099-12-31").date()
    )
)
def test_round_trip_any_real_date(d):
    raw = d.strftime("%d/%b/%Y").upper()
    iso, err = iso8601.parse_raw_dates(pd.Series([raw]), "DD/MON/YYYY")
    assert err.iloc[0] == "" and iso.iloc[0] == d.isoformat()
    assert iso8601.validate(iso).iloc[0] == ""
