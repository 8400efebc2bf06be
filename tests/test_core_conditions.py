"""The condition language (cdisc_umsc/core/conditions.py): grammar, numeric awareness, words."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cdisc_umsc.core.conditions import ConditionError, FrameSource, match, parse_condition
from cdisc_umsc.metadata.specfile import load_spec_file

FRAME = pd.DataFrame(
    {
        "VISIT": ["SCREENING 1", "WEEK 2", "RETRIEVAL", ""],
        "VISITNUM": [1.0, 4.0, 201.0, np.nan],
        "RAWNUM": ["1", "04", "201.0", ""],  # numbers as a raw CRF export holds them
        "FL": ["Y", "N", "Y", ""],
        "DTC": ["2019-01-05", "2019-02", "2019-03-01T10:00", ""],
    }
)


def _rows(cond: object, frame: pd.DataFrame = FRAME) -> list[int]:
    return list(np.flatnonzero(match(frame, cond).to_numpy()))


def test_equal_text_and_numbers_either_side() -> None:
    assert _rows({"VISIT": "WEEK 2"}) == [1]
    assert _rows({"VISITNUM": 1}) == [0]  # 1 matches 1.0
    assert _rows({"VISITNUM": "4"}) == [1]  # a number written as text, numeric variable
    assert _rows({"RAWNUM": 4}) == [1]  # "04" is 4: text variable, number in the spec
    assert _rows({"RAWNUM": 201}) == [2]
    assert _rows({"RAWNUM": "04"}) == [1]  # text against text: exact
    assert _rows({"RAWNUM": "4"}) == []


def test_lists_null_not_and_comparisons() -> None:
    assert _rows({"VISIT": ["WEEK 2", "RETRIEVAL"]}) == [1, 2]
    assert _rows({"VISIT": {"in": ["WEEK 2"]}}) == [1]
    assert _rows({"VISIT": None}) == [3]
    assert _rows({"VISITNUM": None}) == [3]
    assert _rows({"VISIT": {"not": None}}) == [0, 1, 2]
    assert _rows({"VISIT": {"not": ["RETRIEVAL", None]}}) == [0, 1]
    assert _rows({"VISITNUM": {"gt": 1, "le": 201}}) == [1, 2]
    assert _rows({"VISITNUM": {"ge": 4}}) == [1, 2]
    assert _rows({"VISITNUM": {"lt": 4}}) == [0]  # a missing number never compares
    assert _rows({"VISITNUM": {"ne": 4}}) == [0, 2, 3]  # blank is not equal to 4
    assert _rows({"FL": "Y", "VISITNUM": {"ge": 100}}) == [2]
    assert _rows(None) == [0, 1, 2, 3]


def test_text_comparison_orders_iso_dates_and_ignores_blanks() -> None:
    assert _rows({"DTC": {"ge": "2019-02"}}) == [1, 2]
    assert _rows({"DTC": {"lt": "2019-02"}}) == [0]  # the blank record never compares


def test_boundaries_are_exact() -> None:
    frame = pd.DataFrame({"X": [39.99, 40.0, 40.01]})
    assert _rows({"X": {"ge": 40}}, frame) == [1, 2]
    assert _rows({"X": {"gt": 40}}, frame) == [2]
    assert _rows({"X": {"le": 40}}, frame) == [0, 1]
    assert _rows({"X": {"lt": 40}}, frame) == [0]
    assert _rows({"X": 40}, frame) == [1]


def test_any_all_not() -> None:
    assert _rows({"any": [{"VISIT": "WEEK 2"}, {"VISITNUM": 201}]}) == [1, 2]
    assert _rows({"all": [{"FL": "Y"}, {"VISITNUM": {"gt": 1}}]}) == [2]
    assert _rows({"not": {"FL": "Y"}}) == [1, 3]
    assert _rows({"FL": "Y", "not": {"VISITNUM": 1}}) == [2]


def test_mistakes_are_errors_not_silent_no_match() -> None:
    with pytest.raises(ConditionError, match="no variable ARMCD"):
        match(FRAME, {"ARMCD": "A"}, "adsl.yaml:3")
    with pytest.raises(ConditionError, match="unknown operator 'like'"):
        match(FRAME, {"VISIT": {"like": "WEEK%"}})
    with pytest.raises(ConditionError, match="VISITNUM is numeric, 'seven' is not a number"):
        match(FRAME, {"VISITNUM": "seven"})
    with pytest.raises(ConditionError, match="true/false is ambiguous"):
        match(FRAME, {"FL": True})
    with pytest.raises(ConditionError, match="a condition is a mapping .* not a list"):
        parse_condition([{"FL": "Y"}], "ds.yaml:4")
    with pytest.raises(ConditionError, match="any: expects a non-empty list"):
        parse_condition({"any": {"FL": "Y"}})
    with pytest.raises(ConditionError, match="non-empty list of values"):
        parse_condition({"FL": []})
    with pytest.raises(ConditionError, match="has_records is not available here"):
        match(FRAME, {"has_records": "EX"})


def test_errors_carry_the_spec_line(tmp_path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("where:\n  VISIT: WEEK 2\n  VISITNUM: {like: 4}\n", encoding="utf-8")
    spec = load_spec_file(path, "x.yaml")
    with pytest.raises(ConditionError, match=r"^x\.yaml:3: condition on VISITNUM: unknown"):
        parse_condition(spec["where"])


def test_has_records_uses_the_source() -> None:
    cond = parse_condition({"has_records": {"domain": "EX", "where": {"EXDOSE": {"gt": 0}}}})
    assert cond.domains() == {"EX"}
    seen = {}

    def records(domain: str, where: object) -> pd.Series:
        seen["args"] = (domain, where)
        return pd.Series([True, False, False, True], index=FRAME.index)

    hit = cond.evaluate(FrameSource(FRAME, "t", records))
    assert hit.tolist() == [True, False, False, True]
    assert seen["args"][0] == "EX" and seen["args"][1].names() == {"EXDOSE"}


def test_words_for_a_reviewer() -> None:
    cond = parse_condition(
        {
            "VISITNUM": 7,
            "AEOUT": ["RECOVERED", "FATAL"],
            "AESTDTC": {"not": None},
            "AVAL": {"ge": 2, "le": 24.5},
            "any": [{"FL": "Y"}, {"has_records": "EX"}],
        }
    )
    assert cond.describe() == (
        "VISITNUM = 7 and AEOUT is one of 'RECOVERED', 'FATAL' and AESTDTC is not blank and "
        "(AVAL >= 2 and AVAL <= 24.5) and (FL = 'Y' or the subject has a record in EX)"
    )
    assert parse_condition(None).describe() == "every record"


#: Text columns as pandas holds them: missing as NaN (``str``) or None/NaN (``object``),
#: with an empty and an all-space text, repeated values and numbers written as text.
TEXTS = ["B", None, "A", "", "  ", "B", "04", "4", "a", "A", float("nan"), "2019-02", "B"]
TESTS = [
    {"X": "B"},
    {"X": "A"},
    {"X": ""},
    {"X": None},
    {"X": {"not": None}},
    {"X": ["A", None]},
    {"X": {"not": ["B", "a"]}},
    {"X": 4},
    {"X": {"ne": 4}},
    {"X": {"ge": 4}},
    {"X": {"lt": "B"}},
    {"X": {"ge": "2019"}},
    {"X": {"ne": "B"}},
    {"X": {"ne": ""}},
    {"X": "zz"},
]


def _per_record(cond: object, values: pd.Series) -> list[bool]:
    """The test worked out on every record (no distinct values): the reference."""
    from cdisc_umsc.core import conditions

    test = parse_condition(cond).parts[0]
    assert isinstance(test, conditions.Test)
    hit = conditions._hit(test, values, "t")
    return (~hit if test.negate else hit).tolist()


@pytest.mark.parametrize("dtype", ["str", object])
@pytest.mark.parametrize("cond", TESTS, ids=str)
def test_text_tests_by_distinct_value_as_per_record(dtype: object, cond: object) -> None:
    values = pd.Series(TEXTS, dtype=dtype)
    frame = pd.DataFrame({"X": values})
    assert match(frame, cond).tolist() == _per_record(cond, values)


def test_distinct_texts_of_a_column() -> None:
    from cdisc_umsc.core.conditions import _distinct

    found = _distinct(pd.Series(["B", None, "A", "B", ""], dtype="str"))
    assert found is not None
    assert found.texts.tolist() == ["B", "A", "", ""]  # the last one stands for missing
    assert found.codes.tolist() == [0, -1, 1, 0, 2]
    assert found.texts.to_numpy()[found.codes].tolist() == ["B", "", "A", "B", ""]
    assert _distinct(pd.Series([], dtype=object)) is not None
    assert _distinct(pd.Series([1.0, 2.0])) is None  # numbers are tested as numbers
    assert _distinct(pd.Series([True, False])) is None
    assert _distinct(pd.Series([1, 1.0, "1"], dtype=object)) is None  # mixed: as it is


def test_mixed_values_are_compared_as_their_text() -> None:
    frame = pd.DataFrame({"X": pd.Series([1, 1.0, "1", True, None], dtype=object)})
    assert _rows({"X": "1"}, frame) == [0, 2]  # 1.0 is "1.0", True is "True"
    assert _rows({"X": "1.0"}, frame) == [1]
    assert _rows({"X": None}, frame) == [4]


def test_one_source_for_several_conditions() -> None:
    source = FrameSource(FRAME)
    for cond in ({"VISIT": "WEEK 2"}, {"FL": "Y"}, {"FL": None}, {"VISIT": {"ge": "S"}}):
        assert parse_condition(cond).evaluate(source).tolist() == match(FRAME, cond).tolist()
    with pytest.raises(ConditionError, match="no variable ARMCD"):
        parse_condition({"ARMCD": "A"}).evaluate(source)


def test_spread_by_code() -> None:
    from cdisc_umsc.core.conditions import _distinct

    found = _distinct(pd.Series(["B", None, "A", "B", ""], dtype="str"))
    assert found is not None  # texts: B, A, "" (blank), "" (missing)
    for hit in ([0, 0, 0, 0], [1, 1, 1, 1], [1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0],
                [0, 0, 0, 1], [1, 0, 0, 1], [0, 1, 1, 1], [1, 0, 1, 1], [1, 1, 1, 0],
                [1, 1, 0, 1]):  # fmt: skip
        flags = np.array(hit, dtype=bool)
        spread = found.spread(flags)
        assert spread.dtype == bool
        assert spread.tolist() == flags[found.codes].tolist()
