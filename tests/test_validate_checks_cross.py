"""The cross-dataset checks (validate/checks_cross.py): subjects in DM, SUPP-- parents and
RDOMAIN / IDVAR, VISITNUM <-> VISIT within and across datasets."""

from __future__ import annotations

import pandas as pd
from validate_support import hits


def dm(subjects: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"STUDYID": "S", "DOMAIN": "DM", "USUBJID": subjects})


def ae(subjects: list[str], seq: list[float] | None = None) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "STUDYID": "S",
            "DOMAIN": "AE",
            "USUBJID": subjects,
            "AESEQ": seq or [float(i + 1) for i in range(len(subjects))],
        }
    )


def supp(rdomain: list[str], usubjid: list[str], idvar: list[str], idvarval: list[str]):
    return pd.DataFrame(
        {
            "STUDYID": "S",
            "RDOMAIN": rdomain,
            "USUBJID": usubjid,
            "IDVAR": idvar,
            "IDVARVAL": idvarval,
            "QNAM": "X",
            "QVAL": "1",
        }
    )


# ----------------------------------------------------------------------- UMSC-XD0001


def test_subject_not_in_dm_blank_usubjid_is_not_this_rule() -> None:
    frames = {"DM": dm(["S-1"]), "AE": ae(["S-1", "S-2", ""])}
    assert hits("UMSC-XD0001", frames, "AE") == [
        ("AE", 1, "USUBJID", "S-2", "USUBJID 'S-2' is not in DM")
    ]
    assert hits("UMSC-XD0001", frames, "DM") == []


def test_subject_check_without_dm_is_one_note() -> None:
    assert hits("UMSC-XD0001", {"AE": ae(["S-1", "S-2"])}, "AE") == [
        ("AE", -1, "USUBJID", "", "no DM dataset with USUBJID: subjects of AE cannot be checked")
    ]


# ----------------------------------------------------------------------- SUPP--


def test_rdomain_not_a_dataset_of_the_study() -> None:
    frames = {
        "AE": ae(["S-1"]),
        "SUPPAE": supp(["AE", "CM"], ["S-1", "S-1"], ["AESEQ", "CMSEQ"], ["1", "1"]),
    }
    assert hits("UMSC-XD0002", frames, "SUPPAE") == [
        ("SUPPAE", 1, "RDOMAIN", "CM", "RDOMAIN 'CM' is not a domain of the study")
    ]


def test_rdomain_of_a_split_dataset_counts_as_its_domain() -> None:
    lbch = pd.DataFrame(
        {"STUDYID": "S", "DOMAIN": "LB", "USUBJID": ["S-1"], "LBSEQ": [1.0], "LBTESTCD": ["ALT"]}
    )
    frames = {"LBCH": lbch, "SUPPLBCH": supp(["LB"], ["S-1"], ["LBSEQ"], ["1"])}
    assert hits("UMSC-XD0002", frames, "SUPPLBCH") == []
    assert hits("UMSC-XD0004", frames, "SUPPLBCH") == []


def test_idvar_not_a_variable_of_the_parent() -> None:
    frames = {
        "AE": ae(["S-1"]),
        "SUPPAE": supp(["AE", "AE"], ["S-1", "S-1"], ["AESEQ", "AEGRPID"], ["1", "G1"]),
    }
    assert hits("UMSC-XD0003", frames, "SUPPAE") == [
        ("SUPPAE", 1, "IDVAR", "AEGRPID", "IDVAR AEGRPID is not a variable of AE")
    ]


def test_supp_parent_record_numeric_idvarval_and_subject_level() -> None:
    frames = {
        "AE": ae(["S-1", "S-1", "S-2"], [1.0, 2.0, 1.0]),
        "SUPPAE": supp(
            ["AE", "AE", "AE", "AE", "AE"],
            ["S-1", "S-1", "S-2", "S-3", "S-2"],
            ["AESEQ", "AESEQ", "AESEQ", "", ""],
            ["2", "3", " 1.0", "", ""],
        ),
    }
    assert hits("UMSC-XD0004", frames, "SUPPAE") == [
        (
            "SUPPAE",
            1,
            "IDVARVAL",
            "3",
            "no AE record with USUBJID 'S-1' and AESEQ = '3'",
        ),
        ("SUPPAE", 3, "IDVARVAL", "", "no AE record for USUBJID 'S-3'"),
    ]


def test_supp_parent_text_idvarval_is_matched_as_text() -> None:
    parent = ae(["S-1"]).assign(AEGRPID=["G1"])
    frames = {
        "AE": parent,
        "SUPPAE": supp(["AE", "AE"], ["S-1", "S-1"], ["AEGRPID", "AEGRPID"], ["G1", "g1"]),
    }
    assert hits("UMSC-XD0004", frames, "SUPPAE") == [
        ("SUPPAE", 1, "IDVARVAL", "g1", "no AE record with USUBJID 'S-1' and AEGRPID = 'g1'")
    ]


def test_supp_checks_need_the_supp_variables() -> None:
    frames = {
        "AE": ae(["S-1"]),
        "SUPPAE": supp(["CM"], ["S-1"], ["X"], ["1"]).drop(columns="IDVAR"),
    }
    for rid in ("UMSC-XD0002", "UMSC-XD0003", "UMSC-XD0004"):
        assert hits(rid, frames, "SUPPAE") == []


# ----------------------------------------------------------------------- visits


def sv(num: list, visit: list[str], domain: str = "SV") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "STUDYID": "S",
            "DOMAIN": domain,
            "USUBJID": ["S-1"] * len(num),
            "VISITNUM": num,
            "VISIT": visit,
        }
    )


def test_visitnum_and_visit_one_to_one_within_a_dataset() -> None:
    frame = sv([1.0, 1.0, 2.0, 3.0, 3.0, 4.0], ["SCREEN", "SCREEN", "WEEK 1", "WEEK 1", "", "W4"])
    assert hits("UMSC-XD0005", {"SV": frame}, "SV") == [
        ("SV", 2, "VISITNUM", "2", "VISIT 'WEEK 1' has VISITNUM values 2 | 3"),
        ("SV", 3, "VISITNUM", "3", "VISIT 'WEEK 1' has VISITNUM values 2 | 3"),
    ]
    frame = sv([1.0, 1.0, 1.0], ["SCREEN", "DAY 1", "SCREEN"])
    assert hits("UMSC-XD0005", {"SV": frame}, "SV") == [
        ("SV", 0, "VISITNUM", "1", "VISITNUM '1' has VISIT values DAY 1 | SCREEN"),
        ("SV", 1, "VISITNUM", "1", "VISITNUM '1' has VISIT values DAY 1 | SCREEN"),
    ]


def test_visitnum_and_visit_across_datasets() -> None:
    frames = {
        "SV": sv([1.0, 2.0], ["SCREEN", "WEEK 1"]),
        "VS": sv([1.0, 2.0], ["SCREEN", "WK 1"], "VS"),
    }
    listing = "VISITNUM '2' differs across datasets: 'WEEK 1' (SV), 'WK 1' (VS)"
    assert hits("UMSC-XD0006", frames) == [
        ("SV", 1, "VISITNUM", "2", listing),
        ("VS", 1, "VISITNUM", "2", listing),
    ]
    same = {"SV": sv([1.0], ["SCREEN"]), "VS": sv([1.0], ["SCREEN"], "VS")}
    assert hits("UMSC-XD0006", same) == []


def test_visit_conflict_inside_one_dataset_is_not_an_across_finding() -> None:
    frames = {"SV": sv([1.0, 1.0], ["SCREEN", "DAY 1"]), "VS": sv([3.0], ["WEEK 2"], "VS")}
    assert hits("UMSC-XD0006", frames) == []
