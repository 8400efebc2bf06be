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
    """True where ``datetime`` holds a collected time (not an imputed hour or minute).

    A record is timed when ``datetime`` is present and its time imputation flag
    (``time_flag``, when the dataset has it) imputes at most the seconds (ADaM CT TIMEFL
    C81226: blank or S). A dataset without ``datetime`` has no timed records.

    Args:
        dataset: the input dataset.
        datetime: the numeric date-time variable, e.g. ``"ADTM"``. No default.
        time_flag: its time imputation flag, e.g. ``"ATMF"``; ``None`` or a variable the
            dataset lacks means every present date-time is timed. No default.

    Returns:
        A boolean series aligned with ``dataset``.

    Example:
        >>> import pandas as pd
        >>> from cdisc_umsc.adam.flags import compute_timed
        >>> adlb = pd.DataFrame({"ADTM": [100.0, 200.0, None], "ATMF": ["", "H", ""]})
        >>> compute_timed(adlb, "ADTM", "ATMF").tolist()
        [True, False, False]
    """
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
    collected time (:func:`compute_timed`), they are compared as date-times: a record at
    the dose time or later is after it. Otherwise they are compared as dates: a later day is
    after; a record on the day of first dose is after it when ``same_day`` is
    ``on_treatment`` and before it when ``pre_dose`` (a protocol that takes assessments
    before dosing). False where a date is missing.

    Args:
        dataset: the input dataset, holding ``date`` and ``start``.
        date: the record's numeric date. Default ``"ADT"``.
        start: the first dose date. Default ``"TRTSDT"``.
        same_day: one of :data:`SAME_DAY`: ``"on_treatment"`` or ``"pre_dose"``. Default
            ``"on_treatment"``.
        datetime: the record's numeric date-time, used when present. Default ``"ADTM"``.
        start_datetime: the first dose date-time, used when present. Default ``"TRTSDTM"``.
        time_flag: the time imputation flag of ``datetime``. Default ``"ATMF"``.
        start_time_flag: the time imputation flag of ``start_datetime``. Default
            ``"TRTSTMF"``.

    Returns:
        A boolean series aligned with ``dataset``.

    Example:
        >>> import pandas as pd
        >>> from cdisc_umsc.adam.flags import compute_after_first_dose
        >>> adlb = pd.DataFrame({"ADT": [9.0, 10.0, 11.0, None], "TRTSDT": [10.0] * 4})
        >>> compute_after_first_dose(adlb).tolist()
        [False, True, True, False]
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
    """ONTRTFL: Y when the record is on treatment, from first dose to last dose + a window.

    On treatment is at or after the first dose (:func:`compute_after_first_dose`, with its
    default date-time variables: date-times where both have a time, else dates with the
    ``same_day`` rule) and a date no later than ``end`` + ``end_window`` days (an open end
    counts as ongoing). ADaMIG 1.3 section 3.3.8.

    Args:
        dataset: the input dataset, holding ``date``, ``start`` and ``end``.
        date: the record's numeric date. Default ``"ADT"``.
        start: the first dose date. Default ``"TRTSDT"``.
        end: the last dose date. Default ``"TRTEDT"``.
        end_window: days after ``end`` still on treatment (>= 0). Default ``0``.
        same_day: ``"on_treatment"`` or ``"pre_dose"``, as for
            :func:`compute_after_first_dose`. Default ``"on_treatment"``.

    Returns:
        A text series of ``"Y"`` or ``""``.

    Example:
        >>> import pandas as pd
        >>> from cdisc_umsc.adam.flags import compute_ontrtfl
        >>> adlb = pd.DataFrame(
        ...     {"ADT": [9.0, 10.0, 22.0, 23.0], "TRTSDT": [10.0] * 4, "TRTEDT": [20.0] * 4}
        ... )
        >>> compute_ontrtfl(adlb, end_window=2).tolist()
        ['', 'Y', 'Y', '']
    """
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
    """TRTEMFL: Y when the event starts on treatment (ADaM OCCDS v1.1 section 3.1.5).

    The event starts on or after first dose and no later than last dose + ``end_window``
    days (an open last dose counts as ongoing). A missing start: ``emergent`` flags it
    unless it ended before first dose; ``not`` leaves it unflagged. Untreated subjects (no
    TRTSDT) are never flagged.

    Args:
        dataset: the input dataset, holding ``start``, ``end``, ``trtsdt`` and ``trtedt``.
        start: the event's start date. Default ``"ASTDT"``.
        end: the event's end date. Default ``"AENDT"``.
        trtsdt: the first dose date. Default ``"TRTSDT"``.
        trtedt: the last dose date. Default ``"TRTEDT"``.
        end_window: days after last dose still treatment-emergent (>= 0). Default ``0``.
        missing_start: ``"emergent"`` or ``"not"``. Default ``"emergent"``.

    Returns:
        A text series of ``"Y"`` or ``""``.

    Example:
        >>> import pandas as pd
        >>> from cdisc_umsc.adam.flags import compute_trtemfl
        >>> adae = pd.DataFrame(
        ...     {
        ...         "ASTDT": [9.0, 10.0, None, None, 15.0],
        ...         "AENDT": [12.0, None, 8.0, None, 16.0],
        ...         "TRTSDT": [10.0, 10.0, 10.0, 10.0, None],
        ...         "TRTEDT": [20.0, 20.0, 20.0, 20.0, None],
        ...     }
        ... )
        >>> compute_trtemfl(adae).tolist()
        ['', 'Y', '', 'Y', '']
    """
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
    """Y on the first (or last) record in ``order`` per ``by`` group among selected records.

    AOCCzzFL and the like (ADaM OCCDS v1.1 section 3.1.6). Records are sorted by ``order``
    (missing values last), ties kept in dataset order; a missing ``by`` value is a group
    of its own.

    Args:
        dataset: the input dataset, holding ``by`` and ``order``.
        by: the grouping variables, e.g. ``["USUBJID", "AEDECOD"]``. No default.
        order: the sort variables, e.g. ``["ASTDT", "AESEQ"]``. No default.
        mode: ``"first"`` or ``"last"``. Default ``"first"``.
        select: a boolean mask (aligned with ``dataset``) of the records that may be
            flagged. Default ``None`` (all records).

    Returns:
        A text series of ``"Y"`` or ``""``.

    Example:
        >>> import pandas as pd
        >>> from cdisc_umsc.adam.flags import compute_extreme_flag
        >>> adae = pd.DataFrame(
        ...     {
        ...         "USUBJID": ["01", "01", "01", "02"],
        ...         "ASTDT": [5.0, 3.0, 3.0, 7.0],
        ...         "AESEQ": [1, 2, 3, 1],
        ...     }
        ... )
        >>> compute_extreme_flag(adae, ["USUBJID"], ["ASTDT", "AESEQ"]).tolist()
        ['', 'Y', '', 'Y']
    """
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
