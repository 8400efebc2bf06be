"""ADaM derivation library: pure functions in verb families, named as the ADaM spec names them.

Every function takes the dataset first and returns a new frame (or series); nothing is modified
in place. Arguments are checked and a misuse raises ValueError naming the argument.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from cdisc_umsc.core import iso8601
from cdisc_umsc.core.formats import SAS_EPOCH


def _need(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what}: missing variable(s) {', '.join(missing)}")


def derive_vars_merged(
    dataset: pd.DataFrame, add: pd.DataFrame, by: Sequence[str], variables: Sequence[str]
) -> pd.DataFrame:
    """Add ``variables`` from ``add`` by the keys ``by`` (``add`` must be unique by ``by``)."""
    _need(dataset, by, "derive_vars_merged dataset")
    _need(add, [*by, *variables], "derive_vars_merged add")
    if add.duplicated(list(by)).any():
        raise ValueError(f"derive_vars_merged: add is not unique by {', '.join(by)}")
    keep = [v for v in variables if v not in by]
    right = add[[*by, *keep]]
    base = dataset.drop(columns=[v for v in keep if v in dataset.columns])
    return base.merge(right, on=list(by), how="left", validate="many_to_one")


#: summary functions of :func:`derive_var_merged_summary`
SUMMARIES = ("count", "sum", "min", "max", "mean")


def derive_var_merged_summary(
    dataset: pd.DataFrame,
    add: pd.DataFrame,
    by: Sequence[str],
    new_var: str,
    fun: str,
    source_var: str | None = None,
) -> pd.DataFrame:
    """Add ``new_var``: a summary of ``add``'s records per ``by`` group.

    ``count`` is the number of records (of non-missing ``source_var`` when given); ``sum``,
    ``min``, ``max`` and ``mean`` summarise the non-missing values of the numeric
    ``source_var``. A group without records gets 0 for ``count`` and ``sum`` (nothing
    counted or added) and a missing value for the others; a group whose values are all
    missing gets a missing value (0 for ``count``).
    """
    if fun not in SUMMARIES:
        raise ValueError(
            f"derive_var_merged_summary: fun must be one of {', '.join(SUMMARIES)}, not {fun!r}"
        )
    if fun != "count" and source_var is None:
        raise ValueError(f"derive_var_merged_summary: {fun} needs source_var")
    _need(dataset, by, "derive_var_merged_summary dataset")
    _need(add, [*by, *([source_var] if source_var else [])], "derive_var_merged_summary add")
    keys = add[list(by)]
    if source_var is None:
        values = pd.Series(1.0, index=add.index)
    else:
        values = add[source_var]
        if values.dtype.kind not in "fiub":
            if fun != "count":
                raise ValueError(
                    f"derive_var_merged_summary: {source_var} is not numeric ({fun} needs numbers)"
                )
            values = values.where(values.astype(object).fillna("").astype(str) != "")
    frame = keys.assign(_v=values.to_numpy(dtype="float64") if fun != "count" else values.notna())
    grouped = frame.groupby(list(by), sort=False)["_v"]
    if fun == "count":
        summary = grouped.sum()
    elif fun == "sum":
        summary = grouped.sum(min_count=1)
    else:
        summary = getattr(grouped, fun)()
    merged = dataset[list(by)].merge(
        summary.rename("_s").reset_index(), on=list(by), how="left", indicator=True
    )
    result = merged["_s"].astype("float64")
    if fun in ("count", "sum"):
        result = result.mask(merged["_merge"] == "left_only", 0.0)
    out = dataset.copy()
    out[new_var] = result.to_numpy()
    return out


def compute_bmi(height: pd.Series, weight: pd.Series) -> pd.Series:
    """Body mass index in kg/m2 from height in cm and weight in kg: weight / (height/100)^2;
    missing where either is missing or the height is not positive."""
    h = pd.to_numeric(height, errors="coerce").astype("float64") / 100
    w = pd.to_numeric(weight, errors="coerce").astype("float64")
    return (w / h**2).where(h > 0).astype("float64")


def compute_dt(dtc: pd.Series) -> pd.Series:
    """Numeric SAS date (days since 1960-01-01) of the complete date part of ISO 8601 text."""
    d = iso8601.date_part(dtc)
    return ((d - SAS_EPOCH).dt.days).astype("float64")


def compute_ady(adt: pd.Series, trtsdt: pd.Series) -> pd.Series:
    """Analysis relative day: ADT - TRTSDT + 1 on or after, ADT - TRTSDT before (no day 0)."""
    delta = adt - trtsdt
    return delta.where(delta < 0, delta + 1)


def compute_ablfl(
    dataset: pd.DataFrame,
    by: Sequence[str],
    value: str,
    date: str,
    reference: str,
    order: Sequence[str] = (),
    exclude: pd.Series | None = None,
) -> pd.Series:
    """ABLFL: the last record with a non-missing ``value`` on or before ``reference``.

    Ties on the same date are resolved by the ``order`` variables (the last record wins).
    Records where ``exclude`` is true are never baseline (e.g. timed after the first dose).
    """
    _need(dataset, [*by, value, date, reference, *order], "compute_ablfl")
    ok = dataset[value].notna() & dataset[date].notna() & (dataset[date] <= dataset[reference])
    if exclude is not None:
        ok &= ~exclude.to_numpy(dtype=bool)
    frame = dataset[[*by, date, *order]].copy()
    frame["_pos"] = np.arange(len(frame))
    cand = frame[ok.to_numpy()].sort_values([*by, date, *order, "_pos"], kind="stable")
    last = cand.groupby(list(by), sort=False)["_pos"].last()
    flag = pd.Series("", index=dataset.index, dtype=object)
    flag.iloc[last.to_numpy()] = "Y"
    return flag


def compute_base(
    dataset: pd.DataFrame, by: Sequence[str], value: str = "AVAL", flag: str = "ABLFL"
) -> pd.Series:
    """The ``value`` of the subject/parameter's baseline record, on every record (BASE from
    AVAL, BNRIND from ANRIND ...); numeric values stay numeric, text is blank where absent."""
    _need(dataset, [*by, value, flag], "compute_base")
    base = dataset.loc[dataset[flag] == "Y", [*by, value]].rename(columns={value: "_base"})
    if base.duplicated(list(by)).any():
        raise ValueError(f"compute_base: more than one {flag} record per {', '.join(by)}")
    merged = dataset[list(by)].merge(base, on=list(by), how="left")
    if dataset[value].dtype.kind in "fiu":
        return pd.Series(merged["_base"].to_numpy(), index=dataset.index, dtype="float64")
    return pd.Series(
        merged["_base"].astype(object).fillna("").to_numpy(), index=dataset.index, dtype=object
    )


def _scaled(values: pd.Series, decimals: int) -> pd.Series:
    """Values as exact integers in units of 10**-decimals (parameter precision)."""
    return (values * 10**decimals).round().astype("Int64")


def compute_chg(dataset: pd.DataFrame, post: pd.Series, decimals: int) -> pd.Series:
    """CHG = AVAL - BASE on post-baseline records (null on baseline and before)."""
    a, b = _scaled(dataset["AVAL"], decimals), _scaled(dataset["BASE"], decimals)
    chg = (a - b).astype("float64") / 10**decimals
    return chg.where(post, np.nan).astype("float64")


def compute_pchg(dataset: pd.DataFrame, post: pd.Series, decimals: int) -> pd.Series:
    """PCHG = 100 x CHG / BASE from values exact at the parameter's precision; null if BASE is 0."""
    a, b = _scaled(dataset["AVAL"], decimals), _scaled(dataset["BASE"], decimals)
    pchg = (100 * (a - b)).astype("float64") / b.astype("float64")
    return pchg.where(post & (b != 0).fillna(False), np.nan).astype("float64")


def compute_crit_improvement(dataset: pd.DataFrame, percent: float, decimals: int) -> pd.Series:
    """Y/N: improvement from baseline >= ``percent`` %, i.e. (BASE - AVAL) x 100 >= percent x BASE.

    Compared in exact integer arithmetic at the parameter's precision, so a result exactly on
    the boundary (BASE 11.5, AVAL 6.9 = 40 %) is classified without a floating-point flip.
    """
    a, b = _scaled(dataset["AVAL"], decimals), _scaled(dataset["BASE"], decimals)
    pct = int(round(percent * 1000))
    ok = ((b - a) * 100 * 1000 >= pct * b) & (b > 0)
    known = a.notna() & b.notna()
    return pd.Series(
        np.where(known, np.where(ok.fillna(False), "Y", "N"), ""), index=dataset.index, dtype=object
    )


def compute_crit_in(dataset: pd.DataFrame, values: Sequence[float]) -> pd.Series:
    """Y/N: AVAL is one of ``values``."""
    known = dataset["AVAL"].notna()
    hit = dataset["AVAL"].isin(list(values))
    return pd.Series(
        np.where(known, np.where(hit, "Y", "N"), ""), index=dataset.index, dtype=object
    )


def derive_param_imputed(
    dataset: pd.DataFrame,
    subjects: pd.DataFrame,
    by: Sequence[str],
    visit: str,
    visitn: float,
    dtype: str,
) -> pd.DataFrame:
    """Records for subjects/parameters without a record at ``visit``: baseline carried forward.

    The new record has AVISIT/AVISITN of the visit, AVAL = BASE and DTYPE = ``dtype``
    (e.g. BLOCF, ADaM CT C81224), so the subject stays in the analysis as a non-responder.
    """
    _need(dataset, [*by, "AVISITN", "ABLFL", "AVAL"], "derive_param_imputed")
    have = dataset.loc[dataset["AVISITN"] == visitn, list(by)].drop_duplicates()
    base = dataset[dataset["ABLFL"] == "Y"]
    need = base.merge(have, on=list(by), how="left", indicator=True)
    need = need[need["_merge"] == "left_only"].drop(columns="_merge")
    need = need[need["USUBJID"].isin(subjects["USUBJID"])]
    new = need.copy()
    new["AVISIT"], new["AVISITN"], new["DTYPE"] = visit, visitn, dtype
    new["ABLFL"] = ""
    for col in ("ADT", "ADTM", "ADY", "SRCSEQ"):
        if col in new:
            new[col] = np.nan
    for col in ("ATMF", "SRCDOM", "SRCVAR"):
        if col in new:
            new[col] = ""
    return new
