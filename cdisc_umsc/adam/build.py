"""Assemble ADaM datasets from SDTM as the ADaM spec (mappings/<study>/adam/*.yaml) declares,
and give each its metadata: labels, types and order from ADaMIG 1.3 (and, for OCCDS, which
ADaMIG 1.3 does not tabulate, from the ADaM OCCDS v1.1 document's variables).

ADSL first (adsl.py), then BDS (bds.py) and OCCDS (occds.py) datasets in name order.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Literal

import numpy as np
import pandas as pd

from cdisc_umsc.adam.adsl import build_adsl
from cdisc_umsc.adam.bds import build_bds
from cdisc_umsc.adam.methods import describe_adam
from cdisc_umsc.adam.occds import build_occds
from cdisc_umsc.core.errors import InputError, located
from cdisc_umsc.core.progress import StepHook, no_steps
from cdisc_umsc.metadata import standards
from cdisc_umsc.metadata.model import Dataset, Variable
from cdisc_umsc.metadata.resolve import data_type as sdtm_data_type
from cdisc_umsc.metadata.resolve import with_value_types
from cdisc_umsc.metadata.specfile import SpecMap

__all__ = ["adam_meta", "build_adam", "build_adsl", "build_bds", "build_occds"]

DATE_FORMAT = "DATE9."
DATETIME_FORMAT = "DATETIME20."
#: ADaMIG identifier variables, always first (ADaMIG 1.3 section 3.1.1)
IDENTIFIERS = ("STUDYID", "USUBJID", "SUBJID", "SITEID")
#: ADaM OCCDS v1.1 section 2: the class name used in define.xml
OCCDS_CLASS = "OCCURRENCE DATA STRUCTURE"
STRUCTURES = ("ADSL", "BDS", "OCCDS")
#: No Yes Response (SDTM CT C66742), the codelist of ADaM flags
NY = "C66742"
_COMMON = {"dataset", "structure", "label", "records", "keys", "source", "metadata"}
#: The keys each kind of ADaM spec file may use (docs/spec-format.md, ADaM files)
SPEC_KEYS = {
    "ADSL": frozenset(_COMMON | {"where", "copy", "variables"}),
    "BDS": frozenset(
        _COMMON
        | {
            "where",
            "adsl",
            "parameters",
            "aval",
            "adt",
            "adtm",
            "ady",
            "avisit",
            "baseline",
            "change",
            "ranges",
            "ontrt",
            "carry",
            "extra_records",
            "derived_parameters",
            "checks",
            "primary",
            "criteria",
            "review",
        }
    ),
    "OCCDS": frozenset(_COMMON | {"copy", "adsl", "treatment", "dates", "trtemfl", "occurrence"}),
}


#: What each kind of ADaM spec must give, and why (a missing one is a file:line error)
REQUIRED = {
    "ADSL": {
        "label": "the dataset label",
        "keys": "the dataset keys",
        "copy": "DM variables copied",
    },
    "BDS": {
        "label": "the dataset label",
        "keys": "the dataset keys",
        "source": "the SDTM domain read",
        "adsl": "ADSL variables carried (TRTSDT at least)",
        "parameters": "the parameters",
        "aval": "the source variable of AVAL",
        "adt": "the source date of ADT",
    },
    "OCCDS": {
        "label": "the dataset label",
        "keys": "the dataset keys",
        "source": "the SDTM domain read",
        "copy": "source variables copied",
    },
}

_PLACEHOLDER = re.compile(r"(xx|zz|y|w)")


def _label(template_name: str, name: str, label: str) -> str:
    """ADaMIG template label with its placeholders (xx, y, zz) filled from the concrete name."""
    if template_name == name:
        return label
    pattern = "^" + _PLACEHOLDER.sub(lambda m: r"([0-9]+)", re.escape(template_name)) + "$"
    hit = re.match(pattern, name)
    if not hit:
        return label
    values = iter(hit.groups())
    return re.sub(r"\b(xx|zz|y|w)\b", lambda m: next(values, m.group(0)), label)


def _standard_row(
    spec: SpecMap, structure: str, var: str, in_use: standards.InUse
) -> tuple[dict | None, bool]:
    """(the standard's row for ``var``, whether it is the dataset's own structure's row)."""
    from_adsl = var in spec.get("adsl", []) or var in IDENTIFIERS
    own = "BDS" if structure == "OCCDS" else structure  # OCCDS timing variables as in BDS
    adamig = ("ADaMIG", in_use.adamig)
    row = None if from_adsl and structure != "ADSL" else standards.ig_variable(*adamig, own, var)
    if row is not None:
        return row, structure != "OCCDS"
    for std, version, ds in (
        (*adamig, "ADSL"),
        ("SDTMIG", in_use.sdtmig, str(spec.get("source", "DM"))),
        ("SDTMIG", in_use.sdtmig, "DM"),
    ):
        hit = standards.ig_variable(std, version, ds, var)
        if hit is not None:
            return hit, False
    return None, False


def _data_type(var: str, values: pd.Series) -> tuple[str, str | None]:
    """Define-XML data type and SAS format: *DT dates, *DTM date-times (ADaMIG 1.3 3.1.3);
    whole numbers as ADaM names them (*SEQ, *DY, *N codes, *FN flags) and as SDTM has them
    (AGE, VISITNUM, dictionary codes) when the values are whole."""
    if values.dtype.kind not in "fiu":
        return "text", None
    if var.endswith("DTM"):
        return "datetime", DATETIME_FORMAT
    if var.endswith("DT"):
        return "date", DATE_FORMAT
    if var.endswith(("SEQ", "DY", "N", "FN")):
        return "integer", None
    if sdtm_data_type(var, "Num") != "integer":  # float whatever the values
        return "float", None
    num = values.to_numpy(dtype="float64", na_value=np.nan)
    whole = bool((np.mod(num[np.isfinite(num)], 1) == 0).all())
    return ("integer" if whole else "float"), None


def _codelist(var: str, sas_type: str, row: dict) -> str | None:
    """The variable's codelist: the standard's, else NY (C66742) for a character flag
    (ADaMIG 1.3 section 3.1.4: *FL flags take Y/N or Y/null)."""
    code = str(row.get("codelist") or "") or None
    if code is None and sas_type == "Char" and var.endswith("FL"):
        return NY
    return code


def adam_meta(
    spec: SpecMap,
    frame: pd.DataFrame,
    study_codelists: dict,
    in_use: standards.InUse | None = None,
) -> Dataset:
    r"""Build the define.xml metadata of one ADaM dataset from the study's ADaMIG.

    Variables of the dataset's structure take their label, core and codelist from the
    ADaMIG, ADSL variables from ADSL, predecessors from the SDTMIG; others need a label under
    the spec's ``metadata:``. Origins and methods come from :func:`describe_adam`.

    Args:
        spec: the dataset's spec.
        frame: the derived dataset.
        study_codelists: the study's codelists (not read: codelists come from the ADaMIG).
        in_use: the standards versions the study uses; default ``None`` (the bundled ones).

    Returns:
        The ``Dataset`` metadata, variables in ADaMIG order after the identifiers.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> import pandas as pd
        >>> from cdisc_umsc.metadata.specfile import load_spec_file
        >>> tmp = tempfile.TemporaryDirectory()
        >>> path = Path(tmp.name) / "adsl.yaml"
        >>> _ = path.write_text(
        ...     "dataset: ADSL\nstructure: ADSL\nlabel: Subject-Level\n"
        ...     "keys: [STUDYID, USUBJID]\ncopy: [STUDYID, USUBJID, AGE]\n"
        ...     "variables:\n  SAFFL: {flag: {when: {AGE: {gt: 18}}}}\n")
        >>> adsl = pd.DataFrame({"STUDYID": ["S"], "USUBJID": ["S-1"], "AGE": [64.0],
        ...                      "SAFFL": ["Y"]})
        >>> meta = adam_meta(load_spec_file(path), adsl, {})
        >>> for v in meta.variables:
        ...     print(v.order, v.name, v.type, v.codelist, v.label, sep=" | ")
        1 | STUDYID | Char | None | Study Identifier
        2 | USUBJID | Char | None | Unique Subject Identifier
        3 | AGE | Num | None | Age
        4 | SAFFL | Char | C66742 | Safety Population Flag
        >>> tmp.cleanup()
    """
    in_use = in_use or standards.InUse()
    structure = str(spec["structure"])
    if structure not in STRUCTURES:
        raise InputError(
            f"{spec.where('structure')}: structure must be one of "
            f"{', '.join(STRUCTURES)}, not {structure!r}"
        )
    overrides = spec.get("metadata", {}) or {}
    said, levels = describe_adam(spec, frame)
    rows = []
    for pos, var in enumerate(frame.columns):
        row, own = _standard_row(spec, structure, var, in_use)
        ov = overrides.get(var, {}) or {}
        if row is None and not ov.get("label"):
            # at the spec line that derives it (file:line of Said.at), else the dataset's
            at = (said[var].at or spec.where()).partition(": ")[0]
            raise InputError(
                f"{at}: {var} is not an ADaMIG {in_use.adamig} {structure} or ADSL variable; "
                f"give its label under metadata: ({var}: {{label: ...}})"
            )
        use = row or {
            "label": ov.get("label"),
            "type": ov.get("type", "Char"),
            "order": 900,
            "core": "Perm",
            "codelist": "",
        }
        template = standards.adam_variable_pattern(var) or var
        order: float
        if var in IDENTIFIERS:
            order = IDENTIFIERS.index(var) - 100
        elif own:
            order = int(use["order"])
        elif structure == "ADSL":  # not an ADaMIG 1.3 ADSL variable: after them, in spec order
            order = 10_000 + pos
        else:  # ADSL and predecessor variables of a BDS/OCCDS: after the identifiers
            order = pos / 1000
        sas_type: Literal["Char", "Num"] = "Num" if frame[var].dtype.kind in "fiu" else "Char"
        data_type, fmt = _data_type(var, frame[var])
        label = str(ov.get("label") or _label(template, var, str(use["label"])))
        rows.append(
            (
                order,
                pos,
                Variable(
                    name=var,
                    label=label,
                    type=sas_type,
                    order=0,
                    data_type=data_type,
                    core=str(use.get("core") or "Perm"),
                    codelist=_codelist(var, sas_type, use),
                    format=fmt,
                    origin=said[var].origin,
                    source=said[var].source,
                    method=said[var].method,
                    spec_line=said[var].at,
                    comment=ov.get("comment"),
                    key_sequence=(list(spec["keys"]).index(var) + 1)
                    if var in spec["keys"]
                    else None,
                ),
            )
        )
    rows.sort(key=lambda r: (r[0], r[1]))
    variables = tuple(
        Variable(**{**v.__dict__, "order": i}) for i, (_o, _p, v) in enumerate(rows, start=1)
    )
    if structure == "OCCDS":
        cls, records = OCCDS_CLASS, "One record per subject per event"
    else:
        info = standards.ig_datasets("ADaMIG", in_use.adamig).set_index("dataset").loc[structure]
        cls, records = str(info["cls"]), str(info["structure"])
    return Dataset(
        name=str(spec["dataset"]),
        label=str(spec["label"]),
        cls=cls,
        structure=str(spec.get("records", records)),
        standard=f"ADaMIG {in_use.adamig}",
        purpose="Analysis",
        keys=tuple(str(k) for k in spec["keys"]),
        variables=variables,
        value_level=tuple(levels),
    )


def check_specs(adam_specs: Mapping[str, SpecMap]) -> None:
    """Check the ADaM spec files' structure and required keys before any data is read.

    ADSL must be declared with structure ADSL, every other dataset with BDS or OCCDS, and
    each spec may use only its structure's keys and must give the required ones.

    Args:
        adam_specs: ``dataset -> spec`` (see ``load_adam_specs``).

    Returns:
        None; a problem raises InputError naming the spec file and line.

    Example:
        >>> check_specs({})
        Traceback (most recent call last):
            ...
        cdisc_umsc.core.errors.InputError: ADaM spec: adsl.yaml (dataset: ADSL) is required
    """
    if "ADSL" not in adam_specs:
        raise InputError("ADaM spec: adsl.yaml (dataset: ADSL) is required")
    for name, spec in adam_specs.items():
        structure = str(spec.get("structure", ""))
        if structure not in STRUCTURES or (structure == "ADSL") != (name == "ADSL"):
            raise InputError(
                f"{spec.where('structure')}: {name}: structure "
                f"{structure!r} is not allowed here (ADSL for ADSL, else BDS or "
                "OCCDS)"
            )
        spec.only(SPEC_KEYS[structure], f"an ADaM {structure} spec")
        for key, what in REQUIRED[structure].items():
            if key not in spec:
                raise spec.error(None, f"{name}: an ADaM {structure} spec needs {key}: ({what})")


#: The builder of each dataset structure (ADSL: spec and SDTM; BDS, OCCDS: also ADSL).
_BUILDERS: dict[str, Callable[..., pd.DataFrame]] = {
    "ADSL": build_adsl,
    "BDS": build_bds,
    "OCCDS": build_occds,
}


def build_adam(
    adam_specs: Mapping[str, SpecMap],
    sdtm: Mapping[str, pd.DataFrame],
    study_codelists: dict | None = None,
    in_use: standards.InUse | None = None,
    step: StepHook = no_steps,
) -> tuple[dict[str, pd.DataFrame], dict[str, Dataset]]:
    r"""Derive every ADaM dataset the specs declare, with its define.xml metadata.

    ADSL first, then the others in name order; columns are put in metadata order.

    Args:
        adam_specs: ``dataset -> spec`` (see ``load_adam_specs``).
        sdtm: SDTM datasets by domain name.
        study_codelists: the study's codelists; default ``None`` (none).
        in_use: the standards versions the study uses; default ``None`` (the bundled ones).
        step: called as ``step(name, records)`` after each dataset is derived; default: no-op.

    Returns:
        ``(dataset -> frame, dataset -> Dataset metadata)``, ADSL first.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> import pandas as pd
        >>> from cdisc_umsc.metadata.specfile import load_spec_file
        >>> tmp = tempfile.TemporaryDirectory()
        >>> path = Path(tmp.name) / "adsl.yaml"
        >>> _ = path.write_text(
        ...     "dataset: ADSL\nstructure: ADSL\nlabel: Subject-Level\n"
        ...     "keys: [STUDYID, USUBJID]\ncopy: [STUDYID, USUBJID, AGE]\n"
        ...     "variables:\n  SAFFL: {flag: {when: {AGE: {gt: 18}}}}\n")
        >>> dm = pd.DataFrame({"STUDYID": ["S"] * 2, "USUBJID": ["S-1", "S-2"],
        ...                    "AGE": [64.0, 17.0]})
        >>> data, meta = build_adam({"ADSL": load_spec_file(path)}, {"DM": dm})
        >>> data["ADSL"].values.tolist(), meta["ADSL"].keys
        ([['S', 'S-1', 64.0, 'Y'], ['S', 'S-2', 17.0, 'N']], ('STUDYID', 'USUBJID'))
        >>> tmp.cleanup()
    """
    data: dict[str, pd.DataFrame] = {}
    meta: dict[str, Dataset] = {}
    check_specs(adam_specs)
    for name in ["ADSL", *sorted(set(adam_specs) - {"ADSL"})]:
        spec = adam_specs[name]
        structure = str(spec.get("structure", ""))
        builder = _BUILDERS[structure]
        args = (spec, sdtm) if name == "ADSL" else (spec, sdtm, data["ADSL"])
        with located(f"{spec.file}: {name}"):
            data[name] = builder(*args)
        step(f"derive {name}", len(data[name]))
    for name in sorted(adam_specs):
        meta[name] = with_value_types(
            adam_meta(adam_specs[name], data[name], study_codelists or {}, in_use), data[name]
        )
        data[name] = data[name][[v.name for v in meta[name].variables]]
    return {k: data[k] for k in ["ADSL", *sorted(set(data) - {"ADSL"})]}, {
        k: meta[k] for k in ["ADSL", *sorted(set(meta) - {"ADSL"})]
    }
