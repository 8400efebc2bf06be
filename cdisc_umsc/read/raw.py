"""Every raw form of a study, each read by the reader its declaration names.

``csv`` (:mod:`cdisc_umsc.read.forms`), ``sas7bdat`` and ``xpt``
(:mod:`cdisc_umsc.read.sas`), ``xlsx`` (:mod:`cdisc_umsc.read.xlsx`) and ``odm``
(:mod:`cdisc_umsc.read.odm`; the forms of one ODM file are read from one pass over it). Each
gives the same checked text frame with its records' provenance.

Before any reader opens a form's file, :func:`form_path` bounds it: only a regular file inside
the raw folder (after symlinks are resolved) of at most :data:`MAX_FILE_BYTES` is read, so a
``file:`` naming ``../`` or an absolute path, a symlink out of the folder, a FIFO (which would
block the run) or a device such as ``/dev/zero`` (which never ends) is a one-line error.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from cdisc_umsc.core.errors import InputError
from cdisc_umsc.core.progress import StepHook, no_steps
from cdisc_umsc.metadata.model import FormSpec
from cdisc_umsc.read.forms import read_form
from cdisc_umsc.read.odm import read_odm_forms
from cdisc_umsc.read.sas import read_sas
from cdisc_umsc.read.xlsx import read_xlsx

READERS: dict[str, Callable[..., pd.DataFrame]] = {
    "csv": read_form,
    "sas7bdat": read_sas,
    "xpt": read_sas,
    "xlsx": read_xlsx,
}

#: The largest raw export read (the ODM reader's bound, :data:`cdisc_umsc.read.odm.MAX_BYTES`).
MAX_FILE_BYTES = 2**31


def form_path(raw_dir: Path, form: FormSpec) -> Path:
    """The form's file, checked to be a regular file of bounded size inside ``raw_dir``;
    a file that is not found is left to the reader (which names the folder searched)."""
    root = Path(raw_dir).resolve()
    path = Path(raw_dir) / form.file
    real = path.resolve()
    if not real.is_relative_to(root):
        via = " (a symbolic link)" if path.is_symlink() else ""
        raise InputError(
            f"{form.file}: the form's file{via} lies outside the raw folder; "
            "only files inside --raw are read"
        )
    try:
        info = os.stat(real)
    except FileNotFoundError:
        return path
    except OSError as exc:
        raise InputError(f"{form.file}: cannot read file ({exc.strerror})") from None
    if stat.S_ISDIR(info.st_mode):
        raise InputError(f"{form.file}: cannot read file (a folder, not a file)")
    if not stat.S_ISREG(info.st_mode):
        raise InputError(
            f"{form.file}: cannot read file (not a regular file: a pipe, socket or device)"
        )
    if info.st_size > MAX_FILE_BYTES:
        raise InputError(
            f"{form.file}: file of {info.st_size} bytes, larger than the "
            f"{MAX_FILE_BYTES} bytes a raw export may have"
        )
    return path


def read_raw_forms(
    raw_dir: Path,
    forms: dict[str, FormSpec],
    encoding: str = "utf-8",
    cutoff: str | None = None,
    step: StepHook = no_steps,
) -> dict[str, pd.DataFrame]:
    """Read and check every form of ``forms`` from ``raw_dir``, in declaration order;
    ``step(file, rows)`` is called as each form (or ODM file) has been read."""
    frames: dict[str, pd.DataFrame] = {}
    odm_files: dict[str, list[FormSpec]] = {}
    for name, form in forms.items():
        form_path(Path(raw_dir), form)
        if form.reader == "odm":
            odm_files.setdefault(form.file, []).append(form)
        else:
            frames[name] = READERS[form.reader](Path(raw_dir), form, encoding, cutoff)
            step(f"read {form.file}", len(frames[name]))
    for file, group in odm_files.items():
        read = read_odm_forms(Path(raw_dir), group, cutoff)
        frames.update(read)
        step(f"read {file}", sum(len(f) for f in read.values()))
    return {name: frames[name] for name in forms}
