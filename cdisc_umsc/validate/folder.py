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

from cdisc_umsc.errors import InputError
from cdisc_umsc.metadata.model import Dataset

#: Readers in order of preference for a dataset present in several formats.
SUFFIXES = (".xpt", ".json", ".ndjson")
#: JSON files of a folder that are not datasets.
_NOT_DATASETS = frozenset({"manifest.json", "validation.json"})


@dataclass
class Folder:
    """The datasets of one folder: frames and the files' own metadata, keyed by name."""

    path: Path
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    described: dict[str, Dataset] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def dataset_files(folder: str | os.PathLike[str]) -> tuple[dict[str, Path], list[str]]:
    """(dataset name -> file, notes on files passed over) for the datasets in `folder`."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder of datasets")
    found: dict[str, Path] = {}
    notes: list[str] = []
    candidates = [
        p
        for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in SUFFIXES and p.name.lower() not in _NOT_DATASETS
    ]
    for path in sorted(candidates, key=lambda p: (SUFFIXES.index(p.suffix.lower()), p.name)):
        name = path.stem.upper()
        if name in found:
            notes.append(f"{path.name} not read: dataset {name} is read from {found[name].name}")
            continue
        found[name] = path
    if not found:
        raise InputError(f"{folder}: no datasets (expected *.xpt, *.json or *.ndjson files)")
    return dict(sorted(found.items())), notes


def read_folder(folder: str | os.PathLike[str], *, encoding: str = "ascii") -> Folder:
    """Every dataset of `folder`; XPT text must be valid in `encoding` (InputError otherwise)."""
    from cdisc_umsc.read.datasetjson import read_datasetjson
    from cdisc_umsc.read.xpt import read_xpt

    files, notes = dataset_files(folder)
    out = Folder(Path(folder), files=files, notes=notes)
    for name, path in files.items():
        if path.suffix.lower() == ".xpt":
            frame, meta = read_xpt(path, encoding=encoding)
        else:
            frame, meta = read_datasetjson(path)
        if meta.name and meta.name.upper() != name:
            notes.append(f"{path.name}: dataset name in the file is {meta.name}; read as {name}")
        out.frames[name], out.described[name] = frame, meta
    return out
