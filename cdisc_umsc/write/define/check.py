"""Offline checks of a define.xml: the Define-XML 2.1 schema (with ARM 1.0 when the document
has analysis results), duplicate OIDs and references that resolve to nothing."""

from __future__ import annotations

from functools import cache
from importlib.resources import as_file
from pathlib import Path

from lxml import etree

from cdisc_umsc.core.xmlsafe import parse_xml, safe_parser
from cdisc_umsc.standards import data_file
from cdisc_umsc.write.define.nodes import ARM_NS, DEF_NS, ODM_NS, q
from cdisc_umsc.write.define.output import BUNDLE, define_bytes


@cache
def _schema(arm: bool) -> etree.XMLSchema:
    rel = "schema/cdisc-arm-1.0/arm1-0-0.xsd" if arm else "schema/cdisc-define-2.1/define2-1-0.xsd"
    with as_file(data_file(BUNDLE)) as folder:
        doc = etree.parse(str(Path(folder) / rel), safe_parser())
        return etree.XMLSchema(doc)


_REF_ATTRS = (
    "ItemOID",
    "ItemGroupOID",
    "MethodOID",
    "CodeListOID",
    "ValueListOID",
    "WhereClauseOID",
    "ParameterOID",
    q(DEF_NS, "ItemOID"),
    q(DEF_NS, "StandardOID"),
    q(DEF_NS, "CommentOID"),
)
_LEAF_REFS = ("leafID", q(DEF_NS, "ArchiveLocationID"))


def validate_define(tree: etree._ElementTree) -> list[str]:
    """Schema errors (Define-XML 2.1, with ARM 1.0 when present), duplicate OIDs and
    references to undefined OIDs / leaf IDs; empty when the document is valid."""
    tree = parse_xml(define_bytes(tree))  # re-read so that errors carry line numbers
    root = tree.getroot()
    has_arm = next(root.iter(q(ARM_NS, "AnalysisResultDisplays")), None) is not None
    schema = _schema(has_arm)
    errors: list[str] = []
    if not schema.validate(tree):  # error_log is a copy taken when read: read it after this
        # lxml-stubs 0.5.1 declares _ErrorLog empty; lxml's log iterates its _LogEntry items
        log = schema.error_log
        errors = [f"line {e.line}: {e.message}" for e in log]  # type: ignore[attr-defined]
    defined: dict[str, int] = {}
    leaves: set[str] = set()
    for el in root.iter(etree.Element):
        oid = el.get("OID")
        if oid is not None and el.tag != q(ODM_NS, "ODM"):
            if oid in defined:
                errors.append(
                    f"line {el.sourceline}: OID {oid!r} is defined twice "
                    f"(first at line {defined[oid]})"
                )
            # lxml-stubs 0.5.1 writes `sourceline = ...  # Optional[int]`, an Ellipsis type
            defined.setdefault(oid, el.sourceline or 0)  # type: ignore[arg-type]
        if el.tag == q(DEF_NS, "leaf") and (leaf_id := el.get("ID")):
            leaves.add(leaf_id)
    for el in root.iter(etree.Element):
        for attr in _REF_ATTRS:
            ref = el.get(attr)
            if ref is not None and ref not in defined:
                errors.append(
                    f"line {el.sourceline}: {etree.QName(attr).localname} {ref!r} "
                    "does not resolve to a defined OID"
                )
        for attr in _LEAF_REFS:
            ref = el.get(attr)
            if ref is not None and ref not in leaves:
                errors.append(
                    f"line {el.sourceline}: {etree.QName(attr).localname} {ref!r} "
                    "does not resolve to a def:leaf ID"
                )
    return errors
