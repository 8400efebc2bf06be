"""Metadata for datasets that arrive without a spec (e.g. a folder of XPT files).

Names, types, labels and lengths come from the data (or the file's own header); core,
codelist and class come from the bundled IG, so the engine checks the data against the IG.
"""

from __future__ import annotations

import pandas as pd

from cdisc_umsc.metadata import standards as S
from cdisc_umsc.metadata.model import Dataset, Study, Variable

_ADSL_CLASS = "SUBJECT LEVEL ANALYSIS DATASET"
_BDS_CLASS = "BASIC DATA STRUCTURE"
_RESULTS = ("ORRES", "STRESC")


def _ig_place(name: str, frame: pd.DataFrame) -> tuple[str, str, str, str]:
    """(standard, version, IG table, class) for a dataset name; table "" when not in the IG."""
    if name.startswith("AD"):
        version = S.versions()["ADaMIG"]
        if name == "ADSL":
            return "ADaMIG", version, "ADSL", _ADSL_CLASS
        if "PARAMCD" in frame.columns:
            return "ADaMIG", version, "BDS", _BDS_CLASS
        return "ADaMIG", version, "", ""
    version = S.versions()["SDTMIG"]
    table = S.ig_datasets("SDTMIG", version)
    for cand in (name, "SUPPQUAL" if name.startswith("SUPP") else "", name[:2]):
        hit = table.loc[table["dataset"] == cand, "cls"]
        if len(hit):
            return "SDTMIG", version, cand, str(hit.iloc[0])
    return "SDTMIG", version, "", ""


def dataset_from_ig(name: str, frame: pd.DataFrame, described: Dataset | None = None) -> Dataset:
    """Dataset metadata for `frame`: the file's own description merged with IG core / codelist."""
    name = name.upper()
    standard, version, table, cls = _ig_place(name, frame)
    variables = []
    for i, col in enumerate(frame.columns, start=1):
        own = described.var(col) if described is not None and described.has(col) else None
        ig = S.ig_variable(standard, version, table, col) if table else None
        numeric = pd.api.types.is_numeric_dtype(frame[col].dtype)
        code = (ig or {}).get("codelist", "")
        if col.endswith(_RESULTS):
            code = ""  # result codelists apply per test (value-level metadata), not per column
        variables.append(
            Variable(
                name=col,
                label=own.label if own else (ig or {}).get("label", ""),
                type=own.type if own else ("Num" if numeric else "Char"),
                order=i,
                data_type="float" if numeric else "text",
                length=own.length if own and own.type == "Char" else None,
                core=(ig or {}).get("core", "Perm")
                if (ig or {}).get("core") in ("Req", "Exp", "Perm", "Cond")
                else "Perm",
                role=(ig or {}).get("role", ""),
                codelist=code if code.startswith("C") and code[1:].isdigit() else None,
            )
        )
    keys = S.ig_keys(table, version) if standard == "SDTMIG" and table else ()
    return Dataset(
        name=name,
        keys=keys if set(keys) <= set(frame.columns) else (),  # IG natural keys (SD0010)
        label=described.label if described else "",
        cls=cls,
        structure="",
        standard=standard,
        purpose="Analysis" if standard == "ADaMIG" else "Tabulation",
        variables=tuple(variables),
    )


def declared_ig(frames: dict[str, pd.DataFrame]) -> str:
    """The SDTMIG version TS declares (TSPARMCD 'SDTIGVER', e.g. '3.2'), or ''."""
    ts = frames.get("TS")
    if ts is None or not {"TSPARMCD", "TSVAL"} <= set(ts.columns):
        return ""
    vals = ts.loc[ts["TSPARMCD"].astype(str) == "SDTIGVER", "TSVAL"].astype(str).str.strip()
    if not len(vals):
        return ""
    text = vals.iloc[0].upper().replace("SDTMIG", "").replace("SDTM IG", "").strip(" V")
    return text


def study_from_ig(
    frames: dict[str, pd.DataFrame],
    described: dict[str, Dataset] | None = None,
    study_id: str = "",
    *,
    ig_version: str = "",
    ct_version: str = "",
) -> Study:
    """A Study whose datasets are described by :func:`dataset_from_ig`; ``ig_version`` and
    ``ct_version`` are the versions the study declares (default: the bundled ones)."""
    described = {k.upper(): v for k, v in (described or {}).items()}
    datasets = {
        n.upper(): dataset_from_ig(n, f, described.get(n.upper())) for n, f in frames.items()
    }
    return Study(
        study_id=study_id,
        standard="SDTMIG",
        standard_version=ig_version or S.versions()["SDTMIG"],
        ct_version=ct_version or S.versions()["SDTM CT"],
        datasets=datasets,
    )
