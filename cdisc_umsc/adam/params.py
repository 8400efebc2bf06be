"""Derived parameters: a value computed from other parameters (checked against a collected
one), a change from the previous visit relative to the normal range, and a responder parameter
per endpoint (ADaMIG 1.3 section 4.2: a new parameter is new rows, never new columns)."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from cdisc_umsc.adam.derive import _need
from cdisc_umsc.core.formula import parse_formula


def derive_param_computed(
    dataset: pd.DataFrame, by: Sequence[str], code: str, value: str, formula: str, decimals: int
) -> pd.DataFrame:
    """One value per ``by`` group: ``formula`` over the ``value`` of each ``code`` it names,
    rounded to ``decimals``; groups missing any named code get no value (never a partial sum)."""
    _need(dataset, [*by, code, value], "derive_param_computed")
    parsed = parse_formula(formula)
    names = sorted(parsed.names)
    wide = dataset[dataset[code].isin(names)].pivot_table(
        index=list(by), columns=code, values=value, aggfunc="first"
    )
    absent = [n for n in names if n not in wide.columns]
    if absent:
        raise ValueError(f"derive_param_computed: no records for {', '.join(absent)}")
    result = pd.Series(parsed.evaluate({n: wide[n] for n in names}), index=wide.index).round(
        int(decimals)
    )
    result = result[wide[names].notna().all(axis=1)]
    return result.rename("AVAL").reset_index()


def derive_param_check(
    computed: pd.DataFrame, collected: pd.DataFrame, by: Sequence[str], tolerance: float
) -> pd.DataFrame:
    """Groups where the computed AVAL and the collected AVAL differ by more than ``tolerance``
    (or only one exists): columns ``by``, computed, collected."""
    _need(computed, [*by, "AVAL"], "derive_param_check computed")
    _need(collected, [*by, "AVAL"], "derive_param_check collected")
    both = computed[[*by, "AVAL"]].merge(
        collected[[*by, "AVAL"]], on=list(by), how="outer", suffixes=("_computed", "_collected")
    )
    a, b = both["AVAL_computed"], both["AVAL_collected"]
    bad = (a - b).abs().gt(tolerance) | (a.isna() != b.isna())
    return both[bad.to_numpy()].rename(
        columns={"AVAL_computed": "computed", "AVAL_collected": "collected"}
    )


def derive_param_responder(
    dataset: pd.DataFrame, select: pd.Series, flag: str, paramcd: str, param: str
) -> pd.DataFrame:
    """A responder parameter: a copy of each selected analysis record with AVALC = the
    criterion flag (Y/N) and AVAL 1/0; a record without a decision (flag blank) is an error."""
    _need(dataset, [flag, "PARAMCD", "PARAM", "AVAL"], "derive_param_responder")
    rows = dataset[select.to_numpy()].copy()
    undecided = ~rows[flag].isin(["Y", "N"])
    if undecided.any():
        raise ValueError(
            f"responder parameter {paramcd}: {int(undecided.sum())} analysis record(s) at the "
            f"primary visit have no {flag} decision (no baseline or no value to compare)"
        )
    rows["AVALC"] = rows[flag].to_numpy()
    rows["AVAL"] = np.where(rows[flag] == "Y", 1.0, 0.0)
    rows["PARAMCD"], rows["PARAM"] = paramcd, param
    for col in rows.columns:
        if col in ("BASE", "CHG", "PCHG"):
            rows[col] = np.nan
        elif re.fullmatch(r"CRIT[0-9]+(FL)?|ANL[0-9][0-9]FL|ABLFL", col):
            rows[col] = ""
    return rows.reset_index(drop=True)


def round_half_away(values: pd.Series, decimals: int) -> pd.Series:
    """Round to ``decimals`` with halves away from zero (0.05 -> 0.1, -0.25 -> -0.3), as
    SAS ROUND does; a tiny allowance absorbs binary representation (0.15 is 0.1499...)."""
    scale = 10.0 ** int(decimals)
    x = values.astype("float64")
    a = x.to_numpy()
    rounded = np.sign(a) * np.floor(np.abs(a) * scale + 0.5 + 1e-9) / scale
    return pd.Series(rounded, index=x.index, name=x.name)


def compute_change_from_previous(
    dataset: pd.DataFrame,
    by: Sequence[str],
    order: Sequence[str],
    select: pd.Series,
    decimals: int | None = None,
) -> pd.Series:
    """(AVAL - AVAL of the previous selected record) / (0.5 x (A1HI - A1LO)) on each selected
    record in ``order`` within ``by``; null on the first selected record of a group (and on
    records not selected), and where the range has no width."""
    _need(dataset, [*by, *order, "AVAL", "A1LO", "A1HI"], "compute_change_from_previous")
    frame = dataset[[*by, *order, "AVAL", "A1LO", "A1HI"]].copy()
    frame["_pos"] = np.arange(len(frame))
    frame = frame[select.to_numpy()].sort_values([*by, *order, "_pos"], kind="stable")
    previous = frame.groupby(list(by), sort=False)["AVAL"].shift()
    half = 0.5 * (frame["A1HI"] - frame["A1LO"])
    value = ((frame["AVAL"] - previous) / half.where(half != 0)).astype("float64")
    if decimals is not None:
        value = round_half_away(value, decimals)
    out = np.full(len(dataset), np.nan)
    out[frame["_pos"].to_numpy()] = value.to_numpy()
    return pd.Series(out, index=dataset.index, dtype="float64")
