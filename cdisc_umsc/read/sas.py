"""Read raw forms exported as SAS datasets: SAS7BDAT files and SAS XPORT (v5/v8) files.

One dataset is one form. Columns match the declared fields by name, ignoring case (SAS names
are case-insensitive); observation *n* is row *n*. SAS dates, date-times and times (by their
display format) are read as such; numbers show the decimals of a ``w.d`` display format where
that loses nothing (:mod:`cdisc_umsc.read.typed`); SAS special missing values (``.A``-``.Z``,
``._``) are missing. SAS7BDAT files carry their own encoding; an XPORT file has none, so the
study's raw encoding applies; text is decoded strictly. A file that is not a readable SAS
dataset is a one-line error.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat

from cdisc_umsc.core.errors import InputError
from cdisc_umsc.metadata.model import FormSpec
from cdisc_umsc.read.forms import ROW, check_columns, check_form
from cdisc_umsc.read.typed import as_text

KINDS = {"sas7bdat": "SAS7BDAT", "xpt": "SAS XPORT"}
#: a plain numeric display format with decimals: 8.1, F8.2, 5.3
_DECIMALS = re.compile(r"^F?[0-9]*\.([0-9]+)$", re.IGNORECASE)


def read_sas(
    raw_dir: Path, form: FormSpec, encoding: str = "utf-8", cutoff: str | None = None
) -> pd.DataFrame:
    """Read and check one form held in a SAS dataset (``form.reader``: sas7bdat or xpt)."""
    frame, meta = read_dataset(Path(raw_dir) / form.file, form.reader, encoding, form.source)
    by_upper = {f.name.upper(): f.name for f in form.fields}
    names = [by_upper.get(str(c).upper(), str(c)) for c in frame.columns]
    check_columns(form, names, "the dataset")
    formats = getattr(meta, "original_variable_types", {}) or {}
    decimals = {}
    for column, name in zip(frame.columns, names, strict=True):
        m = _DECIMALS.match(str(formats.get(column) or ""))
        if m:
            decimals[name] = int(m.group(1))
    frame.columns = names
    frame = frame[[f.name for f in form.fields]].copy()
    frame.insert(0, ROW, np.arange(1, len(frame) + 1, dtype="int64"))
    return check_form(form, as_text(form, frame, decimals), cutoff)


def read_dataset(
    path: Path, reader: str, encoding: str = "utf-8", name: str | None = None
) -> tuple[pd.DataFrame, object]:
    """The observations and the metadata (labels, formats) of one SAS dataset file.

    Text is read as bytes (ISO-8859-1 maps every byte to one character) and decoded here,
    strictly, in the file's own encoding (SAS7BDAT) or ``encoding`` (XPORT): a byte sequence
    that encoding cannot hold is an error naming row and column, never a blanked value.
    """
    name = name or path.name
    if not path.is_file():
        if path.exists():
            raise InputError(f"{name}: cannot read file (not a regular file)")
        raise InputError(f"{name}: raw form file not found in {path.parent}")
    kind = KINDS[reader]
    read = pyreadstat.read_sas7bdat if reader == "sas7bdat" else pyreadstat.read_xport
    try:
        codec = encoding
        if reader == "sas7bdat":
            _, head = read(str(path), metadataonly=True)
            codec = _codec(getattr(head, "file_encoding", None)) or encoding
        frame, meta = read(str(path), encoding=_BYTES)
    except (pyreadstat.ReadstatError, pyreadstat.PyreadstatError) as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{name}: not a readable {kind} dataset ({detail})") from None
    except (UnicodeDecodeError, OverflowError, ValueError) as exc:
        raise InputError(f"{name}: not a readable {kind} dataset ({exc})") from None
    columns = [_text(str(c), codec) for c in frame.columns]
    for column in frame.columns:
        col = frame[column]
        if isinstance(col.dtype, pd.StringDtype) or pd.api.types.infer_dtype(col) in (
            "string",
            "mixed",
        ):
            frame[column] = _decode(col, codec, name, _text(str(column), codec))
    frame.columns = columns
    labels = getattr(meta, "column_names_to_labels", None) or {}
    meta.column_names_to_labels = {
        _text(str(k), codec): _text(v, codec) if v else v for k, v in labels.items()
    }
    for attr in ("original_variable_types", "readstat_variable_types"):
        table = getattr(meta, attr, None) or {}
        setattr(meta, attr, {_text(str(k), codec): v for k, v in table.items()})
    for attr in ("file_label", "table_name"):
        value = getattr(meta, attr, None)
        if value:
            setattr(meta, attr, _text(value, codec))
    return frame, meta


#: the encoding that reads every byte as one character (so the bytes can be recovered)
_BYTES = "iso8859-1"


def _codec(sas_name: str | None) -> str | None:
    """A Python codec for the encoding a SAS7BDAT header names (UTF-8, WINDOWS-1252 ...)."""
    if not sas_name:
        return None
    try:
        return codecs.lookup(sas_name).name
    except LookupError:
        return None


def _text(value: str, codec: str) -> str:
    """A name or label: its bytes in ``codec`` (an undecodable byte becomes U+FFFD)."""
    return value.encode("latin-1").decode(codec, errors="replace")


def _decode(col: pd.Series, codec: str, name: str, column: str) -> pd.Series:
    """A text column's bytes decoded in ``codec``, one distinct value at a time."""
    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    out: list[object] = []
    for k, value in enumerate(uniques):
        if not isinstance(value, str):  # dates and times of a date-formatted column
            out.append(value)
            continue
        raw = value.encode("latin-1")
        try:
            out.append(raw.decode(codec))
        except UnicodeDecodeError as exc:
            row = int(np.flatnonzero(codes == k)[0]) + 1
            raise InputError(
                f"{name}: row {row}, column {column}: byte 0x{raw[exc.start]:02X} is not valid "
                f"{codec} (re-export the dataset, or give raw: encoding:)"
            ) from None
    table = np.array([*out, None], dtype=object)
    return pd.Series(table[codes], index=col.index, dtype=object)
