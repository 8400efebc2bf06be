"""Read a folder of submission datasets (SAS XPORT or Dataset-JSON) for validation or a define.

One file per dataset; the dataset name is the file stem in upper case. When a dataset is present
both as XPT and as Dataset-JSON (``cdisc-umsc run --format both``), the XPT file is read and the
JSON twin is reported in the notes, never silently ignored.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from cdisc_umsc.core.errors import InputError
from cdisc_umsc.metadata.model import Dataset
from cdisc_umsc.read.datasets import dataset_files, read_dataset


@dataclass
class Folder:
    """The datasets of one folder: frames and the files' own metadata, keyed by name."""

    path: Path
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    described: dict[str, Dataset] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def read_folder(folder: str | os.PathLike[str], *, encoding: str = "ascii") -> Folder:
    """Every dataset of `folder`; XPT text must be valid in `encoding` (InputError otherwise)."""
    files, notes = dataset_files(folder)
    if not files:
        raise InputError(f"{folder}: no datasets (expected *.xpt, *.json or *.ndjson files)")
    out = Folder(Path(folder), files=files, notes=notes)
    for name, path in files.items():
        frame, meta = read_dataset(path, encoding)
        if meta.name and meta.name.upper() != name:
            notes.append(f"{path.name}: dataset name in the file is {meta.name}; read as {name}")
        out.frames[name], out.described[name] = frame, meta
    return out
