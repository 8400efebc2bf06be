"""Read a folder of submission datasets (SAS XPORT or Dataset-JSON) for validation or a define.

One file per dataset; the dataset name is the file stem in upper case. When a dataset is present
both as XPT and as Dataset-JSON (``cdisc-umsc run --format both``), the XPT file is read and the
JSON twin is reported in the notes, never silently ignored.
"""

from __future__ import annotations

import codecs
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from cdisc_umsc.core.errors import InputError
from cdisc_umsc.metadata.model import Dataset
from cdisc_umsc.read.datasets import dataset_files, read_dataset
from cdisc_umsc.validate.findings import Findings


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


def validate_folder(
    folder: str | os.PathLike[str],
    *,
    define: str | os.PathLike[str] | None = None,
    profile: str = "submission",
    encoding: str = "ascii",
) -> tuple[Findings, str, list[str]]:
    """(Findings, one-line description of the work, notes) for a folder of datasets:
    checked against ``define`` (a define.xml) when given, else the bundled IG."""
    from cdisc_umsc.read.define import read_define, standard_notes
    from cdisc_umsc.validate.engine import validate_study
    from cdisc_umsc.validate.igmeta import study_from_ig

    try:
        codecs.lookup(encoding)
    except LookupError:
        raise InputError(f"--encoding {encoding}: unknown text encoding") from None
    folder = Path(folder)
    data = read_folder(folder, encoding=encoding)
    if define is not None:
        define = Path(define)
        study = read_define(define)
        data.notes.extend(standard_notes(study))
        source = f"{define.name} (Define-XML, {study.standard} {study.standard_version})".strip()
    else:
        ids = [
            str(f["STUDYID"].iloc[0])
            for f in data.frames.values()
            if "STUDYID" in f.columns and len(f)
        ]
        study = study_from_ig(data.frames, data.described, ids[0] if ids else "")
        source = "the bundled IG"
        if any(p.name.lower() == "define.xml" for p in folder.iterdir()):
            data.notes.append(f"{folder}/define.xml not used (give --define to validate by it)")
    findings = validate_study(data.frames, study, profile=profile)
    records = sum(len(f) for f in data.frames.values())
    what = (
        f"{folder}: {len(data.frames)} datasets, {records} records, checked against "
        f"{source}, profile {profile}"
    )
    return findings, what, data.notes
