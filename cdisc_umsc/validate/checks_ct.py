"""Controlled Terminology membership (SDTMIG 3.4 4.3; Define-XML 2.1 CodeListRef)."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

import numpy as np
import pandas as pd

from cdisc_umsc.core.values import to_number
from cdisc_umsc.metadata import standards as S
from cdisc_umsc.metadata.model import Dataset, Variable
from cdisc_umsc.validate.catalogue import check
from cdisc_umsc.validate.context import Allowed, Context, as_text, blank, text_codes

Hits = Iterator[pd.DataFrame]


def _coded(
    ctx: Context, frame: pd.DataFrame, meta: Dataset | None
) -> Iterator[tuple[Variable, Allowed | None]]:
    """(variable, its codelist or None when undefined) for each coded variable in the data."""
    if meta is None:
        return
    for var in meta.variables:
        if var.codelist and var.name in frame.columns:
            yield var, ctx.codelist(var.codelist)


#: Findings result variables: their codelists (e.g. C102580 LBSTRESC) hold the character
#: results; a numeric result is not a term (SDTMIG 3.4 4.5.1).
_RESULTS = ("ORRES", "STRESC")


def _outside_distinct(
    frame: pd.DataFrame, var: Variable, allowed: Allowed
) -> tuple[np.ndarray, np.ndarray, np.ndarray, pd.Series]:
    """(codes of the values, distinct values, which of them are non-null and outside the
    codelist, values as text)."""
    text = as_text(frame[var.name])
    codes, uniques = text_codes(text)
    distinct = pd.Series(uniques, dtype=object)
    bad = ~blank(distinct) & ~distinct.isin(allowed.values)
    if var.name.endswith(_RESULTS):
        bad &= to_number(distinct).isna()
    return codes, uniques, bad.to_numpy(dtype=bool), text


def _outside(frame: pd.DataFrame, var: Variable, allowed: Allowed) -> tuple[pd.Series, pd.Series]:
    """(mask of non-null values outside the codelist, values as text), judged once per
    distinct value."""
    codes, _, bad, text = _outside_distinct(frame, var, allowed)
    return pd.Series(bad[codes], index=frame.index), text


def _spread(distinct: pd.Series, codes: np.ndarray, index: pd.Index) -> pd.Series:
    return pd.Series(distinct.to_numpy()[codes], index=index)


def _quoted(text: pd.Series, tail: str) -> pd.Series:
    return "'" + text + tail


def _per_record(
    ctx: Context, name: str, frame: pd.DataFrame, meta: Dataset | None, sponsor: bool
) -> Hits:
    for var, allowed in _coded(ctx, frame, meta):
        if allowed is None or allowed.extensible or allowed.sponsor != sponsor:
            continue
        bad, text = _outside(frame, var, allowed)
        kind = "sponsor" if sponsor else "non-extensible"
        tail = f"' is not in {kind} codelist {allowed.id} ({allowed.name})"
        yield ctx.hits(name, bad, var.name, text, partial(_quoted, text, tail))


@check("UMSC-CT0001")
def in_non_extensible(ctx: Context, name: str, frame: pd.DataFrame, meta: Dataset | None) -> Hits:
    yield from _per_record(ctx, name, frame, meta, sponsor=False)


@check("UMSC-CT0003")
def in_sponsor_codelist(ctx: Context, name: str, frame: pd.DataFrame, meta: Dataset | None) -> Hits:
    yield from _per_record(ctx, name, frame, meta, sponsor=True)


@check("UMSC-CT0002")
def new_extensible_terms(
    ctx: Context, name: str, frame: pd.DataFrame, meta: Dataset | None
) -> Hits:
    """One finding per distinct new term (at its first record), with its record count.

    A term is new when the CDISC codelist lacks it, also when the study's metadata carries an
    extended copy of that codelist (Define-XML ExtendedValue): the extension is what a
    reviewer is told about, so metadata with or without the copy give the same findings."""
    for var, allowed in _coded(ctx, frame, meta):
        if allowed is None or not allowed.extensible:
            continue
        allowed = ctx.cdisc_codelist(allowed)
        codes, uniques, bad, text = _outside_distinct(frame, var, allowed)
        if not bad.any():
            continue
        # badness is a property of the value: a bad value's first record is its first one
        first = bad[codes] & ~pd.Series(codes).duplicated().to_numpy()
        counts = np.bincount(codes, minlength=len(uniques))
        tail = f"' in extensible codelist {allowed.id} ({allowed.name}) on "
        said = pd.Series(
            [f"new term '{u}{tail}{c} record(s)" for u, c in zip(uniques, counts, strict=True)],
            dtype=object,
        )
        yield ctx.hits(
            name,
            first,
            var.name,
            text,
            partial(_spread, said, codes, frame.index),
        )


@check("UMSC-CT0004")
def codelist_defined(ctx: Context, name: str, frame: pd.DataFrame, meta: Dataset | None) -> Hits:
    for var, allowed in _coded(ctx, frame, meta):
        if allowed is None and not ctx.is_external(var.codelist or ""):
            yield ctx.note(
                name,
                var.name,
                var.codelist or "",
                f"{name}.{var.name} names codelist {var.codelist!r}, which is neither "
                f"in study.codelists nor in the bundled CDISC CT",
            )


@check("UMSC-CT0005")
def ct_version_bundled(ctx: Context) -> Hits:
    bundled = S.versions()["SDTM CT"]
    if ctx.study.ct_version and ctx.study.ct_version != bundled:
        yield ctx.note(
            "",
            "",
            ctx.study.ct_version,
            f"study CT version {ctx.study.ct_version} is not bundled; codelists were "
            f"checked against SDTM CT {bundled}",
        )
