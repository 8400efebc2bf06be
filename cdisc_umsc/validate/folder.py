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
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from cdisc_umsc.core.errors import InputError
from cdisc_umsc.metadata.model import Dataset, Study
from cdisc_umsc.read.datasets import dataset_files, read_dataset
from cdisc_umsc.validate.context import HIT_COLUMNS
from cdisc_umsc.validate.findings import Findings

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


def _issue(
    rule: str,
    name: str,
    rows: np.ndarray | list[int],
    variable: str,
    value: np.ndarray | str,
    message: list[str],
) -> pd.DataFrame:
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
        found.append(_issue("UMSC-FI0001", name, rows, str(col), fixed[codes[rows]], message))
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


#: Sub-folders of a ``cdisc-umsc run`` output that hold datasets, in report order.
RUN_PARTS = ("sdtm", "adam")


@dataclass
class Validation:
    """What one ``validate`` produced: findings, what was checked, notes, the standards used."""

    findings: Findings
    what: str
    notes: list[str] = field(default_factory=list)
    header: dict[str, str] = field(default_factory=dict)
    datasets: dict[str, int] = field(default_factory=dict)


def _define_beside(folder: Path) -> Path | None:
    hits = [p for p in folder.iterdir() if p.is_file() and p.name.lower() == "define.xml"]
    return hits[0] if hits else None


def _parts(folder: Path) -> list[Path]:
    """The dataset folders to validate: ``folder`` itself, or a run output's sdtm/ and adam/."""
    from cdisc_umsc.read.datasets import dataset_files

    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder of datasets")
    if dataset_files(folder)[0]:
        return [folder]
    subs = [folder / p for p in RUN_PARTS if (folder / p).is_dir() and dataset_files(folder / p)[0]]
    if not subs:
        raise InputError(
            f"{folder}: no datasets (expected *.xpt, *.json or *.ndjson files, or the sdtm/ "
            "and adam/ folders of a cdisc-umsc run)"
        )
    return subs


def _ig_text(value: str | None) -> str:
    if value is None:
        return ""
    text = value.strip()
    for word in ("SDTMIG", "SDTM IG"):
        if text.upper().startswith(word):
            text = text[len(word) :].strip(" v")
    return text


def _one(
    folder: Path,
    define: Path | None,
    use_define: bool,
    profile: str,
    encoding: str,
    ig: str | None,
    ct: str | None,
):
    from cdisc_umsc.read.define import read_define, standard_notes
    from cdisc_umsc.validate import validate_study
    from cdisc_umsc.validate.folder import read_folder
    from cdisc_umsc.validate.igmeta import declared_ig, study_from_ig

    data = read_folder(folder, encoding=encoding)
    if data.frames and all(
        n.startswith("AD") for n in data.frames
    ):  # ADaM: --ig and --ct name SDTM standards
        ig = ct = None
    define = define if define is not None else (_define_beside(folder) if use_define else None)
    if define is not None:
        study = read_define(define)
        data.notes.extend(standard_notes(study))
        source = f"{define.name} (Define-XML, {study.standard} {study.standard_version})".strip()
        if ig:
            study = replace(study, standard_version=_ig_text(ig))
        if ct:
            study = replace(study, ct_version=ct)
    else:
        ids = [
            str(f["STUDYID"].iloc[0])
            for f in data.frames.values()
            if "STUDYID" in f.columns and len(f)
        ]
        declared = _ig_text(ig) or declared_ig(data.frames)
        study = study_from_ig(
            data.frames,
            data.described,
            ids[0] if ids else "",
            ig_version=declared,
            ct_version=ct or "",
        )
        source = "the bundled IG" + (f" (the study declares SDTMIG {declared})" if declared else "")
        beside = _define_beside(folder)
        if beside is not None:
            data.notes.append(f"{beside} not used (--no-define)")
    findings = validate_study(data.frames, study, profile=profile, read_issues=data.read_issues())
    records = sum(len(f) for f in data.frames.values())
    what = (
        f"{folder}: {len(data.frames)} datasets, {records} records, checked against "
        f"{source}, profile {profile}"
    )
    counts = {name: len(frame) for name, frame in data.frames.items()}
    counts |= {name: 0 for name in data.files if name not in counts}
    dated = max((p.stat().st_mtime for p in data.files.values()), default=0.0)
    return findings, what, data.notes, study, source, counts, dated


def _judged(study: Study) -> str:
    """'SDTMIG 3.4' or 'declares SDTMIG 3.1.2, judged by SDTMIG 3.4 (not bundled)'."""
    from cdisc_umsc.metadata import standards as S
    from cdisc_umsc.validate.checks_structure import ig_name

    name = ig_name(study.standard)
    have = S.bundled_versions("ig", name) if name in ("SDTMIG", "ADaMIG") else []
    if not have or study.standard_version in have:
        return f"{name} {study.standard_version}"
    used = S.versions()[name]
    return f"declares {name} {study.standard_version}, judged by {name} {used} (not bundled)"


def validate_folder(
    folder: Path,
    *,
    define: Path | None = None,
    use_define: bool = True,
    profile: str = "submission",
    encoding: str = "ascii",
    ig: str | None = None,
    ct: str | None = None,
) -> Validation:
    """Validate a folder of datasets or a run output folder (its sdtm/ and adam/)."""
    from cdisc_umsc.metadata import standards as S
    from cdisc_umsc.validate.findings import combine

    try:
        codecs.lookup(encoding)
    except LookupError:
        raise InputError(f"--encoding {encoding}: unknown text encoding") from None
    if ig and not re.fullmatch(r"[0-9]+(?:\.[0-9]+){1,2}", _ig_text(ig)):
        raise InputError(f"--ig {ig}: expected an SDTMIG version such as 3.4")
    if ct and not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", ct.strip()):
        raise InputError(f"--ct {ct}: expected an SDTM CT release date such as 2025-03-28")
    folder = Path(folder)
    parts = _parts(folder)
    if define is not None and len(parts) > 1:
        raise InputError(
            f"{folder} is a run output (sdtm/ and adam/); --define names one define.xml: "
            "give the sdtm or adam folder with it"
        )
    results = [_one(p, define, use_define, profile, encoding, ig, ct) for p in parts]
    findings = results[0][0] if len(results) == 1 else combine([r[0] for r in results])
    header = {
        "tool": "cdisc-umsc validate",
        "folder": str(folder),
        "profile": profile,
        "metadata": "; ".join(r[4] for r in results),
        "standards": "; ".join(_judged(r[3]) for r in results if r[3].standard),
        "CT": f"SDTM CT {results[0][3].ct_version or S.versions()['SDTM CT']}",
        "data dated": datetime.fromtimestamp(max(r[6] for r in results), UTC).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        ),
    }
    counts: dict[str, int] = {}
    for r in results:
        counts |= r[5]
    return Validation(
        findings=findings,
        what="\n".join(r[1] for r in results),
        notes=[n for r in results for n in r[2]],
        header=header,
        datasets=counts,
    )
