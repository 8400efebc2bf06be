"""Read raw forms kept in an Excel workbook (.xlsx): one worksheet is one form.

The sheet's first row is the header (the declared fields, once each); row *n* is the *n*-th
row under it (sheet row *n* + 1), wholly empty rows hold no record. Cells keep their Excel
types: numbers, dates and times are written as the CSV reader would see them
(:mod:`cdisc_umsc.read.typed`); formulas give their last computed value. The reader is
python-calamine (the Rust calamine parser, as pandas' ``calamine`` engine). The workbook is a zip
of XML parts: it is opened only if it is a zip of bounded size whose parts declare no DOCTYPE
(no entity can be expanded, nothing fetched).
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from cdisc_umsc.core.errors import InputError
from cdisc_umsc.metadata.model import FormSpec
from cdisc_umsc.read.forms import ROW, check_columns, check_form
from cdisc_umsc.read.typed import as_text

#: Bounds on a workbook: its parts, all together, unpacked; and how many parts it has.
MAX_UNPACKED = 2**30
MAX_PARTS = 10_000
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_CHUNK = 1 << 20


def read_xlsx(
    raw_dir: Path, form: FormSpec, encoding: str = "utf-8", cutoff: str | None = None
) -> pd.DataFrame:
    """Read and check one form held in a worksheet (``form.sheet``) of an .xlsx workbook."""
    rows = sheet_rows(Path(raw_dir) / form.file, str(form.sheet), form.source)
    if not rows or all(v in (None, "") for v in rows[0]):
        raise InputError(f"{form.source}: sheet is empty (expected a header row)")
    header = list(rows[0])
    while header and header[-1] in (None, ""):
        header.pop()
    for k, cell in enumerate(header):
        if not isinstance(cell, str) or not cell.strip():
            raise InputError(
                f"{form.source}: header cell {k + 1} is {cell!r} (expected a field name)"
            )
    names = [h.strip() for h in header]
    check_columns(form, names, "the header row")
    width = len(names)
    body = [tuple(r) + (None,) * (width - len(r)) for r in rows[1:]]
    frame = pd.DataFrame(body, columns=None, dtype=object)
    if len(frame.columns) > width:
        extra = frame.iloc[:, width:]
        filled = extra.notna().to_numpy() & (extra.astype(str).to_numpy() != "")
        if filled.any():
            pos = int(np.flatnonzero(filled.any(axis=1))[0])
            column = width + 1 + int(np.flatnonzero(filled[pos])[0])
            raise InputError(
                f"{form.source}: row {pos + 1}: a value in column {column}, which has no header"
            )
    frame = frame.iloc[:, :width] if len(frame.columns) else pd.DataFrame(columns=range(width))
    frame.columns = names
    frame.insert(0, ROW, np.arange(1, len(frame) + 1, dtype="int64"))
    empty = frame[names].isna() | (frame[names].astype(str) == "")
    frame = frame[~empty.all(axis=1).to_numpy()].reset_index(drop=True)
    frame = frame[[ROW, *[f.name for f in form.fields]]].copy()
    return check_form(form, as_text(form, frame), cutoff)


def sheet_rows(path: Path, sheet: str, name: str) -> list[tuple]:
    """The cell values of one worksheet, row by row from sheet row 1 (after the workbook's
    safety checks); an empty cell is ''."""
    import python_calamine as calamine

    _check_package(path, name)
    try:
        book = calamine.CalamineWorkbook.from_path(str(path))
        if sheet not in book.sheet_names:
            raise InputError(
                f"{name}: no such sheet (the workbook has: {', '.join(book.sheet_names)})"
            )
        rows = book.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    except calamine.CalamineError as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{name}: not a readable .xlsx workbook ({detail})") from None
    return [tuple(r) for r in rows]


def _check_package(path: Path, name: str) -> None:
    """A zip of at most MAX_PARTS parts and MAX_UNPACKED bytes whose XML has no DOCTYPE."""
    if not path.is_file():
        if path.exists():
            raise InputError(f"{name}: cannot read file (not a regular file)")
        raise InputError(f"{name}: raw form file not found in {path.parent}")
    if not zipfile.is_zipfile(path):
        raise InputError(f"{name}: not an .xlsx workbook (not a zip package)")
    try:
        with zipfile.ZipFile(path) as package:
            parts = package.infolist()
            if len(parts) > MAX_PARTS:
                raise InputError(
                    f"{name}: {len(parts)} parts in the workbook (at most {MAX_PARTS})"
                )
            unpacked = sum(p.file_size for p in parts)
            if unpacked > MAX_UNPACKED:
                raise InputError(
                    f"{name}: the workbook unpacks to {unpacked} bytes (at most {MAX_UNPACKED})"
                )
            for part in parts:
                if part.filename.endswith((".xml", ".rels")):
                    _scan_part(package, part, name)
    except zipfile.BadZipFile as exc:
        raise InputError(f"{name}: not a readable .xlsx workbook ({exc})") from None


def _scan_part(package: zipfile.ZipFile, part: zipfile.ZipInfo, name: str) -> None:
    read = 0
    tail = b""
    with package.open(part) as fh:
        while chunk := fh.read(_CHUNK):
            read += len(chunk)
            if read > part.file_size or read > MAX_UNPACKED:
                raise InputError(f"{name}: part {part.filename} unpacks past its declared size")
            if _DOCTYPE.search(tail + chunk):
                raise InputError(
                    f"{name}: part {part.filename} declares a DOCTYPE; refused "
                    "(XXE / entity-expansion protection)"
                )
            tail = chunk[-16:]
