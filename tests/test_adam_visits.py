"""Analysis visits (cdisc_umsc/adam/visits.py): map, windows, one record per window, copies."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cdisc_umsc.adam.visits import (
    compute_anl_flag,
    compute_avisit_map,
    compute_avisit_windows,
    derive_extreme_records,
)

WINDOWS = [
    {"AVISIT": "Week 2", "AVISITN": 2, "lo": 8, "hi": 21, "target": 15},
    {"AVISIT": "Baseline", "AVISITN": 0, "lo": -30, "hi": 1, "target": 1},
    {"AVISIT": "Week 4", "AVISITN": 4, "lo": 22, "hi": 35, "target": 29},
]


def test_visit_map_leaves_unmapped_as_told() -> None:
    frame = pd.DataFrame({"VISIT": ["SCREENING 1", "WEEK 2", "UNSCHEDULED 1.1"]})
    out = compute_avisit_map(
        frame, "VISIT", {"SCREENING 1": ("Baseline", 0), "WEEK 2": ("Week 2", 2)}, unmapped="."
    )
    assert out["AVISIT"].tolist() == ["Baseline", "Week 2", "."]
    assert out["AVISITN"].tolist()[:2] == [0.0, 2.0] and np.isnan(out["AVISITN"].iloc[2])


def test_windows_assign_visit_and_bounds() -> None:
    frame = pd.DataFrame({"ADY": [-3, 1, 2, 8, 21, 22, 40, np.nan]})
    out = compute_avisit_windows(frame, "ADY", WINDOWS)
    assert out["AVISIT"].tolist() == [
        "Baseline",
        "Baseline",
        "",
        "Week 2",
        "Week 2",
        "Week 4",
        "",
        "",
    ]
    assert out.loc[3, ["AWLO", "AWHI", "AWTARGET"]].tolist() == [8.0, 21.0, 15.0]
    with pytest.raises(ValueError, match="windows Week 2 and Week 4 overlap"):
        compute_avisit_windows(frame, "ADY", [*WINDOWS[:1], {**WINDOWS[2], "lo": 21}])


def test_two_records_in_one_window() -> None:
    frame = pd.DataFrame(
        {
            "USUBJID": ["A"] * 5 + ["B"] * 2,
            "AVISITN": [2, 2, 2, 4, 4, 2, 2],
            "ADY": [12, 18, 14, 29, 30, 13, 17],
            "AWTARGET": [15, 15, 15, 29, 29, 15, 15],
            "AVAL": [1.0, 2.0, np.nan, 3.0, 4.0, 5.0, 6.0],
        }
    )
    # A/Week 2: day 14 is closest but has no value; 12 and 18 are 3 days off: earlier wins.
    assert compute_anl_flag(frame, ["USUBJID", "AVISITN"]).tolist() == [
        "Y",
        "",
        "",
        "Y",
        "",
        "Y",
        "",
    ]
    assert compute_anl_flag(frame, ["USUBJID", "AVISITN"], "last").tolist() == [
        "",
        "Y",
        "",
        "",
        "Y",
        "",
        "Y",
    ]
    with pytest.raises(ValueError, match="rule must be closest, first or last"):
        compute_anl_flag(frame, ["USUBJID"], "nearest")


def test_extreme_records_are_copies() -> None:
    frame = pd.DataFrame(
        {
            "USUBJID": ["A", "A", "A", "B"],
            "PARAMCD": ["K"] * 4,
            "AVISIT": ["Week 2", "Week 4", "Week 26", "Week 2"],
            "AVISITN": [2.0, 4.0, 26.0, 2.0],
            "AVAL": [1.0, np.nan, 3.0, 4.0],
        }
    )
    sel = frame["AVISITN"].between(2, 24)
    new = derive_extreme_records(
        frame,
        ["USUBJID", "PARAMCD"],
        ["AVISITN"],
        sel,
        "last",
        {"AVISIT": "End of Treatment", "AVISITN": 99.0},
    )
    assert new["AVISIT"].tolist() == ["End of Treatment"] * 2
    assert new["AVAL"].isna().tolist() == [True, False]  # A's last is Week 4 (no value)
    assert frame["AVISITN"].tolist() == [2.0, 4.0, 26.0, 2.0]  # input untouched
