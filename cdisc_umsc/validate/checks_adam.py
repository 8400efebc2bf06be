"""ADaM checks: ADSL one record per subject, BDS baseline / change arithmetic, flags, criteria."""

from __future__ import annotations

import re
from collections.abc import Iterator

import numpy as np
import pandas as pd

from cdisc_umsc.metadata import standards as S
from cdisc_umsc.metadata.model import Dataset
from cdisc_umsc.validate.catalogue import check
from cdisc_umsc.validate.context import Context, as_text, blank, duplicated

Hits = Iterator[pd.DataFrame]

#: Relative tolerance for BASE / CHG / PCHG arithmetic.
REL_TOL = 1e-9
_CRIT = re.compile(r"CRIT[1-9][0-9]?")


def _num(frame: pd.DataFrame, var: str) -> pd.Series:
    return pd.to_numeric(frame[var], errors="coerce").astype("float64")


def _differs(a: pd.Series, b: pd.Series) -> pd.Series:
    """True where exactly one is null, or both are numbers further apart than REL_TOL."""
    both = a.notna() & b.notna()
    far = (a - b).abs() > REL_TOL * np.maximum(a.abs(), b.abs())
    return (a.isna() != b.isna()) | (both & far)


def _bds(frame: pd.DataFrame, *needed: str) -> bool:
    return {"PARAMCD", *needed} <= set(frame.columns)


@check("UMSC-AD0001")
def adsl_one_per_subject(
    ctx: Context, name: str, frame: pd.DataFrame, meta: Dataset | None
) -> Hits:
    where = ctx.ig_dataset(name)
    if where is None or where[2] != "ADSL" or "USUBJID" not in frame.columns:
        return
    subj = as_text(frame["USUBJID"])
    yield ctx.hits(
        name,
        subj.duplicated(keep=False),
        "USUBJID",
        subj,
        "USUBJID '" + subj + "' has more than one ADSL record",
    )


@check("UMSC-AD0002")
def base_is_baseline_aval(
    ctx: Context, name: str, frame: pd.DataFrame, meta: Dataset | None
) -> Hits:
    if not _bds(frame, "BASE", "AVAL", "ABLFL"):
        return
    base, aval = _num(frame, "BASE"), _num(frame, "AVAL")
    bad = (as_text(frame["ABLFL"]) == "Y") & _differs(base, aval)
    yield ctx.hits(
        name,
        bad,
        "BASE",
        base,
        "BASE " + as_text(base) + " but AVAL " + as_text(aval) + " on ABLFL='Y'",
    )


@check("UMSC-AD0003")
def chg_is_aval_minus_base(
    ctx: Context, name: str, frame: pd.DataFrame, meta: Dataset | None
) -> Hits:
    if not _bds(frame, "CHG", "AVAL", "BASE"):
        return
    chg = _num(frame, "CHG")
    expected = _num(frame, "AVAL") - _num(frame, "BASE")
    bad = chg.notna() & _differs(chg, expected)
    yield ctx.hits(
        name, bad, "CHG", chg, "CHG " + as_text(chg) + " but AVAL - BASE = " + as_text(expected)
    )


@check("UMSC-AD0004")
def pchg_is_percent_change(
    ctx: Context, name: str, frame: pd.DataFrame, meta: Dataset | None
) -> Hits:
    """PCHG = 100 * CHG / BASE; null where BASE is null or 0."""
    if not _bds(frame, "PCHG", "BASE") or not ({"CHG"} <= set(frame) or {"AVAL"} <= set(frame)):
        return
    pchg, base = _num(frame, "PCHG"), _num(frame, "BASE")
    chg = _num(frame, "CHG") if "CHG" in frame.columns else _num(frame, "AVAL") - base
    usable = base.notna() & (base != 0)
    expected = (100.0 * chg / base.where(usable)).where(usable)
    stray = pchg.notna() & ~usable
    bad = stray | (pchg.notna() & usable & _differs(pchg, expected))
    why = pd.Series(
        np.where(
            stray,
            "PCHG must be null where BASE is null or 0",
            "PCHG " + as_text(pchg) + " but 100 * CHG / BASE = " + as_text(expected),
        ),
        index=frame.index,
        dtype=object,
    )
    yield ctx.hits(name, bad, "PCHG", pchg, why)


@check("UMSC-AD0005")
def paramcd_param_one_to_one(
    ctx: Context, name: str, frame: pd.DataFrame, meta: Dataset | None
) -> Hits:
    if not _bds(frame, "PARAM"):
        return
    pairs = pd.DataFrame({"PARAMCD": as_text(frame["PARAMCD"]), "PARAM": as_text(frame["PARAM"])})
    pairs = pairs[~blank(pairs["PARAMCD"]) & ~blank(pairs["PARAM"])].drop_duplicates()
    many_param = pairs.groupby("PARAMCD")["PARAM"].transform("nunique") > 1
    many_code = pairs.groupby("PARAM")["PARAMCD"].transform("nunique") > 1
    rows = pairs.index[many_param | many_code]
    mask = frame.index.isin(rows)
    yield ctx.hits(
        name,
        mask,
        "PARAMCD",
        as_text(frame["PARAMCD"]),
        "PARAMCD '"
        + as_text(frame["PARAMCD"])
        + "' / PARAM '"
        + as_text(frame["PARAM"])
        + "' is not one-to-one",
    )


@check("UMSC-AD0006")
def one_anl01fl(ctx: Context, name: str, frame: pd.DataFrame, meta: Dataset | None) -> Hits:
    if not _bds(frame, "ANL01FL", "USUBJID"):
        return
    # ADaMIG 1.3 BDS: the analysis timepoint is AVISIT plus ATPT where present; BASETYPE
    # separates baseline definitions, each with its own analysis records.
    keys = ["USUBJID", "PARAMCD"] + [
        c for c in ("BASETYPE", "AVISIT", "ATPT") if c in frame.columns
    ]
    flagged = as_text(frame["ANL01FL"]) == "Y"
    dup = duplicated(frame, keys, among=flagged)
    yield ctx.hits(
        name, dup, "ANL01FL", "Y", f"more than one ANL01FL='Y' for the same {', '.join(keys)}"
    )


@check("UMSC-AD0007")
def crit_flag_matches(ctx: Context, name: str, frame: pd.DataFrame, meta: Dataset | None) -> Hits:
    """CRITyFL is non-blank exactly where CRITy is non-blank."""
    for flag in [c for c in frame.columns if c.endswith("FL") and _CRIT.fullmatch(c[:-2])]:
        crit = flag[:-2]
        has_crit = (
            ~blank(frame[crit]) if crit in frame.columns else pd.Series(False, index=frame.index)
        )
        has_flag = ~blank(frame[flag])
        why = pd.Series(
            np.where(
                has_flag,
                f"{flag} is populated but {crit} is null",
                f"{crit} is populated but {flag} is null",
            ),
            index=frame.index,
            dtype=object,
        )
        yield ctx.hits(name, has_crit != has_flag, flag, frame[flag], why)


@check("UMSC-AD0008")
def adsl_required_templates(
    ctx: Context, name: str, frame: pd.DataFrame, meta: Dataset | None
) -> Hits:
    """ADaMIG 1.3 ADSL: each Required template variable (TRTxxP) has at least one concrete
    variable (TRT01P). Required variables without a placeholder are UMSC-SD0001's."""
    where = ctx.ig_dataset(name)
    if where is None or where[2] != "ADSL":
        return
    rows = ctx.ig_rows(name)
    templates = [
        v
        for v, c in zip(rows["variable"], rows["core"], strict=True)
        if c == "Req" and ctx.is_template(v)
    ]
    have = {S.adam_variable_pattern(c, where[1]) for c in frame.columns}
    for template in templates:
        if template not in have:
            yield ctx.note(
                name,
                template,
                "",
                f"ADSL has no {template} variable (e.g. "
                f"{template.replace('xx', '01').replace('y', '1')})",
            )
