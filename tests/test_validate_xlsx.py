"""The Pinnacle 21-style workbook (validate/xlsx.py): its five sheets, explanations, the
details cap stated, and deterministic bytes."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from cdisc_umsc.validate import xlsx
from cdisc_umsc.validate.findings import COLUMNS, Findings


def findings() -> Findings:
    base = {c: "" for c in COLUMNS} | {"seq": np.nan, "row": None}
    rows = [
        base | {"rule": "UMSC-CT0002", "severity": "warning", "dataset": "LB", "row": 2,
                "usubjid": "S-1", "seq": 4.0, "variable": "LBORRESU", "value": "furlong",
                "message": "New term in extensible codelist: new term 'furlong'"},
        base | {"rule": "UMSC-CT0002", "severity": "warning", "dataset": "LB", "row": 5,
                "message": "New term in extensible codelist: new term 'cubit'"},
        base | {"rule": "UMSC-SD0002", "severity": "error", "dataset": "AE", "row": 1,
                "message": "Required variable has a null value: AE.AETERM"},
    ]  # fmt: skip
    executed = pd.DataFrame(
        {
            "rule": ["UMSC-CT0002", "UMSC-SD0002", "UMSC-AD0001"],
            "severity": ["warning", "error", "error"],
            "status": ["fail", "fail", "not applicable"],
            "datasets": [1, 2, 0],
            "findings": [2, 1, 0],
            "message": ["a", "b", "c"],
            "core_id": ["", "", ""],
            "p21_id": ["CT2002", "SD0002", ""],
            "citation": ["x", "y", "z"],
        }
    )
    return Findings(pd.DataFrame(rows), executed)


HEADER = {"tool": "cdisc-umsc validate", "folder": "data"}


def sheets(data: bytes) -> dict[str, list[tuple]]:
    wb = load_workbook(io.BytesIO(data))
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in wb.worksheets}


def test_sheets_and_their_rows() -> None:
    known = pd.DataFrame(
        {"rule_id": ["UMSC-CT0002"], "dataset": ["LB"], "variable": ["LBORRESU"],
         "value": ["furlong"], "justification": ["sponsor unit"]}
    )  # fmt: skip
    book = sheets(xlsx.render_xlsx(findings(), HEADER, {"LB": 9, "AE": 3, "DM": 2}, known))
    assert list(book) == ["Report", "Dataset Summary", "Issue Summary", "Details", "Rules"]
    assert book["Report"] == [
        ("Item", "Value"),
        ("tool", "cdisc-umsc validate"),
        ("folder", "data"),
        ("findings", "3 (1 errors, 2 warnings, 0 notices)"),
        ("details shown", "3 of 3"),
    ]
    assert book["Dataset Summary"][1:] == [
        ("AE", 3, 1, 0, 0),
        ("DM", 2, 0, 0, 0),
        ("LB", 9, 0, 2, 0),
    ]
    assert book["Issue Summary"][1:] == [
        ("AE", "UMSC-SD0002", "error", "Required variable has a null value", 1),
        ("LB", "UMSC-CT0002", "warning", "New term in extensible codelist", 2),
    ]
    details = book["Details"]
    assert details[0][0] == "Dataset" and details[0][-1] == "Explanation"
    assert [(r[0], r[3], r[-1]) for r in details[1:]] == [
        ("AE", 1, None),
        ("LB", 2, "sponsor unit"),
        ("LB", 5, None),
    ]
    assert details[2][1:3] == ("S-1", 4)
    assert [(r[0], r[2], r[3], r[4]) for r in book["Rules"][1:]] == [
        ("UMSC-CT0002", "fail", 1, 2),
        ("UMSC-SD0002", "fail", 2, 1),
        ("UMSC-AD0001", "not applicable", 0, 0),
    ]


def test_details_cap_is_stated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xlsx, "MAX_DETAILS", 2)
    book = sheets(xlsx.render_xlsx(findings(), HEADER))
    assert book["Report"][-1] == ("details shown", "2 of 3 (capped at the sheet limit of 2 rows)")
    assert book["Details"][0][0] == "2 of 3 findings shown: the sheet's row limit"
    assert len(book["Details"]) == 4  # note, heading, two rows


def test_bytes_are_deterministic(tmp_path: Path) -> None:
    xlsx.write_xlsx(tmp_path / "a.xlsx", findings(), HEADER)
    again = xlsx.render_xlsx(findings(), HEADER)
    assert (tmp_path / "a.xlsx").read_bytes() == again
    archive = zipfile.ZipFile(io.BytesIO(again))
    assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    core = archive.read("docProps/core.xml").decode("utf-8")
    assert "2000-01-01T00:00:00Z" in core


def test_empty_findings_without_executed_rules() -> None:
    book = sheets(xlsx.render_xlsx(Findings(), HEADER))
    assert book["Issue Summary"] == [("Dataset", "Rule", "Severity", "Message", "Count")]
    assert len(book["Rules"]) == 1
