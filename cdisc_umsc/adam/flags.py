"""Record flags: on-treatment (ONTRTFL, ADaMIG 1.3 section 3.3.8), treatment-emergent
(TRTEMFL, ADaM OCCDS v1.1 section 3.1.5) and first/last occurrence (AOCCzzFL, OCCDS 3.1.6)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from cdisc_umsc.adam.derive import _need


def _yn(mask: pd.Series | np.ndarray, index: pd.Index) -> pd.Series:
    return pd.Series(np.where(np.asarray(mask, dtype=bool), "Y", ""), index=index, dtype=object)


def derive_var_ontrtfl(
    dataset: pd.DataFrame,
    date: str = "ADT",
    start: str = "TRTSDT",
    end: str = "TRTEDT",
    end_window: int = 0,
) -> pd.Series:
    """Y when start <= date <= end + ``end_window`` days (an open end counts as ongoing)."""
    _need(dataset, [date, start, end], "derive_var_ontrtfl")
    if end_window < 0:
        raise ValueError("derive_var_ontrtfl: end_window must be >= 0")
    d, s, e = dataset[date], dataset[start], dataset[end]
    ok = d.notna() & s.notna() & (d >= s) & (e.isna() | (d <= e + end_window))
    return _yn(ok.fillna(False), dataset.index)


def derive_var_trtemfl(
    dataset: pd.DataFrame,
    start: str = "ASTDT",
    end: str = "AENDT",
    trtsdt: str = "TRTSDT",
    trtedt: str = "TRTEDT",
    end_window: int = 0,
    missing_start: str = "emergent",
) -> pd.Series:
    """Y when the event starts on or after first dose and no later than last dose +
    ``end_window`` days. A missing start: ``emergent`` flags it unless it ended before first
    dose; ``not`` leaves it unflagged. Untreated subjects (no TRTSDT) are never flagged."""
    _need(dataset, [start, end, trtsdt, trtedt], "derive_var_trtemfl")
    if missing_start not in ("emergent", "not"):
        raise ValueError("derive_var_trtemfl: missing_start must be 'emergent' or 'not'")
    if end_window < 0:
        raise ValueError("derive_var_trtemfl: end_window must be >= 0")
    st, en = dataset[start], dataset[end]
    ts, te = dataset[trtsdt], dataset[trtedt]
    within = st.notna() & (st >= ts) & (te.isna() | (st <= te + end_window))
    unknown = st.isna() & (en.isna() | (en >= ts)) if missing_start == "emergent" else False
    ok = ts.notna() & (within | unknown)
    return _yn(ok.fillna(False), dataset.index)


def derive_var_extreme_flag(
    dataset: pd.DataFrame,
    by: Sequence[str],
    order: Sequence[str],
    mode: str = "first",
    select: pd.Series | None = None,
) -> pd.Series:
    """Y on the first (or last) record in ``order`` per ``by`` group among selected records."""
    if mode not in ("first", "last"):
        raise ValueError(f"derive_var_extreme_flag: mode must be first or last ({mode!r})")
    _need(dataset, [*by, *order], "derive_var_extreme_flag")
    frame = dataset[[*by, *order]].copy()
    frame["_pos"] = np.arange(len(frame))
    if select is not None:
        frame = frame[select.to_numpy()]
    frame = frame.sort_values([*by, *order, "_pos"], kind="stable", na_position="last")
    grouped = frame.groupby(list(by), sort=False, dropna=False)
    pick = grouped.head(1) if mode == "first" else grouped.tail(1)
    flag = np.zeros(len(dataset), dtype=bool)
    flag[pick["_pos"].to_numpy()] = True
    return _yn(flag, dataset.index)
