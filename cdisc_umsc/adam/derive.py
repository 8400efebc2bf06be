"""ADaM derivation library: pure functions in verb families, named as the ADaM spec names them.

Every function takes the dataset first and returns a new frame (or series); nothing is modified
in place. Arguments are checked and a misuse raises ValueError naming the argument.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from cdisc_umsc.core import iso8601
from cdisc_umsc.core.errors import InputError
from cdisc_umsc.core.formats import SAS_EPOCH
from cdisc_umsc.core.values import distinct_texts
from cdisc_umsc.metadata.specfile import SpecMap


def _need(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what}: missing variable(s) {', '.join(missing)}")


def derive_vars_merged(
    dataset: pd.DataFrame, add: pd.DataFrame, by: Sequence[str], variables: Sequence[str]
) -> pd.DataFrame:
    """Add ``variables`` from ``add`` to ``dataset``, matched on the keys ``by``.

    A left join: every record of ``dataset`` is kept, in order; a record without a match in
    ``add`` gets missing values. ``add`` must be unique by ``by``; a variable of ``variables``
    already in ``dataset`` is replaced.

    Args:
        dataset: the input dataset (e.g. ADLB); must hold the ``by`` variables.
        add: the dataset to take the variables from (e.g. ADSL); unique by ``by``.
        by: the key variables, e.g. ``["USUBJID"]``. No default.
        variables: the variables of ``add`` to add. No default.

    Returns:
        A new frame: ``dataset`` with ``variables`` added.

    Example:
        >>> import pandas as pd
        >>> from cdisc_umsc.adam.derive import derive_vars_merged
        >>> adsl = pd.DataFrame({"USUBJID": ["01", "02"], "TRTSDT": [21915.0, 21920.0]})
        >>> adlb = pd.DataFrame({"USUBJID": ["01", "01", "02", "03"], "AVAL": [1.0, 2.0, 5.0, 7.0]})
        >>> out = derive_vars_merged(adlb, adsl, by=["USUBJID"], variables=["TRTSDT"])
        >>> out["TRTSDT"].tolist()
        [21915.0, 21915.0, 21920.0, nan]
    """
    _need(dataset, by, "derive_vars_merged dataset")
    _need(add, [*by, *variables], "derive_vars_merged add")
    if add.duplicated(list(by)).any():
        raise ValueError(f"derive_vars_merged: add is not unique by {', '.join(by)}")
    keep = [v for v in variables if v not in by]
    right = add[[*by, *keep]]
    base = dataset.drop(columns=[v for v in keep if v in dataset.columns])
    at = _key_rows(dataset, right, by)
    if at is None:
        return base.merge(right, on=list(by), how="left", validate="many_to_one")
    out = base.reset_index(drop=True)  # as the join gives it: every record, in order
    for key in by:  # a text key held as str on one side and object on the other is object
        if out[key].dtype != right[key].dtype:
            out[key] = out[key].astype(object)
    for v in keep:
        out[v] = right[v].take(at).set_axis(out.index)
    return out


def _key_rows(dataset: pd.DataFrame, add: pd.DataFrame, by: Sequence[str]) -> np.ndarray | None:
    """The row of ``add`` (unique by ``by``) each record of ``dataset`` matches, when the keys
    are text without blanks and every record has a match (the usual case: records of ADSL
    subjects); else None (also for no records), for the join to work it out. Each key is
    factorized once."""
    if not len(dataset):
        return None
    left, right = np.zeros(len(dataset), dtype=np.int64), np.zeros(len(add), dtype=np.int64)
    known, span = np.ones(len(add), dtype=bool), 1
    for key in by:
        if {str(dataset[key].dtype), str(add[key].dtype)} - {"str", "object"}:
            return None
        found = distinct_texts(dataset[key])
        if found is None or (found[0] < 0).any() or distinct_texts(add[key]) is None:
            return None
        codes, texts = found
        width = max(len(texts) - 1, 1)
        span *= width
        if span > 2**62:
            return None
        theirs = pd.Index(texts[:-1], dtype=object).get_indexer(add[key].to_numpy(dtype=object))
        known &= theirs >= 0  # a key value no record has: that row matches none
        left, right = left * width + codes, right * width + np.maximum(theirs, 0)
    if span <= 4 * (len(left) + len(right)):  # few key combinations: a table of them
        table = np.full(span, -1, dtype=np.intp)
        table[right[known]] = np.flatnonzero(known)
        rows = table[left]
    else:
        at = pd.Index(right[known]).get_indexer(pd.Index(left))
        rows = np.append(np.flatnonzero(known), -1)[at]  # -1 (no match) stays -1
    return None if (rows < 0).any() else rows


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
    """Add ``new_var``: a summary (count, sum, min, max, mean) of ``add`` per ``by`` group.

    ``count`` is the number of records (of non-missing ``source_var`` when given); ``sum``,
    ``min``, ``max`` and ``mean`` summarise the non-missing values of the numeric
    ``source_var``. A group without records gets 0 for ``count`` and ``sum`` (nothing
    counted or added) and a missing value for the others; a group whose values are all
    missing gets a missing value (0 for ``count``).

    Args:
        dataset: the input dataset (e.g. ADSL); must hold the ``by`` variables.
        add: the records to summarise (e.g. AE); must hold ``by`` and ``source_var``.
        by: the grouping variables, e.g. ``["USUBJID"]``. No default.
        new_var: the name of the variable to add. No default.
        fun: one of :data:`SUMMARIES`: ``count``, ``sum``, ``min``, ``max``, ``mean``. No default.
        source_var: the variable of ``add`` to summarise; required unless ``fun`` is
            ``count``. Default ``None`` (``count`` counts records).

    Returns:
        A new frame: ``dataset`` with ``new_var`` (float64) added.

    Example:
        >>> import pandas as pd
        >>> from cdisc_umsc.adam.derive import derive_var_merged_summary
        >>> adsl = pd.DataFrame({"USUBJID": ["01", "02", "03"]})
        >>> ae = pd.DataFrame({"USUBJID": ["01", "01", "02"], "AESEQ": [1, 2, 1]})
        >>> out = derive_var_merged_summary(adsl, ae, by=["USUBJID"], new_var="AECNT", fun="count")
        >>> out["AECNT"].tolist()
        [2.0, 1.0, 0.0]
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
    """Body mass index in kg/m2 from height in cm and weight in kg: weight / (height/100)^2.

    Missing where either is missing or not numeric, or the height is not positive.

    Args:
        height: height in cm (numeric or numeric text). No default.
        weight: weight in kg (numeric or numeric text). No default.

    Returns:
        The BMI as a float64 series, index of ``height``.

    Example:
        >>> import pandas as pd
        >>> from cdisc_umsc.adam.derive import compute_bmi
        >>> height = pd.Series([200.0, 180.0, 0.0])
        >>> weight = pd.Series([100.0, None, 70.0])
        >>> compute_bmi(height, weight).tolist()
        [25.0, nan, nan]
    """
    h = pd.to_numeric(height, errors="coerce").astype("float64") / 100
    w = pd.to_numeric(weight, errors="coerce").astype("float64")
    return (w / h**2).where(h > 0).astype("float64")


def compute_dt(dtc: pd.Series) -> pd.Series:
    """Numeric SAS date (days since 1960-01-01) of the complete date part of ISO 8601 text.

    A time part is ignored; a partial or blank date gives a missing value (no imputation,
    see :func:`cdisc_umsc.adam.dates.compute_dt_imputed`).

    Args:
        dtc: ISO 8601 date or date-time text (e.g. --DTC). No default.

    Returns:
        The date as a float64 series of SAS days.

    Example:
        >>> import pandas as pd
        >>> from cdisc_umsc.adam.derive import compute_dt
        >>> compute_dt(pd.Series(["2020-01-01T08:30", "2020-01", ""])).tolist()
        [21915.0, nan, nan]
    """
    d = iso8601.date_part(dtc)
    return ((d - SAS_EPOCH).dt.days).astype("float64")


def compute_ady(adt: pd.Series, trtsdt: pd.Series) -> pd.Series:
    """Analysis relative day: ADT - TRTSDT + 1 on or after, ADT - TRTSDT before (no day 0).

    Args:
        adt: the analysis date (SAS days). No default.
        trtsdt: the treatment start date (SAS days), aligned with ``adt``. No default.

    Returns:
        ADY as a series (missing where either date is missing).

    Example:
        >>> import pandas as pd
        >>> from cdisc_umsc.adam.derive import compute_ady
        >>> adt = pd.Series([21914.0, 21915.0, 21920.0])
        >>> trtsdt = pd.Series([21915.0, 21915.0, 21915.0])
        >>> compute_ady(adt, trtsdt).tolist()
        [-1.0, 1.0, 6.0]
    """
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

    Ties on the same date are resolved by the ``order`` variables (the last record wins;
    then the last in dataset order). Records where ``exclude`` is true are never baseline
    (e.g. timed after the first dose).

    Args:
        dataset: the input dataset, holding ``by``, ``value``, ``date``, ``reference`` and
            ``order``.
        by: the grouping variables, e.g. ``["USUBJID", "PARAMCD"]``. No default.
        value: the analysis value that must be present, e.g. ``"AVAL"``. No default.
        date: the record's date, e.g. ``"ADT"``. No default.
        reference: the date baseline must not be after, e.g. ``"TRTSDT"``. No default.
        order: variables that order records on the same date. Default ``()``.
        exclude: a boolean mask (aligned with ``dataset``) of records that cannot be
            baseline. Default ``None`` (none excluded).

    Returns:
        A text series: ``"Y"`` on the baseline record of each group, ``""`` elsewhere.

    Example:
        >>> import pandas as pd
        >>> from cdisc_umsc.adam.derive import compute_ablfl
        >>> adlb = pd.DataFrame(
        ...     {
        ...         "USUBJID": ["01", "01", "01", "01"],
        ...         "AVAL": [10.0, None, 12.0, 15.0],
        ...         "ADT": [1.0, 2.0, 2.0, 5.0],
        ...         "TRTSDT": [2.0, 2.0, 2.0, 2.0],
        ...     }
        ... )
        >>> compute_ablfl(adlb, ["USUBJID"], value="AVAL", date="ADT", reference="TRTSDT").tolist()
        ['', '', 'Y', '']
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
    """The ``value`` of the group's baseline record, on every record (BASE from AVAL ...).

    BASE from AVAL, BNRIND from ANRIND and so on: numeric values stay numeric (missing
    where the group has no baseline), text is blank where absent. More than one baseline
    record per group is an error.

    Args:
        dataset: the input dataset, holding ``by``, ``value`` and ``flag``.
        by: the grouping variables, e.g. ``["USUBJID", "PARAMCD"]``. No default.
        value: the variable to carry from the baseline record. Default ``"AVAL"``.
        flag: the baseline flag variable (``"Y"`` marks baseline). Default ``"ABLFL"``.

    Returns:
        A series aligned with ``dataset``: float64 for a numeric ``value``, text otherwise.

    Example:
        >>> import pandas as pd
        >>> from cdisc_umsc.adam.derive import compute_base
        >>> adlb = pd.DataFrame(
        ...     {"USUBJID": ["01", "01", "02"], "AVAL": [10.0, 12.0, 9.0], "ABLFL": ["Y", "", ""]}
        ... )
        >>> compute_base(adlb, by=["USUBJID"]).tolist()
        [10.0, 10.0, nan]
    """
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
    """CHG = AVAL - BASE on post-baseline records (null on baseline and before).

    The difference is taken in exact integers at the parameter's precision, so no
    floating-point residue (11.5 - 6.9 is -4.6, not -4.6000000000000005).

    Args:
        dataset: the input dataset, holding AVAL and BASE.
        post: a boolean mask (aligned with ``dataset``) of post-baseline records. No default.
        decimals: the parameter's number of decimals. No default.

    Returns:
        CHG as a float64 series.

    Example:
        >>> import pandas as pd
        >>> from cdisc_umsc.adam.derive import compute_chg
        >>> adlb = pd.DataFrame({"AVAL": [11.5, 6.9, 8.0], "BASE": [11.5, 11.5, 0.0]})
        >>> compute_chg(adlb, pd.Series([False, True, True]), decimals=1).tolist()
        [nan, -4.6, 8.0]
    """
    a, b = _scaled(dataset["AVAL"], decimals), _scaled(dataset["BASE"], decimals)
    chg = (a - b).astype("float64") / 10**decimals
    return chg.where(post, np.nan).astype("float64")


def compute_pchg(dataset: pd.DataFrame, post: pd.Series, decimals: int) -> pd.Series:
    """PCHG = 100 x CHG / BASE from values exact at the parameter's precision; null if BASE is 0.

    Args:
        dataset: the input dataset, holding AVAL and BASE.
        post: a boolean mask (aligned with ``dataset``) of post-baseline records; others get
            null. No default.
        decimals: the parameter's number of decimals. No default.

    Returns:
        PCHG as a float64 series.

    Example:
        >>> import pandas as pd
        >>> from cdisc_umsc.adam.derive import compute_pchg
        >>> adlb = pd.DataFrame({"AVAL": [11.5, 6.9, 8.0], "BASE": [11.5, 11.5, 0.0]})
        >>> compute_pchg(adlb, pd.Series([False, True, True]), decimals=1).tolist()
        [nan, -40.0, nan]
    """
    a, b = _scaled(dataset["AVAL"], decimals), _scaled(dataset["BASE"], decimals)
    pchg = (100 * (a - b)).astype("float64") / b.astype("float64")
    return pchg.where(post & (b != 0).fillna(False), np.nan).astype("float64")


def compute_crit_improvement(dataset: pd.DataFrame, percent: float, decimals: int) -> pd.Series:
    """Y/N: improvement from baseline >= ``percent`` %, i.e. (BASE - AVAL) x 100 >= percent x BASE.

    Compared in exact integer arithmetic at the parameter's precision, so a result exactly on
    the boundary (BASE 11.5, AVAL 6.9 = 40 %) is classified without a floating-point flip.
    A BASE of 0 or less is N; blank where AVAL or BASE is missing.

    Args:
        dataset: the input dataset, holding AVAL and BASE.
        percent: the improvement threshold in percent, e.g. ``75``. No default.
        decimals: the parameter's number of decimals. No default.

    Returns:
        A text series of ``"Y"``, ``"N"`` or ``""``.

    Example:
        >>> import pandas as pd
        >>> from cdisc_umsc.adam.derive import compute_crit_improvement
        >>> adqs = pd.DataFrame({"AVAL": [6.9, 7.0, None], "BASE": [11.5, 11.5, 11.5]})
        >>> compute_crit_improvement(adqs, percent=40, decimals=1).tolist()
        ['Y', 'N', '']
    """
    a, b = _scaled(dataset["AVAL"], decimals), _scaled(dataset["BASE"], decimals)
    pct = int(round(percent * 1000))
    ok = ((b - a) * 100 * 1000 >= pct * b) & (b > 0)
    known = a.notna() & b.notna()
    return pd.Series(
        np.where(known, np.where(ok.fillna(False), "Y", "N"), ""), index=dataset.index, dtype=object
    )


def compute_crit_in(dataset: pd.DataFrame, values: Sequence[float]) -> pd.Series:
    """Y/N: AVAL is one of ``values`` (blank where AVAL is missing).

    Args:
        dataset: the input dataset, holding AVAL.
        values: the values that meet the criterion, e.g. ``[0, 1]``. No default.

    Returns:
        A text series of ``"Y"``, ``"N"`` or ``""``.

    Example:
        >>> import pandas as pd
        >>> from cdisc_umsc.adam.derive import compute_crit_in
        >>> adqs = pd.DataFrame({"AVAL": [0.0, 1.0, 3.0, None]})
        >>> compute_crit_in(adqs, [0, 1]).tolist()
        ['Y', 'Y', 'N', '']
    """
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
    It is a copy of the baseline record with ABLFL blank and the date, day and source
    variables (ADT, ADTM, ADY, SRCSEQ; ATMF, SRCDOM, SRCVAR) cleared where present.

    Args:
        dataset: the BDS dataset, holding ``by``, AVISITN, ABLFL and AVAL (and USUBJID).
        subjects: the subjects to impute for (e.g. the analysis set), holding USUBJID.
        by: the grouping variables, e.g. ``["USUBJID", "PARAMCD"]``. No default.
        visit: the AVISIT of the new records, e.g. ``"WEEK 12"``. No default.
        visitn: the AVISITN of the visit. No default.
        dtype: the DTYPE of the new records, e.g. ``"BLOCF"``. No default.

    Returns:
        A new frame of only the new records (columns of ``dataset`` plus DTYPE).

    Example:
        >>> import pandas as pd
        >>> from cdisc_umsc.adam.derive import derive_param_imputed
        >>> adqs = pd.DataFrame(
        ...     {
        ...         "USUBJID": ["01", "01", "02"],
        ...         "PARAMCD": ["SCORE", "SCORE", "SCORE"],
        ...         "AVISIT": ["BASELINE", "WEEK 12", "BASELINE"],
        ...         "AVISITN": [0.0, 12.0, 0.0],
        ...         "ABLFL": ["Y", "", "Y"],
        ...         "AVAL": [20.0, 4.0, 18.0],
        ...     }
        ... )
        >>> subjects = pd.DataFrame({"USUBJID": ["01", "02"]})
        >>> new = derive_param_imputed(
        ...     adqs, subjects, ["USUBJID", "PARAMCD"], "WEEK 12", 12.0, "BLOCF"
        ... )
        >>> new.values.tolist()
        [['02', 'SCORE', 'WEEK 12', 12.0, '', 18.0, 'BLOCF']]
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


def copied(spec: SpecMap, source: pd.DataFrame, name: str) -> list[str]:
    """The ``copy:`` variables of a dataset spec; a one-line error at ``copy:`` naming the
    first one the source dataset lacks.

    Args:
        spec: the ADaM dataset spec (its ``copy:`` list).
        source: the SDTM dataset copied from.
        name: the source's name, for the message.

    Returns:
        The variable names, in spec order.

    Example:
        >>> import pandas as pd
        >>> from cdisc_umsc.adam.derive import copied
        >>> from cdisc_umsc.metadata.specfile import SpecMap
        >>> copied(SpecMap(copy=["USUBJID", "AGE"]), pd.DataFrame(columns=["USUBJID", "AGE"]), "DM")
        ['USUBJID', 'AGE']
    """
    names = [str(c) for c in spec.get("copy") or []]
    absent = [c for c in names if c not in source.columns]
    if absent:
        raise InputError(
            f"{spec.where('copy')}: copy: {name} has no variable {absent[0]} (the SDTM spec "
            f"maps no {name}.{absent[0]}, or the {name} dataset lacks it)"
        )
    return names
