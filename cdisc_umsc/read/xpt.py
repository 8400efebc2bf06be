"""SAS XPORT (v5 and v8) reader: the data as a DataFrame plus the file's own metadata.

Values come through pyreadstat (ReadStat); the metadata object is built from the file's
header (member name and label) and namestr records (name, label, type, length, format).
"""

from __future__ import annotations

import codecs
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat

from cdisc_umsc.errors import InputError
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
    path: str | os.PathLike[str], *, encoding: str = "ascii"
) -> tuple[pd.DataFrame, Dataset]:
    """Read an XPT v5/v8 file; text must be valid in `encoding` (an InputError names the
    variable, row and byte otherwise). Numbers stay numbers (no date conversion)."""
    path = Path(path)
    codec = codecs.lookup(encoding).name
    try:
        df, meta = pyreadstat.read_xport(
            path, encoding=_iconv_name(codec), disable_datetime_conversion=True
        )
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
