"""Static checks of a loaded spec: every reference resolves before any data is read.

Each variable's algorithm is checked against its declaration (:mod:`cdisc_umsc.sdtm.registry`):
every parameter is known, required ones are given, and each value is of its kind (a raw field,
a variable, a codelist, a condition ...). A mistake is one ``file:line`` error.
"""

from __future__ import annotations

import difflib
import math
import string
from pathlib import Path
from typing import Any

from cdisc_umsc.core.conditions import Condition, HasRecords, Test, parse_condition
from cdisc_umsc.metadata import standards
from cdisc_umsc.metadata.resolve import ig_row
from cdisc_umsc.metadata.spec import DomainSpec, StudySpec, load_study_spec
from cdisc_umsc.metadata.specfile import SpecError, SpecMap
from cdisc_umsc.sdtm.algorithms import ALGORITHMS
from cdisc_umsc.sdtm.build import coded_fields, listed_codes, tests_of
from cdisc_umsc.sdtm.evaluate import method_text, stage_of
from cdisc_umsc.sdtm.registry import STAGES, Param, algorithm_for

#: settings the mapping can read besides those under study: (Context.setting)
PSEUDO_SETTINGS = ("sdtm_version", "sdtm_model_version")


class _Scope:
    """What the names in one variable spec may refer to."""

    def __init__(self, spec: StudySpec, dom: DomainSpec, fields: set[str]) -> None:
        self.spec, self.dom, self.fields = spec, dom, fields
        self.targets = set(dom.all_variables())

    def ref(self, name: object, where: str, var: str, what: str = "name") -> None:
        """A variable of the domain, a raw field of its forms, or FORM.FIELD."""
        r = str(name)
        if "." in r:
            form, _, fld = r.partition(".")
            if form not in self.spec.forms:
                raise SpecError(
                    where,
                    f"variable {var}: '{r}': no form {form} (forms: {', '.join(self.spec.forms)})",
                )
            if fld not in {f.name for f in self.spec.forms[form].fields}:
                raise SpecError(where, f"variable {var}: '{r}': form {form} has no field {fld}")
            self.join(form, where, var, r)
            return
        if r not in self.fields and r not in self.targets:
            raise SpecError(
                where,
                f"variable {var}: unknown {what} '{r}' (not a field of the domain's forms "
                f"nor a variable of {self.dom.name})",
            )

    def join(self, form: str, where: str, var: str, what: str) -> None:
        """Records of each source form can find their row of ``form`` (the look-up's key)."""
        for src in self.dom.sources:
            mine = {f.name for f in self.spec.forms[src.form].fields}
            pairs = self.spec.join_key(self.dom, src.form, form)
            for _other, this in pairs:
                if this not in mine:
                    key = ", ".join(o for o, _t in pairs)
                    raise SpecError(
                        where,
                        f"variable {var}: '{what}': a record of {src.form} finds its row of "
                        f"{form} by {key}, but {src.form} has no field {this} (declare "
                        f"lookups: {{{form}: {{on: ...}}}} in the domain)",
                    )

    def other(self, name: object, where: str, var: str) -> None:
        dom, dot, ovar = str(name).partition(".")
        if not dot:
            raise SpecError(where, f"variable {var}: '{name}' must be DOMAIN.VARIABLE")
        if dom not in self.spec.domains:
            raise SpecError(
                where,
                f"variable {var}: '{name}': {dom} is not a domain of this spec "
                f"(mapped: {', '.join(sorted(self.spec.domains))})",
            )
        if ovar not in self.spec.domains[dom].all_variables():
            raise SpecError(where, f"variable {var}: '{name}': {dom} maps no variable {ovar}")

    def condition(self, obj: object, where: str, var: str) -> Condition:
        cond = parse_condition(obj, where)
        self._names(cond, where, var)
        return cond

    def field_type(self, name: str) -> str | None:
        """The declared type of the raw field ``name`` (FORM.FIELD, or a field of the
        domain's forms that is no variable of it), or None."""
        form, dot, fld = name.partition(".")
        forms = [form] if dot else [s.form for s in self.dom.sources]
        fld = fld if dot else name
        if not dot and name in self.targets:
            return None
        types = {
            f.type
            for f in (x for n in forms if n in self.spec.forms for x in self.spec.forms[n].fields)
            if f.name == fld
        }
        return types.pop() if len(types) == 1 else None

    def _numeric_values(self, test: Test, where: str, var: str) -> None:
        """A number field is compared with numbers: a text value ('zero') would compare as
        text and match no record, without a word."""
        if test.op not in ("eq", "ne", "gt", "ge", "lt", "le", "in"):
            return
        kind = self.field_type(test.name)
        if kind not in ("number", "integer"):
            return
        values = test.value if isinstance(test.value, tuple) else (test.value,)
        for value in values:
            if value is None or isinstance(value, bool):
                continue
            try:
                number = float(value)
            except (TypeError, ValueError):
                number = math.nan
            if not math.isfinite(number):
                raise SpecError(
                    where,
                    f"variable {var}: condition on {test.name}: {test.name} is a number field "
                    f"(type: {kind}), {value!r} is not a number",
                )

    def _names(self, cond: Condition, where: str, var: str) -> None:
        for part in cond.parts:
            at = cond.where or where
            if isinstance(part, Test):
                self.ref(part.name, at, var)
                self._numeric_values(part, at, var)
            elif isinstance(part, HasRecords):
                if part.domain not in self.spec.domains:
                    raise SpecError(
                        at, f"variable {var}: has_records: {part.domain} is not a mapped domain"
                    )
                if part.where is not None:
                    other = self.spec.domains[part.domain]
                    inner = _Scope(self.spec, other, _fields_of(self.spec, other))
                    inner._names(part.where, at, var)
            else:
                self._names(part, at, var)


def _check_filter_codes(spec: StudySpec, form: str, cond: Condition, where: str) -> None:
    """A source filter that compares a coded field (recoded, or checked against a closed
    codelist: ``coded_fields``) with a value compares it with one of the field's codes: any
    other value (a typo, a look-alike character) would leave out every row or none, without
    a word."""
    coded = coded_fields(spec)
    for test in tests_of(cond):
        tables = coded.get((form, test.name))
        if not tables or test.op not in ("eq", "ne", "in"):
            continue
        codes = {c for table in tables.values() for c in table}
        values = test.value if isinstance(test.value, tuple) else (test.value,)
        for value in values:
            if value is not None and str(value) not in codes:
                raise SpecError(
                    where,
                    f"source filter: '{value}' is not a code of {test.name} "
                    f"({listed_codes(tables)})",
                )


def _fields_of(spec: StudySpec, dom: DomainSpec) -> set[str]:
    names: set[str] = set()
    for src in dom.sources:
        names |= {x.name for x in spec.forms[src.form].fields}
        if src.melt is not None:
            names |= {str(src.melt["name"]), str(src.melt["value"])}
    return names


def _check_value(scope: _Scope, var: str, p: SpecMap, key: str, param: Param) -> None:
    value: Any = p[key]
    where = p.where(key)
    kind = param.kind
    spec = scope.spec
    what = "raw field" if kind in ("field", "fields") else "name"
    if kind in ("field", "ref"):
        if not isinstance(value, str | int) or isinstance(value, bool):
            raise SpecError(where, f"variable {var}: {key} must name a field or variable")
        scope.ref(value, where, var, what)
    elif kind in ("fields", "refs"):
        if not isinstance(value, list) or not value:
            raise SpecError(where, f"variable {var}: {key} must be a list of names")
        for item in value:
            scope.ref(item, where, var, what)
    elif kind in ("other", "others"):
        items = value if isinstance(value, list) and kind == "others" else [value]
        for item in items:
            scope.other(item, where, var)
    elif kind == "condition":
        scope.condition(value, where, var)
    elif kind == "condition_of":
        of = p.get("of")
        for item in of if isinstance(of, list) else [of]:
            dom = spec.domains.get(str(item).partition(".")[0])
            if dom is not None:  # an unknown domain is reported for `of`
                _Scope(spec, dom, _fields_of(spec, dom)).condition(value, where, var)
    elif kind == "recode":
        if str(value) not in spec.recodes:
            raise SpecError(where, f"unknown recode table '{value}' (codelists.yaml recodes:)")
    elif kind == "codelist":
        if value is None:
            return
        cid = str(value)
        if cid.startswith("EXT:"):  # an external dictionary (Define-XML ExternalCodeList)
            parts = cid.split(":", 2)
            if len(parts) != 3 or not parts[1].strip() or not parts[2].strip():
                raise SpecError(where, f"external codelist '{cid}': write EXT:<name>:<version>")
            return
        ct = standards.controlled_terminology("SDTM", spec.ct_version)
        if cid not in spec.sponsor_codelists and ct.codelist(cid) is None:
            raise SpecError(where, f"unknown codelist '{cid}'")
    elif kind == "dictionary":
        d = (scope.dom.dictionaries or SpecMap()).get(str(value))
        if d is None:
            raise SpecError(where, f"unknown dictionary '{value}' (declare it under dictionaries:)")
        if "form" in d:
            form = str(d["form"])
            column = str(p.get("column", ""))
            if column not in {f.name for f in spec.forms[form].fields}:
                raise SpecError(
                    p.where("column"), f"variable {var}: coding export {form} has no field {column}"
                )
            if "field" in p:
                raise SpecError(
                    p.where("field"),
                    f"variable {var}: dictionary {value} is a coding export (form {form}), "
                    "joined by the record's key: field: applies to coding tables",
                )
            scope.join(form, where, var, f"{form}.{column}")
        elif "field" not in p:
            raise SpecError(
                p.where(),
                f"variable {var}: dictionary {value} is a coding table: give field: "
                "(the verbatim term to look up)",
            )
    elif kind == "units":
        if str(value) not in spec.units:
            raise SpecError(where, f"unknown unit table '{value}' (codelists.yaml units:)")
    elif kind == "setting":
        if str(value) not in spec.settings and str(value) not in PSEUDO_SETTINGS:
            raise SpecError(where, f"unknown study setting '{value}' (study: in study.yaml)")
    elif kind == "subject":
        dm = spec.domains.get("DM")
        if dm is None or str(value) not in dm.all_variables():
            raise SpecError(where, f"variable {var}: DM maps no variable {value}")
    elif kind == "template":
        for _lit, name, _fmt, _conv in string.Formatter().parse(str(value)):
            if name:
                scope.ref(name, where, var)
    elif kind == "choice":
        if str(value) not in param.choices:
            raise SpecError(where, f"{key}: '{value}' is not one of: {', '.join(param.choices)}")
    elif kind == "flag":
        if value is not True:
            raise SpecError(where, f"{key}: write {key}: true")
    elif kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            raise SpecError(where, f"{key}: expected a whole number, got {value!r}")
    elif kind == "algorithm":
        if not isinstance(value, SpecMap):
            raise SpecError(where, f"{key}: expected an algorithm such as {{field: X}}")
        check_variable(scope, var, value, p)
    elif kind == "groups":
        if not isinstance(value, SpecMap) or not value:
            raise SpecError(
                where, f"variable {var}: {key}: expected a mapping of label to condition"
            )
        for label, cond in value.items():
            if cond is None or cond == {}:
                continue
            if not isinstance(cond, SpecMap):
                raise value.error(
                    label, f"variable {var}: group {label}: expected a condition such as {{lt: 10}}"
                )
            parse_condition({"value": cond}, value.where(label))
    elif kind in ("value", "text"):
        if isinstance(value, dict | list):
            raise SpecError(where, f"{key}: expected a single value")


def _row_stage(spec: StudySpec, own: DomainSpec, var: str, p: SpecMap, owner: SpecMap) -> None:
    """A source's variables are computed from its raw rows, before any other stage."""
    stage = stage_of(p, own, subjects=spec.domains.get("DM"))
    if stage == 0:
        return
    algo = algorithm_for(p)
    why = (
        f"{algo.name} runs at the {STAGES[algo.stage]} stage"
        if algo is not None and algo.stage
        else f"it reads a variable computed at the {STAGES[stage]} stage"
    )
    raise owner.error(
        var,
        f"variable {var}: {why}, but a source's variables are computed from its raw rows "
        f"(the row stage); move {var} to the domain's variables:",
    )


def check_variable(scope: _Scope, var: str, p: SpecMap, owner: SpecMap) -> None:
    """One variable spec against its algorithm's declaration."""
    algo = algorithm_for(p)
    if algo is None:
        named = [k for k in p if k in ALGORITHMS]
        extra = f" (it names {', '.join(named)})" if len(named) > 1 else ""
        if not named:  # a misspelt algorithm: name the key and what it is close to
            known = set(ALGORITHMS) | {k for a in ALGORITHMS.values() for k in a.all_params}
            for key in (k for k in p if k not in known):
                close = difflib.get_close_matches(str(key), sorted(ALGORITHMS), n=1, cutoff=0.8)
                hint = (
                    f"; did you mean '{close[0]}'?"
                    if close
                    else f" (algorithms: {', '.join(sorted(ALGORITHMS))})"
                )
                raise p.error(key, f"variable {var}: '{key}' is no algorithm nor parameter{hint}")
        raise owner.error(
            var,
            f"variable {var}: give exactly one algorithm{extra} "
            f"(one of: {', '.join(sorted(ALGORITHMS))})",
        )
    allowed = algo.all_params
    for key in p:
        if key not in allowed:
            raise p.error(
                key,
                f"unknown parameter '{key}' for algorithm '{algo.name}' "
                f"(allowed: {', '.join(sorted(allowed))})",
            )
    for key, param in algo.params.items():
        if param.required and key not in p:
            raise p.error(None, f"variable {var}: algorithm '{algo.name}' needs '{key}:'")
    given = [k for k in algo.one_of if k in p]
    if algo.one_of and len(given) != 1:
        options = " or ".join(f"'{k}:'" for k in algo.one_of)
        raise p.error(
            None, f"variable {var}: algorithm '{algo.name}' needs exactly one of {options}"
        )
    for key, param in allowed.items():
        if key in p:
            _check_value(scope, var, p, key, param)


def _check_method(spec: StudySpec, var: str, p: SpecMap) -> None:
    """The define.xml method of a derived variable must read as ASCII reviewer prose (a raw
    CRF value shows through its recode table, else the spec gives method:)."""
    algo = algorithm_for(p)
    if algo is not None and (str(p.get("origin") or algo.origin) == "Derived" or p.get("method")):
        method_text(p, var, spec.recodes)


def check_spec(spec: StudySpec) -> None:
    """Raise SpecError (file:line) for the first unresolved reference in the spec."""
    std, version = spec.sdtm_standard
    datasets = standards.ig_datasets(std, version).set_index("dataset")
    for dom in spec.domains.values():
        if dom.name not in datasets.index:
            raise SpecError(f"{dom.file}:1", f"domain {dom.name} is not in {std} {version}")
        cls = str(datasets.loc[dom.name, "cls"])
        all_fields = _fields_of(spec, dom)
        for src in dom.sources:
            own = dom.source_only(src)
            scope = _Scope(spec, dom, _fields_of(spec, own))
            if src.where is not None:
                form_scope = _Scope(spec, own, {f.name for f in spec.forms[src.form].fields})
                form_scope.targets = set()
                # the filter's own line (a source of sources: is no key of the domain's map)
                where = (
                    src.where.where()
                    if isinstance(src.where, SpecMap)
                    else dom.spec.where("where")
                    if dom.spec is not None
                    else dom.file
                )
                cond = form_scope.condition(src.where, where, "(source filter)")
                if cond.domains():
                    raise SpecError(where, "a source filter cannot use has_records")
                _check_filter_codes(spec, src.form, cond, where)
            for var, p in src.variables.items():
                check_variable(scope, var, p, src.variables)
                _check_method(spec, var, p)
                _row_stage(spec, own, var, p, src.variables)
        scope = _Scope(spec, dom, all_fields)
        for var, p in dom.variables.items():
            check_variable(scope, var, p, dom.variables)
            _check_method(spec, var, p)
        supp = dom.supp or SpecMap()
        for qnam, q in supp.items():  # a SUPP value is mapped as a variable is
            if isinstance(q, SpecMap) and isinstance(q.get("value"), SpecMap):
                check_variable(scope, f"SUPP{dom.name}.{qnam}", q["value"], q)
        for d in dom.derived:
            if isinstance(d, SpecMap) and "where" in d:
                scope.condition(d["where"], d.where("where"), "(derived records)")
        for var in scope.targets:
            if ig_row(std, version, dom.name, var) is None and not standards.model_allows(
                cls, dom.name, var
            ):
                owner = (
                    dom.variables
                    if var in dom.variables
                    else next((s.variables for s in dom.sources if var in s.variables), dom.spec)
                )
                assert owner is not None
                raise owner.error(
                    var,
                    f"variable {var} is not in {std} {version} {dom.name} "
                    "nor allowed by the SDTM model for its class "
                    "(non-standard variables go to supp:)",
                )


# ------------------------------------------------------------------------------ field use


#: Algorithms whose result does not disclose the raw value they read, so they may read a
#: declared direct identifier: ``age`` gives completed years (HIPAA Safe Harbor, 45 CFR
#: 164.514(b)(2)(i)(C), keeps ages; the birth date itself is removed).
DEIDENTIFYING = frozenset({"age"})


class _Uses:
    """Which raw fields each variable of the spec reads, from the algorithms' declarations."""

    def __init__(self, spec: StudySpec) -> None:
        self.spec = spec
        self.found: dict[tuple[str, str], list[str]] = {}
        #: the readers of each field whose algorithm may disclose the value read
        self.disclosing: dict[tuple[str, str], list[str]] = {}
        self._masking = False

    def note(self, form: str, fld: str, what: str) -> None:
        users = self.found.setdefault((form, fld), [])
        if what not in users:
            users.append(what)
        shown = self.disclosing.setdefault((form, fld), [])
        if not self._masking and what not in shown:
            shown.append(what)

    def name(self, dom: DomainSpec, forms: list[str], name: object, what: str, raw: bool) -> None:
        """``name`` as a variable spec reads it: FORM.FIELD, or a raw field of the domain's
        forms (a name that is also one of the domain's variables reads the variable, except
        where the algorithm asks for a raw field)."""
        text = str(name)
        if "." in text:
            form, _, fld = text.partition(".")
            if form in self.spec.forms:
                self.note(form, fld, what)
                for src in forms:  # the join's own fields are read too
                    for other, this in self.spec.join_key(dom, src, form):
                        self.note(form, other, what)
                        self.note(src, this, what)
            return
        if not raw and text in dom.all_variables():
            return
        for form in forms:
            fields = {f.name for f in self.spec.forms[form].fields}
            if text in fields:
                self.note(form, text, what)

    def condition(self, dom: DomainSpec, forms: list[str], cond: Condition, what: str) -> None:
        for part in cond.parts:
            if isinstance(part, Test):
                self.name(dom, forms, part.name, what, False)
            elif isinstance(part, HasRecords):
                if part.where is not None and part.domain in self.spec.domains:
                    other = self.spec.domains[part.domain]
                    self.condition(other, [s.form for s in other.sources], part.where, what)
            else:
                self.condition(dom, forms, part, what)

    def variable(
        self, dom: DomainSpec, forms: list[str], var: str, p: SpecMap, what: str = ""
    ) -> None:
        algo = algorithm_for(p)
        if algo is None:
            return
        what = what or f"{dom.name}.{var}"
        outer = self._masking
        self._masking = algo.name in DEIDENTIFYING
        try:
            self._params(dom, forms, var, p, algo, what)
        finally:
            self._masking = outer

    def _params(
        self, dom: DomainSpec, forms: list[str], var: str, p: SpecMap, algo: Any, what: str
    ) -> None:
        for key, param in algo.all_params.items():
            if key not in p:
                continue
            value = p[key]
            if param.kind in ("field", "ref"):
                self.name(dom, forms, value, what, param.kind == "field")
            elif param.kind in ("fields", "refs"):
                for item in value:
                    self.name(dom, forms, item, what, param.kind == "fields")
            elif param.kind == "template":
                for _l, name, _f, _c in string.Formatter().parse(str(value)):
                    if name:
                        self.name(dom, forms, name, what, False)
            elif param.kind == "condition":
                self.condition(dom, forms, parse_condition(value), what)
            elif param.kind == "condition_of":
                items = p.get("of")
                for item in items if isinstance(items, list) else [items]:
                    other = self.spec.domains.get(str(item).partition(".")[0])
                    if other is not None:
                        forms_of = [s.form for s in other.sources]
                        self.condition(other, forms_of, parse_condition(value), what)
            elif param.kind == "algorithm" and isinstance(value, SpecMap):
                self.variable(dom, forms, var, value, what)
            elif param.kind == "dictionary":
                d = (dom.dictionaries or SpecMap()).get(str(value)) or {}
                if "form" in d and "column" in p:
                    self.name(dom, forms, f"{d['form']}.{p['column']}", what, True)


def field_use(spec: StudySpec) -> dict[str, dict[str, str]]:
    """Per form, per declared field: what becomes of it, in reviewer words: the variables
    that read it, the record key, a direct identifier, or not submitted with the reason."""
    uses = _Uses(spec)
    for dom in spec.domains.values():
        every = [s.form for s in dom.sources]
        for src in dom.sources:
            own = [src.form]
            if src.where is not None:
                uses.condition(dom, own, parse_condition(src.where), f"{dom.name} (record filter)")
            if src.melt is not None:
                for fld in src.melt["fields"]:
                    uses.note(src.form, str(fld), f"{dom.name} (one record per field)")
            for var, p in src.variables.items():
                uses.variable(dom.source_only(src), own, var, p)
        for var, p in dom.variables.items():
            uses.variable(dom, every, var, p)
        for qnam, q in (dom.supp or {}).items():
            if isinstance(q, SpecMap) and isinstance(q.get("value"), SpecMap):
                uses.variable(dom, every, qnam, q["value"], f"SUPP{dom.name}.{qnam}")
    out: dict[str, dict[str, str]] = {}
    for name, form in spec.forms.items():
        status: dict[str, str] = {}
        for f in form.fields:
            users = uses.found.get((name, f.name), [])
            words = []
            if f.identifier:
                disclosing = uses.disclosing.get((name, f.name), [])
                if disclosing:
                    raise SpecError(
                        f.where,
                        f"field {name}.{f.name} is a declared direct identifier (raw: "
                        f"identifiers:) and cannot be mapped, but {', '.join(disclosing)} "
                        "reads it",
                    )
                words.append("direct identifier, never output")
            if users:
                words.append("read by " + ", ".join(users))
            elif f.name in form.key or f.name == spec.subject_field:
                words.append("record key")
            if f.not_submitted:
                if users:
                    raise SpecError(
                        f.where,
                        f"field {name}.{f.name} is declared not_submitted but is read by "
                        f"{', '.join(users)}",
                    )
                words.append(f"not submitted: {f.not_submitted}")
            if not words:
                raise SpecError(
                    f.where,
                    f"field {name}.{f.name} reaches no dataset: map it, or declare "
                    "not_submitted: with the reason",
                )
            status[f.name] = "; ".join(words)
        out[name] = status
    return out


def load_checked_spec(root: Path) -> StudySpec:
    """The spec folder ``root`` loaded and every SDTM mapping reference checked."""
    spec = load_study_spec(Path(root))
    check_spec(spec)
    field_use(spec)
    return spec
