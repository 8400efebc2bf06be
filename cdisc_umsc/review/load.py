"""The datasets the review page is computed from, read back from a run's output folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from cdisc_umsc.read.datasets import find_dataset, load_dataset


def read_dataset(folder: Path, name: str, required: bool = True) -> pd.DataFrame | None:
    """``name`` from ``folder`` as written by the run (XPT, else Dataset-JSON)."""
    if not required and find_dataset(folder, name) is None:
        return None
    return load_dataset(folder, name, why=f"the review page needs dataset {name}")


@dataclass
class ReviewInputs:
    """ADaM datasets of one run, plus where the adverse events came from."""

    adsl: pd.DataFrame
    adqs: pd.DataFrame
    adlb: pd.DataFrame
    ae: pd.DataFrame | None
    ae_source: str


def load_inputs(out_dir: Path) -> ReviewInputs:
    """Read ADSL, ADQS and ADLB from ``out_dir/adam``; adverse events from ADAE when the run
    wrote one, else from the SDTM AE domain of the same run (the page says which)."""
    adam = out_dir / "adam"
    adsl, adqs, adlb = (read_dataset(adam, n) for n in ("ADSL", "ADQS", "ADLB"))
    ae = read_dataset(adam, "ADAE", required=False)
    source = "adam/ADAE"
    if ae is None:
        ae = read_dataset(out_dir / "sdtm", "AE", required=False)
        source = "sdtm/AE" if ae is not None else ""
    return ReviewInputs(adsl, adqs, adlb, ae, source)
