"""Run-time access to the bundled CDISC standards: IG tables, SDTM model, Controlled Terminology.

Everything is read from ``cdisc_umsc/standards/data`` (built by scripts/build_standards.py),
parsed once and cached. Returned DataFrames are shallow copies (copy-on-write protects the cache).
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache, cached_property, lru_cache

import numpy as np
import pandas as pd

from cdisc_umsc.core.errors import StandardsError
from cdisc_umsc.standards import data_file

# --------------------------------------------------------------------------- manifest / files


@lru_cache(maxsize=1)
def manifest() -> dict:
    """The parsed data/manifest.json (sources with sha256, generated files, versions)."""
    return json.loads(data_file("manifest.json").read_text(encoding="utf-8"))


def versions() -> dict[str, str]:
    """Bundled standard name -> its default version, e.g. {"SDTMIG": "3.4", "SDTM CT":
    "2025-03-28"} (other releases: bundled_versions)."""
    return {
        s["name"]: s["version"]
        for s in manifest()["standards"]
        if s["kind"] != "rules" and s.get("default", True)
    }


def _entry(kind: str, name: str, version: str, key: str = "name") -> dict:
    for std in manifest()["standards"]:
        if std["kind"] == kind and std[key].casefold() == name.casefold():
            if std["version"] == version:
                return std
    have = ", ".join(s["title"] for s in manifest()["standards"] if s["kind"] == kind)
    raise StandardsError(f"{name} {version} is not bundled; available: {have}")


@cache
def _read(file: str) -> pd.DataFrame:
    """One bundled CSV (gzip if *.gz) as text columns; `order` as int64."""
    with data_file(file).open("rb") as fh:
        frame = pd.read_csv(
            fh,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            compression="gzip" if file.endswith(".gz") else None,
        )
    if "order" in frame.columns:
        frame["order"] = frame["order"].astype("int64")
    return frame


def _table(kind: str, name: str, version: str, role: str) -> pd.DataFrame:
    return _read(_entry(kind, name, version)["files"][role]["file"])


@cache
def core_rules() -> tuple[dict, ...]:
    """The bundled CDISC CORE rules for SDTMIG (one dict per rule: core_id, message,
    conditions, versions, citations ...), as scripts/build_standards.py extracted them."""
    std = next((s for s in manifest()["standards"] if s["kind"] == "rules"), None)
    if std is None:
        return ()
    with data_file(std["files"]["rules"]["file"]).open("rb") as fh:
        return tuple(json.loads(gzip.decompress(fh.read()).decode("utf-8")))


# --------------------------------------------------------------------------- implementation guides


def ig_datasets(standard: str = "SDTMIG", version: str = "3.4") -> pd.DataFrame:
    """IG datasets (ADaMIG: data structures ADSL, BDS, TTE): dataset, label, cls, structure."""
    return _table("ig", standard, version, "datasets").copy(deep=False)


def ig_variables(standard: str = "SDTMIG", version: str = "3.4") -> pd.DataFrame:
    """IG variable tables; ADaMIG rows use the structure short name and add variable_set."""
    return _table("ig", standard, version, "variables").copy(deep=False)


def ig_keys(dataset: str, version: str = "3.4") -> tuple[str, ...]:
    """The natural keys the SDTMIG's structure statement gives dataset ``dataset`` (SUPP--
    uses SUPPQUAL's), or () where the IG states none the bundle records."""
    table = _table("ig", "SDTMIG", version, "datasets")
    if "keys" not in table.columns:
        return ()
    name = dataset.upper()
    if name.startswith("SUPP") and name not in set(table["dataset"]):
        name = "SUPPQUAL"
    hit = table.loc[table["dataset"] == name, "keys"]
    return tuple(hit.iloc[0].split()) if len(hit) else ()


@cache
def _ig_index(standard: str, version: str) -> dict[tuple[str, str], dict]:
    frame = _table("ig", standard, version, "variables")
    return {(r["dataset"], r["variable"]): r for r in frame.to_dict("records")}


@cache
def _ig_names(standard: str, version: str) -> frozenset[str]:
    return frozenset(_table("ig", standard, version, "datasets")["dataset"])


# ADaMIG v1.3 section 3.1.1 (variable naming conventions): xx = period 01-99 (zero padded),
# zz = index 01-99 (zero padded), y = 1-99 (not padded), w = 1-9; Section 3.3.3 / Table 3.3.3.3:
# a leading '*' stands for one or more producer-chosen characters (user-defined timing).
_PIECES = {
    "xx": "(?:0[1-9]|[1-9][0-9])",
    "zz": "(?:0[1-9]|[1-9][0-9])",
    "y": "(?:[1-9][0-9]?)",
    "w": "[1-9]",
    "*": "[A-Z][A-Z0-9]*",
}
_SPLIT = re.compile(r"(xx|zz|y|w|\*)")


@dataclass(frozen=True)
class _Template:
    dataset: str
    name: str
    regex: re.Pattern[str]
    rank: tuple[int, int, str]  # exact < placeholder < '*'; then more fixed characters first


def _template(dataset: str, name: str) -> _Template:
    parts = _SPLIT.split(name)
    literal = "".join(parts[0::2])
    if literal != literal.upper():
        raise StandardsError(f"ADaMIG template {name!r} ({dataset}) has an unknown placeholder")
    regex = "".join(_PIECES[p] if i % 2 else re.escape(p) for i, p in enumerate(parts))
    kind = 2 if "*" in name else (1 if len(parts) > 1 else 0)
    return _Template(dataset, name, re.compile(regex), (kind, -len(literal), name))


@cache
def _adam_templates(version: str) -> tuple[_Template, ...]:
    frame = _table("ig", "ADaMIG", version, "variables")
    found = [_template(d, n) for d, n in zip(frame["dataset"], frame["variable"], strict=True)]
    return tuple(sorted(found, key=lambda t: t.rank))


def _match(name: str, templates: tuple[_Template, ...]) -> _Template | None:
    if len(name) > 8:
        return None
    return next((t for t in templates if t.regex.fullmatch(name)), None)


def adam_variable_pattern(name: str, version: str = "1.3") -> str | None:
    """The ADaMIG row name for a concrete variable: TRT01P -> TRTxxP, A1LO -> AyLO, ADT -> ADT."""
    hit = _match(name.upper(), _adam_templates(version))
    return hit.name if hit else None


def _adam_structures(version: str, dataset: str) -> tuple[str, ...]:
    """Structures whose rows apply to `dataset`: itself, else its class peers (TTE -> BDS)."""
    variables = _table("ig", "ADaMIG", version, "variables")
    if (variables["dataset"] == dataset).any():
        return (dataset,)
    structures = _table("ig", "ADaMIG", version, "datasets")
    cls = structures.loc[structures["dataset"] == dataset, "cls"]
    peers = structures.loc[structures["cls"].isin(cls), "dataset"]
    return tuple(sorted(set(peers) & set(variables["dataset"])))


def ig_variable(standard: str, version: str, dataset: str, name: str) -> dict | None:
    """The IG row for dataset.name as a dict, or None; resolves ADaM templates and SUPP--."""
    dataset, name = dataset.upper(), name.upper()
    standard = _entry("ig", standard, version)["name"]
    index = _ig_index(standard, version)
    if standard == "ADaMIG":
        structures = _adam_structures(version, dataset)
        templates = tuple(t for t in _adam_templates(version) if t.dataset in structures)
        hit = _match(name, templates)
        return dict(index[(hit.dataset, hit.name)]) if hit else None
    if dataset.startswith("SUPP") and dataset not in _ig_names(standard, version):
        dataset = "SUPPQUAL"  # SDTMIG 3.4 section 8.4: SUPP-- datasets share one structure
    row = index.get((dataset, name))
    return dict(row) if row else None


# --------------------------------------------------------------------------- SDTM model

_GO_CLASSES = frozenset({"INTERVENTIONS", "EVENTS", "FINDINGS", "FINDINGS ABOUT"})


def _norm_class(text: str) -> str:
    return re.sub(r"[\s_-]+", " ", text).strip().upper()


def model_datasets(version: str = "2.0") -> pd.DataFrame:
    """SDTM model dataset-level tables (DM, CO, SE, TA, RELREC, ...): dataset, label, cls."""
    return _table("model", "SDTM", version, "datasets").copy(deep=False)


def model_variables(version: str = "2.0") -> pd.DataFrame:
    """SDTM model variables: cls, dataset ('' for class-level), order, variable ('--' form),
    label, type, role, described_value_domain, usage and its parsed rules."""
    return _table("model", "SDTM", version, "variables").copy(deep=False)


@dataclass(frozen=True)
class _Rule:
    only: frozenset[str]
    not_domains: frozenset[str]
    not_classes: frozenset[str]
    scope: str  # all | clinical | nonclinical

    def allows(self, prefix: str, family: str, nonclinical: bool) -> bool:
        return (
            (not self.only or prefix in self.only)
            and prefix not in self.not_domains
            and family not in self.not_classes
            and self.scope in ("all", "nonclinical" if nonclinical else "clinical")
        )


@cache
def _model_index(version: str) -> dict[tuple[str, str, str], _Rule]:
    f = _table("model", "SDTM", version, "variables")
    cols = [
        f[c]
        for c in (
            "cls",
            "dataset",
            "variable",
            "only_domains",
            "not_domains",
            "not_classes",
            "scope",
        )
    ]
    return {
        (_norm_class(c), d, v): _Rule(
            frozenset(o.split()), frozenset(n.split()), frozenset(k.split()), s
        )
        for c, d, v, o, n, k, s in zip(*cols, strict=True)
    }


def model_allows(
    domain_class: str,
    domain: str,
    variable: str,
    *,
    nonclinical: bool = False,
    version: str = "2.0",
) -> bool:
    """Whether the SDTM model lets `variable` appear in `domain` of class `domain_class`.

    General observation classes (SDTM v2.0 section 2-3): identifiers/timing of 'General
    Observations' plus the class's own '--' variables (Findings About adds Findings), with the
    model's usage restrictions applied; AP-- domains add Associated Persons identifiers.
    Other classes: the dataset's own variable table (SUPP-- uses SUPPQUAL).
    """
    index = _model_index(version)
    cls, dom, var = _norm_class(domain_class), domain.upper(), variable.upper()
    if cls in _GO_CLASSES:
        ap = len(dom) == 4 and dom.startswith("AP")
        prefix = dom[2:4] if ap else dom[:2]
        classes = (
            {"GENERAL OBSERVATIONS", cls}
            | ({"FINDINGS"} if cls == "FINDINGS ABOUT" else set())
            | ({"ASSOCIATED PERSONS"} if ap else set())
        )
        names = {var} | ({"--" + var[2:]} if var.startswith(prefix) and len(var) > 2 else set())
        keys = [(c, "", n) for c in sorted(classes) for n in sorted(names)]
        family = "FINDINGS" if cls == "FINDINGS ABOUT" else cls
    else:
        dataset = "SUPPQUAL" if dom.startswith("SUPP") else dom
        if not any(k[0] == cls and k[1] == dataset for k in index):
            known = sorted({k[0] for k in index} | _GO_CLASSES)
            raise StandardsError(
                f"SDTM {version} model has no dataset {domain!r} in class "
                f"{domain_class!r}; classes: {known}"
            )
        keys, prefix, family = [(cls, dataset, var)], dom[:2], cls
    return any(index[k].allows(prefix, family, nonclinical) for k in keys if k in index)


# --------------------------------------------------------------------------- controlled terminology


@dataclass(frozen=True)
class CtTerm:
    """One CDISC CT term."""

    code: str
    submission_value: str
    synonyms: tuple[str, ...]
    preferred_term: str


@dataclass(frozen=True, eq=False)
class CtCodelist:
    """One CDISC codelist; `terms` is keyed by submission value."""

    code: str
    name: str
    submission_value: str
    extensible: bool
    terms: dict[str, CtTerm]
    synonyms: tuple[str, ...] = ()
    preferred_term: str = ""

    def lookup(self, value: str) -> CtTerm | None:
        """The term whose submission value equals `value` exactly."""
        return self.terms.get(value)

    def lookup_synonym(self, value: str) -> CtTerm | None:
        """Exact submission value, else case-insensitive submission value, synonym or NCI
        preferred term (first level that matches; a key shared by two terms gives None)."""
        return self.terms.get(value) or self._folded.get(value.casefold())

    @cached_property
    def _folded(self) -> dict[str, CtTerm | None]:
        index: dict[str, CtTerm | None] = {}
        levels = (
            lambda t: (t.submission_value,),
            lambda t: t.synonyms,
            lambda t: (t.preferred_term,),
        )
        for keys_of in levels:
            level: dict[str, set[str]] = {}
            for term in self.terms.values():
                for key in keys_of(term):
                    if key:
                        level.setdefault(key.casefold(), set()).add(term.submission_value)
            for key, hits in level.items():
                if key not in index:
                    index[key] = self.terms[next(iter(hits))] if len(hits) == 1 else None
        return index


def _split(text: str) -> tuple[str, ...]:
    return tuple(text.split("; ")) if text else ()


class CT:
    """One CT package version; codelists are built on first use."""

    def __init__(self, package: str, version: str, frame: pd.DataFrame) -> None:
        self.package, self.version, self._frame = package, version, frame
        lists = frame["codelist"].to_numpy()
        starts = np.flatnonzero(np.r_[True, lists[1:] != lists[:-1]]) if len(lists) else []
        stops = np.r_[starts[1:], len(lists)] if len(lists) else []
        if len(lists) and (frame["code"].to_numpy()[starts] != "").any():
            raise StandardsError(f"{package} CT {version}: a codelist lacks its header row")
        self._slices = dict(zip(lists[starts], zip(starts, stops, strict=True), strict=True))
        short = frame["submission_value"].to_numpy()[starts]
        self._by_name = dict(zip(short, lists[starts], strict=True))
        self._built: dict[str, CtCodelist] = {}

    def __repr__(self) -> str:
        return f"CT({self.package!r}, {self.version!r}, {len(self)} codelists)"

    def __len__(self) -> int:
        return len(self._slices)

    def __iter__(self) -> Iterator[str]:
        return iter(self._slices)

    def __contains__(self, key: object) -> bool:
        return key in self._slices or key in self._by_name

    def codelist(self, key: str) -> CtCodelist | None:
        """Codelist by NCI C-code ("C66731") or CDISC submission value ("SEX")."""
        code = key if key in self._slices else self._by_name.get(key)
        if code is None:
            return None
        if code not in self._built:
            start, stop = self._slices[code]
            rows = self._frame.iloc[start:stop]
            cols = [
                rows[c].tolist() for c in ("code", "submission_value", "synonyms", "preferred_term")
            ]
            terms = {v: CtTerm(c, v, _split(s), p) for c, v, s, p in zip(*cols, strict=True)}
            head = rows.iloc[0]
            del terms[head["submission_value"]]
            self._built[code] = CtCodelist(
                code=code,
                name=head["name"],
                submission_value=head["submission_value"],
                extensible=head["extensible"] == "Yes",
                terms=terms,
                synonyms=_split(head["synonyms"]),
                preferred_term=head["preferred_term"],
            )
        return self._built[code]

    def _require(self, codelist: str | CtCodelist) -> CtCodelist:
        if isinstance(codelist, CtCodelist):
            return codelist
        found = self.codelist(codelist)
        if found is None:
            raise StandardsError(f"{self.package} CT {self.version} has no codelist {codelist!r}")
        return found

    def lookup(self, codelist: str | CtCodelist, value: str) -> CtTerm | None:
        """Term of `codelist` whose submission value equals `value` exactly, else None."""
        return self._require(codelist).lookup(value)

    def lookup_synonym(self, codelist: str | CtCodelist, value: str) -> CtTerm | None:
        """Like lookup, then case-insensitive on submission value, synonyms, preferred term."""
        return self._require(codelist).lookup_synonym(value)


@cache
def _ct(package: str, version: str) -> CT:
    entry = _entry("ct", package, version, key="package")
    return CT(entry["package"], version, _read(entry["files"]["terms"]["file"]))


def controlled_terminology(package: str = "SDTM", version: str = "2025-03-28") -> CT:
    """CT package "SDTM" (2025-03-28), "ADaM" or "Define-XML" (2025-09-26)."""
    return _ct(package.casefold(), version)


# --------------------------------------------------------------------------- standards in use


@dataclass(frozen=True)
class InUse:
    """The standards one study uses, each resolved to a bundled version: the one answer every
    stage reads (mapping, ADaM, validation, define.xml, manifest)."""

    sdtmig: str = "3.4"
    sdtm_model: str = "2.0"
    adamig: str = "1.3"
    sdtm_ct: str = "2025-03-28"
    adam_ct: str = "2025-09-26"

    @property
    def titles(self) -> dict[str, str]:
        return {
            "sdtm": f"SDTMIG {self.sdtmig}",
            "sdtm_model": f"SDTM {self.sdtm_model}",
            "adam": f"ADaMIG {self.adamig}",
            "ct": f"SDTM CT {self.sdtm_ct}",
            "adam_ct": f"ADaM CT {self.adam_ct}",
        }


#: Study setting -> (kind, bundled name, the name a spec writes, example).
_SETTINGS = {
    "sdtm": ("ig", "SDTMIG", "SDTMIG", "SDTMIG 3.4"),
    "sdtm_model": ("model", "SDTM", "SDTM", "SDTM 2.0"),
    "adam": ("ig", "ADaMIG", "ADaMIG", "ADaMIG 1.3"),
    "ct": ("ct", "SDTM CT", "SDTM CT", "SDTM CT 2025-03-28"),
    "adam_ct": ("ct", "ADaM CT", "ADaM CT", "ADaM CT 2025-09-26"),
}
_FIELDS = {
    "sdtm": "sdtmig",
    "sdtm_model": "sdtm_model",
    "adam": "adamig",
    "ct": "sdtm_ct",
    "adam_ct": "adam_ct",
}


def bundled_versions(kind: str, name: str) -> list[str]:
    """Versions of standard ``name`` (e.g. "SDTMIG", "SDTM CT") that the bundle holds."""
    return [
        s["version"]
        for s in manifest()["standards"]
        if s["kind"] == kind and s["name"].casefold() == name.casefold()
    ]


def resolve_in_use(settings: dict, where: str = "study.yaml") -> InUse:
    """The standards named by study settings (``sdtm: SDTMIG 3.4``, ``ct: SDTM CT 2025-03-28``
    ...); a setting left out takes the bundled default. A name or version the bundle does not
    hold is one error naming what it holds."""
    chosen: dict[str, str] = {}
    located = getattr(settings, "where", None)
    for key, (kind, name, written, example) in _SETTINGS.items():
        value = settings.get(key)
        if value is None:
            continue
        at = located(key) if callable(located) else where
        text = " ".join(str(value).split())
        if not text.casefold().startswith(written.casefold() + " "):
            raise StandardsError(
                f"{at}: {key}: '{text}' is not a {written} version (write e.g. '{example}')"
            )
        version = text[len(written) + 1 :]
        have = bundled_versions(kind, name)
        if version not in have:
            raise StandardsError(
                f"{at}: {key}: {written} {version} is not bundled (bundled: "
                f"{', '.join(f'{written} {v}' for v in have)})"
            )
        chosen[_FIELDS[key]] = version
    return InUse(**chosen)
