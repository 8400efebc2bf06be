"""The schema layer (validate/schema.py): a pandera schema generated from the metadata, its
failures as findings of UMSC-PA0001 (text, byte limits at the boundary, nulls)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
from validate_support import context, hits, with_var

from cdisc_umsc.metadata.model import Codelist, Term
from cdisc_umsc.validate.igmeta import study_from_ig
from cdisc_umsc.validate.schema import build_schema, failures_to_hits


def ae(**changes: object) -> dict[str, pd.DataFrame]:
    frame = pd.DataFrame(
        {
            "STUDYID": "S",
            "DOMAIN": "AE",
            "USUBJID": ["S-1", "S-1", "S-2"],
            "AESEQ": [1.0, 2.0, np.nan],
            "AETERM": ["ABC", "\u00e9a", "x"],
            "AESER": ["Y", "N", ""],
        }
    )
    return {"AE": frame.assign(**changes)}


def test_clean_data_passes_and_num_nulls_are_allowed() -> None:
    data = ae()
    study = with_var(study_from_ig(data), "AE", "AETERM", length=3)
    assert hits("UMSC-PA0001", data, "AE", study) == []


def test_declared_length_one_byte_past_and_utf8() -> None:
    data = ae(AETERM=["ABCD", "\u00e9\u00e9", "x"])
    study = with_var(study_from_ig(data), "AE", "AETERM", length=3)
    message = "pandera Column check AETERM exceeds 3 bytes failed"
    assert hits("UMSC-PA0001", data, "AE", study) == [
        ("AE", 0, "AETERM", "ABCD", message),
        ("AE", 1, "AETERM", "\u00e9\u00e9", message),
    ]


def test_200_bytes_bound_without_a_declared_length() -> None:
    data = ae(AETERM=["a" * 200, "a" * 201, ""])
    assert hits("UMSC-PA0001", data, "AE") == [
        ("AE", 1, "AETERM", "a" * 201, "pandera Column check AETERM exceeds 200 bytes failed")
    ]


def test_char_nulls_and_non_text_values_but_not_codelists() -> None:
    """Codelist membership is judged once, by the CT rules (UMSC-CT0001), not by the schema."""
    data = ae(
        USUBJID=["S-1", None, "S-2"],
        AETERM=pd.Series(["a", 5, "c"], dtype=object),
        AESER=["Y", "YES", ""],
    )
    assert hits("UMSC-PA0001", data, "AE") == [
        ("AE", 1, "USUBJID", "", "pandera Column check not_nullable failed"),
        ("AE", 1, "AETERM", "5", "pandera Column check AETERM values must be text failed"),
    ]
    assert [h[:4] for h in hits("UMSC-CT0001", data, "AE")] == [("AE", 1, "AESER", "YES")]


def test_required_column_absent_and_codelists_left_to_the_ct_rules() -> None:
    data = ae(AESEQ=[1.0, 3.0, np.nan])
    study = with_var(study_from_ig(data), "AE", "AESEQ", codelist="CL.SEQ")
    own = Codelist("CL.SEQ", "Seq", False, (Term("1"), Term("2")))
    study = dataclasses.replace(study, codelists={"CL.SEQ": own})
    assert hits("UMSC-PA0001", data, "AE", study) == []
    lacking = {"AE": data["AE"].drop(columns="AETERM")}
    assert hits("UMSC-PA0001", lacking, "AE", study)[0] == (
        "AE",
        -1,
        "AETERM",
        "",
        "pandera DataFrameSchema check column_in_dataframe failed",
    )


def test_schema_columns_follow_the_metadata() -> None:
    data = ae()
    study = study_from_ig(data)
    schema = build_schema(context(data, study), study.datasets["AE"])
    cols = schema.columns
    assert list(cols) == ["STUDYID", "DOMAIN", "USUBJID", "AESEQ", "AETERM", "AESER"]
    assert cols["AESEQ"].nullable and str(cols["AESEQ"].dtype) == "float64"
    assert not cols["AETERM"].nullable and cols["AETERM"].required
    assert not cols["AESER"].required  # Exp in the IG
    assert [c.name for c in cols["AESER"].checks] == ["is_text", "max_bytes(200)"]


def test_failure_cases_to_hits() -> None:
    cases = pd.DataFrame(
        {
            "schema_context": ["Column", "DataFrameSchema"],
            "column": ["AETERM", None],
            "check": ["is_text", "column_in_dataframe"],
            "check_number": [0, None],
            "failure_case": [5, "AESEQ"],
            "index": [3, None],
        }
    )
    out = failures_to_hits("AE", cases)
    assert out.to_dict("records") == [
        {
            "dataset": "AE",
            "row": 3,
            "variable": "AETERM",
            "value": "5",
            "message": "pandera Column check is_text failed",
        },
        {
            "dataset": "AE",
            "row": -1,
            "variable": "AESEQ",
            "value": "",
            "message": "pandera DataFrameSchema check column_in_dataframe failed",
        },
    ]


def test_no_metadata_no_schema() -> None:
    data = ae()
    study = dataclasses.replace(study_from_ig(data), datasets={})
    assert hits("UMSC-PA0001", data, "AE", study) == []


def test_pandera_is_asked_only_when_the_column_facts_do_not_clear_a_dataset() -> None:
    from cdisc_umsc.validate.schema import _clearly_valid

    def clear(data: dict[str, pd.DataFrame], length: int | None = None) -> bool:
        study = study_from_ig(ae())
        if length is not None:
            study = with_var(study, "AE", "AETERM", length=length)
        ctx = context(data, study)
        return _clearly_valid(ctx, "AE", ctx.datasets["AE"], study.datasets["AE"])

    assert clear(ae()) and clear(ae(), length=3)
    assert not clear(ae(), length=2)  # "\u00e9a" is 3 bytes
    assert not clear(ae(USUBJID=["S-1", None, "S-2"]))  # a missing Char value
    assert not clear(ae(AETERM=pd.Series(["a", 5, "c"], dtype=object)))  # not text
    assert not clear(ae(AESEQ=["1", "2", "3"]))  # Num held as text
    assert not clear({"AE": ae()["AE"].drop(columns="USUBJID")})  # a Req variable absent
    assert clear({"AE": ae()["AE"].drop(columns="AESER")}) == (
        next(v for v in study_from_ig(ae()).datasets["AE"].variables if v.name == "AESER").core
        != "Req"
    )
