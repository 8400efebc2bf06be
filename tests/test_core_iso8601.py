"""ISO 8601 parsing, validation and study day (SDTMIG 3.4 section 4.4)."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cdisc_umsc.core import iso8601


def test_partial_dates_stay_partial():
    iso, err = iso8601.parse_raw_dates(
        pd.Series(["UK/MAR/2019", "UK/UNK/2019", "15/UNK/2019", "29/FEB/2020"]),
        "DD/MON/YYYY",
        ("UK", "UNK"),
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


@settings(deadline=None)  # a property, not a timing: a loaded machine must not fail it
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


def _parse(values, fmt, kind="date", unknown=()):
    iso, err = iso8601.parse_raw(pd.Series(values), iso8601.raw_format(fmt, kind, unknown))
    return iso.tolist(), err.tolist()


def test_each_export_date_style_parses_to_iso():
    cases = {
        "DD-MON-YYYY": "05-MAR-2019",
        "DDMONYYYY": "05MAR2019",
        "MM/DD/YYYY": "03/05/2019",
        "DD.MM.YYYY": "05.03.2019",
        "YYYY/MM/DD": "2019/03/05",
        "DD/MON/YYYY": "05/mar/2019",
        "YYYY-MM-DD": "2019-03-05",
    }
    for fmt, raw in cases.items():
        assert _parse([raw, "", "  "], fmt) == (["2019-03-05", "", ""], ["", "", ""]), fmt


def test_unknown_tokens_are_declared_per_format():
    iso, err = _parse(
        ["UN-MAR-2019", "UN-UNK-2019", "12-UNK-2019", "UK-MAR-2019"],
        "DD-MON-YYYY",
        unknown=("UN", "UNK"),
    )
    assert iso == ["2019-03", "2019", "2019---12", ""]
    assert err[:3] == ["", "", ""] and err[3] == "expected a date written DD-MON-YYYY"
    assert _parse(["NK.NK.2015", "NK.06.2015", "NK.NK.NK"], "DD.MM.YYYY", unknown=("NK",))[0] == [
        "2015",
        "2015-06",
        "",
    ]  # every part unknown: no date
    assert _parse(["2015/--/--", "2015/06/--"], "YYYY/MM/DD", unknown=("--",))[0] == [
        "2015",
        "2015-06",
    ]
    # without declared tokens an unknown part is an error, never a guess
    assert _parse(["UN-MAR-2019"], "DD-MON-YYYY")[1] == ["expected a date written DD-MON-YYYY"]


def test_impossible_and_yearless_dates_are_errors():
    _iso, err = _parse(["30.02.2019", "05.13.2019", "NK.03.NK"], "DD.MM.YYYY", unknown=("NK",))
    assert err == [
        "day out of range for the month (impossible date)",
        "month out of range (impossible date)",
        "the year is unknown but a later part is known (not an SDTM date)",
    ]
    assert (
        _parse(["05XYZ2019", "5MAR2019"], "DDMONYYYY")[1]
        == ["expected a date written DDMONYYYY"] * 2
    )


def test_date_times_and_times():
    iso, err = _parse(
        ["2019-03-05T10:30:15", "2019-03-05T10:30", "2019-03-05", "2019-03", "2019-03-05T24:00"],
        "ISO 8601",
        "datetime",
    )
    assert iso == ["2019-03-05T10:30:15", "2019-03-05T10:30", "2019-03-05", "2019-03", ""]
    assert err[4] == "hour out of range (impossible time)"
    iso, _err = _parse(
        ["05-MAR-2019 10:30", "05-MAR-2019 UN:30", "UN-MAR-2019 10:30", "05-MAR-2019"],
        "DD-MON-YYYY[ hh:mm]",
        "datetime",
        ("UN",),
    )
    # an unknown hour keeps the minutes (SDTMIG 4.4.4 T-:30); a partial date drops its time
    assert iso == ["2019-03-05T10:30", "2019-03-05T-:30", "2019-03", "2019-03-05"]
    iso, err = _parse(["10:30", "UN:30", "10:UN", "9:30", "10:60"], "hh:mm", "time", ("UN",))
    assert iso == ["10:30", "-:30", "10", "", ""]
    assert err[3:] == ["expected a time written hh:mm", "minute out of range (impossible time)"]
    assert _parse(["103015"], "hhmmss", "time")[0] == ["10:30:15"]


def test_formats_are_checked_when_declared():
    bad = {
        ("DD/MON", "date"): "a date format needs YYYY, MM (or MON) and DD and no time",
        ("YYYY-MM-DD hh:mm", "date"): "a date format needs YYYY, MM (or MON) and DD and no time",
        ("DD-MON-YYYY", "datetime"): "a date-time format needs YYYY, MM (or MON), DD, hh and mm",
        ("DD/MM/YYYY", "time"): "a time format needs hh and mm and no date",
        ("DDXMONYYYY", "date"): "'X' is not a format token",
        ("YYYY[-MM", "date"): "'[' without ']'",
        ("DD-MM-DD-YYYY", "date"): "DD is given twice",
    }
    for (fmt, kind), message in bad.items():
        with pytest.raises(ValueError, match=re.escape(message)):
            iso8601.raw_format(fmt, kind)
    with pytest.raises(ValueError, match="must be non-blank text, not digits"):
        iso8601.raw_format("DD.MM.YYYY", "date", ("99",))
