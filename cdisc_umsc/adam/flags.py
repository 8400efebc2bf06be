"""Record flags: on-treatment (ONTRTFL, ADaMIG 1.3 section 3.3.8), treatment-emergent
(TRTEMFL, ADaM OCCDS v1.1 section 3.1.5) and first/last occurrence (AOCCzzFL, OCCDS 3.1.6)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from cdisc_umsc.adam.derive import _need


def _yn(mask: pd.Series | np.ndarray, index: pd.Index) -> pd.Series:
    return pd.Series(np.where(np.asarray(mask, dtype=bool), "Y", ""), index=index, dtype=object)


#: what a record without a time on the day of first dose is (``same_day``)
SAME_DAY = ("on_treatment", "pre_dose")
#: time imputation flags (ADaM CT TIMEFL C81226) that still leave hour and minute as collected
_TIME_KNOWN = ("", "S")


def compute_timed(dataset: pd.DataFrame, datetime: str, time_flag: str | None) -> pd.Series:
    """True where ``datetime`` holds a collected time: present, and its time imputation flag
    (``time_flag``, when the dataset has it) imputes at most the seconds."""
    if datetime not in dataset.columns:
        return pd.Series(False, index=dataset.index)
    timed = dataset[datetime].notna()
    if time_flag is not None and time_flag in dataset.columns:
        timed &= dataset[time_flag].astype(object).fillna("").isin(_TIME_KNOWN)
    return timed


def compute_after_first_dose(
    dataset: pd.DataFrame,
    date: str = "ADT",
    start: str = "TRTSDT",
    same_day: str = "on_treatment",
    datetime: str = "ADTM",
    start_datetime: str = "TRTSDTM",
    time_flag: str = "ATMF",
    start_time_flag: str = "TRTSTMF",
) -> pd.Series:
    """True where the record is at or after the first dose (ADaMIG 1.3 section 3.3.8).

    Where the record (``datetime``) and the first dose (``start_datetime``) both have a
    collected time, they are compared as date-times: a record at the dose time or later is
    after it. Otherwise they are compared as dates: a later day is after; a record on the
    day of first dose is after it when ``same_day`` is ``on_treatment`` and before it when
    ``pre_dose`` (a protocol that takes assessments before dosing). False where a date is
    missing.
    """
    _need(dataset, [date, start], "compute_after_first_dose")
    if same_day not in SAME_DAY:
        raise ValueError(
            f"compute_after_first_dose: same_day must be one of {', '.join(SAME_DAY)}, "
            f"not {same_day!r}"
        )
    d, s = dataset[date], dataset[start]
    by_date = (d > s) | ((d == s) & (same_day == "on_treatment"))
    timed = compute_timed(dataset, datetime, time_flag) & compute_timed(
        dataset, start_datetime, start_time_flag
    )
    if timed.any():
        by_time = dataset[datetime] >= dataset[start_datetime]
        by_date = by_date.where(~timed, by_time)
    return (by_date & d.notna() & s.notna()).fillna(False).astype(bool)


def compute_ontrtfl(
    dataset: pd.DataFrame,
    date: str = "ADT",
    start: str = "TRTSDT",
    end: str = "TRTEDT",
    end_window: int = 0,
    same_day: str = "on_treatment",
) -> pd.Series:
    """Y when the record is at or after the first dose (:func:`compute_after_first_dose`:
    date-times where both have a time, else dates with the ``same_day`` rule) and its date is
    no later than ``end`` + ``end_window`` days (an open end counts as ongoing)."""
    _need(dataset, [date, start, end], "compute_ontrtfl")
    if end_window < 0:
        raise ValueError("compute_ontrtfl: end_window must be >= 0")
    d, e = dataset[date], dataset[end]
    started = compute_after_first_dose(dataset, date, start, same_day)
    ok = started & (e.isna() | (d <= e + end_window))
    return _yn(ok.fillna(False), dataset.index)


def compute_trtemfl(
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
    _need(dataset, [start, end, trtsdt, trtedt], "compute_trtemfl")
    if missing_start not in ("emergent", "not"):
        raise ValueError("compute_trtemfl: missing_start must be 'emergent' or 'not'")
    if end_window < 0:
        raise ValueError("compute_trtemfl: end_window must be >= 0")
    st, en = dataset[start], dataset[end]
    ts, te = dataset[trtsdt], dataset[trtedt]
    within = st.notna() & (st >= ts) & (te.isna() | (st <= te + end_window))
    unknown = st.isna() & (en.isna() | (en >= ts)) if missing_start == "emergent" else False
    ok = ts.notna() & (within | unknown)
    return _yn(ok.fillna(False), dataset.index)


def compute_extreme_flag(
    dataset: pd.DataFrame,
    by: Sequence[str],
    order: Sequence[str],
    mode: str = "first",
    select: pd.Series | None = None,
) -> pd.Series:
    """Y on the first (or last) record in ``order`` per ``by`` group among selected records."""
    if mode not in ("first", "last"):
        raise ValueError(f"compute_extreme_flag: mode must be first or last ({mode!r})")
    _need(dataset, [*by, *order], "compute_extreme_flag")
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
