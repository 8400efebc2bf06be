"""The schema layer: a pandera DataFrameSchema generated from the metadata, run lazily.

Char columns hold text ("" for blank, never null) of at most min(200, declared length) bytes;
Num columns are float64 (NaN = null). Codelist membership is not part of the schema: the CT
rules (UMSC-CT0001/CT0003, :mod:`cdisc_umsc.validate.checks_ct`) report each value outside its
codelist once, with the codelist named and numeric findings results exempt (SDTMIG 3.4 4.5.1).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cdisc_umsc.metadata.model import Dataset, Variable
from cdisc_umsc.validate.catalogue import check
from cdisc_umsc.validate.checks_structure import MAX_CHAR_BYTES
from cdisc_umsc.validate.context import Context, _hasnans, as_text, nbytes

if TYPE_CHECKING:  # pandera (0.3 s to import) is loaded only for a dataset it must judge
    import pandera.pandas as pa

Hits = Iterator[pd.DataFrame]


def _is_text(series: pd.Series) -> pd.Series | bool:
    """True for str values (and nulls, which the nullable check reports)."""
    if isinstance(series.dtype, pd.StringDtype):
        return True
    if pd.api.types.infer_dtype(series, skipna=True) in ("string", "empty"):
        return True
    return series.isna() | (series.astype(str) == series)


def _char_checks(var: Variable, sizes: Callable[[], pd.Series]) -> list[pa.Check]:
    import pandera.pandas as pa

    limit = min(MAX_CHAR_BYTES, var.length or MAX_CHAR_BYTES)

    def within(s: pd.Series) -> pd.Series:
        known = sizes()  # the run's byte lengths of this column, when pandera passes it whole
        return (known if known.index.equals(s.index) else nbytes(s)) <= limit

    checks = [
        # NaN is reported by the nullable check; these two handle it, so pandera need not
        # drop it first (ignore_na=False saves a scan of every column)
        pa.Check(
            _is_text, name="is_text", error=f"{var.name} values must be text", ignore_na=False
        ),
        pa.Check(
            within,
            ignore_na=False,
            name=f"max_bytes({limit})",
            error=f"{var.name} exceeds {limit} bytes",
        ),
    ]
    return checks


def _sizes(ctx: Context, name: str, variable: str) -> Callable[[], pd.Series]:
    return lambda: (
        ctx.nbytes(name, variable)
        if variable in ctx.datasets.get(name, ())
        else pd.Series(dtype="int64")
    )


def build_schema(ctx: Context, meta: Dataset) -> pa.DataFrameSchema:
    """The DataFrameSchema of one dataset from its metadata (Req variables are required)."""
    import pandera.pandas as pa

    columns: dict[str, pa.Column] = {}
    for var in meta.variables:
        if var.type == "Char":
            columns[var.name] = pa.Column(
                None,
                nullable=False,
                required=var.core == "Req",
                checks=_char_checks(var, _sizes(ctx, meta.name, var.name)),
            )
        else:
            columns[var.name] = pa.Column(
                "float64",
                nullable=True,
                required=var.core == "Req",
            )
    return pa.DataFrameSchema(columns, name=meta.name, strict=False, ordered=False)


def failures_to_hits(name: str, cases: pd.DataFrame) -> pd.DataFrame:
    """pandera failure cases -> hit rows (dataset, row, variable, value, message)."""
    column = cases["column"].astype(object).where(cases["column"].notna(), "")
    missing = cases["check"] == "column_in_dataframe"
    variable = column.where(~missing, cases["failure_case"].astype(object))
    index = pd.to_numeric(cases["index"], errors="coerce")
    value = as_text(cases["failure_case"].astype(object))
    message = (
        "pandera "
        + cases["schema_context"].astype(str)
        + " check "
        + cases["check"].astype(str)
        + " failed"
    )
    return pd.DataFrame(
        {
            "dataset": name,
            "row": index.fillna(-1).astype("int64").to_numpy(),
            "variable": variable.astype(str).to_numpy(),
            "value": np.where(missing, "", value.to_numpy()),
            "message": message.to_numpy(),
        }
    )


def _clearly_valid(ctx: Context, name: str, frame: pd.DataFrame, meta: Dataset) -> bool:
    """Whether the schema of `meta` can find nothing in `frame`, told from the run's facts
    about each column (pandera is asked only otherwise: its report is the same either way)."""
    if not frame.columns.is_unique:
        return False
    for var in meta.variables:
        if var.name not in frame.columns:
            if var.core == "Req":
                return False
            continue
        series = frame[var.name]
        if var.type != "Char":
            if series.dtype != np.float64:
                return False
            continue
        if isinstance(series.dtype, pd.StringDtype):
            if _hasnans(series):
                return False
        elif series.dtype != object or pd.api.types.infer_dtype(series, skipna=False) != "string":
            return False
        limit = min(MAX_CHAR_BYTES, var.length or MAX_CHAR_BYTES)
        if len(series) and int(ctx.nbytes(name, var.name).max()) > limit:
            return False
    return True


@check("UMSC-PA0001")
def schema_valid(ctx: Context, name: str, frame: pd.DataFrame, meta: Dataset | None) -> Hits:
    if meta is None or _clearly_valid(ctx, name, frame, meta):
        return
    import pandera.pandas as pa

    try:
        build_schema(ctx, meta).validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        yield failures_to_hits(name, exc.failure_cases)
