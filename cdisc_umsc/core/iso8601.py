"""ISO 8601 dates as SDTM writes them (SDTMIG 3.4 section 4.4): parse, assemble, compare.

All functions are vectorised over pandas Series of strings. Partial dates stay partial
("2019-03", "2019", "2019---15"); impossible dates (2019-02-30, month 13) are errors.
Digits are ASCII 0-9 only (ISO 8601 section 3.4.1): ``\\d`` would match full-width
(``２０１９``) and Arabic-Indic digits, which then convert to no number and leave a blank.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
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
    r"^(?P<y>[0-9]{4})"
    r"(?:-(?P<m>[0-9]{2}|-)"
    r"(?:-(?P<d>[0-9]{2}))?)?"
    r"(?:T(?P<H>[0-9]{2}|-)(?::(?P<M>[0-9]{2}|-)(?::(?P<S>[0-9]{2}(?:\.[0-9]+)?))?)?)?$"
)


def _distinct_text(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Per value the position of its distinct text, and the distinct texts (a missing value
    is ""). Text values are factorized as they are; anything else is written as text first."""
    if values.dtype == object:
        codes, uniq = pd.factorize(values.to_numpy(), use_na_sentinel=True)
        texts = np.asarray(uniq, dtype=object)
        if pd.api.types.infer_dtype(texts, skipna=False) in ("string", "empty"):
            if (codes < 0).any():  # the missing values read as ""
                codes = np.where(codes < 0, len(texts), codes)
                texts = np.append(texts, "")
            return codes, texts
    codes, written = pd.factorize(values.fillna("").astype(str))
    return codes, np.asarray(written, dtype=object)


def _by_distinct(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Evaluate a per-value function once per distinct value and spread the results back by
    position: dates repeat across records, so the work grows with distinct dates, not rows."""

    @functools.wraps(fn)
    def wrapper(values: pd.Series, *args: Any, **kwargs: Any) -> Any:
        codes, uniq = _distinct_text(values)
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


#: Format tokens of raw dates and times (case-sensitive): year, month as number or English
#: three-letter name, day, hour (00-23), minute and second. ``[...]`` marks an optional part
#: (the value may stop before it); anything else is a literal character.
TOKENS = {
    "YYYY": ("y", r"[0-9]{4}"),
    "MON": ("m", r"[A-Z]{3}"),
    "MM": ("m", r"[0-9]{2}"),
    "DD": ("d", r"[0-9]{2}"),
    "hh": ("H", r"[0-9]{2}"),
    "mm": ("M", r"[0-9]{2}"),
    "ss": ("S", r"[0-9]{2}"),
}
#: Named formats: ISO 8601 dates and date-times as SDTM writes them, truncation allowed.
NAMED = {
    "YYYY-MM-DD": "YYYY[-MM[-DD]]",
    "ISO 8601": "YYYY[-MM[-DD[Thh[:mm[:ss]]]]]",
    "hh:mm": "hh:mm",
}
#: Examples of the formats a field may declare (any pattern of the tokens works).
DATE_FORMATS = (
    "YYYY-MM-DD",
    "DD/MON/YYYY",
    "DD-MON-YYYY",
    "DDMONYYYY",
    "MM/DD/YYYY",
    "DD.MM.YYYY",
    "YYYY/MM/DD",
)
KINDS = {"date": ("y", "m", "d"), "datetime": ("y", "m", "d", "H", "M"), "time": ("H", "M")}


@dataclass(frozen=True)
class RawFormat:
    """A raw date, date-time or time format: its text, what it holds and its unknown tokens."""

    text: str
    kind: str
    regex: str
    parts: tuple[str, ...]
    unknown: tuple[str, ...] = ()
    #: the month is written as its English three-letter name (MON)
    month_name: bool = False
    #: the token pattern the format stands for (a named format resolved)
    pattern: str = ""


def _tokenise(fmt: str) -> list[str]:
    out, i = [], 0
    while i < len(fmt):
        for tok in ("YYYY", "MON", "MM", "DD", "hh", "mm", "ss"):
            if fmt.startswith(tok, i):
                out.append(tok)
                i += len(tok)
                break
        else:
            out.append(fmt[i])
            i += 1
    return out


def raw_format(fmt: str, kind: str = "date", unknown: tuple[str, ...] = ()) -> RawFormat:
    """The compiled form of a field's declared format; ValueError saying what is wrong.

    ``kind`` is the field type (date, datetime or time): a date needs YYYY, MM or MON and DD
    and no time; a date-time needs those and hh and mm; a time needs hh and mm and no date.
    ``unknown`` are the tokens the export writes for an unknown part (UN, UNK, --, ...).
    """
    text = NAMED.get(fmt, fmt)
    if kind == "datetime" and fmt == "YYYY-MM-DD":
        text = NAMED["ISO 8601"]
    alternatives = "|".join(re.escape(t.upper()) for t in sorted(unknown, key=len, reverse=True))
    regex, parts, depth = "", [], 0
    tokens = _tokenise(text)
    for tok in tokens:
        if tok in TOKENS:
            group, pattern = TOKENS[tok]
            if group in parts:
                raise ValueError(f"format {fmt!r}: {tok} is given twice")
            parts.append(group)
            pattern = f"{pattern}|{alternatives}" if alternatives else pattern
            regex += f"(?P<{group}>{pattern})"
        elif tok == "[":
            regex += "(?:"
            depth += 1
        elif tok == "]":
            if depth == 0:
                raise ValueError(f"format {fmt!r}: ']' without '['")
            regex += ")?"
            depth -= 1
        elif tok.isalnum() and tok != "T":
            raise ValueError(
                f"format {fmt!r}: '{tok}' is not a format token (tokens: YYYY, MM, MON, DD, "
                "hh, mm, ss; other characters must be separators or T)"
            )
        else:
            regex += re.escape(tok.upper())
    if depth:
        raise ValueError(f"format {fmt!r}: '[' without ']'")
    need = KINDS.get(kind)
    if need is None:
        raise ValueError(f"no date format for a field of type {kind}")
    missing = [g for g in need if g not in parts]
    extra = [g for g in parts if kind != "datetime" and g not in need + ("S",)]
    if missing or extra or (kind == "date" and "S" in parts):
        what = {
            "date": "a date format needs YYYY, MM (or MON) and DD and no time",
            "datetime": "a date-time format needs YYYY, MM (or MON), DD, hh and mm",
            "time": "a time format needs hh and mm and no date",
        }[kind]
        raise ValueError(f"format {fmt!r}: {what}")
    for tok in unknown:
        if not str(tok).strip() or re.fullmatch(r"[0-9]+", str(tok)):
            raise ValueError(f"unknown-part token {tok!r} must be non-blank text, not digits")
    return RawFormat(
        fmt, kind, f"^{regex}$", tuple(parts), tuple(str(t) for t in unknown), "MON" in tokens, text
    )


def render(value: object, fmt: RawFormat) -> str:
    """A date, date-time or time (``datetime.date`` / ``datetime`` / ``time``) written in the
    format as an export would write it: an optional part is written when its components are
    known (a date-time's time, a time's seconds when they are not zero). ValueError when the
    format cannot hold the value (a time with seconds in ``hh:mm``)."""
    parts = {
        "y": getattr(value, "year", None),
        "m": getattr(value, "month", None),
        "d": getattr(value, "day", None),
        "H": getattr(value, "hour", None),
        "M": getattr(value, "minute", None),
        "S": getattr(value, "second", None) or None,
    }
    if parts["S"] and "S" not in fmt.parts:
        raise ValueError(f"{value} has seconds, which format {fmt.text!r} cannot hold")
    tokens = _tokenise(fmt.pattern)
    widths = {"y": 4, "m": 2, "d": 2, "H": 2, "M": 2, "S": 2}

    def walk(i: int) -> tuple[str, int, bool]:
        out, known = "", True
        while i < len(tokens) and tokens[i] != "]":
            tok = tokens[i]
            if tok == "[":
                inner, i, ok = walk(i + 1)
                out += inner if ok else ""
            elif tok in TOKENS:
                group = TOKENS[tok][0]
                v = parts[group]
                if v is None:
                    known = False
                elif tok == "MON":
                    out += _MONTH_NAMES[v - 1]
                else:
                    out += f"{v:0{widths[group]}d}"
            else:
                out += tok
            i += 1
        return out, i, known

    text, _i, ok = walk(0)
    if not ok:
        raise ValueError(f"{value} lacks a part that format {fmt.text!r} requires")
    return text


_MONTH_NAMES = tuple(MONTHS)


def _component(parts: pd.DataFrame, group: str, fmt: RawFormat) -> pd.Series:
    """One component as a number (NaN where absent or written as an unknown token)."""
    if group not in parts:
        return pd.Series(np.nan, index=parts.index)
    col = parts[group]
    if group == "m" and fmt.month_name:
        return col.map(MONTHS).astype("float64")
    return pd.to_numeric(col, errors="coerce").astype("float64")


def _time_text(hour: pd.Series, minute: pd.Series, second: pd.Series) -> pd.Series:
    """ISO 8601 time text: hh, hh:mm or hh:mm:ss; '-' for an unknown component before a
    known one (SDTMIG 3.4 section 4.4.4: T-:15); blank when nothing is known."""
    parts = [_zero_pad(c, 2) for c in (hour, minute, second)]
    known = [p != "" for p in parts]
    last = np.select([known[2], known[1], known[0]], [3, 2, 1], 0)
    out = pd.Series("", index=hour.index, dtype=object)
    for n in (1, 2, 3):  # the longest known component decides the length
        sel = last == n
        if sel.any():
            shown = [parts[i].where(known[i], "-") for i in range(n)]
            text = shown[0]
            for piece in shown[1:]:
                text = text + ":" + piece
            out[sel] = text[sel]
    return out


def parse_raw_distinct(values: pd.Series, fmt: RawFormat) -> tuple[pd.Series, pd.Series]:
    """Raw collected values in a declared format -> (ISO 8601 text, error text) per value,
    computed for each value given (:func:`parse_raw` does it once per distinct value).

    Blank stays blank. An unknown or omitted part gives a partial value (2019-03, 2019---15,
    T-:15); a value whose every part is unknown is blank. A time is written only on a complete
    date (ISO 8601 truncation). Impossible values (2019-02-30, month 13, hour 24) are errors.
    """
    text = values.fillna("").astype(str).str.strip()
    parts = text.str.upper().str.extract(fmt.regex)
    shape_ok = parts[fmt.parts[0]].notna()  # the first part is never optional
    tokens = {t.upper() for t in fmt.unknown}
    year, month, day, hour, minute, second = (
        _component(parts, g, fmt) for g in ("y", "m", "d", "H", "M", "S")
    )
    raw_month = parts["m"] if "m" in parts else pd.Series(np.nan, index=text.index)
    bad_name = raw_month.notna() & ~raw_month.isin(tokens) & month.isna()
    blank_in = text == ""
    err = pd.Series("", index=values.index, dtype=object)
    what = {"date": "a date", "datetime": "a date-time", "time": "a time"}[fmt.kind]
    err = err.mask(~blank_in & (~shape_ok | bad_name), f"expected {what} written {fmt.text}")
    given = [
        parts[g].notna() & ~parts[g].isin(tokens)
        if g in parts
        else pd.Series(False, index=text.index)
        for g in ("y", "m", "d", "H", "M", "S")
    ]
    nothing = ~np.logical_or.reduce([g.to_numpy() for g in given])
    no_year = ~given[0] & ~pd.Series(nothing, index=text.index)
    if fmt.kind != "time":
        err = err.mask(
            (err == "") & ~blank_in & no_year,
            "the year is unknown but a later part is known (not an SDTM date)",
        )
    dim = _days_in_month(year, month)
    checks = (
        (month.notna() & ((month < 1) | (month > 12)), "month out of range (impossible date)"),
        (
            day.notna() & ((day < 1) | (day > dim.fillna(31))),
            "day out of range for the month (impossible date)",
        ),
        (hour.notna() & (hour > 23), "hour out of range (impossible time)"),
        (minute.notna() & (minute > 59), "minute out of range (impossible time)"),
        (second.notna() & (second > 59), "second out of range (impossible time)"),
    )
    for mask, message in checks:
        err = err.mask((err == "") & ~blank_in & mask, message)
    ok = err == ""
    if fmt.kind == "time":
        iso = _time_text(hour, minute, second)
    else:
        iso = _components_to_iso(year.where(ok), month.where(ok), day.where(ok))
        if fmt.kind == "datetime":
            clock = _time_text(hour, minute, second)
            complete = year.notna() & month.notna() & day.notna() & (clock != "")
            iso = iso.where(~complete, iso + "T" + clock)
    iso = iso.where(ok & ~blank_in, "")
    return iso.astype(object), err


parse_raw = _by_distinct(parse_raw_distinct)


def parse_raw_dates(
    values: pd.Series, fmt: str, unknown: tuple[str, ...] = ()
) -> tuple[pd.Series, pd.Series]:
    """Raw collected dates in format ``fmt`` -> (ISO 8601 text, error text) per value."""
    return parse_raw(values, raw_format(fmt, "date", unknown))


def parse_raw_times(
    values: pd.Series, fmt: str = "hh:mm", unknown: tuple[str, ...] = ()
) -> tuple[pd.Series, pd.Series]:
    """Raw collected times (default HH:MM) -> (ISO 8601 time text, error text)."""
    return parse_raw(values, raw_format(fmt, "time", unknown))


def assemble(date: pd.Series, time: pd.Series | None = None) -> pd.Series:
    """ISO date plus optional hh:mm time → ISO 8601 date/time (time only on complete dates)."""
    out = date.fillna("").astype(str)
    if time is None:
        return out
    t = time.fillna("").astype(str)
    complete = out.str.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
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
    complete = text.str.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
    return pd.to_datetime(text.where(complete), format="%Y-%m-%d", errors="coerce")


def date_bounds_distinct(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """First and last day each (possibly partial) ISO date can be: 2019-05 -> 05-01 .. 05-31,
    computed for each value given (:func:`date_bounds` does it once per distinct value)."""
    text = values.fillna("").astype(str)
    parts = text.str.extract(r"^([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?")
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


date_bounds = _by_distinct(date_bounds_distinct)


@_by_distinct
def datetime_part(values: pd.Series) -> pd.Series:
    """Complete date-times (to the minute or second) as datetime64, else NaT."""
    text = values.fillna("").astype(str)
    ok = text.str.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2})?")
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
_COMPLETE_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_COMPLETE_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?"
)
_DATE_PREFIX = re.compile(r"[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?")
_DURATION = re.compile(
    r"-?P(?=[0-9]|T[0-9])([0-9]+Y)?([0-9]+M)?([0-9]+W)?([0-9]+D)?(T([0-9]+H)?([0-9]+M)?([0-9]+(\.[0-9]+)?S)?)?"
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
