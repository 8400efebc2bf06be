"""Read a CDISC Dataset-JSON 1.1 file (``.json`` or ``.ndjson``) into a frame and its metadata.

Checks the structure that the Dataset-JSON v1.1 specification and its JSON schema require
(top-level and column attributes, the dataType / targetDataType combinations, the JSON type of
every value) and turns ISO 8601 dates with targetDataType "integer" back into SAS numbers
(§ Date/Time Variables). Character columns come back as ``str``, numeric ones as float64.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from cdisc_umsc.core.errors import InputError
from cdisc_umsc.core.formats import CREATED_RE, MAX_EXACT_INT, SAS_EPOCH_D
from cdisc_umsc.metadata.model import Dataset, Variable

_VERSION_RE = re.compile(r"1\.1(\.(0|[1-9][0-9]*))?")
#: § Top-level Metadata Attributes: name -> (JSON types, required).
_TOP = {
    "datasetJSONCreationDateTime": ((str,), True),
    "datasetJSONVersion": ((str,), True),
    "fileOID": ((str,), False),
    "dbLastModifiedDateTime": ((str,), False),
    "originator": ((str,), False),
    "sourceSystem": ((dict,), False),
    "studyOID": ((str,), False),
    "metaDataVersionOID": ((str,), False),
    "metaDataRef": ((str,), False),
    "itemGroupOID": ((str,), True),
    "records": ((int,), True),
    "name": ((str,), True),
    "label": ((str,), True),
    "columns": ((list,), True),
    "rows": ((list,), False),
}
#: § Column Metadata: name -> (JSON types, required).
_COLUMN = {
    "itemOID": ((str,), True),
    "name": ((str,), True),
    "label": ((str,), True),
    "dataType": ((str,), True),
    "targetDataType": ((str,), False),
    "length": ((int,), False),
    "displayFormat": ((str,), False),
    "keySequence": ((int,), False),
}
#: § Supported Column Data Type Combinations: dataType -> allowed targetDataType values.
_COMBINATIONS: dict[str, set[str | None]] = {
    "string": {None},
    "integer": {None},
    "decimal": {"decimal", None},
    "float": {None},
    "double": {None},
    "boolean": {None},
    "datetime": {None, "integer"},
    "date": {None, "integer"},
    "time": {None, "integer"},
    "URI": {None},
}
_NONE = type(None)
_DATE = r"(?P<y>[0-9]{4})-(?P<mo>[0-9]{2})-(?P<d>[0-9]{2})"
_TIME = r"(?P<h>[0-9]{2}):(?P<mi>[0-9]{2})(?::(?P<s>[0-9]{2})(?P<f>\.[0-9]+)?)?"
_ISO_RE = {"date": _DATE, "datetime": f"{_DATE}T{_TIME}", "time": _TIME}
_DECIMAL_RE = r"[+-]?([0-9]{1,3}(,[0-9]{3})+|[0-9]+)(\.[0-9]*)?|[+-]?\.[0-9]+"


def _pairs(pairs: list[tuple[str, object]]) -> dict[str, object]:
    """JSON object hook that refuses duplicate keys."""
    out = dict(pairs)
    if len(out) != len(pairs):
        dup = next(k for i, (k, _) in enumerate(pairs) if k in dict(pairs[:i]))
        raise ValueError(f"duplicate key {dup!r}")
    return out


def _constant(name: str) -> None:
    """Refuse the non-standard NaN / Infinity literals."""
    raise ValueError(f"{name} is not valid JSON")


_DECODER = json.JSONDecoder(object_pairs_hook=_pairs, parse_constant=_constant)


def _loads(path: Path, text: str, where: str) -> object:
    """Parse one JSON text, naming file and place on failure."""
    try:
        return _DECODER.decode(text)
    except ValueError as exc:
        raise InputError(f"{path}: {where}: invalid JSON ({exc})") from None
    except RecursionError:
        raise InputError(f"{path}: {where}: {_TOO_DEEP}") from None


#: Dataset-JSON nests three levels (metadata, rows, a row); the parser stops far below the
#: interpreter's own limit on nesting, so a deeper file is an error, never a crash
_TOO_DEEP = "invalid JSON (arrays or objects nested too deeply for Dataset-JSON)"


def _check_object(path: Path, obj: object, spec: dict, where: str) -> None:
    """Required/allowed attributes and their JSON types."""
    if not isinstance(obj, dict):
        raise InputError(f"{path}: {where}: expected a JSON object, got {type(obj).__name__}")
    unknown = sorted(set(obj) - set(spec))
    if unknown:
        raise InputError(f"{path}: {where}: unknown attribute {unknown[0]!r}")
    for key, (types, required) in spec.items():
        if key not in obj:
            if required:
                raise InputError(f"{path}: {where}: required attribute {key!r} is missing")
            continue
        value = obj[key]
        if not isinstance(value, types) or isinstance(value, bool):
            raise InputError(
                f"{path}: {where}: {key} must be {types[0].__name__}, got {value!r:.60}"
            )


def _check_metadata(path: Path, meta: object) -> dict:
    """``meta``, validated against the Dataset-JSON 1.1 rules (top level and columns)."""
    _check_object(path, meta, _TOP, "metadata")
    assert isinstance(meta, dict)
    for key in ("datasetJSONCreationDateTime", "dbLastModifiedDateTime"):
        if key in meta and not CREATED_RE.fullmatch(meta[key]):
            raise InputError(f"{path}: metadata: {key} {meta[key]!r} is not an ISO 8601 datetime")
    if not _VERSION_RE.fullmatch(meta["datasetJSONVersion"]):
        raise InputError(
            f"{path}: metadata: datasetJSONVersion {meta['datasetJSONVersion']!r} is not 1.1.x"
        )
    if "sourceSystem" in meta:
        spec = {"name": ((str,), True), "version": ((str,), True)}
        _check_object(path, meta["sourceSystem"], spec, "sourceSystem")
    if meta["records"] < 0:
        raise InputError(f"{path}: metadata: records must be >= 0, got {meta['records']}")
    for key in ("itemGroupOID", "name"):
        if not meta[key]:
            raise InputError(f"{path}: metadata: {key} must not be empty")
    names: set[str] = set()
    for i, col in enumerate(meta["columns"], start=1):
        where = f"column {i}"
        _check_object(path, col, _COLUMN, where)
        where = f"column {i} ({col['name']})"
        if not col["name"] or not col["itemOID"]:
            raise InputError(f"{path}: {where}: name and itemOID must not be empty")
        if col["name"] in names:
            raise InputError(f"{path}: {where}: column name appears twice")
        names.add(col["name"])
        allowed = _COMBINATIONS.get(col["dataType"])
        if allowed is None:
            raise InputError(f"{path}: {where}: unknown dataType {col['dataType']!r}")
        if col.get("targetDataType") not in allowed:
            raise InputError(
                f"{path}: {where}: targetDataType {col.get('targetDataType')!r} is not allowed "
                f"with dataType {col['dataType']!r}"
            )
        if col["dataType"] == "boolean":
            raise InputError(f"{path}: {where}: boolean columns have no SAS/SDTM/ADaM equivalent")
        for key in ("length", "keySequence"):
            if key in col and col[key] < 1:
                raise InputError(f"{path}: {where}: {key} must be >= 1, got {col[key]}")
    return meta


def _load(path: Path) -> tuple[dict, list]:
    """Metadata object and row list of a .json or .ndjson file."""
    suffix = path.suffix.lower()
    if suffix not in (".json", ".ndjson"):
        raise InputError(f"{path}: expected a .json or .ndjson Dataset-JSON file")
    if path.exists() and not path.is_file():
        raise InputError(f"{path}: cannot read (not a regular file)")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 (byte offset {exc.start})") from None
    if suffix == ".json":
        meta = _check_metadata(path, _loads(path, text, "file"))
        rows = meta.pop("rows", [])
        return meta, rows
    # NDJSON: only LF ends a line (never str.splitlines); a CR before it is JSON whitespace.
    lines = text.split("\n")
    if lines[-1] in ("", "\r"):
        lines.pop()
    if not lines:
        raise InputError(f"{path}: line 1: empty file, expected the metadata object")
    meta = _check_metadata(path, _loads(path, lines[0], "line 1"))
    if "rows" in meta:
        raise InputError(f"{path}: line 1: NDJSON metadata must not hold 'rows'")
    try:
        rows = list(map(_DECODER.decode, lines[1:]))
    except (ValueError, RecursionError):
        bad = next(i for i, ln in enumerate(lines[1:], start=2) if not _is_json(ln))
        _loads(path, lines[bad - 1], f"line {bad}")
        raise  # pragma: no cover - _loads raised above
    return meta, rows


def _is_json(line: str) -> bool:
    """Whether one line parses (error path only)."""
    try:
        _DECODER.decode(line)
    except (ValueError, RecursionError):
        return False
    return True


def _bad_type(path: Path, name: str, col: tuple, allowed: tuple, what: str, nd: bool) -> None:
    """Raise naming the first value whose JSON type is not allowed (error path)."""
    i = next(i for i, v in enumerate(col) if type(v) not in allowed)
    raise InputError(f"{path}: {_place(i, nd)}, column {name}: expected {what}, got {col[i]!r:.40}")


def _place(i: int, nd: bool) -> str:
    """Where record i (0-based) sits: its NDJSON line or its 1-based row."""
    return f"line {i + 2}" if nd else f"row {i + 1}"


def _floats(strings: pd.Series) -> np.ndarray:
    """float64 of numeric strings, correctly rounded (Python's float), NaN where missing."""
    return strings.to_numpy(dtype=object, na_value="nan").astype(np.float64)


def _iso_to_sas(path: Path, name: str, kind: str, text: pd.Series, nd: bool) -> np.ndarray:
    """SAS numbers (days or seconds since 1960-01-01, seconds since midnight) of ISO strings."""
    null = text.isna().to_numpy()
    parts = text.str.extract(f"^{_ISO_RE[kind]}$")
    num = {c: _floats(parts[c]) for c in parts.columns if c != "f"}
    ok = null | ~np.isnan(num[parts.columns[0]])
    value = np.zeros(len(text))
    if kind != "date":
        sec = np.nan_to_num(num["s"])
        ok &= null | ((num["h"] < 24) & (num["mi"] < 60) & (sec < 60))
        value = num["h"] * 3600 + num["mi"] * 60 + sec
    if kind != "time":
        y, mo, d = (np.nan_to_num(num[k], nan=1).astype(np.int64) for k in ("y", "mo", "d"))
        month = ((y - 1970) * 12 + np.clip(mo, 1, 12) - 1).astype("datetime64[M]")
        day = month.astype("datetime64[D]") + (d - 1)
        ok &= null | ((mo >= 1) & (mo <= 12) & (d >= 1) & (day.astype("datetime64[M]") == month))
        days = (day - SAS_EPOCH_D).astype(np.int64).astype(np.float64)
        value = days if kind == "date" else days * 86400 + value
    if kind != "date":  # whole seconds first, then the fraction, as the writer checks
        value = value + _floats("0" + parts["f"].fillna(""))
    if not ok.all():
        i = int(np.flatnonzero(~ok)[0])
        raise InputError(
            f"{path}: {_place(i, nd)}, column {name}: expected an ISO 8601 {kind}, "
            f"got {text.iloc[i]!r}"
        )
    return np.where(null, np.nan, value)


def _convert(path: Path, col: dict, values: tuple, nd: bool) -> tuple[object, str, str]:
    """(column data, SAS type, Define-XML data type) of one column's JSON values."""
    name, dtype, target = col["name"], col["dataType"], col.get("targetDataType")
    types = set(map(type, values))
    if dtype in ("integer", "float", "double"):
        if not types <= {int, float, _NONE}:
            _bad_type(path, name, values, (int, float, _NONE), "a number or null", nd)
        obj = np.array(values, dtype=object)
        # The ignore: numpy's stubs refuse None as an operand; on object arrays it compares.
        obj[np.equal(obj, None)] = np.nan  # type: ignore[call-overload]
        try:
            num = obj.astype(np.float64)
        except OverflowError:
            num = np.full(len(obj), np.inf)  # reported below / as out of range
        bad = np.isinf(num)
        if dtype == "integer":
            bad |= ~np.isnan(num) & ((num != np.floor(num)) | (np.abs(num) >= MAX_EXACT_INT))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            what = "an integer below 2**53 in magnitude" if dtype == "integer" else "a double"
            raise InputError(
                f"{path}: {_place(i, nd)}, column {name}: expected {what}, got {values[i]!r:.40}"
            )
        return num, "Num", "integer" if dtype == "integer" else "float"
    if not types <= {str, _NONE}:
        _bad_type(path, name, values, (str, _NONE), "a string or null", nd)
    text = pd.Series(values, dtype="str")
    if dtype == "decimal":
        bad = ~(text.str.fullmatch(_DECIMAL_RE) | text.isna()).to_numpy(bool)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(
                f"{path}: {_place(i, nd)}, column {name}: expected a decimal string, "
                f"got {values[i]!r:.40}"
            )
        return _floats(text.str.replace(",", "")), "Num", "float"
    if target == "integer":
        return _iso_to_sas(path, name, dtype, text, nd), "Num", dtype
    length = col.get("length")
    if length is not None and max(map(len, filter(None, values)), default=0) > length:
        i = int(np.flatnonzero((text.str.len() > length).to_numpy(bool))[0])
        raise InputError(
            f"{path}: {_place(i, nd)}, column {name}: value of {len(values[i])} characters "
            f"exceeds length {length}"
        )
    return text, "Char", "text" if dtype == "string" else dtype


def read_datasetjson(path: str | os.PathLike[str]) -> tuple[pd.DataFrame, Dataset]:
    """Frame and Dataset metadata of a Dataset-JSON 1.1 file; InputError on any defect."""
    path = Path(path)
    meta, rows = _load(path)
    nd = path.suffix.lower() == ".ndjson"
    columns = meta["columns"]
    ncol = len(columns)
    if set(map(type, rows)) - {list}:
        _bad_type(path, "(row)", tuple(rows), (list,), f"an array of {ncol} values", nd)
    widths = np.fromiter(map(len, rows), np.int64, len(rows))
    if (widths != ncol).any():
        i = int(np.flatnonzero(widths != ncol)[0])
        raise InputError(f"{path}: {_place(i, nd)}: expected {ncol} values, got {widths[i]}")
    if len(rows) != meta["records"]:
        raise InputError(f"{path}: metadata: records is {meta['records']} but {len(rows)} rows")
    by_column = list(zip(*rows, strict=True)) if rows else [()] * ncol
    data: dict[str, object] = {}
    variables = []
    for i, (col, values) in enumerate(zip(columns, by_column, strict=True), start=1):
        data[col["name"]], sas_type, data_type = _convert(path, col, values, nd)
        variables.append(
            Variable(
                name=col["name"],
                label=col["label"],
                type=sas_type,  # type: ignore[arg-type]
                order=i,
                data_type=data_type,
                length=col.get("length"),
                format=col.get("displayFormat"),
                key_sequence=col.get("keySequence"),
            )
        )
    frame = pd.DataFrame(data, index=pd.RangeIndex(len(rows)))
    keyed = sorted((v.key_sequence, v.name) for v in variables if v.key_sequence is not None)
    dataset = Dataset(
        name=meta["name"],
        label=meta["label"],
        cls="",
        structure="",
        standard="",
        keys=tuple(name for _, name in keyed),
        variables=tuple(variables),
    )
    return frame, dataset
