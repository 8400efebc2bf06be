"""The review page's numbers, computed from ADaM datasets only (vectorised pandas).

Efficacy and immunology tables are those of ``cdisc-umsc report`` (cdisc_umsc.report), so the
page and the report cannot disagree; the rest (trajectories, safety) are defined here.
"""

from __future__ import annotations

import pandas as pd

from cdisc_umsc.core.errors import InputError
from cdisc_umsc.report.efficacy import efficacy_table
from cdisc_umsc.report.immunology import immunology_table, responders

# The immunology tests of the report's default, in the order (Treg, Th17, CD4 naive,
# CD4 memory, IL-17); short names are the reviewer's words for the ADLB parameters.
IMMUNOLOGY_TESTS = ("TLHRTLH", "TH17TH", "TLHNTH", "TLHMTH", "INTLK17")
SHORT_NAMES = {
    "TLHRTLH": "Treg",
    "TH17TH": "Th17",
    "TLHNTH": "CD4 naive",
    "TLHMTH": "CD4 memory",
    "INTLK17": "IL-17",
}
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


def efficacy(adqs: pd.DataFrame) -> pd.DataFrame:
    """The report's responder table: endpoint x (Overall, SEX, ARM) with n, N, pct."""
    _need(adqs, "ADQS", ("USUBJID", "PARAMCD", "ANL01FL", "FASFL", "SEX", "ARM"))
    return efficacy_table(adqs)


def immunology(adlb: pd.DataFrame, adqs: pd.DataFrame, tests: tuple[str, ...]) -> pd.DataFrame:
    """The report's immunology table (medians) for the tests present in ADLB."""
    return immunology_table(adlb, adqs, list(tests))


def present_tests(adlb: pd.DataFrame, tests: tuple[str, ...] = IMMUNOLOGY_TESTS) -> tuple:
    """The tests of ``tests`` that ADLB carries, in the given order."""
    have = set(adlb["PARAMCD"].astype(str))
    return tuple(t for t in tests if t in have)


def responder_status(adqs: pd.DataFrame) -> pd.Series:
    """USUBJID -> True/False: PASI40 responder on the primary analysis record."""
    return responders(adqs)


def paired_lab(adlb: pd.DataFrame, adqs: pd.DataFrame, tests: tuple[str, ...]) -> pd.DataFrame:
    """Per subject and test: baseline (ABLFL=Y) and last post-baseline value (ADT > TRTSDT),
    with responder status; the same definition as the report's immunology table."""
    _need(adlb, "ADLB", ("USUBJID", "PARAMCD", "PARAM", "AVAL", "ABLFL", "ADT", "TRTSDT"))
    data = adlb[adlb["PARAMCD"].isin(tests) & adlb["AVAL"].notna()]
    base = data[data["ABLFL"] == "Y"].set_index(["USUBJID", "PARAMCD"])["AVAL"]
    post = data[data["ADT"] > data["TRTSDT"]].sort_values(["USUBJID", "PARAMCD", "ADT"])
    last = post.groupby(["USUBJID", "PARAMCD"])["AVAL"].last()
    both = pd.DataFrame({"baseline": base, "last": last}).dropna().reset_index()
    both["responder"] = both["USUBJID"].map(responder_status(adqs)).fillna(False).astype(bool)
    params = data.drop_duplicates("PARAMCD").set_index("PARAMCD")["PARAM"]
    both["PARAM"] = both["PARAMCD"].map(params)
    return both.sort_values(["PARAMCD", "USUBJID"], ignore_index=True)


def trajectories(adqs: pd.DataFrame, paramcd: str = "PASITOT") -> pd.DataFrame:
    """Observed (DTYPE blank) records of ``paramcd`` per subject and analysis visit."""
    _need(
        adqs, "ADQS", ("USUBJID", "PARAMCD", "PARAM", "AVISIT", "AVISITN", "AVAL", "PCHG", "DTYPE")
    )
    obs = adqs[
        (adqs["PARAMCD"] == paramcd)
        & (adqs["DTYPE"].fillna("") == "")
        & adqs["AVAL"].notna()
        & adqs["AVISITN"].notna()
    ]
    obs = obs[["USUBJID", "AVISITN", "AVISIT", "AVAL", "PCHG", "PARAM"]].copy()
    obs["responder"] = obs["USUBJID"].map(responder_status(adqs)).fillna(False).astype(bool)
    return obs.sort_values(["USUBJID", "AVISITN"], ignore_index=True)


def pchg_by_visit(traj: pd.DataFrame) -> pd.DataFrame:
    """Per analysis visit with a percent change: n, mean and standard deviation of PCHG."""
    post = traj[traj["PCHG"].notna()]
    stats = post.groupby(["AVISITN", "AVISIT"], sort=True)["PCHG"].agg(["count", "mean", "std"])
    return stats.rename(columns={"count": "n", "std": "sd"}).reset_index()


def ae_counts(ae: pd.DataFrame, adsl: pd.DataFrame, source: str) -> tuple[pd.DataFrame, int]:
    """Body system x severity: subjects with an event, and events; plus the safety set N."""
    sev = "ASEV" if "ASEV" in ae.columns else "AESEV"
    _need(ae, source, ("USUBJID", "AEBODSYS", sev))
    _need(adsl, "ADSL", ("USUBJID", "SAFFL"))
    n_safety = int((adsl["SAFFL"] == "Y").sum())
    data = ae[ae["USUBJID"].isin(adsl.loc[adsl["SAFFL"] == "Y", "USUBJID"])].copy()
    data["severity"] = data[sev].fillna("").replace("", MISSING)
    data["soc"] = data["AEBODSYS"].fillna("").replace("", MISSING)
    any_soc = data.assign(soc="Any body system")
    both = pd.concat([any_soc, data, any_soc.assign(severity="Any"), data.assign(severity="Any")])
    table = (
        both.groupby(["soc", "severity"])
        .agg(subjects=("USUBJID", "nunique"), events=("USUBJID", "size"))
        .reset_index()
    )
    table["pct"] = (100 * table["subjects"] / n_safety).round(1) if n_safety else 0.0
    return table, n_safety


def lab_shifts(adlb: pd.DataFrame) -> pd.DataFrame:
    """Post-baseline records (ADT > TRTSDT) per parameter by baseline (BNRIND) and analysis
    (ANRIND) reference-range category. BNRIND, where ADLB lacks it, is the ANRIND of the
    subject's baseline record (ADaMIG 1.3, BDS: BNRIND is ANRIND where ABLFL = "Y")."""
    _need(adlb, "ADLB", ("USUBJID", "PARAMCD", "PARAM", "ANRIND", "ABLFL", "ADT", "TRTSDT"))
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
