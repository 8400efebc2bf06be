"""Record flags (cdisc_umsc/adam/flags.py): ONTRTFL, TRTEMFL, first/last occurrence."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cdisc_umsc.adam.flags import (
    compute_after_first_dose,
    compute_extreme_flag,
    compute_ontrtfl,
    compute_timed,
    compute_trtemfl,
)

NAN = np.nan


def test_ontrtfl() -> None:
    frame = pd.DataFrame(
        {
            "ADT": [9.0, 10.0, 20.0, 25.0, NAN, 30.0],
            "TRTSDT": [10.0] * 5 + [NAN],
            "TRTEDT": [20.0] * 6,
        }
    )
    assert compute_ontrtfl(frame).tolist() == ["", "Y", "Y", "", "", ""]
    assert compute_ontrtfl(frame, end_window=5).tolist() == ["", "Y", "Y", "Y", "", ""]
    with pytest.raises(ValueError, match="end_window must be >= 0"):
        compute_ontrtfl(frame, end_window=-1)


DAY = 86400.0
DOSE = 10 * DAY + 9 * 3600 + 45 * 60  # first dose: day 10 at 09:45


def _timed_frame() -> pd.DataFrame:
    """Records around a first dose on day 10 at 09:45 (last dose day 20)."""
    return pd.DataFrame(
        {
            # day 9 | day 10 08:00 | day 10 09:45 | day 10 11:00 | day 10 no time |
            # day 11 no time | day 10 time with only seconds imputed | day 10 hour imputed
            "ADT": [9.0, 10.0, 10.0, 10.0, 10.0, 11.0, 10.0, 10.0],
            "ADTM": [
                9 * DAY + 12 * 3600,
                10 * DAY + 8 * 3600,
                DOSE,
                10 * DAY + 11 * 3600,
                NAN,
                NAN,
                10 * DAY + 11 * 3600,
                10 * DAY,
            ],
            "ATMF": ["", "", "", "", "", "", "S", "H"],
            "TRTSDT": [10.0] * 8,
            "TRTSDTM": [DOSE] * 8,
            "TRTSTMF": ["S"] * 8,  # dose time collected to the minute
            "TRTEDT": [20.0] * 8,
        }
    )


def test_ontrtfl_compares_date_times_where_both_have_a_time() -> None:
    frame = _timed_frame()
    # same day before the dose: pre-treatment; at and after the dose time: on treatment;
    # no time (or only the hour imputed) on the dose day: the same_day rule decides
    assert compute_ontrtfl(frame, same_day="pre_dose").tolist() == [
        "", "", "Y", "Y", "", "Y", "Y", "",
    ]  # fmt: skip
    assert compute_ontrtfl(frame, same_day="on_treatment").tolist() == [
        "", "", "Y", "Y", "Y", "Y", "Y", "Y",
    ]  # fmt: skip
    assert compute_timed(frame, "ADTM", "ATMF").tolist() == [
        True, True, True, True, False, False, True, False,
    ]  # fmt: skip


def test_ontrtfl_dates_only_when_the_dose_time_is_unknown() -> None:
    frame = _timed_frame()
    frame["TRTSTMF"] = "H"  # the first dose has a date only: every record compared by date
    assert compute_ontrtfl(frame, same_day="pre_dose").tolist() == [
        "", "", "", "", "", "Y", "", "",
    ]  # fmt: skip
    without = frame.drop(columns=["ADTM", "ATMF", "TRTSDTM", "TRTSTMF"])
    assert compute_after_first_dose(without, same_day="pre_dose").tolist() == [
        False, False, False, False, False, True, False, False,
    ]  # fmt: skip
    missing = pd.DataFrame({"ADT": [NAN, 12.0], "TRTSDT": [10.0, NAN], "TRTEDT": [20.0, 20.0]})
    assert compute_ontrtfl(missing, same_day="pre_dose").tolist() == ["", ""]
    with pytest.raises(ValueError, match="same_day must be one of on_treatment, pre_dose"):
        compute_ontrtfl(frame, same_day="before")


def test_trtemfl_and_missing_start_rule() -> None:
    frame = pd.DataFrame(
        {
            "ASTDT": [5.0, 10.0, 50.0, 60.0, NAN, NAN, 12.0],
            "AENDT": [6.0, 11.0, 51.0, 61.0, 8.0, NAN, 13.0],
            "TRTSDT": [10.0] * 6 + [NAN],
            "TRTEDT": [20.0] * 7,
        }
    )
    assert compute_trtemfl(frame, end_window=30).tolist() == ["", "Y", "Y", "", "", "Y", ""]
    assert compute_trtemfl(frame, end_window=30, missing_start="not").tolist() == [
        "",
        "Y",
        "Y",
        "",
        "",
        "",
        "",
    ]
    with pytest.raises(ValueError, match="missing_start must be"):
        compute_trtemfl(frame, missing_start="maybe")


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
    assert compute_extreme_flag(frame, ["USUBJID"], ["ASTDT", "AESEQ"], "first", sel).tolist() == [
        "",
        "Y",
        "",
        "Y",
    ]
    assert compute_extreme_flag(
        frame, ["USUBJID", "AEDECOD"], ["ASTDT", "AESEQ"], "first", sel
    ).tolist() == ["Y", "Y", "", "Y"]
    assert compute_extreme_flag(frame, ["USUBJID"], ["ASTDT"], "last").tolist() == [
        "Y",
        "",
        "",
        "Y",
    ]


def test_timed_needs_a_value_and_a_collected_hour_and_minute() -> None:
    frame = pd.DataFrame({"ADTM": [DOSE, NAN, DOSE, DOSE, DOSE], "ATMF": ["", "", "M", "S", None]})
    # a null flag is no imputation; M or H imputed the minute or hour
    assert compute_timed(frame, "ADTM", "ATMF").tolist() == [True, False, False, True, True]
    # without a flag variable every present value counts as timed
    assert compute_timed(frame, "ADTM", None).tolist() == [True, False, True, True, True]
    assert compute_timed(frame.drop(columns="ATMF"), "ADTM", "ATMF").tolist() == [
        True, False, True, True, True,
    ]  # fmt: skip
    assert compute_timed(frame, "NODTM", "ATMF").tolist() == [False] * 5


def test_after_first_dose_per_record_when_only_some_dose_times_are_known() -> None:
    frame = pd.DataFrame(
        {
            # subject 1: dose timed 09:45; subject 2: dose time unknown; subject 3: no dose
            "ADT": [10.0, 10.0, 10.0, 10.0, 10.0],
            "ADTM": [10 * DAY + 8 * 3600, DOSE, 10 * DAY + 8 * 3600, DOSE, DOSE],
            "ATMF": ["", "", "", "", ""],
            "TRTSDT": [10.0, 10.0, 10.0, 10.0, NAN],
            "TRTSDTM": [DOSE, DOSE, NAN, NAN, NAN],
            "TRTSTMF": ["", "", "", "", ""],
            "TRTEDT": [10.0, 10.0, 10.0, 10.0, NAN],
        }
    )
    # subject 1 by time (08:00 before, 09:45 at the dose); subject 2 by date (same_day);
    # subject 3 never, whatever the times
    assert compute_after_first_dose(frame, same_day="pre_dose").tolist() == [
        False, True, False, False, False,
    ]  # fmt: skip
    assert compute_after_first_dose(frame, same_day="on_treatment").tolist() == [
        False, True, True, True, False,
    ]  # fmt: skip


def test_ontrtfl_end_is_compared_as_dates_with_the_window() -> None:
    frame = _timed_frame()
    frame["ADT"] = [20.0, 21.0, 22.0, 23.0, 20.0, 21.0, 22.0, 23.0]
    frame["ADTM"] = frame["ADT"] * DAY + 23 * 3600  # late in the day: the end has no time
    frame["ATMF"] = ""
    assert compute_ontrtfl(frame, end_window=2, same_day="pre_dose").tolist() == [
        "Y", "Y", "Y", "", "Y", "Y", "Y", "",
    ]  # fmt: skip


def test_trtemfl_on_the_first_and_last_dose_days_without_a_window() -> None:
    """With no window (the default) an event starting on the first or on the last dose day is
    emergent, one the day after is not; an event with no start that ended on the first dose day
    may have started then, so it is emergent, one that ended the day before is not."""
    frame = pd.DataFrame(
        {
            "ASTDT": [10.0, 20.0, 21.0, 9.0, NAN, NAN],
            "AENDT": [11.0, 22.0, 22.0, 9.0, 10.0, 9.0],
            "TRTSDT": [10.0] * 6,
            "TRTEDT": [20.0] * 6,
        }
    )
    assert compute_trtemfl(frame).tolist() == ["Y", "Y", "", "", "Y", ""]
    with pytest.raises(ValueError, match="end_window must be >= 0"):
        compute_trtemfl(frame, end_window=-1)
