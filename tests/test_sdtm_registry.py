"""Algorithm declarations (cdisc_umsc/sdtm/registry.py): one place, read by docs and checker."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from cdisc_umsc.sdtm.algorithms import ALGORITHMS, docs_table
from cdisc_umsc.sdtm.registry import COMMON, KINDS, STAGES, algorithm_for

DOCS = Path(__file__).resolve().parent.parent / "docs" / "spec-format.md"


def test_docs_table_is_the_declarations() -> None:
    text = DOCS.read_text(encoding="utf-8")
    block = re.search(r"<!-- algorithms:start -->\n(.*?)\n<!-- algorithms:end -->", text, re.S)
    assert block is not None
    assert block.group(1) == docs_table()


@pytest.mark.parametrize("name", sorted(ALGORITHMS))
def test_each_example_names_its_algorithm_with_known_parameters(name: str) -> None:
    algo = ALGORITHMS[name]
    example = yaml.safe_load(algo.example)
    assert algorithm_for(example) is algo
    assert set(example) <= set(algo.all_params)
    assert all(p.kind in KINDS for p in algo.all_params.values())
    assert algo.stage in STAGES and algo.summary and algo.describe


def test_every_parameter_has_a_known_kind() -> None:
    assert set(COMMON) >= {"when", "unless", "else", "codelist", "label", "method"}
    for algo in ALGORITHMS.values():
        required = [k for k, p in algo.params.items() if p.required]
        assert algo.name in required  # the algorithm's own key is always given


def test_a_spec_naming_two_algorithms_names_none() -> None:
    assert algorithm_for({"field": "X", "hardcode": "Y"}) is None
    assert algorithm_for({"recode": "sex", "field": "SEX"}) is ALGORITHMS["recode"]
