"""Typed export columns (SAS datasets, Excel sheets) as the text a CSV export would hold.

A SAS numeric or an Excel number becomes its shortest decimal text (``170``, ``82.4``,
:func:`cdisc_umsc.core.values.number_text`), or, where the column's display format gives
decimals (SAS ``8.1``), that many decimals when they lose nothing (``2.0``; a value the format
would round keeps its own digits); a SAS date or an Excel date cell is written in the
field's declared date format, so that the shared checks
(:func:`cdisc_umsc.read.forms.check_form`) parse it like any collected date; a time of day
becomes ``HH:MM`` (``HH:MM:SS`` when it has seconds). A value the field cannot hold (a date and
time in a date field, a number in a date field, a duration) is a one-line error naming the
record and the field. Each distinct value is rendered once, then spread back to its records.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd

from cdisc_umsc.core import iso8601
from cdisc_umsc.core.values import number_text
from cdisc_umsc.metadata.model import FieldSpec, FormSpec
from cdisc_umsc.read.forms import record_error


def as_text(
    form: FormSpec, frame: pd.DataFrame, decimals: dict[str, int] | None = None
) -> pd.DataFrame:
    """``frame`` with every declared field as object text ("" where missing); ``decimals``:
    per column, the decimals its display format shows."""
    for spec in form.fields:
        frame[spec.name] = _field_text(form, frame, spec, (decimals or {}).get(spec.name, 0))
    return frame


def _field_text(form: FormSpec, frame: pd.DataFrame, spec: FieldSpec, places: int) -> pd.Series:
    col = frame[spec.name]
    if isinstance(col.dtype, pd.StringDtype):
        return col.astype(object).where(col.notna(), "")
    if col.dtype == object and pd.api.types.infer_dtype(col, skipna=False) == "string":
        return col
    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    texts, errors = [], []
    for value in np.asarray(uniques, dtype=object):
        text, error = _render(value, spec, places)
        texts.append(text)
        errors.append(error)
    bad = [k for k, e in enumerate(errors) if e]
    if bad:
        first = min(bad, key=lambda k: int(np.flatnonzero(codes == k)[0]))
        pos = int(np.flatnonzero(codes == first)[0])
        raise record_error(form, frame, pos, spec.name, errors[first])
    table = np.array([*texts, ""], dtype=object)  # code -1 (missing) takes the last: ""
    return pd.Series(table[codes], index=col.index, dtype=object)


def _render(value: object, spec: FieldSpec, places: int = 0) -> tuple[str, str]:
    """(text, error) of one distinct value for ``spec``."""
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return "", ""
    if isinstance(value, str):
        return value, ""
    if isinstance(value, bool | np.bool_):
        return ("TRUE" if value else "FALSE"), ""
    if isinstance(value, int | float | np.integer | np.floating):
        if spec.type in ("date", "datetime", "time"):
            return "", (
                f"expected a {spec.type}, got the number {value!r} "
                "(a SAS numeric without a date or time format?)"
            )
        if not math.isfinite(float(value)):
            return "", f"holds {value!r}, not a finite number"
        padded = f"{float(value):.{places}f}" if places else ""
        if padded and float(padded) == float(value):
            return padded, ""
        return str(number_text(pd.Series([float(value)])).iloc[0]), ""
    if isinstance(value, dt.datetime):
        stamp = pd.Timestamp(value)
        if spec.type == "date":
            if stamp != stamp.normalize():
                return "", f"holds a date and time ({stamp.isoformat()}) where a date is expected"
            return _date(stamp.date(), spec), ""
        if spec.type == "time":
            return "", f"holds a date and time ({stamp.isoformat()}) where a time is expected"
        if spec.type == "datetime":
            return _written(stamp.to_pydatetime(), spec)
        return stamp.strftime("%Y-%m-%dT%H:%M:%S"), ""
    if isinstance(value, dt.date):
        if spec.type == "time":
            return "", f"holds a date ({value.isoformat()}) where a time is expected"
        return _date(value, spec), ""
    if isinstance(value, dt.time):
        if spec.type in ("date", "datetime"):
            return "", f"holds a time ({value.isoformat()}) where a {spec.type} is expected"
        if spec.type == "time":
            return _written(value, spec)
        return value.strftime("%H:%M:%S" if value.second or value.microsecond else "%H:%M"), ""
    what = "a duration" if isinstance(value, dt.timedelta) else f"a {type(value).__name__}"
    return "", f"holds {what} ({value!r}), not a value a form field can take"


def _date(day: dt.date, spec: FieldSpec) -> str:
    """A date written as the field declares its dates (ISO 8601 for a text field)."""
    if spec.type in ("date", "datetime") and spec.format:
        return _written(day, spec)[0]
    return day.isoformat()


def _written(value: object, spec: FieldSpec) -> tuple[str, str]:
    """(text, error): the value in the field's declared format, as its export writes it; a
    value the format cannot hold (a time with seconds in hh:mm) keeps its ISO 8601 text, which
    the shared checks then report as not in the format."""
    fmt = iso8601.raw_format(spec.format or "hh:mm", spec.type, spec.unknown)
    try:
        return iso8601.render(value, fmt), ""
    except ValueError:
        return value.isoformat(), ""  # type: ignore[attr-defined]
