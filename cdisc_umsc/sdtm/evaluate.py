"""Computing one variable of a domain: references, conditions, and an algorithm's application.

``apply`` runs a variable's algorithm under its conditions: ``when:``/``unless:`` restrict the
records the algorithm computes (so it cannot fail on records the condition leaves out), and
``else:`` gives another algorithm for the records the first gives no value (outside the
condition, or blank). Variables another one reads are computed on demand, for every record.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, TypeAlias, overload

import numpy as np
import pandas as pd

from cdisc_umsc.core.conditions import Condition, HasRecords, Scalar, Test, parse_condition
from cdisc_umsc.core.errors import InputError
from cdisc_umsc.core.values import ColumnMemo, blank, filled_text
from cdisc_umsc.metadata.spec import DomainSpec, Recode
from cdisc_umsc.metadata.specfile import SpecMap
from cdisc_umsc.metadata.standards import CtCodelist
from cdisc_umsc.sdtm.context import Build, Context
from cdisc_umsc.sdtm.registry import ALGORITHMS, Algorithm, algorithm_for

#: one part of a parsed spec condition
Part: TypeAlias = Test | HasRecords | Condition
#: per value the position of its distinct value, and the distinct values
Distinct: TypeAlias = tuple[np.ndarray, np.ndarray]


def text(series: pd.Series) -> pd.Series:
    """Values as object text, missing as ""."""
    return filled_text(series)


def empty_text(index: pd.Index) -> pd.Series:
    """A text column of blanks."""
    return pd.Series("", index=index, dtype=object)


def algorithm_of(p: SpecMap) -> Algorithm:
    """The algorithm ``p`` names; a spec error if it names none or several."""
    algo = algorithm_for(p)
    if algo is None:
        raise InputError(
            f"{p.where()}: give exactly one algorithm (one of: {', '.join(sorted(ALGORITHMS))})"
        )
    return algo


def ref(ctx: Context, b: Build, name: Any) -> pd.Series:
    """A variable of the domain (computed on demand), else a raw field."""
    return ctx.ref(b, str(name), lambda n: ensure_variable(ctx, b, n))


def raw(ctx: Context, b: Build, name: Any) -> pd.Series:
    """A raw field of the domain's forms (or FORM.FIELD), else a variable."""
    return ctx.ref(b, str(name), lambda n: ensure_variable(ctx, b, n), prefer_raw=True)


def ensure_variable(ctx: Context, b: Build, name: str) -> None:
    """Compute target variable ``name`` of ``b`` for every record, if not done yet."""
    if name in b.done:
        return
    spec = b.spec.variables.get(name)
    if spec is None:
        if name in b.out.columns:
            return
        raise InputError(f"{b.spec.file}: {name} is used before it can be computed")
    b.done.add(name)
    saved, b.scope = b.scope, None  # a variable is computed for all of its records
    try:
        b.out[name] = apply(ctx, b, spec, name)
    finally:
        b.scope = saved


# ------------------------------------------------------------------------------ conditions


def condition(ctx: Context, obj: object, where: str = "") -> Condition:
    """The parsed form of a spec condition (parsed once per run)."""
    key = id(obj)
    found = ctx.conditions.get(key)
    if found is None or found[0] is not obj:
        found = (obj, parse_condition(obj, where))
        ctx.conditions[key] = found
    return found[1]


class BuildSource:
    """The records of a domain under construction, as a condition reads them."""

    def __init__(self, ctx: Context, b: Build) -> None:
        self.ctx, self.b = ctx, b

    @property
    def index(self) -> pd.Index:
        return self.b.out.index

    def column(self, name: str) -> pd.Series:
        return ref(self.ctx, self.b, name)

    def has_records(self, domain: str, where: Condition | None) -> pd.Series:
        if domain not in self.ctx.builds:
            raise InputError(
                f"{self.b.spec.file}: has_records: {domain} is not a domain of this spec"
            )
        other = self.ctx.builds[domain]
        ids = other.out["USUBJID"]
        if where is not None:
            ids = ids[evaluate(self.ctx, other, where).to_numpy()]
        return self.b.out["USUBJID"].isin(set(ids))


def evaluate(ctx: Context, b: Build, cond: Condition) -> pd.Series:
    """Records of ``b`` meeting ``cond``; notes whether the condition ever matched."""
    hit = cond.evaluate(BuildSource(ctx, b))
    if cond.where:
        ctx.condition_hits[cond.where] = ctx.condition_hits.get(cond.where, False) | bool(hit.any())
        ctx.condition_text.setdefault(cond.where, cond.describe())
    return hit


def condition_hit(ctx: Context, b: Build, cond: Condition) -> np.ndarray:
    """Records of ``b`` meeting ``cond``, not noted among the run's unmatched conditions (a
    category no record falls in is no spec mistake)."""
    return cond.evaluate(BuildSource(ctx, b)).to_numpy(dtype=bool)


def condition_stage(ctx: Context | None, obj: object) -> int:
    """Stage 1 for a condition reading other domains (has_records), else 0."""
    cond = parse_condition(obj) if ctx is None else condition(ctx, obj)
    return 1 if cond.domains() else 0


# ------------------------------------------------------------------------------ applying


def _blank_like(values: pd.Series) -> object:
    return np.nan if values.dtype.kind == "f" else ""


def _combine(outer: np.ndarray | None, inner: pd.Series | None) -> np.ndarray | None:
    if inner is None:
        return outer
    mask = inner.to_numpy(dtype=bool)
    return mask if outer is None else outer & mask


def _run(
    ctx: Context, b: Build, algo: Algorithm, p: SpecMap, var: str, scope: np.ndarray | None
) -> pd.Series:
    saved, b.scope = b.scope, scope
    try:
        values = algo.fn(ctx, b, p, var)
        if algo.checks_codelist and p.get("codelist"):
            values = check_codelist(ctx, b, values, str(p["codelist"]), var)
    finally:
        b.scope = saved
    return values


def apply(ctx: Context, b: Build, p: SpecMap, var: str) -> pd.Series:
    """Values of ``var`` by its spec ``p``, for every record of ``b``."""
    algo = algorithm_of(p)
    mask: pd.Series | None = None
    if "when" in p:
        mask = evaluate(ctx, b, condition(ctx, p["when"], p.where("when")))
    if "unless" in p:
        unless = ~evaluate(ctx, b, condition(ctx, p["unless"], p.where("unless")))
        mask = unless if mask is None else mask & unless
    scope = _combine(b.scope, mask)
    values = _run(ctx, b, algo, p, var, scope)
    if mask is not None:
        values = values.where(mask.to_numpy(), _blank_like(values))
    other = p.get("else")
    if isinstance(other, SpecMap):
        need = blank(values).to_numpy(dtype=bool)
        if b.scope is not None:
            need = need & b.scope
        if need.any():
            saved, b.scope = b.scope, need
            try:
                filled = apply(ctx, b, other, var)
            finally:
                b.scope = saved
            if values.dtype.kind == "f" and filled.dtype.kind != "f":
                values = values.astype(object)
            values = values.where(~need, filled)
    return values


# ------------------------------------------------------------------------------ codelists


def _factorized(array: np.ndarray) -> Distinct:
    codes, uniq = pd.factorize(array, use_na_sentinel=False)
    found = (codes, np.asarray(uniq, dtype=object))
    for part in found:
        part.flags.writeable = False
    return found


#: the last text columns :func:`distinct` factorized: a domain's USUBJID or test code is
#: read by many algorithms
_FACTORIZED: ColumnMemo[Distinct] = ColumnMemo(8)


def distinct(values: pd.Series) -> Distinct:
    """Per value the position of its distinct value, and the distinct values (a missing
    value is one of them), in the order they first appear (read-only arrays); a text
    column factorized a moment ago is not factorized again (:class:`ColumnMemo`)."""
    return _FACTORIZED.get(values, _factorized)


def check_codelist(
    ctx: Context,
    b: Build,
    values: pd.Series,
    cid: str | None,
    var: str,
    synonyms: bool = True,
    column: str | None = None,
    shown: pd.Series | None = None,
    recode: str | None = None,
    codes: tuple[np.ndarray, np.ndarray] | None = None,
) -> pd.Series:
    """Values as submission values of codelist ``cid``: exact, else synonym; else an error.

    Done once per distinct value; ``codes`` (from :func:`distinct`, or any positions into
    values that may repeat) saves factorizing ``values`` again."""
    if not cid:
        return values
    cl = ctx.codelist(cid)
    if cl is None:
        raise InputError(f"{b.spec.file}: variable {var}: unknown codelist '{cid}'")
    b.codelist_of[var] = cid
    pos, uniq = distinct(values) if codes is None else codes
    present = np.asarray(uniq != "", dtype=bool)
    allowed = cl.values if hasattr(cl, "values") else frozenset(cl.terms)
    mapping: dict[str, str] = {}
    for v in uniq[present]:  # loop over distinct values, not rows
        if v in mapping:
            continue
        if v in allowed:
            mapping[v] = v
        elif synonyms and isinstance(cl, CtCodelist) and (term := cl.lookup_synonym(v)) is not None:
            mapping[v] = term.submission_value
        elif getattr(cl, "extensible", False) and not getattr(cl, "sponsor", False):
            mapping[v] = v  # extensible CDISC codelist: a sponsor term, reported by validation
    bad = present & np.array([v not in mapping for v in uniq], dtype=bool)
    name = getattr(cl, "submission_value", cid)
    table = f"recode table '{recode}' nor " if recode else ""
    ctx.check(
        b,
        pd.Series(bad[pos], index=values.index),
        column or var,
        f"value not in {table}codelist {name} ({cid}) nor its synonyms",
        values if shown is None else shown,
    )
    if not mapping:
        return values
    out = np.array([mapping.get(v, v) for v in uniq] or [""], dtype=object)
    return pd.Series(out[pos], index=values.index, dtype=object)


# ------------------------------------------------------------------------------ stages


def names_in(p: object) -> set[str]:
    """Every name a variable spec mentions (parameter values, condition keys, placeholders)."""
    found: set[str] = set()
    if isinstance(p, dict):
        for key, value in p.items():
            found.add(str(key))
            found |= names_in(value)
    elif isinstance(p, list):
        for value in p:
            found |= names_in(value)
    elif isinstance(p, str):
        found.add(p)
        found |= {n for _l, n, _s, _c in string.Formatter().parse(p) if n}
    return found


def stage_of(
    p: SpecMap,
    domain: DomainSpec | None = None,
    _seen: frozenset[str] = frozenset(),
    subjects: DomainSpec | None = None,
) -> int:
    """The stage a variable can be computed in: its algorithm's, or later if what it reads is
    (a variable of its domain, or with ``subjects`` given, the DM variable a ``dm:`` reads)."""
    algo = algorithm_of(p)
    stage = algo.stage
    for key in ("when", "unless"):
        if key in p:
            stage = max(stage, condition_stage(None, p[key]))
    if isinstance(p.get("else"), SpecMap):
        stage = max(stage, stage_of(p["else"], domain, _seen, subjects))
    if domain is not None:
        for name in names_in(p) - _seen:
            dep = domain.variables.get(name)
            if isinstance(dep, SpecMap) and dep is not p:
                stage = max(stage, stage_of(dep, domain, _seen | {name}, subjects))
    if subjects is not None:
        for key, param in algo.params.items():
            dep = subjects.variables.get(str(p.get(key))) if param.kind == "subject" else None
            if isinstance(dep, SpecMap) and dep is not p:
                stage = max(stage, stage_of(dep, subjects, frozenset(), subjects))
    return stage


# ------------------------------------------------------------------------------ words


@overload
def _recoded(part: Condition, recodes: Mapping[str, Recode]) -> Condition: ...
@overload
def _recoded(part: Part, recodes: Mapping[str, Recode]) -> Part: ...
def _recoded(part: Part, recodes: Mapping[str, Recode]) -> Part:
    """A condition with each raw CRF value (text that is not ASCII) replaced by the
    submission value the study's recode tables give it, when they agree on one."""
    if isinstance(part, Condition):
        return replace(part, parts=tuple(_recoded(x, recodes) for x in part.parts))
    if isinstance(part, HasRecords):
        where = part.where
        return replace(part, where=None if where is None else _recoded(where, recodes))
    assert isinstance(part, Test)

    def meaning(value: Scalar | None) -> Scalar | None:
        if not isinstance(value, str) or value.isascii():
            return value
        found = {t.map[value] for t in recodes.values() if value in t.map}
        return next(iter(found)) if len(found) == 1 else value

    values = part.value if isinstance(part.value, tuple) else (part.value,)
    meant = tuple(meaning(v) for v in values)
    if meant == values:
        return part
    shown = meant if isinstance(part.value, tuple) else meant[0]
    return replace(part, name=f"{part.name} (the CRF answer, as recoded)", value=shown)


def condition_words(obj: object, recodes: Mapping[str, Recode] | None = None) -> str:
    """A spec condition in reviewer words; raw CRF answers appear by their submission
    meaning (through the recode table that gives it)."""
    cond = parse_condition(obj)
    if recodes:
        cond = _recoded(cond, recodes)
    return cond.describe()


def describe_spec(p: SpecMap, var: str, recodes: Mapping[str, Recode] | None = None) -> str:
    """A variable's derivation in words for a reviewer (define.xml method), from the
    declaration of the algorithm that runs it; the spec's ``method:`` overrides it."""
    if p.get("method"):
        return str(p["method"])
    words = algorithm_of(p).describe(p, var)
    if "when" in p:
        words += f", when {condition_words(p['when'], recodes)}"
    if "unless" in p:
        words += f", unless {condition_words(p['unless'], recodes)}"
    other = p.get("else")
    if isinstance(other, SpecMap):
        rest = describe_spec(other, var, recodes)
        words += "; otherwise " + rest[:1].lower() + rest[1:]
    return words


def method_text(p: SpecMap, var: str, recodes: Mapping[str, Recode] | None = None) -> str:
    """The define.xml method of a derived variable: ASCII reviewer prose. Text a reviewer
    could not read (a raw CRF value no recode table explains) needs the spec's ``method:``;
    one ``file:line`` error names the variable."""
    text = describe_spec(p, var, recodes)
    if not text.isascii():
        bad = "".join(c for c in text if not c.isascii())
        at = p.where("method") if "method" in p else p.where()
        raise InputError(
            f"{at}: variable {var}: its define.xml method would show the non-ASCII text "
            f"{bad!r}; describe the derivation in ASCII words with method:"
        )
    return text
