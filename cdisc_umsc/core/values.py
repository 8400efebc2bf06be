"""What a value is, written once: when a value is blank, and how a number is written as text.

- **Blank**: a missing number (NaN/None), or text that is empty or only spaces (SDTMIG 4.2.1
  treats a null character value as blank; SAS XPORT stores missing characters as spaces).
- **A number read from text**: ASCII decimal notation, finite, not a signed zero.
- **A number as text** (--STRESC from --STRESN, define.xml CheckValues, report cells): the
  shortest decimal that reads back as the same double, positional (never 1e-05), and without a
  trailing ``.0`` for whole numbers; a missing number is ``""``.

Both work on the distinct values of a column (data repeat few values), so they stay fast on
millions of records.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

import numpy as np
import pandas as pd

T = TypeVar("T")

#: Below this many rows the distinct-value detour costs more than it saves.
DISTINCT_FROM = 2_000


def is_numeric(values: pd.Series) -> bool:
    """A numeric (not boolean) column."""
    dtype = values.dtype
    return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)


def _per_distinct(values: pd.Series, fn: Callable[[np.ndarray], object]) -> np.ndarray:
    if len(values) < DISTINCT_FROM:
        return np.asarray(fn(values.to_numpy(dtype=object)))
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    mapped = np.asarray(fn(np.asarray(uniques, dtype=object)))
    missing = np.asarray(fn(np.array([None], dtype=object)))
    return np.append(mapped, missing)[codes]


class ColumnMemo(Generic[T]):
    """What was computed from the last few text (object) columns, so that a column many
    steps read is not scanned again. A column is known by the memory its values lie in; a
    view of it is kept, so that a write to the column copies it (copy-on-write) rather than
    change what the result was computed from."""

    def __init__(self, kept: int) -> None:
        self.kept = kept
        self.items: OrderedDict[tuple[int, tuple[int, ...], int], tuple[pd.Series, T]] = (
            OrderedDict()
        )
        MEMOS.append(self)

    def get(self, values: pd.Series, compute: Callable[[np.ndarray], T]) -> T:
        """``compute(values.to_numpy())``, or what it gave for this column a moment ago."""
        array = values.to_numpy()
        if values.dtype != object or not isinstance(array, np.ndarray) or array.ndim != 1:
            return compute(array)
        key = (array.__array_interface__["data"][0], array.strides, len(array))
        hit = self.items.get(key)
        if hit is not None:
            self.items.move_to_end(key)
            return hit[1]
        result = compute(array)
        self.items[key] = (values.copy(deep=False), result)
        while len(self.items) > self.kept:
            self.items.popitem(last=False)
        return result


#: every :class:`ColumnMemo`, for :func:`forget_columns`
MEMOS: list[ColumnMemo] = []


def forget_columns() -> None:
    """Drop every column the memos keep (at the end of a run)."""
    for memo in MEMOS:
        memo.items.clear()


_ALL_TEXT: ColumnMemo[bool] = ColumnMemo(16)


def all_text(values: pd.Series) -> bool:
    """An object column whose every value is a ``str`` (so none is missing): one C scan,
    cheaper than ``isna`` on text, once per column."""
    if values.dtype != object:
        return False
    return _ALL_TEXT.get(values, lambda a: pd.api.types.infer_dtype(a, skipna=False) == "string")


def filled_text(values: pd.Series) -> pd.Series:
    """Values as object text with missing as ""; a column already all text is not copied."""
    if all_text(values):
        return values.copy(deep=False)
    return values.where(values.notna(), "").astype(object)


def distinct_texts(values: pd.Series) -> tuple[np.ndarray, np.ndarray] | None:
    """A text column as ``(codes, texts)``: ``texts[codes]`` is the column with missing values
    as "" (the last text is that "", which code -1 picks); None for a column that is not text
    (numbers, booleans, objects that are not all text), whose values are not all ``str``.

    A per-value result is then worked out once per distinct text and spread back by code.
    """
    if not (isinstance(values.dtype, pd.StringDtype) or values.dtype == object):
        return None
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    texts = np.empty(len(uniques) + 1, dtype=object)
    texts[:-1] = np.asarray(uniques, dtype=object)
    texts[-1] = ""
    if pd.api.types.infer_dtype(texts, skipna=False) != "string":
        return None
    return np.asarray(codes, dtype=np.intp), texts


def _text_blank(items: np.ndarray) -> list[bool]:
    return [
        x is None or x is pd.NA or (isinstance(x, float) and x != x) or str(x).strip() == ""
        for x in items
    ]


def blank(values: pd.Series) -> pd.Series:
    """True where a value is missing: NaN/None, or empty or all-space text."""
    if is_numeric(values):
        return values.isna()
    return pd.Series(_per_distinct(values, _text_blank).astype(bool), index=values.index)


#: A number as data holds it: ASCII digits, an optional sign, point and exponent. Not
#: "inf", "Infinity", "NaN", hexadecimal, "1_000" or digits of other scripts ("８２").
NUMBER = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"


def to_number(values: pd.Series) -> pd.Series:
    """Text as float64: NaN where blank or not a finite number in :data:`NUMBER` form, so
    that ``1e400`` (no finite double), ``1e-400`` (a number no double holds: it would read as
    0), ``-0`` (a signed zero, which would be written back as "-0") and the words above are
    not numbers. Done once per distinct value."""
    codes, uniq = pd.factorize(values.astype(object), use_na_sentinel=True)
    text = pd.Series(uniq, dtype=object).astype(str).str.strip()
    ok = text.str.fullmatch(NUMBER).to_numpy(dtype=bool)
    num = np.full(len(text), np.nan)
    if ok.any():
        num[ok] = text[ok].to_numpy(dtype=object).astype(np.float64)
    num[~np.isfinite(num) | ((num == 0) & np.signbit(num))] = np.nan
    zero = np.flatnonzero(num == 0)
    if zero.size:  # a zero read from a mantissa that is not zero underflowed
        mantissa = text.iloc[zero].str.replace(r"[eE].*\Z", "", regex=True)
        num[zero[mantissa.str.contains("[1-9]").to_numpy(dtype=bool)]] = np.nan
    out = np.append(num, np.nan)[codes]  # code -1 (missing) takes the appended NaN
    return pd.Series(out, index=values.index, dtype="float64")


def _number_texts(items: np.ndarray) -> list[str]:
    out = []
    for x in items:
        if x is None or x != x:
            out.append("")
        elif not np.isfinite(x):
            raise ValueError(f"{x} is not a finite number and has no SDTM text form")
        else:
            out.append(np.format_float_positional(float(x), trim="-"))
    return out


def number_text(values: pd.Series) -> pd.Series:
    """Numbers as text (shortest round-trip, positional, no trailing .0); missing as ""."""
    num = pd.to_numeric(values, errors="coerce").astype("float64")
    return pd.Series(_per_distinct(num, _number_texts), index=values.index, dtype=object)


def as_text(values: pd.Series, hasnans: bool | None = None) -> pd.Series:
    """Any column as text: numbers by :func:`number_text`, missing as "". A text column
    (pandas ``str``) stays one; ``hasnans``, when the caller knows it, saves a scan."""
    if is_numeric(values):
        return number_text(values)
    if isinstance(values.dtype, pd.StringDtype):
        return values.fillna("") if (values.hasnans if hasnans is None else hasnans) else values
    filled = values.where(values.notna(), "")
    if pd.api.types.infer_dtype(filled, skipna=False) == "string":
        return filled.astype(object)
    return pd.Series(_per_distinct(values, _value_texts), index=values.index, dtype=object)


def _value_texts(items: np.ndarray) -> list[str]:
    """Mixed values as text: numbers as :func:`number_text` writes them, missing as ""."""
    out = []
    for x in items:
        if x is None or (isinstance(x, float) and x != x):
            out.append("")
        elif isinstance(x, int | float | np.number) and not isinstance(x, bool | np.bool_):
            out.extend(_number_texts(np.array([float(x)])))
        else:
            out.append(str(x))
    return out


def round_half_away(values: pd.Series, decimals: int) -> pd.Series:
    """Round to ``decimals`` with halves away from zero, as SAS ROUND does: the one rounding
    rule of results (unit conversions, derived records, computed parameters).

    A tiny allowance absorbs binary representation (0.15 is stored as 0.1499...).

    Args:
        values: the numbers to round (a missing value stays missing).
        decimals: the number of decimals to keep.

    Returns:
        A float series with the same index and name.

    Example:
        >>> import pandas as pd
        >>> from cdisc_umsc.core.values import round_half_away
        >>> round_half_away(pd.Series([0.05, -0.25, 0.15, 1.234]), 1).tolist()
        [0.1, -0.3, 0.2, 1.2]
    """
    scale = 10.0 ** int(decimals)
    x = values.astype("float64")
    a = x.to_numpy()
    rounded = np.sign(a) * np.floor(np.abs(a) * scale + 0.5 + 1e-9) / scale
    return pd.Series(rounded, index=x.index, name=x.name)
