"""Write Define-XML 2.1 (with ARM 1.0 for ADaM), validate it offline and render define.html.

Implements CDISC Define-XML 2.1.0 (2019-05-15): ODM 1.3.2 root with def:Context (§4.1),
def:Standards (§5.3.1.1), ItemGroupDef with def:Class and def:leaf (§5.3.4), ItemRef with
KeySequence/MethodOID (§5.3.5), ItemDef with def:Origin (§5.3.11, §5.3.11.4), value-level
metadata through def:ValueListDef / def:WhereClauseDef (§5.3.6-5.3.7), CodeList with
nci:ExtCodeID aliases and def:ExtendedValue (§5.3.12), MethodDef (§5.3.13) and def:CommentDef
(§5.3.14); Analysis Results Metadata 1.0 for Define-XML 2.0/2.1 (§4) for arm:*.
Bytes are deterministic: no clock, fixed element and attribute order, sorted test codes.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from copy import deepcopy
from dataclasses import dataclass, field, replace
from functools import cache
from importlib.resources import as_file
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from lxml import etree

from cdisc_umsc.core.atomic import write_bytes
from cdisc_umsc.core.errors import WriteError
from cdisc_umsc.core.values import as_text, blank
from cdisc_umsc.core.version import __version__
from cdisc_umsc.core.xmlsafe import parse_xml, safe_parser
from cdisc_umsc.metadata.model import Codelist, Dataset, Study, Term, Variable
from cdisc_umsc.metadata.standards import StandardsError, controlled_terminology, versions
from cdisc_umsc.standards import data_file
from cdisc_umsc.write.datasetjson import (
    item_group_oid,
    item_oid,
    metadata_version_oid,
    study_oid,
)

ODM_NS = "http://www.cdisc.org/ns/odm/v1.3"
DEF_NS = "http://www.cdisc.org/ns/def/v2.1"
XLINK_NS = "http://www.w3.org/1999/xlink"
ARM_NS = "http://www.cdisc.org/ns/arm/v1.0"
NSMAP = {None: ODM_NS, "xlink": XLINK_NS, "def": DEF_NS}
LANG = "{http://www.w3.org/XML/1998/namespace}lang"
BUNDLE = "define-xml-2.1"

#: ISO 8601 data types: no Length (Define-XML 2.1 §5.3.11, ItemDef Length).
ISO_TYPES = frozenset(
    {
        "date",
        "datetime",
        "time",
        "partialDate",
        "partialTime",
        "partialDatetime",
        "incompleteDatetime",
        "incompleteDate",
        "incompleteTime",
        "durationDatetime",
        "intervalDatetime",
    }
)
NUMERIC_TYPES = frozenset({"integer", "float", "double"})
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
#: Sponsor codelists this small are listed whole; larger ones only with the values in the data.
SMALL_CODELIST = 20
STD_IG, STD_CT, STD_ADAM_CT = "STD.IG", "STD.CT.SDTM", "STD.CT.ADAM"


def _q(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}"


def _el(
    parent: etree._Element,
    tag: str,
    attrs: Sequence[tuple[str, object]] = (),
    text: str | None = None,
) -> etree._Element:
    """Child element; attributes with a None value are left out, order is kept."""
    tag = (
        _q(DEF_NS, tag[4:])
        if tag.startswith("def:")
        else (_q(ARM_NS, tag[4:]) if tag.startswith("arm:") else _q(ODM_NS, tag))
    )
    node = etree.SubElement(parent, tag)
    for key, value in attrs:
        if value is not None:
            name = (
                key
                if ":" not in key
                else _q({"def": DEF_NS, "xlink": XLINK_NS}[key.split(":")[0]], key.split(":")[1])
            )
            try:
                node.set(name, str(value))
            except ValueError:
                raise WriteError(
                    f"define: {etree.QName(tag).localname} {key}: {value!r} holds "
                    "characters XML cannot carry (control characters)"
                ) from None
    if text is not None:
        try:
            node.text = text
        except ValueError:
            raise WriteError(
                f"define: {etree.QName(tag).localname} text {text!r} holds "
                "characters XML cannot carry (control characters)"
            ) from None
    return node


def _translated(parent: etree._Element, tag: str, text: str) -> etree._Element:
    node = _el(parent, tag)
    _el(node, "TranslatedText", [], text).set(LANG, "en")
    return node


# --------------------------------------------------------------------------- data measures


def _is_numeric(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(
        values.dtype
    )


def _is_blank(values: pd.Series) -> np.ndarray:
    return blank(values).to_numpy(dtype=bool)


def _as_text(values: pd.Series) -> pd.Series:
    """Non-missing values as the text written into CodedValue / CheckValue (index kept)."""
    return as_text(values[~_is_blank(values)])


def _byte_length(values: pd.Series) -> int:
    """Longest UTF-8 length of the values, at least 1 (measured on distinct values)."""
    distinct = pd.Series(values.dropna().unique(), dtype="string")
    if distinct.empty:
        return 1
    return max(1, int(distinct.str.encode("utf-8").str.len().max()))


_POWERS = 10.0 ** np.arange(0, 309)


def _digit_parts(magnitudes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per finite non-negative value: (integer digits, fraction digits) of its shortest
    round-trip decimal form (Python repr, exponent notation unfolded)."""
    # Whole numbers: count the powers of ten not above the value (no text needed).
    int_digits = np.maximum(np.searchsorted(_POWERS, magnitudes, side="right"), 1)
    frac_digits = np.zeros(len(magnitudes), dtype="int64")
    odd = np.flatnonzero(np.mod(magnitudes, 1) != 0)
    if odd.size:
        parts = (
            pd.Series(magnitudes[odd], dtype="float64")
            .astype(str)
            .str.extract(r"^(\d+)(?:\.(\d*))?(?:e([+-]\d+))?$")
        )
        whole = parts[0].str.len().to_numpy(dtype="int64")
        frac = parts[1].fillna("").str.rstrip("0").str.len().to_numpy(dtype="int64")
        exp = parts[2].fillna("0").astype("int64").to_numpy()
        int_digits[odd] = np.where(exp > 0, whole + exp, np.where(exp < 0, 1, whole))
        frac_digits[odd] = np.where(exp > 0, np.maximum(frac - exp, 0), frac - np.minimum(exp, 0))
    return int_digits.astype("int64"), frac_digits


def _digits(values: np.ndarray) -> tuple[int, int]:
    """(integer digits, fraction digits) needed by the finite values."""
    distinct = np.unique(np.abs(values[np.isfinite(values)]))
    if distinct.size == 0:
        return 1, 0
    int_digits, frac_digits = _digit_parts(distinct)
    return int(int_digits.max()), int(frac_digits.max())


def _numeric(frame: pd.DataFrame, ds: str, var: Variable) -> np.ndarray:
    col = frame[var.name]
    if not pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_bool_dtype(col.dtype):
        raise WriteError(
            f"define: dataset {ds}, variable {var.name}: expected a numeric column "
            f"for type Num, found dtype {col.dtype}"
        )
    return col.to_numpy(dtype="float64", na_value=np.nan)


def _first_bad(mask: np.ndarray) -> int:
    """1-based row number of the first True (as the XPT writer reports rows)."""
    return int(np.flatnonzero(mask)[0]) + 1


def _item_length(
    frame: pd.DataFrame, ds: str, var: Variable, dtype: str
) -> tuple[int | None, int | None]:
    """(Length, SignificantDigits) of a variable's ItemDef (Define-XML 2.1 §5.3.11)."""
    if dtype in ISO_TYPES:
        return None, None
    if dtype not in NUMERIC_TYPES:
        col = frame[var.name]
        if pd.api.types.is_numeric_dtype(col.dtype):
            raise WriteError(
                f"define: dataset {ds}, variable {var.name}: expected text values "
                f"for data type {dtype}, found dtype {col.dtype}"
            )
        return (var.length or _byte_length(col)), None
    values = _numeric(frame, ds, var)
    bad = np.isfinite(values) & (np.mod(values, 1) != 0)
    if dtype == "integer" and bad.any():
        raise WriteError(
            f"define: dataset {ds}, row {_first_bad(bad)}, variable "
            f"{var.name}: expected an integer for data type integer, found "
            f"{values[bad][0]!r}"
        )
    whole, frac = _digits(values)
    if dtype == "integer":
        return whole, None
    sig = var.significant_digits if var.significant_digits is not None else frac
    return whole + max(frac, sig), sig


def _define_type(frame: pd.DataFrame, ds: str, var: Variable) -> str:
    """ItemDef DataType. Num variables are integer or float: as declared, else integer when
    every value is whole (so ADaM numeric dates are integer with a DisplayFormat)."""
    if var.type != "Num":
        return "text" if var.data_type in NUMERIC_TYPES or not var.data_type else var.data_type
    if var.data_type == "integer":
        return "integer"
    if var.data_type in ("float", "double"):
        return "float"
    values = _numeric(frame, ds, var)
    return "float" if (np.isfinite(values) & (np.mod(values, 1) != 0)).any() else "integer"


# --------------------------------------------------------------------------- codelists


@dataclass
class _Codelist:
    """A referenced codelist and the values the data uses."""

    oid: str
    cl: Codelist
    standard_oid: str | None
    external: tuple[str, str] | None = None
    used: dict[str, tuple[str, str, int]] = field(default_factory=dict)


def _from_ct(cid: str, ct_version: str, where: str) -> tuple[Codelist, str]:
    """A CDISC codelist by C-code from the SDTM CT of the study, else the bundled ADaM CT."""
    tried = []
    for package, version, std in (
        ("SDTM", ct_version, STD_CT),
        ("ADaM", versions()["ADaM CT"], STD_ADAM_CT),
    ):
        try:
            ct = controlled_terminology(package, version)
        except StandardsError as exc:
            tried.append(str(exc))
            continue
        found = ct.codelist(cid)
        if found is not None:
            terms = tuple(Term(t.submission_value, t.code) for t in found.terms.values())
            return Codelist(
                found.code, found.name, found.extensible, terms, nci_code=found.code
            ), std
        tried.append(f"{package} CT {version}")
    raise WriteError(
        f"define: {where}: codelist {cid!r} is neither declared in the study nor "
        f"in the bundled CT ({'; '.join(tried)})"
    )


def _resolve_codelist(study: Study, cid: str, where: str) -> _Codelist:
    if cid.startswith("EXT:"):
        parts = cid.split(":", 2)
        if len(parts) != 3 or not parts[1] or not parts[2]:
            raise WriteError(
                f"define: {where}: external codelist {cid!r} must read EXT:<dictionary>:<version>"
            )
        name = re.sub(r"\W+", "_", f"{parts[1]}.{parts[2]}")
        return _Codelist(
            f"CL.EXT.{name}", Codelist(cid, parts[1], False, ()), None, (parts[1], parts[2])
        )
    cl = study.codelists.get(cid)
    std: str | None = None
    if cl is None:
        cl, std = _from_ct(cid, study.ct_version, where)
    elif not cl.sponsor and cl.nci_code:
        std = STD_CT
        if any(t.code is None and not t.extended for t in cl.terms):
            ct, std = _from_ct(cl.nci_code, study.ct_version, where)
            codes = {t.value: t.code for t in ct.terms}
            cl = replace(
                cl, terms=tuple(replace(t, code=t.code or codes.get(t.value)) for t in cl.terms)
            )
    oid = f"CL.{cl.id}" if cl.sponsor or not cl.nci_code else f"CL.{cl.nci_code}"
    return _Codelist(oid, cl, std)


def _collect_terms(entry: _Codelist, frame: pd.DataFrame, ds: str, var: Variable) -> None:
    """Record the distinct values of `var` (with the row where each first occurs)."""
    if entry.external is not None:
        return
    col = frame[var.name].reset_index(drop=True)
    first = _as_text(col.drop_duplicates()).drop_duplicates()
    for value, pos in zip(first.tolist(), first.index.tolist(), strict=True):
        entry.used.setdefault(value, (ds, var.name, pos + 1))


def _codelist_items(entry: _Codelist) -> list[tuple[Term, bool]]:
    """(term, extended) in codelist order then extended values sorted; checks closed lists."""
    cl = entry.cl
    known = {t.value: t for t in cl.terms}
    extra = sorted(v for v in entry.used if v not in known)
    if extra and not cl.extensible:
        ds, var, row = entry.used[extra[0]]
        raise WriteError(
            f"define: dataset {ds}, row {row}, variable {var}: value {extra[0]!r} "
            f"is not a term of non-extensible codelist {cl.id} ({cl.name})"
        )
    whole = cl.sponsor and len(cl.terms) <= SMALL_CODELIST
    if not entry.used:
        whole = True  # no data: the codelist is listed whole rather than left empty
    items = [(t, t.extended) for t in cl.terms if whole or t.value in entry.used]
    return items + [(Term(v), not cl.sponsor) for v in extra]


def _write_codelist(mdv: etree._Element, entry: _Codelist) -> None:
    cl = entry.cl
    node = _el(
        mdv,
        "CodeList",
        [
            ("OID", entry.oid),
            ("Name", cl.name),
            ("DataType", cl.data_type if cl.data_type in ("text", "integer", "float") else "text"),
            ("def:StandardOID", entry.standard_oid),
        ],
    )
    if entry.external:
        _el(
            node,
            "ExternalCodeList",
            [("Dictionary", entry.external[0]), ("Version", entry.external[1])],
        )
        return
    items = _codelist_items(entry)
    decoded = any(t.decode for t, _ in items)
    for term, extended in items:
        ext = "Yes" if extended else None
        if decoded:
            item = _el(
                node, "CodeListItem", [("CodedValue", term.value), ("def:ExtendedValue", ext)]
            )
            _translated(item, "Decode", term.decode or term.value)
        else:
            item = _el(
                node, "EnumeratedItem", [("CodedValue", term.value), ("def:ExtendedValue", ext)]
            )
        if not cl.sponsor and term.code and not extended:
            _el(item, "Alias", [("Context", "nci:ExtCodeID"), ("Name", term.code)])
    if not cl.sponsor and cl.nci_code:
        _el(node, "Alias", [("Context", "nci:ExtCodeID"), ("Name", cl.nci_code)])


# --------------------------------------------------------------------------- value-level metadata

#: Test-code variable -> the variable holding its label (used for value-level descriptions).
_LABEL_OF = {"PARAMCD": "PARAM", "QNAM": "QLABEL"}


@dataclass
class _ValueItem:
    """One value-level ItemDef: the test code it applies to and its measured type."""

    code: str
    label: str
    data_type: str
    length: int
    digits: int | None


def _units_of(frame: pd.DataFrame, keep: pd.Series, name: str, test: str) -> dict[str, str]:
    """Per test code, the unit(s) its results are in: --ORRESU for --ORRES, --STRESU for
    --STRESN/--STRESC (the value-level description names them)."""
    unit = next(
        (
            name[: -len(suffix)] + u
            for suffix, u in (("ORRES", "ORRESU"), ("STRESN", "STRESU"), ("STRESC", "STRESU"))
            if name.endswith(suffix)
        ),
        None,
    )
    if unit is None or unit not in frame.columns:
        return {}
    pairs = frame.loc[keep, [test, unit]].drop_duplicates()
    pairs = pairs[~_is_blank(pairs[unit])]
    pairs = pairs.assign(_code=_as_text(pairs[test]), _unit=pairs[unit].astype(str))
    grouped = pairs.sort_values("_unit").groupby("_code")["_unit"]
    return {code: ", ".join(units) for code, units in grouped.agg(list).items()}


def _value_items(frame: pd.DataFrame, ds: str, var: Variable, test: str) -> list[_ValueItem]:
    """One item per distinct test code (sorted): integer / float / text from its values."""
    if test not in frame.columns:
        raise WriteError(
            f"define: dataset {ds}: value list of {var.name} names test-code "
            f"variable {test}, which the dataset does not have"
        )
    keep = ~_is_blank(frame[test])
    pairs = frame.loc[keep, [test, var.name]].drop_duplicates()
    codes = _as_text(pairs[test])
    col = pairs[var.name]
    label_var = _LABEL_OF.get(test, test[:-2] if test.endswith("CD") else "")
    label_of: dict[str, str] = {}
    if label_var in frame.columns:
        firsts = frame.loc[keep, [test, label_var]].drop_duplicates(test)
        label_of = dict(
            zip(
                _as_text(firsts[test]).tolist(),
                firsts[label_var].astype("string").tolist(),
                strict=True,
            )
        )
    units_of = _units_of(frame, keep, var.name, test)
    if _is_numeric(col):
        num = col.to_numpy(dtype="float64", na_value=np.nan)
        is_text = np.zeros(len(col), dtype=bool)
    else:
        text = col.astype("string")
        num = pd.to_numeric(text.str.strip(), errors="coerce").to_numpy(
            dtype="float64", na_value=np.nan
        )
        is_text = (~_is_blank(text)) & ~np.isfinite(num)
    nbytes = col.astype("string").str.encode("utf-8").str.len().fillna(0).to_numpy("int64")
    finite = np.isfinite(num)
    int_d, frac_d = _digit_parts(np.where(finite, np.abs(num), 0.0))
    stats = pd.DataFrame(
        {
            "code": codes.to_numpy(),
            "text": is_text,
            "finite": finite,
            "bytes": nbytes,
            "int": np.where(finite, int_d, 0),
            "frac": np.where(finite, frac_d, 0),
        }
    )
    agg = stats.groupby("code", sort=True).agg(
        text=("text", "any"),
        finite=("finite", "any"),
        bytes=("bytes", "max"),
        int=("int", "max"),
        frac=("frac", "max"),
    )
    out = []
    for code, row in zip(agg.index.tolist(), agg.itertuples(index=False), strict=True):
        label = label_of.get(code)
        label = code if label is None or pd.isna(label) or not label else str(label)
        if units_of.get(code):
            label = f"{label} ({units_of[code]})"
        if row.text or not row.finite:
            out.append(_ValueItem(code, label, "text", max(1, int(row.bytes)), None))
        elif row.frac == 0:
            out.append(_ValueItem(code, label, "integer", max(1, int(row.int)), None))
        else:
            out.append(
                _ValueItem(code, label, "float", int(row.int) + int(row.frac), int(row.frac))
            )
    if var.type == "Num":  # a numeric column stays numeric even where a test has no values
        out = [
            v if v.data_type != "text" else _ValueItem(v.code, v.label, "float", 1, 0) for v in out
        ]
    return out


# --------------------------------------------------------------------------- builder


@dataclass
class _Build:
    """Everything collected while the ItemGroupDefs are written, emitted afterwards."""

    study: Study
    codelists: dict[str, _Codelist] = field(default_factory=dict)
    #: "Name Version" of an implementation guide other than the study's -> its Standard OID.
    other_igs: dict[str, str] = field(default_factory=dict)
    methods: list[tuple[str, str, str]] = field(default_factory=list)
    comments: list[tuple[str, str]] = field(default_factory=list)
    value_lists: list[tuple[str, list[tuple[str, str, str | None]]]] = field(default_factory=list)
    where: list[tuple[str, list[tuple[str, str, list[str]]]]] = field(default_factory=list)
    item_defs: list[tuple[Dataset, Variable, dict]] = field(default_factory=list)
    value_defs: list[tuple[Dataset, Variable, dict]] = field(default_factory=list)


def _origin(node: etree._Element, var: Variable, where: str) -> None:
    """def:Origin (§5.3.11.4): Type, Source where applicable, Description of the source."""
    if var.origin not in ORIGIN_TYPES:
        raise WriteError(
            f"define: {where}: origin {var.origin!r} is not a Define-XML 2.1 "
            f"origin type ({', '.join(sorted(ORIGIN_TYPES))})"
        )
    explicit = var.source if var.source in ORIGIN_SOURCES else None
    source = explicit or DEFAULT_SOURCE.get(var.origin)
    text = var.source if var.source and not explicit else None
    if var.origin == "Predecessor":
        if not text:
            raise WriteError(
                f"define: {where}: origin Predecessor needs the predecessor "
                "variable in source (e.g. DM.AGE)"
            )
        source = explicit
    origin = _el(node, "def:Origin", [("Type", var.origin), ("Source", source)])
    if text:
        _translated(origin, "Description", text)


def _method_text(var: Variable, where: str) -> str:
    if var.method:
        return var.method
    if var.source:
        return f"Derived from {var.source}" + (f". {var.comment}" if var.comment else "")
    if var.comment:
        return var.comment
    return f"Algorithm for {where}: not described in the study specification"


def _item_group(
    mdv: etree._Element,
    b: _Build,
    ds: Dataset,
    frame: pd.DataFrame,
    purpose: str,
    value_lists: Mapping[tuple[str, str], str],
) -> None:
    sdtm = purpose == "Tabulation"
    domain = (ds.parent or ds.name[:2]) if sdtm else None
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
    group = _el(
        mdv,
        "ItemGroupDef",
        [
            ("OID", item_group_oid(ds.name)),
            ("Domain", domain),
            ("Name", ds.name),
            ("Repeating", "Yes" if ds.repeating else "No"),
            ("IsReferenceData", "Yes" if ds.reference_data else "No"),
            ("SASDatasetName", ds.name),
            ("def:Structure", ds.structure),
            ("Purpose", purpose),
            ("def:StandardOID", std),
            ("def:CommentOID", com),
            ("def:ArchiveLocationID", f"LF.{ds.name}"),
        ],
    )
    _translated(group, "Description", ds.label)
    for var in sorted(ds.variables, key=lambda v: v.order):
        where = f"dataset {ds.name}, variable {var.name}"
        mt = f"MT.{ds.name}.{var.name}" if var.origin == "Derived" else None
        if mt:
            b.methods.append(
                (
                    mt,
                    f"Algorithm to derive {ds.name}.{var.name}",
                    _method_text(var, f"{ds.name}.{var.name}"),
                )
            )
        _el(
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
        b.item_defs.append(
            (
                ds,
                var,
                _item_info(b, ds, frame, var, where, mt, value_lists.get((ds.name, var.name))),
            )
        )
    if ds.parent and ds.parent in b.study.datasets:
        _el(
            group,
            "Alias",
            [("Context", "DomainDescription"), ("Name", b.study.datasets[ds.parent].label)],
        )
    _el(group, "def:Class", [("Name", re.sub(r"[\s_-]+", " ", ds.cls).strip().upper())])
    leaf = _el(
        group, "def:leaf", [("ID", f"LF.{ds.name}"), ("xlink:href", f"{ds.name.lower()}.xpt")]
    )
    _el(leaf, "def:title", [], f"{ds.name.lower()}.xpt")


def _item_info(
    b: _Build,
    ds: Dataset,
    frame: pd.DataFrame,
    var: Variable,
    where: str,
    method: str | None,
    test: str | None,
) -> dict:
    """Measured ItemDef facts; registers codelist, comment, value list and where clauses."""
    dtype = _define_type(frame, ds.name, var)
    length, sig = _item_length(frame, ds.name, var, dtype)
    info: dict = {"dtype": dtype, "length": length, "sig": sig, "cl": None, "com": None, "vl": None}
    if var.codelist:
        entry = b.codelists.get(var.codelist) or _resolve_codelist(b.study, var.codelist, where)
        b.codelists[var.codelist] = entry
        _collect_terms(entry, frame, ds.name, var)
        info["cl"] = entry.oid
    if var.comment:
        info["com"] = f"COM.{ds.name}.{var.name}"
        b.comments.append((info["com"], var.comment))
    if test:
        vl = f"VL.{ds.name}.{var.name}"
        refs, clauses = [], []
        for item in _value_items(frame, ds.name, var, test):
            oid = f"{item_oid(ds.name, var.name)}.{item.code}"
            wc = f"WC.{ds.name}.{test}.{item.code}"
            refs.append((oid, wc, method))
            clauses.append((wc, [(item_oid(ds.name, test), "EQ", [item.code])]))
            b.value_defs.append(
                (
                    ds,
                    var,
                    {
                        "oid": oid,
                        "dtype": item.data_type,
                        "length": item.length,
                        "sig": item.digits,
                        "label": item.label,
                        "cl": None,
                        "com": None,
                        "vl": None,
                    },
                )
            )
        b.value_lists.append((vl, refs))
        b.where.extend(clauses)
        info["vl"] = vl
    return info


def _item_def(mdv: etree._Element, ds: Dataset, var: Variable, info: dict) -> None:
    where = f"dataset {ds.name}, variable {var.name}"
    node = _el(
        mdv,
        "ItemDef",
        [
            ("OID", info.get("oid") or item_oid(ds.name, var.name)),
            ("Name", var.name),
            ("DataType", info["dtype"]),
            ("Length", info["length"]),
            ("SignificantDigits", info["sig"]),
            ("SASFieldName", var.name),
            ("def:DisplayFormat", var.format),
            ("def:CommentOID", info["com"]),
        ],
    )
    _translated(node, "Description", info.get("label") or var.label)
    if info["cl"]:
        _el(node, "CodeListRef", [("CodeListOID", info["cl"])])
    _origin(node, var, where)
    if info["vl"]:
        _el(node, "def:ValueListRef", [("ValueListOID", info["vl"])])


def _standards(mdv: etree._Element, b: _Build) -> None:
    """def:Standards (§5.3.1.1): the IGs and each CT package a codelist comes from."""
    study = b.study
    node = _el(mdv, "def:Standards")
    _el(
        node,
        "def:Standard",
        [
            ("OID", STD_IG),
            ("Name", study.standard),
            ("Type", "IG"),
            ("Version", study.standard_version),
            ("Status", "Final"),
        ],
    )
    for text, oid in b.other_igs.items():
        name, version = text.rsplit(" ", 1)
        _el(
            node,
            "def:Standard",
            [
                ("OID", oid),
                ("Name", name),
                ("Type", "IG"),
                ("Version", version),
                ("Status", "Final"),
            ],
        )
    used = {c.standard_oid for c in b.codelists.values()}
    _el(
        node,
        "def:Standard",
        [
            ("OID", STD_CT),
            ("Name", "CDISC/NCI"),
            ("Type", "CT"),
            ("PublishingSet", "SDTM"),
            ("Version", study.ct_version),
            ("Status", "Final"),
        ],
    )
    if STD_ADAM_CT in used:
        _el(
            node,
            "def:Standard",
            [
                ("OID", STD_ADAM_CT),
                ("Name", "CDISC/NCI"),
                ("Type", "CT"),
                ("PublishingSet", "ADaM"),
                ("Version", versions()["ADaM CT"]),
                ("Status", "Final"),
            ],
        )


def _where_clause(mdv: etree._Element, oid: str, checks: list[tuple[str, str, list[str]]]) -> None:
    node = _el(mdv, "def:WhereClauseDef", [("OID", oid)])
    for item, comparator, values in checks:
        check = _el(
            node,
            "RangeCheck",
            [("Comparator", comparator), ("SoftHard", "Soft"), ("def:ItemOID", item)],
        )
        for value in values:
            _el(check, "CheckValue", [], value)


# --------------------------------------------------------------------------- ARM 1.0


def _arm_where(study: Study, result: Mapping, ds: Dataset) -> tuple[str, list] | None:
    pairs = list(result.get("where") or ())
    if not pairs:
        return None
    checks = []
    for var, value in pairs:
        if not ds.has(var):
            raise WriteError(
                f"define: ARM display {result['id']}: where variable {var} is not "
                f"in dataset {ds.name}"
            )
        values = [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]
        checks.append((item_oid(ds.name, var), "IN" if len(values) > 1 else "EQ", values))
    return f"WC.{result['id']}.{ds.name}", checks


def _arm(
    mdv: etree._Element, study: Study, arm: Sequence[Mapping], included: Mapping[str, Dataset]
) -> list[tuple[str, list]]:
    """arm:AnalysisResultDisplays (ARM 1.0 §4): one display with one analysis result each."""
    root = _el(mdv, "arm:AnalysisResultDisplays")
    clauses = []
    for res in arm:
        missing = {"id", "name", "description", "dataset"} - set(res)
        if missing:
            raise WriteError(
                f"define: ARM entry {res.get('id', '?')!r} lacks {', '.join(sorted(missing))}"
            )
        ds = included.get(res["dataset"])
        if ds is None:
            raise WriteError(
                f"define: ARM display {res['id']}: dataset {res['dataset']} is not in this define"
            )
        display = _el(
            root, "arm:ResultDisplay", [("OID", f"RD.{res['id']}"), ("Name", res["name"])]
        )
        _translated(display, "Description", str(res["description"]))
        where = _arm_where(study, res, ds)
        param = (
            item_oid(ds.name, "PARAMCD")
            if where and any(v == "PARAMCD" for v, _ in res["where"])
            else None
        )
        result = _el(
            display,
            "arm:AnalysisResult",
            [
                ("OID", f"AR.{res['id']}"),
                ("ParameterOID", param),
                ("AnalysisReason", res.get("reason", "SPECIFIED IN SAP")),
                ("AnalysisPurpose", res.get("purpose", "PRIMARY OUTCOME MEASURE")),
            ],
        )
        _translated(result, "Description", str(res.get("result") or res["description"]))
        adss = _el(
            _el(result, "arm:AnalysisDatasets"),
            "arm:AnalysisDataset",
            [("ItemGroupOID", item_group_oid(ds.name))],
        )
        if where:
            _el(adss, "def:WhereClauseRef", [("WhereClauseOID", where[0])])
            clauses.append(where)
        for var in res.get("variables") or ():
            if not ds.has(var):
                raise WriteError(
                    f"define: ARM display {res['id']}: analysis variable {var} "
                    f"is not in dataset {ds.name}"
                )
            _el(adss, "arm:AnalysisVariable", [("ItemOID", item_oid(ds.name, var))])
        if res.get("documentation"):
            _translated(_el(result, "arm:Documentation"), "Description", str(res["documentation"]))
        if res.get("code"):
            code = _el(result, "arm:ProgrammingCode", [("Context", res.get("context"))])
            _el(code, "arm:Code", [], str(res["code"]))
    return clauses


# --------------------------------------------------------------------------- public API


def _included(
    study: Study, datasets: Mapping[str, pd.DataFrame], purpose: str
) -> dict[str, Dataset]:
    """Study datasets that have a frame, in study order; frames and metadata must agree."""
    unknown = sorted(set(datasets) - set(study.datasets))
    if unknown:
        raise WriteError(f"define: dataset {unknown[0]} has data but no metadata in the study")
    out = {}
    for name, ds in study.datasets.items():
        if name not in datasets:
            continue
        if ds.purpose != purpose:
            raise WriteError(
                f"define: dataset {name} has purpose {ds.purpose}, the define is {purpose}"
            )
        cols = list(datasets[name].columns)
        for var in ds.names:
            if var not in cols:
                raise WriteError(
                    f"define: dataset {name}, variable {var}: in the metadata but not in the data"
                )
        for col in cols:
            if not ds.has(col):
                raise WriteError(
                    f"define: dataset {name}, variable {col}: in the data but not in the metadata"
                )
        out[name] = ds
    return out


def build_define(
    study: Study,
    datasets: Mapping[str, pd.DataFrame],
    *,
    purpose: Literal["Tabulation", "Analysis"],
    value_lists: Mapping[tuple[str, str], str] | None = None,
    arm: Sequence[Mapping] | None = None,
) -> etree._ElementTree:
    """The Define-XML 2.1 document of `datasets` (lengths and terms measured on the data).

    Study datasets without a frame in `datasets` are left out (one Study may hold both SDTM
    and ADaM); a frame without metadata, a column mismatch or another purpose is an error.
    """
    if purpose not in ("Tabulation", "Analysis"):
        raise WriteError(f"define: purpose must be Tabulation or Analysis, not {purpose!r}")
    if arm and purpose != "Analysis":
        raise WriteError("define: analysis results metadata (arm) needs purpose Analysis")
    included = _included(study, datasets, purpose)
    value_lists = dict(value_lists or {})
    for ds_name, var_name in value_lists:
        if ds_name not in included or not included[ds_name].has(var_name):
            raise WriteError(
                f"define: value list for dataset {ds_name}, variable {var_name}: "
                "no such variable in this define"
            )
    nsmap = dict(NSMAP) | ({"arm": ARM_NS} if arm else {})
    root = etree.Element(_q(ODM_NS, "ODM"), nsmap=nsmap)
    for key, value in (
        ("ODMVersion", "1.3.2"),
        ("FileType", "Snapshot"),
        ("FileOID", f"{study_oid(study)}.Define-XML_2.1.0.{purpose}"),
        ("CreationDateTime", study.created),
        ("Originator", "cdisc-umsc"),
        ("SourceSystem", "cdisc-umsc"),
        ("SourceSystemVersion", __version__),
        (_q(DEF_NS, "Context"), "Submission"),
    ):
        root.set(key, value)
    root.addprevious(
        etree.ProcessingInstruction("xml-stylesheet", 'type="text/xsl" href="define2-1.xsl"')
    )
    st = _el(root, "Study", [("OID", study_oid(study))])
    glob = _el(st, "GlobalVariables")
    _el(glob, "StudyName", [], study.study_id)
    _el(glob, "StudyDescription", [], f"Study {study.study_id}")
    _el(glob, "ProtocolName", [], study.study_id)
    mdv = _el(
        st,
        "MetaDataVersion",
        [
            ("OID", metadata_version_oid(study)),
            ("Name", f"Study {study.study_id}, {purpose} Data Definitions"),
            (
                "Description",
                f"{purpose} datasets of study {study.study_id}, "
                f"{study.standard} {study.standard_version}",
            ),
            ("def:DefineVersion", "2.1.0"),
        ],
    )

    b = _Build(study)
    scratch = etree.Element(_q(ODM_NS, "scratch"), nsmap=nsmap)
    for name, ds in included.items():
        _item_group(scratch, b, ds, datasets[name], purpose, value_lists)
    arm_clauses = _arm(scratch, study, arm, included) if arm else []
    groups = list(scratch)
    arm_el = groups.pop() if arm else None

    _standards(mdv, b)
    for vl, refs in b.value_lists:
        node = _el(mdv, "def:ValueListDef", [("OID", vl)])
        for order, (oid, wc, method) in enumerate(refs, start=1):
            ref = _el(
                node,
                "ItemRef",
                [
                    ("ItemOID", oid),
                    ("OrderNumber", order),
                    ("Mandatory", "No"),
                    ("MethodOID", method),
                ],
            )
            _el(ref, "def:WhereClauseRef", [("WhereClauseOID", wc)])
    written: set[str] = set()
    for oid, checks in b.where + arm_clauses:
        if oid not in written:  # one clause serves every variable described by the same test
            written.add(oid)
            _where_clause(mdv, oid, checks)
    mdv.extend(groups)
    for ds, var, info in b.item_defs + b.value_defs:
        _item_def(mdv, ds, var, info)
    for entry in b.codelists.values():
        _write_codelist(mdv, entry)
    for oid, name, text in b.methods:
        method = _el(mdv, "MethodDef", [("OID", oid), ("Name", name), ("Type", "Computation")])
        _translated(method, "Description", text)
    for oid, text in b.comments:
        _translated(_el(mdv, "def:CommentDef", [("OID", oid)]), "Description", text)
    if arm_el is not None:
        mdv.append(arm_el)
    tree = root.getroottree()
    etree.cleanup_namespaces(tree, top_nsmap=nsmap)
    return tree


def define_bytes(tree: etree._ElementTree) -> bytes:
    """The serialised document (UTF-8, declaration, two-space indent); `tree` is unchanged."""
    copy = deepcopy(tree)
    etree.indent(copy, space="  ")
    return etree.tostring(copy, xml_declaration=True, encoding="UTF-8", pretty_print=True)


@cache
def _stylesheet() -> etree.XSLT:
    with as_file(data_file(BUNDLE).joinpath("define2-1.xsl")) as xsl:
        doc = etree.parse(str(xsl), safe_parser())
    return etree.XSLT(doc, access_control=etree.XSLTAccessControl.DENY_ALL)


def render_html(tree: etree._ElementTree) -> bytes:
    """define.html rendered by the bundled define2-1.xsl (no file or network access)."""
    try:
        result = _stylesheet()(tree)
    except etree.XSLTError as exc:
        raise WriteError(f"define: rendering define.html failed: {exc}") from exc
    return bytes(result)


def write_define(
    path: str | os.PathLike[str],
    tree: etree._ElementTree,
    *,
    html_path: str | os.PathLike[str] | None = None,
) -> None:
    """Write define.xml (and define.html when `html_path` is given) atomically."""
    write_bytes(Path(path), define_bytes(tree))
    if html_path is not None:
        write_bytes(Path(html_path), render_html(tree))


# --------------------------------------------------------------------------- validation


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
    _q(DEF_NS, "ItemOID"),
    _q(DEF_NS, "StandardOID"),
    _q(DEF_NS, "CommentOID"),
)
_LEAF_REFS = ("leafID", _q(DEF_NS, "ArchiveLocationID"))


def validate_define(tree: etree._ElementTree) -> list[str]:
    """Schema errors (Define-XML 2.1, with ARM 1.0 when present), duplicate OIDs and
    references to undefined OIDs / leaf IDs; empty when the document is valid."""
    tree = parse_xml(define_bytes(tree))  # re-read so that errors carry line numbers
    root = tree.getroot()
    has_arm = next(root.iter(_q(ARM_NS, "AnalysisResultDisplays")), None) is not None
    schema = _schema(has_arm)
    errors = (
        [] if schema.validate(tree) else [f"line {e.line}: {e.message}" for e in schema.error_log]
    )
    defined: dict[str, int] = {}
    leaves: set[str] = set()
    for el in root.iter(etree.Element):
        oid = el.get("OID")
        if oid is not None and el.tag != _q(ODM_NS, "ODM"):
            if oid in defined:
                errors.append(
                    f"line {el.sourceline}: OID {oid!r} is defined twice "
                    f"(first at line {defined[oid]})"
                )
            defined.setdefault(oid, el.sourceline or 0)
        if el.tag == _q(DEF_NS, "leaf") and el.get("ID"):
            leaves.add(el.get("ID"))
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
