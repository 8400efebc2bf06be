"""Resolve dataset metadata: the bundled IG/model tables plus the spec's overrides.

Labels, types, order and codelists come from SDTMIG (or the SDTM model for class-level
variables) unless the spec overrides them; origin and method come from the spec's algorithm.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import lru_cache

import pandas as pd

from cdisc_umsc.core import iso8601
from cdisc_umsc.core.errors import InputError
from cdisc_umsc.metadata import standards
from cdisc_umsc.metadata.model import Dataset, SasType, Variable

DATE_SUFFIXES = ("DTC",)
#: character variables holding ISO 8601 dates, times or durations (SDTMIG 4.4)
ISO_SUFFIXES = ("DTC", "DUR")
GENERAL_CLASSES = ("INTERVENTIONS", "EVENTS", "FINDINGS", "FINDINGS ABOUT")
#: numeric variables that hold whole numbers: sequence numbers, study days, ages, element
#: orders, and dictionary codes (--CD: MedDRA codes are integers)
INTEGER_NAMES = ("SEQ", "DY", "AGE", "TAETORD", "VISITDY", "STDY", "ENDY", "CD")


@lru_cache(maxsize=8)
def _ig(standard: str, version: str) -> pd.DataFrame:
    return standards.ig_variables(standard, version)


@lru_cache(maxsize=8)
def _ig_datasets(standard: str, version: str) -> pd.DataFrame:
    return standards.ig_datasets(standard, version).set_index("dataset")


def with_value_types(ds: Dataset, frame: pd.DataFrame) -> Dataset:
    """``ds`` with the Define-XML data type of each ISO 8601 character variable (--DTC, --DUR,
    and variables the metadata types as dates) measured from its values: the one rule for
    every dataset the tool describes (:func:`cdisc_umsc.core.iso8601.define_data_type`); a
    numeric variable typed integer whose values are not all whole (VISITNUM 3.01 of an
    unscheduled visit, SDTMIG 3.4 section 4.4.5) is float."""
    changed = []
    for v in ds.variables:
        if v.type == "Num" and v.data_type == "integer" and v.name in frame.columns:
            values = pd.to_numeric(frame[v.name], errors="coerce").dropna()
            if (values % 1 != 0).any():
                v = replace(v, data_type="float")
        iso = v.type == "Char" and (
            v.name.endswith(ISO_SUFFIXES) or v.data_type in iso8601.DEFINE_ISO_TYPES
        )
        if iso and v.name in frame.columns:
            v = replace(v, data_type=iso8601.define_data_type(frame[v.name], v.name))
        changed.append(v)
    return replace(ds, variables=tuple(changed))


def data_type(name: str, sas_type: str) -> str:
    """Define-XML data type for an SDTM variable (ISO 8601 text: see with_value_types)."""
    if sas_type == "Char":
        return "datetime" if name.endswith(DATE_SUFFIXES) else "text"
    if name.endswith(INTEGER_NAMES) or name in ("AGE", "TSSEQ", "VISITNUM"):
        return "integer"
    return "float"


def ig_row(standard: str, version: str, dataset: str, name: str) -> dict | None:
    """The IG row of a variable; SUPP-- datasets use SUPPQUAL."""
    ds = "SUPPQUAL" if dataset.startswith("SUPP") else dataset
    return standards.ig_variable(standard, version, ds, name)


@lru_cache(maxsize=4)
def _timing_order() -> dict[str, int]:
    """SDTM model order of the general-observation timing variables (--DTC, VISITNUM ...)."""
    model = standards.model_variables()
    timing = model[(model["role"] == "Timing") & (model["cls"] == "General Observations")]
    return dict(zip(timing["variable"], timing["order"].astype(int), strict=True))


def _order_key(domain: str, var: str, ig_order: int, row: dict, pos: int) -> tuple:
    """IG order; timing variables (IG or model) in the SDTM model's timing order, after the
    others, so a model variable the IG table of the domain lacks (EX VISITNUM) finds its place."""
    generic = (
        "--" + var[len(domain) :] if var.startswith(domain) and len(var) > len(domain) else var
    )
    timing = _timing_order()
    if str(row.get("role", "")) == "Timing" and (generic in timing or var in timing):
        return (1, timing.get(generic, timing.get(var, 0)), pos)
    return (0, ig_order, pos)


def _sas_type(text: str, var: str, where: str) -> SasType:
    """The SAS type ``text`` names (the IG tables and the SDTM model say Char or Num)."""
    if text == "Char":
        return "Char"
    if text == "Num":
        return "Num"
    raise InputError(f"{where}: variable {var}: type {text!r} is neither Char nor Num")


def dataset_meta(
    standard: str,
    version: str,
    name: str,
    variables: list[str],
    overrides: dict[str, dict],
    keys: tuple[str, ...],
    where: str,
    locate: Callable[[str], str | None] | None = None,
) -> Dataset:
    """Dataset metadata for ``variables`` in IG order (non-IG model variables after);
    ``locate`` gives the spec file:line that declares a variable (else ``where``)."""
    table = _ig_datasets(standard, version)
    ig_name = "SUPPQUAL" if name.startswith("SUPP") else name
    if ig_name not in table.index:
        raise InputError(f"{where}: dataset {name} is not in {standard} {version}")
    info = table.loc[ig_name]
    rows = []
    for var in variables:
        row = ig_row(standard, version, name, var)
        ov = overrides.get(var, {})
        if row is None:
            if not standards.model_allows(str(info["cls"]), name, var):
                at = (locate(var) if locate is not None else None) or where
                raise InputError(
                    f"{at}: variable {var} is neither in {standard} {version} "
                    f"{name} nor allowed by the SDTM model for class {info['cls']}"
                )
            model = standards.model_variables()
            generic = var.replace(name, "--", 1) if var.startswith(name) else var
            hit = model[model["variable"] == generic]
            row = {
                "label": ov.get("label") or (hit.iloc[0]["label"] if len(hit) else var),
                "type": hit.iloc[0]["type"] if len(hit) else "Char",
                "order": 9999,
                "core": "Perm",
                "role": hit.iloc[0].get("role", "") if len(hit) else "",
                "codelist": "",
            }
        rows.append((int(row["order"]), var, row, ov))
    general = str(info["cls"]).upper() in GENERAL_CLASSES
    rows.sort(
        key=lambda r: (
            _order_key(name, r[1], r[0], r[2], variables.index(r[1]))
            if general
            else (r[0], variables.index(r[1]))
        )
    )
    out = []
    for pos, (_order, var, row, ov) in enumerate(rows, start=1):
        sas_type = str(ov.get("type") or row["type"])
        key_seq = keys.index(var) + 1 if var in keys else None
        out.append(
            Variable(
                name=var,
                label=str(ov.get("label") or row["label"]),
                type=_sas_type(sas_type, var, where),
                order=pos,
                data_type=str(ov.get("data_type") or data_type(var, sas_type)),
                length=ov.get("length"),
                core=str(row.get("core") or "Perm"),
                role=str(row.get("role") or ""),
                codelist=(ov["codelist"] or None)
                if "codelist" in ov
                else (str(row.get("codelist")) or None),
                format=ov.get("format"),
                origin=str(ov.get("origin") or "Collected"),
                source=ov.get("source"),
                method=ov.get("method"),
                comment=ov.get("comment"),
                significant_digits=ov.get("significant_digits"),
                key_sequence=key_seq,
                pages=tuple(ov.get("pages") or ()),
            )
        )
    label = str(info["label"])
    if name.startswith("SUPP"):  # SDTMIG 8.4.1: "Supplemental Qualifiers for [domain name]"
        label = f"Supplemental Qualifiers for {name[4:]}"
    return Dataset(
        name=name,
        label=label,
        cls=str(info["cls"]),
        structure=str(info["structure"]),
        standard=f"{standard} {version}",
        purpose="Tabulation",
        keys=keys,
        variables=tuple(out),
        parent=name[4:] if name.startswith("SUPP") else None,
    )
