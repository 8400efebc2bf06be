"""Analysis visits: AVISIT/AVISITN by a visit map or by study-day windows, the analysis
record per window (ANLzzFL) and copied records such as an end-of-treatment visit.

ADaMIG 1.3 section 3.3.4 (AVISIT, AVISITN, AWLO, AWHI, AWTARGET) and 4.5.1 (ANLzzFL).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from cdisc_umsc.adam.derive import _need


def compute_avisit_map(
    dataset: pd.DataFrame, column: str, mapping: Mapping[str, tuple[str, float]], unmapped: str = ""
) -> pd.DataFrame:
    """Compute AVISIT and AVISITN from a visit map over the values of ``column``.

    Args:
        dataset: the records.
        column: the variable whose values are mapped (e.g. ``"VISIT"``).
        mapping: value -> (AVISIT, AVISITN).
        unmapped: AVISIT of a value not in ``mapping``; default ``""`` (blank). Its
            AVISITN is missing.

    Returns:
        A frame aligned with ``dataset``: columns AVISIT (text) and AVISITN (float).

    Example:
        >>> import pandas as pd
        >>> df = pd.DataFrame({"VISIT": ["SCREENING", "WEEK 2", "UNSCHEDULED"]})
        >>> out = compute_avisit_map(df, "VISIT", {"SCREENING": ("Baseline", 0),
        ...                                        "WEEK 2": ("Week 2", 2)})
        >>> out["AVISIT"].tolist(), out["AVISITN"].tolist()
        (['Baseline', 'Week 2', ''], [0.0, 2.0, nan])
    """
    _need(dataset, [column], "compute_avisit_map")
    key = dataset[column].astype(object).where(dataset[column].notna(), "").astype(str)
    names = {str(k): str(v[0]) for k, v in mapping.items()}
    nums = {str(k): float(v[1]) for k, v in mapping.items()}
    return pd.DataFrame(
        {
            "AVISIT": key.map(names).fillna(unmapped).astype(object),
            "AVISITN": key.map(nums).astype("float64"),
        },
        index=dataset.index,
    )


def compute_avisit_windows(
    dataset: pd.DataFrame, day: str, windows: Sequence[Mapping]
) -> pd.DataFrame:
    """Compute AVISIT, AVISITN, AWLO, AWHI and AWTARGET from study-day windows.

    Each record gets the window with ``lo`` <= day <= ``hi``; a day outside all windows stays
    blank (missing numbers). Overlapping windows raise ValueError.

    Args:
        dataset: the records.
        day: the study-day variable (e.g. ``"ADY"``).
        windows: one mapping per window with keys ``AVISIT``, ``AVISITN``, ``lo``, ``hi``
            and optionally ``target`` (default: ``lo``).

    Returns:
        A frame aligned with ``dataset``: AVISIT, AVISITN, AWLO, AWHI, AWTARGET.

    Example:
        >>> import pandas as pd
        >>> df = pd.DataFrame({"ADY": [1, 13, 30]})
        >>> windows = [
        ...     {"AVISIT": "Baseline", "AVISITN": 0, "lo": -7, "hi": 1, "target": 1},
        ...     {"AVISIT": "Week 2", "AVISITN": 2, "lo": 2, "hi": 21, "target": 15},
        ... ]
        >>> out = compute_avisit_windows(df, "ADY", windows)
        >>> out["AVISIT"].tolist()
        ['Baseline', 'Week 2', '']
        >>> out[["AVISITN", "AWLO", "AWHI", "AWTARGET"]].values.tolist()
        [[0.0, -7.0, 1.0, 1.0], [2.0, 2.0, 21.0, 15.0], [nan, nan, nan, nan]]
    """
    _need(dataset, [day], "compute_avisit_windows")
    spans = sorted(((float(w["lo"]), float(w["hi"]), w) for w in windows), key=lambda t: t[:2])
    for (_lo1, hi1, w1), (lo2, _hi2, w2) in zip(spans, spans[1:], strict=False):
        if lo2 <= hi1:
            raise ValueError(
                f"compute_avisit_windows: windows {w1['AVISIT']} and {w2['AVISIT']} overlap"
            )
    out = pd.DataFrame(
        {"AVISIT": "", "AVISITN": np.nan, "AWLO": np.nan, "AWHI": np.nan, "AWTARGET": np.nan},
        index=dataset.index,
    ).astype({"AVISIT": object})
    days = dataset[day].to_numpy(dtype="float64")
    for lo, hi, w in spans:  # one pass per window, vectorised over records
        hit = (days >= lo) & (days <= hi)
        out.loc[hit, ["AVISITN", "AWLO", "AWHI", "AWTARGET"]] = [
            float(w["AVISITN"]),
            lo,
            hi,
            float(w.get("target", lo)),
        ]
        out.loc[hit, "AVISIT"] = str(w["AVISIT"])
    return out


def compute_anl_flag(
    dataset: pd.DataFrame,
    by: Sequence[str],
    rule: str = "closest",
    day: str = "ADY",
    target: str = "AWTARGET",
    value: str = "AVAL",
) -> pd.Series:
    """Compute an analysis flag (ANLzzFL): Y on one record with a value per ``by`` group.

    ``closest``: the nearest ``day`` to ``target``; equally near, the earlier day wins; the same
    day, the first record in the data. ``first`` / ``last``: the earliest / latest day.

    Args:
        dataset: the records.
        by: the grouping variables (e.g. ``["USUBJID", "PARAMCD", "AVISITN"]``); a record
            with a missing ``by`` value is never flagged.
        rule: ``"closest"``, ``"first"`` or ``"last"``; default ``"closest"``.
        day: the study-day variable; default ``"ADY"``.
        target: the target-day variable (``closest`` only); default ``"AWTARGET"``.
        value: the variable that must be non-missing; default ``"AVAL"``.

    Returns:
        A text series aligned with ``dataset``: ``"Y"`` or ``""``.

    Example:
        >>> import pandas as pd
        >>> df = pd.DataFrame({"USUBJID": ["1", "1", "1"], "AVISITN": [2.0, 2.0, 2.0],
        ...                    "ADY": [12, 18, 16], "AWTARGET": [15.0, 15.0, 15.0],
        ...                    "AVAL": [5.0, 6.0, None]})
        >>> compute_anl_flag(df, ["USUBJID", "AVISITN"]).tolist()
        ['Y', '', '']
    """
    if rule not in ("closest", "first", "last"):
        raise ValueError(f"compute_anl_flag: rule must be closest, first or last ({rule!r})")
    cols = [*by, day, value] + ([target] if rule == "closest" else [])
    _need(dataset, cols, "compute_anl_flag")
    frame = dataset[cols].copy()
    frame["_pos"] = np.arange(len(frame))
    frame = frame[frame[value].notna() & frame[list(by)].notna().all(axis=1)]
    if rule == "closest":
        frame["_key"] = (frame[day] - frame[target]).abs()
        order = [*by, "_key", day, "_pos"]
    else:
        frame["_key"] = frame[day] if rule == "first" else -frame[day]
        order = [*by, "_key", "_pos"]
    first = frame.sort_values(order, kind="stable").groupby(list(by), sort=False).head(1)
    flag = np.full(len(dataset), "", dtype=object)
    flag[first["_pos"].to_numpy()] = "Y"
    return pd.Series(flag, index=dataset.index, dtype=object)


def derive_extreme_records(
    dataset: pd.DataFrame,
    by: Sequence[str],
    order: Sequence[str],
    select: pd.Series,
    mode: str,
    set_values: Mapping[str, str | int | float | bool | None],
) -> pd.DataFrame:
    """Add copies of the first or last selected record per group with some values set.

    For example an end-of-treatment analysis visit from the last on-treatment visit.

    Args:
        dataset: the records.
        by: the grouping variables (e.g. ``["USUBJID", "PARAMCD"]``).
        order: the variables ordering records within a group (ties keep data order).
        select: a boolean series (aligned with ``dataset``) choosing the candidate records.
        mode: ``"first"`` or ``"last"``.
        set_values: variable -> value set on each copy.

    Returns:
        The new records only (a fresh 0-based index), one per group with a selected record.

    Example:
        >>> import pandas as pd
        >>> df = pd.DataFrame({"USUBJID": ["1", "1", "2"],
        ...                    "AVISIT": ["Week 2", "Week 4", "Week 2"],
        ...                    "ADY": [15, 29, 14], "AVAL": [5.0, 6.0, 7.0]})
        >>> out = derive_extreme_records(df, ["USUBJID"], ["ADY"], df["AVAL"].notna(), "last",
        ...                              {"AVISIT": "End of Treatment"})
        >>> out.values.tolist()
        [['1', 'End of Treatment', 29, 6.0], ['2', 'End of Treatment', 14, 7.0]]
    """
    if mode not in ("first", "last"):
        raise ValueError(f"derive_extreme_records: mode must be first or last ({mode!r})")
    _need(dataset, [*by, *order], "derive_extreme_records")
    frame = dataset[select.to_numpy()]
    frame = frame.sort_values([*by, *order], kind="stable")
    pick = (
        frame.groupby(list(by), sort=False).tail(1)
        if mode == "last"
        else frame.groupby(list(by), sort=False).head(1)
    )
    new = pick.copy()
    for var, val in set_values.items():
        new[str(var)] = val
    return new.reset_index(drop=True)
