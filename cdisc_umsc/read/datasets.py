"""Datasets on disk, whatever their format: one place knows the suffixes and their readers.

A dataset is ``name.xpt`` (SAS XPORT v5), ``name.json`` or ``name.ndjson`` (Dataset-JSON 1.1).
Where a folder holds one dataset in several formats, XPT is read, then JSON, then NDJSON.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from pathlib import Path

import pandas as pd

from cdisc_umsc.core.errors import InputError
from cdisc_umsc.core.outdir import MANIFEST, own_manifest
from cdisc_umsc.metadata.model import Dataset

#: Dataset file suffixes, in order of preference.
SUFFIXES = (".xpt", ".json", ".ndjson")
#: JSON files a folder may hold that are not datasets.
NOT_DATASETS = frozenset({"manifest.json", "validation.json"})


def is_dataset_file(path: Path) -> bool:
    """A file whose suffix is a dataset format's (and is not a known non-dataset file)."""
    return path.suffix.lower() in SUFFIXES and path.name.lower() not in NOT_DATASETS


def read_dataset(
    path: Path, encoding: str = "utf-8", columns: Collection[str] | None = None
) -> tuple[pd.DataFrame, Dataset]:
    """The frame and the file's own metadata; XPT text is decoded as ``encoding``. With
    ``columns``, the frame holds only those of the dataset's variables (an XPT file decodes
    no others)."""
    from cdisc_umsc.read.datasetjson import read_datasetjson
    from cdisc_umsc.read.xpt import read_xpt

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".xpt":
        frame, meta = read_xpt(path, encoding=encoding, columns=columns)
    elif suffix in (".json", ".ndjson"):
        frame, meta = read_datasetjson(path)
        frame = frame if columns is None else frame[[c for c in frame.columns if c in columns]]
    else:
        raise InputError(f"{path}: not a dataset file (expected {', '.join(SUFFIXES)})")
    check_count(path, len(frame))
    return frame, meta


def manifest_count(path: Path) -> tuple[Path, int] | None:
    """(manifest, records) that this tool's manifest beside the dataset file (or one folder up,
    as ``run`` writes it) lists for ``path``, or None where no such manifest lists it."""
    path = Path(path)
    for base in (path.parent, path.parent.parent):
        doc = own_manifest(base)
        if doc is None:
            continue
        manifest = base / MANIFEST
        folder = path.parent.relative_to(base).as_posix()
        files, records = doc.get("files"), doc.get("records")
        name = path.name if folder == "." else f"{folder}/{path.name}"
        key = path.stem.upper() if folder == "." else f"{folder}/{path.stem.upper()}"
        if not isinstance(files, dict) or name not in files or not isinstance(records, dict):
            return None
        count = records.get(key)
        if isinstance(count, int) and not isinstance(count, bool):
            return manifest, count
        return None
    return None


def check_count(path: Path, count: int) -> None:
    """An error when this tool's manifest lists another number of records for the file it
    wrote: the file was cut short (a truncated XPT can end on a record boundary, where its own
    structure cannot tell) or replaced since."""
    listed = manifest_count(path)
    if listed is not None and listed[1] != count:
        raise InputError(
            f"{path}: holds {count:,} records, but {listed[0]} lists {listed[1]:,} for it "
            "(the file was cut short or replaced after cdisc-umsc wrote it)"
        )


def find_dataset(folder: Path, name: str) -> Path | None:
    """The file of dataset ``name`` in ``folder`` (first format by preference), or None."""
    for suffix in SUFFIXES:
        path = Path(folder) / f"{name.lower()}{suffix}"
        if path.is_file():
            return path
    return None


def load_dataset(
    folder: Path,
    name: str,
    encoding: str = "utf-8",
    why: str = "",
    columns: Collection[str] | None = None,
) -> pd.DataFrame:
    """Dataset ``name`` of ``folder`` (only ``columns``, when given); a one-line error naming
    what was expected when absent."""
    path = find_dataset(folder, name)
    if path is None:
        files = " or ".join(f"{name.lower()}{s}" for s in SUFFIXES)
        raise InputError(f"{folder}: no {files}" + (f" ({why})" if why else ""))
    return read_dataset(path, encoding, columns)[0]


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
