"""Mapping algorithms: one small function per algorithm the spec names, declared where it lives.

Every algorithm has the same signature ``(ctx, b, p, var) -> Series``: the build context, the
domain under construction, the algorithm's spec mapping, and the target variable. Each returns
the variable's values for every record of the domain and does nothing else. Its declaration
(:func:`cdisc_umsc.sdtm.registry.algorithm`) gives the stage, the parameters and their kinds,
the default origin, a summary and an example, and the define.xml method text.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from cdisc_umsc.core import iso8601
from cdisc_umsc.core.conditions import parse_condition
from cdisc_umsc.core.errors import InputError
from cdisc_umsc.core.values import number_text, to_number
from cdisc_umsc.metadata.spec import DomainSpec
from cdisc_umsc.metadata.specfile import SpecMap
from cdisc_umsc.sdtm.context import Build, Context
from cdisc_umsc.sdtm.evaluate import (
    check_codelist,
    condition,
    empty_text,
    ensure_variable,
    evaluate,
    raw,
    ref,
    text,
)
from cdisc_umsc.sdtm.registry import ALGORITHMS, STAGES, Algorithm, Param, algorithm

__all__ = ["ALGORITHMS", "docs_table"]


def _q(value: object) -> str:
    return "blank" if value is None else f"'{value}'"


# ---------------------------------------------------------------------- row level (stage 0)


@algorithm(
    "setting",
    kind="setting",
    origin="Assigned",
    summary="a study setting (study: in study.yaml)",
    example="{setting: STUDYID}",
    describe=lambda p, v: f"Set to the study's {p['setting']} setting",
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
    source = " and ".join(map(str, p["fields"])) if "fields" in p else str(p.get("field"))
    return f"CRF field {source} recoded to submission values by the recode table {p['recode']}"


@algorithm(
    "recode",
    kind="recode",
    params={"field": Param("field"), "fields": Param("fields")},
    origin="Collected",
    summary="CT recode of a raw field with the spec's synonym table (`fields:` joins with `|`)",
    example="{recode: sex, field: SEX}",
    describe=_describe_recode,
)
def assign_recode(ctx: Context, b: Build, p: SpecMap, var: str) -> pd.Series:
    """CT recode with the spec's synonym table; values already in the codelist pass as they are."""
    values, column = _joined(ctx, b, p)
    table = ctx.study.recodes[str(p["recode"])]
    mapped = values.map(table.map)
    out = mapped.where(mapped.notna(), values).astype(object)
    cid = p.get("codelist") or table.codelist
    if cid:
        return check_codelist(ctx, b, out, cid, var, column=column, shown=values, recode=table.name)
    bad = (values != "") & mapped.isna()
    ctx.check(b, bad, column, f"value not in recode table '{table.name}'", values)
    return out


@algorithm(
    "ct",
    kind="field",
    params={"recode": Param("recode")},
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
    if table is not None:
        mapped = collected.map(table.map)
        values = mapped.where(mapped.notna(), collected).astype(object)
    cid = p.get("codelist") or (table.codelist if table is not None else None)
    return check_codelist(ctx, b, values, cid, var, column=str(p["ct"]), shown=collected)


@algorithm(
    "template",
    kind="template",
    checks_codelist=True,
    summary="text assembled from variables and raw fields",
    example='{template: "{STUDYID}-{SITEID}-{SUBJID}"}',
    describe=lambda p, v: f"Text assembled as {p['template']}",
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
    params={"time": Param("field")},
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
    describe=lambda p, v: f"DM.{p['dm']} of the subject",
)
def subject_variable(ctx: Context, b: Build, p: SpecMap, var: str) -> pd.Series:
    return ctx.subject_lookup(b, str(p["dm"]))


def _visit(ctx: Context, b: Build, field: str, key: str, value: str) -> pd.Series:
    values = text(raw(ctx, b, field))
    table = ctx.visit_table
    mapped = values.map(dict(zip(table[key], table[value], strict=True)))
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


def _dictionary(ctx: Context, b: Build, name: str, column: str) -> pd.DataFrame:
    """A spec coding table, read once per run; a missing file or column is a spec error."""
    dicts = b.spec.dictionaries or SpecMap()
    if name not in dicts:
        raise InputError(
            f"{b.spec.file}: unknown dictionary '{name}' (declare it under dictionaries:)"
        )
    d = dicts[name]
    key, where = str(d["key"]), dicts.where(name)
    path = Path(ctx.study.root) / str(d["file"])
    if str(path) not in ctx.dictionaries:
        try:
            table = pd.read_csv(path, dtype=str, keep_default_na=False, comment="#")
        except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc).splitlines()[-1]
            raise InputError(f"{where}: coding table {d['file']}: {reason}") from None
        if key not in table.columns:
            raise InputError(f"{where}: coding table {d['file']} has no key column {key}")
        dup = table.duplicated(key)
        if dup.any():
            row = int(np.flatnonzero(dup.to_numpy())[0]) + 1
            raise InputError(
                f"{d['file']}: row {row}, column {key}: duplicate verbatim "
                f"{table[key].iloc[row - 1]!r} (each must code one way)"
            )
        ctx.dictionaries[str(path)] = table.set_index(key)
    table = ctx.dictionaries[str(path)]
    if column not in table.columns:
        raise InputError(f"{where}: coding table {d['file']} has no column {column}")
    return table


def _external_dictionary(p: SpecMap, var: str, dom: DomainSpec) -> str | None:
    """Terms coded against an external dictionary: a Define-XML ExternalCodeList (section
    5.3.12); the numeric codes (--CD variables) have none."""
    if var.endswith("CD"):
        return None
    d = (dom.dictionaries or {})[str(p["dictionary"])]
    return f"EXT:{d.get('name', p['dictionary'])}:{d.get('version', '')}"


@algorithm(
    "dictionary",
    kind="dictionary",
    params={"column": Param("text", True), "field": Param("field", True)},
    origin="Assigned",
    summary="coding-table lookup of a verbatim term (trimmed, upper-cased)",
    example="{dictionary: meddra, column: PT, field: AETERM}",
    describe=lambda p, v: (
        f"{p['column']} of the verbatim term in {p['field']}, looked up in the coding "
        f"table {p['dictionary']}"
    ),
    define_codelist=_external_dictionary,
)
def assign_dictionary(ctx: Context, b: Build, p: SpecMap, var: str) -> pd.Series:
    """Coding-table lookup on the trimmed, upper-cased verbatim."""
    table = _dictionary(ctx, b, str(p["dictionary"]), str(p["column"]))
    verbatim = text(raw(ctx, b, p["field"]))
    key = verbatim.str.strip().str.upper()
    found = key.isin(table.index)
    ctx.check(
        b,
        (verbatim != "") & ~found,
        str(p["field"]),
        f"verbatim term not in coding table {p['dictionary']} (uncoded)",
        verbatim,
    )
    values = table[str(p["column"])].reindex(key.to_numpy()).fillna("").to_numpy()
    out = pd.Series(values, index=b.out.index, dtype=object)
    if var.endswith("CD"):
        return pd.to_numeric(out.where(out != ""), errors="raise").astype("float64")
    return out


@algorithm(
    "decode",
    kind="ref",
    params={"from": Param("codelist")},
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
    if getattr(cl, "sponsor", False):
        mapping = {t.value: t.decode or t.value for t in cl.terms}
    else:
        tcl = ctx.codelist(str(target)) if target else None
        by_code = {t.code: t.submission_value for t in tcl.terms.values()} if tcl else {}
        for v, term in cl.terms.items():
            mapping[v] = by_code.get(term.code, term.preferred_term)
    out = values.map(mapping)
    ctx.check(b, (values != "") & out.isna(), var, f"no decode for {source}", values)
    if target:
        b.codelist_of[var] = str(target)
    return text(out)


@algorithm(
    "age",
    kind="field",
    params={"at": Param("ref", True)},
    summary="age in completed years from a birth date to a reference date",
    example="{age: BRTHDAT, at: RFICDTC}",
    describe=lambda p, v: f"Age in completed years from the birth date ({p['age']}) to {p['at']}",
)
def derive_age(ctx: Context, b: Build, p: SpecMap, var: str) -> pd.Series:
    """Age in completed years at the reference date."""
    birth = iso8601.date_part(text(raw(ctx, b, p["age"])))
    at = iso8601.date_part(text(ref(ctx, b, p["at"])))
    years = at.dt.year - birth.dt.year
    before = (at.dt.month < birth.dt.month) | (
        (at.dt.month == birth.dt.month) & (at.dt.day < birth.dt.day)
    )
    return (years - before.astype("int64")).astype("float64")


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


def _conversion(ctx: Context, b: Build, p: SpecMap) -> tuple[pd.DataFrame, pd.Series]:
    """Per record: factor, target unit and decimals; error for an unconvertible unit."""
    table = _unit_table(ctx, p)
    test = text(ref(ctx, b, p["test"]))
    unit_name = str(p.get("unit") or p.get("convert_unit"))
    unit = text(ref(ctx, b, unit_name))
    key = pd.MultiIndex.from_arrays([test, unit])
    conv = table.set_index(["test", "from"]).reindex(key)
    conv.index = b.out.index
    std_units = table.drop_duplicates("test").set_index("test")["to"]
    listed = test.isin(std_units.index)
    already = unit == test.map(std_units)
    conv.loc[already.to_numpy(), "factor"] = 1.0
    unconvertible = listed & conv["factor"].isna() & (unit != "")
    ctx.check(
        b,
        unconvertible,
        unit_name,
        "unit cannot be converted to the standard unit of this test",
        unit,
    )
    conv.loc[(~listed).to_numpy(), "factor"] = 1.0
    conv["to"] = conv["to"].where(conv["to"].notna() & listed, unit)
    return conv, unit


@algorithm(
    "convert",
    kind="ref",
    params={"test": Param("ref", True), "unit": Param("ref", True), "table": Param("units", True)},
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
        qualified[other] = (
            raw_values[other]
            .str.fullmatch(r"(?:<|>|<=|>=) *[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)")
            .fillna(False)
            .astype(bool)
        )
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
    value = num * conv["factor"].astype("float64")
    dec = conv["decimals"]
    has_dec = dec.notna() & (conv["factor"] != 1.0)
    if has_dec.any():
        for d in pd.unique(dec[has_dec]):  # loop over distinct precisions
            sel = has_dec & (dec == d)
            value[sel] = value[sel].round(int(d))
    return value.astype("float64")


@algorithm(
    "convert_unit",
    kind="ref",
    params={"test": Param("ref", True), "table": Param("units", True)},
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
    params={"low": Param("ref", True), "high": Param("ref", True)},
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
    text_ = f"{_AGG_WORDS[str(p['aggregate'])]} {' or '.join(_of(p))} for the subject"
    return text_ + (f", among records where {cond}" if cond else "")


@algorithm(
    "aggregate",
    kind="choice",
    choices=_AGGREGATES,
    stage=1,
    params={"of": Param("others", True), "where": Param("condition")},
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
    rf = b.out["USUBJID"].map(ctx.builds["DM"].out.set_index("USUBJID")["RFSTDTC"])
    return iso8601.study_day(dtc, text(rf))


@algorithm(
    "epoch",
    kind="ref",
    stage=3,
    params={"tie": Param("choice", choices=("earlier", "later"))},
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
    se = ctx.builds["SE"].out[["USUBJID", "SESTDTC", "SEENDTC", "EPOCH"]].copy()
    se["order"] = se.groupby("USUBJID").cumcount()
    rec = pd.DataFrame(
        {"USUBJID": b.out["USUBJID"].to_numpy(), "dtc": dtc.to_numpy(), "rec": np.arange(len(dtc))}
    )
    m = rec.merge(se, on="USUBJID", how="inner")
    s_d, e_d = (iso8601.date_part(m[c]) for c in ("SESTDTC", "SEENDTC"))
    # a partial date is the interval it spans: it is inside an element only if all of it is
    r_d, r_hi = iso8601.date_bounds(m["dtc"])
    r_t, s_t, e_t = (iso8601.datetime_part(m[c]) for c in ("dtc", "SESTDTC", "SEENDTC"))
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
    return text(pd.Series(pick.reindex(rec["rec"]).to_numpy(), index=b.out.index))


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
    params={"by": Param("refs", True), "date": Param("ref", True)},
    summary="--LOBXFL (SDTMIG 4.1.4.8): last non-missing result on or before first exposure",
    example="{last_before_exposure: LBSTRESC, by: [LBTESTCD], date: LBDTC}",
    describe=lambda p, v: (
        f"Y on the subject's last record per {', '.join(map(str, p['by']))} with a non-missing "
        f"{p['last_before_exposure']} dated ({p['date']}) on or before the first exposure "
        "(DM.RFXSTDTC); date-times are compared where both carry a time, else dates"
    ),
)
def derive_lobxfl(ctx: Context, b: Build, p: SpecMap, var: str) -> pd.Series:
    """--LOBXFL (SDTMIG 4.1.4.8): last non-missing result on or before first exposure, per test."""
    value = text(ref(ctx, b, p["last_before_exposure"]))
    dtc = text(ref(ctx, b, p["date"]))
    rfx = text(b.out["USUBJID"].map(ctx.builds["DM"].out.set_index("USUBJID")["RFXSTDTC"]))
    both_time = (dtc.str.len() > 10) & (rfx.str.len() > 10)
    before = pd.Series(
        np.where(
            both_time,
            iso8601.datetime_part(dtc) <= iso8601.datetime_part(rfx),
            iso8601.date_part(dtc) <= iso8601.date_part(rfx),
        ),
        index=b.out.index,
    )
    eligible = (value != "") & before
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


def docs_table() -> str:
    """The algorithms table of docs/spec-format.md, generated from the declarations."""
    rows = ["| algorithm | stage | example | does |", "| --- | --- | --- | --- |"]
    for name, algo in sorted(ALGORITHMS.items()):
        extra = [f"`{k}`" for k in algo.params if k != name]
        does = algo.summary + (f"; also takes {', '.join(extra)}" if extra else "")
        example = algo.example.replace("|", "\\|")
        rows.append(f"| `{name}` | {STAGES[algo.stage]} | `{example}` | {does} |")
    return "\n".join(rows)
