"""Datasets on disk, whatever their format: one place knows the suffixes and their readers.

A dataset is ``name.xpt`` (SAS XPORT v5), ``name.json`` or ``name.ndjson`` (Dataset-JSON 1.1).
Where a folder holds one dataset in several formats, XPT is read, then JSON, then NDJSON.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from cdisc_umsc.core.errors import InputError
from cdisc_umsc.metadata.model import Dataset

#: Dataset file suffixes, in order of preference.
SUFFIXES = (".xpt", ".json", ".ndjson")
#: JSON files a folder may hold that are not datasets.
NOT_DATASETS = frozenset({"manifest.json", "validation.json"})


def is_dataset_file(path: Path) -> bool:
    """A file whose suffix is a dataset format's (and is not a known non-dataset file)."""
    return path.suffix.lower() in SUFFIXES and path.name.lower() not in NOT_DATASETS


def read_dataset(path: Path, encoding: str = "utf-8") -> tuple[pd.DataFrame, Dataset]:
    """The frame and the file's own metadata; XPT text is decoded as ``encoding``."""
    from cdisc_umsc.read.datasetjson import read_datasetjson
    from cdisc_umsc.read.xpt import read_xpt

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".xpt":
        return read_xpt(path, encoding=encoding)
    if suffix in (".json", ".ndjson"):
        return read_datasetjson(path)
    raise InputError(f"{path}: not a dataset file (expected {', '.join(SUFFIXES)})")


def find_dataset(folder: Path, name: str) -> Path | None:
    """The file of dataset ``name`` in ``folder`` (first format by preference), or None."""
    for suffix in SUFFIXES:
        path = Path(folder) / f"{name.lower()}{suffix}"
        if path.is_file():
            return path
    return None


def load_dataset(folder: Path, name: str, encoding: str = "utf-8", why: str = "") -> pd.DataFrame:
    """Dataset ``name`` of ``folder``; a one-line error naming what was expected when absent."""
    path = find_dataset(folder, name)
    if path is None:
        files = " or ".join(f"{name.lower()}{s}" for s in SUFFIXES)
        raise InputError(f"{folder}: no {files}" + (f" ({why})" if why else ""))
    return read_dataset(path, encoding)[0]


def dataset_files(folder: str | os.PathLike[str]) -> tuple[dict[str, Path], list[str]]:
    """(dataset name -> file, notes on files passed over) for the datasets in ``folder``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder of datasets")
    found: dict[str, Path] = {}
    notes: list[str] = []
    candidates = [p for p in folder.iterdir() if p.is_file() and is_dataset_file(p)]
    for path in sorted(candidates, key=lambda p: (SUFFIXES.index(p.suffix.lower()), p.name)):
        name = path.stem.upper()
        if name in found:
            notes.append(f"{path.name} not read: dataset {name} is read from {found[name].name}")
            continue
        found[name] = path
    return dict(sorted(found.items())), notes
