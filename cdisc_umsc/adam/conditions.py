"""Record selection for ADaM spec conditions (``where:``, ``when:``): one boolean per record.

A condition maps variables to what they must hold; all must be true:
``VAR: value`` (equal; numbers compare numerically), ``VAR: [values]`` (one of),
``VAR: null`` (blank), ``VAR: {not: ...}``, ``VAR: {gt|ge|lt|le: number}``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

_COMPARE = {"gt": np.greater, "ge": np.greater_equal, "lt": np.less, "le": np.less_equal}


def blank(values: pd.Series) -> pd.Series:
    """True where a value is missing: NaN/None or empty text."""
    if values.dtype.kind in "fiu":
        return values.isna()
    return values.isna() | (values.astype(object).fillna("").astype(str).str.strip() == "")


def _equal(values: pd.Series, expected: object) -> pd.Series:
    if expected is None:
        return blank(values)
    if isinstance(expected, bool):
        expected = "Y" if expected else "N"
    if isinstance(expected, int | float) and values.dtype.kind in "fiu":
        return (values == float(expected)).fillna(False).astype(bool)
    text = values.astype(object).where(values.notna(), "").astype(str)
    if values.dtype.kind == "f":  # text spec value against a numeric column: compare as number
        return (values == pd.to_numeric(pd.Series([expected]), errors="coerce")[0]).fillna(False)
    return text == str(expected)


def _one(values: pd.Series, expected: object, name: str) -> pd.Series:
    if isinstance(expected, list):
        ok = pd.Series(False, index=values.index)
        for item in expected:
            ok |= _equal(values, item)
        return ok
    if isinstance(expected, Mapping):
        ok = pd.Series(True, index=values.index)
        for op, arg in expected.items():
            if op == "not":
                ok &= ~_one(values, arg, name)
            elif op in _COMPARE:
                num = pd.to_numeric(values, errors="coerce")
                ok &= pd.Series(_COMPARE[op](num, float(arg)), index=values.index).fillna(False)
            else:
                raise ValueError(
                    f"condition on {name}: unknown operator '{op}' (expected not, gt, ge, lt, le)"
                )
        return ok.astype(bool)
    return _equal(values, expected)


def match(frame: pd.DataFrame, cond: Mapping | None, what: str = "condition") -> pd.Series:
    """Records of ``frame`` meeting every clause of ``cond`` (all records when empty)."""
    ok = pd.Series(True, index=frame.index)
    for key, expected in (cond or {}).items():
        name = str(key)
        if name not in frame.columns:
            raise ValueError(f"{what}: no variable {name}")
        ok &= _one(frame[name], expected, name)
    return ok
