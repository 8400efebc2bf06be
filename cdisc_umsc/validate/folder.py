"""Read a folder of submission datasets (SAS XPORT or Dataset-JSON) for validation or a define.

One file per dataset; the dataset name is the file stem in upper case. When a dataset is present
both as XPT and as Dataset-JSON (``cdisc-umsc run --format both``), the XPT file is read and the
JSON twin is reported in the notes, never silently ignored.

A file that cannot be read, or text that is not valid in the expected encoding, is not the end
of the validation: each is a finding (file, row, variable, byte) and the rest of the folder is
still read and checked.
"""

from __future__ import annotations

import codecs
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from cdisc_umsc.core.errors import InputError
from cdisc_umsc.metadata.model import Dataset
from cdisc_umsc.read.datasets import dataset_files, read_dataset
from cdisc_umsc.validate.context import HIT_COLUMNS

#: Encoding tried when a file's text is not valid in the one asked for: Windows-1252 decodes
#: what legacy SAS sessions wrote; Latin-1 decodes any byte.
_FALLBACKS = ("cp1252", "latin-1")


@dataclass
class Folder:
    """The datasets of one folder: frames and the files' own metadata, keyed by name."""

    path: Path
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    described: dict[str, Dataset] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    #: Problems met while reading, as hit rows plus a ``rule`` column (see read_issues).
    issues: list[pd.DataFrame] = field(default_factory=list)

    def read_issues(self) -> pd.DataFrame:
        """Every reading problem: rule, dataset, row (0-based, -1 for the file), variable,
        value, message."""
        if not self.issues:
            return pd.DataFrame({c: [] for c in ("rule", *HIT_COLUMNS)})
        return pd.concat(self.issues, ignore_index=True)


def _issue(rule: str, name: str, rows, variable, value, message) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "rule": rule,
            "dataset": name,
            "row": rows,
            "variable": variable,
            "value": value,
            "message": message,
        }
    )


def _first_bad(raw: bytes, codec: str) -> tuple[int, int]:
    """(position from 1, byte) of the first byte of ``raw`` that ``codec`` rejects."""
    try:
        raw.decode(codec)
    except UnicodeDecodeError as exc:
        return exc.start + 1, raw[exc.start]
    return 0, 0  # pragma: no cover  (only called on values that fail)


def _redecode(frame: pd.DataFrame, name: str, path: Path, codec: str) -> list[pd.DataFrame]:
    """Turn Latin-1 text back into its bytes, find the values ``codec`` rejects (one issue per
    value), and decode every value as Windows-1252 where it can be (else Latin-1)."""
    found = []
    for col in frame.columns:
        series = frame[col]
        if pd.api.types.is_numeric_dtype(series.dtype):
            continue
        text = series.astype(object).where(series.notna(), "").astype(str)
        codes, uniques = pd.factorize(text, use_na_sentinel=False)
        raw = [u.encode("latin-1") for u in uniques]
        bad = np.array([not _valid(r, codec) for r in raw], dtype=bool)
        fixed = np.array([_decode(r) for r in raw] or [""], dtype=object)
        frame[col] = fixed[codes] if len(codes) else series
        if not bad.any():
            continue
        rows = np.flatnonzero(bad[codes])
        where = [_first_bad(raw[c], codec) for c in codes[rows]]
        message = [
            f"{path.name}: row {r + 1}, variable {col}: byte 0x{b:02X} at position {p} is not "
            f"valid {codec}"
            for r, (p, b) in zip(rows, where, strict=True)
        ]
        found.append(
            _issue("UMSC-FI0001", name, rows, col, fixed[codes[rows]], message)  # type: ignore[arg-type]
        )
    return found


def _valid(raw: bytes, codec: str) -> bool:
    try:
        raw.decode(codec)
    except UnicodeDecodeError:
        return False
    return True


def _decode(raw: bytes) -> str:
    for codec in ("utf-8", *_FALLBACKS):
        try:
            return raw.decode(codec)
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes every byte")  # pragma: no cover


def _read(path: Path, name: str, encoding: str, out: Folder) -> tuple[pd.DataFrame, Dataset]:
    try:
        return read_dataset(path, encoding)
    except InputError as exc:
        if path.suffix.lower() != ".xpt" or "is not valid" not in str(exc):
            raise
    codec = codecs.lookup(encoding).name
    frame, meta = read_dataset(path, "latin-1")
    out.issues.extend(_redecode(frame, name, path, codec))
    return frame, meta


def read_folder(folder: str | os.PathLike[str], *, encoding: str = "ascii") -> Folder:
    """Every dataset of `folder`. Text not valid in `encoding` is read all the same (as
    Windows-1252) and each such value becomes an issue; a file that cannot be read at all is
    an issue too and its dataset is left out. No datasets at all is an InputError."""
    files, notes = dataset_files(folder)
    if not files:
        raise InputError(f"{folder}: no datasets (expected *.xpt, *.json or *.ndjson files)")
    out = Folder(Path(folder), files=files, notes=notes)
    for name, path in files.items():
        try:
            frame, meta = _read(path, name, encoding, out)
        except InputError as exc:
            out.issues.append(_issue("UMSC-FI0002", name, [-1], "", path.name, [str(exc)]))
            continue
        if meta.name and meta.name.upper() != name:
            notes.append(f"{path.name}: dataset name in the file is {meta.name}; read as {name}")
        out.frames[name], out.described[name] = frame, meta
    return out
