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
from cdisc_umsc.core.values import round_half_away


def derive_param_computed(
    dataset: pd.DataFrame, by: Sequence[str], code: str, value: str, formula: str, decimals: int
) -> pd.DataFrame:
    """Compute a derived parameter: ``formula`` over other parameters' values, one value per group.

    Groups missing any code the formula names get no value (never a partial sum).

    Args:
        dataset: the BDS records to compute from.
        by: grouping variables, one result per group (e.g. ``["USUBJID", "AVISIT"]``).
        code: the variable holding the parameter code (e.g. ``"PARAMCD"``).
        value: the variable holding the value (e.g. ``"AVAL"``).
        formula: an arithmetic expression over codes (see ``cdisc_umsc.core.formula``).
        decimals: decimals to round the result to.

    Returns:
        A frame with the ``by`` columns and ``AVAL``. A formula code without any record
        raises ValueError.

    Example:
        >>> import pandas as pd
        >>> df = pd.DataFrame({"USUBJID": ["1", "1", "2"],
        ...                    "PARAMCD": ["WEIGHT", "HEIGHT", "WEIGHT"],
        ...                    "AVAL": [70.0, 1.75, 80.0]})
        >>> out = derive_param_computed(df, ["USUBJID"], "PARAMCD", "AVAL",
        ...                             "WEIGHT / HEIGHT ** 2", 1)
        >>> out.values.tolist()
        [['1', 22.9]]
    """
    _need(dataset, [*by, code, value], "derive_param_computed")
    parsed = parse_formula(formula)
    names = sorted(parsed.names)
    wide = dataset[dataset[code].isin(names)].pivot_table(
        index=list(by), columns=code, values=value, aggfunc="first"
    )
    absent = [n for n in names if n not in wide.columns]
    if absent:
        raise ValueError(f"derive_param_computed: no records for {', '.join(absent)}")
    result = round_half_away(
        pd.Series(parsed.evaluate({n: wide[n] for n in names}), index=wide.index), int(decimals)
    )
    result = result[wide[names].notna().all(axis=1)]
    return result.rename("AVAL").reset_index()


def derive_param_check(
    computed: pd.DataFrame, collected: pd.DataFrame, by: Sequence[str], tolerance: float
) -> pd.DataFrame:
    """Find groups where a computed parameter disagrees with the collected one.

    Args:
        computed: the computed records, with the ``by`` columns and ``AVAL``.
        collected: the collected records, with the ``by`` columns and ``AVAL``.
        by: the variables matching a computed record to a collected one.
        tolerance: the largest absolute difference still counted as agreement.

    Returns:
        The groups that differ by more than ``tolerance`` or exist on one side only:
        columns ``by``, ``computed``, ``collected``.

    Example:
        >>> import pandas as pd
        >>> computed = pd.DataFrame({"USUBJID": ["1", "2"], "AVAL": [22.9, 25.0]})
        >>> collected = pd.DataFrame({"USUBJID": ["1", "2"], "AVAL": [22.9, 26.0]})
        >>> derive_param_check(computed, collected, ["USUBJID"], 0.1).values.tolist()
        [['2', 25.0, 26.0]]
    """
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
    """Build a responder parameter: a copy of each selected record with AVALC = the flag (Y/N).

    AVAL is 1 for Y and 0 for N; BASE, CHG and PCHG are emptied, and so are the criterion,
    ANLzzFL and ABLFL flags. A selected record whose flag is not Y or N (no decision)
    raises ValueError.

    Args:
        dataset: the BDS records, with ``flag``, PARAMCD, PARAM and AVAL.
        select: a boolean series (aligned with ``dataset``) choosing the records to copy.
        flag: the criterion flag holding the response decision (e.g. ``"CRIT1FL"``).
        paramcd: PARAMCD of the new parameter.
        param: PARAM of the new parameter.

    Returns:
        The new records (a fresh 0-based index).

    Example:
        >>> import pandas as pd
        >>> df = pd.DataFrame({"USUBJID": ["1", "2"], "PARAMCD": ["SBP", "SBP"],
        ...                    "PARAM": ["Systolic BP", "Systolic BP"],
        ...                    "AVAL": [120.0, 150.0], "BASE": [140.0, 145.0],
        ...                    "CRIT1FL": ["Y", "N"]})
        >>> out = derive_param_responder(df, df["PARAMCD"] == "SBP", "CRIT1FL", "RESP", "Responder")
        >>> out[["USUBJID", "PARAMCD", "AVALC", "AVAL", "BASE", "CRIT1FL"]].values.tolist()
        [['1', 'RESP', 'Y', 1.0, nan, ''], ['2', 'RESP', 'N', 0.0, nan, '']]
    """
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


def compute_change_from_previous(
    dataset: pd.DataFrame,
    by: Sequence[str],
    order: Sequence[str],
    select: pd.Series,
    decimals: int | None = None,
) -> pd.Series:
    """Compute the change from the previous record relative to the normal range width.

    (AVAL - AVAL of the previous selected record) / (0.5 x (A1HI - A1LO)) on each selected
    record in ``order`` within ``by``.

    Args:
        dataset: the records, with the ``by`` and ``order`` columns, AVAL, A1LO and A1HI.
        by: the grouping variables (e.g. ``["USUBJID", "PARAMCD"]``).
        order: the variables ordering records within a group (ties keep data order).
        select: a boolean series (aligned with ``dataset``) choosing the records to use.
        decimals: round the result half away from zero to this many decimals;
            default ``None`` (no rounding).

    Returns:
        A float series aligned with ``dataset``: missing on the first selected record of a
        group, on records not selected, and where the range has no width.

    Example:
        >>> import pandas as pd
        >>> df = pd.DataFrame({"USUBJID": ["1", "1", "1"], "ADY": [1, 8, 15],
        ...                    "AVAL": [5.0, 7.0, 4.0], "A1LO": [2.0, 2.0, 2.0],
        ...                    "A1HI": [6.0, 6.0, 6.0]})
        >>> compute_change_from_previous(df, ["USUBJID"], ["ADY"], df["AVAL"].notna()).tolist()
        [nan, 1.0, -1.5]
    """
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
