"""docs/spec-format.md cannot drift from the code: its tables are the declarations, its YAML
examples load, its tutorial snippets are the bundled second trial's files, its date-format
examples parse as it says, and every key the spec format accepts is documented."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from cdisc_umsc.adam.build import SPEC_KEYS
from cdisc_umsc.core import iso8601
from cdisc_umsc.metadata import spec as spec_module
from cdisc_umsc.metadata.specfile import load_spec_file
from cdisc_umsc.report.plan import REVIEW_KEYS
from cdisc_umsc.sdtm.algorithms import params_table

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "spec-format.md"
TEXT = DOCS.read_text(encoding="utf-8")
BLOCKS = re.findall(r"(?:<!-- in: (\S+) -->\n)?```yaml\n(.*?)```", TEXT, re.S)


def test_parameters_table_is_the_declarations() -> None:
    block = re.search(r"<!-- parameters:start -->\n(.*?)\n<!-- parameters:end -->", TEXT, re.S)
    assert block is not None and block.group(1) == params_table()


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_every_yaml_example_loads_with_the_spec_loader(index: int, tmp_path) -> None:
    _path, body = BLOCKS[index]
    file = tmp_path / "example.yaml"
    file.write_text(body, encoding="utf-8")
    load_spec_file(file)  # raises SpecError (file:line) on any YAML the tool would refuse


def test_tutorial_snippets_are_the_files() -> None:
    snippets = [(p, b) for p, b in BLOCKS if p]
    assert len(snippets) >= 20
    for path, body in snippets:
        text = (ROOT / path).read_text(encoding="utf-8")
        assert body in text, f"a snippet of {path} is not in the file:\n{body}"
    covered = {p for p, _b in snippets}
    for part in (
        "study.yaml",
        "codelists.yaml",
        "sdtm/dm.yaml",
        "sdtm/vs.yaml",
        "sdtm/rs.yaml",
        "sdtm/lb.yaml",
        "sdtm/ae.yaml",
        "sdtm/ie.yaml",
        "sdtm/trial_design.yaml",
        "adam/adeff.yaml",
    ):
        assert f"mappings/pso201/{part}" in covered, part


def test_date_format_examples_parse_as_documented() -> None:
    block = re.search(r"<!-- formats:start -->\n(.*?)\n<!-- formats:end -->", TEXT, re.S)
    rows = [r.split("|")[1:-1] for r in block.group(1).splitlines()[2:]]
    assert len(rows) >= 10
    for fmt, kind, unknown, raw, iso in ([c.strip().strip("`") for c in row] for row in rows):
        tokens = tuple(t.strip() for t in unknown.split(",") if t.strip())
        parsed, err = iso8601.parse_raw(pd.Series([raw]), iso8601.raw_format(fmt, kind, tokens))
        assert (parsed.iloc[0], err.iloc[0]) == (iso, ""), (fmt, raw)


def test_every_key_of_the_format_is_documented() -> None:
    keys = (
        spec_module.STUDY_KEYS
        | spec_module.DOMAIN_KEYS
        | spec_module.SOURCE_KEYS
        | spec_module.FIELD_KEYS
        | {"encoding", "identifiers", "subject", "ignore", "skip_blank", "match"}
        | {k for keys in SPEC_KEYS.values() for k in keys}
        | REVIEW_KEYS
        | set(spec_module.MATCH_RULES)
    )
    missing = sorted(k for k in keys if not re.search(rf"[`.]{re.escape(k)}[`:.]", TEXT))
    assert missing == []
