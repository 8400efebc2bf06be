"""Value-level ItemDefs typed and measured per test code (Define-XML 2.1 sections 5.3.6-5.3.7
and 5.3.11; cdisc_umsc/write/define/values.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cdisc_umsc.core.errors import WriteError
from cdisc_umsc.metadata.model import Variable
from cdisc_umsc.write.define.values import ValueItem, first_labels, label_variable, value_items


def _var(name: str, type_: str = "Char", label: str = "Result") -> Variable:
    return Variable(name, label, type_, 1)


LB = pd.DataFrame(
    {
        "LBTESTCD": ["GLUC", "GLUC", "ALB", "HCG", "", "GLUC"],
        "LBTEST": ["Glucose", "Glucose, fasting", "Albumin", None, "", "Glucose"],
        "LBORRES": ["5.25", "12", "40", "NEGATIVE", "7", None],
        "LBORRESU": ["mmol/L", "mg/dL", "g/L", "", "", ""],
    }
)


@pytest.mark.parametrize(
    "code, label",
    [("LBTESTCD", "LBTEST"), ("PARAMCD", "PARAM"), ("QNAM", "QLABEL"), ("LBCAT", "")],
)
def test_label_variable(code: str, label: str) -> None:
    assert label_variable(code) == label


def test_first_labels_take_the_first_record_and_skip_missing_labels() -> None:
    # GLUC's first label wins over its second; HCG has none; the blank code is not a code
    assert first_labels(LB, "LBTESTCD") == {"GLUC": "Glucose", "ALB": "Albumin"}
    assert first_labels(LB, "LBCAT") == {}


def test_value_items_of_a_char_result_per_test_code() -> None:
    items = value_items(LB, "LB", _var("LBORRES"), "LBTESTCD")
    assert items == [
        # sorted by code; the label names the units the results are in
        ValueItem("ALB", "Albumin (g/L)", "integer", 2, None),
        # 5.25 and 12: two integer and two fraction digits; the missing result is ignored
        ValueItem("GLUC", "Glucose (mg/dL, mmol/L)", "float", 4, 2),
        # no label in the data: the code; text, its longest value in bytes
        ValueItem("HCG", "HCG", "text", 8, None, text_only=True),
    ]


def test_a_test_code_mixing_numbers_and_text_is_text() -> None:
    frame = pd.DataFrame({"LBTESTCD": ["PH", "PH"], "LBORRES": ["7.5", ">8"]})
    assert value_items(frame, "LB", _var("LBORRES"), "LBTESTCD") == [
        ValueItem("PH", "PH", "text", 3, None, text_only=False)
    ]


def test_value_items_of_a_num_result() -> None:
    frame = pd.DataFrame(
        {
            "PARAMCD": ["A", "A", "B", "C"],
            "PARAM": ["Param A", "Param A", "Param B", "Param C"],
            "AVAL": [1.0, 250.0, 0.125, np.nan],
        }
    )
    assert value_items(frame, "ADX", _var("AVAL", "Num"), "PARAMCD") == [
        ValueItem("A", "Param A", "integer", 3, None),
        ValueItem("B", "Param B", "float", 4, 3),
        # a Num column stays numeric where a parameter has no value
        ValueItem("C", "Param C", "float", 1, 0),
    ]


def test_a_category_is_labelled_by_the_variable_and_the_category() -> None:
    frame = pd.DataFrame({"QSCAT": ["X", "Y"], "QSORRES": ["1", "abc"]})
    assert value_items(frame, "QS", _var("QSORRES"), "QSCAT") == [
        ValueItem("X", "Result, X", "integer", 1, None),
        ValueItem("Y", "Result, Y", "text", 3, None, text_only=True),
    ]


def test_a_test_code_the_dataset_lacks_is_an_error() -> None:
    frame = pd.DataFrame({"QSCAT": ["X"], "QSORRES": ["1"]})
    with pytest.raises(WriteError) as err:
        value_items(frame, "QS", _var("QSORRES"), "QSTESTCD")
    assert str(err.value) == (
        "define: dataset QS: value list of QSORRES names the variable QSTESTCD, "
        "which the dataset does not have"
    )
