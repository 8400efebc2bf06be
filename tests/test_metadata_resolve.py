"""Resolved dataset metadata: IG labels, types, order and codelists, and the spec's overrides."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cdisc_umsc.core.errors import InputError
from cdisc_umsc.metadata.model import Dataset, Variable
from cdisc_umsc.metadata.resolve import data_type, dataset_meta, ig_row, with_value_types

IG = ("SDTMIG", "3.4")


def _meta(name, variables, overrides=None, keys=(), where="spec/x.yaml:1", locate=None):
    return dataset_meta(*IG, name, variables, overrides or {}, keys, where, locate)


# data_type ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "sas_type", "expected"),
    [
        ("AESTDTC", "Char", "datetime"),
        ("RFSTDTC", "Char", "datetime"),
        ("AEDUR", "Char", "text"),  # ISO 8601 durations are typed from values, not the name
        ("AETERM", "Char", "text"),
        ("AGE", "Char", "text"),  # a character AGE stays text
        ("AESEQ", "Num", "integer"),
        ("AESTDY", "Num", "integer"),
        ("AGE", "Num", "integer"),
        ("TSSEQ", "Num", "integer"),
        ("VISITNUM", "Num", "integer"),
        ("TAETORD", "Num", "integer"),
        ("VISITDY", "Num", "integer"),
        ("AEPTCD", "Num", "integer"),
        ("LBSTRESN", "Num", "float"),
        ("VISITNUMX", "Num", "float"),  # only the exact name VISITNUM, not a prefix
        ("AESTDTC", "Num", "float"),  # a numeric --DTC is a number, not ISO text
    ],
)
def test_data_type(name: str, sas_type: str, expected: str) -> None:
    assert data_type(name, sas_type) == expected


# ig_row ---------------------------------------------------------------------------------------


def test_ig_row_of_a_domain_variable() -> None:
    row = ig_row(*IG, "DM", "SEX")
    assert row is not None
    assert (row["label"], row["type"], row["codelist"], row["core"], row["order"]) == (
        "Sex",
        "Char",
        "C66731",
        "Req",
        21,
    )


def test_ig_row_of_any_supp_dataset_is_suppqual() -> None:
    row = ig_row(*IG, "SUPPDM", "QNAM")
    assert row is not None
    assert (row["dataset"], row["label"], row["order"]) == (
        "SUPPQUAL",
        "Qualifier Variable Name",
        6,
    )
    assert ig_row(*IG, "SUPPAE", "QNAM") == row


def test_ig_row_absent_variable_is_none() -> None:
    assert ig_row(*IG, "DM", "NOPE") is None
    assert ig_row(*IG, "DM", "AETERM") is None  # an AE variable is not a DM one


# dataset_meta ---------------------------------------------------------------------------------


def test_special_purpose_dataset_in_ig_order_with_keys() -> None:
    ds = _meta("DM", ["USUBJID", "STUDYID", "AGE", "SEX", "DOMAIN"], keys=("STUDYID", "USUBJID"))
    assert (ds.name, ds.label, ds.cls, ds.structure, ds.standard, ds.purpose) == (
        "DM",
        "Demographics",
        "Special-Purpose",
        "One record per subject",
        "SDTMIG 3.4",
        "Tabulation",
    )
    assert ds.keys == ("STUDYID", "USUBJID")
    assert ds.parent is None
    assert [(v.name, v.order, v.key_sequence) for v in ds.variables] == [
        ("STUDYID", 1, 1),
        ("DOMAIN", 2, None),
        ("USUBJID", 3, 2),
        ("AGE", 4, None),
        ("SEX", 5, None),
    ]
    assert ds.var("STUDYID") == Variable(
        name="STUDYID",
        label="Study Identifier",
        type="Char",
        order=1,
        data_type="text",
        core="Req",
        role="Identifier",
        key_sequence=1,
    )
    age, sex = ds.var("AGE"), ds.var("SEX")
    assert (age.type, age.data_type, age.core, age.codelist) == ("Num", "integer", "Exp", None)
    assert (sex.type, sex.data_type, sex.codelist, sex.origin) == (
        "Char",
        "text",
        "C66731",
        "Collected",
    )


def test_general_class_timing_variables_after_the_others_in_model_order() -> None:
    ds = _meta("AE", ["AEENDTC", "STUDYID", "AESTDTC", "AETERM", "AESEQ"])
    assert ds.names == ["STUDYID", "AESEQ", "AETERM", "AESTDTC", "AEENDTC"]
    assert [v.order for v in ds.variables] == [1, 2, 3, 4, 5]
    assert ds.var("AESTDTC").data_type == "datetime"


def test_model_variable_the_ig_domain_lacks_takes_its_model_place() -> None:
    # EX VISITNUM and EXPRESP are not in the SDTMIG EX table; the SDTM model allows both
    ds = _meta("EX", ["STUDYID", "EXTRT", "VISITNUM", "EXSTDTC", "EXLOC", "EXSEQ", "EXPRESP"])
    assert ds.names == ["STUDYID", "EXSEQ", "EXTRT", "EXLOC", "EXPRESP", "VISITNUM", "EXSTDTC"]
    visitnum, presp = ds.var("VISITNUM"), ds.var("EXPRESP")
    assert (visitnum.label, visitnum.type, visitnum.data_type, visitnum.role) == (
        "Visit Number",
        "Num",
        "integer",
        "Timing",
    )
    assert (presp.label, presp.type, presp.core, presp.role, presp.codelist) == (
        "Pre-Specified",
        "Char",
        "Perm",
        "Variable Qualifier",
        None,
    )


def test_model_variable_label_override() -> None:
    ds = _meta("EX", ["STUDYID", "EXPRESP"], overrides={"EXPRESP": {"label": "Planned"}})
    assert ds.var("EXPRESP").label == "Planned"


def test_supp_dataset_label_and_parent() -> None:
    ds = _meta("SUPPAE", ["STUDYID", "QNAM", "QVAL"])
    assert (ds.name, ds.label, ds.cls, ds.parent) == (
        "SUPPAE",
        "Supplemental Qualifiers for AE",
        "Relationship",
        "AE",
    )
    assert ds.names == ["STUDYID", "QNAM", "QVAL"]
    assert ds.var("QNAM").label == "Qualifier Variable Name"


def test_overrides_replace_ig_values() -> None:
    overrides = {
        "AGE": {
            "label": "Age at Consent",
            "length": 8,
            "origin": "Derived",
            "method": "MT.AGE",
            "significant_digits": 1,
            "data_type": "float",
            "format": "8.1",
            "comment": "from birth date",
            "source": "Sponsor",
        },
        "SEX": {"codelist": "", "pages": [3, 4]},
        "STUDYID": {"type": "Num"},
    }
    ds = _meta("DM", ["STUDYID", "AGE", "SEX"], overrides=overrides)
    age = ds.var("AGE")
    assert age == Variable(
        name="AGE",
        label="Age at Consent",
        type="Num",
        order=2,
        data_type="float",
        length=8,
        core="Exp",
        role="Record Qualifier",
        format="8.1",
        origin="Derived",
        source="Sponsor",
        method="MT.AGE",
        comment="from birth date",
        significant_digits=1,
    )
    sex = ds.var("SEX")
    assert (sex.codelist, sex.pages) == (None, (3, 4))  # an empty codelist clears the IG one
    studyid = ds.var("STUDYID")
    assert (studyid.type, studyid.data_type) == ("Num", "float")  # typed from the override


def test_codelist_override_replaces_ig_codelist() -> None:
    ds = _meta("DM", ["SEX"], overrides={"SEX": {"codelist": "CL.SEX"}})
    assert ds.var("SEX").codelist == "CL.SEX"


def test_empty_override_values_fall_back_to_ig() -> None:
    ds = _meta("DM", ["SEX"], overrides={"SEX": {"label": "", "origin": None, "pages": None}})
    sex = ds.var("SEX")
    assert (sex.label, sex.origin, sex.pages) == ("Sex", "Collected", ())


def test_unknown_dataset_is_one_line_error() -> None:
    with pytest.raises(InputError) as err:
        _meta("XX", ["STUDYID"], where="spec/xx.yaml:3")
    assert str(err.value) == "spec/xx.yaml:3: dataset XX is not in SDTMIG 3.4"


def test_unknown_variable_error_at_its_spec_line() -> None:
    with pytest.raises(InputError) as err:
        _meta(
            "DM",
            ["STUDYID", "FOO"],
            where="spec/dm.yaml:1",
            locate=lambda v: "spec/dm.yaml:9" if v == "FOO" else None,
        )
    assert str(err.value) == (
        "spec/dm.yaml:9: variable FOO is neither in SDTMIG 3.4 DM nor allowed by the SDTM "
        "model for class Special-Purpose"
    )


def test_unknown_variable_error_falls_back_to_where() -> None:
    for locate in (None, lambda v: None):
        with pytest.raises(InputError, match=r"^spec/dm\.yaml:1: variable FOO is neither"):
            _meta("DM", ["FOO"], where="spec/dm.yaml:1", locate=locate)


def test_bad_type_override_is_one_line_error() -> None:
    with pytest.raises(InputError) as err:
        _meta("DM", ["STUDYID"], overrides={"STUDYID": {"type": "num"}}, where="spec/dm.yaml:4")
    assert str(err.value) == "spec/dm.yaml:4: variable STUDYID: type 'num' is neither Char nor Num"


def test_empty_variable_list() -> None:
    ds = _meta("DM", [])
    assert (ds.variables, ds.label) == ((), "Demographics")


# with_value_types -----------------------------------------------------------------------------


def _ds(*variables: Variable) -> Dataset:
    return Dataset(name="XX", label="", cls="", structure="", standard="", variables=variables)


def _num(name: str, dt: str = "integer") -> Variable:
    return Variable(name=name, label=name, type="Num", order=1, data_type=dt)


def _char(name: str, dt: str = "text") -> Variable:
    return Variable(name=name, label=name, type="Char", order=1, data_type=dt)


def _type_of(var: Variable, values: list) -> str:
    frame = pd.DataFrame({var.name: values})
    return with_value_types(_ds(var), frame).var(var.name).data_type


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([1.0, 2.0, 3.0], "integer"),
        ([1.0, 3.01], "float"),  # an unscheduled visit number
        ([1.0, np.nan], "integer"),  # nulls are no evidence either way
        ([np.nan, np.nan], "integer"),
        ([], "integer"),
        (["1", "2.5"], "float"),  # text that reads as a number counts as the number
        (["1", "x"], "integer"),  # what is not a number is passed over
        ([-2.0, 0.0], "integer"),
        ([-0.5], "float"),
    ],
)
def test_integer_becomes_float_when_a_value_is_not_whole(values: list, expected: str) -> None:
    assert _type_of(_num("VISITNUM"), values) == expected


def test_float_variable_is_never_made_integer() -> None:
    assert _type_of(_num("LBSTRESN", "float"), [1.0, 2.0]) == "float"


@pytest.mark.parametrize(
    ("var", "values", "expected"),
    [
        (_char("AESTDTC", "datetime"), ["2024-01-02", "2024-03-04"], "date"),
        (_char("AESTDTC", "datetime"), ["2024-01-02", "2024-03"], "partialDate"),
        (_char("AESTDTC", "datetime"), ["2024-01-02T10:00", "2024-03-04"], "datetime"),
        (_char("AESTDTC", "datetime"), ["", None], "datetime"),
        (_char("AESTDTC", "datetime"), ["unknown"], "text"),
        (_char("AEDUR"), ["P1D"], "durationDatetime"),
        (_char("AEDUR"), [None], "durationDatetime"),
        (_char("RFXSTART", "date"), ["2024-01"], "partialDate"),  # typed date by the metadata
        (_char("AETERM"), ["2024-01-02"], "text"),  # not ISO by name nor by metadata
    ],
    ids=["date", "partial", "datetime", "blank", "text", "dur", "dur-blank", "meta", "plain"],
)
def test_iso_character_variables_typed_from_values(
    var: Variable, values: list, expected: str
) -> None:
    assert _type_of(var, values) == expected


def test_variables_without_a_column_are_unchanged() -> None:
    ds = _ds(_num("VISITNUM"), _char("AESTDTC", "datetime"))
    out = with_value_types(ds, pd.DataFrame({"OTHER": [1.5]}))
    assert out == ds


def test_numeric_dtc_is_not_typed_as_iso() -> None:
    assert _type_of(_num("XXDTC", "float"), [1.5]) == "float"


def test_other_fields_and_order_are_kept() -> None:
    ds = _ds(_char("AESTDTC", "datetime"), _num("VISITNUM"), _char("AETERM"))
    frame = pd.DataFrame({"AESTDTC": ["2024-01"], "VISITNUM": [1.5], "AETERM": ["x"]})
    out = with_value_types(ds, frame)
    assert out.names == ["AESTDTC", "VISITNUM", "AETERM"]
    assert [v.data_type for v in out.variables] == ["partialDate", "float", "text"]
    assert out.var("AESTDTC") == Variable(
        name="AESTDTC", label="AESTDTC", type="Char", order=1, data_type="partialDate"
    )
