"""A draft ``forms:`` block (and recode tables) from an export's own metadata.

From an ODM file: one form per item group, its fields the ItemDefs of the ItemGroupDef (named
by SASFieldName, else Name) with their types (integer, number, date for ODM date and
partialDate; the rest text), hard range checks as min / max, the record's subject and, where
the metadata or the data show that they vary, its study event, form and repeat keys as
``odm:`` fields that make up the key; CodeLists become recode tables (coded value -> decode).
From SAS datasets: one form per dataset, named and labelled by it, numbers (integer when every
value is whole), SAS dates and times by their display formats, variable labels as comments.

The draft reads the file it came from as it is; the user renames fields to what the mapping
uses, completes keys and recode targets. Output is YAML text, deterministic.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from cdisc_umsc.core.errors import InputError
from cdisc_umsc.read import odm
from cdisc_umsc.read.sas import read_dataset

_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")
_YAML_WORDS = {"null", "true", "false", "yes", "no", "on", "off", "y", "n", "~"}
_SAS_DATE = re.compile(r"^(DATE|YYMMDD|MMDDYY|DDMMYY|E8601DA|IS8601DA|B8601DA|MINGUO|NENGO)", re.I)
_SAS_DATETIME = re.compile(r"^(DATETIME|E8601DT|IS8601DT|B8601DT|DATEAMPM)", re.I)
_SAS_TIME = re.compile(r"^(TIME|HHMM|E8601TM|IS8601TM|TOD)", re.I)
_ODM_TYPES = {"integer": "integer", "float": "number", "double": "number"}
_ODM_DATES = ("date", "partialDate")


def _scalar(value: object) -> str:
    text = str(value)
    if _PLAIN.match(text) and text.lower() not in _YAML_WORDS and not _number_like(text):
        return text
    return json.dumps(text, ensure_ascii=False)


def _number_like(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _name(text: str) -> str:
    """An identifier: upper case letters, digits and _ (a field or form name)."""
    name = re.sub(r"[^A-Za-z0-9_]+", "_", text).strip("_").upper()
    return name if name and not name[0].isdigit() else f"F_{name}"


def _unique(name: str, taken: set[str]) -> str:
    out, n = name, 1
    while out in taken:
        n += 1
        out = f"{name}_{n}"
    taken.add(out)
    return out


def _field(name: str, keys: list[str], comment: str = "") -> str:
    line = f"      {name}: {{{', '.join(keys)}}}"
    return f"{line}  # {comment}" if comment else line


# ------------------------------------------------------------------------------ ODM


def draft_odm(path: Path) -> str:
    """The draft forms (and recodes) that read the ODM file ``path``."""
    export = odm.parse(Path(path), Path(path).name)
    meta = export.only_metadata()
    lines = [
        f"# Draft spec from the ODM file {Path(path).name} (its MetaDataVersion"
        + (f" {meta.oid}" if meta else ", absent: from its data")
        + "). Complete it:",
        "# rename fields to what the mapping reads, check keys, types and date formats; paste",
        "# forms: into study.yaml (with raw: subject:) and recodes: into codelists.yaml.",
        "raw:",
        "  subject: SUBJID",
        "forms:",
    ]
    groups = list(meta.groups) if meta else []
    groups += [g for g in export.records if g not in groups]
    taken: set[str] = set()
    used_lists: list[str] = []
    for group in groups:
        lines += _odm_form(path, export, meta, group, taken, used_lists)
    if meta is not None:
        lines += _recodes(meta, used_lists)
    return "\n".join(lines) + "\n"


def _varies(export: odm.Export, meta: odm.MetaData | None, group: str) -> list[str]:
    """The parts of a record's path that tell the group's records apart, besides the subject."""
    records = export.records.get(group, [])
    seen = lambda attr: {r.context.get(attr, "") for r in records}  # noqa: E731
    parts = []
    forms = {f for f, (_n, _r, refs) in meta.forms.items() if group in refs} if meta else set()
    events = {e for e, refs in meta.event_forms.items() if forms & set(refs)} if meta else set()
    if len(events | seen("StudyEventOID")) > 1:
        parts.append("StudyEventOID")
    if any(meta.events.get(e, ("", False))[1] for e in events) if meta else False:
        parts.append("StudyEventRepeatKey")
    elif seen("StudyEventRepeatKey") - {""}:
        parts.append("StudyEventRepeatKey")
    if len(forms | seen("FormOID")) > 1:
        parts.append("FormOID")
    if (any(meta.forms[f][1] for f in forms) if meta else False) or seen("FormRepeatKey") - {""}:
        parts.append("FormRepeatKey")
    repeating = meta.groups[group].repeating if meta and group in meta.groups else False
    if repeating or seen("ItemGroupRepeatKey") - {""}:
        parts.append("ItemGroupRepeatKey")
    return parts


_CONTEXT_NAMES = {
    "StudyEventOID": "EVENT",
    "StudyEventRepeatKey": "EVENTRPT",
    "FormOID": "FORM",
    "FormRepeatKey": "FORMRPT",
    "ItemGroupRepeatKey": "IGRPT",
}


def _odm_form(
    path: Path,
    export: odm.Export,
    meta: odm.MetaData | None,
    group: str,
    taken: set[str],
    used_lists: list[str],
) -> list[str]:
    gdef = meta.groups.get(group) if meta else None
    records = export.records.get(group, [])
    label = (gdef.description or gdef.name) if gdef else ""
    name = _unique(_name((gdef.sas_name or gdef.name) if gdef else group) or _name(group), taken)
    count = f"{len(records)} records" if records else "no records in this file"
    lines = [
        f"  {name}:  # ItemGroupOID {group}: {count}",
        f"    file: {_scalar(Path(path).name)}",
        f"    item_group: {_scalar(group)}",
    ]
    if label:
        lines.append(f"    label: {_scalar(label)}")
    fields = ["SUBJID"]
    body = [_field("SUBJID", ["odm: SubjectKey"])]
    names = {"SUBJID"}
    for part in _varies(export, meta, group):
        fname = _unique(_CONTEXT_NAMES[part], names)
        fields.append(fname)
        hint = "odm: StudyEventName gives the event's name" if part == "StudyEventOID" else ""
        body.append(_field(fname, [f"odm: {part}"], hint))
    items = list(gdef.items) if gdef else []
    items += sorted({i for r in records for i in r.values} - set(items))
    for oid in items:
        idef = meta.items.get(oid) if meta else None
        fname = _unique(_name((idef.sas_name or idef.name) if idef else oid) or _name(oid), names)
        keys, comment = _odm_types(idef)
        if idef is not None and idef.codelist and meta and idef.codelist in meta.codelists:
            comment = ", ".join(
                c
                for c in (
                    comment,
                    f"code list {idef.codelist}: recode {_recode_name(idef.codelist)}",
                )
                if c
            )
            if idef.codelist not in used_lists:
                used_lists.append(idef.codelist)
        if idef is not None and idef.question:
            comment = "; ".join(c for c in (idef.question, comment) if c)
        body.append(_field(fname, [*keys, f"item: {_scalar(oid)}"], comment))
    lines.append(f"    key: [{', '.join(fields)}]")
    lines.append("    fields:")
    return lines + body


def _odm_types(idef: odm.ItemDef | None) -> tuple[list[str], str]:
    if idef is None:
        return [], "no ItemDef: read as text"
    keys: list[str] = []
    comment = ""
    if idef.data_type in _ODM_TYPES:
        keys.append(f"type: {_ODM_TYPES[idef.data_type]}")
        for comparator, soft_hard, values in idef.range_checks:
            if soft_hard == "Hard" and len(values) == 1 and _number_like(values[0]):
                if comparator == "GE":
                    keys.append(f"min: {values[0]}")
                elif comparator == "LE":
                    keys.append(f"max: {values[0]}")
    elif idef.data_type in _ODM_DATES:
        keys += ["type: date", "format: YYYY-MM-DD"]
    elif idef.data_type not in ("text", "string"):
        comment = f"ODM {idef.data_type}: read as text"
    return keys, comment


def _recode_name(oid: str) -> str:
    return _name(oid).lower()


def _recodes(meta: odm.MetaData, used: list[str]) -> list[str]:
    lines: list[str] = []
    for oid in used:
        cl = meta.codelists[oid]
        pairs = [(c, d) for c, d in cl.items if d]
        if not pairs:
            continue
        if not lines:
            lines = ["recodes:"]
        lines.append(f"  {_recode_name(oid)}:  # CodeList {oid} ({cl.name}): name its codelist")
        lines.append("    map:")
        lines += [f"      {_scalar(c)}: {_scalar(d)}" for c, d in pairs]
    return lines


# ------------------------------------------------------------------------------ SAS


def draft_sas(paths: list[Path], encoding: str = "utf-8") -> str:
    """The draft forms that read the SAS datasets ``paths`` (.sas7bdat or .xpt)."""
    lines = [
        "# Draft forms from SAS datasets (their names, labels and formats). Complete it: rename",
        "# fields to what the mapping reads, give each form its key: (the fields unique per",
        "# record) and date formats of character dates; paste it into study.yaml.",
        "forms:",
    ]
    taken: set[str] = set()
    for path in paths:
        path = Path(path)
        reader = "sas7bdat" if path.suffix.lower() == ".sas7bdat" else "xpt"
        frame, meta = read_dataset(path, reader, encoding)
        name = _unique(_name(getattr(meta, "table_name", None) or path.stem), taken)
        lines += [f"  {name}:  # {len(frame)} observations", f"    file: {_scalar(path.name)}"]
        file_label = getattr(meta, "file_label", None)
        if file_label:
            lines.append(f"    label: {_scalar(file_label)}")
        lines.append("    fields:")
        labels = getattr(meta, "column_names_to_labels", {}) or {}
        formats = getattr(meta, "original_variable_types", {}) or {}
        kinds = getattr(meta, "readstat_variable_types", {}) or {}
        for column in frame.columns:
            keys, comment = _sas_types(
                frame[column], str(formats.get(column) or ""), kinds.get(column)
            )
            label = labels.get(column) or ""
            comment = "; ".join(c for c in (label, comment) if c)
            lines.append(_field(str(column), keys, comment))
    return "\n".join(lines) + "\n"


def _sas_types(values: pd.Series, fmt: str, kind: str | None) -> tuple[list[str], str]:
    if kind == "string" or (kind is None and values.dtype == object and not fmt):
        return [], ""
    if _SAS_DATETIME.match(fmt):
        return [], f"SAS date-time ({fmt}): read as ISO 8601 text"
    if _SAS_DATE.match(fmt):
        return ["type: date", "format: YYYY-MM-DD"], f"SAS date ({fmt})"
    if _SAS_TIME.match(fmt):
        return ["type: time"], f"SAS time ({fmt})"
    numbers = values.dropna()
    try:
        whole = bool(((numbers.astype("float64") % 1) == 0).all())
    except (TypeError, ValueError):
        return [], ""
    return [f"type: {'integer' if whole and len(numbers) else 'number'}"], ""


def draft_forms(paths: list[Path], encoding: str = "utf-8") -> str:
    """A draft for one ODM file (.xml) or for SAS datasets (.sas7bdat / .xpt)."""
    paths = [Path(p) for p in paths]
    suffixes = {p.suffix.lower() for p in paths}
    if suffixes == {".xml"}:
        if len(paths) != 1:
            raise InputError("draft one ODM file at a time")
        return draft_odm(paths[0])
    if suffixes <= {".sas7bdat", ".xpt"}:
        return draft_sas(paths, encoding)
    unknown = [p for p in paths if p.suffix.lower() not in (".xml", ".sas7bdat", ".xpt")]
    if unknown:
        kind = unknown[0].suffix or "a file without suffix"
        raise InputError(
            f"{unknown[0].name}: draft-forms reads an ODM file (.xml) or SAS datasets "
            f"(.sas7bdat, .xpt), not {kind} (for CSV exports, write the forms: of study.yaml "
            "by hand; see docs/spec-format.md)"
        )
    raise InputError(
        f"{paths[0].name}: draft from an ODM file (.xml) or SAS datasets (.sas7bdat, .xpt), "
        "not a mix of the two"
    )
