"""Write one dataset as CDISC Dataset-JSON 1.1 (``.json``) or its NDJSON form (``.ndjson``).

Implements the CDISC Dataset-JSON v1.1 specification (2024-12-05): top-level attributes in the
documented order (§ Top-level Metadata Attributes), column metadata (§ Column Metadata), the
supported dataType / targetDataType combinations (§ Supported Column Data Type Combinations),
ADaM numeric dates as ISO 8601 strings with targetDataType "integer" (§ Date/Time Variables),
null for missing values (§ Row Data) and the NDJSON layout (§ NDJSON Representation).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

import numpy as np
import pandas as pd

from cdisc_umsc.core.atomic import atomic_file
from cdisc_umsc.core.errors import WriteError
from cdisc_umsc.core.formats import (
    CREATED_RE,
    DATASET_JSON_VERSION,
    MAX_DAY,
    MAX_EXACT_INT,
    MIN_DAY,
    SAS_EPOCH_D,
    SAS_EPOCH_S,
)
from cdisc_umsc.metadata.model import Dataset, Study, Variable

#: Rows converted and encoded per step; bounds the memory held as Python objects.
CHUNK_ROWS = 50_000

#: Allowed whole units [low, high) of dates (days), datetimes (seconds) and times (seconds).
_LIMITS = {
    "date": (MIN_DAY, MAX_DAY + 1),
    "datetime": (MIN_DAY * 86400, (MAX_DAY + 1) * 86400),
    "time": (0, 86400),
}

#: Define-XML data types of character variables that Dataset-JSON types as dates/times.
_CHAR_TIMING = {
    "date": "date",
    "partialDate": "date",
    "datetime": "datetime",
    "partialDatetime": "datetime",
    "incompleteDatetime": "datetime",
    "time": "time",
    "partialTime": "time",
    "URI": "URI",
}
#: SAS display formats (name without width) whose numeric values are dates, datetimes, times.
_SAS_FORMAT_KIND = {
    **dict.fromkeys(
        "DATE DDMMYY DDMMYYB DDMMYYC DDMMYYD DDMMYYN DDMMYYP DDMMYYS MMDDYY MMDDYYB MMDDYYC "
        "MMDDYYD MMDDYYN MMDDYYP MMDDYYS YYMMDD YYMMDDB YYMMDDC YYMMDDD YYMMDDN YYMMDDP "
        "YYMMDDS E8601DA IS8601DA B8601DA WORDDATE WORDDATX WEEKDATE WEEKDATX MONYY MMYY YYMM "
        "YYQ JULIAN NLDATE EURDFDE".split(),
        "date",
    ),
    **dict.fromkeys(
        "DATETIME E8601DT IS8601DT B8601DT E8601DZ DATEAMPM NLDATM MDYAMPM".split(), "datetime"
    ),
    **dict.fromkeys(
        "TIME TOD HHMM HOUR MMSS E8601TM IS8601TM B8601TM TIMEAMPM NLTIME".split(), "time"
    ),
}


def item_group_oid(dataset: str) -> str:
    """ItemGroupDef OID of a dataset, shared with define.xml."""
    return f"IG.{dataset}"


def item_oid(dataset: str, variable: str) -> str:
    """ItemDef OID of a dataset variable, shared with define.xml."""
    return f"IT.{dataset}.{variable}"


def study_oid(study: Study) -> str:
    """Study OID, shared with define.xml."""
    return f"STUDY.{study.study_id}"


def metadata_version_oid(study: Study) -> str:
    """MetaDataVersion OID, shared with define.xml."""
    return f"MDV.{study.study_id}.{study.standard}.{study.standard_version}"


def sas_format_kind(fmt: str | None) -> str | None:
    """'date', 'datetime' or 'time' when a SAS format displays that kind of value, else None."""
    if not fmt:
        return None
    name = re.sub(r"[0-9]*(\.[0-9]*)?$", "", fmt.strip().upper())
    return _SAS_FORMAT_KIND.get(name)


def column_types(var: Variable) -> tuple[str, str | None]:
    """(dataType, targetDataType) of a variable per the spec's combinations table."""
    if var.type == "Char":
        return _CHAR_TIMING.get(var.data_type, "string"), None
    kind = var.data_type if var.data_type in ("date", "datetime", "time") else None
    kind = kind or sas_format_kind(var.format)
    if kind:
        return kind, "integer"  # § Date/Time Variables: ADaM numeric dates
    if var.data_type == "integer":
        return "integer", None
    # SAS numerics are IEEE doubles; the shortest round-trip repr keeps them exact.
    return "double", None


@dataclass
class _Column:
    """One column ready to encode: its values, which rows are null, and its metadata."""

    values: np.ndarray
    null: np.ndarray | None
    meta: dict[str, object]

    def chunk(self, start: int, stop: int) -> list[object]:
        """Python values of rows [start, stop), None where missing."""
        vals = self.values[start:stop]
        if self.null is not None:
            null = self.null[start:stop]
            if null.any():
                vals = vals.astype(object)
                vals[null] = None
        return vals.tolist()


def _fail(ds: str, var: str, rows: np.ndarray, what: str) -> WriteError:
    """A one-line error naming dataset, first bad row (1-based), variable and expectation."""
    row = int(np.flatnonzero(rows)[0]) + 1
    return WriteError(f"Dataset-JSON {ds}: row {row}, variable {var}: {what}")


def _numeric(ds: str, var: str, col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """float64 values and null mask of a numeric column; rejects non-numeric and inf."""
    if pd.api.types.is_bool_dtype(col) or not pd.api.types.is_numeric_dtype(col):
        raise WriteError(
            f"Dataset-JSON {ds}: variable {var}: expected a numeric column, got dtype {col.dtype}"
        )
    vals = col.to_numpy(dtype=np.float64, na_value=np.nan)
    null = np.isnan(vals)
    if np.isinf(vals).any():
        raise _fail(ds, var, np.isinf(vals), "infinite value has no JSON representation")
    return vals, null


def _seconds(ds: str, var: str, kind: str, col: pd.Series) -> tuple[np.ndarray, ...]:
    """Whole seconds (days for dates), microseconds and null mask of a date/time column.

    Numeric columns hold SAS values (days or seconds since 1960-01-01, seconds since midnight)
    and must be exact at the microsecond: the reader rebuilds ``whole + micro / 1e6``.
    Naive datetime64 columns are accepted for dates and datetimes.
    """
    if kind != "time" and col.dtype.kind == "M":
        stamps = col.to_numpy()
        null = np.isnat(stamps)
        micros = stamps.astype("datetime64[us]")
        finer = (micros.astype(stamps.dtype) != stamps) & ~null
        if finer.any():
            raise _fail(ds, var, finer, "timestamp finer than a microsecond")
        n = (micros - SAS_EPOCH_S.astype("datetime64[us]")).astype(np.int64)
        whole, micro = np.where(null, 0, n // 1_000_000), np.where(null, 0, n % 1_000_000)
        if kind == "date":
            bad = (micro != 0) | (whole % 86400 != 0)
            if bad.any():
                raise _fail(ds, var, bad, "date holds a time of day")
            whole = whole // 86400
        _check_range(ds, var, kind, whole)
        return whole, micro, null
    vals, null = _numeric(ds, var, col)
    v = np.where(null, 0.0, vals)
    whole = np.floor(v)
    micro = np.round((v - whole) * 1e6).astype(np.int64)
    carry = micro == 1_000_000
    whole, micro = whole + carry, np.where(carry, 0, micro)
    bad = (whole + micro / 1e6 != v) | ((micro != 0) & (kind == "date"))
    if bad.any():
        unit = "a whole day" if kind == "date" else "exact to the microsecond"
        raise _fail(ds, var, bad, f"SAS {kind} value must be {unit}")
    _check_range(ds, var, kind, whole)
    return whole.astype(np.int64), micro, null


def _check_range(ds: str, var: str, kind: str, whole: np.ndarray) -> None:
    """Dates and datetimes in years 0001-9999 (four-digit ISO 8601 years); times within a day."""
    low, high = _LIMITS[kind]
    bad = (whole < low) | (whole >= high)
    if bad.any():
        span = "0 to 86399 seconds" if kind == "time" else "years 0001-9999"
        raise _fail(ds, var, bad, f"SAS {kind} outside {span}")


def _iso(ds: str, var: str, kind: str, col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """ISO 8601 strings of a SAS numeric date/datetime/time column (§ Date/Time Variables)."""
    whole, micro, null = _seconds(ds, var, kind, col)
    if kind == "date":
        return np.datetime_as_string(SAS_EPOCH_D + whole.astype("timedelta64[D]"), unit="D"), null
    text = np.datetime_as_string(SAS_EPOCH_S + whole.astype("timedelta64[s]"), unit="s")
    if kind == "time":
        text = np.strings.slice(text, 11, None)
    if micro.any():  # ".ffffff" without trailing zeros, only where there is a fraction
        frac = np.strings.rstrip(np.strings.slice((micro + 1_000_000).astype(str), 1, None), "0")
        text = np.where(micro != 0, np.strings.add(np.strings.add(text, "."), frac), text)
    return text, null


def _strings(ds: str, var: Variable, col: pd.Series) -> tuple[np.ndarray, int]:
    """Object array of str/None and the length to declare; checks type and declared length."""
    if not isinstance(col.dtype, pd.StringDtype):
        kind = pd.api.types.infer_dtype(col, skipna=True)
        if kind not in ("string", "empty"):
            raise WriteError(
                f"Dataset-JSON {ds}: variable {var.name}: expected character values, got {kind}"
            )
    # The ignores: the stubs refuse None as pandas' na_value and as a numpy operand.
    values = col.to_numpy(dtype=object, na_value=None)  # type: ignore[call-overload]
    where = np.flatnonzero(~np.equal(values, None))  # type: ignore[call-overload]
    present = values[where].tolist()
    chars = np.fromiter(map(len, present), np.int64, len(present))
    joined = "".join(present)
    nbytes = chars
    if not joined.isascii():
        try:
            joined.encode("utf-8")
        except UnicodeEncodeError as exc:
            row = np.zeros(len(values), bool)
            row[where[np.searchsorted(np.cumsum(chars), exc.start, side="right")]] = True
            raise _fail(
                ds, var.name, row, "unpaired surrogate cannot be written as UTF-8"
            ) from None
        nbytes = np.fromiter(map(len, map(str.encode, present)), np.int64, len(present))
    if var.length is not None:
        over = np.zeros(len(values), bool)
        over[where] = chars > var.length
        if over.any():
            raise _fail(ds, var.name, over, f"value longer than declared length {var.length}")
        return values, var.length
    # FDA TCG 4.1.5: the length of the longest value, in UTF-8 bytes (>= characters)
    return values, max(int(nbytes.max(initial=0)), 1)


def _column(ds: str, var: Variable, col: pd.Series) -> _Column:
    """Validate one frame column against its variable and prepare it for encoding."""
    data_type, target = column_types(var)
    meta: dict[str, object] = {
        "itemOID": item_oid(ds, var.name),
        "name": var.name,
        "label": var.label,
        "dataType": data_type,
    }
    if target:
        meta["targetDataType"] = target
    null: np.ndarray | None = None
    if var.type == "Char":
        values, meta["length"] = _strings(ds, var, col)
    elif target:
        values, null = _iso(ds, var.name, data_type, col)
    elif data_type == "integer":
        values, null = _numeric(ds, var.name, col)
        fits = (values == np.floor(values)) & (np.abs(values) < MAX_EXACT_INT)
        bad = ~(fits | null)
        if bad.any():
            raise _fail(ds, var.name, bad, "expected an integer below 2**53 in magnitude")
        values = np.where(null, 0, values).astype(np.int64)
    else:
        values, null = _numeric(ds, var.name, col)
    if var.format:
        meta["displayFormat"] = var.format
    if var.key_sequence is not None:
        meta["keySequence"] = var.key_sequence
    return _Column(values, null, meta)


def _header(
    dataset: Dataset,
    study: Study,
    records: int,
    columns: list[_Column],
    created: str,
    source_system: dict | None,
    define_path: str | None,
) -> dict[str, object]:
    """Top-level attributes in the order of § Top-level Metadata Attributes."""
    if not isinstance(created, str) or not CREATED_RE.fullmatch(created):
        raise WriteError(
            f"Dataset-JSON {dataset.name}: created {created!r} is not YYYY-MM-DDThh:mm:ss"
        )
    head: dict[str, object] = {
        "datasetJSONCreationDateTime": created,
        "datasetJSONVersion": DATASET_JSON_VERSION,
    }
    if source_system is not None:
        if set(source_system) != {"name", "version"} or not all(
            isinstance(v, str) for v in source_system.values()
        ):
            raise WriteError(
                f"Dataset-JSON {dataset.name}: source_system must hold exactly the strings "
                f"'name' and 'version', got {source_system!r}"
            )
        head["sourceSystem"] = {"name": source_system["name"], "version": source_system["version"]}
    head["studyOID"] = study_oid(study)
    head["metaDataVersionOID"] = metadata_version_oid(study)
    if define_path is not None:
        head["metaDataRef"] = define_path
    head.update(
        itemGroupOID=item_group_oid(dataset.name),
        records=records,
        name=dataset.name,
        label=dataset.label,
        columns=[c.meta for c in columns],
    )
    return head


def _prepare(df: pd.DataFrame, dataset: Dataset) -> list[_Column]:
    """Columns in variable order, after checking the frame holds exactly the variables."""
    names = dataset.names
    missing = [n for n in names if n not in df.columns]
    extra = [str(c) for c in df.columns if c not in set(names)]
    if missing or extra or df.columns.has_duplicates:
        raise WriteError(
            f"Dataset-JSON {dataset.name}: frame columns do not match the metadata "
            f"(missing {missing}, unexpected {extra}, duplicated {df.columns.has_duplicates})"
        )
    if not dataset.name:
        raise WriteError("Dataset-JSON: dataset name must not be empty")
    if len(set(names)) != len(names):
        raise WriteError(f"Dataset-JSON {dataset.name}: metadata lists a variable twice")
    for v in dataset.variables:
        bad = [
            what
            for what, wrong in (
                ("name must be non-empty", not v.name),
                ("label must be a string", not isinstance(v.label, str)),
                ("type must be Char or Num", v.type not in ("Char", "Num")),
                ("length must be >= 1", v.length is not None and v.length < 1),
                ("key_sequence must be >= 1", v.key_sequence is not None and v.key_sequence < 1),
            )
            if wrong
        ]
        if bad:
            raise WriteError(f"Dataset-JSON {dataset.name}: variable {v.name!r}: {bad[0]}")
    return [_column(dataset.name, v, df[v.name]) for v in dataset.variables]


def _write_body(
    out: BinaryIO, columns: list[_Column], records: int, fmt: str, encode: Callable[[object], str]
) -> None:
    """Encode the rows chunk by chunk: records are built column-wise then zipped."""
    sep = ""
    for start in range(0, records, CHUNK_ROWS):
        stop = min(start + CHUNK_ROWS, records)
        rows = list(zip(*(c.chunk(start, stop) for c in columns), strict=True))
        if not columns:
            rows = [()] * (stop - start)
        if fmt == "ndjson":
            out.write(("\n".join(map(encode, rows)) + "\n").encode("utf-8"))
        else:
            out.write((sep + encode(rows)[1:-1]).encode("utf-8"))
            sep = ","


def write_datasetjson(
    path: str | os.PathLike[str],
    df: pd.DataFrame,
    dataset: Dataset,
    study: Study,
    *,
    created: str,
    fmt: Literal["json", "ndjson"] = "json",
    source_system: dict | None = None,
    define_path: str | None = "define.xml",
) -> None:
    """Write ``df`` as Dataset-JSON 1.1 to ``path`` (deterministic bytes, atomic replace)."""
    path = Path(path)
    if fmt not in ("json", "ndjson"):
        raise WriteError(
            f"Dataset-JSON {dataset.name}: fmt must be 'json' or 'ndjson', not {fmt!r}"
        )
    if path.suffix.lower() != f".{fmt}":
        raise WriteError(f"Dataset-JSON {dataset.name}: {path} must end in .{fmt} for fmt={fmt!r}")
    columns = _prepare(df, dataset)
    records = len(df)
    head = _header(dataset, study, records, columns, created, source_system, define_path)
    encode = json.JSONEncoder(
        ensure_ascii=False, separators=(",", ":"), allow_nan=False, check_circular=False
    ).encode
    try:  # § NDJSON: line 1 the metadata, then one array per row
        first = encode(head) + "\n" if fmt == "ndjson" else encode(head)[:-1] + ',"rows":['
        first_bytes = first.encode("utf-8")
    except UnicodeEncodeError:
        raise WriteError(
            f"Dataset-JSON {dataset.name}: a dataset or variable label, name or format holds "
            "an unpaired surrogate that UTF-8 cannot hold"
        ) from None
    with atomic_file(path) as out:
        out.write(first_bytes)
        _write_body(out, columns, records, fmt, encode)
        if fmt == "json":
            out.write(b"]}\n")
