"""The dataset structure checks (validate/checks_structure.py): data against metadata, IG core
designations, types and labels, byte lengths at their limits, uniqueness, read issues."""

from __future__ import annotations

import pandas as pd
from validate_support import context, hits, with_meta, with_var

from cdisc_umsc.metadata.model import Study
from cdisc_umsc.validate.checks_structure import MAX_CHAR_BYTES, ig_name
from cdisc_umsc.validate.igmeta import study_from_ig


def ae(**changes: object) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "STUDYID": "S",
            "DOMAIN": "AE",
            "USUBJID": ["S-1", "S-1", "S-2"],
            "AESEQ": [1.0, 2.0, 1.0],
            "AETERM": ["HEADACHE", "NAUSEA", "RASH"],
            "AEDECOD": ["Headache", "Nausea", "Rash"],
        }
    )
    return frame.assign(**changes)


def frames(**changes: object) -> dict[str, pd.DataFrame]:
    return {"AE": ae(**changes)}


# ----------------------------------------------------------------------- data vs metadata


def test_dataset_without_metadata() -> None:
    data = frames()
    study = Study("S", "SDTMIG", "3.4", "2025-03-28", datasets={})
    assert hits("UMSC-MD0001", data, "AE", study) == [
        ("AE", -1, "", "AE", "AE is not in study.datasets")
    ]
    assert hits("UMSC-MD0001", data, "AE") == []
    for rid in ("UMSC-MD0002", "UMSC-MD0003", "UMSC-MD0004", "UMSC-SD0005", "UMSC-SD0006"):
        assert hits(rid, data, "AE", study) == []


def test_variables_of_data_and_metadata_agree() -> None:
    study = study_from_ig(frames())
    data = frames(AEFOO=["a", "b", "c"])
    assert hits("UMSC-MD0002", data, "AE", study) == [("AE", -1, "AEFOO", "", "AE.AEFOO")]
    fewer = {"AE": ae().drop(columns="AEDECOD")}
    assert hits("UMSC-MD0003", fewer, "AE", study) == [("AE", -1, "AEDECOD", "", "AE.AEDECOD")]


def test_column_dtype_against_the_metadata_type() -> None:
    data = frames(AETERM=[1.0, 2.0, 3.0], AESEQ=[True, False, True])
    study = study_from_ig(frames())
    assert hits("UMSC-MD0004", data, "AE", study) == [
        (
            "AE",
            -1,
            "AESEQ",
            "bool",
            "AE.AESEQ is Num in the metadata but the column holds dtype bool",
        ),
        (
            "AE",
            -1,
            "AETERM",
            "float64",
            "AE.AETERM is Char in the metadata but the column holds dtype float64",
        ),
    ]


def test_unbundled_ig_version_is_named_once() -> None:
    data = frames()
    study = study_from_ig(data, ig_version="3.2")
    assert hits("UMSC-MD0005", data, study=study) == [
        (
            "",
            -1,
            "",
            "SDTMIG 3.2",
            "the study names SDTMIG 3.2; datasets were checked against SDTMIG 3.4",
        )
    ]
    assert hits("UMSC-MD0005", data) == []


def test_ig_name_of_define_standard_names() -> None:
    assert [ig_name(s) for s in ("CDISC SDTM", "SDTM-IG", "ADaM", "adamig", "SEND")] == [
        "SDTMIG",
        "SDTMIG",
        "ADaMIG",
        "ADaMIG",
        "SEND",
    ]


# ----------------------------------------------------------------------- core designations


def test_required_variable_missing_and_null() -> None:
    data = {"AE": ae().drop(columns="AEDECOD").assign(AETERM=["X", "", " "])}
    assert hits("UMSC-SD0001", data, "AE") == [("AE", -1, "AEDECOD", "", "AE.AEDECOD")]
    assert hits("UMSC-SD0002", data, "AE") == [
        ("AE", 1, "AETERM", "", "AE.AETERM"),
        ("AE", 2, "AETERM", "", "AE.AETERM"),
    ]


def test_required_by_the_metadata_counts_too() -> None:
    data = frames(AESPID=["1", "", "3"])
    study = with_var(study_from_ig(data), "AE", "AESPID", core="Req")
    assert hits("UMSC-SD0002", data, "AE", study) == [("AE", 1, "AESPID", "", "AE.AESPID")]


def test_numeric_required_null_is_nan() -> None:
    data = frames(AESEQ=[1.0, float("nan"), 1.0])
    assert hits("UMSC-SD0002", data, "AE") == [("AE", 1, "AESEQ", "", "AE.AESEQ")]


def test_expected_variables_missing_and_development_profile() -> None:
    data = frames(
        **{
            v: ["x"] * 3
            for v in (
                "AELLT AELLTCD AEPTCD AEHLT AEHLTCD AEHLGT AEHLGTCD AEBODSYS AEBDSYCD AESOC "
                "AESOCCD AESER AEACN AEREL AESTDTC"
            ).split()
        }
    )
    assert hits("UMSC-SD0003", data, "AE") == [("AE", -1, "AEENDTC", "", "AE.AEENDTC")]


def test_variable_not_allowed_by_ig_or_model() -> None:
    data = frames(AEFOO=["x"] * 3, AEGRPID=["1"] * 3)  # --GRPID: an Identifier of the model
    assert hits("UMSC-SD0004", data, "AE") == [
        (
            "AE",
            -1,
            "AEFOO",
            "",
            "AEFOO is not an IG variable of AE and the SDTM model does not allow it in class "
            "Events (use SUPPAE)",
        )
    ]


def test_variable_check_needs_a_class() -> None:
    data = {"ZZ": pd.DataFrame({"STUDYID": ["S"], "ZZFOO": ["x"]})}
    assert hits("UMSC-SD0004", data, "ZZ") == [
        (
            "ZZ",
            -1,
            "",
            "ZZ",
            "class of ZZ is unknown: its variables STUDYID, ZZFOO cannot be checked against the "
            "model",
        )
    ]


def test_type_and_label_against_the_ig() -> None:
    data = frames()
    study = with_var(study_from_ig(data), "AE", "AESEQ", type="Char")
    study = with_var(study, "AE", "AETERM", label="Term")
    assert hits("UMSC-SD0005", data, "AE", study) == [
        ("AE", -1, "AESEQ", "Char", "AE.AESEQ is Char; the IG says Num")
    ]
    assert hits("UMSC-SD0006", data, "AE", study) == [
        (
            "AE",
            -1,
            "AETERM",
            "Term",
            "AE.AETERM label 'Term'; the IG says 'Reported Term for the Adverse Event'",
        )
    ]


# ----------------------------------------------------------------------- lengths


def test_200_bytes_is_the_limit_counted_in_utf8() -> None:
    assert MAX_CHAR_BYTES == 200
    at_limit = "a" * 200
    wide = "\u00e9" * 100  # 200 bytes in UTF-8
    over = "\u00e9" * 100 + "x"  # 201 bytes, 101 characters
    data = frames(AETERM=[at_limit, wide, over])
    assert hits("UMSC-SD0007", data, "AE") == [
        ("AE", 2, "AETERM", over, "201 bytes in AETERM (limit 200)")
    ]


def test_declared_length_exactly_at_and_one_past() -> None:
    data = frames(AETERM=["ABC", "ABCD", ""])
    study = with_var(study_from_ig(data), "AE", "AETERM", length=3)
    assert hits("UMSC-SD0008", data, "AE", study) == [
        ("AE", 1, "AETERM", "ABCD", "4 bytes in AETERM (declared 3)")
    ]
    assert hits("UMSC-SD0008", data, "AE") == []  # no declared length


# ----------------------------------------------------------------------- uniqueness


def test_seq_unique_within_subject_nan_not_compared() -> None:
    data = frames(USUBJID=["S-1", "S-1", "S-2"], AESEQ=[1.0, 1.0, 1.0])
    assert hits("UMSC-SD0009", data, "AE") == [
        ("AE", 0, "AESEQ", "1", "AESEQ repeats within USUBJID=S-1"),
        ("AE", 1, "AESEQ", "1", "AESEQ repeats within USUBJID=S-1"),
    ]
    nan = frames(USUBJID=["S-1", "S-1", "S-2"], AESEQ=[float("nan")] * 3)
    assert hits("UMSC-SD0009", nan, "AE") == []


def test_seq_of_trial_design_datasets_is_not_per_subject() -> None:
    ts = pd.DataFrame({"STUDYID": "S", "DOMAIN": "TS", "TSSEQ": [1.0, 1.0], "TSPARMCD": ["A", "B"]})
    assert hits("UMSC-SD0009", {"TS": ts}, "TS") == []


def test_keys_unique_and_absent_keys() -> None:
    data = frames(AESEQ=[1.0, 1.0, 1.0])
    study = with_meta(study_from_ig(data), "AE", keys=("USUBJID", "AESEQ"))
    message = "more than one record has these key values"
    assert hits("UMSC-SD0010", data, "AE", study) == [
        ("AE", 0, "USUBJID, AESEQ", "USUBJID=S-1, AESEQ=1", message),
        ("AE", 1, "USUBJID, AESEQ", "USUBJID=S-1, AESEQ=1", message),
    ]
    study = with_meta(study, "AE", keys=("USUBJID", "AESPID"))
    assert hits("UMSC-SD0010", data, "AE", study) == [
        (
            "AE",
            -1,
            "AESPID",
            "",
            "key variables ['AESPID'] of AE are absent, so its keys cannot be checked",
        )
    ]


# ----------------------------------------------------------------------- read issues


def test_read_issues_are_reported_under_their_rule() -> None:
    issues = pd.DataFrame(
        {
            "rule": ["UMSC-FI0001", "UMSC-FI0002"],
            "dataset": ["AE", "LB"],
            "row": [2, -1],
            "variable": ["AETERM", ""],
            "value": ["caf\u00e9", "lb.xpt"],
            "message": ["byte", "unreadable"],
        }
    )
    data = frames()
    ctx = context(data)
    ctx.read_issues = issues
    assert hits("UMSC-FI0001", data, ctx=ctx) == [("AE", 2, "AETERM", "caf\u00e9", "byte")]
    assert hits("UMSC-FI0002", data, ctx=ctx) == [("LB", -1, "", "lb.xpt", "unreadable")]
    assert hits("UMSC-FI0001", data) == []
