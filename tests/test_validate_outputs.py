"""Validation inside a run (validate/outputs.py): one line per standard, and validation.json /
validation.html holding both standards."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from cdisc_umsc.validate.findings import COLUMNS, Findings
from cdisc_umsc.validate.igmeta import study_from_ig
from cdisc_umsc.validate.outputs import summary_line, validate_outputs


def test_summary_line_counts_every_severity() -> None:
    base = {c: "" for c in COLUMNS}
    frame = pd.DataFrame([base | {"severity": "warning"}, base | {"severity": "warning"}])
    assert summary_line("SDTM", Findings(frame)) == (
        "SDTM: 2 findings (0 errors, 2 warnings, 0 notices)"
    )
    assert summary_line("ADaM", Findings()) == "ADaM: 0 findings (0 errors, 0 warnings, 0 notices)"


def test_both_standards_in_one_report(tmp_path: Path) -> None:
    dm = {"DM": pd.DataFrame({"STUDYID": "S", "DOMAIN": "DM", "USUBJID": ["S-1", ""]})}
    adsl = {"ADSL": pd.DataFrame({"STUDYID": "S", "USUBJID": ["S-1", "S-1"], "TRT01P": "A"})}
    found = validate_outputs(
        {"SDTM": (dm, study_from_ig(dm)), "ADaM": (adsl, study_from_ig(adsl))}, tmp_path, "T"
    )
    assert list(found) == ["SDTM", "ADaM"]
    assert found["ADaM"].of("UMSC-AD0001")["row"].tolist() == [1, 2]
    assert found["SDTM"].of("UMSC-SD0002")[["dataset", "row", "variable"]].values.tolist() == [
        ["DM", 2, "USUBJID"]
    ]
    doc = json.loads((tmp_path / "validation.json").read_text(encoding="utf-8"))
    assert len(doc["findings"]) == len(found["SDTM"]) + len(found["ADaM"])
    assert {"ADSL", "DM"} <= {f["dataset"] for f in doc["findings"]}
    page = (tmp_path / "validation.html").read_text(encoding="utf-8")
    assert summary_line("SDTM", found["SDTM"]) in page
    assert summary_line("ADaM", found["ADaM"]) in page
    assert '<td>ADSL</td><td class="num">2</td>' in page
