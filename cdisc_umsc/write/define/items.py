"""Datasets and variables of a define.xml: ItemGroupDef (Define-XML 2.1 section 5.3.4), ItemRef
(5.3.5), ItemDef with def:Origin (5.3.11, 5.3.11.4), value-level ItemDefs with their where
clauses (5.3.6-5.3.7), MethodDef (5.3.13) and def:CommentDef (5.3.14).

Every derived variable names its method; a derived variable without one is an error of the
metadata, never a placeholder. Identical method texts share one MethodDef.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd
from lxml import etree

from cdisc_umsc.core.errors import WriteError
from cdisc_umsc.metadata.model import Codelist, Dataset, Study, Term, ValueLevel, Variable
from cdisc_umsc.write.datasetjson import item_group_oid, item_oid
from cdisc_umsc.write.define.codelists import Codelists
from cdisc_umsc.write.define.measure import (
    define_type,
    is_blank,
    item_length,
    numeric_text,
    texts,
)
from cdisc_umsc.write.define.nodes import el, translated
from cdisc_umsc.write.define.values import ValueItem, first_labels, label_variable, value_items

ORIGIN_TYPES = frozenset(
    {"Collected", "Assigned", "Derived", "Protocol", "Predecessor", "Not Available", "Other"}
)
#: §5.3.11.4 def:Origin Source (Define-XML CT C170450); default per origin type.
ORIGIN_SOURCES = ("Subject", "Investigator", "Vendor", "Sponsor")
DEFAULT_SOURCE = {
    "Collected": "Investigator",
    "Assigned": "Sponsor",
    "Derived": "Sponsor",
    "Protocol": "Sponsor",
}
STD_IG = "STD.IG"
#: Result variables: their codelists hold character results, and a number is never a term
#: (SDTMIG 3.4 section 4.5.1), so the codelist applies to the tests with text results.
RESULT_SUFFIXES = ("ORRES", "STRESC")
TRIAL_DESIGN = "TRIAL DESIGN"


@dataclass
class Origin:
    """What def:Origin says of one ItemDef."""

    type: str
    source: str | None = None
    pages: tuple[int, ...] = ()


@dataclass
class Build:
    """Everything collected while the ItemGroupDefs are written, emitted afterwards."""

    study: Study
    codelists: Codelists
    #: dataset -> the file def:leaf points at
    files: Mapping[str, str]
    #: leaf ID of the annotated CRF, when the study has one
    acrf: str | None = None
    #: "Name Version" of an implementation guide other than the study's -> its Standard OID.
    other_igs: dict[str, str] = field(default_factory=dict)
    #: method text -> (OID, names of the variables it derives)
    methods: dict[str, tuple[str, list[str]]] = field(default_factory=dict)
    comments: list[tuple[str, str]] = field(default_factory=list)
    value_lists: list[tuple[str, list[tuple[str, str, str | None]]]] = field(default_factory=list)
    where: list[tuple[str, list[tuple[str, str, list[str]]]]] = field(default_factory=list)
    item_defs: list[tuple[Variable, dict]] = field(default_factory=list)
    value_defs: list[tuple[Variable, dict]] = field(default_factory=list)

    def method(self, text: str, name: str) -> str:
        """The MethodDef OID for ``text``, shared by every variable derived the same way."""
        found = self.methods.get(text)
        if found is not None:
            found[1].append(name)
            return found[0]
        oid = f"MT.{name}"
        self.methods[text] = (oid, [name])
        return oid

    def write_methods(self, mdv: etree._Element) -> None:
        for text, (oid, names) in self.methods.items():
            shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
            node = el(
                mdv,
                "MethodDef",
                [("OID", oid), ("Name", f"Algorithm to derive {shown}"), ("Type", "Computation")],
            )
            translated(node, "Description", text)


def _safe(code: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.\-]", "_", code) or "_"


def write_origin(node: etree._Element, b: Build, origin: Origin, where: str) -> None:
    """def:Origin (§5.3.11.4): Type, Source where applicable, the predecessor or the source's
    description, and the annotated-CRF pages of a collected value."""
    if origin.type not in ORIGIN_TYPES:
        raise WriteError(
            f"define: {where}: origin {origin.type!r} is not a Define-XML 2.1 "
            f"origin type ({', '.join(sorted(ORIGIN_TYPES))})"
        )
    explicit = origin.source if origin.source in ORIGIN_SOURCES else None
    source = explicit or DEFAULT_SOURCE.get(origin.type)
    text = origin.source if origin.source and not explicit else None
    if origin.type == "Predecessor":
        if not text:
            raise WriteError(
                f"define: {where}: origin Predecessor needs the predecessor "
                "variable in source (e.g. DM.AGE)"
            )
        source = explicit
    node = el(node, "def:Origin", [("Type", origin.type), ("Source", source)])
    if text:
        translated(node, "Description", text)
    if origin.pages:
        if b.acrf is None:
            raise WriteError(
                f"define: {where}: CRF pages {list(origin.pages)} are given but the study "
                "names no annotated CRF"
            )
        ref = el(node, "def:DocumentRef", [("leafID", b.acrf)])
        el(
            ref,
            "def:PDFPageRef",
            [("PageRefs", " ".join(str(p) for p in origin.pages)), ("Type", "PhysicalRef")],
        )


def _method_oid(b: Build, ds: str, name: str, origin: str, method: str | None) -> str | None:
    """The MethodDef OID of a derived item; a derived item without a method is an error."""
    if origin != "Derived":
        return None
    if not method:
        raise WriteError(
            f"define: dataset {ds}, variable {name}: origin Derived needs a method "
            "(the derivation in words), and the metadata gives none"
        )
    return b.method(method, f"{ds}.{name}")


def _repeating(ds: Dataset, frame: pd.DataFrame) -> tuple[bool, bool]:
    """(Repeating, IsReferenceData): trial design datasets are reference data, one record per
    subject (keys STUDYID, USUBJID) or no subject at all is not repeating (Define-XML 2.1
    section 5.3.4; as in the CDISC 2019 example defines)."""
    reference = ds.reference_data or ds.cls.upper().replace("-", " ") == TRIAL_DESIGN
    subject = "USUBJID" in frame.columns
    per_subject = subject and set(ds.keys) <= {"STUDYID", "USUBJID"} and bool(ds.keys)
    repeating = ds.repeating and subject and not per_subject
    return repeating, reference


def structure_from_keys(ds: Dataset) -> str:
    """A structure description from the dataset's keys, for a dataset the standard does not
    describe ("One record per DIPARMCD per SPDEVID")."""
    keys = [k for k in ds.keys if k not in ("STUDYID", "DOMAIN")]
    if not keys:
        return "One record per record of the dataset (no key variables are known)"
    return "One record per " + " per ".join(reversed(keys))


def _domain(ds: Dataset, frame: pd.DataFrame) -> str | None:
    if ds.parent:
        return ds.parent
    if "DOMAIN" in frame.columns:
        values = texts(frame["DOMAIN"])
        if len(values):
            return str(values.iloc[0])
    return ds.name if len(ds.name) == 2 else None


def item_group(
    mdv: etree._Element,
    b: Build,
    ds: Dataset,
    frame: pd.DataFrame,
    purpose: str,
    value_lists: Mapping[tuple[str, str], str],
) -> None:
    sdtm = purpose == "Tabulation"
    com = f"COM.{ds.name}" if ds.comment else None
    if com:
        b.comments.append((com, str(ds.comment)))
    std = STD_IG
    if ds.standard and ds.standard != f"{b.study.standard} {b.study.standard_version}":
        if len(ds.standard.rsplit(" ", 1)) != 2:
            raise WriteError(
                f"define: dataset {ds.name}: standard {ds.standard!r} must read "
                "'<name> <version>', e.g. 'SDTMIG 3.4'"
            )
        std = b.other_igs.setdefault(ds.standard, f"{STD_IG}.{len(b.other_igs) + 2}")
    if not ds.cls:
        raise WriteError(
            f"define: dataset {ds.name}: no class (def:Class) is known for it; "
            "it is not in the standard the study uses, so its metadata must give one"
        )
    repeating, reference = _repeating(ds, frame)
    group = el(
        mdv,
        "ItemGroupDef",
        [
            ("OID", item_group_oid(ds.name)),
            ("Domain", _domain(ds, frame) if sdtm else None),
            ("Name", ds.name),
            ("Repeating", "Yes" if repeating else "No"),
            ("IsReferenceData", "Yes" if reference else "No"),
            ("SASDatasetName", ds.name),
            ("def:Structure", ds.structure or structure_from_keys(ds)),
            ("Purpose", purpose),
            ("def:StandardOID", std),
            ("def:CommentOID", com),
            ("def:ArchiveLocationID", f"LF.{ds.name}"),
        ],
    )
    translated(group, "Description", ds.label)
    levels: dict[str, dict[str, ValueLevel]] = {}
    for vlv in ds.value_level:
        levels.setdefault(vlv.variable, {})[vlv.code] = vlv
    for var in sorted(ds.variables, key=lambda v: v.order):
        mt = _method_oid(b, ds.name, var.name, var.origin, var.method)
        el(
            group,
            "ItemRef",
            [
                ("ItemOID", item_oid(ds.name, var.name)),
                ("Mandatory", "Yes" if var.core == "Req" else "No"),
                ("OrderNumber", var.order),
                ("KeySequence", var.key_sequence),
                ("MethodOID", mt),
                ("Role", (var.role or None) if sdtm else None),
            ],
        )
        info = _item_info(
            b,
            ds,
            frame,
            var,
            mt,
            value_lists.get((ds.name, var.name)),
            levels.get(var.name, {}),
            sdtm,
        )
        b.item_defs.append((var, info))
    if ds.parent and ds.parent in b.study.datasets:
        el(
            group,
            "Alias",
            [("Context", "DomainDescription"), ("Name", b.study.datasets[ds.parent].label)],
        )
    cls = re.sub(r"[\s_-]+", " ", ds.cls).strip().upper()
    cls_node = el(group, "def:Class", [("Name", cls)])
    sub = subclass(cls, frame)
    if sub:
        el(cls_node, "def:SubClass", [("Name", sub)])
    href = b.files.get(ds.name, f"{ds.name.lower()}.xpt")
    leaf = el(group, "def:leaf", [("ID", f"LF.{ds.name}"), ("xlink:href", href)])
    el(leaf, "def:title", [], href)


def subclass(cls: str, frame: pd.DataFrame) -> str | None:
    """The ADaM subclass (Define-XML CT 2025-09-26) the data shows: an occurrence dataset of
    adverse events (C176265, ADaM OCCDS v1.1) or a time-to-event BDS, which has CNSR
    (C165637, ADaM BDS for TTE v1.0)."""
    if cls == "OCCURRENCE DATA STRUCTURE" and {"AETERM", "AEDECOD"} & set(frame.columns):
        return "ADVERSE EVENT"
    if cls == "BASIC DATA STRUCTURE" and "CNSR" in frame.columns:
        return "TIME-TO-EVENT"
    return None


def _study_codelist(b: Build, ds: Dataset, frame: pd.DataFrame, var: Variable) -> str | None:
    """A codelist the define builds from the data: PARAMCD (decoded by PARAM) and PARAM of an
    analysis dataset (ADaMIG 1.3 section 3.3.4: parameters are study-specific terminology)."""
    if var.name not in ("PARAMCD", "PARAM") or var.type != "Char":
        return None
    values = sorted(set(texts(frame[var.name]).tolist()))
    if not values:
        return None
    decodes = first_labels(frame, "PARAMCD") if var.name == "PARAMCD" else {}
    name = "Parameter Code" if var.name == "PARAMCD" else "Parameter"
    cid = f"{var.name}.{ds.name}"
    terms = tuple(Term(v, decode=decodes.get(v)) for v in values)
    b.codelists.add(cid, Codelist(cid, f"{name} ({ds.name})", False, terms, sponsor=True))
    return cid


def _is_result(var: Variable) -> bool:
    return var.name.endswith(RESULT_SUFFIXES)


def _codelist_oid(
    b: Build, cid: str, values: pd.Series, ds: str, var: str, frame: pd.DataFrame
) -> str:
    decodes = first_labels(frame, var) if label_variable(var) else None
    return b.codelists.use(cid, values, ds, var, decodes)


def _item_info(
    b: Build,
    ds: Dataset,
    frame: pd.DataFrame,
    var: Variable,
    method: str | None,
    test: str | None,
    levels: Mapping[str, ValueLevel],
    sdtm: bool,
) -> dict:
    """Measured ItemDef facts; registers codelist, comment, value list and where clauses."""
    dtype = define_type(frame, ds.name, var)
    length, sig = item_length(frame, ds.name, var, dtype)
    info: dict = {
        "oid": item_oid(ds.name, var.name),
        "dtype": dtype,
        "length": length,
        "sig": sig,
        "cl": None,
        "com": None,
        "vl": None,
        "label": var.label,
        "where": f"dataset {ds.name}, variable {var.name}",
        "origin": Origin(var.origin, var.source, var.pages),
    }
    cid = var.codelist or (None if sdtm else _study_codelist(b, ds, frame, var))
    col = frame[var.name]
    result = bool(cid) and _is_result(var) and var.type == "Char"
    if cid and not result:
        info["cl"] = _codelist_oid(b, cid, col, ds.name, var.name, frame)
    elif result and test is None:
        numeric = numeric_text(col[~is_blank(col)])
        if not numeric.any():  # every result is text: the codelist applies to the variable
            info["cl"] = _codelist_oid(b, str(cid), col, ds.name, var.name, frame)
    if var.comment:
        info["com"] = f"COM.{ds.name}.{var.name}"
        b.comments.append((info["com"], var.comment))
    if test:
        info["vl"], values = _value_list(
            b, ds, frame, var, method, test, levels, cid if result else None
        )
        if any((v["origin"].type, v["origin"].source) != (var.origin, var.source) for v in values):
            info["origin"] = None  # described per value (§5.3.11: value-level origins)
    return info


def _value_list(
    b: Build,
    ds: Dataset,
    frame: pd.DataFrame,
    var: Variable,
    method: str | None,
    test: str,
    levels: Mapping[str, ValueLevel],
    result_codelist: str | None,
) -> tuple[str, list[dict]]:
    """The value list of ``var`` by the values of ``test``, and its value-level ItemDefs."""
    vl = f"VL.{ds.name}.{var.name}"
    refs, clauses, seen, infos = [], [], set(), []
    codes = frame[test].astype("string")
    for item in value_items(frame, ds.name, var, test):
        oid = f"{item_oid(ds.name, var.name)}.{_safe(item.code)}"
        while oid in seen:
            oid += "_"
        seen.add(oid)
        wc = f"WC.{ds.name}.{test}.{_safe(item.code)}"
        level = levels.get(item.code)
        info = _value_info(b, ds, frame, var, method, item, level, oid, codes, test)
        if info["cl"] is None and result_codelist and item.text_only:
            rows = (codes == item.code).fillna(False).to_numpy()
            info["cl"] = _codelist_oid(
                b, result_codelist, frame.loc[rows, var.name], ds.name, var.name, frame
            )
        refs.append((oid, wc, info.pop("method")))
        clauses.append((wc, [(item_oid(ds.name, test), "EQ", [item.code])]))
        b.value_defs.append((var, info))
        infos.append(info)
    b.value_lists.append((vl, refs))
    b.where.extend(clauses)
    return vl, infos


def _value_info(
    b: Build,
    ds: Dataset,
    frame: pd.DataFrame,
    var: Variable,
    method: str | None,
    item: ValueItem,
    level: ValueLevel | None,
    oid: str,
    codes: pd.Series,
    test: str,
) -> dict:
    """One value-level ItemDef: inherits the variable's origin and method unless the
    value-level metadata says otherwise."""
    where = f"dataset {ds.name}, variable {var.name}, {test} {item.code}"
    if level is not None and level.origin is not None:  # the value level's own origin
        origin_type, source = level.origin, level.source
    else:
        origin_type, source = var.origin, var.source
    origin = Origin(
        origin_type,
        source,
        level.pages if level is not None and level.pages is not None else var.pages,
    )
    mt = None
    if origin.type == "Derived":
        text = level.method if level is not None and level.method else None
        if text is None and var.origin == "Derived":
            text = var.method
        if not text:
            raise WriteError(f"define: {where}: origin Derived needs a method, and none is given")
        inherited = var.origin == "Derived" and text == var.method and method is not None
        mt = method if inherited else b.method(text, f"{ds.name}.{var.name}.{item.code}")
    info = {
        "oid": oid,
        "dtype": item.data_type,
        "length": item.length,
        "sig": item.digits,
        "label": item.label,
        "cl": None,
        "com": None,
        "vl": None,
        "where": where,
        "origin": origin,
        "method": mt,
    }
    if level is not None and level.codelist:
        rows = (codes == item.code).fillna(False).to_numpy()
        info["cl"] = _codelist_oid(
            b, level.codelist, frame.loc[rows, var.name], ds.name, var.name, frame
        )
    return info


def item_def(mdv: etree._Element, b: Build, var: Variable, info: dict) -> None:
    node = el(
        mdv,
        "ItemDef",
        [
            ("OID", info["oid"]),
            ("Name", var.name),
            ("DataType", info["dtype"]),
            ("Length", info["length"]),
            ("SignificantDigits", info["sig"]),
            ("SASFieldName", var.name),
            ("def:DisplayFormat", var.format),
            ("def:CommentOID", info["com"]),
        ],
    )
    translated(node, "Description", info.get("label") or var.label)
    if info["cl"]:
        el(node, "CodeListRef", [("CodeListOID", info["cl"])])
    if info["origin"] is not None:
        write_origin(node, b, info["origin"], info["where"])
    if info["vl"]:
        el(node, "def:ValueListRef", [("ValueListOID", info["vl"])])
