"""Read raw forms exported as SAS datasets: SAS7BDAT files and SAS XPORT (v5/v8) files.

One dataset is one form. Columns match the declared fields by name, ignoring case (SAS names
are case-insensitive); observation *n* is row *n*. SAS dates, date-times and times (by their
display format) are read as such; numbers show the decimals of a ``w.d`` display format where
that loses nothing (:mod:`cdisc_umsc.read.typed`); SAS special missing values (``.A``-``.Z``,
``._``) are missing. SAS7BDAT files carry their own encoding; an XPORT file has none, so the
study's raw encoding applies. A file that is not a readable SAS dataset is a one-line error.
"""

from __future__ import annotations

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
_DECIMALS = re.compile(r"^F?\d*\.(\d+)$", re.IGNORECASE)


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
    """The observations and the metadata (labels, formats) of one SAS dataset file."""
    name = name or path.name
    if not path.is_file():
        if path.exists():
            raise InputError(f"{name}: cannot read file (not a regular file)")
        raise InputError(f"{name}: raw form file not found in {path.parent}")
    try:
        if reader == "sas7bdat":
            return pyreadstat.read_sas7bdat(str(path))
        return pyreadstat.read_xport(str(path), encoding=encoding)
    except (pyreadstat.ReadstatError, pyreadstat.PyreadstatError) as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        hint = f" in {encoding}" if "encoding" in detail or "convert" in detail else ""
        raise InputError(
            f"{name}: not a readable {KINDS[reader]} dataset{hint} ({detail})"
        ) from None
    except (UnicodeDecodeError, OverflowError, ValueError) as exc:
        raise InputError(f"{name}: not a readable {KINDS[reader]} dataset ({exc})") from None
