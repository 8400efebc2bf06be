"""Property-based tests: the ISO 8601 parser and assembler, and XPT / Dataset-JSON round trips
of arbitrary frames within the formats' limits."""

from __future__ import annotations

import calendar
import tempfile
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cdisc_umsc.core import iso8601
from cdisc_umsc.metadata.model import Dataset, Study, Variable
from cdisc_umsc.read.datasetjson import read_datasetjson
from cdisc_umsc.read.xpt import read_xpt
from cdisc_umsc.write.datasetjson import write_datasetjson
from cdisc_umsc.write.xpt import write_xpt

MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
DATES = st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31))
SLOW = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ------------------------------------------------------------------------------ ISO 8601


@st.composite
def partial_dates(draw: st.DrawFn) -> tuple[date, bool, bool]:
    """A real date and which of its day / month the CRF left unknown."""
    return draw(DATES), draw(st.booleans()), draw(st.booleans())


@settings(deadline=None)
@given(partial_dates())
def test_dd_mon_yyyy_partial_dates_stay_partial(case):
    d, no_day, no_month = case
    raw = (
        f"{'UK' if no_day else f'{d.day:02d}'}/{'UNK' if no_month else MONTHS[d.month - 1]}"
        f"/{d.year}"
    )
    iso, err = iso8601.parse_raw_dates(
        pd.Series([raw.lower() if d.day % 2 else raw]), "DD/MON/YYYY", ("UK", "UNK")
    )
    want = f"{d.year:04d}"
    if not no_month:
        want += f"-{d.month:02d}"
        if not no_day:
            want += f"-{d.day:02d}"
    elif not no_day:
        want += f"---{d.day:02d}"  # SDTMIG 4.4.4: a missing month keeps the day
    assert err.iloc[0] == "" and iso.iloc[0] == want
    assert iso8601.validate(iso).iloc[0] == ""
    lo, hi = iso8601.date_bounds(iso)
    if not (no_month and not no_day):  # year-day without month has no interval semantics
        assert lo.iloc[0].date() <= d <= hi.iloc[0].date()


@settings(deadline=None)
@given(DATES, st.sampled_from(["day", "month", "year"]))
def test_yyyy_mm_dd_truncations_parse_to_the_same_text(d, precision):
    raw = {"day": d.isoformat(), "month": d.isoformat()[:7], "year": d.isoformat()[:4]}[precision]
    iso, err = iso8601.parse_raw_dates(pd.Series([f"  {raw} "]), "YYYY-MM-DD")
    assert err.iloc[0] == "" and iso.iloc[0] == raw
    days = iso8601.study_day(iso, pd.Series([d.isoformat()]))
    assert days.iloc[0] == 1.0 if precision == "day" else np.isnan(days.iloc[0])


@settings(deadline=None)
@given(st.integers(1900, 2099), st.integers(1, 12), st.integers(1, 40))
def test_impossible_days_are_errors_never_rolled_over(year, month, day):
    last = calendar.monthrange(year, month)[1]
    raw = f"{year:04d}-{month:02d}-{day:02d}"
    iso, err = iso8601.parse_raw_dates(pd.Series([raw]), "YYYY-MM-DD")
    if day <= last:
        assert err.iloc[0] == "" and iso.iloc[0] == raw
    else:
        assert "impossible date" in err.iloc[0] and iso.iloc[0] == ""
        assert iso8601.validate(pd.Series([raw])).iloc[0] == "impossible date/time"


@settings(deadline=None)
@given(st.integers(1900, 2099), st.integers(13, 99), st.integers(1, 28))
def test_impossible_months_are_errors(year, month, day):
    _iso, err = iso8601.parse_raw_dates(pd.Series([f"{year}-{month:02d}-{day:02d}"]), "YYYY-MM-DD")
    assert err.iloc[0] == "month out of range (impossible date)"


@settings(deadline=None)
@given(st.text(max_size=12))
def test_parsers_never_raise_on_any_text(text):
    for fmt in iso8601.DATE_FORMATS:
        iso, err = iso8601.parse_raw_dates(pd.Series([text]), fmt)
        assert (iso.iloc[0] == "") or (err.iloc[0] == "")
        if iso.iloc[0]:
            assert iso8601.validate(iso).iloc[0] == ""
    _t, terr = iso8601.parse_raw_times(pd.Series([text]))
    assert isinstance(terr.iloc[0], str)
    assert iso8601.validate(pd.Series([text])).iloc[0] in (
        "",
        "not an ISO 8601 date/time",
        "impossible date/time",
    )


@settings(deadline=None)
@given(DATES, st.integers(0, 23), st.integers(0, 59), st.booleans())
def test_assembled_date_times_are_valid_and_compare_like_datetimes(d, hh, mm, partial):
    date_text = d.isoformat()[:7] if partial else d.isoformat()
    time, terr = iso8601.parse_raw_times(pd.Series([f"{hh:02d}:{mm:02d}"]))
    assert terr.iloc[0] == ""
    dtc = iso8601.assemble(pd.Series([date_text]), time)
    # a time is only attached to a complete date (SDTMIG 4.4.2)
    assert dtc.iloc[0] == (date_text if partial else f"{date_text}T{hh:02d}:{mm:02d}")
    assert iso8601.validate(dtc).iloc[0] == ""
    parsed = iso8601.datetime_part(dtc).iloc[0]
    if partial:
        assert pd.isna(parsed)
    else:
        assert parsed == pd.Timestamp(datetime(d.year, d.month, d.day, hh, mm))


@settings(deadline=None)
@given(DATES, DATES)
def test_study_day_has_no_day_zero(d, ref):
    days = iso8601.study_day(pd.Series([d.isoformat()]), pd.Series([f"{ref.isoformat()}T08:00"]))
    delta = (d - ref).days
    assert days.iloc[0] == (delta + 1 if delta >= 0 else delta) and days.iloc[0] != 0


# ------------------------------------------------------------------------------ round trips

NAMES = st.from_regex(r"[A-Z][A-Z0-9_]{0,7}", fullmatch=True)
#: labels: ASCII, at most 40 bytes, no trailing blanks (XPT pads with blanks, TS-140)
ASCII = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40).map(
    lambda s: s.rstrip(" ")
)
#: XPT v5 numbers are IBM doubles: finite, within about 5.4e-79 .. 7.2e75 in magnitude
XPT_NUMBERS = st.one_of(
    st.none(),
    st.just(0.0),
    st.floats(min_value=1e-70, max_value=1e70, allow_nan=False, allow_infinity=False),
    st.floats(min_value=-1e70, max_value=-1e-70, allow_nan=False, allow_infinity=False),
    st.integers(-(2**53) + 1, 2**53 - 1).map(float),
)
STUDY = Study("STUDY1", "SDTMIG", "3.4", "2025-03-28")
CREATED = "2021-06-30T00:00:00"


@st.composite
def frames(draw: st.DrawFn) -> tuple[pd.DataFrame, Dataset]:
    """A frame within XPT v5 limits: names <= 8, labels <= 40, ASCII text <= 200 bytes."""
    n = draw(st.integers(0, 12))
    names = draw(st.lists(NAMES, min_size=1, max_size=8, unique=True))
    data, variables = {}, []
    for i, name in enumerate(names, start=1):
        label = draw(ASCII)
        if draw(st.booleans()):
            # trailing blanks are padding in XPT (TS-140), so values carry none
            text = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=200)
            values = [v.rstrip(" ") for v in draw(st.lists(text, min_size=n, max_size=n))]
            data[name] = pd.Series(values, dtype=object)
            variables.append(Variable(name, label, "Char", i))
        else:
            values = draw(st.lists(XPT_NUMBERS, min_size=n, max_size=n))
            data[name] = pd.Series([np.nan if v is None else v for v in values], dtype="float64")
            variables.append(Variable(name, label, "Num", i, data_type="float"))
    ds = Dataset("DS", draw(ASCII), "", "", "", variables=tuple(variables))
    return pd.DataFrame(data, index=pd.RangeIndex(n)), ds


def _same(back: pd.DataFrame, frame: pd.DataFrame) -> None:
    assert list(back.columns) == list(frame.columns) and len(back) == len(frame)
    for col in frame.columns:
        if frame[col].dtype == "float64":
            got = back[col].to_numpy(dtype="float64")
            want = frame[col].to_numpy()
            assert np.array_equal(np.isnan(got), np.isnan(want)), col
            assert (got[~np.isnan(want)] == want[~np.isnan(want)]).all(), col
        else:
            got = back[col].fillna("").astype(str).tolist()
            assert got == frame[col].tolist(), col


@SLOW
@given(frames())
def test_xpt_round_trip_of_any_frame_within_v5_limits(case):
    frame, ds = case
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ds.xpt"
        write_xpt(path, frame, ds, created=datetime(2021, 6, 30))
        first = path.read_bytes()
        write_xpt(path, frame, ds, created=datetime(2021, 6, 30))
        assert path.read_bytes() == first  # deterministic bytes
        back, meta = read_xpt(path)
    _same(back, frame)
    assert meta.names == ds.names
    assert [v.label for v in meta.variables] == [v.label for v in ds.variables]
    assert [v.type for v in meta.variables] == [v.type for v in ds.variables]


@SLOW
@given(frames(), st.sampled_from(["json", "ndjson"]))
def test_xpt_to_dataset_json_and_back_keeps_every_value(case, fmt):
    frame, ds = case
    with tempfile.TemporaryDirectory() as tmp:
        xpt = Path(tmp) / "ds.xpt"
        write_xpt(xpt, frame, ds, created=datetime(2021, 6, 30))
        from_xpt, meta = read_xpt(xpt)
        js = Path(tmp) / f"ds.{fmt}"
        write_datasetjson(js, from_xpt, meta, STUDY, created=CREATED, fmt=fmt)
        back, jmeta = read_datasetjson(js)
    _same(back, frame)
    assert jmeta.names == ds.names


@given(
    st.lists(
        st.text(st.characters(min_codepoint=32, max_codepoint=126), min_size=201, max_size=260),
        min_size=1,
        max_size=3,
    )
)
@settings(max_examples=20, deadline=None)
def test_xpt_refuses_text_over_200_bytes(values):
    from cdisc_umsc.core.errors import WriteError

    assume(any(len(v.rstrip()) > 200 for v in values))
    ds = Dataset("DS", "", "", "", "", variables=(Variable("TXT", "Text", "Char", 1),))
    with tempfile.TemporaryDirectory() as tmp:
        try:
            write_xpt(
                Path(tmp) / "ds.xpt",
                pd.DataFrame({"TXT": values}),
                ds,
                created=datetime(2021, 6, 30),
            )
        except WriteError as exc:
            assert "TXT" in str(exc) and "\n" not in str(exc)
        else:
            raise AssertionError("a value over 200 bytes was written")
        assert not (Path(tmp) / "ds.xpt").exists()
