"""Reference ranges: ANRIND/BNRIND, SHIFTy and ratios to the range limits (ADaMIG 1.3 section
3.3.7, variables ANRIND, BNRIND, SHIFTy, R2AyLO, R2AyHI)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from cdisc_umsc.adam.derive import _need

TERMS = ("LOW", "NORMAL", "HIGH")  # SDTM CT C78736 Reference Range Indicator


def compute_anrind(
    dataset: pd.DataFrame,
    value: str = "AVAL",
    low: str = "A1LO",
    high: str = "A1HI",
    low_factor: float = 1.0,
    high_factor: float = 1.0,
    terms: Sequence[str] = TERMS,
    missing: str = "",
) -> pd.Series:
    """LOW when value < low_factor x low, HIGH when value > high_factor x high, else NORMAL;
    ``missing`` (default blank) when the value is missing; blank when both limits are."""
    _need(dataset, [value, low, high], "compute_anrind")
    if len(terms) != 3:
        raise ValueError("compute_anrind: terms must be (low, normal, high)")
    v = dataset[value].astype("float64")
    lo = dataset[low].astype("float64") * float(low_factor)
    hi = dataset[high].astype("float64") * float(high_factor)
    limits = (lo.notna() | hi.notna()).to_numpy()
    out = np.where(
        (v < lo).fillna(False), terms[0], np.where((v > hi).fillna(False), terms[2], terms[1])
    )
    out = np.where(v.notna().to_numpy(), out, missing)
    return pd.Series(np.where(limits, out, ""), index=dataset.index, dtype=object)


def compute_shift(
    dataset: pd.DataFrame,
    source: str = "BNRIND",
    target: str = "ANRIND",
    select: pd.Series | None = None,
) -> pd.Series:
    """SHIFTy: "<source> to <target>" on the selected records where both are known."""
    _need(dataset, [source, target], "compute_shift")
    s = dataset[source].astype(object).fillna("").astype(str)
    t = dataset[target].astype(object).fillna("").astype(str)
    ok = (s != "") & (t != "")
    if select is not None:
        ok &= select.to_numpy()
    return pd.Series(np.where(ok, s + " to " + t, ""), index=dataset.index, dtype=object)


def compute_r2a1(
    dataset: pd.DataFrame, value: str = "AVAL", low: str = "A1LO", high: str = "A1HI"
) -> pd.DataFrame:
    """R2A1LO = value / low and R2A1HI = value / high; null where a limit is missing or 0."""
    _need(dataset, [value, low, high], "compute_r2a1")
    v = dataset[value].astype("float64")
    lo, hi = dataset[low].astype("float64"), dataset[high].astype("float64")
    return pd.DataFrame(
        {"R2A1LO": (v / lo).where(lo != 0), "R2A1HI": (v / hi).where(hi != 0)}, index=dataset.index
    )
