"""The PHI guard: identifiers declared in the spec, and identifier patterns, stop the run."""

from __future__ import annotations

import pandas as pd
import pytest

from cdisc_umsc.phi import IdentifierLeak, scan
from cdisc_umsc.run import run
from tests.conftest import SPEC


def test_clean_output_passes(bundled_run):
    result, _out = bundled_run
    assert len(result.sdtm.identifier_values) == 4 * 17
    scan(result.sdtm.data, result.sdtm.identifier_values)


@pytest.mark.parametrize(
    "value, what",
    [
        ("patient 43018119620719377X called", "a PRC resident ID number"),
        ("call 13062918450 after discharge", "a mobile phone number"),
        ("wrote to li.wei@example.cn", "an e-mail address"),
    ],
)
def test_patterns(value, what):
    frame = pd.DataFrame({"AETERM": ["Fever", value], "AESEQ": [1.0, 2.0]})
    with pytest.raises(IdentifierLeak) as exc:
        scan({"AE": frame}, set())
    assert str(exc.value).startswith(f"AE: variable AETERM, row 2: holds {what}")


def test_spec_mapping_an_identifier_fails_the_run(spec_copy, raw_copy, tmp_path):
    # a spec that maps the patient's name into SUPPDM is stopped before anything is written
    path = spec_copy / "sdtm" / "dm.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text + "  PATNAME:\n    label: Patient name\n    value: {field: PATNAME}\n",
        encoding="utf-8",
    )
    with pytest.raises(IdentifierLeak) as exc:
        run(spec_copy, raw_copy, tmp_path / "out")
    assert "sdtm/SUPPDM: variable QVAL" in str(exc.value)
    assert not (tmp_path / "out").exists()
    assert SPEC.exists()
