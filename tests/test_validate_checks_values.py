"""The record-level value checks (validate/checks_values.py): ISO 8601 dates, start / end order,
study days against DM.RFSTDTC and the Findings results, each at its boundary."""

from __future__ import annotations

import numpy as np
import pandas as pd
from validate_support import hits, rows

from cdisc_umsc.validate import validate_study
from cdisc_umsc.validate.checks_values import STRESN_RTOL
from cdisc_umsc.validate.igmeta import study_from_ig

NAN = np.nan


def dm(rfstdtc: list[str]) -> pd.DataFrame:
    n = len(rfstdtc)
    return pd.DataFrame(
        {
            "STUDYID": "S",
            "DOMAIN": "DM",
            "USUBJID": [f"S-{i + 1}" for i in range(n)],
            "RFSTDTC": rfstdtc,
        }
    )


def ae(**cols: list) -> pd.DataFrame:
    n = len(next(iter(cols.values())))
    return pd.DataFrame({"STUDYID": "S", "DOMAIN": "AE", **cols}, index=range(n))


# ----------------------------------------------------------------------- UMSC-DT0001


def test_iso8601_impossible_and_malformed_values_are_named_per_record() -> None:
    frame = ae(
        USUBJID=["S-1"] * 7,
        AESTDTC=[
            "2024-02-29",
            "2023-02-29",
            "2024-13",
            "2024-1-01",
            "",
            "2024-01-01T24:00",
            "2024",
        ],
        AEENDTC=["2024-01-01T23:59", "2024-01-01T10:60", "", "", "", "", "2024---15"],
    )
    assert hits("UMSC-DT0001", {"AE": frame}, "AE") == [
        ("AE", 1, "AESTDTC", "2023-02-29", "impossible date/time in AESTDTC: '2023-02-29'"),
        ("AE", 2, "AESTDTC", "2024-13", "impossible date/time in AESTDTC: '2024-13'"),
        ("AE", 3, "AESTDTC", "2024-1-01", "not an ISO 8601 date/time in AESTDTC: '2024-1-01'"),
        (
            "AE",
            5,
            "AESTDTC",
            "2024-01-01T24:00",
            "impossible date/time in AESTDTC: '2024-01-01T24:00'",
        ),
        (
            "AE",
            1,
            "AEENDTC",
            "2024-01-01T10:60",
            "impossible date/time in AEENDTC: '2024-01-01T10:60'",
        ),
    ]


def test_iso8601_seconds_past_a_minute_are_impossible() -> None:
    frame = ae(USUBJID=["S-1"] * 3, AESTDTC=["2024-01-01T10:00:59", "2024-01-01T10:00:61", ""])
    assert rows(hits("UMSC-DT0001", {"AE": frame}, "AE")) == [1]


def test_iso8601_only_dtc_columns_are_read() -> None:
    frame = ae(USUBJID=["S-1"], AETERM=["2024-13"], AESTDTC=["2024-01-01"])
    assert hits("UMSC-DT0001", {"AE": frame}, "AE") == []


# ----------------------------------------------------------------------- UMSC-DT0002


def test_start_after_end_ties_and_partial_dates_do_not_fire() -> None:
    frame = ae(
        USUBJID=["S-1"] * 6,
        AESTDTC=[
            "2024-01-10",  # equal: a tie is not after
            "2024-01-11",
            "2024-01-11T07:00",
            "2024-01-11T07:00",  # time against a date: compared as dates (equal)
            "2024-02",  # partial start: not compared
            "2024-01-11T07:00",
        ],
        AEENDTC=[
            "2024-01-10",
            "2024-01-10",
            "2024-01-11T06:59",
            "2024-01-11",
            "2024-01-01",
            "2024-01-11T07:00",
        ],
    )
    assert hits("UMSC-DT0002", {"AE": frame}, "AE") == [
        ("AE", 1, "AESTDTC", "2024-01-11", "AESTDTC '2024-01-11' is after AEENDTC '2024-01-10'"),
        (
            "AE",
            2,
            "AESTDTC",
            "2024-01-11T07:00",
            "AESTDTC '2024-01-11T07:00' is after AEENDTC '2024-01-11T06:59'",
        ),
    ]


def test_start_after_end_needs_the_pair() -> None:
    frame = ae(USUBJID=["S-1"], AESTDTC=["2024-02-01"], AEDTC=["2024-01-01"])
    assert hits("UMSC-DT0002", {"AE": frame}, "AE") == []
    rf = dm(["2024-02-01"]).assign(RFENDTC=["2024-01-31"])
    assert hits("UMSC-DT0002", {"DM": rf}, "DM") == [
        ("DM", 0, "RFSTDTC", "2024-02-01", "RFSTDTC '2024-02-01' is after RFENDTC '2024-01-31'")
    ]


# ----------------------------------------------------------------------- UMSC-DT0003..5


def study_day_frames() -> dict[str, pd.DataFrame]:
    return {
        "DM": dm(["2024-01-10", "2024-01", "2024-01-10T08:00"]),
        "AE": ae(
            USUBJID=["S-1", "S-1", "S-1", "S-1", "S-2", "S-3", "S-3", "S-9"],
            AESTDTC=[
                "2024-01-10",  # day 1 (the reference day)
                "2024-01-09",  # day -1: there is no day 0
                "2024-01-09",
                "2024-01-11",
                "2024-01-15",  # reference partial
                "2024-01-11T07:00",  # reference with a time: dates compared
                "2024-01",  # partial date
                "2024-01-10",  # no DM record
            ],
            AESTDY=[1.0, -1.0, 0.0, NAN, 6.0, 2.0, 1.0, 1.0],
        ),
    }


def test_study_day_wrong_value_and_no_day_zero() -> None:
    assert hits("UMSC-DT0003", study_day_frames(), "AE") == [
        ("AE", 2, "AESTDY", "0", "AESTDY is 0 but AESTDTC and DM.RFSTDTC give -1"),
    ]


def test_study_day_populated_without_complete_dates() -> None:
    message = "AESTDY is populated but AESTDTC or DM.RFSTDTC is not a complete date"
    assert hits("UMSC-DT0004", study_day_frames(), "AE") == [
        ("AE", 4, "AESTDY", "6", message),
        ("AE", 6, "AESTDY", "1", message),
        ("AE", 7, "AESTDY", "1", message),
    ]


def test_study_day_missing_although_computable() -> None:
    assert hits("UMSC-DT0005", study_day_frames(), "AE") == [
        ("AE", 3, "AESTDY", "", "AESTDY is null but AESTDTC and DM.RFSTDTC give 2"),
    ]


def test_study_days_need_dm_with_rfstdtc() -> None:
    frames = study_day_frames()
    frames["DM"] = frames["DM"].drop(columns="RFSTDTC")
    for rid in ("UMSC-DT0003", "UMSC-DT0004", "UMSC-DT0005"):
        assert hits(rid, frames, "AE") == []
    del frames["DM"]
    for rid in ("UMSC-DT0003", "UMSC-DT0004", "UMSC-DT0005"):
        assert hits(rid, frames, "AE") == []


def test_study_day_uses_the_first_dm_record_of_a_subject() -> None:
    frames = study_day_frames()
    frames["DM"] = pd.concat([frames["DM"], dm(["2024-01-01"])], ignore_index=True)
    assert hits("UMSC-DT0003", frames, "AE") == [
        ("AE", 2, "AESTDY", "0", "AESTDY is 0 but AESTDTC and DM.RFSTDTC give -1"),
    ]


# ----------------------------------------------------------------------- Findings results


def lb(**cols: list) -> pd.DataFrame:
    n = len(next(iter(cols.values())))
    return pd.DataFrame(
        {"STUDYID": "S", "DOMAIN": "LB", "USUBJID": ["S-1"] * n, **cols}, index=range(n)
    )


def test_stresn_against_stresc() -> None:
    frame = lb(
        LBSTRESC=["5.0", "5", " 7 ", "1e3", "<5", "", "3", "NEG", ".5", "2.00000000001"],
        LBSTRESN=[5.0, NAN, 7.0, 1000.0, NAN, NAN, 3.1, 1.0, 0.5, 2.0],
    )
    assert hits("UMSC-FN0001", {"LB": frame}, "LB") == [
        ("LB", 1, "LBSTRESN", "", "LBSTRESN is null although LBSTRESC is numeric (LBSTRESC='5')"),
        ("LB", 6, "LBSTRESN", "3.1", "LBSTRESN differs from LBSTRESC (LBSTRESC='3')"),
        (
            "LB",
            7,
            "LBSTRESN",
            "1",
            "LBSTRESN is populated but LBSTRESC is not numeric (LBSTRESC='NEG')",
        ),
        (
            "LB",
            9,
            "LBSTRESN",
            "2",
            "LBSTRESN differs from LBSTRESC (LBSTRESC='2.00000000001')",
        ),
    ]


def test_stresn_tolerance_is_relative_and_tiny() -> None:
    close = 1.0 + STRESN_RTOL / 10
    far = 1.0 + STRESN_RTOL * 10
    frame = lb(LBSTRESC=["1", "1"], LBSTRESN=[close, far])
    assert rows(hits("UMSC-FN0001", {"LB": frame}, "LB")) == [1]


def test_stresn_needs_both_variables() -> None:
    frame = lb(LBSTRESC=["5"])
    assert hits("UMSC-FN0001", {"LB": frame}, "LB") == []


def test_one_lobxfl_per_subject_test_and_natural_keys() -> None:
    frame = lb(
        LBTESTCD=["ALT", "ALT", "ALT", "AST", "AST", "ALT"],
        LBSPEC=["SERUM", "SERUM", "URINE", "SERUM", "SERUM", "SERUM"],
        LBLOBXFL=["Y", "Y", "Y", "Y", "", ""],
    )
    message = "more than one LBLOBXFL='Y' for the same USUBJID, LBTESTCD, LBSPEC"
    assert hits("UMSC-FN0002", {"LB": frame}, "LB") == [
        ("LB", 0, "LBLOBXFL", "Y", message),
        ("LB", 1, "LBLOBXFL", "Y", message),
    ]


def test_one_lobxfl_other_subjects_are_apart() -> None:
    frame = lb(LBTESTCD=["ALT", "ALT"], LBLOBXFL=["Y", "Y"]).assign(USUBJID=["S-1", "S-2"])
    assert hits("UMSC-FN0002", {"LB": frame}, "LB") == []


def test_one_blfl_per_subject_test_and_time_point() -> None:
    frame = lb(
        LBTESTCD=["ALT", "ALT", "ALT", "ALT"],
        LBTPT=["PRE", "PRE", "POST", "PRE"],
        LBBLFL=["Y", "Y", "Y", ""],
    )
    message = "more than one LBBLFL='Y' for the same USUBJID, LBTESTCD, LBTPT"
    assert hits("UMSC-FN0005", {"LB": frame}, "LB") == [
        ("LB", 0, "LBBLFL", "Y", message),
        ("LB", 1, "LBBLFL", "Y", message),
    ]
    one = lb(LBTESTCD=["ALT"], LBBLFL=["Y"])
    assert hits("UMSC-FN0005", {"LB": one}, "LB") == []


def test_orres_null_is_excused_only_by_not_done_or_derived() -> None:
    frame = lb(
        LBORRES=["5", "", "", "", " "],
        LBSTAT=["", "NOT DONE", "", "not done", ""],
        LBDRVFL=["", "", "Y", "", ""],
    )
    message = "LBORRES is null but LBSTAT is not 'NOT DONE' and LBDRVFL is not 'Y'"
    assert hits("UMSC-FN0003", {"LB": frame}, "LB") == [
        ("LB", 3, "LBORRES", "", message),
        ("LB", 4, "LBORRES", "", message),
    ]


def test_orres_message_names_absent_qualifiers_generically() -> None:
    frame = lb(LBORRES=[""])
    assert hits("UMSC-FN0003", {"LB": frame}, "LB") == [
        (
            "LB",
            0,
            "LBORRES",
            "",
            "LBORRES is null but --STAT is not 'NOT DONE' and --DRVFL is not 'Y'",
        )
    ]


def test_stresu_missing_only_for_tests_that_have_units() -> None:
    frame = lb(
        LBTESTCD=["ALT", "ALT", "PH", "PH", "RATIO", "RATIO", "ALT"],
        LBSTRESN=[5.0, 6.0, 7.0, 7.2, 1.0, 2.0, NAN],
        LBSTRESU=["U/L", "", "", "", "RATIO", "", ""],
    )
    assert hits("UMSC-FN0004", {"LB": frame}, "LB") == [
        (
            "LB",
            1,
            "LBSTRESU",
            "",
            "LBSTRESU is null but LBSTRESN is 6 and other LBTESTCD 'ALT' records have units",
        )
    ]


def test_stresu_tests_are_told_apart_by_category() -> None:
    frame = lb(
        LBTESTCD=["GLUC", "GLUC"],
        LBCAT=["CHEMISTRY", "URINALYSIS"],
        LBSTRESN=[5.0, 1.0],
        LBSTRESU=["mmol/L", ""],
    )
    assert hits("UMSC-FN0004", {"LB": frame}, "LB") == []
    assert rows(hits("UMSC-FN0004", {"LB": frame.drop(columns="LBCAT")}, "LB")) == [1]


def test_findings_rules_report_with_catalogue_severity_and_wording() -> None:
    frames = {"LB": lb(LBSTRESC=["5"], LBSTRESN=[4.0])}
    found = validate_study(frames, study_from_ig(frames))
    f = found.of("UMSC-FN0001")
    assert f[["severity", "dataset", "usubjid", "row", "variable", "value"]].values.tolist() == [
        ["error", "LB", "S-1", 1, "LBSTRESN", "4"]
    ]
    assert f["message"].iloc[0] == (
        "--STRESN is not consistent with --STRESC: LBSTRESN differs from LBSTRESC (LBSTRESC='5')"
    )
