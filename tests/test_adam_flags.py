"""Record flags (cdisc_umsc/adam/flags.py): ONTRTFL, TRTEMFL, first/last occurrence."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cdisc_umsc.adam.flags import derive_var_extreme_flag, derive_var_ontrtfl, derive_var_trtemfl

NAN = np.nan


def test_ontrtfl() -> None:
    frame = pd.DataFrame(
        {
            "ADT": [9.0, 10.0, 20.0, 25.0, NAN, 30.0],
            "TRTSDT": [10.0] * 5 + [NAN],
            "TRTEDT": [20.0] * 6,
        }
    )
    assert derive_var_ontrtfl(frame).tolist() == ["", "Y", "Y", "", "", ""]
    assert derive_var_ontrtfl(frame, end_window=5).tolist() == ["", "Y", "Y", "Y", "", ""]
    with pytest.raises(ValueError, match="end_window must be >= 0"):
        derive_var_ontrtfl(frame, end_window=-1)


def test_trtemfl_and_missing_start_rule() -> None:
    frame = pd.DataFrame(
        {
            "ASTDT": [5.0, 10.0, 50.0, 60.0, NAN, NAN, 12.0],
            "AENDT": [6.0, 11.0, 51.0, 61.0, 8.0, NAN, 13.0],
            "TRTSDT": [10.0] * 6 + [NAN],
            "TRTEDT": [20.0] * 7,
        }
    )
    assert derive_var_trtemfl(frame, end_window=30).tolist() == ["", "Y", "Y", "", "", "Y", ""]
    assert derive_var_trtemfl(frame, end_window=30, missing_start="not").tolist() == [
        "",
        "Y",
        "Y",
        "",
        "",
        "",
        "",
    ]
    with pytest.raises(ValueError, match="missing_start must be"):
        derive_var_trtemfl(frame, missing_start="maybe")


def test_first_occurrence_within_selection() -> None:
    frame = pd.DataFrame(
        {
            "USUBJID": ["A", "A", "A", "B"],
            "AEDECOD": ["X", "Y", "X", "X"],
            "ASTDT": [5.0, 3.0, 1.0, NAN],
            "AESEQ": [1, 2, 3, 1],
            "TRTEMFL": ["Y", "Y", "", "Y"],
        }
    )
    sel = frame["TRTEMFL"] == "Y"
    assert derive_var_extreme_flag(
        frame, ["USUBJID"], ["ASTDT", "AESEQ"], "first", sel
    ).tolist() == ["", "Y", "", "Y"]
    assert derive_var_extreme_flag(
        frame, ["USUBJID", "AEDECOD"], ["ASTDT", "AESEQ"], "first", sel
    ).tolist() == ["Y", "Y", "", "Y"]
    assert derive_var_extreme_flag(frame, ["USUBJID"], ["ASTDT"], "last").tolist() == [
        "Y",
        "",
        "",
        "Y",
    ]
