"""The subject timing checks (validate/checks_timing.py): DM RFXSTDTC / RFXENDTC against EX,
and AE / Findings dates against consent and the end of participation."""

from __future__ import annotations

import pandas as pd
from validate_support import hits


def dm(**cols: list) -> pd.DataFrame:
    n = len(next(iter(cols.values())))
    return pd.DataFrame(
        {"STUDYID": "S", "DOMAIN": "DM", "USUBJID": [f"S-{i + 1}" for i in range(n)], **cols}
    )


def ex(usubjid: list[str], start: list[str], end: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {"STUDYID": "S", "DOMAIN": "EX", "USUBJID": usubjid, "EXSTDTC": start, "EXENDTC": end}
    )


EX = ex(
    ["S-1", "S-1", "S-2", "S-2", "S-3"],
    ["2024-01-10T09:00", "2024-01-20", "2024-02-01", "2024-02-10", ""],
    ["2024-01-19", "2024-01-30", "2024-02-09", "", ""],
)


def test_rfxstdtc_is_the_earliest_exstdtc() -> None:
    frames = {"DM": dm(RFXSTDTC=["2024-01-10T09:00", "2024-02-10", ""]), "EX": EX}
    assert hits("UMSC-XD0007", frames, "DM") == [
        (
            "DM",
            1,
            "RFXSTDTC",
            "2024-02-10",
            "RFXSTDTC '2024-02-10' but the earliest EXSTDTC is '2024-02-01'",
        )
    ]


def test_rfxstdtc_blank_for_a_subject_never_dosed_and_populated_is_a_finding() -> None:
    frames = {"DM": dm(RFXSTDTC=["2024-01-10T09:00", "2024-02-01", "2024-03-01"]), "EX": EX}
    assert hits("UMSC-XD0007", frames, "DM") == [
        ("DM", 2, "RFXSTDTC", "2024-03-01", "RFXSTDTC '2024-03-01' but the earliest EXSTDTC is ''")
    ]


def test_rfxendtc_is_the_latest_exendtc_or_the_latest_exstdtc() -> None:
    frames = {"DM": dm(RFXENDTC=["2024-01-30", "2024-02-10", ""]), "EX": EX}
    assert hits("UMSC-XD0008", frames, "DM") == []
    frames = {"DM": dm(RFXENDTC=["2024-01-19", "2024-02-09", ""]), "EX": EX}
    assert hits("UMSC-XD0008", frames, "DM") == [
        (
            "DM",
            0,
            "RFXENDTC",
            "2024-01-19",
            "RFXENDTC '2024-01-19' but the latest EXENDTC is '2024-01-30', "
            "the latest EXSTDTC is '2024-01-20'",
        )
    ]


def test_rf_dates_need_ex_and_only_judge_dm() -> None:
    assert hits("UMSC-XD0007", {"DM": dm(RFXSTDTC=["2024-01-01"])}, "DM") == []
    no_start = {"DM": dm(RFXSTDTC=["2024-01-01"]), "EX": EX.drop(columns="EXSTDTC")}
    assert hits("UMSC-XD0007", no_start, "DM") == []
    frames = {"DM": dm(RFXSTDTC=["2024-01-01"]), "EX": EX}
    assert hits("UMSC-XD0007", frames, "EX") == []


def participation() -> dict[str, pd.DataFrame]:
    return {
        "DM": dm(
            RFICDTC=["2024-01-05", "2024-01", ""],
            RFPENDTC=["2024-03-01T10:00", "2024-03-01", "2024-03-01"],
        ),
        "AE": pd.DataFrame(
            {
                "STUDYID": "S",
                "DOMAIN": "AE",
                "USUBJID": ["S-1", "S-1", "S-1", "S-1", "S-2", "S-3", "S-9"],
                "AESTDTC": [
                    "2024-01-04",  # a day before consent
                    "2024-01-05T08:00",  # the consent day: not before
                    "2024-03-01T23:00",  # the last day: not after
                    "2024-03-02",  # a day after the end
                    "2023-12-31",  # consent partial: not judged
                    "2024-04",  # partial AE date: not judged
                    "2020-01-01",  # no DM record
                ],
            }
        ),
    }


def test_ae_start_before_consent() -> None:
    assert hits("UMSC-XD0009", participation(), "AE") == [
        ("AE", 0, "AESTDTC", "2024-01-04", "AESTDTC '2024-01-04' is before DM.RFICDTC '2024-01-05'")
    ]


def test_ae_start_after_the_end_of_participation() -> None:
    assert hits("UMSC-XD0010", participation(), "AE") == [
        (
            "AE",
            3,
            "AESTDTC",
            "2024-03-02",
            "AESTDTC '2024-03-02' is after DM.RFPENDTC '2024-03-01'",
        )
    ]


def test_findings_date_is_judged_and_events_other_than_ae_are_not() -> None:
    frames = participation()
    frames["VS"] = pd.DataFrame(
        {"STUDYID": "S", "DOMAIN": "VS", "USUBJID": ["S-1", "S-1"], "VSDTC": ["2024-01-01", ""]}
    )
    frames["MH"] = pd.DataFrame(
        {"STUDYID": "S", "DOMAIN": "MH", "USUBJID": ["S-1"], "MHSTDTC": ["2000-01-01"]}
    )
    assert hits("UMSC-XD0009", frames, "VS") == [
        ("VS", 0, "VSDTC", "2024-01-01", "VSDTC '2024-01-01' is before DM.RFICDTC '2024-01-05'")
    ]
    assert hits("UMSC-XD0009", frames, "MH") == []


def test_participation_needs_the_dm_date() -> None:
    frames = participation()
    frames["DM"] = frames["DM"].drop(columns="RFICDTC")
    assert hits("UMSC-XD0009", frames, "AE") == []
