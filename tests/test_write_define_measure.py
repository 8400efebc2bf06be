"""ItemDef DataType, Length and SignificantDigits measured on the data (Define-XML 2.1
section 5.3.11; cdisc_umsc/write/define/measure.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cdisc_umsc.core.errors import WriteError
from cdisc_umsc.metadata.model import Variable
from cdisc_umsc.write.define.measure import (
    ISO_TYPES,
    byte_length,
    define_type,
    digit_parts,
    item_length,
    numeric_text,
    texts,
)


def _var(name: str, type_: str = "Num", **kw) -> Variable:
    return Variable(name, name.lower(), type_, 1, **kw)


FRAME = pd.DataFrame(
    {
        "F": [1.0, -12.5, np.nan, 3.25],
        "I": [1.0, 100.0, np.nan, -5.0],
        "C": ["ab", "", None, "abcd"],
    }
)


def test_digit_parts_at_powers_of_ten_and_fractions() -> None:
    values = np.array([0.0, 1.0, 9.0, 10.0, 99.0, 100.0, 0.5, 12.25, 1e-7, 1.5e20, 123456789.125])
    whole, frac = digit_parts(values)
    assert whole.tolist() == [1, 1, 1, 2, 2, 3, 1, 2, 1, 21, 9]
    assert frac.tolist() == [0, 0, 0, 0, 0, 0, 1, 2, 7, 0, 3]


def test_byte_length_counts_utf8_bytes_of_the_longest_value() -> None:
    assert byte_length(pd.Series(["a", "é", "日本", None])) == 6  # 3 bytes per CJK character
    assert byte_length(pd.Series(["é"])) == 2
    # no value, or only an empty one: Length is at least 1
    assert byte_length(pd.Series([None], dtype=object)) == 1
    assert byte_length(pd.Series([""])) == 1


def test_texts_drop_blanks_and_keep_the_index() -> None:
    assert texts(pd.Series(["a", " ", None, "b"])).to_dict() == {0: "a", 3: "b"}
    assert texts(pd.Series([1.0, np.nan, 2.5])).to_dict() == {0: "1", 2: "2.5"}


def test_numeric_text_accepts_finite_plain_numbers_only() -> None:
    values = pd.Series(["1", "x", "1e400", "-0", " 2.5 ", ""])
    assert numeric_text(values).tolist() == [True, False, False, False, True, False]


@pytest.mark.parametrize("dtype", sorted(ISO_TYPES))
def test_iso_8601_types_have_no_length(dtype: str) -> None:
    # Define-XML 2.1 section 5.3.11: Length is not given for ISO 8601 data types
    assert item_length(FRAME, "DS", _var("C", "Char"), dtype) == (None, None)


def test_text_length_is_declared_else_longest_value() -> None:
    assert item_length(FRAME, "DS", _var("C", "Char"), "text") == (4, None)
    assert item_length(FRAME, "DS", _var("C", "Char", length=200), "text") == (200, None)


def test_integer_length_is_the_digits_of_the_widest_value() -> None:
    # 100 has three digits; the sign of -5 is not a digit; no SignificantDigits for integer
    assert item_length(FRAME, "DS", _var("I"), "integer") == (3, None)


def test_float_length_and_significant_digits() -> None:
    # -12.5 has two integer digits, 3.25 two fraction digits: Length 2 + 2, SignificantDigits 2
    assert item_length(FRAME, "DS", _var("F"), "float") == (4, 2)
    # declared SignificantDigits wins; Length grows to hold the declared fraction digits
    assert item_length(FRAME, "DS", _var("F", significant_digits=3), "float") == (5, 3)
    # fewer declared digits than the data has: Length still holds the data's digits
    assert item_length(FRAME, "DS", _var("F", significant_digits=1), "float") == (4, 1)


def test_float_without_a_finite_value_is_one_digit() -> None:
    frame = pd.DataFrame({"A": [np.nan, np.nan]})
    assert item_length(frame, "DS", _var("A"), "float") == (1, 0)


def test_integer_type_with_a_fraction_is_an_error_naming_the_row() -> None:
    with pytest.raises(WriteError) as err:
        item_length(FRAME, "DS", _var("F"), "integer")
    assert str(err.value) == (
        "define: dataset DS, row 2, variable F: expected an integer for data type integer, "
        "found -12.5"
    )


def test_type_and_column_must_agree() -> None:
    with pytest.raises(WriteError, match=r"variable C: expected a numeric column for type Num"):
        item_length(FRAME, "DS", _var("C"), "float")
    with pytest.raises(WriteError, match=r"variable F: expected text values for data type text"):
        item_length(FRAME, "DS", _var("F", "Char"), "text")


def test_define_type_of_num_variables() -> None:
    # as declared when integer or float (double is written as float) ...
    assert define_type(FRAME, "DS", _var("F", data_type="integer")) == "integer"
    assert define_type(FRAME, "DS", _var("I", data_type="float")) == "float"
    assert define_type(FRAME, "DS", _var("I", data_type="double")) == "float"
    # ... else integer when every value is whole, float when one is not
    assert define_type(FRAME, "DS", _var("I", data_type="text")) == "integer"
    assert define_type(FRAME, "DS", _var("F", data_type="text")) == "float"
    assert define_type(pd.DataFrame({"A": [np.nan]}), "DS", _var("A")) == "integer"


def test_define_type_of_char_variables() -> None:
    # a Char variable is never numeric in the define: text, unless an ISO 8601 type
    assert define_type(FRAME, "DS", _var("C", "Char", data_type="integer")) == "text"
    assert define_type(FRAME, "DS", _var("C", "Char", data_type="")) == "text"
    assert define_type(FRAME, "DS", _var("C", "Char", data_type="date")) == "date"
