"""Mapping algorithms: one small function per algorithm the spec names.

Every algorithm has the same signature ``(ctx, b, p, var) -> Series``: the build context, the
domain under construction, the algorithm's spec mapping, and the target variable. Each returns
the variable's values for every record of the domain and does nothing else. ``stage`` orders
them: 0 row-level, 1 subject-level (other domains), 3 timing (study day, epoch), 4 order.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cdisc_umsc.errors import InputError
from cdisc_umsc.metadata.specfile import SpecMap
from cdisc_umsc.sdtm import iso8601
from cdisc_umsc.sdtm.context import Build, Context

Fn = Callable[[Context, Build, SpecMap, str], pd.Series]


@dataclass(frozen=True)
class Algorithm:
    name: str
    fn: Fn
    stage: int
    params: frozenset[str]
    origin: str


ALGORITHMS: dict[str, Algorithm] = {}
COMMON = frozenset(
    {
        "label",
        "length",
        "codelist",
        "origin",
        "comment",
        "when",
        "unless",
        "else",
        "significant_digits",
        "format",
    }
)


def algorithm(name: str, stage: int = 0, params: tuple[str, ...] = (), origin: str = "Derived"):
    """Register a mapping algorithm under the name the spec uses."""

    def deco(fn: Fn) -> Fn:
        ALGORITHMS[name] = Algorithm(name, fn, stage, frozenset({name, *params}) | COMMON, origin)
        return fn

    return deco


def algorithm_for(p: SpecMap) -> Algorithm | None:
    """The algorithm a variable spec names: the one key whose parameters cover the others."""
    names = [k for k in p if k in ALGORITHMS]
    fits = [n for n in names if all(o in ALGORITHMS[n].params for o in names)]
    return ALGORITHMS[fits[0]] if len(fits) == 1 else None


def blank(index: pd.Index) -> pd.Series:
    return pd.Series("", index=index, dtype=object)


def text(series: pd.Series) -> pd.Series:
    return series.where(series.notna(), "").astype(object)


def _ensure(ctx: Context, b: Build):
    from cdisc_umsc.sdtm.build import ensure_variable

    return lambda name: ensure_variable(ctx, b, name)


def ref(ctx: Context, b: Build, name: str) -> pd.Series:
    """A variable of the domain (computed on demand), else a raw field."""
    return ctx.ref(b, str(name), _ensure(ctx, b))


def raw(ctx: Context, b: Build, name: str) -> pd.Series:
    """A raw field of the domain's forms (or FORM.FIELD), else a variable."""
    return ctx.ref(b, str(name), _ensure(ctx, b), prefer_raw=True)


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
) -> pd.Series:
    """Values as submission values of codelist ``cid``: exact, else synonym; else an error."""
    if not cid:
        return values
    cl = ctx.codelist(cid)
    if cl is None:
        raise InputError(f"{b.spec.file}: variable {var}: unknown codelist '{cid}'")
    b.codelist_of[var] = cid
    present = values != ""
    uniq = pd.unique(values[present])
    allowed = cl.values if hasattr(cl, "values") else frozenset(cl.terms)
    mapping: dict[str, str] = {}
    for v in uniq:  # loop over distinct values, not rows
        if v in allowed:
            mapping[v] = v
        elif synonyms and hasattr(cl, "lookup_synonym") and cl.lookup_synonym(v) is not None:
            mapping[v] = cl.lookup_synonym(v).submission_value
        elif getattr(cl, "extensible", False) and not getattr(cl, "sponsor", False):
            mapping[v] = v  # extensible CDISC codelist: a sponsor term, reported by validation
    bad = present & ~values.isin(list(mapping))
    if bad.any():
        # the error names the raw field and the value as collected when the caller has them
        name = getattr(cl, "submission_value", cid)
        table = f"recode table '{recode}' nor " if recode else ""
        raise ctx.row_error(
            b,
            bad,
            column or var,
            f"value not in {table}codelist {name} ({cid}) nor its synonyms",
            values if shown is None else shown,
        )
    if not mapping:
        return values
    mapped = values.map(mapping)
    return mapped.where(mapped.notna(), values).astype(object)


# ---------------------------------------------------------------------- row level (stage 0)


@algorithm("setting", origin="Assigned")
def assign_setting(ctx: Context, b: Build, p: SpecMap, var: str) -> pd.Series:
    value = ctx.setting(str(p["setting"]))
    return pd.Series(str(value), index=b.out.index, dtype=object)


@algorithm("hardcode", origin="Assigned")
def hardcode(ctx: Context, b: Build, p: SpecMap, var: str) -> pd.Series:
    value = p["hardcode"]
    return pd.Series("" if value is None else str(value), index=b.out.index, dtype=object)


@algorithm("field", origin="Collected")
def assign_field(ctx: Context, b: Build, p: SpecMap, var: str) -> pd.Series:
    return text(raw(ctx, b, p["field"]))


@algorithm("copy")
def copy_variable(ctx: Context, b: Build, p: SpecMap, var: str) -> pd.Series:
    values = ref(ctx, b, p["copy"]).copy()
    if str(p["copy"]) in b.codelist_of:
        b.codelist_of[var] = b.codelist_of[str(p["copy"])]
    return values


@algorithm("number", origin="Collected")
def assign_number(ctx: Context, b: Build, p: SpecMap, var: str) -> pd.Series:
    values = text(raw(ctx, b, p["number"]))
    num = pd.to_numeric(values.where(values != ""), errors="coerce")
    bad = (values != "") & num.isna()
    if bad.any():
        raise ctx.row_error(b, bad, str(p["number"]), "expected a number", values)
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


@algorithm("recode", params=("field", "fields"), origin="Collected")
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
    if bad.any():
        raise ctx.row_error(b, bad, column, f"value not in recode table '{table.name}'", values)
    return out


@algorithm("ct", params=("recode",), origin="Collected")
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


@algorithm("template")
def assign_template(ctx: Context, b: Build, p: SpecMap, var: str) -> pd.Series:
    out = blank(b.out.index)
    for literal, name, _spec, _conv in string.Formatter().parse(str(p["template"])):
        if literal:
            out = out + literal
        if name:
            out = out + text(ref(ctx, b, name)).astype(str)
    return out.astype(object)


@algorithm("date", params=("time",), origin="Collected")
def assign_date(ctx: Context, b: Build, p: SpecMap, var: str) -> pd.Series:
    date = text(raw(ctx, b, p["date"]))
    time = text(raw(ctx, b, p["time"])) if "time" in p else None
    return iso8601.assemble(date, time).astype(object)


@algorithm("dm", origin="Collected")
def subject_variable(ctx: Context, b: Build, p: SpecMap, var: str) -> pd.Series:
    return ctx.subject_lookup(b, str(p["dm"]))


def _visit_map(ctx: Context, key: str, value: str) -> dict:
    table = ctx.visit_table
    return dict(zip(table[key], table[value], strict=True))


def _visit(ctx: Context, b: Build, field: str, key: str, value: str) -> pd.Series:
    values = text(ctx.ref(b, field, _ensure(ctx, b), prefer_raw=True))
    mapped = values.map(_visit_map(ctx, key, value))
    bad = (values != "") & mapped.isna()
    if bad.any():
        raise ctx.row_error(b, bad, field, "visit not in the study's visit schedule", values)
    return mapped


@algorithm("visit", origin="Collected")
def assign_visit(ctx: Context, b: Build, p: SpecMap, var: str) -> pd.Series:
    return text(_visit(ctx, b, str(p["visit"]), "raw", "VISIT"))


@algorithm("visitnum", origin="Collected")
def assign_visitnum(ctx: Context, b: Build, p: SpecMap, var: str) -> pd.Series:
    return _visit(ctx, b, str(p["visitnum"]), "raw", "VISITNUM").astype("float64")


@algorithm("visitnum_of", origin="Derived")
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


@algorithm("dictionary", params=("column", "field"), origin="Assigned")
def assign_dictionary(ctx: Context, b: Build, p: SpecMap, var: str) -> pd.Series:
    """Coding-table lookup on the trimmed, upper-cased verbatim."""
    table = _dictionary(ctx, b, str(p["dictionary"]), str(p["column"]))
    verbatim = text(raw(ctx, b, p["field"]))
    key = verbatim.str.strip().str.upper()
    found = key.isin(table.index)
    bad = (verbatim != "") & ~found
    if bad.any():
        raise ctx.row_error(
            b,
            bad,
            str(p["field"]),
            f"verbatim term not in coding table {p['dictionary']} (uncoded)",
            verbatim,
        )
    values = table[str(p["column"])].reindex(key.to_numpy()).fillna("").to_numpy()
    out = pd.Series(values, index=b.out.index, dtype=object)
    if var.endswith("CD"):
        return pd.to_numeric(out.where(out != ""), errors="raise").astype("float64")
    return out


@algorithm("decode", params=("from",), origin="Assigned")
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
    bad = (values != "") & out.isna()
    if bad.any():
        raise ctx.row_error(b, bad, var, f"no decode for {source}", values)
    if target:
        b.codelist_of[var] = str(target)
    return text(out)


@algorithm("age", params=("at",), origin="Derived")
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
    unit = text(ref(ctx, b, p.get("unit") or p.get("convert_unit")))
    key = pd.MultiIndex.from_arrays([test, unit])
    conv = table.set_index(["test", "from"]).reindex(key)
    conv.index = b.out.index
    std_units = table.drop_duplicates("test").set_index("test")["to"]
    listed = test.isin(std_units.index)
    already = unit == test.map(std_units)
    conv.loc[already.to_numpy(), "factor"] = 1.0
    unconvertible = listed & conv["factor"].isna() & (unit != "")
    if unconvertible.any():
        raise ctx.row_error(
            b,
            unconvertible,
            str(p.get("unit") or p.get("convert_unit")),
            "unit cannot be converted to the standard unit of this test",
            unit,
        )
    conv.loc[(~listed).to_numpy(), "factor"] = 1.0
    conv["to"] = conv["to"].where(conv["to"].notna() & listed, unit)
    return conv, unit


@algorithm("convert", params=("test", "unit", "table"), origin="Derived")
def derive_standard_result(ctx: Context, b: Build, p: SpecMap, var: str) -> pd.Series:
    """Numeric value in the standard unit (original x factor), rounded to the table's decimals.

    A result that is not a number must be a qualified one such as "<5" (SDTMIG 4.5.1: it stays
    in --STRESC and --STRESN is null); any other text stops the run naming the raw row.
    """
    raw = text(ref(ctx, b, p["convert"]))
    num = pd.to_numeric(raw.where(raw != ""), errors="coerce")
    other = (raw != "") & num.isna()  # the only values that may be qualified (few)
    qualified = pd.Series(False, index=raw.index)
    if other.any():
        qualified[other] = (
            raw[other]
            .str.fullmatch(r"(?:<|>|<=|>=)\s*[-+]?(?:\d+\.?\d*|\.\d+)")
            .fillna(False)
            .astype(bool)
        )
    bad = other & ~qualified
    if bad.any():
        source = b.spec.variables.get(str(p["convert"])) or SpecMap()
        column = str(source["field"]) if "field" in source else str(p["convert"])
        raise ctx.row_error(
            b, bad, column, "expected a number or a qualified number such as <5", raw
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


@algorithm("convert_unit", params=("test", "table"), origin="Derived")
def derive_standard_unit(ctx: Context, b: Build, p: SpecMap, var: str) -> pd.Series:
    conv, _ = _conversion(ctx, b, p)
    return text(conv["to"])


@algorithm("num_text", params=("else",), origin="Derived")
def derive_numeric_text(ctx: Context, b: Build, p: SpecMap, var: str) -> pd.Series:
    """Character form of a numeric result; non-numeric originals (e.g. "<5") kept as text."""
    num = ref(ctx, b, p["num_text"]).astype("float64")
    # formatted once per distinct number (results repeat across records), spread back by code
    codes, uniq = pd.factorize(num)
    shown = pd.Series(uniq, dtype="float64").astype(str).str.replace(r"\.0$", "", regex=True)
    as_text = pd.Series(np.append(shown.to_numpy(dtype=object), "")[codes], index=num.index)
    fallback = text(ref(ctx, b, p["else"])) if "else" in p else blank(b.out.index)
    return as_text.where(num.notna(), fallback).astype(object)


@algorithm("nrind", params=("low", "high"), origin="Derived")
def derive_nrind(ctx: Context, b: Build, p: SpecMap, var: str) -> pd.Series:
    """LOW / NORMAL / HIGH against the standard reference range (NRIND, C78736)."""
    value = ref(ctx, b, p["nrind"]).astype("float64")
    low = ref(ctx, b, p["low"]).astype("float64")
    high = ref(ctx, b, p["high"]).astype("float64")
    out = blank(b.out.index)
    ranged = value.notna() & (low.notna() | high.notna())
    out[ranged] = "NORMAL"
    out[value.notna() & low.notna() & (value < low)] = "LOW"
    out[value.notna() & high.notna() & (value > high)] = "HIGH"
    return out


# ---------------------------------------------------------------------- subject level (stage 1)


def _other(ctx: Context, qualified: str) -> tuple[Build, str]:
    dom, _, var = str(qualified).partition(".")
    return ctx.builds[dom], var


@algorithm("aggregate", stage=1, params=("of", "where"), origin="Derived")
def derive_aggregate(ctx: Context, b: Build, p: SpecMap, var: str) -> pd.Series:
    """min / max / count / count_distinct of another domain's variable, per subject or overall."""
    other, ovar = _other(ctx, p["of"])
    from cdisc_umsc.sdtm.build import ensure_variable, evaluate_condition

    ensure_variable(ctx, other, ovar)
    values = text(other.out[ovar]) if other.out[ovar].dtype == object else other.out[ovar]
    keep = pd.Series(True, index=other.out.index)
    if "where" in p:
        keep = evaluate_condition(ctx, other, p["where"])
    how = str(p["aggregate"])
    per_subject = "USUBJID" in b.out.columns and "USUBJID" in other.out.columns
    present = keep & (values.astype(str) != "") & values.notna()
    vals = values[present]
    if per_subject:
        groups = vals.groupby(other.out.loc[present, "USUBJID"])
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


@algorithm("study_day", stage=3, origin="Derived")
def derive_study_day(ctx: Context, b: Build, p: SpecMap, var: str) -> pd.Series:
    """SDTMIG 4.4.4 study day against DM.RFSTDTC; no day 0; blank for partial dates."""
    dtc = text(ref(ctx, b, p["study_day"]))
    rf = b.out["USUBJID"].map(ctx.builds["DM"].out.set_index("USUBJID")["RFSTDTC"])
    return iso8601.study_day(dtc, text(rf))


@algorithm("epoch", stage=3, params=("tie",), origin="Derived")
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


@algorithm("seq", stage=4, origin="Derived")
def derive_seq(ctx: Context, b: Build, p: SpecMap, var: str) -> pd.Series:
    """--SEQ: 1..n per subject in the domain's key order (the frame is sorted before stage 4)."""
    if "USUBJID" in b.out.columns and (b.out["USUBJID"] != "").any():
        return (b.out.groupby("USUBJID", sort=False).cumcount() + 1).astype("float64")
    return pd.Series(np.arange(1, len(b.out) + 1), index=b.out.index, dtype="float64")


@algorithm("last_before_exposure", stage=4, params=("by", "date"), origin="Derived")
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
    out = blank(b.out.index)
    out.iloc[last.to_numpy()] = "Y"
    return out
