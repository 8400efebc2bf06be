"""Value-level metadata (Define-XML 2.1 sections 5.3.6-5.3.7): one ItemDef per distinct value of
the variable that says what a record holds (a test code, QNAM, PARAMCD, or a category), typed
and measured on that value's records."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cdisc_umsc.core.errors import WriteError
from cdisc_umsc.metadata.model import Variable
from cdisc_umsc.write.define.measure import digit_parts, is_blank, is_numeric, texts

#: Test-code variable -> the variable holding its label (used for value-level descriptions).
LABEL_OF = {"PARAMCD": "PARAM", "QNAM": "QLABEL"}


def label_variable(code_var: str) -> str:
    """The variable naming what a code means: --TEST for --TESTCD, PARAM for PARAMCD ..."""
    if code_var in LABEL_OF:
        return LABEL_OF[code_var]
    return code_var[:-2] if code_var.endswith("CD") else ""


@dataclass
class ValueItem:
    """One value-level ItemDef: the value it applies to and its measured type."""

    code: str
    label: str
    data_type: str
    length: int
    digits: int | None
    #: every non-blank value of the item is text that is not a number
    text_only: bool = False


def _units_of(frame: pd.DataFrame, keep: np.ndarray, name: str, test: str) -> dict[str, str]:
    """Per test code, the unit(s) its results are in: --ORRESU for --ORRES, --STRESU for
    --STRESN/--STRESC (the value-level description names them)."""
    unit = next(
        (
            name[: -len(suffix)] + u
            for suffix, u in (("ORRES", "ORRESU"), ("STRESN", "STRESU"), ("STRESC", "STRESU"))
            if name.endswith(suffix)
        ),
        None,
    )
    if unit is None or unit not in frame.columns:
        return {}
    pairs = frame.loc[keep, [test, unit]].drop_duplicates()
    pairs = pairs[~is_blank(pairs[unit])]
    pairs = pairs.assign(_code=texts(pairs[test]), _unit=pairs[unit].astype(str))
    grouped = pairs.sort_values("_unit").groupby("_code")["_unit"]
    return {str(code): ", ".join(units) for code, units in grouped.agg(list).items()}


def first_labels(frame: pd.DataFrame, code_var: str) -> dict[str, str]:
    """Code -> its label in the data (the first record's), for codes that have one."""
    label_var = label_variable(code_var)
    if label_var not in frame.columns or code_var not in frame.columns:
        return {}
    keep = ~is_blank(frame[code_var])
    firsts = frame.loc[keep, [code_var, label_var]].drop_duplicates(code_var)
    pairs = zip(
        texts(firsts[code_var]).tolist(), firsts[label_var].astype("string").tolist(), strict=True
    )
    return {code: str(label) for code, label in pairs if not pd.isna(label) and str(label)}


def value_items(frame: pd.DataFrame, ds: str, var: Variable, test: str) -> list[ValueItem]:
    """One item per distinct value of ``test`` (sorted): integer / float / text from its
    values."""
    if test not in frame.columns:
        raise WriteError(
            f"define: dataset {ds}: value list of {var.name} names the variable "
            f"{test}, which the dataset does not have"
        )
    keep = ~is_blank(frame[test])
    pairs = frame.loc[keep, [test, var.name]].drop_duplicates()
    codes = texts(pairs[test])
    col = pairs[var.name]
    label_of = first_labels(frame, test)
    units_of = _units_of(frame, keep, var.name, test)
    if is_numeric(col):
        num = col.to_numpy(dtype="float64", na_value=np.nan)
        is_text = np.zeros(len(col), dtype=bool)
    else:
        text = col.astype("string")
        num = pd.to_numeric(text.str.strip(), errors="coerce").to_numpy(
            dtype="float64", na_value=np.nan
        )
        is_text = (~is_blank(text)) & ~np.isfinite(num)
    # pandas-stubs allows .str.len() on str only; pandas measures any sequence, bytes included
    encoded = col.astype("string").str.encode("utf-8")
    nbytes = encoded.str.len().fillna(0).to_numpy("int64")  # type: ignore[misc]
    finite = np.isfinite(num)
    int_d, frac_d = digit_parts(np.where(finite, np.abs(num), 0.0))
    stats = pd.DataFrame(
        {
            "code": codes.to_numpy(),
            "text": is_text,
            "finite": finite,
            "bytes": nbytes,
            "int": np.where(finite, int_d, 0),
            "frac": np.where(finite, frac_d, 0),
        }
    )
    agg = stats.groupby("code", sort=True).agg(
        text=("text", "any"),
        finite=("finite", "any"),
        bytes=("bytes", "max"),
        int=("int", "max"),
        frac=("frac", "max"),
    )
    out = []
    rows = zip(
        agg.index.tolist(),
        agg["text"].tolist(),
        agg["finite"].tolist(),
        agg["bytes"].tolist(),
        agg["int"].tolist(),
        agg["frac"].tolist(),
        strict=True,
    )
    for code, any_text, any_finite, max_bytes, max_int, max_frac in rows:
        if label_variable(test):
            label = label_of.get(code, code)
        else:  # a category: the variable's label for the records of that category
            label = f"{var.label}, {code}"
        if units_of.get(code):
            label = f"{label} ({units_of[code]})"
        text_only = bool(any_text) and not bool(any_finite)
        if any_text or not any_finite:
            out.append(ValueItem(code, label, "text", max(1, int(max_bytes)), None, text_only))
        elif max_frac == 0:
            out.append(ValueItem(code, label, "integer", max(1, int(max_int)), None))
        else:
            out.append(ValueItem(code, label, "float", int(max_int) + int(max_frac), int(max_frac)))
    if var.type == "Num":  # a numeric column stays numeric even where a test has no values
        out = [
            v if v.data_type != "text" else ValueItem(v.code, v.label, "float", 1, 0) for v in out
        ]
    return out
