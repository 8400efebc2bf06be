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
    """AVISIT/AVISITN from the values of ``column`` (e.g. VISIT); an unmapped value gets
    AVISIT ``unmapped`` (default blank) and no AVISITN."""
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
    """AVISIT, AVISITN, AWLO, AWHI, AWTARGET from the window (``lo`` <= day <= ``hi``) that
    holds each record's study day. Windows must not overlap; a day outside all stays blank."""
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
    """Y on one record per ``by`` group (e.g. subject, parameter, AVISITN) with a value.

    ``closest``: nearest ``day`` to ``target``; equally near, the earlier day wins; the same day,
    the first record in the data. ``first`` / ``last``: the earliest / latest day.
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
    """Copies of the first or last selected record per ``by`` group with ``set_values``
    (e.g. an end-of-treatment analysis visit from the last on-treatment visit)."""
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
