"""The working state of an SDTM build: raw forms, domains under construction, lookups."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from cdisc_umsc.core.errors import InputError
from cdisc_umsc.metadata import standards
from cdisc_umsc.metadata.model import Codelist
from cdisc_umsc.metadata.spec import DomainSpec, StudySpec
from cdisc_umsc.metadata.specfile import SpecMap
from cdisc_umsc.read.forms import FORM, ROW

#: stable record id in a build's raw frame (survives sorting), for lineage
REC = "__rec"


@dataclass
class Build:
    """One domain under construction: its raw rows and the target variables mapped so far."""

    spec: DomainSpec
    raw: pd.DataFrame
    out: pd.DataFrame
    #: codelist each variable's values were checked against (for decodes and define.xml)
    codelist_of: dict[str, str] = field(default_factory=dict)
    #: QNAM -> QVAL series for SUPP-- (aligned with out)
    supp: dict[str, pd.Series] = field(default_factory=dict)
    done: set[str] = field(default_factory=set)
    #: variables whose sources use different codelists (described per value instead)
    conflicting: set[str] = field(default_factory=set)
    #: raw rows left out by a spec filter: (form, row, reason)
    excluded: list[tuple[str, int, str]] = field(default_factory=list)
    #: derived records and the records they were computed from: frames of (rec, src) ids
    #: (the raw frame's REC column), for lineage
    derived_from: list[pd.DataFrame] = field(default_factory=list)
    #: the records the algorithm being applied computes (None: all); row errors outside it
    #: are not errors, because those records take no value from it
    scope: np.ndarray | None = None


class Context:
    """Everything the mapping algorithms may read: the spec, CT, raw forms and other domains."""

    def __init__(self, study: StudySpec, forms: dict[str, pd.DataFrame]) -> None:
        self.study = study
        self.forms = forms
        self.builds: dict[str, Build] = {}
        self.excluded: list[tuple[str, int, str]] = []
        #: subject-level forms read through FORM.FIELD references
        self.looked_up: set[str] = set()
        #: coding tables loaded once per run, by file
        self.dictionaries: dict[str, pd.DataFrame] = {}
        #: (domain, form) pairs of those references, for lineage
        self.lookups: set[tuple[str, str]] = set()
        self.ct = standards.controlled_terminology("SDTM", study.ct_version)
        #: parsed spec conditions, by the id of their spec mapping (parsed once per run)
        self.conditions: dict[int, tuple[object, Any]] = {}
        #: spec location of each condition evaluated -> whether it matched any record
        self.condition_hits: dict[str, bool] = {}
        self.condition_text: dict[str, str] = {}

    # ------------------------------------------------------------------ codelists
    def codelist(self, cid: str) -> Codelist | standards.CtCodelist | None:
        if cid in self.study.sponsor_codelists:
            return self.study.sponsor_codelists[cid]
        return self.ct.codelist(cid)

    # ------------------------------------------------------------------ errors
    def check(
        self,
        b: Build,
        bad: pd.Series,
        column: str,
        message: str,
        values: pd.Series | None = None,
    ) -> None:
        """Raise the row error of the first record where ``bad`` holds, among the records the
        algorithm being applied computes (``b.scope``)."""
        mask = bad.to_numpy(dtype=bool)
        if b.scope is not None:
            mask = mask & b.scope
        if mask.any():
            raise self.row_error(b, pd.Series(mask, index=bad.index), column, message, values)

    def row_error(
        self, b: Build, mask: pd.Series, column: str, message: str, values: pd.Series | None = None
    ) -> InputError:
        """Error naming the file and row of the first record where ``mask`` holds."""
        pos = int(np.flatnonzero(mask.to_numpy())[0])
        form = b.raw[FORM].iloc[pos] if FORM in b.raw else None
        row = b.raw[ROW].iloc[pos] if ROW in b.raw else None
        shown = "" if values is None else f" (got {values.iloc[pos]!r})"
        if values is not None and any(fld == column for _f, fld in self.study.identifiers):
            shown = " (value not shown: a direct identifier)"  # errors never repeat one
        if form is None or pd.isna(form) or form == "":
            return InputError(
                f"{b.spec.file}: {b.spec.name} record {pos + 1}, variable {column}: "
                f"{message}{shown}"
            )
        file = self.study.forms[form].file
        return InputError(f"{file}: row {int(row)}, column {column}: {message}{shown}")

    # ------------------------------------------------------------------ settings
    def setting(self, key: str) -> Any:
        s = self.study.settings
        if key == "sdtm_version":
            return str(s["sdtm"]).split()[-1]
        if key == "sdtm_model_version":
            return str(s.get("sdtm_model", "SDTM 2.0")).split()[-1]
        return s[key]

    # ------------------------------------------------------------------ visits
    @cached_property
    def visit_table(self) -> pd.DataFrame:
        rows = [
            {
                "raw": str(v.get("raw", "")),
                "VISIT": str(v["VISIT"]),
                "VISITNUM": float(v["VISITNUM"]),
            }
            for v in self.study.visits
        ]
        return pd.DataFrame(rows, columns=["raw", "VISIT", "VISITNUM"])

    # ------------------------------------------------------------------ subjects
    @cached_property
    def subjects(self) -> pd.DataFrame:
        """DM target variables indexed by the raw subject key."""
        dm = self.builds["DM"]
        frame = dm.out.copy()
        frame.index = dm.raw[self.study.subject_field].to_numpy()
        return frame

    def subject_lookup(self, b: Build, column: str) -> pd.Series:
        """DM variable ``column`` for each record of ``b``, by subject key."""
        subj = b.raw[self.study.subject_field]
        known = subj.isin(self.subjects.index)
        if not known.all():
            raise self.row_error(
                b,
                ~known,
                self.study.subject_field,
                "subject is not in DM (no demographics record)",
                subj,
            )
        return pd.Series(
            self.subjects[column].reindex(subj.to_numpy()).to_numpy(), index=b.out.index
        )

    def form_lookup(self, b: Build, form: str, fld: str) -> pd.Series:
        """A field of a subject-level form, joined to ``b``'s records by subject key."""
        frame = self.forms[form]
        self.looked_up.add(form)
        self.lookups.add((b.spec.name, form))
        key = self.study.subject_field
        table = frame.set_index(key)[fld]
        subj = b.raw[key]
        return pd.Series(
            table.reindex(subj.to_numpy()).fillna("").to_numpy(), index=b.out.index, dtype=object
        )

    # ------------------------------------------------------------------ references
    def ref(self, b: Build, name: str, ensure, prefer_raw: bool = False) -> pd.Series:
        """A target variable of ``b`` (computed on demand) or a raw field of its sources."""
        if "." in name:
            form, _, fld = name.partition(".")
            if form in self.forms:
                return self.form_lookup(b, form, fld)
        if prefer_raw and name in b.raw.columns:
            col = b.raw[name]
            return col.where(col.notna(), "").astype(object)
        if name in b.out.columns or _declared(b.spec, name):
            ensure(name)
            return b.out[name]
        if name in b.raw.columns:
            col = b.raw[name]
            return col.where(col.notna(), "").astype(object)
        raise InputError(
            f"{b.spec.file}: '{name}' is neither a variable of {b.spec.name} "
            "nor a field of its forms"
        )


def _declared(spec: DomainSpec, name: str) -> bool:
    return name in spec.all_variables()


def spec_param(p: SpecMap, key: str, default: Any = None) -> Any:
    return p.get(key, default)
