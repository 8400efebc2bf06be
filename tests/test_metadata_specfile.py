"""Spec file loading: plain scalars kept as text, duplicate keys, aliases, depth, file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from cdisc_umsc.core.errors import InputError
from cdisc_umsc.metadata.specfile import (
    MAX_DEPTH,
    SpecError,
    SpecList,
    SpecMap,
    load_spec_file,
)


@pytest.fixture()
def load(tmp_path: Path):
    """Load ``text`` as the spec file shown as ``spec/s.yaml``."""

    def _load(text: str) -> SpecMap:
        path = tmp_path / "s.yaml"
        path.write_text(text, encoding="utf-8")
        return load_spec_file(path, "spec/s.yaml")

    return _load


def _error(load, text: str) -> str:
    with pytest.raises(SpecError) as err:
        load(text)
    return str(err.value)


# plain scalars ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "NO",  # a country code, not YAML 1.1 false
        "no",
        "yes",
        "on",
        "off",
        "Y",
        "012345",  # a study id, not an octal number
        "0012",
        "00",
        "1.10",  # a version, not 1.1
        "0.0",
        "0.10",
        "1.",
        ".5",
        "1e3",
        "0x1F",
        "0o17",
        "1_000",
        "1:30",  # a visit label, not 90
        "2021-06-30",  # a date stays text
        ".inf",
        ".nan",
        "-.inf",
        "=",
    ],
)
def test_ambiguous_plain_scalars_are_text(load, text: str) -> None:
    value = load(f"a: {text}\n")["a"]
    assert value == text
    assert type(value) is str


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7", 7),
        ("0", 0),
        ("-3", -3),
        ("+4", 4),
        ("12345678901234567890", 12345678901234567890),
        ("0.1", 0.1),
        ("-2.25", -2.25),
        ("0.05", 0.05),
        ("true", True),
        ("True", True),
        ("TRUE", True),
        ("false", False),
        ("False", False),
        ("FALSE", False),
    ],
)
def test_canonical_numbers_and_booleans_are_typed(load, text: str, expected: object) -> None:
    value = load(f"a: {text}\n")["a"]
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize("text", ["", "~", "null", "Null", "NULL"])
def test_nulls(load, text: str) -> None:
    assert load(f"a: {text}\n") == {"a": None}


@pytest.mark.parametrize("text", ["'7'", '"true"', "'~'", '"012"'])
def test_quoted_scalars_are_text(load, text: str) -> None:
    assert load(f"a: {text}\n")["a"] == text[1:-1]


def test_nuLL_and_tRUE_in_mixed_case_are_text(load) -> None:
    assert load("a: nuLL\nb: tRUE\n") == {"a": "nuLL", "b": "tRUE"}


def test_unsafe_tag_is_refused(load) -> None:
    message = _error(load, "a: !!python/object/apply:os.system [echo]\n")
    assert message.startswith("spec/s.yaml:1: YAML syntax error: could not determine a constructor")


# structure and locations ----------------------------------------------------------------------


SPEC = """\
top: 1
vars:
  AGE:
    label: Age
    origin: Derived
    method: MT.AGE
  list:
    - name: q
      k: 1
"""


def test_mappings_and_lists_remember_file_and_lines(load) -> None:
    spec = load(SPEC)
    assert isinstance(spec, SpecMap)
    assert (spec.file, spec.line, spec.key_lines) == ("spec/s.yaml", 1, {"top": 1, "vars": 2})
    assert spec.where() == "spec/s.yaml:1"
    assert spec.where("vars") == "spec/s.yaml:2"
    assert spec.where("absent") == "spec/s.yaml:1"  # an absent key: the mapping's own line
    variables = spec["vars"]
    assert isinstance(variables, SpecMap)
    assert (variables.line, variables.where("AGE"), variables.where("list")) == (
        3,
        "spec/s.yaml:3",
        "spec/s.yaml:7",
    )
    age = variables["AGE"]
    assert (age.line, age.key_lines) == (4, {"label": 4, "origin": 5, "method": 6})
    items = variables["list"]
    assert isinstance(items, SpecList)
    assert (items.where(), items[0].where(), items[0].where("k")) == (
        "spec/s.yaml:8",
        "spec/s.yaml:8",
        "spec/s.yaml:9",
    )


def test_key_where_depth_first_in_file_order(load) -> None:
    spec = load(SPEC)
    assert spec.key_where("top") == "spec/s.yaml:1"
    assert spec.key_where("method") == "spec/s.yaml:6"
    assert spec.key_where("k") == "spec/s.yaml:9"  # inside a list
    assert spec.key_where("absent") is None
    two = load("a:\n  x: 1\nb:\n  x: 2\n")
    assert two.key_where("x") == "spec/s.yaml:2"  # the first in the file


def test_cited_leaves_out_descriptive_keys(load) -> None:
    spec = load("v:\n  label: Age\n  length: 8\n  origin: Derived\n  comment: c\n  method: M\n")
    assert spec["v"].cited() == "spec/s.yaml:2: method=M"
    assert load("v: {label: x}\n")["v"].cited() == "spec/s.yaml:1: "


def test_cited_writes_nested_values_as_yaml_flow() -> None:
    """A reviewer reads the spec's own notation, not Python's dict and list syntax."""
    from cdisc_umsc.metadata.specfile import SpecMap

    p = SpecMap(flag={"has_records": "VS", "where": {"VSTESTCD": ["HEIGHT", "WEIGHT"]}})
    p.file, p.line, p.key_lines = "spec/adsl.yaml", 12, {}
    assert p.cited() == (
        "spec/adsl.yaml:12: flag={has_records: VS, where: {VSTESTCD: [HEIGHT, WEIGHT]}}"
    )
    q = SpecMap(hardcode=None, skip_blank=True)
    q.file, q.line, q.key_lines = "s.yaml", 3, {}
    assert q.cited() == "s.yaml:3: hardcode=null, skip_blank=true"


def test_require(load) -> None:
    spec = load("a:\n  b: 0\n")
    assert spec["a"].require("b") == 0
    with pytest.raises(SpecError) as err:
        spec["a"].require("c")
    assert str(err.value) == "spec/s.yaml:2: missing required key 'c'"


def test_only_names_the_unknown_key_and_its_line(load) -> None:
    spec = load("a:\n  ok: 1\n  typo: 2\n")
    spec["a"].only({"ok", "typo"}, "x")  # every key known: no error
    with pytest.raises(SpecError) as err:
        spec["a"].only(frozenset({"ok", "other"}), "a form")
    assert str(err.value) == (
        "spec/s.yaml:3: unknown key 'typo' in a form (expected one of: ok, other)"
    )


def test_error_is_an_input_error() -> None:
    err = SpecMap().error(None, "boom")
    assert isinstance(err, SpecError) and isinstance(err, InputError)
    assert str(err) == "?:0: boom"  # a mapping not loaded from a file
    assert err.exit_code == 2


# refused documents -----------------------------------------------------------------------------


def test_duplicate_key(load) -> None:
    assert _error(load, "a: 1\nb: 2\na: 3\n") == (
        "spec/s.yaml:3: duplicate key 'a' (first at line 1)"
    )


def test_duplicate_key_nested(load) -> None:
    assert _error(load, "x:\n  a: 1\n  b: 2\n  a: 1\n") == (
        "spec/s.yaml:4: duplicate key 'a' (first at line 2)"
    )


def test_duplicate_keys_in_different_mappings_are_fine(load) -> None:
    assert load("x: {a: 1}\ny: {a: 2}\n") == {"x": {"a": 1}, "y": {"a": 2}}


def test_keys_equal_as_text_are_duplicates(load) -> None:
    assert _error(load, "1: a\n'1': b\n") == "spec/s.yaml:2: duplicate key '1' (first at line 1)"


def test_keys_are_text(load) -> None:
    spec = load("1: a\n0.5: b\n012: c\n")
    assert list(spec) == ["1", "0.5", "012"]
    assert spec.key_lines == {"1": 1, "0.5": 2, "012": 3}


def test_keys_keep_the_text_written(load) -> None:
    # a recode of an ODM boolean item maps the CRF values true / false
    spec = load("map: {true: Y, FALSE: N, +1: a, -0: b, 0.10: c, 0.5: d}\n")
    assert list(spec["map"]) == ["true", "FALSE", "+1", "-0", "0.10", "0.5"]
    assert spec["map"].where("true") == "spec/s.yaml:1"
    assert _error(load, "true: a\n'true': b\n") == (
        "spec/s.yaml:2: duplicate key 'true' (first at line 1)"
    )


def test_non_scalar_key(load) -> None:
    assert _error(load, "a: 1\n? [1, 2]\n: x\n") == "spec/s.yaml:2: keys must be scalars"


def test_alias_is_refused(load) -> None:
    assert _error(load, "x: &a 1\ny: *a\n") == (
        "spec/s.yaml:2: YAML aliases (*name) are not allowed in a spec; write the value out"
    )


def test_anchor_without_alias_is_harmless(load) -> None:
    assert load("x: &a 1\n") == {"x": 1}


def test_merge_key_is_plain_text(load) -> None:
    assert load("a: 1\n<<: {b: 2}\n") == {"a": 1, "<<": {"b": 2}}


def _nested(lists: int) -> str:
    return "top: 1\na: " + "[" * lists + "]" * lists + "\n"


def test_depth_limit_boundary(load) -> None:
    assert MAX_DEPTH == 64
    # the top mapping is the first level: MAX_DEPTH - 1 lists inside it is the deepest allowed
    spec = load(_nested(MAX_DEPTH - 1))
    inner = spec["a"]
    for _ in range(MAX_DEPTH - 2):
        inner = inner[0]
    assert inner == []
    assert _error(load, _nested(MAX_DEPTH)) == "spec/s.yaml:2: nested more than 64 levels deep"


def test_very_deep_document_is_one_line_error(load) -> None:
    assert _error(load, _nested(10_000)) == "spec/s.yaml:2: nested more than 64 levels deep"


@pytest.mark.parametrize("text", ["- 1\n- 2\n", "just text\n", "7\n"])
def test_top_level_must_be_a_mapping(load, text: str) -> None:
    assert _error(load, text) == (
        "spec/s.yaml:1: the top level must be a mapping of keys to values"
    )


@pytest.mark.parametrize("text", ["", "# only a comment\n", "---\n"])
def test_empty_file_is_an_empty_mapping(load, text: str) -> None:
    spec = load(text)
    assert spec == {}
    assert (spec.where(), spec.key_lines) == ("spec/s.yaml:1", {})


def test_syntax_error_names_the_line(load) -> None:
    assert _error(load, "a: 1\nb: [1\n") == (
        "spec/s.yaml:3: YAML syntax error: expected ',' or ']', but got '<stream end>'"
    )


def test_tab_indentation_is_a_syntax_error(load) -> None:
    message = _error(load, "a:\n\tb: 1\n")
    assert message.startswith("spec/s.yaml:2: YAML syntax error: ")
    assert "\n" not in message


def test_two_documents_are_refused(load) -> None:
    message = _error(load, "a: 1\n---\nb: 2\n")
    assert message.startswith("spec/s.yaml:2: ")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as err:
        load_spec_file(tmp_path / "none.yaml", "spec/none.yaml")
    assert str(err.value) == "spec/none.yaml: spec file not found"


def test_path_is_the_default_display_name(tmp_path: Path) -> None:
    path = tmp_path / "none.yaml"
    with pytest.raises(SpecError) as err:
        load_spec_file(path)
    assert str(err.value) == f"{path}: spec file not found"
    path.write_text("a: 1\n", encoding="utf-8")
    assert load_spec_file(path).where("a") == f"{path}:1"


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_bytes(b"a: \xff\n")
    with pytest.raises(SpecError) as err:
        load_spec_file(path, "spec/s.yaml")
    assert str(err.value) == "spec/s.yaml: not UTF-8 text (byte 3)"


def test_utf8_text_is_kept(load) -> None:
    assert load("map: {männlich: M, 是: Y}\n")["map"] == {"männlich": "M", "是": "Y"}
