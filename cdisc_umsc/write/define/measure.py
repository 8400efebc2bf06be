"""What a define.xml measures on the data: ItemDef DataType, Length and SignificantDigits
(Define-XML 2.1 section 5.3.11), and the text form of values written as codes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdisc_umsc.core.errors import WriteError
from cdisc_umsc.core.values import as_text, blank, is_numeric, to_number
from cdisc_umsc.metadata.model import Variable

#: ISO 8601 data types: no Length (Define-XML 2.1 §5.3.11, ItemDef Length).
ISO_TYPES = frozenset(
    {
        "date",
        "datetime",
        "time",
        "partialDate",
        "partialTime",
        "partialDatetime",
        "incompleteDatetime",
        "incompleteDate",
        "incompleteTime",
        "durationDatetime",
        "intervalDatetime",
    }
)
NUMERIC_TYPES = frozenset({"integer", "float", "double"})


def is_blank(values: pd.Series) -> np.ndarray:
    return blank(values).to_numpy(dtype=bool)


def texts(values: pd.Series) -> pd.Series:
    """Non-missing values as the text written into CodedValue / CheckValue (index kept)."""
    return as_text(values[~is_blank(values)])


def numeric_text(values: pd.Series) -> pd.Series:
    """Whether each text value is a number (a numeric result, never a codelist term)."""
    return to_number(values).notna()


def byte_length(values: pd.Series) -> int:
    """Longest UTF-8 length of the values, at least 1 (measured on distinct values)."""
    unique = np.asarray(values.unique(), dtype=object)
    distinct = pd.Series(unique[~pd.isna(unique)], dtype="string")
    if distinct.empty:
        return 1
    # pandas-stubs allows .str.len() on str only; pandas measures any sequence, bytes included
    return max(1, int(distinct.str.encode("utf-8").str.len().max()))  # type: ignore[misc]


_POWERS = 10.0 ** np.arange(0, 309)


def digit_parts(magnitudes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per finite non-negative value: (integer digits, fraction digits) of its shortest
    round-trip decimal form (Python repr, exponent notation unfolded)."""
    # Whole numbers: count the powers of ten not above the value (no text needed).
    int_digits = np.maximum(np.searchsorted(_POWERS, magnitudes, side="right"), 1)
    frac_digits = np.zeros(len(magnitudes), dtype="int64")
    odd = np.flatnonzero(np.mod(magnitudes, 1) != 0)
    if odd.size:
        # repr of each (distinct) value: mantissa digits before / after the point, exponent
        reprs = [r.partition("e") for r in map(repr, magnitudes[odd].tolist())]
        mantissas = [m.partition(".") for m, _, _ in reprs]
        whole = np.fromiter((len(w) for w, _, _ in mantissas), "int64", odd.size)
        frac = np.fromiter((len(f.rstrip("0")) for _, _, f in mantissas), "int64", odd.size)
        exp = np.fromiter((int(e or 0) for _, _, e in reprs), "int64", odd.size)
        int_digits[odd] = np.where(exp > 0, whole + exp, np.where(exp < 0, 1, whole))
        frac_digits[odd] = np.where(exp > 0, np.maximum(frac - exp, 0), frac - np.minimum(exp, 0))
    return int_digits.astype("int64"), frac_digits


def _digits(values: np.ndarray) -> tuple[int, int]:
    """(integer digits, fraction digits) needed by the finite values."""
    distinct = np.unique(np.abs(values[np.isfinite(values)]))
    if distinct.size == 0:
        return 1, 0
    int_digits, frac_digits = digit_parts(distinct)
    return int(int_digits.max()), int(frac_digits.max())


def _numeric(frame: pd.DataFrame, ds: str, var: Variable) -> np.ndarray:
    col = frame[var.name]
    if not is_numeric(col):
        raise WriteError(
            f"define: dataset {ds}, variable {var.name}: expected a numeric column "
            f"for type Num, found dtype {col.dtype}"
        )
    return col.to_numpy(dtype="float64", na_value=np.nan)


def _first_bad(mask: np.ndarray) -> int:
    """1-based row number of the first True (as the XPT writer reports rows)."""
    return int(np.flatnonzero(mask)[0]) + 1


def item_length(
    frame: pd.DataFrame, ds: str, var: Variable, dtype: str
) -> tuple[int | None, int | None]:
    """(Length, SignificantDigits) of a variable's ItemDef (Define-XML 2.1 §5.3.11)."""
    if dtype in ISO_TYPES:
        return None, None
    if dtype not in NUMERIC_TYPES:
        col = frame[var.name]
        if pd.api.types.is_numeric_dtype(col.dtype):
            raise WriteError(
                f"define: dataset {ds}, variable {var.name}: expected text values "
                f"for data type {dtype}, found dtype {col.dtype}"
            )
        return (var.length or byte_length(col)), None
    values = _numeric(frame, ds, var)
    bad = np.isfinite(values) & (np.mod(values, 1) != 0)
    if dtype == "integer" and bad.any():
        raise WriteError(
            f"define: dataset {ds}, row {_first_bad(bad)}, variable "
            f"{var.name}: expected an integer for data type integer, found "
            f"{float(values[bad][0])!r}"
        )
    whole, frac = _digits(values)
    if dtype == "integer":
        return whole, None
    sig = var.significant_digits if var.significant_digits is not None else frac
    return whole + max(frac, sig), sig


def define_type(frame: pd.DataFrame, ds: str, var: Variable) -> str:
    """ItemDef DataType. Num variables are integer or float: as declared, else integer when
    every value is whole (so ADaM numeric dates are integer with a DisplayFormat)."""
    if var.type != "Num":
        return "text" if var.data_type in NUMERIC_TYPES or not var.data_type else var.data_type
    if var.data_type == "integer":
        return "integer"
    if var.data_type in ("float", "double"):
        return "float"
    values = _numeric(frame, ds, var)
    return "float" if (np.isfinite(values) & (np.mod(values, 1) != 0)).any() else "integer"
