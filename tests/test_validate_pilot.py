"""The validation engine on the CDISC pilot study (CDISCPILOT01, SDTMIG 3.1.2 data).

Checked against the bundled SDTMIG 3.4 / ADaMIG 1.3, so real findings are expected.
"""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import pytest

from cdisc_umsc.read.xpt import read_xpt
from cdisc_umsc.validate import COLUMNS, Findings, validate_study
from cdisc_umsc.validate.igmeta import study_from_ig

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
PILOT = SHARED / "reference" / "cdiscpilot01"
pytestmark = pytest.mark.skipif(not PILOT.is_dir(), reason="../shared absent")

CSV = {"LB": "sdtm_lb", "VS": "sdtm_vs", "SUPPLB": "sdtm_supplb", "ADVS": "adam_advs"}


def _csv(path: Path) -> pd.DataFrame:
    """A values-only CSV: columns whose every non-blank value is a number become float64."""
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    out = {}
    for col in raw.columns:
        filled = raw[col] != ""
        num = pd.to_numeric(raw[col].where(filled), errors="coerce")
        numeric = filled.any() and int(num.notna().sum()) == int(filled.sum())
        out[col] = num.astype("float64") if numeric else raw[col]
    return pd.DataFrame(out)


@pytest.fixture(scope="module")
def pilot() -> tuple[Findings, float, int]:
    frames, described = {}, {}
    for sub in ("sdtm", "adam"):
        for path in sorted((PILOT / sub).glob("*.xpt")):
            frame, meta = read_xpt(path, encoding="cp1252")  # ts.xpt holds a cp1252 byte
            frames[path.stem.upper()], described[path.stem.upper()] = frame, meta
    for name, stem in CSV.items():
        frames[name] = _csv(PILOT / "csv_safetyData" / f"{stem}.csv.gz")
    study = study_from_ig(frames, described, "CDISCPILOT01")
    start = time.perf_counter()
    found = validate_study(frames, study)
    return found, time.perf_counter() - start, sum(len(f) for f in frames.values())


def _one(found: Findings, rule: str, **where: object) -> pd.DataFrame:
    f = found.of(rule)
    for col, value in where.items():
        f = f[f[col] == value]
    return f


def test_pilot_runs_and_reports_real_findings(pilot: tuple[Findings, float, int]) -> None:
    found, seconds, records = pilot
    assert list(found.frame.columns) == list(COLUMNS)
    assert records > 150_000 and seconds < 120
    # AE record 971: AESTDTC equals RFSTDTC (day 1) but AESTDY holds 366.
    day = _one(found, "UMSC-DT0003", dataset="AE", variable="AESTDY")
    assert list(zip(day["row"], day["usubjid"], day["value"], strict=True)) == [
        (971, "01-716-1063", "366")
    ]
    # SDTMIG 3.4 added Expected DM variables that 3.1.2 data lacks.
    missing = _one(found, "UMSC-SD0003", dataset="DM")
    assert {"ARMNRS", "ACTARMUD"} <= set(missing["variable"])
    # Sponsor frequency terms outside the extensible FREQ codelist, one finding per term.
    freq = _one(found, "UMSC-CT0002", dataset="CM", variable="CMDOSFRQ")
    assert "OTHER" in set(freq["value"]) and freq["value"].is_unique
    assert (freq["severity"] == "warning").all()
    labels = _one(found, "UMSC-SD0006", dataset="ADTTE", variable="PARAM")
    assert list(labels["value"]) == ["Parameter Description"]


def test_pilot_has_no_false_alarms_on_consistent_data(pilot: tuple[Findings, float, int]) -> None:
    found, _, _ = pilot
    quiet = {
        "UMSC-XD0001",
        "UMSC-XD0002",
        "UMSC-XD0003",
        "UMSC-XD0004",
        "UMSC-DT0001",
        "UMSC-DT0002",
        "UMSC-FN0001",
        "UMSC-AD0001",
        "UMSC-AD0002",
        "UMSC-AD0003",
        "UMSC-AD0004",
        "UMSC-AD0005",
        "UMSC-AD0006",
        "UMSC-SD0009",
        "UMSC-PA0001",
    }
    assert not quiet & found.rules(), found.counts()
