"""The review page's numbers, computed from ADaM datasets only (vectorised pandas).

Responder and laboratory tables are those of ``cdisc-umsc report`` (cdisc_umsc.report), so the
page and the report cannot disagree; the rest (trajectories, safety) are defined here.
"""

from __future__ import annotations

import pandas as pd

from cdisc_umsc.core.errors import InputError
from cdisc_umsc.report.efficacy import efficacy_table
from cdisc_umsc.report.labs import lab_table, paired, responders

RANGE_ORDER = ("LOW", "NORMAL", "HIGH")
SEVERITY_ORDER = ("MILD", "MODERATE", "SEVERE")
MISSING = "(missing)"


def _need(df: pd.DataFrame, name: str, columns: tuple[str, ...]) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InputError(
            f"{name}: variable {missing[0]} is missing; the review page needs {', '.join(columns)}"
        )


def _ordered(values: pd.Series, first: tuple[str, ...]) -> list[str]:
    """Known categories in their clinical order, then any others alphabetically."""
    seen = set(values.astype(str))
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
    return lab_table(lab, tests, resp, panel["dataset"]), paired(lab, tests, resp)


def ae_counts(ae: pd.DataFrame, adsl: pd.DataFrame, source: str) -> tuple[pd.DataFrame, int]:
    """Body system x severity: subjects with an event, and events; plus the safety set N."""
    sev = "ASEV" if "ASEV" in ae.columns else "AESEV"
    _need(ae, source, ("USUBJID",))
    _need(adsl, "ADSL", ("USUBJID", "SAFFL"))
    n_safety = int((adsl["SAFFL"] == "Y").sum())
    data = ae[ae["USUBJID"].isin(adsl.loc[adsl["SAFFL"] == "Y", "USUBJID"])].copy()
    # a study that does not code body systems or collect severity still gets its counts
    data["severity"] = (data[sev] if sev in data else pd.Series("", index=data.index)).fillna("")
    data["severity"] = data["severity"].replace("", MISSING)
    soc = data["AEBODSYS"] if "AEBODSYS" in data else pd.Series("", index=data.index)
    data["soc"] = soc.fillna("").replace("", MISSING)
    any_soc = data.assign(soc="Any body system")
    both = pd.concat([any_soc, data, any_soc.assign(severity="Any"), data.assign(severity="Any")])
    table = (
        both.groupby(["soc", "severity"])
        .agg(subjects=("USUBJID", "nunique"), events=("USUBJID", "size"))
        .reset_index()
    )
    table["pct"] = (100 * table["subjects"] / n_safety).round(1) if n_safety else 0.0
    return table, n_safety


def lab_shifts(adlb: pd.DataFrame, name: str = "ADLB") -> pd.DataFrame:
    """Post-baseline records (ADT > TRTSDT) per parameter by baseline (BNRIND) and analysis
    (ANRIND) reference-range category. BNRIND, where the dataset lacks it, is the ANRIND of the
    subject's baseline record (ADaMIG 1.3, BDS: BNRIND is ANRIND where ABLFL = "Y")."""
    _need(adlb, name, ("USUBJID", "PARAMCD", "PARAM", "ANRIND", "ABLFL", "ADT", "TRTSDT"))
    data = adlb
    if "BNRIND" not in data.columns:
        base = data[data["ABLFL"] == "Y"].set_index(["USUBJID", "PARAMCD"])["ANRIND"]
        keys = pd.MultiIndex.from_frame(data[["USUBJID", "PARAMCD"]])
        data = data.assign(BNRIND=base.reindex(keys).to_numpy())
    post = data[data["ADT"] > data["TRTSDT"]]
    post = post.assign(
        BNRIND=post["BNRIND"].fillna("").replace("", MISSING),
        ANRIND=post["ANRIND"].fillna("").replace("", MISSING),
    )
    counts = post.groupby(["PARAMCD", "PARAM", "BNRIND", "ANRIND"]).size()
    return counts.rename("records").reset_index()
