"""The per-distinct-value paths the engine takes on large datasets give the same answers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from cdisc_umsc.validate import study_from_ig, validate_study
from cdisc_umsc.validate.context import BY_VALUE_ROWS, as_text, blank, by_value, by_values, nbytes
from tests.conftest import load_script

ROOT = Path(__file__).resolve().parents[1]


def _bench():
    return load_script("benchmarks/bench_validate.py")


def test_by_value_matches_element_wise():
    n = BY_VALUE_ROWS + 7
    text = pd.Series(
        np.array(["a", " ", "", "é" * 70, "b"], dtype=object)[np.arange(n) % 5],
        index=pd.RangeIndex(10, 10 + n),
    ).astype("str")
    text[13] = np.nan
    got = by_value(text, lambda s: s.fillna("").str.len())
    assert got.index.equals(text.index)
    assert got.tolist() == text.fillna("").str.len().tolist()
    assert nbytes(text).tolist() == [len(v.encode()) for v in text.fillna("")]
    assert blank(text).tolist() == [v.strip() == "" for v in text.fillna("")]
    nums = pd.Series(np.tile([1.0, 2.5, np.nan, -3.0], n // 4 + 1)[:n])
    assert (
        as_text(nums).tolist()
        == as_text(nums.head(8)).tolist() * (n // 8) + as_text(nums.head(n % 8)).tolist()
    )


def test_by_values_pairs_columns():
    n = BY_VALUE_ROWS
    a = pd.Series(np.arange(n) % 3).astype(float)
    b = pd.Series(np.array(["x", "y"], dtype=object)[np.arange(n) % 2]).astype("str")
    got = by_values(lambda f: f[0].astype(str) + f[1], a, b)
    assert got.tolist() == (a.astype(str) + b).tolist()


def test_large_lb_reports_seeded_defects_at_their_rows():
    dm, lb = _bench().synthetic_lb(120_000)
    lb = lb.copy()
    lb.loc[100_000, "LBDTC"] = "2024-02-30"  # impossible date
    lb.loc[70_000, "LBDY"] = lb.loc[70_000, "LBDY"] + 2  # wrong study day
    lb.loc[5, "LBSTRESN"] = lb.loc[5, "LBSTRESN"] + 1  # STRESN differs from STRESC
    lb.loc[9, "LBSEQ"] = lb.loc[8, "LBSEQ"]  # duplicate sequence number
    frames = {"DM": dm, "LB": lb}
    found = validate_study(frames, study_from_ig(frames, study_id="SYN")).frame
    rows = {
        r: sorted(found.loc[found["rule"] == r, "row"].tolist())
        for r in ("UMSC-DT0001", "UMSC-DT0003", "UMSC-FN0001", "UMSC-SD0009")
    }
    assert rows == {
        "UMSC-DT0001": [100_001],
        "UMSC-DT0003": [70_001],
        "UMSC-FN0001": [6],
        "UMSC-SD0009": [9, 10],
    }
    day = found[found["rule"] == "UMSC-DT0003"].iloc[0]
    assert day["usubjid"] == lb.loc[70_000, "USUBJID"] and day["variable"] == "LBDY"
    assert set(found["severity"]) == {"error", "warning"}
