"""SAS XPORT version 5 writer (SAS technical paper TS-140, the transport format the FDA requires).

Layout (TS-140, "Record Layout"): 80-byte records; a library header, one member header with
its descriptor records, one 140-byte namestr per variable, an OBS header, then the observations
streamed back to back and blank-padded to a multiple of 80 bytes. Numbers are IBM System/370
doubles, big-endian. The observation block is built column by column as one numpy byte array.
"""

from __future__ import annotations

import codecs
import os
import re
import struct
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from cdisc_umsc.core.atomic import write_bytes
from cdisc_umsc.core.errors import WriteError
from cdisc_umsc.core.values import distinct_texts
from cdisc_umsc.metadata.model import Dataset, Variable

RECORD = 80
NAMESTR_LEN = 140
MAX_CHAR = 200  # TS-140 / FDA TCG: character values of at most 200 bytes
MAX_LABEL = 40
MAX_VARS = 9999
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_NAME = re.compile(r"[A-Z][A-Z0-9_]{0,7}")
# SAS format "name w.d": optional name (may start with $, must not end in a digit), width, decimals.
_FORMAT = re.compile(
    r"(?P<name>\$?(?:[A-Za-z_](?:[A-Za-z0-9_]*[A-Za-z_])?)?)(?P<w>[0-9]*)(?:\.(?P<d>[0-9]*))?"
)
# Namestr (TS-140): ntype nhfun nlng nvar0 nname nlabel nform nfl nfd nfj nfill niform nifl nifd
# npos rest -- big-endian shorts and a 4-byte npos, 140 bytes in all.
_NAMESTR = struct.Struct(">hhhh8s40s8shhh2s8shhi52s")
_MISSING = np.uint64(0x2E) << np.uint64(56)  # SAS system missing "." (TS-140, "Missing Values")
_MAX_NUM = 16.0**62
_NUMERIC_INFERRED = {"integer", "floating", "mixed-integer-float", "empty"}


def _header(name: str, counts: str = "0" * 30) -> bytes:
    """One 'HEADER RECORD' line (TS-140 header records)."""
    return f"HEADER RECORD*******{name:<8}HEADER RECORD!!!!!!!{counts:<32}".encode("ascii")


def sas_timestamp(created: datetime) -> str:
    """The 16-character ddMMMyy:hh:mm:ss stamp of the header records (locale independent)."""
    return (
        f"{created.day:02d}{_MONTHS[created.month - 1]}{created.year % 100:02d}:"
        f"{created.hour:02d}:{created.minute:02d}:{created.second:02d}"
    )


def parse_format(fmt: str | None, where: str) -> tuple[str, int, int]:
    """Split a SAS display format ("DATE9.", "8.2", "$CHAR20.") into (name, width, decimals)."""
    if not fmt:
        return "", 0, 0
    m = _FORMAT.fullmatch(fmt.strip())
    if m is None or not (m["name"] or m["w"]):
        raise WriteError(f"{where}: format {fmt!r} is not a SAS format of the form name w.d")
    name, width, dec = m["name"].upper(), int(m["w"] or 0), int(m["d"] or 0)
    if len(name) > 8 or width > 32767 or dec > 32767:
        raise WriteError(f"{where}: format {fmt!r} does not fit XPT v5 (name <= 8 chars)")
    return name, width, dec


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _fixed(text: str, size: int, encoding: str, where: str) -> bytes:
    """Text encoded and blank-padded to `size` bytes; an error if it does not fit."""
    try:
        raw = text.encode(encoding)
    except UnicodeEncodeError as exc:
        raise WriteError(f"{where}: {_short(text)} is not valid {encoding}") from exc
    if len(raw) > size:
        raise WriteError(f"{where}: {_short(text)} is {len(raw)} bytes, XPT v5 allows {size}")
    return raw.ljust(size, b" ")


def _check_name(name: str, where: str) -> None:
    if not _NAME.fullmatch(name):
        raise WriteError(
            f"{where}: name {name!r} must be 1-8 characters [A-Z0-9_] starting with A-Z (XPT v5)"
        )


# --------------------------------------------------------------------------- numbers


def ieee_to_ibm(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """IEEE float64 -> IBM System/370 double bit patterns (uint64), plus a mask of values
    that cannot be written: inf, |x| < 16**-65 (below the normalised IBM range, so also IEEE
    subnormals) and |x| > 16**62. IBM doubles reach about 7.2e75, but ReadStat (pyreadstat,
    haven) saturates above 16**62 = 2**248, so larger values would not read back.

    NaN becomes SAS missing ".". The conversion is exact: a 53-bit IEEE fraction shifted by at
    most 3 bits fits the 56-bit IBM fraction (TS-140, "Numeric Data Fields").
    """
    bits = np.ascontiguousarray(values, dtype=np.float64).view(np.uint64)
    sign = bits & np.uint64(1 << 63)
    biased = ((bits >> np.uint64(52)) & np.uint64(0x7FF)).astype(np.int64)
    frac = (bits & np.uint64((1 << 52) - 1)) | np.uint64(1 << 52)
    power2 = biased - 1022  # value = frac / 2**53 * 2**power2, frac / 2**53 in [0.5, 1)
    power16 = -((-power2) // 4)  # ceil(power2 / 4)
    frac <<= (3 - (4 * power16 - power2)).astype(np.uint64)
    expo = power16 + 64
    out = sign | (expo.astype(np.uint64) << np.uint64(56)) | frac
    nan = np.isnan(values)
    zero = (values == 0) & ~nan
    bad = ~nan & ~zero & ((biased == 0) | (expo < 0) | (np.abs(values) > _MAX_NUM))
    out[zero] = 0
    out[nan] = _MISSING
    return out, bad


def _numeric(col: pd.Series, where: str) -> np.ndarray:
    """The column as float64 (NaN for missing); an error for non-numeric or inexact values."""
    dtype = col.dtype
    ok = pd.api.types.is_numeric_dtype(dtype) and not (
        pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_complex_dtype(dtype)
    )
    if not ok and pd.api.types.is_object_dtype(dtype):
        ok = pd.api.types.infer_dtype(col, skipna=True) in _NUMERIC_INFERRED
    if not ok:
        is_num = col.map(
            lambda v: (
                isinstance(v, (int, float, np.integer, np.floating))
                and not isinstance(v, (bool, np.bool_))
            )
        )
        bad = np.flatnonzero(~is_num.to_numpy(dtype=bool) & col.notna().to_numpy(dtype=bool))
        row = int(bad[0]) if len(bad) else 0
        value = col.iloc[row] if len(col) else None
        raise WriteError(
            f"{where}, row {row + 1}: expected a numeric value (column dtype {dtype}), "
            f"found {_short(value)}"
        )
    values = col.to_numpy(dtype=np.float64, na_value=np.nan)
    if pd.api.types.is_integer_dtype(dtype):
        big = ((col > 2**53) | (col < -(2**53))).to_numpy(dtype=bool, na_value=False)
        if big.any():
            row = int(np.argmax(big))
            raise WriteError(
                f"{where}, row {row + 1}: integer {col.iloc[row]} cannot be held exactly "
                "in a double"
            )
    return values


def _put_numeric(block: np.ndarray, off: int, col: pd.Series, where: str) -> None:
    values = _numeric(col, where)
    inf = np.flatnonzero(np.isinf(values))
    if len(inf):
        row = int(inf[0])
        raise WriteError(f"{where}, row {row + 1}: {float(values[row])} is not allowed in XPT")
    ibm, bad = ieee_to_ibm(values)
    if bad.any():
        row = int(np.argmax(bad))
        raise WriteError(
            f"{where}, row {row + 1}: {float(values[row])!r} is outside the IBM 370 double range "
            "that XPT readers hold (magnitude 5.4e-79 to 4.5e74)"
        )
    block[:, off : off + 8].view(">u8")[:, 0] = ibm


# --------------------------------------------------------------------------- characters


def _check_text(col: pd.Series, where: str) -> None:
    """Every non-missing value of the column is a str."""
    if not isinstance(col.dtype, pd.StringDtype) and pd.api.types.infer_dtype(
        col, skipna=True
    ) not in ("string", "empty"):
        is_str = col.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
        row = int(np.argmax(~is_str & col.notna().to_numpy(dtype=bool)))
        raise WriteError(
            f"{where}, row {row + 1}: expected a character value, found {_short(col.iloc[row])}"
        )


def _char_values(col: pd.Series, encoding: str, where: str) -> np.ndarray:
    """Object array of str (ASCII fast path) or bytes; missing values become empty."""
    _check_text(col, where)
    values = col.to_numpy(dtype=object, na_value="")
    if encoding == "ascii":
        return values
    try:
        return pd.Series(values).str.encode(encoding).to_numpy(dtype=object)
    except UnicodeEncodeError:
        _raise_unencodable(pd.Series(values), encoding, where)
        raise  # pragma: no cover  (_raise_unencodable always raises)


def _raise_unencodable(col: pd.Series, encoding: str, where: str) -> None:
    back = col.str.encode(encoding, errors="replace").str.decode(encoding)
    row = int(np.argmax((back != col).to_numpy(dtype=bool)))
    raise WriteError(
        f"{where}, row {row + 1}: {_short(col.iloc[row])} is not valid {encoding}"
        + (
            ": the XPT files carry ASCII text (FDA Study Data Technical Conformance Guide); "
            "write the value in ASCII in the raw form or coding table, or write Dataset-JSON "
            "(--format json; the API's write_xpt takes an encoding=)"
            if encoding == "ascii"
            else ""
        )
    )


def _byte_lengths(values: np.ndarray) -> np.ndarray:
    """Byte length of each value (str values are ASCII here, so chars == bytes)."""
    return np.fromiter(map(len, values), dtype=np.int64, count=len(values))


def _pack_char(values: np.ndarray, var: Variable, enc: str, where: str) -> np.ndarray:
    """The values as a (n, length) blank-padded byte array; length declared or the longest
    value (at least 1, FDA TCG). Values too long, non-encodable or holding NUL are errors."""
    declared = var.length
    joined = ("" if enc == "ascii" else b"").join(values)
    if enc == "ascii" and not joined.isascii():
        _raise_unencodable(pd.Series(values), enc, where)
    packed = values.astype(f"S{declared}" if declared else "S")  # NUL-padded, may truncate
    width = declared or min(max(1, packed.dtype.itemsize), MAX_CHAR + 1)
    if packed.dtype.itemsize != width:
        packed = values.astype(f"S{width}")
    grid = packed.view(np.uint8).reshape(len(values), width)
    if width > MAX_CHAR or np.count_nonzero(grid) != len(joined):  # truncated or NUL inside
        _raise_char_problem(values, grid, declared, where)
    grid[grid == 0] = 0x20  # blank padding (TS-140)
    return grid


def _char_grid(col: pd.Series, var: Variable, enc: str, where: str) -> np.ndarray:
    """The column as an (n, length) blank-padded byte array (:func:`_pack_char`), packed
    once per distinct value; a problem is reported at its first row, as the full column
    would report it."""
    grid, codes = _distinct_grid(col, var, enc, where)
    return grid[codes]


def _distinct_grid(
    col: pd.Series, var: Variable, enc: str, where: str
) -> tuple[np.ndarray, np.ndarray]:
    """The packed distinct values of the column and each row's code into them."""
    _check_text(col, where)
    found = distinct_texts(col)
    if found is None:  # pragma: no cover  (_check_text has seen text only)
        raise WriteError(f"{where}: expected character values")
    codes, texts = found  # a missing value's code picks the last text, ""
    distinct = pd.Series(texts, dtype=object)
    try:
        grid = _pack_char(_char_values(distinct, enc, where), var, enc, where)
    except WriteError:
        _pack_char(_char_values(col, enc, where), var, enc, where)
        raise  # pragma: no cover  (the full column raises the same problem at its row)
    return grid, codes


def check_text(df: pd.DataFrame, dataset: Dataset, *, encoding: str = "ascii") -> None:
    """Raise what :func:`write_xpt` would raise for the text of ``df`` (a value that is not
    valid ``encoding``, longer than declared or than XPT v5 holds, or holding NUL), at the
    same row and in the same words, without packing a record: what ``check --raw`` asks."""
    encoding = codecs.lookup(encoding).name
    for var in dataset.variables:
        if var.type == "Char" and var.name in df.columns:
            where = f"XPT {dataset.name}: variable {var.name}"
            _distinct_grid(df[var.name], var, encoding, where)


def _raise_char_problem(
    values: np.ndarray, grid: np.ndarray, declared: int | None, where: str
) -> None:
    lengths = _byte_lengths(values)
    limit = declared or MAX_CHAR
    if (lengths > limit).any():
        row = int(np.argmax(lengths > limit))
        raise WriteError(
            f"{where}, row {row + 1}: value is {lengths[row]} bytes, longer than the "
            f"{'declared length' if declared else 'XPT v5 maximum'} {limit}"
        )
    row = int(np.argmax(np.count_nonzero(grid, axis=1) != lengths))
    raise WriteError(f"{where}, row {row + 1}: {_short(values[row])} contains a NUL character")


# --------------------------------------------------------------------------- layout


def _namestrs(dataset: Dataset, widths: list[int], encoding: str) -> bytes:
    out, pos = [], 0
    for i, (var, width) in enumerate(zip(dataset.variables, widths, strict=True)):
        where = f"XPT {dataset.name}: variable {var.name}"
        fname, fwidth, fdec = parse_format(var.format, where)
        out.append(
            _NAMESTR.pack(
                2 if var.type == "Char" else 1,
                0,
                width,
                i + 1,
                _fixed(var.name, 8, "ascii", where),
                _fixed(var.label or "", MAX_LABEL, encoding, f"{where} label"),
                _fixed(fname, 8, "ascii", where),
                fwidth,
                fdec,
                1 if var.type == "Num" else 0,  # justification, as ReadStat writes it
                b"\0\0",
                b" " * 8,
                0,
                0,
                pos,
                b"\0" * 52,
            )
        )
        pos += width
    return _pad(b"".join(out))


def _pad(data: bytes) -> bytes:
    return data + b" " * (-len(data) % RECORD)


def _headers(dataset: Dataset, namestrs: bytes, created: datetime, encoding: str) -> bytes:
    """TS-140 records: library header (3), member header, descriptor header, member name and
    label records, namestr header, namestrs, OBS header. Release "6.06" and OS "bsd4.2" are
    what ReadStat writes, so that our bytes equal pyreadstat's for the same data."""
    stamp = sas_timestamp(created).encode("ascii")
    where = f"XPT {dataset.name}"
    ident = b"SAS     SAS     SASLIB  6.06    bsd4.2  " + b" " * 24 + stamp
    member = b"SAS     " + _fixed(dataset.name, 8, "ascii", where)
    member += b"SASDATA 6.06    bsd4.2  " + b" " * 24 + stamp
    label = stamp + b" " * 16 + _fixed(dataset.label or "", MAX_LABEL, encoding, f"{where} label")
    nvars = len(dataset.variables)
    return b"".join(
        [
            _header("LIBRARY"),
            ident,
            stamp + b" " * 64,
            _header("MEMBER", "000000000000000001600000000140"),
            _header("DSCRPTR"),
            member,
            label + b" " * 8,
            _header("NAMESTR", f"00000{nvars:05d}" + "0" * 20),
            namestrs,
            _header("OBS"),
        ]
    )


def _mark_final_blank(block: np.ndarray, char_ends: list[int]) -> None:
    """Keep an all-blank final observation from reading as padding.

    TS-140 pads the last record with blanks, so an all-blank final observation cannot be told
    from padding: ReadStat (pyreadstat, haven) drops trailing blank observations. Its last
    text byte is written as NUL instead, which ReadStat and pandas strip from character
    values, so the value still reads as empty and the row is counted (SAS itself would see
    a '00'x character there).
    """
    if len(block) == 0 or (block[-1] != 0x20).any():
        return
    if not char_ends:
        raise WriteError("XPT: the final observation is all blank bytes and has no text field")
    block[-1, char_ends[-1] - 1] = 0


# --------------------------------------------------------------------------- API


def _check_columns(df: pd.DataFrame, dataset: Dataset) -> None:
    names = dataset.names
    dup = sorted({c for c in df.columns if list(df.columns).count(c) > 1})
    missing = [v for v in names if v not in df.columns]
    extra = [str(c) for c in df.columns if c not in set(names)]
    if dup or missing or extra:
        raise WriteError(
            f"XPT {dataset.name}: data columns differ from the metadata: "
            f"missing {missing}, extra {extra}, duplicated {dup}"
        )


def write_xpt(
    path: str | os.PathLike[str],
    df: pd.DataFrame,
    dataset: Dataset,
    *,
    created: datetime,
    encoding: str = "ascii",
) -> None:
    """Write `df` as a SAS XPORT v5 file described by `dataset`, atomically and reproducibly.

    Header timestamps come from `created`. Text must be ASCII unless the caller chooses
    another single- or multi-byte `encoding` (lengths are then counted in bytes).
    """
    encoding = codecs.lookup(encoding).name
    _check_name(dataset.name, f"XPT dataset {dataset.name!r}")
    if not 1 <= len(dataset.variables) <= MAX_VARS:
        raise WriteError(f"XPT {dataset.name}: needs 1..{MAX_VARS} variables")
    _check_columns(df, dataset)
    for var in dataset.variables:
        _check_name(var.name, f"XPT {dataset.name}: variable {var.name!r}")

    # Text columns of undeclared length are packed first: their width is the longest value.
    packed: dict[str, np.ndarray] = {}
    widths: list[int] = []
    for var in dataset.variables:
        where = f"XPT {dataset.name}: variable {var.name}"
        width = 8 if var.type == "Num" else var.length
        if width is not None and not 1 <= width <= MAX_CHAR:
            raise WriteError(f"{where}: length {width} is outside 1..{MAX_CHAR} (XPT v5)")
        if width is None:
            packed[var.name] = _char_grid(df[var.name], var, encoding, where)
            width = packed[var.name].shape[1]
        widths.append(width)
    namestrs = _namestrs(dataset, widths, encoding)

    n, reclen = len(df), sum(widths)
    block = np.empty((n, reclen), dtype=np.uint8)
    off, char_ends = 0, []
    for var, width in zip(dataset.variables, widths, strict=True):
        where = f"XPT {dataset.name}: variable {var.name}"
        if var.type == "Char":
            grid = packed.pop(var.name, None)
            if grid is None:
                grid = _char_grid(df[var.name], var, encoding, where)
            block[:, off : off + width] = grid
            char_ends.append(off + width)
        else:
            _put_numeric(block, off, df[var.name], where)
        off += width
    _mark_final_blank(block, char_ends)
    tail = b" " * (-block.size % RECORD)  # blank padding to a whole record (TS-140)
    write_bytes(Path(path), [_headers(dataset, namestrs, created, encoding), block, tail])
