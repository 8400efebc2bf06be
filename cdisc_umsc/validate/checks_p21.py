"""Study-level Pinnacle 21 rules: Trial Summary parameters, datasets a submission holds, and
subjects without a baseline result (P21 Community SDTMIG catalogue; FDA Study Data Technical
Conformance Guide for the Trial Summary parameters)."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd

from cdisc_umsc.metadata.model import Dataset
from cdisc_umsc.validate.catalogue import check
from cdisc_umsc.validate.context import Context, as_text, blank

Hits = Iterator[pd.DataFrame]

#: TSPARMCD -> P21 rule that requires it (SD1226, SD2201-SD2235); REGID is UMSC-TS0002's.
REQUIRED_TS = {
    "INDIC": "SD1226", "ADDON": "SD2201", "AGEMAX": "SD2202", "AGEMIN": "SD2203",
    "LENGTH": "SD2204", "PLANSUB": "SD2205", "RANDOM": "SD2206", "SEXPOP": "SD2207",
    "STOPRULE": "SD2208", "TBLIND": "SD2209", "TCNTRL": "SD2210", "TDIGRP": "SD2211",
    "TINDTP": "SD2212", "TITLE": "SD2213", "TPHASE": "SD2214", "TTYPE": "SD2215",
    "CURTRT": "SD2216", "OBJPRIM": "SD2217", "SPONSOR": "SD2218", "TRT": "SD2219",
    "OUTMSPRI": "SD2222", "PCLAS": "SD2223", "FCNTRY": "SD2224", "ADAPT": "SD2225",
    "DCUTDTC": "SD2226", "DCUTDESC": "SD2227", "INTMODEL": "SD2228", "NARMS": "SD2229",
    "STYPE": "SD2230", "INTTYPE": "SD2231", "SSTDTC": "SD2232", "SENDTC": "SD2233",
    "ACTSUB": "SD2234", "HLTSUBJI": "SD2235",
}  # fmt: skip
#: Parameters a trial has once (P21 "Multiple ... records").
SINGLE_TS = {
    "ADDON": "SD1214", "AGEMAX": "SD1216", "AGEMIN": "SD1218", "LENGTH": "SD1220",
    "PLANSUB": "SD1222", "RANDOM": "SD1224", "SEXPOP": "SD1225", "NARMS": "SD1227",
}  # fmt: skip
_AMOUNT = r"[0-9]+(?:\.[0-9]+)?"  # one ISO 8601 duration component's number (ASCII digits)
_DURATION = (
    rf"P(?:{_AMOUNT}Y)?(?:{_AMOUNT}M)?(?:{_AMOUNT}W)?(?:{_AMOUNT}D)?"
    rf"(?:T(?:{_AMOUNT}H)?(?:{_AMOUNT}M)?(?:{_AMOUNT}S)?)?"
)
_DATE = r"[0-9]{4}(?:-[0-9]{2}(?:-[0-9]{2})?)?"
#: TSPARMCD -> (pattern of TSVAL, what it is, P21 rule).
TS_FORMATS = {
    "AGEMAX": (_DURATION, "an ISO 8601 duration", "SD1215"),
    "AGEMIN": (_DURATION, "an ISO 8601 duration", "SD1217"),
    "LENGTH": (_DURATION, "an ISO 8601 duration", "SD1219"),
    "PLANSUB": (r"[0-9]+", "a whole number", "SD1221"),
    "DCUTDTC": (_DATE, "an ISO 8601 date", "SD2245"),
    "NARMS": (r"[0-9]+", "a whole number", "SD2246"),
    "SSTDTC": (_DATE, "an ISO 8601 date", "SD2247"),
    "SENDTC": (_DATE, "an ISO 8601 date", "SD2248"),
    "ACTSUB": (r"[0-9]+", "a whole number", "SD2249"),
}
#: SDTMIG datasets a submission holds (P21 SD1020 / SD1115 errors; SD1106-SD1113 warnings).
REQUIRED_DATASETS = ("DM", "TS")
EXPECTED_DATASETS = ("AE", "DS", "EX", "LB", "SE", "TA", "TE", "VS")
#: P21 SD0006: the domains in which every treated subject has a baseline result.
BASELINE_DOMAINS = ("EG", "LB", "MB", "MS", "PC", "VS")
#: Arms of subjects who are not expected to have results (screen failures, not assigned,
#: not treated).
NOT_TREATED = frozenset({"SCRNFAIL", "NOTASSGN", "NOTTRT"})


def _ts(ctx: Context) -> pd.DataFrame | None:
    ts = ctx.datasets.get("TS")
    if ts is None or "TSPARMCD" not in ts.columns:
        return None
    return ts


def _sdtm(ctx: Context) -> bool:
    return any(not ctx.is_adam(n) for n in ctx.datasets)


#: Parameters required only when another parameter has a value (P21's wording):
#: TSPARMCD -> (other TSPARMCD, its values that make the parameter required).
CONDITIONAL_TS = {
    "CURTRT": ("ADDON", {"Y"}),
    "TDIGRP": ("HLTSUBJI", {"N"}),
    "INDIC": ("STYPE", {"INTERVENTIONAL"}),
    "TINDTP": ("STYPE", {"INTERVENTIONAL"}),
    "TRT": ("STYPE", {"INTERVENTIONAL"}),
    "INTMODEL": ("STYPE", {"INTERVENTIONAL"}),
    "INTTYPE": ("STYPE", {"INTERVENTIONAL"}),
    "PCLAS": ("INTTYPE", {"DRUG"}),
}
#: SDTMIG versions before 3.2: P21 calls the parameters expected there, not required.
_OLDER = ("3.1", "3.0")


def _missing_ts(ctx: Context) -> Iterator[tuple[str, str]]:
    """(TSPARMCD, P21 rule) of each required parameter TS lacks."""
    ts = _ts(ctx)
    if ts is None:
        return
    parm = as_text(ts["TSPARMCD"]).str.strip()
    values = as_text(ts["TSVAL"]).str.strip().str.upper() if "TSVAL" in ts.columns else parm
    have = set(parm)
    for code, p21 in REQUIRED_TS.items():
        if code in have:
            continue
        if code in CONDITIONAL_TS:
            other, when = CONDITIONAL_TS[code]
            if not set(values[parm == other]) & when:
                continue
        yield code, p21


def _older(ctx: Context) -> bool:
    return ctx.study.standard_version.startswith(_OLDER)


@check("UMSC-TS0001")
def ts_required(ctx: Context) -> Hits:
    """SDTMIG 3.2 and later (P21 SD1226, SD2201-SD2235): the parameters are required."""
    if _older(ctx):
        return
    for code, p21 in _missing_ts(ctx):
        yield ctx.note("TS", "TSPARMCD", code, f"no TS record with TSPARMCD '{code}' ({p21})")


@check("UMSC-TS0006")
def ts_expected(ctx: Context) -> Hits:
    """SDTMIG before 3.2 (as the study declares): the same parameters are expected."""
    if not _older(ctx):
        return
    for code, p21 in _missing_ts(ctx):
        yield ctx.note("TS", "TSPARMCD", code, f"no TS record with TSPARMCD '{code}' ({p21})")


@check("UMSC-TS0002")
def ts_regid(ctx: Context) -> Hits:
    ts = _ts(ctx)
    if ts is not None and "REGID" not in set(as_text(ts["TSPARMCD"]).str.strip()):
        yield ctx.note("TS", "TSPARMCD", "REGID", "no TS record with TSPARMCD 'REGID'")


@check("UMSC-TS0003")
def ts_single(ctx: Context) -> Hits:
    ts = _ts(ctx)
    if ts is None:
        return
    parm = as_text(ts["TSPARMCD"]).str.strip()
    for code, p21 in SINGLE_TS.items():
        rows = parm == code
        if rows.sum() > 1:
            yield ctx.hits("TS", rows, "TSPARMCD", code, f"{int(rows.sum())} records ({p21})")


@check("UMSC-TS0004")
def ts_format(ctx: Context) -> Hits:
    ts = _ts(ctx)
    if ts is None or "TSVAL" not in ts.columns:
        return
    parm, val = as_text(ts["TSPARMCD"]).str.strip(), as_text(ts["TSVAL"]).str.strip()
    for code, (pattern, what, p21) in TS_FORMATS.items():
        rows = (parm == code) & (val != "")
        bad = rows & ~val.str.fullmatch(pattern).fillna(False).astype(bool)
        if code in ("AGEMAX", "AGEMIN", "LENGTH"):
            bad &= val != "P"  # 'P' alone is not a duration either
            bad |= rows & (val == "P")
        yield ctx.hits(
            "TS", bad, "TSVAL", val, f"TSVAL of {code} is not {what}: '" + val + f"' ({p21})"
        )


@check("UMSC-TS0005")
def ts_value_or_reason(ctx: Context) -> Hits:
    ts = _ts(ctx)
    if ts is None or "TSVAL" not in ts.columns:
        return
    reason = ts["TSVALNF"] if "TSVALNF" in ts.columns else pd.Series("", index=ts.index)
    bad = blank(ts["TSVAL"]) & blank(reason)
    yield ctx.hits(
        "TS", bad, "TSVAL", "", "TSVAL and TSVALNF are both null for TSPARMCD '"
        + as_text(ts["TSPARMCD"]) + "'"
    )  # fmt: skip


def _has(ctx: Context, domain: str) -> bool:
    return bool(ctx.domain_datasets(domain))


@check("UMSC-PR0001")
def required_datasets(ctx: Context) -> Hits:
    if not _sdtm(ctx):
        return
    for name in REQUIRED_DATASETS:
        if not _has(ctx, name):
            yield ctx.note(name, "", name, f"the submission has no {name} dataset")


@check("UMSC-PR0002")
def expected_datasets(ctx: Context) -> Hits:
    if not _sdtm(ctx):
        return
    for name in EXPECTED_DATASETS:
        if not _has(ctx, name):
            yield ctx.note(name, "", name, f"the submission has no {name} dataset")


@check("UMSC-PR0003")
def mb_with_ms(ctx: Context) -> Hits:
    if _has(ctx, "MS") and not _has(ctx, "MB"):
        yield ctx.note("MS", "", "MB", "MS is present but MB is not")


def _treated(dm: pd.DataFrame) -> pd.Series:
    """DM records of subjects assigned to and given a treatment arm."""
    ok = pd.Series(True, index=dm.index)
    for var in ("ARMCD", "ACTARMCD"):
        if var in dm.columns:
            arm = as_text(dm[var]).str.strip().str.upper()
            ok &= (arm != "") & ~arm.isin(NOT_TREATED)
    return ok


@check("UMSC-FN0006")
def subject_has_baseline(
    ctx: Context, name: str, frame: pd.DataFrame, meta: Dataset | None
) -> Hits:
    """P21 SD0006: every treated subject with records in EG, LB, MB, MS, PC or VS has at least
    one baseline record (--BLFL = 'Y') there; judged per domain (splits joined), reported
    once per subject at the subject's first record of the domain's first dataset."""
    domain = name[:2]
    if domain not in BASELINE_DOMAINS or name.startswith("SUPP"):
        return
    parts = ctx.domain_datasets(domain)
    flag = f"{domain}BLFL"
    if name != parts[0] or "DM" not in ctx.datasets or "USUBJID" not in frame.columns:
        return
    if not any(flag in ctx.datasets[p].columns for p in parts):
        return  # no baseline flag in the domain at all: nothing to judge by
    dm = ctx.datasets["DM"]
    if "USUBJID" not in dm.columns:
        return
    treated = set(as_text(dm.loc[_treated(dm), "USUBJID"]))
    with_base: set[str] = set()
    for p in parts:
        part = ctx.datasets[p]
        if flag in part.columns and "USUBJID" in part.columns:
            with_base |= set(as_text(part.loc[as_text(part[flag]) == "Y", "USUBJID"]))
    seen: set[str] = set()
    for p in parts:
        part = ctx.datasets[p]
        if "USUBJID" not in part.columns:
            continue
        subj = as_text(part["USUBJID"])
        first = ~subj.duplicated() & subj.isin(treated - with_base - seen)
        seen |= set(subj[first])
        yield ctx.hits(
            p, first.to_numpy(), "USUBJID", subj,
            "USUBJID '" + subj + f"' has {domain} records but none with {flag} = 'Y'",
        )  # fmt: skip
