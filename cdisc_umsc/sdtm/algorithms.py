"""Mapping algorithms: one small function per algorithm the spec names, declared where it lives.

Every algorithm has the same signature ``(ctx, b, p, var) -> Series``: the build context, the
domain under construction, the algorithm's spec mapping, and the target variable. Each returns
the variable's values for every record of the domain and does nothing else. Its declaration
(:func:`cdisc_umsc.sdtm.registry.algorithm`) gives the stage, the parameters and their kinds,
the default origin, a summary and an example, and the define.xml method text.
"""

from __future__ import annotations

from collections.abc import Mapping
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cdisc_umsc.core import iso8601
from cdisc_umsc.core.conditions import Condition, parse_condition
from cdisc_umsc.core.errors import InputError
from cdisc_umsc.core.values import blank, number_text, round_half_away, to_number
from cdisc_umsc.metadata.model import Codelist
from cdisc_umsc.metadata.spec import DomainSpec, Recode
from cdisc_umsc.metadata.specfile import SpecMap
from cdisc_umsc.read.forms import ROW
from cdisc_umsc.sdtm.context import Build, Context
from cdisc_umsc.sdtm.evaluate import (
    check_codelist,
    condition,
    condition_hit,
    distinct,
    empty_text,
    ensure_variable,
    evaluate,
    raw,
    ref,
    text,
)
from cdisc_umsc.sdtm.registry import ALGORITHMS, COMMON, KINDS, STAGES, Algorithm, Param, algorithm

__all__ = ["ALGORITHMS", "docs_table", "method_text", "params_table"]


def _q(value: object) -> str:
    return "blank" if value is None else f"'{value}'"


# ---------------------------------------------------------------------- row level (stage 0)


@algorithm(
    "setting",
    kind="setting",
    origin="Assigned",
    summary="a study setting (study: in study.yaml)",
    example="{setting: STUDYID}",
    describe=lambda p, v: f"The study's {p['setting']} (a study setting)",
)
def assign_setting(ctx: Context, b: Build, p: SpecMap, var: str) -> pd.Series:
    value = ctx.setting(str(p["setting"]))
    return pd.Series(str(value), index=b.out.index, dtype=object)


@algorithm(
    "hardcode",
    kind="value",
    origin="Assigned",
    checks_codelist=True,
    summary="a constant (`null` = blank); checked against `codelist:`",
    example="{hardcode: YEARS}",
    describe=lambda p, v: f"Set to {_q(p['hardcode'])}",
)
def hardcode(ctx: Context, b: Build, p: SpecMap, var: str) -> pd.Series:
    value = p["hardcode"]
    return pd.Series("" if value is None else str(value), index=b.out.index, dtype=object)


@algorithm(
    "field",
    kind="field",
    origin="Collected",
    checks_codelist=True,
    summary="a raw field as collected; `FORM.FIELD` joins another form by subject",
    example="{field: AETERM}",
    describe=lambda p, v: f"As collected in the CRF field {p['field']}",
)
def assign_field(ctx: Context, b: Build, p: SpecMap, var: str) -> pd.Series:
    return text(raw(ctx, b, p["field"]))


@algorithm(
    "copy",
    kind="ref",
    checks_codelist=True,
    summary="another variable (or raw field) of the record",
    example="{copy: ARMCD}",
    describe=lambda p, v: f"Equal to {p['copy']}",
)
def copy_variable(ctx: Context, b: Build, p: SpecMap, var: str) -> pd.Series:
    values = ref(ctx, b, p["copy"]).copy()
    if str(p["copy"]) in b.codelist_of:
        b.codelist_of[var] = b.codelist_of[str(p["copy"])]
    return values


@algorithm(
    "number",
    kind="field",
    origin="Collected",
    summary="a raw field as a number (a value that is not a number stops the run)",
    example="{number: DOSE}",
    describe=lambda p, v: f"The number collected in the CRF field {p['number']}",
)
def assign_number(ctx: Context, b: Build, p: SpecMap, var: str) -> pd.Series:
    values = text(raw(ctx, b, p["number"]))
    num = to_number(values)
    ctx.check(b, (values != "") & num.isna(), str(p["number"]), "expected a number", values)
    return num.astype("float64")


def _joined(ctx: Context, b: Build, p: SpecMap) -> tuple[pd.Series, str]:
    if "fields" in p:
        parts = [text(raw(ctx, b, f)) for f in p["fields"]]
        out = parts[0]
        for part in parts[1:]:
            out = out + "|" + part
        allblank = np.logical_and.reduce([x == "" for x in parts])
        return out.where(~allblank, ""), str(p["fields"][-1])
    return text(raw(ctx, b, p["field"])), str(p["field"])


def _describe_recode(p: SpecMap, v: str) -> str:
    if "fields" in p:
        return (
            f"The combination of the CRF fields {' and '.join(map(str, p['fields']))}, "
            "recoded to its submission value"
        )
    return f"The CRF field {p.get('field')}, recoded to its submission value"


@algorithm(
    "recode",
    kind="recode",
    params={
        "field": Param("field", doc="the raw field recoded"),
        "fields": Param("fields", doc="several raw fields, joined by a vertical bar"),
    },
    one_of=("field", "fields"),
    origin="Collected",
    summary="CT recode of a raw field with the spec's synonym table (`fields:` joins with `|`)",
    example="{recode: sex, field: SEX}",
    describe=_describe_recode,
)
def assign_recode(ctx: Context, b: Build, p: SpecMap, var: str) -> pd.Series:
    """CT recode with the spec's synonym table; values already in the codelist pass as they are."""
    values, column = _joined(ctx, b, p)
    table = ctx.study.recodes[str(p["recode"])]
    codes, recoded, unmapped = _recoded(values, table)
    out = pd.Series(recoded[codes], index=values.index, dtype=object)
    cid = p.get("codelist") or table.codelist
    if cid:
        return check_codelist(
            ctx,
            b,
            out,
            cid,
            var,
            column=column,
            shown=values,
            recode=table.name,
            codes=(codes, recoded[: len(unmapped)]),
        )
    bad = pd.Series(unmapped[codes], index=values.index)
    ctx.check(b, bad, column, f"value not in recode table '{table.name}'", values)
    return out


def _recoded(values: pd.Series, table: Recode) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A recode table applied once per distinct value: per value the position of its
    distinct value; per distinct value its recoded value (itself where the table has none)
    and whether it is a non-blank value the table lacks. The recoded values have one more
    item, "", so that positions index them even for no values."""
    codes, uniq = distinct(values)
    found = pd.Series(uniq, dtype=object).map(table.map)
    lacking = found.isna().to_numpy()
    recoded = np.append(np.where(lacking, uniq, found.to_numpy(dtype=object)), "")
    return codes, recoded.astype(object), lacking & np.asarray(uniq != "", dtype=bool)


@algorithm(
    "ct",
    kind="field",
    params={"recode": Param("recode", doc="a synonym table applied before the codelist check")},
    origin="Collected",
    summary="the raw value must be a term (or synonym) of the variable's codelist",
    example="{ct: LBUNIT, recode: unit}",
    describe=lambda p, v: f"CRF field {p['ct']} as its controlled-terminology submission value",
)
def assign_ct(ctx: Context, b: Build, p: SpecMap, var: str) -> pd.Series:
    """The raw value must be a term (or synonym) of the variable's codelist."""
    collected = text(raw(ctx, b, p["ct"]))
    values = collected
    table = ctx.study.recodes.get(str(p["recode"])) if "recode" in p else None
    codes = None
    if table is not None:
        pos, recoded, lacking = _recoded(collected, table)
        values = pd.Series(recoded[pos], index=collected.index, dtype=object)
        codes = (pos, recoded[: len(lacking)])
    cid = p.get("codelist") or (table.codelist if table is not None else None)
    return check_codelist(
        ctx, b, values, cid, var, column=str(p["ct"]), shown=collected, codes=codes
    )


def _describe_template(p: SpecMap, v: str) -> str:
    import string

    parts = []
    for literal, name, _spec, _conv in string.Formatter().parse(str(p["template"])):
        if literal:
            parts.append(f"'{literal}'")
        if name:
            parts.append(name)
    if len(parts) == 1:
        return f"Set to {parts[0]}" if parts[0].startswith("'") else f"Equal to {parts[0]}"
    return f"Concatenation of {', '.join(parts[:-1])} and {parts[-1]}"


@algorithm(
    "template",
    kind="template",
    checks_codelist=True,
    summary="text assembled from variables and raw fields",
    example='{template: "{STUDYID}-{SITEID}-{SUBJID}"}',
    describe=_describe_template,
)
def assign_template(ctx: Context, b: Build, p: SpecMap, var: str) -> pd.Series:
    import string

    out = empty_text(b.out.index)
    for literal, name, _spec, _conv in string.Formatter().parse(str(p["template"])):
        if literal:
            out = out + literal
        if name:
            out = out + text(ref(ctx, b, name)).astype(str)
    return out.astype(object)


def _describe_date(p: SpecMap, v: str) -> str:
    time = f" and the time in {p['time']}" if "time" in p else ""
    return f"ISO 8601 date from the CRF date in {p['date']}{time}"


@algorithm(
    "date",
    kind="field",
    params={"time": Param("field", doc="a raw time field, written after a complete date")},
    origin="Collected",
    summary="ISO 8601 date (or date-time) from a parsed date and an optional time",
    example="{date: INFDAT, time: INFSTTIM}",
    describe=_describe_date,
)
def assign_date(ctx: Context, b: Build, p: SpecMap, var: str) -> pd.Series:
    date = text(raw(ctx, b, p["date"]))
    time = text(raw(ctx, b, p["time"])) if "time" in p else None
    return iso8601.assemble(date, time).astype(object)


@algorithm(
    "dm",
    kind="subject",
    origin="Collected",
    summary="a DM variable of the record's subject",
    example="{dm: USUBJID}",
    describe=lambda p, v: f"DM.{p['dm']} of the subject (matched on the subject identifier)",
)
def subject_variable(ctx: Context, b: Build, p: SpecMap, var: str) -> pd.Series:
    return ctx.subject_lookup(b, str(p["dm"]))


def _visit(ctx: Context, b: Build, field: str, key: str, value: str) -> pd.Series:
    """VISIT or VISITNUM of each record's visit: a planned visit by the schedule, or an
    unscheduled one (study.yaml ``unscheduled:``) by the subject's visit form."""
    values = text(raw(ctx, b, field))
    table = ctx.visit_table
    mapped = values.map(dict(zip(table[key], table[value], strict=True)))
    decl = ctx.study.unscheduled
    if decl is not None and key == "raw":
        pattern = str(decl["raw"])
        names = {v: bool(v) and fnmatch(v, pattern) for v in pd.unique(values)}
        unplanned = mapped.isna() & values.map(names).astype(bool)
        if unplanned.any():
            extra = ctx.unscheduled_table.set_index(["subject", "raw"])[value]
            keys = pd.MultiIndex.from_arrays(
                [text(b.raw[ctx.study.subject_field]).to_numpy(), values.to_numpy()]
            )
            found = pd.Series(extra.reindex(keys).to_numpy(), index=values.index)
            form = str(decl["visit"]).partition(".")[0]
            ctx.check(
                b,
                unplanned & found.isna(),
                field,
                f"unscheduled visit not on the visit form {ctx.study.forms[form].file} "
                "(its date numbers it)",
                values,
            )
            mapped = mapped.where(~unplanned, found)
    ctx.check(
        b, (values != "") & mapped.isna(), field, "visit not in the study's visit schedule", values
    )
    return mapped


@algorithm(
    "visit",
    kind="field",
    origin="Collected",
    summary="VISIT from the CRF visit name, by the study's visit schedule",
    example="{visit: VISIT}",
    describe=lambda p, v: f"Planned visit name of the CRF visit in {p['visit']} (visit schedule)",
)
def assign_visit(ctx: Context, b: Build, p: SpecMap, var: str) -> pd.Series:
    return text(_visit(ctx, b, str(p["visit"]), "raw", "VISIT"))


@algorithm(
    "visitnum",
    kind="field",
    origin="Collected",
    summary="VISITNUM from the CRF visit name, by the study's visit schedule",
    example="{visitnum: VISIT}",
    describe=lambda p, v: f"Planned visit number of the CRF visit in {p['visitnum']}",
)
def assign_visitnum(ctx: Context, b: Build, p: SpecMap, var: str) -> pd.Series:
    return _visit(ctx, b, str(p["visitnum"]), "raw", "VISITNUM").astype("float64")


@algorithm(
    "visitnum_of",
    kind="ref",
    origin="Derived",
    summary="VISITNUM of a planned VISIT name",
    example="{visitnum_of: VISIT}",
    describe=lambda p, v: f"Planned visit number of the visit named in {p['visitnum_of']}",
)
def assign_visitnum_of(ctx: Context, b: Build, p: SpecMap, var: str) -> pd.Series:
    return _visit(ctx, b, str(p["visitnum_of"]), "VISIT", "VISITNUM").astype("float64")


def _fold(values: pd.Series, rule: str) -> pd.Series:
    """Verbatim terms as the dictionary's match rule compares them: trimmed, and case-folded
    for ``ignore_case``."""
    trimmed = values.astype(str).str.strip()
    return trimmed.str.casefold() if rule == "ignore_case" else trimmed


def _dictionary(ctx: Context, b: Build, name: str, column: str) -> pd.DataFrame:
    """A spec coding table keyed by its match rule's form of the verbatim, read once per run;
    a missing file or column, or two rows coding one verbatim, is a spec error."""
    d = (b.spec.dictionaries or SpecMap())[name]
    key, where, rule = str(d["key"]), (b.spec.dictionaries or SpecMap()).where(name), d["match"]
    path = Path(ctx.study.root) / str(d["file"])
    cached = (str(path), str(rule))
    if cached not in ctx.dictionaries:
        try:
            table = pd.read_csv(path, dtype=str, keep_default_na=False, comment="#")
        except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc).splitlines()[-1]
            raise InputError(f"{where}: coding table {d['file']}: {reason}") from None
        if key not in table.columns:
            raise InputError(f"{where}: coding table {d['file']} has no key column {key}")
        folded = _fold(table[key], str(rule))
        dup = folded.duplicated(keep=False)
        if dup.any():
            rows = np.flatnonzero(dup.to_numpy()) + 1
            same = [r for r in rows if folded.iloc[r - 1] == folded.iloc[rows[0] - 1]]
            how = " (match: ignore_case)" if rule == "ignore_case" else ""
            raise InputError(
                f"{d['file']}: row {same[1]}, column {key}: duplicate verbatim "
                f"{table[key].iloc[same[1] - 1]!r}{how}, also on row {same[0]} "
                "(each must code one way)"
            )
        ctx.dictionaries[cached] = table.set_axis(folded.to_numpy())
    table = ctx.dictionaries[cached]
    if column not in table.columns:
        raise InputError(f"{where}: coding table {d['file']} has no column {column}")
    return table


def _external_dictionary(p: SpecMap, var: str, dom: DomainSpec) -> str | None:
    """Terms coded against an external dictionary: a Define-XML ExternalCodeList (section
    5.3.12); the numeric codes (--CD variables) have none."""
    if var.endswith("CD"):
        return None
    d = (dom.dictionaries or SpecMap())[str(p["dictionary"])]
    return f"EXT:{d.get('name', p['dictionary'])}:{d.get('version', '')}"


def _describe_dictionary(p: SpecMap, v: str) -> str:
    if "field" not in p:
        return (
            f"{p['column']} of the record's row in the coding export of dictionary "
            f"{p['dictionary']}"
        )
    return (
        f"{p['column']} of the verbatim term in {p['field']}, looked up in the coding table "
        f"{p['dictionary']}"
    )


@algorithm(
    "dictionary",
    kind="dictionary",
    params={
        "column": Param("text", True, doc="the coding column (PT, SOC, PTCODE ...)"),
        "field": Param("field", doc="the verbatim term (coding tables only)"),
    },
    origin="Assigned",
    summary="a coding column for the record: from a coding table by the verbatim in `field:` "
    "(compared by the dictionary's `match:` rule), or from a raw coding export (`form:`) by the "
    "record's key",
    example="{dictionary: meddra, column: PT, field: AETERM}",
    describe=_describe_dictionary,
    define_codelist=_external_dictionary,
)
def assign_dictionary(ctx: Context, b: Build, p: SpecMap, var: str) -> pd.Series:
    """Coding of each record: its verbatim looked up in a coding table, or its row of a raw
    coding export; an uncoded record stops the run."""
    name, column = str(p["dictionary"]), str(p["column"])
    d = (b.spec.dictionaries or SpecMap())[name]
    if "form" in d:
        form = str(d["form"])
        out = ctx.form_lookup(b, form, column)
        found = ctx.form_lookup(b, form, ROW) != ""
        pairs = ctx.study.join_key(b.spec, b.spec.sources[0].form, form)
        ctx.check(
            b,
            ~found,
            pairs[-1][1],
            f"no row of the coding export {ctx.study.forms[form].file} for this record's "
            f"{', '.join(t for _o, t in pairs)} (uncoded)",
        )
    else:
        table = _dictionary(ctx, b, name, column)
        rule = str(d["match"])
        verbatim = text(raw(ctx, b, p["field"]))
        key = _fold(verbatim, rule)
        found = key.isin(table.index)
        missing = (verbatim != "") & ~found
        if missing.any() and rule == "exact":
            loose = _fold(verbatim, "ignore_case").isin(
                set(_fold(table.index.to_series(), "ignore_case"))
            )
            if (missing & loose).any():
                ctx.check(
                    b,
                    missing & loose,
                    str(p["field"]),
                    f"verbatim term not in coding table {name}: it differs from a coded term "
                    "only in case (the dictionary's match rule is exact; declare "
                    "match: ignore_case if case does not matter)",
                    verbatim,
                )
        ctx.check(
            b,
            missing,
            str(p["field"]),
            f"verbatim term not in coding table {name} (uncoded)",
            verbatim,
        )
        values = table[column].reindex(key.to_numpy()).fillna("").to_numpy()
        out = pd.Series(values, index=b.out.index, dtype=object)
    if var.endswith("CD"):
        num = pd.to_numeric(out.where(out != ""), errors="coerce")
        ctx.check(
            b,
            (out != "") & num.isna(),
            column,
            f"code {column} of dictionary {name} is not a number",
            out,
        )
        return num.astype("float64")
    return out


@algorithm(
    "decode",
    kind="ref",
    params={
        "from": Param("codelist", doc="the coded variable's codelist, when no algorithm set it")
    },
    origin="Assigned",
    summary="decode of a coded variable: the sponsor decode, or the paired CT term",
    example="{decode: QSTESTCD, codelist: C179935}",
    describe=lambda p, v: f"Decode of {p['decode']}",
)
def assign_decode(ctx: Context, b: Build, p: SpecMap, var: str) -> pd.Series:
    """Decode of a coded variable: sponsor decode, or the paired CT codelist's term."""
    source = str(p["decode"])
    values = text(ref(ctx, b, source))
    src_cl = p.get("from") or b.codelist_of.get(source)
    if src_cl is None:
        raise InputError(f"{b.spec.file}: {var}: cannot decode {source}: no codelist known for it")
    cl = ctx.codelist(str(src_cl))
    target = p.get("codelist")
    mapping: dict[str, str] = {}
    if cl is None:
        raise InputError(f"{b.spec.file}: {var}: cannot decode {source}: unknown codelist {src_cl}")
    if isinstance(cl, Codelist):  # a sponsor codelist states its decodes
        mapping = {t.value: t.decode or t.value for t in cl.terms}
    else:
        tcl = ctx.codelist(str(target)) if target else None
        if isinstance(tcl, Codelist):
            raise InputError(
                f"{b.spec.file}: {var}: cannot decode {source} (CDISC codelist {src_cl}) with "
                f"sponsor codelist {target}: the paired term is found by its NCI code"
            )
        by_code = {t.code: t.submission_value for t in tcl.terms.values()} if tcl else {}
        for v, term in cl.terms.items():
            mapping[v] = by_code.get(term.code, term.preferred_term)
    out = values.map(mapping)
    ctx.check(b, (values != "") & out.isna(), var, f"no decode for {source}", values)
    if target:
        b.codelist_of[var] = str(target)
    return text(out)


_PARTIAL_BIRTH = ("certain", "first", "mid", "last")


def _completed_years(birth: pd.Series, at: pd.Series) -> pd.Series:
    years = at.dt.year - birth.dt.year
    before = (at.dt.month < birth.dt.month) | (
        (at.dt.month == birth.dt.month) & (at.dt.day < birth.dt.day)
    )
    return (years - before.astype("int64")).astype("float64")


def _describe_age(p: SpecMap, v: str) -> str:
    words = (
        f"Age in completed years from the birth date ({p['age']}) to {p['at']} (a year is "
        "completed on its anniversary day); blank when the reference date is incomplete"
    )
    rule = {
        "certain": "; for a partial birth date, the age only when every possible birth date "
        "gives the same age, else blank",
        "first": "; a partial birth date is taken as its first possible day (January 1, the "
        "1st of the month)",
        "mid": "; a partial birth date is taken as June 30 (year only) or the 15th (month known)",
        "last": "; a partial birth date is taken as its last possible day, giving the age the "
        "subject has certainly reached",
    }
    return words + rule.get(str(p.get("partial", "")), "")


#: The oldest age taken as a real one: a longer life (the oldest verified is 122 years) is a
#: birth date keyed wrong (0001-01-01, 1800-01-01), never an age to submit.
MAX_AGE = 130


@algorithm(
    "age",
    kind="field",
    params={
        "at": Param("ref", True, doc="the reference date (e.g. RFICDTC)"),
        "partial": Param("choice", choices=_PARTIAL_BIRTH, doc="rule for a partial birth date"),
    },
    summary="age in completed years from a birth date to a reference date; a partial birth "
    "date needs `partial:` (certain, first, mid or last)",
    example="{age: BRTHDAT, at: RFICDTC, partial: certain}",
    describe=_describe_age,
)
def derive_age(ctx: Context, b: Build, p: SpecMap, var: str) -> pd.Series:
    """Age in completed years at the reference date, by the declared partial-date rule; a
    birth date after the reference date, or more than :data:`MAX_AGE` years before it, is an
    error naming the record (the date itself is not shown: it is a direct identifier)."""
    age = _age(ctx, b, p, var)
    birth = text(raw(ctx, b, p["age"]))
    column = str(p["age"])
    ctx.check(b, (age < 0).fillna(False), column, f"birth date after {p['at']}", birth)
    ctx.check(
        b,
        (age > MAX_AGE).fillna(False),
        column,
        f"birth date more than {MAX_AGE} years before {p['at']} (implausible age)",
        birth,
    )
    return age


def _age(ctx: Context, b: Build, p: SpecMap, var: str) -> pd.Series:
    """Completed years from the birth date to the reference date, by the partial rule."""
    birth_text = text(raw(ctx, b, p["age"]))
    at = iso8601.date_part(text(ref(ctx, b, p["at"])))
    exact = iso8601.date_part(birth_text)
    partial = (birth_text != "") & exact.isna()
    rule = p.get("partial")
    if rule is None:
        ctx.check(
            b,
            partial,
            str(p["age"]),
            "partial birth date: declare how the age is derived from it "
            f"({var}: partial: certain, first, mid or last)",
            birth_text,
        )
        return _completed_years(exact, at)
    lo, hi = iso8601.date_bounds(birth_text)
    if rule == "first":
        birth = lo
    elif rule == "last":
        birth = hi
    elif rule == "mid":
        month_known = birth_text.str.fullmatch(r"[0-9]{4}-[0-9]{2}")
        mid_text = (birth_text + "-15").where(month_known, birth_text.str.slice(0, 4) + "-06-30")
        mid = pd.to_datetime(mid_text, format="%Y-%m-%d", errors="coerce")
        birth = exact.where(~partial, mid)
    else:  # certain: the same age for every possible birth date, else blank
        young, old = _completed_years(hi, at), _completed_years(lo, at)
        return young.where(young == old)
    return _completed_years(birth, at)


def _unit_table(ctx: Context, p: SpecMap) -> pd.DataFrame:
    rows = ctx.study.units[str(p["table"])]
    return pd.DataFrame(
        [
            {
                "test": str(r["test"]),
                "from": str(r["from"]),
                "to": str(r["to"]),
                "factor": float(r["factor"]),
                "decimals": r.get("decimals"),
            }
            for r in rows
        ]
    )


#: a qualified result: comparator, blanks, an ASCII decimal number (never another script's digits)
_QUALIFIED = r"(<=|>=|<|>) *([-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+))"


def _scaled(value: pd.Series, conv: pd.DataFrame) -> pd.Series:
    """Values x the conversion factor, rounded to the table's decimals where converted."""
    out = value * conv["factor"].astype("float64")
    dec = conv["decimals"]
    has_dec = dec.notna() & (conv["factor"] != 1.0)
    for d in pd.unique(dec[has_dec]):  # loop over distinct precisions
        sel = has_dec & (dec == d)
        out[sel] = round_half_away(out[sel], int(d))
    return out


def _conversion(ctx: Context, b: Build, p: SpecMap) -> tuple[pd.DataFrame, pd.Series]:
    """Per record: factor, target unit and decimals; error for an unconvertible unit."""
    table = _unit_table(ctx, p)
    test = text(ref(ctx, b, p["test"]))
    unit_name = str(p.get("unit") or p.get("convert_unit"))
    unit = text(ref(ctx, b, unit_name))
    # the conversion depends on the (test, unit) pair alone: looked up once per distinct pair
    test_codes, tests = distinct(test)
    unit_codes, units = distinct(unit)
    width = max(len(units), 1)
    pair_codes, pairs = pd.factorize(test_codes * width + unit_codes)
    pair_test = pd.Series(tests[pairs // width], dtype=object)
    pair_unit = pd.Series(units[pairs % width], dtype=object)
    conv = table.set_index(["test", "from"]).reindex(
        pd.MultiIndex.from_arrays([pair_test, pair_unit])
    )
    conv.index = pair_test.index
    std_units = table.drop_duplicates("test").set_index("test")["to"]
    listed = pair_test.isin(std_units.index)
    already = pair_unit == pair_test.map(std_units)
    conv.loc[already.to_numpy(), "factor"] = 1.0
    unconvertible = (listed & conv["factor"].isna() & (pair_unit != "")).to_numpy()
    ctx.check(
        b,
        pd.Series(unconvertible[pair_codes], index=b.out.index),
        unit_name,
        "unit cannot be converted to the standard unit of this test",
        unit,
    )
    conv.loc[(~listed).to_numpy(), "factor"] = 1.0
    conv["to"] = conv["to"].where(conv["to"].notna() & listed, pair_unit)
    conv = conv.take(pair_codes)
    conv.index = b.out.index
    return conv, unit


@algorithm(
    "convert",
    kind="ref",
    params={
        "test": Param("ref", True, doc="the test code variable"),
        "unit": Param("ref", True, doc="the original unit variable"),
        "table": Param("units", True, doc="the unit table of codelists.yaml"),
    },
    summary="the result in the test's standard unit (original x factor, table's decimals)",
    example="{convert: LBORRES, test: LBTESTCD, unit: LBORRESU, table: lab}",
    describe=lambda p, v: (
        f"{p['convert']} converted to the standard unit of the test ({p['test']}) by the unit "
        f"table {p['table']}: original value x factor, rounded to the table's decimals; a "
        "qualified result such as <5 has no numeric value"
    ),
)
def derive_standard_result(ctx: Context, b: Build, p: SpecMap, var: str) -> pd.Series:
    """Numeric value in the standard unit (original x factor), rounded to the table's decimals.

    A result that is not a number must be a qualified one such as "<5" (SDTMIG 4.5.1: it stays
    in --STRESC and --STRESN is null); any other text stops the run naming the raw row.
    """
    raw_values = text(ref(ctx, b, p["convert"]))
    num = to_number(raw_values)
    other = (raw_values != "") & num.isna()  # the only values that may be qualified (few)
    qualified = pd.Series(False, index=raw_values.index)
    if other.any():
        qualified[other] = raw_values[other].str.fullmatch(_QUALIFIED).fillna(False).astype(bool)
    source = b.spec.variables.get(str(p["convert"])) or SpecMap()
    column = str(source["field"]) if "field" in source else str(p["convert"])
    ctx.check(
        b,
        other & ~qualified,
        column,
        "expected a number or a qualified number such as <5",
        raw_values,
    )
    conv, _ = _conversion(ctx, b, p)
    return _scaled(num, conv).astype("float64")


@algorithm(
    "convert_text",
    kind="ref",
    params={
        "test": Param("ref", True, doc="the test code variable"),
        "unit": Param("ref", True, doc="the original unit variable"),
        "table": Param("units", True, doc="the unit table of codelists.yaml"),
    },
    summary="the character result in the test's standard unit: a number converted as by "
    "`convert`, a qualified result such as <0.5 with its number converted (<5), other text as "
    "collected",
    example="{convert_text: LBORRES, test: LBTESTCD, unit: LBORRESU, table: lab}",
    describe=lambda p, v: (
        f"{p['convert_text']} in the standard unit of the test ({p['test']}) by the unit table "
        f"{p['table']}, as text; a qualified result such as <0.5 keeps its qualifier with the "
        "number converted; other text as collected"
    ),
)
def derive_standard_text(ctx: Context, b: Build, p: SpecMap, var: str) -> pd.Series:
    """--STRESC (SDTMIG 4.5.1): the result in the standard unit as text, qualifiers kept."""
    raw_values = text(ref(ctx, b, p["convert_text"]))
    conv, _ = _conversion(ctx, b, p)
    num = pd.to_numeric(raw_values.where(raw_values != ""), errors="coerce")
    out = raw_values.copy()
    is_num = num.notna()
    out[is_num] = number_text(_scaled(num, conv))[is_num]
    qual = raw_values[~is_num & (raw_values != "")].str.extract(f"^{_QUALIFIED}$")
    hit = qual[1].notna()
    if hit.any():
        idx = qual.index[hit]
        value = _scaled(pd.to_numeric(qual.loc[idx, 1]), conv.loc[idx])
        out[idx] = qual.loc[idx, 0] + number_text(value)
    return out.astype(object)


@algorithm(
    "convert_unit",
    kind="ref",
    params={
        "test": Param("ref", True, doc="the test code variable"),
        "table": Param("units", True, doc="the unit table of codelists.yaml"),
    },
    summary="the test's standard unit (the unit itself where the table does not list the test)",
    example="{convert_unit: LBORRESU, test: LBTESTCD, table: lab}",
    describe=lambda p, v: f"Standard unit of the test ({p['test']}) by the unit table {p['table']}",
)
def derive_standard_unit(ctx: Context, b: Build, p: SpecMap, var: str) -> pd.Series:
    conv, _ = _conversion(ctx, b, p)
    return text(conv["to"])


@algorithm(
    "num_text",
    kind="ref",
    summary="character form of a numeric result (add `else: {copy: ...}` for the rest)",
    example="{num_text: LBSTRESN, else: {copy: LBORRES}}",
    describe=lambda p, v: f"{p['num_text']} written as text",
)
def derive_numeric_text(ctx: Context, b: Build, p: SpecMap, var: str) -> pd.Series:
    """Character form of a numeric result; blank where there is no number."""
    return number_text(ref(ctx, b, p["num_text"]).astype("float64"))


@algorithm(
    "nrind",
    kind="ref",
    params={
        "low": Param("ref", True, doc="the standard lower limit"),
        "high": Param("ref", True, doc="the standard upper limit"),
    },
    summary="LOW / NORMAL / HIGH against the standard reference range",
    example="{nrind: LBSTRESN, low: LBSTNRLO, high: LBSTNRHI}",
    describe=lambda p, v: (
        f"LOW if {p['nrind']} < {p['low']}, HIGH if {p['nrind']} > {p['high']}, NORMAL "
        "otherwise; blank when the result or both limits are missing"
    ),
)
def derive_nrind(ctx: Context, b: Build, p: SpecMap, var: str) -> pd.Series:
    """LOW / NORMAL / HIGH against the standard reference range (NRIND, C78736)."""
    value = ref(ctx, b, p["nrind"]).astype("float64")
    low = ref(ctx, b, p["low"]).astype("float64")
    high = ref(ctx, b, p["high"]).astype("float64")
    out = empty_text(b.out.index)
    ranged = value.notna() & (low.notna() | high.notna())
    out[ranged] = "NORMAL"
    out[value.notna() & low.notna() & (value < low)] = "LOW"
    out[value.notna() & high.notna() & (value > high)] = "HIGH"
    return out


def _groups(p: SpecMap, var: str) -> list[tuple[str, Condition | None]]:
    """(label, parsed condition or None for 'any other value') in the order written."""
    name = str(p["categorize"])
    groups = p["groups"]
    return [
        (str(label), parse_condition({name: cond}, groups.where(label)) if cond else None)
        for label, cond in groups.items()
    ]


def _describe_categorize(p: SpecMap, v: str) -> str:
    parts = [
        f"{label} if {cond.describe()}" if cond is not None else f"{label} otherwise"
        for label, cond in _groups(p, v)
    ]
    return f"Category of {p['categorize']}: " + "; ".join(parts) + " (the first that holds)"


@algorithm(
    "categorize",
    kind="ref",
    params={"groups": Param("groups", True, doc="label: condition on the value, in order")},
    summary="the label of the first group whose condition the value meets (`{}`: any other "
    "value); a value in no group stops the run",
    example='{categorize: PCTAREA, groups: {"0": {eq: 0}, "1": {lt: 10}, "2": {lt: 30}, '
    '"3": {lt: 50}, "4": {lt: 70}, "5": {lt: 90}, "6": {le: 100}}}',
    describe=_describe_categorize,
)
def derive_category(ctx: Context, b: Build, p: SpecMap, var: str) -> pd.Series:
    """Banding: each value gets the label of the first group whose condition it meets."""
    name = str(p["categorize"])
    values = ref(ctx, b, name)
    out = empty_text(b.out.index)
    done = blank(values).to_numpy(dtype=bool)
    for label, cond in _groups(p, var):  # a handful of groups, each vectorised
        hit = ~done if cond is None else condition_hit(ctx, b, cond) & ~done
        out[hit] = label
        done = done | hit
    ctx.check(
        b,
        pd.Series(~done, index=b.out.index),
        _column_of(b, name),
        f"value in no group of {var} (add a group, or {{}} for any other value)",
        text(values),
    )
    return out


def _column_of(b: Build, name: str) -> str:
    """The raw field a variable was read from, for row errors; else the name itself."""
    source = b.spec.variables.get(name) or SpecMap()
    for key in ("field", "number", "ct", "date"):
        if key in source:
            return str(source[key])
    return name


# ---------------------------------------------------------------------- subject level (stage 1)

_AGGREGATES = ("min", "max", "count", "count_distinct")
_AGG_WORDS = {
    "min": "Earliest (smallest)",
    "max": "Latest (largest)",
    "count": "Number of non-blank",
    "count_distinct": "Number of distinct",
}


def _of(p: SpecMap) -> list[str]:
    return [str(x) for x in p["of"]] if isinstance(p["of"], list) else [str(p["of"])]


def _describe_aggregate(p: SpecMap, v: str) -> str:
    cond = parse_condition(p["where"]).describe() if "where" in p else ""
    how = str(p["aggregate"])
    of = " or ".join(_of(p))
    # a trial summary value (TS has no subjects) aggregates over the study's records
    scope = "the study's records" if v.startswith("TS") else "the subject's records"
    among = f" where {cond}" if cond else ""
    if how in ("min", "max"):
        return (
            f"{_AGG_WORDS[how]} {of} of {scope}{among} (ISO 8601 dates and text compare in "
            "text order; blank values are ignored); blank when there is none"
        )
    return f"{_AGG_WORDS[how]} {of} values of {scope}{among}; 0 when there is none"


@algorithm(
    "aggregate",
    kind="choice",
    choices=_AGGREGATES,
    stage=1,
    params={
        "of": Param("others", True, doc="DOMAIN.VARIABLE, or a list of them (values pooled)"),
        "where": Param("condition_of", doc="only the source records meeting it"),
    },
    summary="min / max / count / count_distinct of other domains' variables, per subject",
    example="{aggregate: max, of: [SV.SVENDTC, AE.AEENDTC]}",
    describe=_describe_aggregate,
)
def derive_aggregate(ctx: Context, b: Build, p: SpecMap, var: str) -> pd.Series:
    """min / max / count / count_distinct of other domains' variables, per subject or overall.

    With several ``of`` variables the values of all are pooled (e.g. the latest of two dates);
    ``where`` applies to each source domain's records.
    """
    values, subjects = [], []
    per_subject = "USUBJID" in b.out.columns
    for item in _of(p):
        dom, _, ovar = item.partition(".")
        other = ctx.builds[dom]
        ensure_variable(ctx, other, ovar)
        col = other.out[ovar]
        col = text(col) if col.dtype == object else col
        keep = pd.Series(True, index=other.out.index)
        if "where" in p:
            keep = evaluate(ctx, other, condition(ctx, p["where"], p.where("where")))
        present = (keep & (col.astype(str) != "") & col.notna()).to_numpy()
        values.append(col[present].reset_index(drop=True))
        per_subject = per_subject and "USUBJID" in other.out.columns
        if "USUBJID" in other.out.columns:
            subjects.append(other.out.loc[present, "USUBJID"].reset_index(drop=True))
    vals = pd.concat(values, ignore_index=True)
    how = str(p["aggregate"])
    if per_subject:
        groups = vals.groupby(pd.concat(subjects, ignore_index=True))
        agg = {
            "min": groups.min,
            "max": groups.max,
            "count": groups.count,
            "count_distinct": groups.nunique,
        }[how]()
        out = b.out["USUBJID"].map(agg)
        return text(out) if how in ("min", "max") else out.fillna(0).astype("float64")
    result = {
        "min": lambda s: s.min() if len(s) else "",
        "max": lambda s: s.max() if len(s) else "",
        "count": lambda s: len(s),
        "count_distinct": lambda s: s.nunique(),
    }[how](vals)
    return pd.Series(str(result), index=b.out.index, dtype=object)


# ---------------------------------------------------------------------- timing (stage 3)


def _subject_pairs(b: Build, values: pd.Series) -> tuple[np.ndarray, pd.Series, pd.Series]:
    """The distinct (USUBJID, value) pairs of the records: per record the position of its
    pair, and the pairs' subjects and values (a result that depends on the subject and the
    value alone is computed once per pair)."""
    subj_codes, subjects = distinct(b.out["USUBJID"])
    value_codes, uniq = distinct(values)
    width = max(len(uniq), 1)
    pair_codes, pairs = pd.factorize(subj_codes * width + value_codes)
    return (
        pair_codes,
        pd.Series(subjects[pairs // width], dtype=object),
        pd.Series(uniq[pairs % width], dtype=object),
    )


@algorithm(
    "study_day",
    kind="ref",
    stage=3,
    summary="SDTMIG 4.4.4 study day against DM.RFSTDTC (no day 0, blank for partial dates)",
    example="{study_day: AESTDTC}",
    describe=lambda p, v: (
        f"Study day of {p['study_day']} relative to DM.RFSTDTC: date - RFSTDTC + 1 on or after "
        "RFSTDTC, date - RFSTDTC before it (there is no day 0); blank when either date is "
        "partial"
    ),
)
def derive_study_day(ctx: Context, b: Build, p: SpecMap, var: str) -> pd.Series:
    """SDTMIG 4.4.4 study day against DM.RFSTDTC; no day 0; blank for partial dates."""
    dtc = text(ref(ctx, b, p["study_day"]))
    pair_codes, subjects, dates = _subject_pairs(b, dtc)
    rf = subjects.map(ctx.builds["DM"].out.set_index("USUBJID")["RFSTDTC"])
    days = iso8601.study_day(dates, text(rf)).to_numpy(dtype="float64")
    return pd.Series(days[pair_codes], index=b.out.index, dtype="float64")


def _elements(ctx: Context) -> pd.DataFrame:
    """The subject elements (SE) with their order per subject and their dates parsed, made
    once per SE dataset (every domain's EPOCH reads them)."""
    out = ctx.builds["SE"].out
    kept = ctx.memo.get("elements")
    if kept is not None and kept[0] is out:
        return kept[1]
    se = out[["USUBJID", "SESTDTC", "SEENDTC", "EPOCH"]].copy()
    se["order"] = se.groupby("USUBJID").cumcount()
    se["s_d"], se["e_d"] = (iso8601.date_part(se[c]) for c in ("SESTDTC", "SEENDTC"))
    se["s_t"], se["e_t"] = (iso8601.datetime_part(se[c]) for c in ("SESTDTC", "SEENDTC"))
    ctx.memo["elements"] = (out, se)
    return se


@algorithm(
    "epoch",
    kind="ref",
    stage=3,
    params={
        "tie": Param(
            "choice",
            choices=("earlier", "later"),
            doc="on a transition day: the element that ends (earlier, default) or starts",
        )
    },
    summary="EPOCH of the subject element (SE) containing the date",
    example="{epoch: AESTDTC, tie: later}",
    describe=lambda p, v: (
        f"EPOCH of the subject's element (SE) whose period contains {p['epoch']}; a partial "
        "date must lie wholly inside it; on a day when one element ends and the next starts, "
        + (
            "the element that starts that day"
            if str(p.get("tie", "earlier")) == "later"
            else "the element that ends that day"
        )
    ),
)
def derive_epoch(ctx: Context, b: Build, p: SpecMap, var: str) -> pd.Series:
    """EPOCH of the subject element (SE) containing the date (rule in trial_design.yaml SE)."""
    dtc = text(ref(ctx, b, p["epoch"]))
    se = _elements(ctx)
    # the EPOCH depends on the subject and the date alone: found once per distinct pair
    pair_codes, subjects, dates = _subject_pairs(b, dtc)
    rec = pd.DataFrame(
        {"USUBJID": subjects.to_numpy(), "dtc": dates.to_numpy(), "rec": np.arange(len(dates))}
    )
    # a partial date is the interval it spans: it is inside an element only if all of it is
    rec["r_d"], rec["r_hi"] = iso8601.date_bounds(rec["dtc"])
    rec["r_t"] = iso8601.datetime_part(rec["dtc"])
    m = rec.merge(se, on="USUBJID", how="inner")
    s_d, e_d, s_t, e_t = m["s_d"], m["e_d"], m["s_t"], m["e_t"]
    r_d, r_hi, r_t = m["r_d"], m["r_hi"], m["r_t"]
    # compare at the precision both sides have: date-time where both carry a time (the
    # transition instant belongs to the element that starts then), else date
    start_ok = (s_t <= r_t).where(r_t.notna() & s_t.notna(), s_d <= r_d)
    end_ok = (r_t < e_t).where(r_t.notna() & e_t.notna(), r_hi <= e_d) | (m["SEENDTC"] == "")
    inside = start_ok & end_ok & r_d.notna()
    hits = m[inside.to_numpy()]
    # a record inside two elements (a transition day): `tie: earlier` (default) gives the
    # element that ends that day, `tie: later` the one that starts that day.
    grouped = hits.sort_values(["rec", "order"]).groupby("rec")["EPOCH"]
    pick = grouped.last() if str(p.get("tie", "earlier")) == "later" else grouped.first()
    per_pair = pick.reindex(rec["rec"]).to_numpy()
    return text(pd.Series(per_pair[pair_codes], index=b.out.index))


# ---------------------------------------------------------------------- order (stage 4)


@algorithm(
    "seq",
    kind="flag",
    stage=4,
    summary="--SEQ: 1, 2, ... per subject in the domain's key order",
    example="{seq: true}",
    describe=lambda p, v: (
        "Sequence number 1, 2, ... of the subject's records, in the order of the dataset's keys"
    ),
)
def derive_seq(ctx: Context, b: Build, p: SpecMap, var: str) -> pd.Series:
    """--SEQ: 1..n per subject in the domain's key order (the frame is sorted before stage 4)."""
    if "USUBJID" in b.out.columns and (b.out["USUBJID"] != "").any():
        return (b.out.groupby("USUBJID", sort=False).cumcount() + 1).astype("float64")
    return pd.Series(np.arange(1, len(b.out) + 1), index=b.out.index, dtype="float64")


@algorithm(
    "last_before_exposure",
    kind="ref",
    stage=4,
    params={
        "by": Param("refs", True, doc="the variables that make a test (e.g. LBTESTCD)"),
        "date": Param("ref", True, doc="the record's date"),
    },
    summary="--LOBXFL (SDTMIG 4.1.4.8): last non-missing result on or before first exposure",
    example="{last_before_exposure: LBSTRESC, by: [LBTESTCD], date: LBDTC}",
    describe=lambda p, v: (
        f"Y on the last record, in the dataset's key order, of each subject and "
        f"{', '.join(map(str, p['by']))} among those with a non-missing "
        f"{p['last_before_exposure']} dated ({p['date']}) on or before the first exposure "
        "(DM.RFXSTDTC); date-times are compared where both carry a time, else dates; blank on "
        "every other record"
    ),
)
def derive_lobxfl(ctx: Context, b: Build, p: SpecMap, var: str) -> pd.Series:
    """--LOBXFL (SDTMIG 4.1.4.8): last non-missing result on or before first exposure, per test."""
    value = text(ref(ctx, b, p["last_before_exposure"]))
    # on or before the first exposure depends on the subject and the date alone
    pair_codes, subjects, dtc = _subject_pairs(b, text(ref(ctx, b, p["date"])))
    rfx = text(subjects.map(ctx.builds["DM"].out.set_index("USUBJID")["RFXSTDTC"]))
    both_time = (dtc.str.len() > 10) & (rfx.str.len() > 10)
    before = np.where(
        both_time,
        iso8601.datetime_part(dtc) <= iso8601.datetime_part(rfx),
        iso8601.date_part(dtc) <= iso8601.date_part(rfx),
    ).astype(bool)[pair_codes]
    eligible = pd.Series(
        np.asarray(value.to_numpy(dtype=object) != "", dtype=bool) & before, index=b.out.index
    )
    keys = ["USUBJID", *[str(x) for x in p["by"]]]
    frame = b.out[keys].copy()
    frame["_pos"] = np.arange(len(frame))
    last = frame[eligible.to_numpy()].groupby(keys, sort=False)["_pos"].max()
    out = empty_text(b.out.index)
    out.iloc[last.to_numpy()] = "Y"
    return out


# ---------------------------------------------------------------------- documentation


def declared() -> dict[str, Algorithm]:
    """Every declared algorithm, by the name the spec uses."""
    return dict(ALGORITHMS)


def params_table() -> str:
    """The parameters table of docs/spec-format.md (each algorithm's own parameters)."""
    rows = [
        "| algorithm | parameter | required | value | meaning |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, algo in sorted(ALGORITHMS.items()):
        for pname, p in algo.params.items():
            value = KINDS[p.kind] + (f" ({', '.join(p.choices)})" if p.choices else "")
            meaning = p.doc or ("the algorithm's input" if pname == name else "")
            rows.append(
                f"| `{name}` | `{pname}` | {'yes' if p.required else 'no'} | {value} | {meaning} |"
            )
    rows.append(
        "| (every algorithm) | " + ", ".join(f"`{k}`" for k in COMMON) + " | no | | see below |"
    )
    return "\n".join(rows)


def docs_table() -> str:
    """The algorithms table of docs/spec-format.md, generated from the declarations."""
    rows = ["| algorithm | stage | example | does |", "| --- | --- | --- | --- |"]
    for name, algo in sorted(ALGORITHMS.items()):
        extra = [f"`{k}`" for k in algo.params if k != name]
        does = algo.summary + (f"; also takes {', '.join(extra)}" if extra else "")
        example = algo.example.replace("|", "\\|")
        rows.append(f"| `{name}` | {STAGES[algo.stage]} | `{example}` | {does} |")
    return "\n".join(rows)


def method_text(name: str, p: Mapping[str, Any], var: str) -> str:
    """The define.xml method of algorithm ``name`` given as ``p`` for ``var``, by its
    declaration (importing this module declares them, so a caller that never mapped a
    spec gets the same text)."""
    return ALGORITHMS[name].describe(SpecMap(p), var)
