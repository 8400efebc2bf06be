"""SAS XPORT (v5 and v8) reader: the data as a DataFrame plus the file's own metadata.

The metadata object is built from the file's header (member name and label) and namestr
records (name, label, type, length, format) as ReadStat reports them; values of a one-member
v5 file are unpacked with numpy, anything else comes through pyreadstat (ReadStat).
"""

from __future__ import annotations

import codecs
import os
from collections.abc import Collection
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat

from cdisc_umsc.core.errors import InputError
from cdisc_umsc.metadata.model import Dataset, Variable

# Python codec name -> iconv name understood by ReadStat.
_ICONV = {"ascii": "ASCII", "cp1252": "WINDOWS-1252", "iso8859-1": "ISO-8859-1", "utf-8": "UTF-8"}


def _iconv_name(encoding: str) -> str:
    name = codecs.lookup(encoding).name
    return _ICONV.get(name, name.upper())


def _format(fmt: str | None) -> str | None:
    """ReadStat gives "DATE9" / "8.2"; the metadata spells SAS formats with their period."""
    if not fmt:
        return None
    return fmt if "." in fmt else fmt + "."


def read_xpt(
    path: str | os.PathLike[str],
    *,
    encoding: str = "ascii",
    columns: Collection[str] | None = None,
) -> tuple[pd.DataFrame, Dataset]:
    """Read an XPT v5/v8 file; text must be valid in `encoding` (an InputError names the
    variable, row and byte otherwise). Numbers stay numbers (no date conversion). With
    ``columns``, the frame holds only those of the file's variables (in file order) and only
    their values are decoded; the metadata describes every variable."""
    path = Path(path)
    codec = codecs.lookup(encoding).name
    try:
        data = _records(path)
        _v5_headers(path, data)  # malformed headers are named before ReadStat reads them
        _, meta = pyreadstat.read_xport(path, encoding=_iconv_name(codec), metadataonly=True)
        wanted = (
            meta.column_names if columns is None else [c for c in meta.column_names if c in columns]
        )
        df = _v5_values(path, data, meta.column_names, codec, wanted)
        if df is None:  # not a plain one-member v5 file, or text to diagnose: ReadStat reads it
            df, meta = pyreadstat.read_xport(
                path, encoding=_iconv_name(codec), disable_datetime_conversion=True
            )
            df = df if columns is None else df[[c for c in df.columns if c in columns]]
    except (pyreadstat.ReadstatError, UnicodeDecodeError) as exc:
        if "encoding" not in str(exc) and not isinstance(exc, UnicodeDecodeError):
            raise InputError(f"{path}: not a readable SAS XPORT file ({exc})") from exc
        _raise_bad_text(path, codec)
        raise  # pragma: no cover  (_raise_bad_text always raises)
    except (OSError, pyreadstat.PyreadstatError) as exc:
        raise InputError(f"{path}: cannot read SAS XPORT file ({exc})") from exc
    variables = []
    for i, name in enumerate(meta.column_names):
        is_char = meta.readstat_variable_types[name] == "string"
        variables.append(
            Variable(
                name=name,
                label=meta.column_names_to_labels.get(name) or "",
                type="Char" if is_char else "Num",
                order=i + 1,
                data_type="text" if is_char else "float",
                length=int(meta.variable_storage_width[name]),
                format=_format(meta.original_variable_types.get(name)),
            )
        )
    dataset = Dataset(
        name=meta.table_name or "",
        label=meta.file_label or "",
        cls="",
        structure="",
        standard="",
        variables=tuple(variables),
    )
    return df, dataset


_HEAD = b"HEADER RECORD*******"
#: SAS TS-140: every record is 80 bytes; a v5 member has at most 9999 variables
RECORD = 80
MAX_VARIABLES = 9999
_NAMESTR_SIZES = (136, 140)  # VAX/VMS and every other platform


def _records(path: Path) -> bytes:
    """The bytes of a regular file that is a whole number of 80-byte XPORT records and
    starts with a library header; an InputError says what is wrong otherwise (a file cut
    short ends inside a record, and is refused rather than read short)."""
    if not path.is_file():
        what = "no such file" if not path.exists() else "not a regular file"
        raise InputError(f"{path}: cannot read SAS XPORT file ({what})")
    data = path.read_bytes()
    if not data.startswith(_HEAD + b"LIB"):
        raise InputError(f"{path}: not a readable SAS XPORT file (no library header record)")
    if len(data) % RECORD:
        raise InputError(
            f"{path}: not a complete SAS XPORT file: {len(data)} bytes is not a whole number "
            f"of {RECORD}-byte records (the file is cut short or padded wrongly)"
        )
    return data


def _header_number(path: Path, data: bytes, start: int, end: int, what: str) -> int:
    """A decimal field of a header record; an InputError when it holds anything else."""
    field = data[start:end]
    if len(field) != end - start or not field.isdigit():
        shown = field.decode("ascii", "replace")
        raise InputError(f"{path}: header field {what} is {shown!r}, not a decimal number")
    return int(field)


_MISSING = np.zeros(256, dtype=bool)
_MISSING[[0x2E, 0x5F, *range(0x41, 0x5B)]] = True  # . ._ .A-.Z: SAS missing values


def _v5_headers(path: Path, data: bytes) -> tuple[int, int, int] | None:
    """Where a v5 file's namestr records start, their length and count (None for a v8
    file or one without those headers); an InputError for fields that are not numbers, a
    namestr length TS-140 does not know or more variables than the file has records for."""
    if not data.startswith(_HEAD + b"LIBRARY HEADER RECORD!!!!!!!"):
        return None
    member = data.find(_HEAD + b"MEMBER  HEADER RECORD!!!!!!!")
    names_at = data.find(_HEAD + b"NAMESTR HEADER RECORD!!!!!!!")
    if member < 0 or names_at < 0:
        return None
    size = _header_number(path, data, member + 74, member + 78, "namestr record length")
    nvar = _header_number(path, data, names_at + 54, names_at + 58, "number of variables")
    if size not in _NAMESTR_SIZES:
        raise InputError(f"{path}: header field namestr record length is {size}, not 140 (or 136)")
    if not 0 < nvar <= MAX_VARIABLES or names_at + 80 + nvar * size > len(data):
        raise InputError(
            f"{path}: header says {nvar} variables, but the file holds no namestr records "
            f"for them (at most {MAX_VARIABLES} in XPORT v5)"
        )
    return names_at, size, nvar


def _v5_values(
    path: Path, data: bytes, names: list[str], codec: str, wanted: list[str]
) -> pd.DataFrame | None:
    """The values of a one-member XPORT v5 file, vectorised over rows (SAS TS-140 layout:
    namestr records give each variable's type, length and offset in the fixed-width
    observation; numbers are IBM base-16 floats). None when the file is anything else or a
    text value does not decode, so that ReadStat reads (and diagnoses) it instead; an
    InputError when its headers are malformed or its last observation is cut short."""
    heads = _v5_headers(path, data)
    if heads is None:
        return None
    names_at, size, nvar = heads
    obs_at = data.find(_HEAD + b"OBS     HEADER RECORD!!!!!!!", names_at + 80 + nvar * size)
    if obs_at < 0 or nvar != len(names) or data.find(_HEAD + b"MEMBER", obs_at) >= 0:
        return None
    layout = []  # (name, numeric, length, offset) per variable: a loop over variables
    for i in range(nvar):
        rec = data[names_at + 80 + i * size : names_at + 80 + (i + 1) * size]
        layout.append(
            (
                rec[8:16].rstrip(b" ").decode("ascii", "replace"),
                int.from_bytes(rec[0:2], "big") == 1,
                int.from_bytes(rec[4:6], "big"),
                int.from_bytes(rec[84:88], "big"),
            )
        )
    width = max((off + n for _, _, n, off in layout), default=0)
    if [v[0] for v in layout] != list(names) or width == 0:
        return None
    body = np.frombuffer(data, dtype=np.uint8, offset=obs_at + 80)
    rows = len(body) // width
    # the member is padded with blanks to a multiple of 80 bytes: whole blank "rows" there
    # are padding (a row holding a number is never all blanks: a missing number starts ".")
    while (
        rows
        and (rows - 1) * width > len(body) - 80
        and (body[(rows - 1) * width : rows * width] == 32).all()
    ):
        rows -= 1
    if rows * width < len(body) - 80 or (body[rows * width :] != 32).any():
        raise InputError(
            f"{path}: not a complete SAS XPORT file: observation {rows + 1} is cut short "
            f"({len(body) - rows * width} of its {width} bytes)"
        )
    if not any(v[1] for v in layout):
        return None  # all-text rows: blank rows at the end may be data, ReadStat decides
    table = body[: rows * width].reshape(rows, width)
    out = {}
    keep = set(wanted)
    for name, numeric, n, off in layout:
        if name not in keep:
            continue
        cells = table[:, off : off + n]
        if numeric:
            out[name] = _ibm_to_ieee(cells)
            continue
        codes, first = _distinct_rows(cells)
        uniq = np.ascontiguousarray(cells[first]).view(f"S{n}").ravel()
        try:
            text = np.array([u.rstrip(b" ").decode(codec) for u in uniq] or [""], dtype=object)
        except UnicodeDecodeError:
            return None
        out[name] = text[codes] if len(codes) else np.array([], dtype=object)
    return pd.DataFrame(out, columns=list(wanted))


#: an odd 64-bit multiplier: mixes the 8-byte words of a text cell into one hash
_MIX = np.uint64(0x9E3779B97F4A7C15)


def _distinct_rows(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(code of each row, index of the first row of each code) for the fixed-width byte rows
    of a text variable, codes numbered in order of first appearance: rows are hashed 8 bytes
    at a time and grouped by hash, and every row is then compared with its group's first
    row, so rows share a code only when their bytes are equal (a hash collision falls back
    to grouping the bytes themselves)."""
    n = cells.shape[1]
    words = np.zeros((len(cells), -(-n // 8) * 8), dtype=np.uint8)
    words[:, :n] = cells
    packed = words.view("<u8")
    key = packed[:, 0].copy()
    with np.errstate(over="ignore"):
        for j in range(1, packed.shape[1]):  # one step per 8 bytes of the variable's length
            key = key * _MIX + packed[:, j]
    codes, _ = pd.factorize(key)
    first = _firsts(codes)
    if not (packed == packed[first[codes]]).all():
        codes, _ = pd.factorize(np.ascontiguousarray(cells).view(f"S{n}").ravel().astype(object))
        first = _firsts(codes)
    return codes.astype(np.intp), first


def _firsts(codes: np.ndarray) -> np.ndarray:
    """Index of the first row of each code, for codes numbered in order of first appearance
    (a code appears first where it exceeds every code before it)."""
    if not len(codes):
        return np.zeros(0, dtype=np.intp)
    return np.flatnonzero(np.r_[True, codes[1:] > np.maximum.accumulate(codes)[:-1]])


def _ibm_to_ieee(cells: np.ndarray) -> np.ndarray:
    """IBM hexadecimal floats (1-8 big-endian bytes per row) as float64; SAS missing -> NaN."""
    buf = np.zeros((len(cells), 8), dtype=np.uint8)
    buf[:, : cells.shape[1]] = cells
    word = buf.view(">u8").ravel().astype(np.uint64)
    frac = word & np.uint64(0x00FFFFFFFFFFFFFF)
    expo = ((word >> np.uint64(56)) & np.uint64(0x7F)).astype(np.int64)
    value = np.ldexp(frac.astype(np.float64), (4 * (expo - 64) - 56).astype(np.int32))
    value = np.where((word >> np.uint64(63)) == 1, -value, value)
    value[(frac == 0) & _MISSING[buf[:, 0]]] = np.nan
    return value


def _raise_bad_text(path: Path, codec: str) -> None:
    """Find the first value, label or name whose bytes are not valid in `codec` and say where."""
    df, meta = pyreadstat.read_xport(path, encoding="ISO-8859-1", disable_datetime_conversion=True)
    texts = {"dataset label": meta.file_label or "", "dataset name": meta.table_name or ""}
    for name in meta.column_names:
        texts[f"variable {name} label"] = meta.column_names_to_labels.get(name) or ""
    for what, text in texts.items():
        _check_text(path, what, text.encode("latin-1"), codec)
    for name in meta.column_names:
        if meta.readstat_variable_types[name] != "string":
            continue
        raw = df[name].str.encode("latin-1")
        back = raw.str.decode(codec, errors="replace")
        suspect = np.flatnonzero(back.str.contains("\ufffd", regex=False).to_numpy(dtype=bool))
        # U+FFFD marks candidates; a genuine U+FFFD in UTF-8 text is ruled out by a strict decode
        bad = raw.iloc[suspect].map(lambda b: _invalid(b, codec)).to_numpy(dtype=bool)
        if bad.any():
            row = int(suspect[np.argmax(bad)])
            _check_text(path, f"variable {name}, row {row + 1}", raw.iloc[row], codec)
    raise InputError(f"{path}: text is not valid {codec}")


def _invalid(raw: bytes, codec: str) -> bool:
    try:
        raw.decode(codec)
    except UnicodeDecodeError:
        return True
    return False


def _check_text(path: Path, what: str, raw: bytes, codec: str) -> None:
    try:
        raw.decode(codec)
    except UnicodeDecodeError as exc:
        byte = raw[exc.start]
        raise InputError(
            f"{path}: {what}: byte 0x{byte:02X} at position {exc.start + 1} is not valid "
            f"{codec} (pass encoding=, e.g. 'cp1252')"
        ) from None
