"""The resolved metadata object: studies -> datasets -> variables.

One immutable object built once from the study spec plus the bundled standards; every later
stage (map, conform, validate, derive, write XPT / Dataset-JSON / Define-XML) reads it and
never restates it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

SasType = Literal["Char", "Num"]


@dataclass(frozen=True)
class Variable:
    """One variable of one dataset, as the submission describes it."""

    name: str
    label: str
    type: SasType
    order: int
    #: Define-XML data type: text, integer, float, date, datetime, time, partialDate,
    #: incompleteDatetime, durationDatetime, ...
    data_type: str = "text"
    #: Character length in bytes; None means "the longest value in the data" (FDA TCG 4.1.5).
    length: int | None = None
    core: str = "Perm"
    role: str = ""
    #: NCI C-code of a CDISC codelist, or the id of a sponsor codelist declared in the spec.
    codelist: str | None = None
    #: SAS display format, e.g. "DATE9." for ADaM numeric dates.
    format: str | None = None
    origin: str = "Collected"
    source: str | None = None
    method: str | None = None
    comment: str | None = None
    significant_digits: int | None = None
    key_sequence: int | None = None
    #: pages of the annotated CRF where a collected value is recorded (Define-XML 2.1
    #: section 5.3.11.4, def:DocumentRef / def:PDFPageRef)
    pages: tuple[int, ...] = ()
    #: Where the spec declares the variable's derivation (``file:line: what``), for the lineage.
    spec_line: str | None = None


@dataclass(frozen=True)
class ValueLevel:
    """What differs for one variable on the records of one test code (value-level metadata,
    Define-XML 2.1 section 5.3.6): origin, method, CRF pages, codelist."""

    variable: str
    code: str
    #: the variable whose value ``code`` is ("" = the dataset's test code variable:
    #: --TESTCD, QNAM, PARAMCD, --PARMCD)
    by: str = ""
    origin: str | None = None
    source: str | None = None
    method: str | None = None
    pages: tuple[int, ...] | None = None
    codelist: str | None = None


@dataclass(frozen=True)
class Document:
    """A document the define links to: the annotated CRF or a supplemental document such as
    a reviewer's guide (Define-XML 2.1 sections 5.3.2-5.3.3, def:leaf)."""

    id: str
    title: str
    href: str
    kind: Literal["AnnotatedCRF", "SupplementalDoc"] = "SupplementalDoc"


@dataclass(frozen=True)
class Dataset:
    """One dataset: its name, label, class, structure, keys and ordered variables."""

    name: str
    label: str
    cls: str
    structure: str
    standard: str
    purpose: str = "Tabulation"
    keys: tuple[str, ...] = ()
    variables: tuple[Variable, ...] = ()
    comment: str | None = None
    repeating: bool = True
    reference_data: bool = False
    parent: str | None = None
    #: per variable and test code: what its value-level metadata says beyond the variable's
    value_level: tuple[ValueLevel, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {v.name: v for v in self.variables})

    @property
    def names(self) -> list[str]:
        return [v.name for v in self.variables]

    def var(self, name: str) -> Variable:
        return self._index[name]  # type: ignore[attr-defined]

    def has(self, name: str) -> bool:
        return name in self._index  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Term:
    """One permissible value of a codelist."""

    value: str
    code: str | None = None
    decode: str | None = None
    extended: bool = False


@dataclass(frozen=True)
class Codelist:
    """A codelist: CDISC (with NCI code) or sponsor-defined."""

    id: str
    name: str
    extensible: bool
    terms: tuple[Term, ...]
    nci_code: str | None = None
    sponsor: bool = False
    data_type: str = "text"

    @property
    def values(self) -> frozenset[str]:
        return frozenset(t.value for t in self.terms)


@dataclass(frozen=True)
class Study:
    """The whole resolved metadata of one study: one object, end to end."""

    study_id: str
    standard: str
    standard_version: str
    ct_version: str
    datasets: dict[str, Dataset] = field(default_factory=dict)
    codelists: dict[str, Codelist] = field(default_factory=dict)
    #: Timestamp written into file headers; comes from a setting, never the clock.
    created: str = "2000-01-01T00:00:00"
    #: the study's title (define.xml StudyDescription); empty when unknown
    title: str = ""
    #: documents the define links to (annotated CRF, reviewer's guides)
    documents: tuple[Document, ...] = ()


# --------------------------------------------------------------------- raw forms (the spec's view)


@dataclass(frozen=True)
class FieldSpec:
    """One CRF field of a form."""

    name: str
    type: str = "text"
    format: str | None = None
    min: float | None = None
    max: float | None = None
    identifier: bool = False
    #: ODM exports: the ItemOID holding the field, or the record's context it comes from
    #: (SubjectKey, StudyEventOID ...: ``read/odm.py: CONTEXT``)
    item: str | None = None
    odm: str | None = None
    #: tokens the export writes for an unknown date/time part (UN, UNK, --, ...)
    unknown: tuple[str, ...] = ()
    #: why a collected field reaches no dataset (declared in the spec), or None
    not_submitted: str | None = None
    #: spec file:line of the field's declaration
    where: str = ""


@dataclass(frozen=True)
class FormSpec:
    """One raw form: its file, key and fields, and how the export holds it."""

    name: str
    file: str
    label: str = ""
    key: tuple[str, ...] = ()
    fields: tuple[FieldSpec, ...] = field(default_factory=tuple)
    #: csv, sas7bdat, xpt, xlsx or odm
    reader: str = "csv"
    #: xlsx: the worksheet holding the form
    sheet: str | None = None
    #: odm: the ItemGroupOID whose records the form is
    item_group: str | None = None
    #: pages of the annotated CRF that show the form
    pages: tuple[int, ...] = ()

    @property
    def source(self) -> str:
        """The form's records as a reader names them: the file, and where in it."""
        if self.reader == "xlsx":
            return f"{self.file} sheet {self.sheet}"
        if self.reader == "odm":
            return f"{self.file} ItemGroupOID={self.item_group}"
        return self.file
