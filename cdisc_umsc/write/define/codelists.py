"""The CodeLists of a define.xml (Define-XML 2.1 section 5.3.12): each codelist a variable or a
value-level item names, resolved once, listing the values the data uses (a small sponsor list
whole), with decodes where the data pairs a code with its name, nci:ExtCodeID aliases for CDISC
terms and def:ExtendedValue for sponsor terms of extensible CDISC lists.

A value outside a non-extensible codelist is a controlled-terminology finding, not a reason to
refuse the define: it is left out of the list and reported to the caller.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

import pandas as pd
from lxml import etree

from cdisc_umsc.core.errors import WriteError
from cdisc_umsc.metadata.model import Codelist, Study, Term
from cdisc_umsc.metadata.standards import StandardsError, controlled_terminology, versions
from cdisc_umsc.write.define.measure import texts
from cdisc_umsc.write.define.nodes import el, translated

#: Sponsor codelists this small are listed whole; larger ones only with the values in the data.
SMALL_CODELIST = 20
STD_CT, STD_ADAM_CT = "STD.CT.SDTM", "STD.CT.ADAM"


@dataclass
class _Entry:
    """A referenced codelist and the values the data uses (value -> where it first occurs)."""

    oid: str
    cl: Codelist
    standard_oid: str | None
    external: tuple[str, str] | None = None
    used: dict[str, tuple[str, str, int]] = field(default_factory=dict)
    decodes: dict[str, str] = field(default_factory=dict)


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


def _resolve(study: Study, cid: str, where: str) -> _Entry:
    if cid.startswith("EXT:"):
        parts = cid.split(":", 2)
        if len(parts) != 3 or not parts[1] or not parts[2]:
            raise WriteError(
                f"define: {where}: external codelist {cid!r} must read EXT:<dictionary>:<version>"
            )
        name = re.sub(r"\W+", "_", f"{parts[1]}.{parts[2]}")
        return _Entry(
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
    return _Entry(oid, cl, std)


class Codelists:
    """Every codelist the define references, with the values each variable uses."""

    def __init__(self, study: Study, findings: list[str]) -> None:
        self.study = study
        self.findings = findings
        self.entries: dict[str, _Entry] = {}

    def add(self, cid: str, cl: Codelist) -> None:
        """A codelist the define itself builds from the data (e.g. PARAMCD of a dataset)."""
        self.entries[cid] = _Entry(f"CL.{cl.id}", cl, None)

    def use(
        self,
        cid: str,
        values: pd.Series,
        ds: str,
        var: str,
        decodes: dict[str, str] | None = None,
    ) -> str:
        """The OID of codelist ``cid`` for the values of ``ds.var`` (blanks ignored; the
        index gives the record, 0-based); records the values and decodes."""
        entry = self.entries.get(cid)
        if entry is None:
            entry = _resolve(self.study, cid, f"dataset {ds}, variable {var}")
            self.entries[cid] = entry
        if entry.external is not None:
            return entry.oid
        first = texts(values.reset_index(drop=True).drop_duplicates())
        known = entry.cl.values
        for value, pos in zip(first.tolist(), first.index.tolist(), strict=True):
            if value not in known and not entry.cl.extensible:
                if value not in entry.used:
                    self.findings.append(
                        f"dataset {ds}, row {pos + 1}, variable {var}: value {value!r} is not "
                        f"a term of non-extensible codelist {entry.cl.id} ({entry.cl.name}); "
                        "left out of the define's codelist"
                    )
                entry.used.setdefault(value, ("", "", -1))  # noted once, never listed
                continue
            entry.used.setdefault(value, (ds, var, pos + 1))
        for code, text in (decodes or {}).items():
            entry.decodes.setdefault(code, text)
        return entry.oid

    def standards_used(self) -> set[str | None]:
        return {e.standard_oid for e in self.entries.values()}

    def write(self, mdv: etree._Element) -> None:
        for entry in self.entries.values():
            _write(mdv, entry)


def _items(entry: _Entry) -> list[tuple[Term, bool]]:
    """(term, extended) in codelist order, then the sponsor's values sorted."""
    cl = entry.cl
    known = {t.value: t for t in cl.terms}
    used = {v for v, (ds, _var, _row) in entry.used.items() if ds}
    extra = sorted(v for v in used if v not in known)
    whole = (cl.sponsor and len(cl.terms) <= SMALL_CODELIST) or not used
    items = [(t, t.extended) for t in cl.terms if whole or t.value in used]
    return items + [(Term(v), not cl.sponsor) for v in extra]


def _write(mdv: etree._Element, entry: _Entry) -> None:
    cl = entry.cl
    node = el(
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
        el(
            node,
            "ExternalCodeList",
            [("Dictionary", entry.external[0]), ("Version", entry.external[1])],
        )
        return
    items = [
        (replace(t, decode=t.decode or entry.decodes.get(t.value)), ext) for t, ext in _items(entry)
    ]
    decoded = any(t.decode and t.decode != t.value for t, _ in items)
    for term, extended in items:
        ext = "Yes" if extended else None
        tag = "CodeListItem" if decoded else "EnumeratedItem"
        item = el(node, tag, [("CodedValue", term.value), ("def:ExtendedValue", ext)])
        if decoded:
            translated(item, "Decode", term.decode or term.value)
        if not cl.sponsor and term.code and not extended:
            el(item, "Alias", [("Context", "nci:ExtCodeID"), ("Name", term.code)])
    if not cl.sponsor and cl.nci_code:
        el(node, "Alias", [("Context", "nci:ExtCodeID"), ("Name", cl.nci_code)])
