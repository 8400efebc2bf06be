"""Read raw forms from a CDISC ODM 1.3 export (ClinicalData, with its MetaDataVersion).

The records of one item group (``ItemGroupOID``) are one form, wherever they occur: every
``SubjectData / StudyEventData / FormData / ItemGroupData`` with that OID is one record, placed
by its path (subject, study event and repeat key, form and repeat key, item group repeat key),
which the record keeps in ``__where`` for errors, lineage and ``trace``. A field takes an
item's value (``item: ItemOID``) or a part of the record's path (``odm: SubjectKey`` ...,
names of events and forms from the MetaDataVersion).

The data are read as the ODM 1.3.2 transaction rules (section 2.10) leave them, in document
order: Insert (an error if the entity exists), Update and Remove (errors if it does not),
Upsert, and Context (resent for context only: it changes nothing held). A child inherits its
parent's TransactionType; in a Transactional file the SubjectData must state one. ``IsNull``
items are blank. Audit trails, signatures, annotations and vendor extensions (other
namespaces) are not data and are skipped. Both ItemData forms are read: untyped (``Value``)
and typed (``ItemDataString`` ...).

Nothing is lost silently: an item group no form declares, an item its form does not declare,
or a declared item that the MetaDataVersion does not put in the item group is an error. The
file is streamed with the safe parser (no DOCTYPE entities, no network), bounded in size and
depth (:func:`cdisc_umsc.core.xmlsafe.iterparse_file`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from lxml import etree

from cdisc_umsc.core.errors import InputError
from cdisc_umsc.core.xmlsafe import iterparse_file
from cdisc_umsc.metadata.model import FormSpec
from cdisc_umsc.read.forms import ROW, WHERE, check_form

NS = "http://www.cdisc.org/ns/odm/v1.3"
_Q = "{" + NS + "}"
#: Bounds on an ODM file: its size in bytes and how deep its elements may nest.
MAX_BYTES = 2**31
MAX_DEPTH = 32
TRANSACTIONS = ("Insert", "Update", "Remove", "Upsert", "Context")
#: the typed ItemData elements of ODM 1.3.2 (their value is the element's text)
_TYPED = frozenset(
    _Q + "ItemData" + t
    for t in (
        "Any String Integer Float Date Time Datetime Boolean Double HexBinary Base64Binary "
        "HexFloat Base64Float PartialDate PartialTime PartialDatetime DurationDatetime "
        "IntervalDatetime IncompleteDatetime IncompleteDate IncompleteTime URI"
    ).split()
)
_LEVELS = ("SubjectData", "StudyEventData", "FormData", "ItemGroupData")
_KEYS = {
    "SubjectData": ("SubjectKey", None),
    "StudyEventData": ("StudyEventOID", "StudyEventRepeatKey"),
    "FormData": ("FormOID", "FormRepeatKey"),
    "ItemGroupData": ("ItemGroupOID", "ItemGroupRepeatKey"),
}


# ------------------------------------------------------------------------------ metadata


@dataclass(frozen=True)
class ItemDef:
    """An ItemDef: what a draft spec and the reader need of one item."""

    oid: str
    name: str
    data_type: str
    sas_name: str = ""
    question: str = ""
    codelist: str | None = None
    #: (Comparator, SoftHard, CheckValues) of each RangeCheck
    range_checks: tuple[tuple[str, str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True)
class ItemGroupDef:
    """An ItemGroupDef: its name, whether it repeats, its items in order."""

    oid: str
    name: str
    repeating: bool
    items: tuple[str, ...]
    sas_name: str = ""
    description: str = ""


@dataclass(frozen=True)
class CodeList:
    """A CodeList: coded values with their decodes (first TranslatedText, English first)."""

    oid: str
    name: str
    data_type: str
    items: tuple[tuple[str, str], ...]


@dataclass
class MetaData:
    """One MetaDataVersion: events, forms, item groups, items and code lists by OID."""

    oid: str
    study_oid: str
    events: dict[str, tuple[str, bool]] = field(default_factory=dict)  # OID -> (Name, Repeating)
    forms: dict[str, tuple[str, bool, tuple[str, ...]]] = field(default_factory=dict)
    event_forms: dict[str, tuple[str, ...]] = field(default_factory=dict)
    groups: dict[str, ItemGroupDef] = field(default_factory=dict)
    items: dict[str, ItemDef] = field(default_factory=dict)
    codelists: dict[str, CodeList] = field(default_factory=dict)
    event_order: tuple[str, ...] = ()


def _text(elem: etree._Element | None) -> str:
    """The English (else first) TranslatedText of a Description / Question / Decode."""
    if elem is None:
        return ""
    texts = elem.findall(_Q + "TranslatedText")
    lang = "{http://www.w3.org/XML/1998/namespace}lang"
    best = next((t for t in texts if (t.get(lang) or "").startswith("en")), None)
    best = best if best is not None else (texts[0] if texts else None)
    return " ".join((best.text or "").split()) if best is not None else ""


def _metadata(mdv: etree._Element, study_oid: str) -> MetaData:
    meta = MetaData(str(mdv.get("OID", "")), study_oid)
    yes = lambda e: e.get("Repeating") == "Yes"  # noqa: E731
    protocol = mdv.find(_Q + "Protocol")
    if protocol is not None:
        meta.event_order = tuple(
            str(r.get("StudyEventOID")) for r in protocol.findall(_Q + "StudyEventRef")
        )
    for e in mdv.findall(_Q + "StudyEventDef"):
        meta.events[str(e.get("OID"))] = (str(e.get("Name", "")), yes(e))
        meta.event_forms[str(e.get("OID"))] = tuple(
            str(r.get("FormOID")) for r in e.findall(_Q + "FormRef")
        )
    for f in mdv.findall(_Q + "FormDef"):
        refs = tuple(str(r.get("ItemGroupOID")) for r in f.findall(_Q + "ItemGroupRef"))
        meta.forms[str(f.get("OID"))] = (str(f.get("Name", "")), yes(f), refs)
    for g in mdv.findall(_Q + "ItemGroupDef"):
        meta.groups[str(g.get("OID"))] = ItemGroupDef(
            str(g.get("OID")),
            str(g.get("Name", "")),
            yes(g),
            tuple(str(r.get("ItemOID")) for r in g.findall(_Q + "ItemRef")),
            str(g.get("SASDatasetName", "")),
            _text(g.find(_Q + "Description")),
        )
    for i in mdv.findall(_Q + "ItemDef"):
        ref = i.find(_Q + "CodeListRef")
        checks = tuple(
            (
                str(r.get("Comparator", "")),
                str(r.get("SoftHard", "")),
                tuple((c.text or "").strip() for c in r.findall(_Q + "CheckValue")),
            )
            for r in i.findall(_Q + "RangeCheck")
        )
        meta.items[str(i.get("OID"))] = ItemDef(
            str(i.get("OID")),
            str(i.get("Name", "")),
            str(i.get("DataType", "text")),
            str(i.get("SASFieldName", "")),
            _text(i.find(_Q + "Question")) or _text(i.find(_Q + "Description")),
            str(ref.get("CodeListOID")) if ref is not None else None,
            checks,
        )
    for c in mdv.findall(_Q + "CodeList"):
        items = [
            (str(ci.get("CodedValue", "")), _text(ci.find(_Q + "Decode")))
            for ci in c.findall(_Q + "CodeListItem")
        ]
        items += [(str(ei.get("CodedValue", "")), "") for ei in c.findall(_Q + "EnumeratedItem")]
        meta.codelists[str(c.get("OID"))] = CodeList(
            str(c.get("OID")), str(c.get("Name", "")), str(c.get("DataType", "text")), tuple(items)
        )
    return meta


# ------------------------------------------------------------------------------ clinical data


@dataclass
class _Record:
    seq: int
    line: int
    context: dict[str, str]
    values: dict[str, str] = field(default_factory=dict)


def _line(elem: etree._Element) -> int:
    """The element's line in the file (0 when lxml does not know it)."""
    line: int | None = elem.sourceline  # type: ignore[assignment]  # lxml-stubs leave it untyped
    return int(line or 0)


@dataclass
class Export:
    """One ODM file as read: its MetaDataVersions and the records of each item group."""

    file_type: str
    metadata: dict[tuple[str, str], MetaData]
    #: ItemGroupOID -> records in document order of first appearance
    records: dict[str, list[_Record]]

    def only_metadata(self) -> MetaData | None:
        """The MetaDataVersion the ClinicalData refer to (the first one, if several)."""
        return next(iter(self.metadata.values()), None)


class _Reader:
    """The transaction state while the file streams by: nested entities, by key."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.file_type = "Snapshot"
        self.metadata: dict[tuple[str, str], MetaData] = {}
        self.mdv: MetaData | None = None
        self.subjects: dict[tuple, dict] = {}
        self.stack: list[tuple[str, tuple, str | None, dict | None]] = []
        self.seq = 0
        self.skip = 0  # depth inside a subtree that holds no data (audit, vendor extension)
        self.location = ""  # the current subject's SiteRef LocationOID

    def error(self, elem: etree._Element, message: str) -> InputError:
        return InputError(f"{self.name}: line {elem.sourceline}: {message}")

    # -- containers
    def _tx(self, elem: etree._Element, level: str) -> str | None:
        own = elem.get("TransactionType")
        if own is not None and own not in TRANSACTIONS:
            raise self.error(
                elem, f"TransactionType '{own}' (expected one of: {', '.join(TRANSACTIONS)})"
            )
        inherited = self.stack[-1][2] if self.stack else None
        if inherited == "Remove" and own not in (None, "Remove"):
            raise self.error(elem, f"{level} with TransactionType {own} inside a Remove")
        tx = own or inherited
        if tx is None and level == "SubjectData" and self.file_type == "Transactional":
            raise self.error(elem, "SubjectData without TransactionType in a Transactional file")
        return tx

    def open(self, elem: etree._Element, level: str) -> None:
        oid_attr, key_attr = _KEYS[level]
        oid = elem.get(oid_attr)
        if not oid:
            raise self.error(elem, f"{level} without {oid_attr}")
        repeat = elem.get(key_attr) if key_attr else None
        tx = self._tx(elem, level)
        key = (oid, repeat or "")
        if self.stack and self.stack[-1][2] == "Remove":
            self.stack.append((level, key, "Remove", None))  # removed with its parent
            return
        parent: dict | None = self.stack[-1][3] if self.stack else self.subjects
        container: _Record | dict | None = parent.get(key) if parent is not None else None
        what = f"{level} {oid_attr}={oid}" + (f" {key_attr}={repeat}" if repeat else "")
        if tx == "Remove":
            if parent is None or key not in parent:
                raise self.error(elem, f"Remove of {what}, which does not exist")
            del parent[key]
            self.stack.append((level, key, tx, None))
            return
        if tx == "Insert" and container is not None:
            raise self.error(elem, f"Insert of {what}, which already exists")
        if tx == "Update" and container is None:
            raise self.error(elem, f"Update of {what}, which does not exist")
        if container is None:
            if level == "ItemGroupData":
                self.seq += 1
                container = _Record(self.seq, _line(elem), self._context(elem))
            else:
                container = {}
            assert parent is not None  # only a removed level holds none; its children return
            parent[key] = container
        if isinstance(container, _Record):  # an ItemGroupData's
            self.stack.append((level, key, tx, {"record": container}))
        else:
            self.stack.append((level, key, tx, container))

    def _context(self, elem: etree._Element) -> dict[str, str]:
        ctx: dict[str, str] = {}
        for level, key, _tx, _c in self.stack:
            oid_attr, key_attr = _KEYS[level]
            ctx[oid_attr] = key[0]
            if key_attr:
                ctx[key_attr] = key[1]
        ctx["ItemGroupOID"] = str(elem.get("ItemGroupOID"))
        ctx["ItemGroupRepeatKey"] = str(elem.get("ItemGroupRepeatKey") or "")
        ctx["LocationOID"] = self.location
        if self.mdv is not None:  # names only where the MetaDataVersion defines the OID
            if ctx.get("StudyEventOID") in self.mdv.events:
                ctx["StudyEventName"] = self.mdv.events[ctx["StudyEventOID"]][0]
            if ctx.get("FormOID") in self.mdv.forms:
                ctx["FormName"] = self.mdv.forms[ctx["FormOID"]][0]
        return ctx

    def close(self) -> None:
        self.stack.pop()

    # -- items
    def item(self, elem: etree._Element, typed: bool) -> None:
        if not self.stack or self.stack[-1][0] != "ItemGroupData":
            raise self.error(elem, "ItemData outside an ItemGroupData")
        _level, _key, parent_tx, holder = self.stack[-1]
        oid = elem.get("ItemOID")
        if not oid:
            raise self.error(elem, "ItemData without ItemOID")
        own = elem.get("TransactionType")
        if own is not None and own not in TRANSACTIONS:
            raise self.error(
                elem, f"TransactionType '{own}' (expected one of: {', '.join(TRANSACTIONS)})"
            )
        if parent_tx == "Remove":
            if own not in (None, "Remove"):
                raise self.error(elem, f"ItemData with TransactionType {own} inside a Remove")
            return  # removed with its item group
        tx = own or parent_tx
        record: _Record = holder["record"]  # type: ignore[index]
        held = oid in record.values
        if tx == "Remove":
            if not held:
                raise self.error(elem, f"Remove of ItemOID={oid}, which holds no value")
            del record.values[oid]
            return
        if elem.get("IsNull") == "Yes":
            value = ""
        elif typed:
            value = elem.text or ""
        else:
            given = elem.get("Value")
            if given is None:
                raise self.error(elem, f"ItemData ItemOID={oid} without Value (or IsNull)")
            value = given
        if tx == "Context":
            record.values.setdefault(oid, value)
            return
        if tx == "Insert" and held:
            raise self.error(elem, f"Insert of ItemOID={oid}, which already holds a value")
        if tx == "Update" and not held:
            raise self.error(elem, f"Update of ItemOID={oid}, which holds no value")
        if tx is None and held:
            raise self.error(elem, f"ItemOID={oid} given twice in one item group record")
        record.values[oid] = value

    def records(self) -> dict[str, list[_Record]]:
        """Item group OID -> records still held, in order of first appearance."""
        out: dict[str, list[_Record]] = {}

        def walk(node: dict) -> None:
            for value in node.values():
                if isinstance(value, _Record):
                    out.setdefault(value.context["ItemGroupOID"], []).append(value)
                else:
                    walk(value)

        walk(self.subjects)
        for recs in out.values():
            recs.sort(key=lambda r: r.seq)
        return out


def parse(path: Path, name: str | None = None) -> Export:
    """Read one ODM file: its MetaDataVersions and the records of every item group."""
    name = name or path.name
    if not path.is_file():
        if path.exists():
            raise InputError(f"{name}: cannot read file (not a regular file)")
        raise InputError(f"{name}: raw form file not found in {path.parent}")
    reader = _Reader(name)
    reader.location = ""
    study_oid = ""
    for event, elem in iterparse_file(path, name, max_bytes=MAX_BYTES, max_depth=MAX_DEPTH):
        tag = elem.tag if isinstance(elem.tag, str) else ""
        if reader.skip:
            if event == "start":
                reader.skip += 1
            else:
                reader.skip -= 1
                if reader.skip == 0:
                    # its siblings may still be read; the ignore: lxml-stubs lack keep_tail
                    elem.clear(keep_tail=True)  # type: ignore[call-arg]
            continue
        if event == "start":
            _start(reader, elem, tag)
            if tag == _Q + "Study":
                study_oid = str(elem.get("OID", ""))
            continue
        local = tag[len(_Q) :] if tag.startswith(_Q) else ""
        if local == "MetaDataVersion":
            meta = _metadata(elem, study_oid)
            reader.metadata[(study_oid, meta.oid)] = meta
            _drop(elem)
        elif local in _LEVELS:
            reader.close()
            if local == "SubjectData":
                reader.location = ""
                _drop(elem)
        elif local == "ItemData" or tag in _TYPED:
            reader.item(elem, typed=tag in _TYPED)
        elif local == "SiteRef" and reader.stack and reader.stack[-1][0] == "SubjectData":
            reader.location = str(elem.get("LocationOID", ""))
    return Export(reader.file_type, reader.metadata, reader.records())


_SKIPPED = frozenset(
    _Q + t
    for t in (
        "AuditRecord",
        "Signature",
        "Annotation",
        "AuditRecords",
        "Signatures",
        "Annotations",
        "InvestigatorRef",
        "ArchiveLayoutRef",
        "MeasurementUnitRef",
        "AdminData",
        "ReferenceData",
        "Association",
    )
)


def _start(reader: _Reader, elem: etree._Element, tag: str) -> None:
    depth = len(reader.stack)
    if tag == _Q + "ODM":
        if elem.getparent() is not None:
            raise reader.error(elem, "ODM element inside another element")
        file_type = elem.get("FileType")
        if file_type not in ("Snapshot", "Transactional"):
            raise reader.error(
                elem, f"ODM FileType '{file_type}' (expected Snapshot or Transactional)"
            )
        version = str(elem.get("ODMVersion", ""))
        if not version.startswith("1.3"):
            raise reader.error(elem, f"ODMVersion '{version}' (expected ODM 1.3.x)")
        reader.file_type = file_type
        return
    if elem.getparent() is None:
        raise reader.error(
            elem, f"the root element is {elem.tag!r}, not a CDISC ODM 1.3 ODM element ({NS})"
        )
    if not tag.startswith(_Q) or tag in _SKIPPED:
        reader.skip = 1  # not clinical data: skipped with everything inside it
        return
    local = tag[len(_Q) :]
    if local == "ClinicalData":
        key = (str(elem.get("StudyOID", "")), str(elem.get("MetaDataVersionOID", "")))
        reader.mdv = reader.metadata.get(key)
        if reader.mdv is None and reader.metadata:
            raise reader.error(
                elem,
                f"ClinicalData refers to MetaDataVersion {key[1]} of study {key[0]}, "
                "which the file does not define",
            )
    elif local in _LEVELS:
        expected = _LEVELS[depth] if depth < len(_LEVELS) else None
        if local != expected:
            raise reader.error(elem, f"{local} where {expected or 'ItemData'} was expected")
        reader.open(elem, local)


def _drop(elem: etree._Element) -> None:
    """Free what has been read: the element and its earlier siblings."""
    elem.clear()
    parent = elem.getparent()
    if parent is not None:
        while elem.getprevious() is not None:
            del parent[0]


# ------------------------------------------------------------------------------ forms


def read_odm_forms(
    raw_dir: Path, forms: list[FormSpec], cutoff: str | None = None
) -> dict[str, pd.DataFrame]:
    """Read and check the forms held in one ODM file (all of ``forms`` name the same file)."""
    file = forms[0].file
    export = parse(Path(raw_dir) / file, file)
    declared = {f.item_group for f in forms}
    for group, recs in export.records.items():
        if group not in declared:
            raise InputError(
                f"{file}: {len(recs)} records of ItemGroupOID={group}, which no form declares "
                f"(declare a form with file: {file} and item_group: {group})"
            )
    return {form.name: _form_frame(export, form, cutoff) for form in forms}


def _where(ctx: dict[str, str]) -> str:
    parts = [f"SubjectKey={ctx.get('SubjectKey', '')}"]
    for oid_attr, key_attr in (
        ("StudyEventOID", "StudyEventRepeatKey"),
        ("FormOID", "FormRepeatKey"),
        (None, "ItemGroupRepeatKey"),
    ):
        if oid_attr:
            parts.append(f"{oid_attr}={ctx.get(oid_attr, '')}")
        if ctx.get(key_attr):
            parts.append(f"{key_attr}={ctx[key_attr]}")
    return " ".join(parts)


def _form_frame(export: Export, form: FormSpec, cutoff: str | None) -> pd.DataFrame:
    group = str(form.item_group)
    records = export.records.get(group, [])
    metas = list(export.metadata.values())
    if metas:
        defined = [m.groups[group] for m in metas if group in m.groups]
        if not defined:
            raise InputError(
                f"{form.source}: no ItemGroupDef {group} in the file's MetaDataVersion"
            )
        known = {i for g in defined for i in g.items}
        for spec in form.fields:
            if spec.item and spec.item not in known:
                raise InputError(
                    f"{form.source}: item {spec.item} (field {spec.name}) is not an item of "
                    f"the ItemGroupDef {group} (the spec declares it)"
                )
    wanted = {f.item for f in form.fields if f.item}
    extra = set().union(*(r.values.keys() for r in records)) - wanted
    if extra:
        oid = sorted(extra)[0]
        rec = next(r for r in records if oid in r.values)
        raise InputError(
            f"{form.source}: {_where(rec.context)}, item {oid}: unexpected item "
            "(not declared in the spec's form)"
        )
    columns: dict[str, object] = {
        ROW: np.arange(1, len(records) + 1, dtype="int64"),
        WHERE: [_where(r.context) for r in records],
    }
    needs_names = any(f.odm in ("StudyEventName", "FormName") for f in form.fields)
    if needs_names and not metas:
        raise InputError(
            f"{form.source}: event and form names need the file's MetaDataVersion, "
            "which it does not hold"
        )
    for spec in form.fields:
        if spec.item:
            columns[spec.name] = [r.values.get(spec.item, "") for r in records]
            continue
        values = [r.context.get(str(spec.odm)) for r in records]
        if None in values:
            rec = records[values.index(None)]
            oid = "StudyEventOID" if spec.odm == "StudyEventName" else "FormOID"
            raise InputError(
                f"{form.source}: {_where(rec.context)}, field {spec.name} ({spec.odm}): "
                f"{oid}={rec.context.get(oid, '')} has no definition in the MetaDataVersion"
            )
        columns[spec.name] = values
    frame = pd.DataFrame(columns)
    for spec in form.fields:
        frame[spec.name] = frame[spec.name].astype(object)
    return check_form(form, frame, cutoff)
