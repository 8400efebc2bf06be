"""Reference-range derivations (cdisc_umsc/adam/ranges.py): ANRIND, SHIFTy, R2A1LO/HI."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cdisc_umsc.adam.ranges import compute_anrind, compute_r2a1, compute_shift

LAB = pd.DataFrame(
    {
        "AVAL": [3.0, 10.0, 20.0, np.nan, 1.4, 5.0, 4.0],
        "A1LO": [4.0, 4.0, 4.0, 4.0, 3.0, np.nan, 0.0],
        "A1HI": [12.0, 12.0, 12.0, 12.0, 5.0, np.nan, 8.0],
    }
)


def test_anrind_standard_and_factors() -> None:
    assert compute_anrind(LAB).tolist() == ["LOW", "NORMAL", "HIGH", "", "LOW", "", "NORMAL"]
    wide = compute_anrind(LAB, low_factor=0.5, high_factor=1.5, terms=("L", "N", "H"), missing="N")
    assert wide.tolist() == ["N", "N", "H", "N", "L", "", "N"]
    with pytest.raises(ValueError, match="terms must be"):
        compute_anrind(LAB, terms=("L", "H"))


def test_shift_only_on_selected_known_pairs() -> None:
    frame = pd.DataFrame(
        {"BNRIND": ["NORMAL", "NORMAL", "", "HIGH"], "ANRIND": ["HIGH", "NORMAL", "LOW", "NORMAL"]}
    )
    post = pd.Series([True, False, True, True])
    assert compute_shift(frame, select=post).tolist() == [
        "NORMAL to HIGH",
        "",
        "",
        "HIGH to NORMAL",
    ]


def test_ratios_to_limits() -> None:
    r = compute_r2a1(LAB)
    assert r["R2A1LO"].iloc[0] == 0.75 and r["R2A1HI"].iloc[2] == pytest.approx(20 / 12)
    assert np.isnan(r["R2A1LO"].iloc[6]) and r["R2A1HI"].iloc[6] == 0.5  # A1LO 0: no ratio
    assert np.isnan(r["R2A1LO"].iloc[5])


def test_anrind_on_each_limit_is_normal() -> None:
    """LOW only below the lower limit, HIGH only above the upper one: a value equal to a limit
    (or to a limit times its factor) is NORMAL; with one limit only that side is judged."""
    frame = pd.DataFrame(
        {
            "AVAL": [4.0, 12.0, 3.999, 12.001, 2.0, 18.0, 12.0, 4.0],
            "A1LO": [4.0, 4.0, 4.0, 4.0, 4.0, 4.0, np.nan, 4.0],
            "A1HI": [12.0, 12.0, 12.0, 12.0, 12.0, 12.0, 12.0, np.nan],
        }
    )
    assert compute_anrind(frame).tolist() == [
        "NORMAL",
        "NORMAL",
        "LOW",
        "HIGH",
        "LOW",
        "HIGH",
        "NORMAL",
        "NORMAL",
    ]
    # 2.0 = 0.5 x 4 and 18.0 = 1.5 x 12: on the widened limits
    wide = compute_anrind(frame, low_factor=0.5, high_factor=1.5)
    assert wide.tolist()[4:6] == ["NORMAL", "NORMAL"]


def test_shift_texts_per_record_as_concatenated() -> None:
    categories = ["LOW", "NORMAL", "HIGH", "", None]
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {
            "BNRIND": pd.Series(rng.choice(categories, 200), dtype=object),
            "ANRIND": pd.Series(rng.choice(categories, 200), dtype="str"),
        }
    )
    s, t = (frame[c].astype(object).fillna("") for c in ("BNRIND", "ANRIND"))
    want = [f"{a} to {b}" if a and b else "" for a, b in zip(s, t, strict=True)]
    assert compute_shift(frame).tolist() == want
    post = pd.Series(rng.random(200) < 0.5)
    assert compute_shift(frame, select=post).tolist() == [
        w if p else "" for w, p in zip(want, post, strict=True)
    ]
    empty = compute_shift(frame.iloc[:0])
    assert empty.tolist() == [] and empty.dtype == object


def test_shift_of_categories_that_are_not_text() -> None:
    frame = pd.DataFrame(
        {"BNRIND": [1.0, None, 2.0], "ANRIND": pd.Series([1, "N", 1], dtype=object)}
    )
    assert compute_shift(frame).tolist() == ["1.0 to 1", "", "2.0 to 1"]
