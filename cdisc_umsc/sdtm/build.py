"""Assemble SDTM domains from the spec, stage by stage, across all domains.

Stage 0 maps each record from its raw row; stage 1 reads other domains per subject (DM
reference dates); stage 2 adds records (derived records, subject elements); stage 3 timing
(study day, EPOCH); stage 4 sorts by the domain keys and numbers/flags records.
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np
import pandas as pd

from cdisc_umsc.core.conditions import Condition, Test
from cdisc_umsc.core.errors import InputError
from cdisc_umsc.core.formula import parse_formula
from cdisc_umsc.core.values import as_text, number_text, round_half_away
from cdisc_umsc.metadata import standards
from cdisc_umsc.metadata.spec import DomainSpec, Recode, SourceSpec, StudySpec
from cdisc_umsc.metadata.specfile import SpecMap
from cdisc_umsc.read.forms import FORM, ROW
from cdisc_umsc.sdtm import algorithms  # noqa: F401  (declares the algorithms)
from cdisc_umsc.sdtm.context import REC, Build, Context
from cdisc_umsc.sdtm.evaluate import apply, condition, ensure_variable, evaluate, stage_of

STAGES = (0, 1, 2, 3, 4)
#: a frame or a column
PandasT = TypeVar("PandasT", pd.DataFrame, pd.Series)


# ---------------------------------------------------------------------- stage 0: records


def _melt(frame: pd.DataFrame, melt: SpecMap) -> pd.DataFrame:
    fields = [str(f) for f in melt["fields"]]
    keep = [c for c in frame.columns if c not in fields]
    long = frame.melt(
        id_vars=keep, value_vars=fields, var_name=str(melt["name"]), value_name=str(melt["value"])
    )
    order = {f: i for i, f in enumerate(fields)}
    long["_item"] = long[str(melt["name"])].map(order)
    long = long.sort_values([ROW, "_item"], kind="stable").drop(columns="_item")
    return long.reset_index(drop=True)


def coded_fields(study: StudySpec) -> dict[tuple[str, str], dict[str, list[str]]]:
    """Per raw field (form, field) whose values are codes, by any variable's mapping
    (``_field_codes``): the codes of each recode table or codelist, keyed by its name."""
    found: dict[tuple[str, str], dict[str, list[str]]] = {}
    for dom in study.domains.values():
        forms = [s.form for s in dom.sources]
        stack: list[object] = [dom.variables, dom.supp, *(s.variables for s in dom.sources)]
        while stack:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(item)
            if not isinstance(item, dict):
                continue
            stack.extend(item.values())
            table = study.recodes.get(str(item.get("recode")))
            tables = _field_codes(study, item, table)
            if tables is None:
                continue
            field = item["ct"] if "ct" in item else item["field"]
            form, _, fld = field.rpartition(".")
            for owner in [form] if form else forms:
                if owner in study.forms and fld in {f.name for f in study.forms[owner].fields}:
                    found.setdefault((owner, fld), {}).update(tables)
    return found


def _field_codes(study: StudySpec, item: dict, table: Recode | None) -> dict[str, list[str]] | None:
    """The codes a raw field takes under one variable's mapping, or None (not coded, or open).

    ``{recode: T, field: F}``: the CRF codes of T. ``{ct: F}`` (optionally ``recode: T``):
    the submission values of the codelist (``codelist:`` or T's) and T's CRF codes; None
    when the codelist is an extensible CDISC one (a sponsor term is then a legitimate raw
    value, SDTMIG 3.4 section 4.3) or there is none."""
    if "ct" not in item:
        if table is None or not isinstance(item.get("field"), str):
            return None
        return {f"recode table {table.name}": list(table.map)}
    if not isinstance(item["ct"], str):
        return None
    cid = item.get("codelist") or (table.codelist if table is not None else None)
    closed = _codelist_codes(study, str(cid)) if cid else None
    if closed is None:
        return None
    found = dict([closed])
    if table is not None:
        found[f"recode table {table.name}"] = list(table.map)
    return found


def _codelist_codes(study: StudySpec, cid: str) -> tuple[str, list[str]] | None:
    """The submission values of a closed codelist (sponsor or non-extensible CDISC)."""
    sponsor = study.sponsor_codelists.get(cid)
    if sponsor is not None:
        return f"codelist {sponsor.id}", sorted(sponsor.values)
    cl = standards.controlled_terminology("SDTM", study.ct_version).codelist(cid)
    if cl is None or cl.extensible:
        return None
    return f"codelist {cl.submission_value} ({cl.code})", sorted(cl.terms)


def listed_codes(tables: dict[str, list[str]]) -> str:
    """The codes of a coded field, table by table, for an error message."""
    parts = []
    for name, codes in sorted(tables.items()):
        shown = ", ".join(codes[:12]) + (f", ... ({len(codes)} codes)" if len(codes) > 12 else "")
        parts.append(f"{name}: {shown}")
    return "; ".join(parts)


def tests_of(cond: Condition) -> list[Test]:
    """The tests of a condition, nested ones included (not those inside has_records)."""
    out: list[Test] = []
    for part in cond.parts:
        if isinstance(part, Test):
            out.append(part)
        elif isinstance(part, Condition):
            out += tests_of(part)
    return out


def _check_coded_exclusion(
    ctx: Context, probe: Build, src: SourceSpec, cond: Condition, excluded: np.ndarray
) -> None:
    """A row left out by a source filter that reads a coded field must hold one of that
    field's CRF codes (blank only where the filter tests for blank): ``Y``, a blank or a
    look-alike character where the filter expects 是 is an error, never an exclusion."""
    coded = coded_fields(ctx.study)
    tests = tests_of(cond)
    for name in sorted(cond.names()):
        tables = coded.get((src.form, name))
        if not tables or name not in probe.raw:
            continue
        codes = {c for table in tables.values() for c in table}
        if any(t.name == name and t.op == "null" for t in tests):
            codes.add("")
        values = probe.raw[name].fillna("").astype(str)
        bad = pd.Series(excluded & ~values.isin(codes).to_numpy(), index=values.index)
        ctx.check(
            probe,
            bad,
            name,
            f"not a code of the field ({listed_codes(tables)}), yet it decides the source "
            f"filter of {probe.spec.name}: a row is left out only on a known code",
            values,
        )


def _source_rows(ctx: Context, b: Build, src: SourceSpec) -> pd.DataFrame:
    frame = ctx.forms[src.form]
    if src.where is not None:
        probe = Build(b.spec, frame.reset_index(drop=True), pd.DataFrame(index=range(len(frame))))
        cond = condition(ctx, src.where)
        keep = evaluate(ctx, probe, cond).to_numpy()
        _check_coded_exclusion(ctx, probe, src, cond, ~keep)
        for row in frame.loc[~keep, ROW]:
            b.excluded.append((src.form, int(row), str(src.excluded_because)))
        frame = frame[keep]
    frame = frame.reset_index(drop=True)
    if src.melt is not None:
        frame = _melt(frame, src.melt)
        if src.melt.get("skip_blank"):
            # an empty cell of a wide CRF row is no record; a row with no value at all is
            # left out with the reason, so that it is still accounted for
            value = str(src.melt["value"])
            empty = frame[value].fillna("").astype(str) == ""
            rows = (~empty).groupby(frame[ROW].to_numpy()).any()
            fields = ", ".join(map(str, src.melt["fields"]))
            for row in rows.index[~rows.to_numpy()]:
                b.excluded.append((src.form, int(row), f"no value in any of {fields}"))
            frame = frame[~empty.to_numpy()].reset_index(drop=True)
    return frame


def start_domain(ctx: Context, spec: DomainSpec) -> Build:
    """Stage 0 for one domain: rows from each source, source-level then domain-level mapping."""
    parts_raw, parts_out = [], []
    codelists: dict[str, set[str | None]] = {}
    per_form: dict[str, dict[str, str | None]] = {}
    for src in spec.sources:
        sub = Build(spec, pd.DataFrame(), pd.DataFrame())
        raw = _source_rows(ctx, sub, src)
        sub.raw = raw
        sub.out = pd.DataFrame(index=raw.index)
        sub.spec = spec.source_only(src)
        for name in src.variables:
            ensure_variable(ctx, sub, name)
        parts_raw.append(raw)
        parts_out.append(sub.out)
        for var in set(src.variables) | set(sub.codelist_of):
            codelists.setdefault(var, set()).add(sub.codelist_of.get(var))
            per_form.setdefault(var, {})[src.form] = sub.codelist_of.get(var)
        ctx.excluded.extend(sub.excluded)
    raw = pd.concat(parts_raw, ignore_index=True) if parts_raw else pd.DataFrame()
    out = pd.concat(parts_out, ignore_index=True) if parts_out else pd.DataFrame()
    # sources checking one variable against different codelists (QSTESTCD per instrument)
    # leave the codelist to value-level metadata
    agreed = {k: next(iter(v)) for k, v in codelists.items() if len(v) == 1}
    b = Build(spec, raw, out, {k: v for k, v in agreed.items() if v is not None})
    b.conflicting = {k for k, v in codelists.items() if len(v) > 1}
    b.source_codelists = {k: per_form[k] for k in b.conflicting}
    b.done = set(out.columns)
    for name, p in spec.variables.items():
        if stage_of(p, spec, subjects=ctx.study.domains.get("DM")) == 0:
            ensure_variable(ctx, b, name)
    _supp_values(ctx, b, 0)
    return b


def _supp_values(ctx: Context, b: Build, stage: int) -> None:
    """The SUPP-- values whose algorithm runs in ``stage`` (an aggregate over other domains
    runs once they are built, as a variable's does)."""
    for qnam, qdef in (b.spec.supp or {}).items():
        if stage_of(qdef["value"], b.spec, subjects=ctx.study.domains.get("DM")) == stage:
            # QVAL is text (SDTMIG 8.4.1): a number is written as --STRESC writes one
            b.supp[qnam] = as_text(apply(ctx, b, qdef["value"], qnam))


def run_stage(ctx: Context, b: Build, stage: int) -> None:
    """Compute the domain-level variables of one stage."""
    for name, p in b.spec.variables.items():
        if (
            name not in b.done
            and stage_of(p, b.spec, subjects=ctx.study.domains.get("DM")) == stage
        ):
            ensure_variable(ctx, b, name)
    if stage > 0:  # stage 0's are computed as the domain starts
        _supp_values(ctx, b, stage)


# ---------------------------------------------------------------------- stage 2: derived records


def add_derived_records(ctx: Context, b: Build) -> None:
    """Records computed from other records of the domain by a spec formula (e.g. a total score)."""
    for d in b.spec.derived:
        sel = (
            evaluate(ctx, b, condition(ctx, d["where"], d.where("where")))
            if "where" in d
            else pd.Series(True, index=b.out.index)
        )
        rows = b.out[sel.to_numpy()]
        by = [str(x) for x in d["by"]]
        wide = rows.pivot_table(
            index=by, columns=str(d["pivot"]), values=str(d["value"]), aggfunc="first", dropna=False
        )
        try:
            formula = parse_formula(d["formula"])
            absent = [n for n in formula.names if n not in wide.columns]
            if absent:
                pivot = str(d["pivot"])
                raise ValueError(
                    f"formula names {absent[0]}, but no record has {pivot} = {absent[0]}"
                )
            columns = {n: wide[n] for n in formula.names}
            result = pd.Series(formula.evaluate(columns), index=wide.index)
        except (ValueError, TypeError) as exc:
            raise InputError(f"{d.where('formula')}: {exc}") from None
        if "decimals" in d:
            result = round_half_away(result, int(d["decimals"]))
        result = result.dropna()
        first = rows.drop_duplicates(by).set_index(by)
        new = first.loc[result.index].reset_index()
        for key, value in d.get("set", {}).items():
            new[key] = "" if value is None else str(value)
        res_text = number_text(result)
        for target in d.get("result", []):
            num = b.out[target].dtype.kind == "f" if target in b.out else False
            new[target] = result.to_numpy() if num else res_text.to_numpy()
        for col in b.out.columns:
            if col not in new:
                new[col] = np.nan if b.out[col].dtype.kind == "f" else ""
        for col in new.columns:
            if col not in b.out.columns:
                b.out[col] = ""
        ids = _record_ids(b, len(new))
        _link_inputs(b, d, rows, new, ids)
        raw_new = pd.DataFrame({FORM: [""] * len(new), ROW: [0] * len(new), REC: ids})
        b.out = pd.concat([b.out, new[b.out.columns]], ignore_index=True)
        b.raw = pd.concat([b.raw, raw_new], ignore_index=True)


def _record_ids(b: Build, count: int) -> np.ndarray:
    """Stable ids (REC) for ``count`` new records; gives the existing records theirs first."""
    if REC not in b.raw.columns:
        b.raw[REC] = np.arange(len(b.raw), dtype="int64")
    start = int(b.raw[REC].max()) + 1 if len(b.raw) else 0
    return np.arange(start, start + count, dtype="int64")


def _link_inputs(
    b: Build, d: SpecMap, rows: pd.DataFrame, new: pd.DataFrame, ids: np.ndarray
) -> None:
    """Lineage of derived records: each one's input records (same ``by``, pivot in formula)."""
    by = [str(x) for x in d["by"]]
    pivot = str(d["pivot"])
    used = set(parse_formula(d["formula"]).names)
    inputs = rows[by].assign(_src=b.raw.loc[rows.index, REC].to_numpy())
    named = rows[pivot].astype(str).isin(used).to_numpy()
    inputs = inputs[named] if named.any() else inputs
    edges = new[by].assign(_rec=ids).merge(inputs, on=by, how="inner")
    step = f"{d.where()}: derived record '{d.get('name', pivot)}' ({pivot} by {', '.join(by)})"
    b.derived_from.append(
        pd.DataFrame(
            {
                "rec": edges["_rec"].to_numpy(dtype="int64"),
                "src": edges["_src"].to_numpy(dtype="int64"),
                "step": step,
            }
        )
    )


# ---------------------------------------------------------------------- stage 4: sort


def sort_domain(b: Build) -> None:
    """Sort records by the domain keys; ties keep raw order (form, row) for determinism."""
    keys = [k for k in b.spec.keys if k in b.out.columns and not k.endswith("SEQ")]
    if not keys:
        return
    frame = b.out[keys].copy()
    frame["_form"] = b.raw[FORM].fillna("").to_numpy() if FORM in b.raw else ""
    frame["_row"] = b.raw[ROW].fillna(0).to_numpy() if ROW in b.raw else 0
    frame["_pos"] = np.arange(len(frame))
    order = frame.sort_values([*keys, "_pos"], kind="stable", na_position="first").index
    b.out, b.raw = _reordered(b.out, order), _reordered(b.raw, order)
    b.supp = {k: _reordered(v, order) for k, v in b.supp.items()}


def _reordered(data: PandasT, order: pd.Index) -> PandasT:
    """``data`` in the order of the labels ``order``, numbered from 0 again; by position
    where the labels are the positions (no label look-up)."""
    n = len(data)
    if isinstance(data.index, pd.RangeIndex) and data.index.equals(pd.RangeIndex(n)):
        return data.take(order.to_numpy()).reset_index(drop=True)
    return data.loc[order].reset_index(drop=True)
