"""The datasets the review page is computed from, read back from a run's output folder."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, overload

import pandas as pd

from cdisc_umsc.read.datasets import find_dataset, load_dataset
from cdisc_umsc.report.labs import PANEL_VARIABLES
from cdisc_umsc.review.summaries import SHIFT_OPTIONAL, SHIFT_VARIABLES


@overload
def read_dataset(
    folder: Path, name: str, required: Literal[True] = True, columns: Collection[str] | None = None
) -> pd.DataFrame: ...
@overload
def read_dataset(
    folder: Path, name: str, required: bool, columns: Collection[str] | None = None
) -> pd.DataFrame | None: ...
def read_dataset(
    folder: Path, name: str, required: bool = True, columns: Collection[str] | None = None
) -> pd.DataFrame | None:
    """``name`` from ``folder`` as written by the run (XPT, else Dataset-JSON); only
    ``columns`` when given."""
    if not required and find_dataset(folder, name) is None:
        return None
    why = f"the review page needs dataset {name}"
    return load_dataset(folder, name, why=why, columns=columns)


@dataclass
class ReviewInputs:
    """ADaM datasets of one run that the plan names, plus where the adverse events came from."""

    adsl: pd.DataFrame | None
    plan: dict
    datasets: dict[str, pd.DataFrame] = field(default_factory=dict)
    ae: pd.DataFrame | None = None
    ae_source: str = ""
    #: SDTM TV of the run (planned study days of the visits, for the plots), when written
    tv: pd.DataFrame | None = None


def planned(plan: dict) -> list[str]:
    """Every ADaM dataset the plan reads, in name order."""
    names = {ep["dataset"] for ep in plan.get("endpoints", [])}
    for panel in plan.get("labs", []):
        names.add(panel["dataset"])
        if panel.get("responders"):
            names.add(panel["responders"]["dataset"])
    names |= set(plan.get("shifts", []))
    return sorted(names)


def variables(plan: dict, name: str) -> set[str] | None:
    """The variables the page reads of dataset ``name`` of the plan: all (None) where it is an
    endpoint or responder dataset; else those its laboratory panels and shift tables read."""
    if any(ep["dataset"] == name for ep in plan.get("endpoints", [])) or any(
        (panel.get("responders") or {}).get("dataset") == name for panel in plan.get("labs", [])
    ):
        return None
    found: set[str] = set()
    if any(panel["dataset"] == name for panel in plan.get("labs", [])):
        found |= set(PANEL_VARIABLES)
    if name in plan.get("shifts", []):
        found |= {*SHIFT_VARIABLES, *SHIFT_OPTIONAL}
    return found


def load_inputs(out_dir: Path, plan: dict) -> ReviewInputs:
    """Read ADSL and the datasets the plan names from ``out_dir/adam``; adverse events from
    ADAE when the run wrote one, else from the SDTM AE domain of the same run (the page says
    which); the trial visits (SDTM TV) when the run wrote them."""
    adam = out_dir / "adam"
    adsl = read_dataset(adam, "ADSL", required=False)
    datasets = {
        name: read_dataset(adam, name, columns=variables(plan, name)) for name in planned(plan)
    }
    ae = read_dataset(adam, "ADAE", required=False)
    source = "adam/ADAE"
    if ae is None:
        ae = read_dataset(out_dir / "sdtm", "AE", required=False)
        source = "sdtm/AE" if ae is not None else ""
    tv = read_dataset(out_dir / "sdtm", "TV", required=False)
    return ReviewInputs(adsl, plan, datasets, ae, source, tv)
