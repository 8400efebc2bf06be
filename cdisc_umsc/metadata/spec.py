"""Load a study spec folder (mappings/<study>/) into a checked StudySpec.

Every reference in the spec is checked here, before any data is read: forms and fields,
recode tables and codelists, algorithms and their parameters, IG domains and variables.
Mistakes are reported as ``file:line: message``.
"""

from __future__ import annotations

import codecs
import hashlib
import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from cdisc_umsc.core import iso8601
from cdisc_umsc.metadata import standards
from cdisc_umsc.metadata.model import Codelist, FieldSpec, FormSpec, Term
from cdisc_umsc.metadata.specfile import SpecError, SpecList, SpecMap, load_spec_file

STUDY_KEYS = frozenset({"study", "raw", "visits", "unscheduled", "forms", "documents"})
DOCUMENT_KEYS = frozenset({"id", "file", "title"})
SETTINGS_REQUIRED = ("STUDYID", "sdtm", "ct", "created")
#: study: settings the tool reads; any other must be read by a ``{setting: NAME}`` of the spec
SETTINGS_KNOWN = frozenset(
    {*SETTINGS_REQUIRED, "title", "sponsor", "registry_id", "country", "sdtm_model", "adam"}
    | {"adam_ct"}
)
#: keys of a planned visit (study.yaml visits:): the TV variables it carries and the CRF name
VISIT_KEYS = frozenset({"VISITNUM", "VISIT", "raw", "VISITDY", "ARMCD", "TVSTRL"})
FIELD_KEYS = frozenset({"type", "format", "unknown", "min", "max", "not_submitted", "item", "odm"})
FIELD_TYPES = frozenset({"text", "integer", "number", "date", "datetime", "time"})
#: field types whose values are written in a declared format
DATED = ("date", "datetime", "time")
FORM_KEYS = frozenset({"file", "label", "key", "fields", "reader", "sheet", "item_group", "pages"})
#: how each kind of raw export is read, and the file suffix that implies it
READERS = {".csv": "csv", ".sas7bdat": "sas7bdat", ".xpt": "xpt", ".xlsx": "xlsx", ".xml": "odm"}
#: what an ODM field may take from its record's place in the ClinicalData (``odm:``)
ODM_CONTEXT = (
    "SubjectKey",
    "LocationOID",
    "StudyEventOID",
    "StudyEventName",
    "StudyEventRepeatKey",
    "FormOID",
    "FormName",
    "FormRepeatKey",
    "ItemGroupRepeatKey",
)
DOMAIN_KEYS = frozenset(
    {
        "domain",
        "source",
        "sources",
        "where",
        "excluded_because",
        "keys",
        "variables",
        "derived",
        "supp",
        "dictionaries",
        "melt",
        "label",
        "lookups",
    }
)
SOURCE_KEYS = frozenset({"form", "where", "excluded_because", "melt", "variables", "lookups"})
#: (other form's field, this form's field) pairs a look-up joins on
JoinKey = tuple[tuple[str, str], ...]
#: trial design blocks of sdtm/trial_design.yaml (SDTMIG 3.4 chapter 7) and the keys of each
TRIAL_DESIGN = {
    "TE": frozenset({"keys", "records"}),
    "TA": frozenset({"keys", "arms", "elements"}),
    "TV": frozenset({"keys", "from"}),
    "TI": frozenset({"keys", "records"}),
    "SE": frozenset({"keys", "arm", "elements"}),
    "TS": frozenset({"keys", "records"}),
}


@dataclass(frozen=True)
class Recode:
    """A recode (synonym) table: CRF value -> submission value of one codelist."""

    name: str
    codelist: str | None
    map: dict[str, str]
    where: str


@dataclass(frozen=True)
class DocumentFile:
    """A document the define links to (Define-XML 2.1 sections 5.3.2-5.3.3): the annotated
    CRF or a reviewer's guide, a file of the spec folder copied beside the define.xml."""

    id: str
    title: str
    path: Path
    kind: str  # AnnotatedCRF | SupplementalDoc
    purpose: str  # Tabulation | Analysis


@dataclass(frozen=True)
class SourceSpec:
    """One raw form feeding a domain."""

    form: str
    variables: SpecMap
    where: SpecMap | None = None
    excluded_because: str | None = None
    melt: SpecMap | None = None
    #: declared join keys of FORM.FIELD look-ups from this source, by the other form
    lookups: dict[str, JoinKey] = field(default_factory=dict)


@dataclass(frozen=True)
class DomainSpec:
    """One SDTM domain's mapping spec."""

    name: str
    file: str
    keys: tuple[str, ...]
    sources: tuple[SourceSpec, ...]
    variables: SpecMap
    derived: tuple[SpecMap, ...] = ()
    supp: SpecMap | None = None
    dictionaries: SpecMap | None = None
    spec: SpecMap | None = None
    #: declared join keys of FORM.FIELD look-ups from every source, by the other form
    lookups: dict[str, JoinKey] = field(default_factory=dict)

    def source_only(self, src: SourceSpec) -> DomainSpec:
        """The domain as one of its sources sees it: that source and its own variables."""
        return replace(self, sources=(src,), variables=src.variables, derived=(), supp=None)

    def join_key(self, source_form: str, other: str) -> JoinKey | None:
        """The declared join of ``other`` from records of ``source_form`` (source-level
        ``lookups:`` first, then the domain's), or None when the spec declares none."""
        for src in self.sources:
            if src.form == source_form and other in src.lookups:
                return src.lookups[other]
        return self.lookups.get(other)

    def all_variables(self) -> list[str]:
        """Every target variable the spec produces, in spec order."""
        names: list[str] = []
        for src in self.sources:
            names += [n for n in src.variables if n not in names]
        names += [n for n in self.variables if n not in names]
        for d in self.derived:
            names += [n for n in d.get("set", {}) if n not in names]
        return names


@dataclass(frozen=True)
class StudySpec:
    """The whole study spec, checked and ready to resolve into the metadata object."""

    root: Path
    settings: dict[str, Any]
    visits: tuple[SpecMap, ...]
    forms: dict[str, FormSpec]
    subject_field: str
    identifiers: frozenset[tuple[str, str]]
    encoding: str
    recodes: dict[str, Recode]
    units: dict[str, tuple[SpecMap, ...]]
    sponsor_codelists: dict[str, Codelist]
    domains: dict[str, DomainSpec]
    trial_design: SpecMap | None
    adam: dict[str, SpecMap] = field(default_factory=dict)
    sha256: str = ""
    #: the standards the study uses, resolved once against the bundle
    standards: standards.InUse = field(default_factory=standards.InUse)
    #: documents the defines link to (annotated CRF, reviewer's guides)
    documents: tuple[DocumentFile, ...] = ()
    #: raw-folder files (names or patterns) that are no form, with the reason (raw.ignore)
    ignored: dict[str, str] = field(default_factory=dict)
    #: how unscheduled visits are recognised and numbered (study.yaml unscheduled:), or None
    unscheduled: SpecMap | None = None

    def join_key(self, dom: DomainSpec, source_form: str, other: str) -> JoinKey:
        """How records of ``source_form`` (a source of ``dom``) find their row of form
        ``other`` in a FORM.FIELD look-up: the declared ``lookups:``, else the other form's
        ``key:`` fields by the same names, else the subject field."""
        declared = dom.join_key(source_form, other)
        if declared is not None:
            return declared
        key = self.forms[other].key or (self.subject_field,)
        return tuple((k, k) for k in key)

    @property
    def sdtm_standard(self) -> tuple[str, str]:
        return "SDTMIG", self.standards.sdtmig

    @property
    def ct_version(self) -> str:
        return self.standards.sdtm_ct


def _field(name: str, fdef: SpecMap, ftype: str, where: str) -> FieldSpec:
    """One declared field: its type, and for dates and times the format and unknown tokens."""
    fmt = fdef.get("format")
    unknown = fdef.get("unknown") or []
    if not isinstance(unknown, list) or any(isinstance(t, dict | list) for t in unknown):
        raise fdef.error("unknown", "unknown: is a list of tokens, e.g. [UN, UNK]")
    unknown = tuple(str(t) for t in unknown)
    if ftype in DATED:
        if fmt is None and ftype == "time":
            fmt = "hh:mm"
        if fmt is None:
            raise fdef.error(
                None if "type" not in fdef else "type",
                f"{ftype} fields need a format, e.g. {', '.join(iso8601.DATE_FORMATS)}"
                + (" (with a time: DD-MON-YYYY hh:mm, ISO 8601)" if ftype == "datetime" else ""),
            )
        try:
            iso8601.raw_format(str(fmt), ftype, unknown)
        except ValueError as exc:
            raise fdef.error("format" if "format" in fdef else "unknown", str(exc)) from None
    elif fmt is not None or unknown:
        raise fdef.error(
            "format" if "format" in fdef else "unknown",
            f"format: and unknown: apply to date, datetime and time fields, not {ftype}",
        )
    bounds: dict[str, float | None] = {}
    for key in ("min", "max"):
        bounds[key] = None if fdef.get(key) is None else _number(fdef[key])
        if fdef.get(key) is not None and bounds[key] is None:
            raise fdef.error(key, f"{key}: '{fdef[key]}' is not a number")
        if bounds[key] is not None and ftype not in ("integer", "number"):
            raise fdef.error(key, f"{key}: applies to integer and number fields, not {ftype}")
    low, high = bounds["min"], bounds["max"]
    if low is not None and high is not None and low > high:
        raise fdef.error("max", f"max: {fdef['max']} is below min: {fdef['min']} (no value fits)")
    reason = fdef.get("not_submitted")
    if reason is not None and (not isinstance(reason, str) or not reason.strip()):
        raise fdef.error("not_submitted", "not_submitted: gives the reason, as text")
    return FieldSpec(
        name,
        ftype,
        None if fmt is None else str(fmt),
        bounds["min"],
        bounds["max"],
        unknown=unknown,
        not_submitted=reason,
        where=where,
    )


def _forms(study: SpecMap) -> dict[str, FormSpec]:
    raw_forms = study.require("forms")
    if not isinstance(raw_forms, SpecMap):
        raise study.error("forms", "forms must be a mapping of form name to its definition")
    forms: dict[str, FormSpec] = {}
    for name, spec in raw_forms.items():
        if not isinstance(spec, SpecMap):
            raise raw_forms.error(name, f"form {name} must be a mapping")
        spec.only(FORM_KEYS, f"form {name}")
        reader = _reader(spec, name)
        fields = spec.require("fields")
        if not isinstance(fields, SpecMap) or not fields:
            raise spec.error("fields", f"form {name} needs a mapping of fields")
        specs = []
        for fname, fdef in fields.items():
            fdef = fdef if fdef is not None else SpecMap()
            if not isinstance(fdef, SpecMap):
                raise fields.error(fname, f"field {fname} must be a mapping (use {{}} for text)")
            if fdef:
                fdef.only(FIELD_KEYS, f"field {name}.{fname}")
            ftype = fdef.get("type", "text")
            if ftype not in FIELD_TYPES:
                raise fdef.error(
                    "type",
                    f"unknown field type '{ftype}' "
                    f"(expected one of: {', '.join(sorted(FIELD_TYPES))})",
                )
            item, odm = _field_source(fdef, fields, fname, name, reader)
            specs.append(
                replace(_field(fname, fdef, ftype, fields.where(fname)), item=item, odm=odm)
            )
        key = tuple(spec.get("key") or ())
        for k in key:
            if k not in fields:
                raise spec.error("key", f"key field '{k}' is not a field of form {name}")
        items = [f.item for f in specs if f.item]
        twice = next((i for i in items if items.count(i) > 1), None)
        if twice:
            raise spec.error("fields", f"item {twice} is read into two fields of form {name}")
        forms[name] = FormSpec(
            name,
            str(spec.require("file")),
            str(spec.get("label", "")),
            key,
            tuple(specs),
            reader,
            str(spec.get("sheet", name)) if reader == "xlsx" else None,
            str(spec["item_group"]) if reader == "odm" else None,
            _pages(spec, name),
        )
    return forms


def _reader(spec: SpecMap, name: str) -> str:
    """The form's reader: declared, else implied by its file's suffix."""
    file = str(spec.require("file"))
    if "reader" in spec:
        reader = str(spec["reader"])
        if reader not in READERS.values():
            raise spec.error(
                "reader",
                f"unknown reader '{reader}' (expected one of: {', '.join(READERS.values())})",
            )
    else:
        suffix = Path(file).suffix.lower()
        if suffix not in READERS:
            raise spec.error(
                "file",
                f"form {name}: cannot tell the reader from '{file}' "
                f"(give reader: one of {', '.join(READERS.values())})",
            )
        reader = READERS[suffix]
    if "sheet" in spec and reader != "xlsx":
        raise spec.error("sheet", f"form {name}: sheet: is for xlsx forms (this one is {reader})")
    if reader == "odm":
        spec.require("item_group")
    elif "item_group" in spec:
        raise spec.error(
            "item_group", f"form {name}: item_group: is for odm forms (this one is {reader})"
        )
    return reader


def _field_source(
    fdef: SpecMap, fields: SpecMap, fname: str, form: str, reader: str
) -> tuple[str | None, str | None]:
    """An ODM field's ItemOID (``item:``) or record context (``odm:``); other readers take
    the column named like the field."""
    if reader != "odm":
        for key in ("item", "odm"):
            if key in fdef:
                raise fdef.error(key, f"field {form}.{fname}: {key}: is for odm forms")
        return None, None
    if ("item" in fdef) == ("odm" in fdef):
        owner, key = (fdef, "odm") if "odm" in fdef else (fields, fname)
        raise owner.error(
            key,
            f"field {form}.{fname} of an odm form needs one of item: (an ItemOID) "
            "or odm: (the record's SubjectKey, StudyEventOID ...)",
        )
    if "odm" in fdef and fdef["odm"] not in ODM_CONTEXT:
        raise fdef.error(
            "odm", f"unknown odm: '{fdef['odm']}' (expected one of: {', '.join(ODM_CONTEXT)})"
        )
    return (str(fdef["item"]) if "item" in fdef else None), fdef.get("odm")


def _pages(spec: SpecMap, name: str) -> tuple[int, ...]:
    """``pages:`` of a form: aCRF page numbers (a number or a list of them)."""
    if "pages" not in spec:
        return ()
    value = spec["pages"]
    items = value if isinstance(value, list) else [value]
    if not items or any(isinstance(p, bool) or not isinstance(p, int) or p < 1 for p in items):
        raise spec.error("pages", f"form {name}: pages must be a page number or a list of them")
    return tuple(sorted(set(items)))


#: documents: keys -> (Define-XML element, define it belongs to, a list or one document)
_DOCUMENTS = {
    "acrf": ("AnnotatedCRF", "Tabulation", False),
    "sdtm": ("SupplementalDoc", "Tabulation", True),
    "adam": ("SupplementalDoc", "Analysis", True),
}


def _documents(study: SpecMap, root: Path) -> tuple[DocumentFile, ...]:
    """``documents:`` of study.yaml: the annotated CRF and the reviewer's guides."""
    docs = study.get("documents")
    if docs is None:
        return ()
    if not isinstance(docs, SpecMap):
        raise study.error("documents", "documents must be a mapping (acrf:, sdtm:, adam:)")
    docs.only(frozenset(_DOCUMENTS), "documents")
    out: list[DocumentFile] = []
    for key, (kind, purpose, many) in _DOCUMENTS.items():
        if key not in docs:
            continue
        entries = docs[key]
        if many != isinstance(entries, list):
            shape = "a list of {id:, file:, title:}" if many else "one {file:, title:}"
            raise docs.error(key, f"documents.{key} must be {shape}")
        for entry in entries if many else [entries]:
            if not isinstance(entry, SpecMap):
                raise docs.error(key, f"documents.{key}: each document is a mapping")
            entry.only(DOCUMENT_KEYS, f"a document of documents.{key}")
            doc_id = str(entry.get("id", "acrf" if key == "acrf" else ""))
            if not doc_id or not doc_id.replace("-", "").replace("_", "").isalnum():
                raise entry.error(
                    "id" if "id" in entry else None,
                    f"documents.{key}: each document needs an id: (letters, digits, - or _)",
                )
            path = root / str(entry.require("file"))
            if not path.is_file():
                raise entry.error("file", f"document file {entry['file']} does not exist")
            title = str(entry.require("title"))
            out.append(DocumentFile(doc_id, title, path, kind, purpose))
    ids = [d.id for d in out]
    dup = next((i for i in ids if ids.count(i) > 1), None)
    if dup is not None:
        raise docs.error(None, f"documents: id {dup} is used twice")
    return tuple(out)


def _codelists(
    cl_spec: SpecMap | None, ct_version: str
) -> tuple[dict[str, Recode], dict[str, tuple], dict[str, Codelist]]:
    recodes: dict[str, Recode] = {}
    units: dict[str, tuple] = {}
    sponsor: dict[str, Codelist] = {}
    if cl_spec is None:
        return recodes, units, sponsor
    cl_spec.only(frozenset({"recodes", "units", "codelists"}), "codelists.yaml")
    for cid, cdef in (cl_spec.get("codelists") or SpecMap()).items():
        if not isinstance(cdef, SpecMap):
            raise cl_spec["codelists"].error(cid, f"codelist {cid} must be a mapping")
        cdef.only(frozenset({"name", "terms", "data_type", "extensible"}), f"codelist {cid}")
        terms_def = cdef.require("terms")
        if isinstance(terms_def, SpecMap):
            terms = tuple(Term(str(k), decode=str(v)) for k, v in terms_def.items())
        elif isinstance(terms_def, list):
            terms = tuple(Term(str(v)) for v in terms_def)
        else:
            raise cdef.error("terms", "terms must be a list or a mapping of value to decode")
        sponsor[str(cid)] = Codelist(
            str(cid),
            str(cdef.require("name")),
            bool(cdef.get("extensible", False)),
            terms,
            sponsor=True,
            data_type=str(cdef.get("data_type", "text")),
        )
    for name, rdef in (cl_spec.get("recodes") or SpecMap()).items():
        if not isinstance(rdef, SpecMap):
            raise cl_spec["recodes"].error(name, f"recode {name} must be a mapping")
        rdef.only(frozenset({"codelist", "map"}), f"recode {name}")
        mapping = rdef.require("map")
        if not isinstance(mapping, SpecMap):
            raise rdef.error("map", "map must be a mapping of CRF value to submission value")
        codelist = rdef.get("codelist")
        recodes[str(name)] = Recode(
            str(name),
            str(codelist) if codelist else None,
            {str(k): str(v) for k, v in mapping.items()},
            rdef.where(),
        )
        _check_codelist_targets(rdef, mapping, codelist, sponsor, ct_version)
    for name, rows in (cl_spec.get("units") or SpecMap()).items():
        if not isinstance(rows, list):
            raise cl_spec["units"].error(name, "a unit table is a list of conversions")
        for row in rows:
            if not isinstance(row, SpecMap):
                raise cl_spec["units"].error(
                    name, "each conversion is a mapping (test:, from: ...)"
                )
            row.only(frozenset({"test", "from", "to", "factor", "decimals"}), f"unit table {name}")
            for key in ("test", "from", "to", "factor"):
                row.require(key)
            factor = _number(row["factor"])
            if factor is None or factor <= 0:
                raise row.error(
                    "factor", f"factor: '{row['factor']}' is not a positive number (e.g. 0.1)"
                )
            if "decimals" in row:
                places = _number(row["decimals"])
                if places is None or not places.is_integer() or not 0 <= places <= 15:
                    raise row.error(
                        "decimals",
                        f"decimals: '{row['decimals']}' is not a number of decimal places (0-15)",
                    )
                row["decimals"] = int(places)
        units[str(name)] = tuple(rows)
    return recodes, units, sponsor


def _check_codelist_targets(
    rdef: SpecMap, mapping: SpecMap, codelist: Any, sponsor: dict[str, Codelist], ct_version: str
) -> None:
    if not codelist:
        return
    codelist = str(codelist)
    if codelist in sponsor:
        allowed = sponsor[codelist].values
        for k, v in mapping.items():
            if str(v) not in allowed:
                raise mapping.error(k, f"'{v}' is not a term of sponsor codelist {codelist}")
        return
    ct = standards.controlled_terminology("SDTM", ct_version)
    cl = ct.codelist(codelist)
    if cl is None:
        raise rdef.error(
            "codelist",
            f"unknown codelist '{codelist}' (not in the bundled CT nor declared under codelists:)",
        )
    if not cl.extensible:
        for k, v in mapping.items():
            if cl.lookup(str(v)) is None:
                raise mapping.error(
                    k,
                    f"'{v}' is not a term of non-extensible codelist "
                    f"{cl.submission_value} ({cl.code})",
                )


def _source(spec: SpecMap, forms: dict[str, FormSpec], obj: SpecMap, form: str) -> SourceSpec:
    if form not in forms:
        raise obj.error(
            "form" if "form" in obj else "source",
            f"unknown form '{form}' (forms declared in study.yaml: {', '.join(forms)})",
        )
    variables = obj.get("variables") if obj is not spec else SpecMap()
    if variables is None:
        variables = SpecMap()
    return SourceSpec(
        form,
        variables,
        obj.get("where"),
        obj.get("excluded_because"),
        obj.get("melt"),
        _lookups(obj, forms, [form]),
    )


#: How a coding table's verbatim terms are compared with the record's (always trimmed).
MATCH_RULES = ("exact", "ignore_case")


def _check_melt(src: SourceSpec, forms: dict[str, FormSpec], spec: SpecMap) -> None:
    """``melt: {fields: [...], name: ITEM, value: VALUE, skip_blank: true}``."""
    melt = src.melt
    if melt is None:
        return
    if not isinstance(melt, SpecMap):
        raise spec.error("melt", "melt: is a mapping with fields, name and value")
    melt.only(frozenset({"fields", "name", "value", "skip_blank"}), "melt")
    for key in ("fields", "name", "value"):
        melt.require(key)
    fields = melt["fields"]
    own = {f.name for f in forms[src.form].fields}
    if not isinstance(fields, list) or not fields:
        raise melt.error("fields", "melt fields: is a list of the form's fields")
    for fld in fields:
        if str(fld) not in own:
            raise melt.error("fields", f"melt: form {src.form} has no field {fld}")
    if melt.get("skip_blank", False) not in (True, False):
        raise melt.error("skip_blank", "skip_blank: is true or false")


def _dictionaries(spec: SpecMap, forms: dict[str, FormSpec]) -> None:
    """Each coding dictionary is a coding table (``file:``, ``key:`` and a declared ``match:``
    rule) or a raw coding export (``form:``, joined to records by ``lookups:``)."""
    decl = spec.get("dictionaries")
    if decl is None:
        return
    if not isinstance(decl, SpecMap):
        raise spec.error("dictionaries", "dictionaries: maps a name to a coding table or export")
    for name, d in decl.items():
        if not isinstance(d, SpecMap):
            raise decl.error(name, f"dictionary {name} must be a mapping")
        d.only(frozenset({"file", "key", "match", "form", "name", "version"}), f"dictionary {name}")
        if ("file" in d) == ("form" in d):
            raise d.error(
                None,
                f"dictionary {name}: give file: (a coding table in the spec folder) or form: "
                "(a raw coding export), not both",
            )
        if "form" in d:
            if str(d["form"]) not in forms:
                raise d.error("form", f"dictionary {name}: unknown form '{d['form']}'")
            for key in ("key", "match"):
                if key in d:
                    raise d.error(
                        key, f"dictionary {name}: {key}: applies to a coding table (file:)"
                    )
            continue
        d.require("key")
        if d.get("match") not in MATCH_RULES:
            raise d.error(
                "match" if "match" in d else None,
                f"dictionary {name}: match: must say how verbatim terms are compared "
                f"({' or '.join(MATCH_RULES)}; both trim surrounding blanks)",
            )


def _lookups(obj: SpecMap, forms: dict[str, FormSpec], own: list[str]) -> dict[str, JoinKey]:
    """``lookups: {FORM: {on: [FIELD, ...]}}`` (same names on both forms) or
    ``{on: {OTHER_FIELD: THIS_FIELD}}``: how FORM.FIELD references find their row."""
    decl = obj.get("lookups")
    if decl is None:
        return {}
    if not isinstance(decl, SpecMap):
        raise obj.error(
            "lookups", "lookups: maps a form to its join, e.g. {VISIT: {on: [SUBJID, VISIT]}}"
        )
    out: dict[str, JoinKey] = {}
    for other, join in decl.items():
        if other not in forms:
            raise decl.error(other, f"lookups: unknown form '{other}' (forms: {', '.join(forms)})")
        if not isinstance(join, SpecMap) or "on" not in join:
            raise decl.error(
                other, f"lookups: {other} needs on: [FIELD, ...] or on: {{{other}_FIELD: FIELD}}"
            )
        join.only(frozenset({"on"}), f"the look-up of {other}")
        on = join["on"]
        pairs = (
            tuple((str(k), str(v)) for k, v in on.items())
            if isinstance(on, SpecMap)
            else tuple((str(k), str(k)) for k in on)
            if isinstance(on, list)
            else ()
        )
        if not pairs:
            raise join.error("on", "on: is a non-empty list of fields or a mapping of fields")
        theirs = {f.name for f in forms[other].fields}
        for other_field, this_field in pairs:
            if other_field not in theirs:
                raise join.error("on", f"lookups: form {other} has no field {other_field}")
            for form in own:
                mine = {f.name for f in forms[form].fields}
                if this_field not in mine:
                    raise join.error(
                        "on", f"lookups: form {form} has no field {this_field} to join {other} on"
                    )
        out[str(other)] = pairs
    return out


def _domain(path: Path, display: str, forms: dict[str, FormSpec]) -> DomainSpec:
    spec = load_spec_file(path, display)
    spec.only(DOMAIN_KEYS, "a domain spec")
    name = str(spec.require("domain"))
    variables = spec.get("variables") or SpecMap()
    if not isinstance(variables, SpecMap):
        raise spec.error("variables", "variables must be a mapping of variable to algorithm")
    sources: list[SourceSpec] = []
    if "source" in spec and "sources" in spec:
        raise spec.error("sources", "give either source: or sources:, not both")
    if "source" in spec:
        if str(spec["source"]) not in forms:
            raise spec.error("source", f"unknown form '{spec['source']}'")
        sources.append(
            SourceSpec(
                str(spec["source"]),
                SpecMap(),
                spec.get("where"),
                spec.get("excluded_because"),
                spec.get("melt"),
            )
        )
    for src in spec.get("sources") or SpecList():
        if not isinstance(src, SpecMap):
            raise spec.error("sources", "each source must be a mapping with form:")
        src.only(SOURCE_KEYS, "a source")
        sources.append(_source(spec, forms, src, str(src.require("form"))))
    for src in sources:
        _check_melt(src, forms, spec)
        if src.where is not None and not src.excluded_because:
            raise spec.error(
                "where",
                "a source filter (where:) needs excluded_because: "
                "the reason reported for the rows it leaves out",
            )
        for nm, vdef in [*src.variables.items(), *variables.items()]:
            if not isinstance(vdef, SpecMap):
                owner = src.variables if nm in src.variables else variables
                raise owner.error(nm, f"variable {nm} needs a mapping such as {{field: X}}")
    keys_given = spec.get("keys") or []
    if not isinstance(keys_given, list) or not all(isinstance(k, str) for k in keys_given):
        raise spec.error("keys", "keys: a list of variable names, e.g. [STUDYID, USUBJID, AESEQ]")
    keys = tuple(keys_given)
    derived = tuple(spec.get("derived") or ())
    _dictionaries(spec, forms)
    return DomainSpec(
        name,
        display,
        keys,
        tuple(sources),
        variables,
        derived,
        spec.get("supp"),
        spec.get("dictionaries"),
        spec,
        _lookups(spec, forms, [s.form for s in sources]),
    )


def _number(value: Any) -> float | None:
    """A spec number: a YAML number, or text written as a decimal number (``0012``, ``1.10``,
    which the spec loader keeps as text); None for anything else (``one``, ``true``, a list)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and re.fullmatch(r"[-+]?[0-9]+(\.[0-9]+)?", value.strip()):
        return float(value)
    return None


def _visits(study: SpecMap) -> tuple[SpecMap, ...]:
    """``visits:`` of study.yaml: each planned visit a mapping of known keys with a numeric
    VISITNUM and a VISIT, no VISITNUM, VISIT or CRF name (``raw``) twice (SDTMIG 3.4 section
    7.3.1: VISITNUM identifies a planned visit and VISIT is its label, one to one)."""
    decl = study.get("visits")
    if decl is None:
        return ()
    if not isinstance(decl, SpecList):
        raise study.error("visits", "visits: is a list of planned visits ({VISITNUM:, VISIT:})")
    seen: dict[tuple[str, object], int] = {}
    for visit in decl:
        if not isinstance(visit, SpecMap):
            raise study.error("visits", "each visit is a mapping such as {VISITNUM: 1, VISIT: X}")
        visit.only(VISIT_KEYS, "a visit")
        num = _number(visit.require("VISITNUM"))
        if num is None:
            raise visit.error(
                "VISITNUM", f"VISITNUM: '{visit['VISITNUM']}' is not a number (e.g. 1 or 2.1)"
            )
        visit["VISITNUM"] = int(num) if num.is_integer() else num
        for key in ("VISIT", "raw", "TVSTRL", "ARMCD"):
            if isinstance(visit.get(key), dict | list):
                raise visit.error(key, f"{key}: is text")
        visit.require("VISIT")
        if visit.get("VISITDY") is not None:
            day = _number(visit["VISITDY"])
            if day is None or not day.is_integer():
                raise visit.error(
                    "VISITDY", f"VISITDY: '{visit['VISITDY']}' is not a whole number of days"
                )
            visit["VISITDY"] = int(day)
        for key in ("VISITNUM", "VISIT", "raw"):
            if key not in visit:
                continue
            value = visit[key] if key == "VISITNUM" else str(visit[key])
            if (key, value) in seen:
                raise visit.error(
                    key, f"{key} {value} is also the {key} of the visit at line {seen[key, value]}"
                )
            seen[key, value] = visit.line
    return tuple(decl)


#: ``created:`` is an ISO 8601 date or date-time (the data cut-off, every file's timestamp)
_CREATED = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}(:[0-9]{2})?)?")


def _check_created(settings: SpecMap) -> None:
    """``created:`` must be a real ISO 8601 date or date-time such as 2021-06-30T00:00:00."""
    value = settings["created"]
    text = value if isinstance(value, str) else ""
    try:
        ok = bool(_CREATED.fullmatch(text)) and bool(datetime.fromisoformat(text))
    except ValueError:
        ok = False
    if not ok:
        raise settings.error(
            "created",
            f"created: '{value}' is not an ISO 8601 date-time such as 2021-06-30T00:00:00 "
            "(the data cut-off, written in every output's header)",
        )


def _encoding(raw: SpecMap) -> str:
    """``raw: encoding:``: the name of a text encoding Python knows (utf-8, gb18030 ...)."""
    name = raw.get("encoding", "utf-8")
    try:
        ok = isinstance(name, str) and codecs.lookup(name)._is_text_encoding
    except LookupError:
        ok = False
    if not ok:
        raise raw.error(
            "encoding",
            f"encoding: '{name}' is not a known text encoding (e.g. utf-8, gb18030, cp1252)",
        )
    return str(name)


def _check_no_epoch(domains: dict[str, DomainSpec]) -> None:
    """EPOCH comes from the subject elements (SDTMIG 3.4 section 5.3, SE): a spec without
    ``SE:`` in sdtm/trial_design.yaml cannot derive it."""
    for dom in domains.values():
        for owner in [*(s.variables for s in dom.sources), dom.variables]:
            for var, vdef in owner.items():
                if isinstance(vdef, SpecMap) and "epoch" in vdef:
                    raise owner.error(
                        var,
                        f"variable {var}: epoch: reads the subject elements, but the spec has "
                        "no SE: in sdtm/trial_design.yaml",
                    )


def _settings_read(obj: Any) -> set[str]:
    """Names read by ``{setting: NAME}`` anywhere in a loaded spec file."""
    found: set[str] = set()
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if isinstance(item.get("setting"), str):
                found.add(item["setting"])
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def _check_settings(settings: SpecMap, files: list[Any]) -> None:
    """Every study: setting is one the tool reads or one the spec reads by ``{setting:}``."""
    read = set().union(*(_settings_read(f) for f in files)) if files else set()
    for key in settings:
        if key not in SETTINGS_KNOWN and key not in read:
            known = ", ".join(sorted(SETTINGS_KNOWN))
            raise settings.error(
                key,
                f"unknown key '{key}' in study: (expected one of: {known}; another setting "
                "must be read by a {setting: NAME} of the spec)",
            )


def _unscheduled(study: SpecMap, forms: dict[str, FormSpec]) -> SpecMap | None:
    """``unscheduled: {raw: PATTERN, visit: FORM.FIELD, date: FORM.FIELD, VISIT: TEXT}``:
    CRF visit names matching ``raw`` are unscheduled visits, numbered from the visit form."""
    decl = study.get("unscheduled")
    if decl is None:
        return None
    if not isinstance(decl, SpecMap):
        raise study.error("unscheduled", "unscheduled: is a mapping (raw, visit, date, VISIT)")
    decl.only(frozenset({"raw", "visit", "date", "VISIT"}), "unscheduled")
    owner: str | None = None
    for key in ("visit", "date"):
        form, _, fld = str(decl.require(key)).partition(".")
        if form not in forms or fld not in {f.name for f in forms[form].fields}:
            raise decl.error(
                key, f"unscheduled {key}: '{decl[key]}' is not a FORM.FIELD of a declared form"
            )
        if owner is not None and form != owner:
            raise decl.error(key, "unscheduled visit and date must be fields of one (visit) form")
        owner = form
    decl.require("raw")
    assert owner is not None  # both keys were read above
    date = next(f for f in forms[owner].fields if f.name == str(decl["date"]).partition(".")[2])
    if date.type not in ("date", "datetime"):
        raise decl.error("date", f"unscheduled date: {decl['date']} is not a date field")
    if "{VISITNUM}" not in str(decl.get("VISIT", "{VISITNUM}")):
        raise decl.error("VISIT", "unscheduled VISIT: must contain {VISITNUM}")
    return decl


def load_study_spec(root: Path) -> StudySpec:
    """Load the spec folder ``root``, checking its keys and its references to forms, fields,
    codelists and the bundled standards (algorithm parameters are checked by the SDTM layer:
    :func:`cdisc_umsc.sdtm.check_spec.load_checked_spec`)."""
    root = Path(root)
    if not (root / "study.yaml").is_file():
        raise SpecError(str(root), "not a spec folder (study.yaml missing)")
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in (".yaml", ".csv"))
    digest = hashlib.sha256()
    for p in files:
        digest.update(p.relative_to(root).as_posix().encode() + b"\0" + p.read_bytes() + b"\0")
    # errors name a file as the folder's name and the file in it; the current folder ('.')
    # has no name to give, and its files are named as they are reached from it
    prefix = f"{root.name}/" if root.name else ""
    disp = lambda p: prefix + p.relative_to(root).as_posix()  # noqa: E731
    study = load_spec_file(root / "study.yaml", disp(root / "study.yaml"))
    study.only(STUDY_KEYS, "study.yaml")
    settings = study.require("study")
    if not isinstance(settings, SpecMap):
        raise study.error("study", "study: is a mapping of settings (STUDYID:, sdtm:, ...)")
    for key in SETTINGS_REQUIRED:
        settings.require(key)
    _check_created(settings)
    in_use = standards.resolve_in_use(settings)
    raw = study.get("raw") or SpecMap()
    if not isinstance(raw, SpecMap):
        raise study.error("raw", "raw: is a mapping (encoding:, identifiers:, subject:, ignore:)")
    raw.only(frozenset({"encoding", "identifiers", "subject", "ignore"}), "raw")
    ignored = raw.get("ignore") or SpecMap()
    if not isinstance(ignored, SpecMap) or any(
        not isinstance(v, str) or not v.strip() for v in ignored.values()
    ):
        raise raw.error(
            "ignore", "ignore: maps a file name (or pattern such as *.pdf) to the reason"
        )
    encoding = _encoding(raw)
    forms = _forms(study)
    identifiers: set[tuple[str, str]] = set()
    for ident in raw.get("identifiers") or []:
        form, _, fld = str(ident).partition(".")
        if form not in forms or fld not in {f.name for f in forms[form].fields}:
            raise raw.error(
                "identifiers", f"identifier '{ident}' is not a FORM.FIELD of a declared form"
            )
        identifiers.add((form, fld))
    forms = {
        n: replace(
            f,
            fields=tuple(replace(x, identifier=(n, x.name) in identifiers) for x in f.fields),
        )
        for n, f in forms.items()
    }
    documents = _documents(study, root)
    if not any(d.kind == "AnnotatedCRF" for d in documents):
        paged = next((n for n, f in forms.items() if f.pages), None)
        if paged is not None:
            raise study["forms"][paged].error(
                "pages", f"form {paged}: pages need the annotated CRF (documents: acrf:)"
            )
    cl_path = root / "codelists.yaml"
    cl_spec = load_spec_file(cl_path, disp(cl_path)) if cl_path.is_file() else None
    recodes, units, sponsor = _codelists(cl_spec, in_use.sdtm_ct)
    domains: dict[str, DomainSpec] = {}
    for path in sorted((root / "sdtm").glob("*.yaml")):
        if path.name == "trial_design.yaml":
            continue
        dom = _domain(path, disp(path), forms)
        if dom.name in domains:
            raise SpecError(
                dom.file, f"domain {dom.name} is also mapped in {domains[dom.name].file}"
            )
        domains[dom.name] = dom
    td_path = root / "sdtm" / "trial_design.yaml"
    trial_design = load_spec_file(td_path, disp(td_path)) if td_path.is_file() else None
    if trial_design is not None:
        trial_design.only(frozenset(TRIAL_DESIGN), "trial_design.yaml")
        for block, block_keys in TRIAL_DESIGN.items():
            if block not in trial_design:
                continue
            if not isinstance(trial_design[block], SpecMap):
                raise trial_design.error(block, f"{block}: expected a mapping of its keys")
            trial_design[block].only(block_keys, f"trial design {block}:")
    if trial_design is None or "SE" not in trial_design:
        _check_no_epoch(domains)
    adam: dict[str, SpecMap] = {}
    for path in sorted((root / "adam").glob("*.yaml")):
        adam_spec = load_spec_file(path, disp(path))
        name = str(adam_spec.require("dataset"))
        if name in adam:
            raise adam_spec.error(
                "dataset", f"dataset {name} is also declared in {adam[name].file}"
            )
        adam[name] = adam_spec
    _check_settings(
        settings,
        [*(d.spec for d in domains.values()), trial_design, *adam.values()],
    )
    visits = _visits(study)
    spec = StudySpec(
        root,
        dict(settings),
        visits,
        forms,
        str(raw.get("subject", "SUBJID")),
        frozenset(identifiers),
        encoding,
        recodes,
        units,
        sponsor,
        domains,
        trial_design,
        adam,
        digest.hexdigest(),
        in_use,
        documents,
        {str(k): str(v) for k, v in ignored.items()},
        _unscheduled(study, forms),
    )
    return spec
