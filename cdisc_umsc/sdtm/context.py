"""The working state of an SDTM build: raw forms, domains under construction, lookups."""

from __future__ import annotations

from dataclasses import dataclass, field
from fnmatch import fnmatch
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from cdisc_umsc.core import iso8601
from cdisc_umsc.core.errors import InputError
from cdisc_umsc.core.identifiers import pattern_in
from cdisc_umsc.core.values import filled_text, number_text
from cdisc_umsc.metadata import standards
from cdisc_umsc.metadata.model import Codelist, ValueLevel
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
    #: per variable: the codelist each source form checked it against (None: none)
    source_codelists: dict[str, dict[str, str | None]] = field(default_factory=dict)
    #: define.xml metadata a builder states for variables no spec algorithm computes
    #: (trial design, subject elements): origin, source, method
    described: dict[str, dict] = field(default_factory=dict)
    #: per variable whose sources compute it with different origins: form -> origin, method
    #: and CRF pages of that source (described per value)
    source_origins: dict[str, dict[str, dict]] = field(default_factory=dict)
    #: value-level metadata a builder states (e.g. the TSVAL of a value computed from data)
    values: list[ValueLevel] = field(default_factory=list)
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
        #: forms read through FORM.FIELD references
        self.looked_up: set[str] = set()
        #: other forms indexed by the fields a look-up joins on, built once per run
        self._tables: dict[tuple[str, tuple[str, ...]], pd.DataFrame] = {}
        #: coding tables loaded once per run, by (file, match rule)
        self.dictionaries: dict[tuple[str, str], pd.DataFrame] = {}
        #: (domain, source form, looked-up form) -> the join used, for accounting and lineage
        self.lookups: dict[tuple[str, str, str], tuple[tuple[str, str], ...]] = {}
        self.ct = standards.controlled_terminology("SDTM", study.ct_version)
        #: parsed spec conditions, by the id of their spec mapping (parsed once per run)
        self.conditions: dict[int, tuple[object, Any]] = {}
        #: spec location of each condition evaluated -> whether it matched any record
        self.condition_hits: dict[str, bool] = {}
        self.condition_text: dict[str, str] = {}
        #: what an algorithm derives once from a dataset for every domain that reads it,
        #: by name: (the frame it was derived from, the result)
        self.memo: dict[str, tuple[pd.DataFrame, Any]] = {}

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
        elif values is not None and (kind := pattern_in(str(values.iloc[pos]))) is not None:
            shown = f" (value not shown: it holds {kind})"
        if form is None or row is None or pd.isna(form) or form == "":
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

    @cached_property
    def unscheduled_table(self) -> pd.DataFrame:
        """Unscheduled visits (study.yaml ``unscheduled:``) by subject and CRF visit name:
        VISITNUM = the latest planned visit attended on or before the visit's date plus 0.01
        for each unscheduled visit since it, in date order (SDTMIG 3.4 section 4.4.5)."""
        decl = self.study.unscheduled
        cols = ["subject", "raw", "VISITNUM", "VISIT"]
        if decl is None:
            return pd.DataFrame(columns=cols)
        form, _, visit = str(decl["visit"]).partition(".")
        date = str(decl["date"]).partition(".")[2]
        frame = self.forms[form]
        subject = self.study.subject_field
        rows = pd.DataFrame(
            {
                "subject": frame[subject].to_numpy(),
                "raw": frame[visit].to_numpy(),
                "day": iso8601.date_part(frame[date]).to_numpy(),
                ROW: frame[ROW].to_numpy(),
            }
        )
        names = {n: fnmatch(str(n), str(decl["raw"])) for n in pd.unique(rows["raw"])}
        unplanned = rows["raw"].map(names).astype(bool)
        planned = rows[~unplanned].merge(self.visit_table[["raw", "VISITNUM"]], on="raw")
        extra = rows[unplanned.to_numpy()]
        file = self.study.forms[form].file
        if extra["day"].isna().any():
            row = int(extra.loc[extra["day"].isna(), ROW].iloc[0])
            raise InputError(
                f"{file}: row {row}, column {date}: an unscheduled visit needs a complete date "
                "(its VISITNUM follows the planned visit before it)"
            )
        pairs = extra.merge(planned, on="subject", suffixes=("", "_p"))
        pairs = pairs[pairs["day_p"] <= pairs["day"]]
        base = pairs.groupby(ROW)["VISITNUM"].max()
        extra = extra.assign(base=extra[ROW].map(base))
        if extra["base"].isna().any():
            row = int(extra.loc[extra["base"].isna(), ROW].iloc[0])
            raise InputError(
                f"{file}: row {row}, column {date}: unscheduled visit before any planned "
                "visit of the subject (no planned visit to number it after)"
            )
        extra = extra.sort_values(["subject", "base", "day", "raw"], kind="stable")
        rank = extra.groupby(["subject", "base"]).cumcount() + 1
        if (rank > 99).any():
            raise InputError(f"{file}: more than 99 unscheduled visits after one planned visit")
        extra["VISITNUM"] = (extra["base"] + rank / 100).round(2)
        template = str(decl.get("VISIT", "UNSCHEDULED {VISITNUM}"))
        extra["VISIT"] = [template.replace("{VISITNUM}", t) for t in number_text(extra["VISITNUM"])]
        return extra[cols].reset_index(drop=True)

    # ------------------------------------------------------------------ subjects
    @property
    def subjects(self) -> pd.DataFrame:
        """DM target variables computed so far, indexed by the raw subject key."""
        dm = self.builds["DM"]
        frame = dm.out.copy()
        frame.index = dm.raw[self.study.subject_field].to_numpy()
        return frame

    def subject_lookup(self, b: Build, column: str) -> pd.Series:
        """DM variable ``column`` for each record of ``b``, by subject key."""
        subjects = self.subjects
        subj = b.raw[self.study.subject_field]
        known = subj.isin(subjects.index)
        if not known.all():
            raise self.row_error(
                b,
                ~known,
                self.study.subject_field,
                "subject is not in DM (no demographics record)",
                subj,
            )
        if column not in subjects.columns:
            raise InputError(
                f"{b.spec.file}: {b.spec.name} reads DM.{column} before DM has computed it"
            )
        return pd.Series(subjects[column].reindex(subj.to_numpy()).to_numpy(), index=b.out.index)

    def lookup_table(self, form: str, on: tuple[str, ...], where: str) -> pd.DataFrame:
        """Form ``form`` indexed by its fields ``on``; an error naming the file and the rows
        when those fields do not identify one row (the look-up would be ambiguous)."""
        cache = self._tables.get((form, on))
        if cache is not None:
            return cache
        frame = self.forms[form]
        dup = frame.duplicated(list(on), keep=False) & (frame[list(on)] != "").all(axis=1)
        if dup.any():
            rows = frame.loc[dup, [*on, ROW]]
            first = rows.iloc[0]
            same = rows[(rows[list(on)] == first[list(on)]).all(axis=1)][ROW].tolist()
            values = ", ".join(f"{k}={first[k]!r}" for k in on)
            raise InputError(
                f"{self.study.forms[form].file}: rows {same[0]} and {same[1]} both have "
                f"{values}: {where} needs one row of {form} per {', '.join(on)}"
            )
        table = frame.set_index(list(on))
        self._tables[(form, on)] = table
        return table

    def form_lookup(self, b: Build, form: str, fld: str) -> pd.Series:
        """Field ``fld`` of form ``form`` for each record of ``b``, joined on the look-up's key
        (``lookups:``, else the other form's key, else the subject); blank where no row has it."""
        self.looked_up.add(form)
        out = pd.Series("", index=b.out.index, dtype=object)
        forms = b.raw[FORM] if FORM in b.raw else pd.Series("", index=b.raw.index)
        for source in pd.unique(forms[forms != ""]):  # one join per source form
            pairs = self.study.join_key(b.spec, str(source), form)
            self.lookups[(b.spec.name, str(source), form)] = pairs
            theirs = tuple(o for o, _t in pairs)
            where = f"{b.spec.file}: the look-up of {form}.{fld}"
            table = self.lookup_table(form, theirs, where)[fld]
            rows = (forms == source).to_numpy()
            mine = b.raw.loc[rows, [t for _o, t in pairs]]
            keys = (
                pd.MultiIndex.from_frame(mine)
                if len(pairs) > 1
                else pd.Index(mine.iloc[:, 0].to_numpy())
            )
            found = table.reindex(keys).astype(object)
            out[rows] = found.where(found.notna(), "").to_numpy()
        return out

    # ------------------------------------------------------------------ references
    def ref(self, b: Build, name: str, ensure, prefer_raw: bool = False) -> pd.Series:
        """A target variable of ``b`` (computed on demand) or a raw field of its sources."""
        if "." in name:
            form, _, fld = name.partition(".")
            if form in self.forms:
                return self.form_lookup(b, form, fld)
        if prefer_raw and name in b.raw.columns:
            return filled_text(b.raw[name])
        if name in b.out.columns or _declared(b.spec, name):
            ensure(name)
            return b.out[name]
        if name in b.raw.columns:
            return filled_text(b.raw[name])
        raise InputError(
            f"{b.spec.file}: '{name}' is neither a variable of {b.spec.name} "
            "nor a field of its forms"
        )


def _declared(spec: DomainSpec, name: str) -> bool:
    return name in spec.all_variables()


def spec_param(p: SpecMap, key: str, default: Any = None) -> Any:
    return p.get(key, default)
