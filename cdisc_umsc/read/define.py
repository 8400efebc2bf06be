"""Read a define.xml (Define-XML 2.1, 2.0 or 1.0) into the metadata object.

Datasets come from ItemGroupDef (Define-XML 2.1 §5.3.4), variables from their ItemRef and
ItemDef (§5.3.5, §5.3.11), keys from KeySequence (1.0: def:DomainKeys), codelists from CodeList
(§5.3.12; the nci:ExtCodeID alias names a CDISC codelist, ExternalCodeList a dictionary, shown as
``EXT:<dictionary>:<version>``). Value-level ItemDefs are not variables and are not returned.
Parsing goes through :func:`cdisc_umsc.core.xmlsafe.parse_xml` (no entities, no network).
"""

from __future__ import annotations

import os
from pathlib import Path

from lxml import etree

from cdisc_umsc.core.errors import InputError
from cdisc_umsc.core.xmlsafe import parse_xml
from cdisc_umsc.metadata.model import Codelist, Dataset, Study, Term, Variable
from cdisc_umsc.metadata.standards import (
    StandardsError,
    controlled_terminology,
    versions,
)

DEF_NAMESPACES = {
    "http://www.cdisc.org/ns/def/v2.1": "2.1",
    "http://www.cdisc.org/ns/def/v2.0": "2.0",
    "http://www.cdisc.org/ns/def/v1.0": "1.0",
}
NUMERIC = frozenset({"integer", "float", "double"})
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
#: §5.3.11.4: the Source each origin type gets when none is stated (Define-XML 2.1 writer).
_DEFAULT_SOURCE = {
    "Collected": "Investigator",
    "Assigned": "Sponsor",
    "Derived": "Sponsor",
    "Protocol": "Sponsor",
}
#: Define-XML 2.0 (and 1.0 free-text) origins that mean "Collected" in 2.1 terms.
_COLLECTED = ("CRF", "eDT")


class _Doc:
    """Namespaced lookups over one parsed define.xml."""

    def __init__(self, root: etree._Element, name: str) -> None:
        self.name = name
        self.odm = etree.QName(root).namespace or ""
        ns = [u for u in root.nsmap.values() if u in DEF_NAMESPACES]
        if not ns:
            found = next(iter(root.iter(etree.Element)), root)
            ns = [
                etree.QName(a).namespace
                for a in found.attrib
                if etree.QName(a).namespace in DEF_NAMESPACES
            ]
        if not ns:
            raise InputError(
                f"{name}: no Define-XML 1.0/2.0/2.1 namespace (def:) on the ODM "
                "element; not a define.xml"
            )
        self.def_ns = ns[0]
        self.version = DEF_NAMESPACES[self.def_ns]

    def o(self, tag: str) -> str:
        return f"{{{self.odm}}}{tag}"

    def d(self, tag: str) -> str:
        return f"{{{self.def_ns}}}{tag}"

    def text(self, el: etree._Element | None, tag: str = "Description") -> str | None:
        """The (English, else first) TranslatedText of a Description/Decode child, stripped."""
        if el is None:
            return None
        node = el.find(self.o(tag))
        if node is None:
            return None
        texts = node.findall(self.o("TranslatedText"))
        pick = next(
            (t for t in texts if t.get(XML_LANG, "en").startswith("en")),
            texts[0] if texts else None,
        )
        return None if pick is None else (pick.text or "").strip()


def _int(value: str | None, doc: _Doc, where: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise InputError(f"{doc.name}: {where}: expected an integer, found {value!r}") from None


def _codelist_id(doc: _Doc, cl: etree._Element) -> tuple[str, str | None]:
    """(id used by Variable.codelist, NCI code) of a CodeList element."""
    ext = cl.find(doc.o("ExternalCodeList"))
    if ext is not None:
        return f"EXT:{ext.get('Dictionary', '')}:{ext.get('Version', '')}", None
    alias = next(
        (a.get("Name") for a in cl.findall(doc.o("Alias")) if a.get("Context") == "nci:ExtCodeID"),
        None,
    )
    if alias:
        return alias, alias
    oid = cl.get("OID", "")
    return (oid[3:] if oid.startswith("CL.") else oid), None


def _ct_extensible(code: str) -> bool | None:
    """Extensibility of a CDISC codelist in the bundled SDTM / ADaM CT, None if unknown."""
    bundled = versions()
    for package in ("SDTM", "ADaM"):
        try:
            found = controlled_terminology(package, bundled[f"{package} CT"])
        except (StandardsError, KeyError):
            continue
        cl = found.codelist(code)
        if cl is not None:
            return cl.extensible
    return None


def _codelist(doc: _Doc, cl: etree._Element) -> Codelist:
    cid, nci = _codelist_id(doc, cl)
    terms = []
    for item in cl:
        if item.tag not in (doc.o("CodeListItem"), doc.o("EnumeratedItem")):
            continue
        code = next(
            (
                a.get("Name")
                for a in item.findall(doc.o("Alias"))
                if a.get("Context") == "nci:ExtCodeID"
            ),
            None,
        )
        decode = doc.text(item, "Decode") if item.tag == doc.o("CodeListItem") else None
        terms.append(
            Term(
                item.get("CodedValue", ""), code, decode, item.get(doc.d("ExtendedValue")) == "Yes"
            )
        )
    external = cid.startswith("EXT:")
    extended = any(t.extended for t in terms)
    extensible = _ct_extensible(nci) if nci else None
    return Codelist(
        cid,
        cl.get("Name", cid),
        extended if extensible is None else extensible,
        tuple(terms),
        nci_code=nci,
        sponsor=not (nci or external),
        data_type=cl.get("DataType", "text"),
    )


def _origin(doc: _Doc, item: etree._Element) -> tuple[str, str | None]:
    """(origin type, source) of an ItemDef; source is the origin's text or non-default Source."""
    if doc.version == "1.0":
        text = (item.get("Origin") or "").strip()
        return ("Collected" if text.startswith(_COLLECTED) else (text or "Collected")), None
    node = item.find(doc.d("Origin"))
    if node is None:
        return "Collected", None
    kind = node.get("Type", "Collected")
    kind = "Collected" if kind in _COLLECTED else kind
    described = doc.text(node)
    source = node.get("Source")
    if described:
        return kind, described
    return kind, (source if source and source != _DEFAULT_SOURCE.get(kind) else None)


def _standards(doc: _Doc, mdv: etree._Element) -> tuple[dict[str, str], str, str, str]:
    """(standard OID -> "Name Version", IG name, IG version, CT version)."""
    if doc.version != "2.1":
        name = mdv.get(doc.d("StandardName"), "")
        version = mdv.get(doc.d("StandardVersion"), "")
        return {}, name, version, ""
    by_oid: dict[str, str] = {}
    ig, ct = ("", ""), ""
    node = mdv.find(doc.d("Standards"))
    for std in [] if node is None else node.findall(doc.d("Standard")):
        by_oid[std.get("OID", "")] = f"{std.get('Name', '')} {std.get('Version', '')}"
        if std.get("Type") == "IG" and not ig[0]:
            ig = (std.get("Name", ""), std.get("Version", ""))
        if std.get("Type") == "CT" and not ct and std.get("PublishingSet", "SDTM") == "SDTM":
            ct = std.get("Version", "")
    return by_oid, ig[0], ig[1], ct


def _variables(
    doc: _Doc,
    group: etree._Element,
    items: dict[str, etree._Element],
    cl_ids: dict[str, str],
    methods: dict[str, str],
    comments: dict[str, str],
) -> tuple[tuple[Variable, ...], tuple[str, ...]]:
    out, keyed = [], []
    ds = group.get("Name", "")
    for pos, ref in enumerate(group.findall(doc.o("ItemRef")), start=1):
        oid = ref.get("ItemOID", "")
        item = items.get(oid)
        if item is None:
            raise InputError(f"{doc.name}: dataset {ds}: ItemRef {oid!r} has no ItemDef")
        name = item.get("Name", "")
        where = f"dataset {ds}, variable {name}"
        dtype = item.get("DataType", "text")
        cl_ref = item.find(doc.o("CodeListRef"))
        cl_oid = None if cl_ref is None else cl_ref.get("CodeListOID", "")
        if cl_oid is not None and cl_oid not in cl_ids:
            raise InputError(f"{doc.name}: {where}: CodeListRef {cl_oid!r} has no CodeList")
        origin, source = _origin(doc, item)
        method_oid = ref.get("MethodOID") or item.get(doc.d("ComputationMethodOID"))
        comment = comments.get(item.get(doc.d("CommentOID"), "")) or (
            (item.get("Comment") or "").strip() or None
        )
        key = _int(ref.get("KeySequence"), doc, f"{where}: KeySequence")
        if key is not None:
            keyed.append((key, name))
        out.append(
            Variable(
                name=name,
                label=doc.text(item) or item.get(doc.d("Label")) or "",
                type="Num" if dtype in NUMERIC else "Char",
                order=_int(ref.get("OrderNumber"), doc, f"{where}: OrderNumber") or pos,
                data_type=dtype,
                length=_int(item.get("Length"), doc, f"{where}: Length"),
                core="Req" if ref.get("Mandatory") == "Yes" else "Perm",
                role=ref.get("Role", ""),
                codelist=None if cl_oid is None else cl_ids[cl_oid],
                format=item.get(doc.d("DisplayFormat")),
                origin=origin,
                source=source,
                method=methods.get(method_oid or ""),
                comment=comment,
                significant_digits=_int(
                    item.get("SignificantDigits"), doc, f"{where}: SignificantDigits"
                ),
                key_sequence=key,
            )
        )
    keys = tuple(n for _, n in sorted(keyed))
    if not keys and group.get(doc.d("DomainKeys")):
        keys = tuple(k.strip() for k in group.get(doc.d("DomainKeys"), "").split(",") if k.strip())
    return tuple(sorted(out, key=lambda v: v.order)), keys


def _parent(name: str, domain: str | None) -> str | None:
    """The parent domain of a SUPP-- dataset (Domain attribute; 1.0 has none: from the name)."""
    if not name.startswith("SUPP"):
        return None
    return domain if domain and domain != name else (name[4:] or None)


def read_define(path: str | os.PathLike[str]) -> Study:
    """The metadata object described by a Define-XML 2.1 / 2.0 / 1.0 file."""
    name = Path(path).name
    root = parse_xml(path).getroot()
    if etree.QName(root).localname != "ODM":
        raise InputError(f"{name}: root element is {etree.QName(root).localname}, expected ODM")
    doc = _Doc(root, name)
    study_el = root.find(doc.o("Study"))
    mdv = None if study_el is None else study_el.find(doc.o("MetaDataVersion"))
    if study_el is None or mdv is None:
        raise InputError(f"{name}: no Study/MetaDataVersion element; not a define.xml")
    study_id = study_el.findtext(f"{doc.o('GlobalVariables')}/{doc.o('StudyName')}") or (
        study_el.get("OID") or ""
    )
    std_by_oid, ig_name, ig_version, ct_version = _standards(doc, mdv)
    items = {i.get("OID", ""): i for i in mdv.findall(doc.o("ItemDef"))}
    cl_elements = mdv.findall(doc.o("CodeList"))
    cl_ids = {c.get("OID", ""): _codelist_id(doc, c)[0] for c in cl_elements}
    methods = {m.get("OID", ""): doc.text(m) or "" for m in mdv.findall(doc.o("MethodDef"))}
    methods |= {
        m.get("OID", ""): (m.text or "").strip() for m in mdv.findall(doc.d("ComputationMethod"))
    }
    comments = {c.get("OID", ""): doc.text(c) or "" for c in mdv.findall(doc.d("CommentDef"))}
    datasets: dict[str, Dataset] = {}
    for group in mdv.findall(doc.o("ItemGroupDef")):
        ds_name = group.get("Name", "")
        variables, keys = _variables(doc, group, items, cl_ids, methods, comments)
        cls_el = group.find(doc.d("Class"))
        cls = cls_el.get("Name", "") if cls_el is not None else group.get(doc.d("Class"), "")
        domain = group.get("Domain")
        standard = std_by_oid.get(
            group.get(doc.d("StandardOID"), ""), f"{ig_name} {ig_version}".strip()
        )
        datasets[ds_name] = Dataset(
            name=ds_name,
            label=doc.text(group) or group.get(doc.d("Label")) or "",
            cls=cls,
            structure=group.get(doc.d("Structure"), ""),
            standard=standard,
            purpose=group.get("Purpose", "Tabulation"),
            keys=keys,
            variables=variables,
            comment=comments.get(group.get(doc.d("CommentOID"), "")),
            repeating=group.get("Repeating") == "Yes",
            reference_data=group.get("IsReferenceData") == "Yes",
            parent=_parent(ds_name, domain),
        )
    codelists = {}
    for cl in cl_elements:
        parsed = _codelist(doc, cl)
        codelists[parsed.id] = parsed
    return Study(
        study_id=study_id,
        standard=ig_name,
        standard_version=ig_version,
        ct_version=ct_version,
        datasets=datasets,
        codelists=codelists,
        created=root.get("CreationDateTime", ""),
    )
