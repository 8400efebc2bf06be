"""The review page's numbers, computed from ADaM datasets only (vectorised pandas).

Responder and laboratory tables are those of ``cdisc-umsc report`` (cdisc_umsc.report), so the
page and the report cannot disagree; the rest (trajectories, safety) are defined here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdisc_umsc.core.errors import InputError
from cdisc_umsc.metadata import standards
from cdisc_umsc.report.efficacy import efficacy_table, percent
from cdisc_umsc.report.labs import lab_table, paired, responders

#: Display order of the reference range indicator (CT C78736); NORMAL is the in-range term.
RANGE_ORDER = ("LOW", "NORMAL", "HIGH")
NORMAL = "NORMAL"
MISSING = "(missing)"
NO_POST = "(no post-baseline value)"
ANY_SOC = "Any adverse event"
ANY = "Any"
#: Severity variable -> its numeric companion (ADaM OCCDS ASEVN; AESEVN where a study adds it).
SEVERITY_N = {"ASEV": "ASEVN", "AESEV": "AESEVN"}


def _need(df: pd.DataFrame, name: str, columns: tuple[str, ...]) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InputError(
            f"{name}: variable {missing[0]} is missing; the review page needs {', '.join(columns)}"
        )


def _ordered(values: pd.Series, first: tuple[str, ...]) -> list[str]:
    """Known categories in their clinical order, then any others alphabetically."""
    seen = set(values.astype(str).unique())
    return [v for v in first if v in seen] + sorted(seen - set(first))


def efficacy(bds: pd.DataFrame, endpoint: dict) -> pd.DataFrame:
    """The report's responder table for one endpoint dataset of the plan."""
    return efficacy_table(bds, endpoint["by"], endpoint["population"], endpoint["dataset"])


def first_criterion(endpoint: dict, paramcd: str) -> dict | None:
    """The parameter's first declared criterion (CRIT, text), which colours its plots."""
    crits = endpoint["criteria"].get(paramcd) or []
    return min(crits, key=lambda c: c["CRIT"]) if crits else None


def trajectories(bds: pd.DataFrame, paramcd: str, endpoint: dict) -> pd.DataFrame:
    """Observed (DTYPE blank) records of ``paramcd`` per subject and analysis visit, with
    responder status by the parameter's first criterion and the compared group."""
    _need(
        bds,
        endpoint["dataset"],
        ("USUBJID", "PARAMCD", "PARAM", "AVISIT", "AVISITN", "AVAL", "PCHG", "DTYPE"),
    )
    obs = bds[
        (bds["PARAMCD"] == paramcd)
        & (bds["DTYPE"].fillna("") == "")
        & bds["AVAL"].notna()
        & bds["AVISITN"].notna()
    ]
    compare = endpoint.get("compare") or ""
    keep = [
        "USUBJID",
        "AVISITN",
        "AVISIT",
        "AVAL",
        "PCHG",
        "PARAM",
        *(["ADY"] if "ADY" in bds.columns else []),
        *([compare] if compare else []),
    ]
    obs = obs[keep].copy()
    obs["group"] = obs[compare].astype(str) if compare else "Overall"
    crit = first_criterion(endpoint, paramcd)
    if crit is None:
        obs["responder"] = False
    else:
        status = responders(bds, paramcd, crit["CRIT"], endpoint["dataset"])
        obs["responder"] = obs["USUBJID"].map(status).fillna(False).astype(bool)
    return obs.sort_values(["USUBJID", "AVISITN"], ignore_index=True)


def pchg_by_visit(traj: pd.DataFrame) -> pd.DataFrame:
    """Per compared group and analysis visit with a percent change: n, mean and SD of PCHG."""
    post = traj[traj["PCHG"].notna()]
    stats = post.groupby(["group", "AVISITN", "AVISIT"], sort=True)["PCHG"].agg(
        ["count", "mean", "std"]
    )
    return stats.rename(columns={"count": "n", "std": "sd"}).reset_index()


def lab_panel(lab: pd.DataFrame, panel: dict, resp: pd.Series | None) -> tuple:
    """(the medians table, the per-subject pairs) of one laboratory panel of the plan."""
    tests = list(panel["parameters"])
    pairs = paired(lab, tests, resp)
    return lab_table(lab, tests, resp, panel["dataset"], pairs), pairs


def visit_days(records: pd.DataFrame, tv: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per analysis visit of ``records`` (AVISITN, AVISIT): the nominal study day it is plotted
    at and where that day comes from (``source``):

    - ``VISITDY``: the planned study day of the trial design (SDTMIG 3.4 section 7.3.1, TV
      VISITDY) when the analysis visit is a TV visit (AVISIT = VISIT and AVISITN = VISITNUM)
      that has one;
    - ``ADY``: else the median analysis relative day (ADaMIG 1.3 ADY) of the visit's records,
      the day the visit typically took place where the design gives no single planned day
      (a schedule relative to the last dose, or by dose group);
    - ``AVISITN``: when neither exists for every visit, all visits are placed at their
      AVISITN (so no axis mixes days with visit numbers).
    """
    visits = (
        records.dropna(subset=["AVISITN"])
        .drop_duplicates("AVISITN")
        .sort_values("AVISITN")[["AVISITN", "AVISIT"]]
        .reset_index(drop=True)
    )
    visits["AVISIT"] = visits["AVISIT"].astype(str)
    day = pd.Series(np.nan, index=visits.index)
    source = pd.Series("", index=visits.index, dtype=object)
    if tv is not None and {"VISIT", "VISITNUM", "VISITDY"} <= set(tv.columns):
        planned = tv.dropna(subset=["VISITDY"]).drop_duplicates(["VISIT", "VISITNUM"])
        planned = planned.assign(VISIT=planned["VISIT"].astype(str))
        hit = visits.merge(
            planned[["VISIT", "VISITNUM", "VISITDY"]],
            how="left",
            left_on=["AVISIT", "AVISITN"],
            right_on=["VISIT", "VISITNUM"],
        )["VISITDY"]
        day = day.fillna(hit.astype(float))
        source = source.mask(hit.notna(), "VISITDY")
    if "ADY" in records.columns:
        median = records.dropna(subset=["ADY"]).groupby("AVISITN")["ADY"].median()
        typical = visits["AVISITN"].map(median).astype(float)
        source = source.mask((source == "") & typical.notna(), "ADY")
        day = day.fillna(typical)
    if day.isna().any():
        day, source = visits["AVISITN"].astype(float), pd.Series("AVISITN", index=visits.index)
    return visits.assign(day=day.to_numpy(dtype=float), source=source.to_numpy())


def _raise_if_many(pairs: pd.DataFrame, key: str, value: str, name: str, why: str) -> None:
    """``pairs`` of (key, value) drop-duplicated: a key with two values is one error."""
    clash = pairs[pairs.duplicated(key, keep=False)]
    if len(clash):
        first = clash[clash[key] == clash[key].iloc[0]]
        raise InputError(
            f"{name}: {key} {clash[key].tolist()[0]!r} has {value} "
            f"{' and '.join(map(repr, first[value].tolist()[:2]))}; {why}"
        )


def severity_ranks(
    ae: pd.DataFrame, name: str, in_use: standards.InUse | None = None
) -> tuple[str, pd.Series]:
    """(the severity variable, its categories -> rank, low to high).

    The variable is ASEV where the dataset has it, else AESEV ("" when neither). The order is
    the data's where the numeric companion exists (ASEVN, ADaM OCCDS; AESEVN), else that of the
    variable's CT codelist (SDTMIG 3.4 AE.AESEV: C66769, whose terms carry their grade as a
    synonym: MILD "1; Grade 1"). A recorded severity neither ranks is an error: the maximum
    severity needs an order."""
    sev = next((v for v in SEVERITY_N if v in ae.columns), "")
    if not sev:
        return "", pd.Series(dtype=float)
    values = ae[sev].fillna("").astype(str)
    recorded = sorted(set(values) - {""})
    numeric = SEVERITY_N[sev]
    if numeric in ae.columns:
        pairs = pd.DataFrame({sev: values, numeric: pd.to_numeric(ae[numeric], errors="coerce")})
        pairs = pairs[(pairs[sev] != "") & pairs[numeric].notna()].drop_duplicates()
        _raise_if_many(pairs, sev, numeric, name, f"{numeric} must rank each {sev} once")
        _raise_if_many(pairs, numeric, sev, name, f"each {numeric} must name one {sev}")
        ranks = pairs.set_index(sev)[numeric].astype(float).sort_values()
        unranked = [v for v in recorded if v not in ranks.index]
        if unranked:
            raise InputError(
                f"{name}: {sev} {unranked[0]!r} has no {numeric}; the maximum severity needs "
                f"{numeric} on every record with a {sev}"
            )
        return sev, ranks
    in_use = in_use or standards.InUse()
    row = standards.ig_variable("SDTMIG", in_use.sdtmig, "AE", "AESEV") or {}
    ct = standards.controlled_terminology("SDTM", in_use.sdtm_ct)
    code = str(row.get("codelist") or "")
    codelist = ct.codelist(code) if code else None
    if codelist is None:
        raise InputError(
            f"{name}: SDTMIG {in_use.sdtmig} AE.AESEV names no codelist in SDTM CT "
            f"{in_use.sdtm_ct}, and {name} has no {numeric}: no order for the maximum severity"
        )
    terms = list(codelist.terms.values())
    grades = [[int(s) for s in t.synonyms if s.isdigit()] for t in terms]
    if all(len(g) == 1 for g in grades):
        ranks = pd.Series([float(g[0]) for g in grades], index=[t.submission_value for t in terms])
    else:  # no grade synonyms: the codelist's published term order
        ranks = pd.Series(
            np.arange(len(terms), dtype=float), index=[t.submission_value for t in terms]
        )
    unranked = [v for v in recorded if v not in ranks.index]
    if unranked:
        raise InputError(
            f"{name}: {sev} {unranked[0]!r} is not a term of codelist {codelist.code} "
            f"({codelist.submission_value}, SDTM CT {in_use.sdtm_ct}) and {name} has no "
            f"{numeric}: no order for the maximum severity"
        )
    return sev, ranks.sort_values(kind="stable")


def ae_analysed(
    ae: pd.DataFrame, adsl: pd.DataFrame, source: str
) -> tuple[pd.DataFrame, int, dict[str, int]]:
    """(the adverse event records the table counts, the safety set N, records not counted by
    reason). Counted: records of subjects in the safety set (ADSL SAFFL = Y) that are
    treatment-emergent (TRTEMFL = Y, ADaM OCCDS) where the dataset has TRTEMFL."""
    _need(ae, source, ("USUBJID",))
    _need(adsl, "ADSL", ("USUBJID", "SAFFL"))
    safety = adsl.loc[adsl["SAFFL"] == "Y", "USUBJID"]
    n_safety = int(safety.nunique())
    emergent = (
        ae["TRTEMFL"].fillna("").eq("Y")
        if "TRTEMFL" in ae.columns
        else pd.Series(True, index=ae.index)
    )
    in_safety = ae["USUBJID"].isin(safety)
    excluded = {
        "not treatment-emergent (TRTEMFL is not Y)": int((~emergent).sum()),
        "of subjects outside the safety set (SAFFL is not Y)": int((emergent & ~in_safety).sum()),
    }
    return ae[emergent & in_safety].copy(), n_safety, excluded


def _column_or_missing(data: pd.DataFrame, names: tuple[str, ...]) -> pd.Series:
    for var in names:
        if var in data.columns:
            return data[var].fillna("").astype(str).replace("", MISSING)
    return pd.Series(MISSING, index=data.index, dtype=object)


def ae_counts(
    ae: pd.DataFrame,
    adsl: pd.DataFrame,
    source: str,
    in_use: standards.InUse | None = None,
) -> tuple[pd.DataFrame, int]:
    """Subjects with adverse events by maximum severity, as FDA safety tables count them; plus
    the safety set N (the denominator).

    Rows (``soc``, ``pt``): any event (soc ANY_SOC, pt ""), each system organ class
    (AEBODSYS, else AESOC; pt "") and each preferred term (AEDECOD) within it. Per row a
    subject is counted once, under the highest severity of their events in that row (ranked by
    severity_ranks); events without a severity do not lower or raise it, and a subject is
    under MISSING only when none of their events in the row records one. ``severity`` ANY is
    the row's subjects with any event; ``events`` is the number of events (of that severity).
    ``severity`` is ordered (categories: the ranked terms, MISSING, ANY); rows come in display
    order: any event, then system organ classes and, within each, preferred terms by
    decreasing subjects, ties by name."""
    data, n_safety, _excluded = ae_analysed(ae, adsl, source)
    sev, ranks = severity_ranks(ae, source, in_use)
    data["severity"] = _column_or_missing(data, (sev,) if sev else ())
    data["rank"] = data["severity"].map(ranks).fillna(-np.inf)
    data["soc"] = _column_or_missing(data, ("AEBODSYS", "AESOC"))
    data["pt"] = _column_or_missing(data, ("AEDECOD",))
    rows = pd.concat(
        [data.assign(soc=ANY_SOC, pt=""), data.assign(pt=""), data], ignore_index=True
    )[["soc", "pt", "USUBJID", "severity", "rank"]]
    key = ["soc", "pt"]
    worst = rows.sort_values([*key, "USUBJID", "rank"], kind="stable").drop_duplicates(
        [*key, "USUBJID"], keep="last"
    )
    by_sev = worst.groupby([*key, "severity"]).size().rename("subjects")
    events = rows.groupby([*key, "severity"]).size().rename("events")
    table = pd.concat([by_sev, events], axis=1).fillna(0).astype(int).reset_index()
    anyrow = rows.groupby(key).agg(subjects=("USUBJID", "nunique"), events=("USUBJID", "size"))
    if anyrow.empty:  # no event in the safety set: the any-event row, with no subject
        anyrow = pd.DataFrame(
            {"subjects": [0], "events": [0]},
            index=pd.MultiIndex.from_tuples([(ANY_SOC, "")], names=key),
        )
    table = pd.concat([table, anyrow.reset_index().assign(severity=ANY)], ignore_index=True)
    table["pct"] = percent(table["subjects"], n_safety) if n_safety else 0.0
    levels = [*ranks.index, *([MISSING] if (data["severity"] == MISSING).any() else []), ANY]
    table["severity"] = pd.Categorical(table["severity"], categories=levels, ordered=True)
    # display order: any event first, then SOCs and PTs by decreasing subjects, ties by name
    n_any = anyrow["subjects"]
    soc_n = n_any[n_any.index.get_level_values("pt") == ""].droplevel("pt")
    table["soc_n"] = table["soc"].map(soc_n)
    # a SOC row's count is at least each of its PTs' and its pt "" sorts first: it leads them
    # pandas-stubs types Index.map's mapper without Series; pandas takes "function, dict, or Series"
    pt_n = pd.MultiIndex.from_frame(table[["soc", "pt"]]).map(n_any)  # type: ignore[arg-type]
    table["pt_n"] = pt_n.to_numpy()
    table["first"] = table["soc"] != ANY_SOC
    table = table.sort_values(
        ["first", "soc_n", "soc", "pt_n", "pt", "severity"],
        ascending=[True, False, True, False, True, True],
        kind="stable",
        ignore_index=True,
    )
    return table.drop(columns=["soc_n", "pt_n", "first"]), n_safety


def _distinct(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``frame.drop_duplicates(columns)``, faster on records sorted by subject: a record equal
    to the one before it in ``columns`` is dropped first (with numpy), so that pandas hashes
    only what is left."""
    repeat = np.ones(len(frame), dtype=bool)
    repeat[:1] = False
    try:
        for col in columns:
            values = frame[col].to_numpy(dtype=object)
            repeat[1:] &= values[1:] == values[:-1]
    except TypeError:  # pd.NA compares to no truth value: no record is dropped first
        repeat[:] = False
    return frame[~repeat].drop_duplicates(columns)


def _one_per_subject(
    pairs: pd.DataFrame, keys: list[str], value: str, name: str, why: str
) -> pd.Series:
    """``value`` per ``keys`` from distinct non-empty values; two is an error."""
    pairs = _distinct(pairs[pairs[value] != ""], [*keys, value])
    clash = pairs[pairs.duplicated(keys, keep=False)]
    if len(clash):
        first = clash.iloc[0]
        both = clash.loc[(clash[keys] == first[keys]).all(axis=1), value].tolist()
        raise InputError(
            f"{name}: {', '.join(f'{k} {first[k]}' for k in keys)} has {value} "
            f"{' and '.join(map(repr, both[:2]))}; {why}"
        )
    return pairs.set_index(keys)[value]


#: the variables a shift table reads (:func:`lab_shifts`), and those it reads where present
SHIFT_VARIABLES = ("USUBJID", "PARAMCD", "PARAM", "ANRIND", "ABLFL", "ADT", "TRTSDT")
SHIFT_OPTIONAL = ("BNRIND",)


def lab_shifts(adlb: pd.DataFrame, name: str = "ADLB") -> pd.DataFrame:
    """Subjects per parameter by baseline reference-range category and worst post-baseline
    category: one count per subject and parameter (``subjects``).

    Baseline (``BNRIND``): the subject's BNRIND, or where the dataset lacks it the ANRIND of
    the baseline record (ADaMIG 1.3 BDS: BNRIND is ANRIND where ABLFL = "Y"); constant per
    subject and parameter, else an error. Worst post-baseline (``worst``), over the records
    with ADT > TRTSDT: the abnormal category reached (any term but NORMAL, CT C78736), two
    reached in both directions joined ("LOW and HIGH"); NORMAL when every recorded one is;
    MISSING when no post-baseline record has a category; NO_POST when the subject has no
    post-baseline record of the parameter. Every subject with a record of the parameter is
    counted."""
    _need(adlb, name, SHIFT_VARIABLES)
    keys = ["USUBJID", "PARAMCD"]
    used = [c for c in (*SHIFT_VARIABLES, *SHIFT_OPTIONAL) if c in adlb.columns]
    data = adlb[used].assign(ANRIND=adlb["ANRIND"].fillna("").astype(str))
    subjects = _distinct(data, keys)[[*keys, "PARAM"]].set_index(keys)
    if "BNRIND" in data.columns:
        pairs = data.assign(BNRIND=data["BNRIND"].fillna("").astype(str))[[*keys, "BNRIND"]]
        base = _one_per_subject(pairs, keys, "BNRIND", name, "BNRIND is one value per subject")
    else:
        pairs = data.loc[data["ABLFL"] == "Y", [*keys, "ANRIND"]]
        base = _one_per_subject(pairs, keys, "ANRIND", name, "one baseline record (ABLFL=Y)")
    post = data[data["ADT"] > data["TRTSDT"]]
    order = {c: i for i, c in enumerate(_ordered(post["ANRIND"], RANGE_ORDER))}
    abnormal = post.loc[~post["ANRIND"].isin(["", NORMAL]), [*keys, "ANRIND"]].drop_duplicates()
    abnormal = abnormal.assign(order=abnormal["ANRIND"].map(order)).sort_values([*keys, "order"])
    reached = abnormal.groupby(keys)["ANRIND"].agg(" and ".join)
    # per subject and parameter with a post-baseline record: whether one of them is NORMAL
    normal = (post["ANRIND"] == NORMAL).groupby([post[k] for k in keys]).any()
    worst = pd.Series(NO_POST, index=subjects.index, dtype=object)
    worst = worst.mask(worst.index.isin(normal.index), MISSING)
    worst = worst.mask(worst.index.isin(normal.index[normal.to_numpy()]), NORMAL)
    worst.loc[reached.index] = reached
    table = subjects.assign(
        BNRIND=base.reindex(subjects.index).fillna("").replace("", MISSING), worst=worst
    )
    counts = table.groupby(["PARAMCD", "PARAM", "BNRIND", "worst"]).size()
    return counts.rename("subjects").reset_index()
