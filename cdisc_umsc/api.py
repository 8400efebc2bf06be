"""The Python API: what the command line does, for notebooks and scripts.

Everything here is importable from the package itself (``import cdisc_umsc``)::

    import cdisc_umsc

    study = cdisc_umsc.build_study()              # the bundled trial, in memory, nothing written
    study.sdtm["DM"], study.adam["ADSL"]          # pandas DataFrames
    study.findings["SDTM"].frame                  # validation findings, one row each
    study.accounting                              # raw rows read = mapped + excluded, per form

    cdisc_umsc.run_study(out="out")               # the same, written as `cdisc-umsc run` does
    findings = cdisc_umsc.validate_folder("out/sdtm", define="out/sdtm/define.xml")
    frame, meta = cdisc_umsc.read_xpt("out/sdtm/dm.xpt")

Errors are :class:`UmscError` (one line naming file, row, column or spec file:line); nothing
here prints. Defaults (the bundled trial) are resolved when a function is called.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

import pandas as pd

from cdisc_umsc.core.bundled import Trial, bundle, copy_trial
from cdisc_umsc.core.errors import UmscError, WriteError
from cdisc_umsc.metadata.model import Dataset, Study
from cdisc_umsc.metadata.spec import StudySpec
from cdisc_umsc.validate.findings import Findings

PathLike = str | os.PathLike[str]

__all__ = [
    "Dataset",
    "Findings",
    "Study",
    "StudyRun",
    "Trial",
    "UmscError",
    "build_study",
    "bundled_trials",
    "read_dataset_json",
    "read_define",
    "read_xpt",
    "run_study",
    "start_study",
    "validate_folder",
    "write_dataset_json",
    "write_define",
    "write_xpt",
]


@dataclass(frozen=True)
class StudyRun:
    """A study mapped and derived: datasets, their metadata, findings and raw-row accounting."""

    #: the STUDYID of the spec
    study_id: str
    #: SDTM datasets by name (``"DM"``, ``"SUPPAE"`` ...), in conformed order and types
    sdtm: dict[str, pd.DataFrame]
    #: ADaM datasets by name (``"ADSL"`` ...)
    adam: dict[str, pd.DataFrame]
    #: the metadata every writer uses (labels, types, lengths, keys, codelists)
    sdtm_metadata: dict[str, Dataset]
    adam_metadata: dict[str, Dataset]
    #: validation findings per standard, ``"SDTM"`` and ``"ADaM"`` (``.frame``: one row each)
    findings: dict[str, Findings]
    #: one row per raw form: ``form``, ``file``, ``read``, ``mapped``, ``excluded``
    accounting: pd.DataFrame
    #: one row per exclusion reason: ``form``, ``file``, ``reason``, ``records``
    exclusions: pd.DataFrame
    #: spec conditions that matched no record ("file:line: words"), usually a spec mistake
    unmatched: list[str]
    #: the folders the study was built from, and the output folder (``run_study`` only)
    spec_dir: Path
    raw_dir: Path
    out_dir: Path | None = None
    #: the loaded spec, for callers that need more than the datasets
    spec: StudySpec | None = field(default=None, repr=False)

    def study(self, standard: Literal["SDTM", "ADaM"]) -> Study:
        """The metadata object define.xml and Dataset-JSON are written from."""
        from cdisc_umsc.run import study_metadata

        if self.spec is None:
            raise UmscError("this StudyRun holds no spec")
        if standard == "SDTM":
            return study_metadata(self.spec, self.sdtm_metadata, "Tabulation")
        return study_metadata(self.spec, self.adam_metadata, "Analysis")


def _accounting(accounting: list[dict]) -> tuple[pd.DataFrame, pd.DataFrame]:
    counts = pd.DataFrame(
        [{k: f[k] for k in ("form", "file", "read", "mapped", "excluded")} for f in accounting],
        columns=["form", "file", "read", "mapped", "excluded"],
    )
    reasons = pd.DataFrame(
        [
            {"form": f["form"], "file": f["file"], "reason": why, "records": n}
            for f in accounting
            for why, n in f["reasons"].items()
        ],
        columns=["form", "file", "reason", "records"],
    )
    return counts, reasons


def _study_run(built, spec_dir: Path, raw_dir: Path, findings: dict, out: Path | None) -> StudyRun:
    counts, reasons = _accounting(built.sdtm.accounting)
    return StudyRun(
        study_id=str(built.spec.settings["STUDYID"]),
        sdtm=dict(built.sdtm.data),
        adam=dict(built.adam),
        sdtm_metadata=dict(built.sdtm.meta),
        adam_metadata=dict(built.adam_meta),
        findings=dict(findings),
        accounting=counts,
        exclusions=reasons,
        unmatched=list(built.sdtm.unmatched),
        spec_dir=spec_dir,
        raw_dir=raw_dir,
        out_dir=out,
        spec=built.spec,
    )


def _path(value: PathLike | None) -> Path | None:
    return None if value is None else Path(value)


def build_study(spec: PathLike | None = None, raw: PathLike | None = None) -> StudyRun:
    """Map, derive and validate a study in memory; nothing is written.

    ``spec`` is a spec folder, ``raw`` the folder of raw CRF exports; either one left out is
    the bundled default trial's (a spec of its own needs its ``raw``). Findings are what
    ``cdisc-umsc run`` reports.
    """
    from cdisc_umsc import run as runner
    from cdisc_umsc.validate.engine import validate_study

    spec_dir, raw_dir = runner.inputs(_path(spec), _path(raw))
    built = runner.build(spec_dir, raw_dir)
    findings = {
        std: validate_study(data, meta) for std, (data, meta) in built.validation_parts().items()
    }
    return _study_run(built, spec_dir, raw_dir, findings, None)


def run_study(
    spec: PathLike | None = None,
    raw: PathLike | None = None,
    out: PathLike = "out",
    *,
    fmt: Literal["xpt", "json", "both"] = "xpt",
    force: bool = False,
    jobs: int | None = None,
) -> StudyRun:
    """Do what ``cdisc-umsc run`` does: build the study and write ``out`` (datasets,
    define.xml, review page, validation, lineage, manifest), then return it in memory too.

    ``out`` is replaced only if it is missing, empty or a previous output of this tool;
    ``force=True`` also replaces a folder of other files. ``jobs`` independent steps run at once
    (default: one per CPU, at most four); the files are the same for any number.
    """
    from cdisc_umsc import run as runner

    spec_dir, raw_dir = runner.inputs(_path(spec), _path(raw))
    result = runner.run(spec_dir, raw_dir, Path(out), fmt, jobs=jobs, force=force)
    built = runner.Built(result.spec, result.sdtm, result.adam, result.adam_meta)
    return _study_run(built, spec_dir, raw_dir, result.validation, Path(out))


def validate_folder(
    folder: PathLike,
    *,
    define: PathLike | None = None,
    profile: Literal["submission", "development"] = "submission",
    encoding: str = "ascii",
) -> Findings:
    """Validate a folder of SDTM or ADaM datasets (``*.xpt``, ``*.json``, ``*.ndjson``), as
    ``cdisc-umsc validate`` does: by ``define`` (a define.xml) when given, else the bundled IG.
    ``encoding`` is the text encoding of XPT files."""
    from cdisc_umsc.validate.folder import validate_folder as run_folder

    given = Path(define) if define is not None else None
    validation = run_folder(Path(folder), define=given, profile=profile, encoding=encoding)
    return validation.findings


def bundled_trials() -> dict[str, Trial]:
    """The trials shipped with the tool, by name (each with its ``spec`` and ``raw`` folder)."""
    return dict(bundle().trials)


def start_study(folder: PathLike, trial: str | None = None) -> Trial:
    """Copy a bundled trial into a new ``folder`` as ``spec/`` and ``raw/`` (what
    ``cdisc-umsc init`` does); ``folder`` must be missing or empty."""
    return copy_trial(Path(folder), trial)


# --------------------------------------------------------------------------- file formats


def _created(created: datetime | str) -> datetime:
    if isinstance(created, datetime):
        return created
    try:
        return datetime.fromisoformat(str(created))
    except ValueError:
        raise WriteError(
            f"created {created!r}: expected an ISO 8601 date-time such as 2024-05-01T09:00:00"
        ) from None


def _metadata(path: Path, frame: pd.DataFrame, metadata: Dataset | None, name: str | None):
    from cdisc_umsc.validate.igmeta import dataset_from_ig

    if metadata is not None:
        return metadata
    return dataset_from_ig((name or path.stem).upper(), frame)


def read_xpt(path: PathLike, *, encoding: str = "ascii") -> tuple[pd.DataFrame, Dataset]:
    """A SAS XPORT file's records and its own metadata (names, labels, types, lengths).
    Numbers stay numbers (SAS dates are not converted); text must be valid ``encoding``."""
    from cdisc_umsc.read.xpt import read_xpt as read

    return read(Path(path), encoding=encoding)


def write_xpt(
    path: PathLike,
    frame: pd.DataFrame,
    metadata: Dataset | None = None,
    *,
    created: datetime | str,
    name: str | None = None,
    encoding: str = "ascii",
) -> None:
    """Write ``frame`` as a SAS XPORT v5 file, atomically, with ``created`` in its headers
    (the same inputs give the same bytes). Without ``metadata`` the dataset is described by
    its columns and the bundled IG (labels, core), named ``name`` or the file's stem."""
    from cdisc_umsc.write.xpt import write_xpt as write

    path = Path(path)
    meta = _metadata(path, frame, metadata, name)
    write(path, frame, meta, created=_created(created), encoding=encoding)


def read_dataset_json(path: PathLike) -> tuple[pd.DataFrame, Dataset]:
    """A Dataset-JSON 1.1 file (``.json`` or ``.ndjson``): records and the file's metadata."""
    from cdisc_umsc.read.datasetjson import read_datasetjson

    return read_datasetjson(Path(path))


def write_dataset_json(
    path: PathLike,
    frame: pd.DataFrame,
    metadata: Dataset | None = None,
    *,
    created: datetime | str,
    study: Study | None = None,
    name: str | None = None,
) -> None:
    """Write ``frame`` as Dataset-JSON 1.1 (``.json``, or ``.ndjson`` by the suffix),
    atomically. ``study`` gives the study and metadata identifiers (default: from the data's
    STUDYID and the bundled standards); without ``metadata`` the dataset is described as by
    :func:`write_xpt`."""
    from cdisc_umsc.metadata import standards
    from cdisc_umsc.write.datasetjson import write_datasetjson

    path = Path(path)
    meta = _metadata(path, frame, metadata, name)
    stamp = _created(created).isoformat(timespec="seconds")
    if study is None:
        ids = frame["STUDYID"].dropna().astype(str) if "STUDYID" in frame.columns else None
        std = "ADaMIG" if meta.standard == "ADaMIG" else "SDTMIG"
        versions = standards.versions()
        study = Study(
            study_id=str(ids.iloc[0]) if ids is not None and len(ids) else "",
            standard=std,
            standard_version=versions[std],
            ct_version=versions["SDTM CT"],
            created=stamp,
        )
    fmt: Literal["json", "ndjson"] = "ndjson" if path.suffix.lower() == ".ndjson" else "json"
    write_datasetjson(path, frame, meta, study, created=stamp, fmt=fmt)


def read_define(path: PathLike) -> Study:
    """A define.xml (Define-XML 2.0 / 2.1) as the metadata object: datasets, variables,
    codelists, standards. Parsed safely (no entities, no network)."""
    from cdisc_umsc.read.define import read_define as read

    return read(Path(path))


def write_define(
    path: PathLike,
    study: Study,
    frames: Mapping[str, pd.DataFrame],
    *,
    purpose: Literal["Tabulation", "Analysis"] | None = None,
    html: PathLike | None = None,
) -> None:
    """Write the Define-XML 2.1 document of ``frames`` described by ``study`` (lengths and
    terms are measured on the data), checked against the Define-XML 2.1 schema first;
    ``html`` also writes the rendered page. ``purpose`` defaults from ``study.standard``."""
    from cdisc_umsc.write.define import build_define, validate_define
    from cdisc_umsc.write.define import write_define as write
    from cdisc_umsc.write.submission import value_lists

    if purpose is None:
        purpose = "Analysis" if study.standard == "ADaMIG" else "Tabulation"
    tree = build_define(study, frames, purpose=purpose, value_lists=value_lists(study.datasets))
    problems = validate_define(tree)
    if problems:
        raise WriteError(f"{path}: would not be valid Define-XML 2.1: {problems[0]}")
    write(Path(path), tree, html_path=Path(html) if html is not None else None)
