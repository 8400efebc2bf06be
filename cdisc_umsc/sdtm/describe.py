"""What define.xml says of each SDTM variable, from the algorithm that computed it: origin
(Define-XML 2.1 section 5.3.11, origin types and sources), the method of a derived variable in
reviewer words, the annotated-CRF pages of a collected value, the codelist, and value-level
metadata (section 5.3.6): the form each test's records come from, derived records, and the
codelist of each source when a variable's sources use different ones.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace

import numpy as np
import pandas as pd

from cdisc_umsc.metadata.model import Dataset, ValueLevel
from cdisc_umsc.metadata.spec import StudySpec
from cdisc_umsc.metadata.specfile import SpecMap
from cdisc_umsc.read.forms import FORM
from cdisc_umsc.sdtm.context import Build
from cdisc_umsc.sdtm.evaluate import algorithm_of, describe_spec, method_text, names_in

#: result variables described per test code (value-level metadata)
RESULTS = ("ORRES", "STRESC", "STRESN")
#: SUPP-- variables the sponsor assigns (SDTMIG 3.4 section 8.4.1)
SUPP_ASSIGNED = ("RDOMAIN", "IDVAR", "IDVARVAL", "QNAM", "QLABEL", "QORIG", "QEVAL")


def pages_of(study: StudySpec, forms: Iterable[str]) -> tuple[int, ...]:
    """The annotated-CRF pages of the forms, in page order."""
    return tuple(sorted({p for f in forms if f in study.forms for p in study.forms[f].pages}))


def _forms_read(study: StudySpec, b: Build, p: SpecMap, own: list[str]) -> list[str]:
    """The forms whose fields a variable spec reads: FORM.FIELD references, and the fields
    (melted ones too) of the variable's own source forms."""
    found: list[str] = []
    melts = [src.melt for src in b.spec.sources if src.melt is not None]
    melted = {str(m[k]) for m in melts for k in ("name", "value")}
    for name in sorted(names_in(p)):
        form, dot, fld = name.partition(".")
        if dot and form in study.forms and fld in {x.name for x in study.forms[form].fields}:
            found.append(form)
            continue
        for f in own:
            if name in {x.name for x in study.forms[f].fields} or name in melted:
                found.append(f)
    return [f for f in dict.fromkeys(found)]


def derived_record_method(d: SpecMap) -> str:
    """The method of the results of records derived from other records (e.g. a total score)."""
    by = ", ".join(str(x) for x in d["by"])
    text = (
        f"Not collected: one record per {by}, computed from the {d['value']} of the "
        f"{d['pivot']} items as {' '.join(str(d['formula']).split())}"
    )
    if "decimals" in d:
        text += f", rounded to {int(d['decimals'])} decimal place(s)"
    return text + "; a group missing any of the items gets no derived record"


def _derived_flag_method(d: SpecMap, var: str) -> str:
    pivot = str(d["pivot"])
    code = (d.get("set") or {}).get(pivot)
    what = f" ({pivot} {code})" if code is not None else ""
    name = f" {d['name']}" if d.get("name") else ""
    return (
        f"{d['set'][var]} on the derived{name} records{what}, which are computed from other "
        "records rather than collected; blank on collected records"
    )


def _source_origin(study: StudySpec, b: Build, p: SpecMap, var: str, form: str) -> dict:
    """Origin, method and CRF pages of a variable as one source form computes it."""
    origin = str(p.get("origin") or algorithm_of(p).origin)
    derived = origin == "Derived" or p.get("method")
    return {
        "origin": origin,
        "method": method_text(p, var, study.recodes) if derived else None,
        "pages": pages_of(study, _forms_read(study, b, p, [form])) if origin == "Collected" else (),
    }


def overrides(
    study: StudySpec, b: Build, dm: Dataset | None, parent: Dataset | None = None
) -> dict[str, dict]:
    """Per variable: origin, source, method, CRF pages, codelist, label, length and comment,
    as the spec and the algorithm that ran say (for :func:`resolve.dataset_meta`)."""
    result: dict[str, dict] = {}
    specs: dict[str, tuple[SpecMap, list[str]]] = {}
    all_forms = [src.form for src in b.spec.sources]
    per_source: dict[str, dict[str, dict]] = {}
    for src in b.spec.sources:
        for var, p in src.variables.items():
            forms = specs[var][1] if var in specs else []
            specs[var] = (p, [*forms, src.form])
            per_source.setdefault(var, {})[src.form] = _source_origin(study, b, p, var, src.form)
    b.source_origins = {
        var: got
        for var, got in per_source.items()
        if var not in b.spec.variables and len({d["origin"] for d in got.values()}) > 1
    }
    for var, p in b.spec.variables.items():
        specs[var] = (p, all_forms)
    for var, (p, own) in specs.items():
        algo = algorithm_of(p)
        origin = str(p.get("origin") or algo.origin)
        ov: dict = {
            "origin": origin,
            "comment": p.get("comment"),
            "label": p.get("label"),
            "length": p.get("length"),
        }
        from_dm = algo.name == "dm" and dm is not None and dm.has(str(p["dm"]))
        if from_dm and dm is not None and "origin" not in p and not p.get("method"):
            # the subject's DM value: described as DM describes it (one shared method)
            dm_var = dm.var(str(p["dm"]))
            ov.update(
                origin=dm_var.origin,
                source=dm_var.source,
                method=dm_var.method,
                pages=dm_var.pages,
            )
        elif origin == "Derived" or p.get("method"):
            ov["method"] = method_text(p, var, study.recodes)
        if ov["origin"] == "Collected" and not from_dm:
            ov["pages"] = pages_of(study, _forms_read(study, b, p, own))
        if p.get("codelist"):
            ov["codelist"] = str(p["codelist"])
        if "codelist" in p and p["codelist"] is None:
            ov["codelist"] = ""  # the spec states the IG codelist does not apply
        if var in b.codelist_of:
            ov["codelist"] = b.codelist_of[var]
        if var in b.conflicting:
            ov["codelist"] = ""  # per source: value-level metadata
        external = algo.define_codelist(p, var, b.spec) if algo.define_codelist else None
        if external is not None:
            ov["codelist"] = external
        result[var] = ov
    for d in b.spec.derived:
        for var in d.get("set", {}):
            result.setdefault(var, {"origin": "Derived", "method": _derived_flag_method(d, var)})
    for var, said in b.described.items():
        if "from_dm" in said:  # the subject's DM value, described as DM describes it
            shared = dm.var(str(said["from_dm"])) if dm is not None else None
            said = (
                {"origin": "Assigned"}
                if shared is None
                else {
                    "origin": shared.origin,
                    "source": shared.source,
                    "method": shared.method,
                    "pages": shared.pages,
                }
            )
        result[var] = {**said, **{k: v for k, v in result.get(var, {}).items() if v is not None}}
    return result


def supp_overrides(parent: Dataset) -> dict[str, dict]:
    """SUPP-- variables: keys as the parent describes them, the qualifier variables assigned
    by the sponsor; QVAL is described per QNAM (value-level)."""
    out: dict[str, dict] = {}
    for var in ("STUDYID", "USUBJID"):
        if parent.has(var):
            v = parent.var(var)
            out[var] = {
                "origin": v.origin,
                "source": v.source,
                "method": v.method,
                "pages": v.pages,
            }
    for var in SUPP_ASSIGNED:
        out[var] = {"origin": "Assigned"}
    return out


def _test_var(name: str, frame: pd.DataFrame) -> str | None:
    test = f"{name[:2]}TESTCD"
    return test if test in frame.columns else None


def _codes_forms(frame: pd.DataFrame, b: Build, by: str) -> pd.DataFrame:
    """Distinct (code, form) pairs of the records (forms of derived records are blank)."""
    forms = b.raw[FORM].fillna("").to_numpy() if FORM in b.raw else np.full(len(frame), "")
    pairs = pd.DataFrame({"code": frame[by].astype(str).to_numpy(), "form": forms})
    # the first record of each pair, found on the pair's codes (no row-wise hashing)
    code_codes, _codes = pd.factorize(pairs["code"], use_na_sentinel=False)
    form_codes, form_values = pd.factorize(pairs["form"], use_na_sentinel=False)
    _pairs, first = np.unique(code_codes * max(len(form_values), 1) + form_codes, return_index=True)
    pairs = pairs.iloc[np.sort(first)]
    return pairs[pairs["code"] != ""]


def _partition(frame: pd.DataFrame, b: Build, var: str, name: str) -> str | None:
    """A variable whose values tell the sources apart (each value from one form only):
    --CAT, --SCAT, else the test code."""
    for cand in (f"{name[:2]}CAT", f"{name[:2]}SCAT", f"{name[:2]}TESTCD"):
        if cand == var or cand not in frame.columns:
            continue
        pairs = _codes_forms(frame, b, cand)
        pairs = pairs[pairs["form"] != ""]  # derived records come from no form
        if len(pairs) and not pairs["code"].duplicated().any():
            return cand
    return None


def value_level(
    study: StudySpec, b: Build, ds: Dataset, frame: pd.DataFrame
) -> tuple[ValueLevel, ...]:
    """Value-level metadata of one SDTM dataset: CRF pages of each test's form, derived
    records, and the codelist each source uses when they differ."""
    found: dict[tuple[str, str, str], ValueLevel] = {}
    test = _test_var(ds.name, frame)
    results = [v for v in ds.variables if v.name.endswith(RESULTS) and test]
    if test:
        pairs = _codes_forms(frame, b, test)
        forms_of = pairs[pairs["form"] != ""].groupby("code")["form"].agg(list)
        for result in results:
            if result.origin != "Collected":
                continue
            for code, forms in forms_of.items():
                found[(result.name, "", str(code))] = ValueLevel(
                    result.name, str(code), pages=pages_of(study, forms)
                )
        for d in b.spec.derived:
            code = (d.get("set") or {}).get(str(d["pivot"]))
            if str(d["pivot"]) != test or code is None:
                continue
            for target in d.get("result", []):
                if ds.has(str(target)):
                    found[(str(target), "", str(code))] = ValueLevel(
                        str(target),
                        str(code),
                        origin="Derived",
                        method=derived_record_method(d),
                        pages=(),
                    )
    for var in sorted(b.conflicting | set(b.source_origins)):
        if var not in frame.columns:
            continue
        by = test if test and var.endswith(RESULTS) else _partition(frame, b, var, ds.name)
        if by is None:
            continue
        cids = b.source_codelists.get(var, {})
        origins = b.source_origins.get(var, {})
        pairs = _codes_forms(frame, b, by)
        for code, forms in pairs[pairs["form"] != ""].groupby("code")["form"].agg(list).items():
            key = (var, "" if by == test else by, str(code))
            old = found.get(key, ValueLevel(var, str(code), by=key[1]))
            chosen = {cids.get(f) for f in forms} if var in b.conflicting else {None}
            said = [origins[f] for f in forms if f in origins]
            if said and all(d["origin"] == said[0]["origin"] for d in said) and old.origin is None:
                old = replace(
                    old,
                    origin=said[0]["origin"],
                    method=said[0]["method"],
                    pages=tuple(sorted({p for d in said for p in d["pages"]})),
                )
            if len(chosen) == 1 and None not in chosen:
                old = replace(old, codelist=next(iter(chosen)))
            found[key] = old
    for stated in b.values:
        found[(stated.variable, stated.by, stated.code)] = stated
    return tuple(found[k] for k in sorted(found))


def supp_value_level(
    study: StudySpec, b: Build, parent: Dataset, qnams: Iterable[str]
) -> tuple[ValueLevel, ...]:
    """QVAL per QNAM: as the spec's supp: entry computes it, or, for text over 200 characters
    continued in SUPP-- (SDTMIG 3.4 section 4.5.3.2), as its parent variable."""
    out = []
    forms = [src.form for src in b.spec.sources]
    supp = b.spec.supp or SpecMap()
    for qnam in sorted(set(qnams)):
        if qnam in supp:
            p = supp[qnam]["value"]
            algo = algorithm_of(p)
            origin = str(supp[qnam].get("origin") or p.get("origin") or algo.origin)
            method = method_text(p, qnam, study.recodes) if origin == "Derived" else None
            read = _forms_read(study, b, p, forms) if origin == "Collected" else []
            pages = pages_of(study, read)
            out.append(ValueLevel("QVAL", qnam, origin=origin, method=method, pages=pages))
            continue
        stem = re.sub(r"[0-9]+$", "", qnam)
        owner = next((v for v in parent.variables if v.name[:7] == stem), None)
        if owner is not None:
            out.append(
                ValueLevel(
                    "QVAL",
                    qnam,
                    origin=owner.origin,
                    source=owner.source,
                    method=owner.method,
                    pages=owner.pages,
                )
            )
    return tuple(out)


def describe_value(p: SpecMap, var: str, study: StudySpec) -> tuple[str, str | None]:
    """(origin, method) of a value a builder computes with a spec algorithm (e.g. TSVAL)."""
    origin = str(p.get("origin") or algorithm_of(p).origin)
    if origin == "Derived":
        return origin, method_text(p, var, study.recodes)
    return origin, describe_spec(p, var, study.recodes) if p.get("method") else None
