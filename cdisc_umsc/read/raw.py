"""Every raw form of a study, each read by the reader its declaration names.

``csv`` (:mod:`cdisc_umsc.read.forms`), ``sas7bdat`` and ``xpt``
(:mod:`cdisc_umsc.read.sas`), ``xlsx`` (:mod:`cdisc_umsc.read.xlsx`) and ``odm``
(:mod:`cdisc_umsc.read.odm`; the forms of one ODM file are read from one pass over it). Each
gives the same checked text frame with its records' provenance.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

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


def read_raw_forms(
    raw_dir: Path, forms: dict[str, FormSpec], encoding: str = "utf-8", cutoff: str | None = None
) -> dict[str, pd.DataFrame]:
    """Read and check every form of ``forms`` from ``raw_dir``, in declaration order."""
    frames: dict[str, pd.DataFrame] = {}
    odm_files: dict[str, list[FormSpec]] = {}
    for name, form in forms.items():
        if form.reader == "odm":
            odm_files.setdefault(form.file, []).append(form)
        else:
            frames[name] = READERS[form.reader](Path(raw_dir), form, encoding, cutoff)
    for group in odm_files.values():
        frames.update(read_odm_forms(Path(raw_dir), group, cutoff))
    return {name: frames[name] for name in forms}
