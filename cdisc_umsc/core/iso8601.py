"""ISO 8601 dates as SDTM writes them (SDTMIG 3.4 section 4.4): parse, assemble, compare.

All functions are vectorised over pandas Series of strings. Partial dates stay partial
("2019-03", "2019", "2019---15"); impossible dates (2019-02-30, month 13) are errors.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

MONTHS = {
    m: i
    for i, m in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"],
        start=1,
    )
}

#: SDTMIG 4.4.2 ISO 8601 extended format, with "-" for a missing component (4.4.4),
#: optionally with a time of hh, hh:mm or hh:mm:ss.
ISO_DTC = (
    r"^(?P<y>\d{4})"
    r"(?:-(?P<m>\d{2}|-)"
    r"(?:-(?P<d>\d{2}))?)?"
    r"(?:T(?P<H>\d{2}|-)(?::(?P<M>\d{2}|-)(?::(?P<S>\d{2}(?:\.\d+)?))?)?)?$"
)

DATE_FORMATS = ("YYYY-MM-DD", "DD/MON/YYYY")


def _by_distinct(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Evaluate a per-value function once per distinct value and spread the results back by
    position: dates repeat across records, so the work grows with distinct dates, not rows."""

    @functools.wraps(fn)
    def wrapper(values: pd.Series, *args: Any, **kwargs: Any) -> Any:
        codes, uniq = pd.factorize(values.fillna("").astype(str))
        result = fn(pd.Series(uniq, dtype=object), *args, **kwargs)

        def back(r: pd.Series) -> pd.Series:
            out = r.take(codes)
            out.index = values.index
            return out

        return tuple(back(r) for r in result) if isinstance(result, tuple) else back(result)

    return wrapper


def _days_in_month(year: pd.Series, month: pd.Series) -> pd.Series:
    """Days in each (year, month); NaN where either is missing."""
    y = year.astype("float64")
    m = month.astype("float64")
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    base = np.array([np.nan, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
    idx = m.fillna(0).clip(0, 12).astype(int).to_numpy()
    days = base[idx] + ((idx == 2) & leap.to_numpy())
    return pd.Series(days, index=year.index)


def _zero_pad(values: pd.Series, width: int) -> pd.Series:
    """Whole numbers as zero-padded text; blank where missing."""
    return values.astype("Int64").astype("string").str.zfill(width).fillna("").astype(object)


def _components_to_iso(year: pd.Series, month: pd.Series, day: pd.Series) -> pd.Series:
    """Assemble ISO 8601 text from numeric components (NaN = unknown)."""
    ys, ms, ds = (_zero_pad(c, w) for c, w in ((year, 4), (month, 2), (day, 2)))
    out = ys.copy()
    has_m = ms != ""
    has_d = ds != ""
    out = out.where(~has_m, ys + "-" + ms)
    out = out.where(~(has_d & has_m), ys + "-" + ms + "-" + ds)
    out = out.where(~(has_d & ~has_m), ys + "---" + ds)
    return out.where(ys != "", "")


@_by_distinct
def parse_raw_dates(values: pd.Series, fmt: str) -> tuple[pd.Series, pd.Series]:
    """Raw collected dates → (ISO 8601 text, error text) per value; blank stays blank.

    ``fmt`` is a form field's declared format. Unknown parts (UK day, UNK month, or a date
    given only to the month/year in YYYY-MM-DD form) give a partial ISO date.
    """
    text = values.fillna("").astype(str).str.strip()
    if fmt == "YYYY-MM-DD":
        parts = text.str.extract(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
        year = pd.to_numeric(parts[0], errors="coerce")
        month = pd.to_numeric(parts[1], errors="coerce")
        day = pd.to_numeric(parts[2], errors="coerce")
        shape_ok = parts[0].notna()
    elif fmt == "DD/MON/YYYY":
        parts = text.str.upper().str.extract(r"^(\d{2}|UK|UN)/([A-Z]{3})/(\d{4})$")
        day = pd.to_numeric(parts[0], errors="coerce")
        mon = parts[1]
        month = mon.map(MONTHS).astype("float64")
        year = pd.to_numeric(parts[2], errors="coerce")
        shape_ok = parts[2].notna() & (mon.isin(list(MONTHS)) | (mon == "UNK"))
    else:
        raise ValueError(f"unknown date format {fmt!r}")
    dim = _days_in_month(year, month)
    month_bad = month.notna() & ((month < 1) | (month > 12))
    day_bad = day.notna() & ((day < 1) | (day > dim.fillna(31)))
    err = pd.Series("", index=values.index, dtype=object)
    blank = text == ""
    err = err.mask(~blank & ~shape_ok, f"expected a date written {fmt}")
    err = err.mask(~blank & shape_ok & month_bad, "month out of range (impossible date)")
    err = err.mask(
        ~blank & shape_ok & ~month_bad & day_bad, "day out of range for the month (impossible date)"
    )
    iso = _components_to_iso(year.where(shape_ok), month.where(shape_ok), day.where(shape_ok))
    iso = iso.where(err == "", "")
    return iso.astype(object), err


@_by_distinct
def parse_raw_times(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Raw HH:MM times → (ISO text hh:mm, error text)."""
    text = values.fillna("").astype(str).str.strip()
    parts = text.str.extract(r"^(\d{2}):(\d{2})$")
    hh = pd.to_numeric(parts[0], errors="coerce")
    mm = pd.to_numeric(parts[1], errors="coerce")
    ok = hh.between(0, 23) & mm.between(0, 59)
    err = pd.Series("", index=values.index, dtype=object)
    err = err.mask((text != "") & ~ok, "expected a time written HH:MM (00:00-23:59)")
    return text.where(ok, "").astype(object), err


def assemble(date: pd.Series, time: pd.Series | None = None) -> pd.Series:
    """ISO date plus optional hh:mm time → ISO 8601 date/time (time only on complete dates)."""
    out = date.fillna("").astype(str)
    if time is None:
        return out
    t = time.fillna("").astype(str)
    complete = out.str.fullmatch(r"\d{4}-\d{2}-\d{2}")
    return out.where(~(complete & (t != "")), out + "T" + t)


@_by_distinct
def validate(values: pd.Series) -> pd.Series:
    """Error text for each value that is not valid SDTM ISO 8601 (blank is valid)."""
    text = values.fillna("").astype(str)
    parts = text.str.extract(ISO_DTC)
    shape_ok = parts["y"].notna()
    year = pd.to_numeric(parts["y"], errors="coerce")
    month = pd.to_numeric(parts["m"], errors="coerce")
    day = pd.to_numeric(parts["d"], errors="coerce")
    hour = pd.to_numeric(parts["H"], errors="coerce")
    minute = pd.to_numeric(parts["M"], errors="coerce")
    second = pd.to_numeric(parts["S"], errors="coerce")
    dim = _days_in_month(year, month)
    bad = (
        (month.notna() & ((month < 1) | (month > 12)))
        | (day.notna() & ((day < 1) | (day > dim.fillna(31))))
        | (hour.notna() & (hour > 23))
        | (minute.notna() & (minute > 59))
        | (second.notna() & (second >= 60))
    )
    err = pd.Series("", index=values.index, dtype=object)
    err = err.mask((text != "") & ~shape_ok, "not an ISO 8601 date/time")
    return err.mask((text != "") & shape_ok & bad, "impossible date/time")


@_by_distinct
def date_part(values: pd.Series) -> pd.Series:
    """Complete dates as datetime64 (NaT where the date is partial or blank)."""
    text = values.fillna("").astype(str).str.slice(0, 10)
    complete = text.str.fullmatch(r"\d{4}-\d{2}-\d{2}")
    return pd.to_datetime(text.where(complete), format="%Y-%m-%d", errors="coerce")


@_by_distinct
def date_bounds(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """First and last day each (possibly partial) ISO date can be: 2019-05 -> 05-01 .. 05-31."""
    text = values.fillna("").astype(str)
    parts = text.str.extract(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")
    year = pd.to_numeric(parts[0], errors="coerce")
    month = pd.to_numeric(parts[1], errors="coerce")
    day = pd.to_numeric(parts[2], errors="coerce")
    lo_m, hi_m = month.fillna(1), month.fillna(12)
    lo_d = day.fillna(1)
    hi_d = day.fillna(_days_in_month(year, hi_m))
    frame = lambda m, d: pd.to_datetime(  # noqa: E731
        pd.DataFrame({"year": year, "month": m, "day": d}), errors="coerce"
    )
    return frame(lo_m, lo_d), frame(hi_m, hi_d)


@_by_distinct
def datetime_part(values: pd.Series) -> pd.Series:
    """Complete date-times (to the minute or second) as datetime64, else NaT."""
    text = values.fillna("").astype(str)
    ok = text.str.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?")
    return pd.to_datetime(text.where(ok), format="ISO8601", errors="coerce")


def study_day(dtc: pd.Series, reference: pd.Series) -> pd.Series:
    """SDTMIG 4.4.4 study day: date - reference (+1 on or after the reference); no day 0."""
    d = date_part(dtc)
    r = date_part(reference)
    delta = (d - r).dt.days
    out = delta.where(delta < 0, delta + 1)
    return out.astype("Float64").astype("float64")


#: Define-XML 2.1 data types of ISO 8601 text
DEFINE_ISO_TYPES = frozenset(
    {
        "date",
        "datetime",
        "time",
        "partialDate",
        "partialTime",
        "partialDatetime",
        "incompleteDatetime",
        "durationDatetime",
        "intervalDatetime",
    }
)
_COMPLETE_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_COMPLETE_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?")
_DATE_PREFIX = re.compile(r"\d{4}(-\d{2}(-\d{2})?)?")
_DURATION = re.compile(
    r"-?P(?=\d|T\d)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?"
)


def _kind(value: str) -> str:
    if _COMPLETE_DATE.fullmatch(value):
        return "date"
    if _COMPLETE_DATETIME.fullmatch(value):
        return "datetime"
    if "/" in value:
        return "intervalDatetime"
    if _DURATION.fullmatch(value):
        return "durationDatetime"
    if _DATE_PREFIX.fullmatch(value):
        return "partialDate"
    if re.fullmatch(ISO_DTC, value):
        date, _, time = value.partition("T")
        if "--" in date or date.endswith("-") or "-" in time:
            return "incompleteDatetime"  # a missing component before a known one
        return "partialDatetime"
    return "text"


def define_data_type(values: pd.Series, name: str) -> str:
    """Define-XML 2.1 DataType of an ISO 8601 character variable (--DTC, --STTPT, --DUR ...),
    from what its values are: ``date`` when every value is a complete date, ``datetime`` when
    every value is complete and some carry a time, ``partialDate`` / ``partialDatetime`` when
    some are truncated, ``incompleteDatetime`` when a component is missing before a known one,
    ``durationDatetime`` / ``intervalDatetime`` for durations and intervals; ``text`` when a
    value is not ISO 8601. A column without values is ``datetime`` (``durationDatetime`` for
    --DUR), the widest type the IG allows for it."""
    text = pd.Series(pd.unique(values.astype(object).where(values.notna(), "")), dtype=object)
    kinds = {_kind(v) for v in text.astype(str).str.strip() if v}
    if not kinds:
        return "durationDatetime" if name.endswith("DUR") else "datetime"
    if len(kinds) == 1:
        return next(iter(kinds))
    if "text" in kinds:
        return "text"
    if kinds & {"durationDatetime", "intervalDatetime"}:
        return "intervalDatetime" if "intervalDatetime" in kinds else "text"
    if "incompleteDatetime" in kinds:
        return "incompleteDatetime"
    if kinds <= {"date", "datetime"}:
        return "datetime"
    if kinds <= {"date", "partialDate"}:
        return "partialDate"
    return "partialDatetime"
