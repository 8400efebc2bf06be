"""The findings table (validate/findings.py): dtypes, deterministic order, counts, summary,
combining runs, CSV and JSON writers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cdisc_umsc.validate.findings import COLUMNS, Findings, combine, conform, empty_frame


def finding(**values: object) -> dict:
    base = {c: "" for c in COLUMNS} | {"seq": np.nan, "row": None}
    return base | {"rule": "UMSC-SD0002", "severity": "error", "dataset": "AE"} | values


def executed(rule: str, datasets: int, findings: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "rule": [rule],
            "severity": ["error"],
            "message": ["m"],
            "core_id": [""],
            "p21_id": [""],
            "citation": ["c"],
            "datasets": [datasets],
            "findings": [findings],
            "status": ["x"],
        }
    )


def test_empty_frame_dtypes() -> None:
    frame = empty_frame()
    assert tuple(frame.columns) == COLUMNS
    assert str(frame["row"].dtype) == "Int64" and str(frame["seq"].dtype) == "float64"
    assert frame["rule"].dtype == object


def test_conform_fills_text_and_refuses_bad_numbers() -> None:
    out = conform(pd.DataFrame({"rule": ["R"], "row": [3.0], "seq": ["2"]}))
    assert out.iloc[0].to_dict() == {c: "" for c in COLUMNS} | {"rule": "R", "row": 3, "seq": 2.0}
    with pytest.raises(ValueError):
        conform(pd.DataFrame({"row": ["three"]}))


def test_sorted_by_dataset_rule_row_with_dataset_level_first() -> None:
    found = Findings(
        pd.DataFrame(
            [
                finding(dataset="LB", row=1),
                finding(dataset="AE", row=10),
                finding(dataset="AE", row=None),
                finding(dataset="AE", row=2),
                finding(dataset="AE", rule="UMSC-CT0001", row=99),
            ]
        )
    )
    f = found.frame
    assert list(zip(f["dataset"], f["rule"], f["row"].astype(object), strict=True)) == [
        ("AE", "UMSC-CT0001", 99),
        ("AE", "UMSC-SD0002", pd.NA),
        ("AE", "UMSC-SD0002", 2),
        ("AE", "UMSC-SD0002", 10),
        ("LB", "UMSC-SD0002", 1),
    ]
    assert found.rules() == {"UMSC-CT0001", "UMSC-SD0002"}
    assert len(found.of("UMSC-SD0002")) == 4
    assert found.of("UMSC-SD0002").index.tolist() == [0, 1, 2, 3]


def test_counts_and_summary_singular_and_plural() -> None:
    found = Findings(
        pd.DataFrame(
            [
                finding(row=1),
                finding(row=2),
                finding(rule="UMSC-SD0003", severity="warning"),
            ]
        )
    )
    assert found.counts().to_dict("records") == [
        {"rule": "UMSC-SD0002", "severity": "error", "count": 2},
        {"rule": "UMSC-SD0003", "severity": "warning", "count": 1},
    ]
    assert found.summary() == (
        "3 findings: 2 errors, 1 warning, 0 notices\n"
        "  UMSC-SD0002    error          2\n"
        "  UMSC-SD0003    warning        1"
    )
    assert repr(found) == "Findings(3 findings: 2 errors, 1 warning, 0 notices)"
    empty = Findings()
    assert empty.summary() == "0 findings: 0 errors, 0 warnings, 0 notices"
    assert empty.counts().dtypes.astype(str).tolist() == ["object", "object", "int64"]


def test_combine_sums_the_runs_and_recomputes_the_status() -> None:
    a = Findings(pd.DataFrame([finding(dataset="DM", row=1)]), executed("R1", 2, 1))
    b = Findings(None, executed("R1", 3, 0))
    c = Findings(None, pd.concat([executed("R2", 0, 0), executed("R3", 1, 0)]))
    both = combine([a, b, c])
    assert len(both) == 1
    table = both.executed[["rule", "datasets", "findings", "status"]]
    assert table.values.tolist() == [
        ["R1", 5, 1, "fail"],
        ["R2", 0, 0, "not applicable"],
        ["R3", 1, 0, "pass"],
    ]
    assert combine([Findings(), Findings()]).executed is None


def test_writers_csv_and_json(tmp_path: Path) -> None:
    found = Findings(pd.DataFrame([finding(row=2, seq=1.0, value="caf\u00e9"), finding()]))
    found.to_csv(tmp_path / "f.csv")
    text = (tmp_path / "f.csv").read_bytes().decode("utf-8")
    assert "\r" not in text
    assert text.splitlines()[0] == ",".join(COLUMNS)
    assert text.splitlines()[1] == "UMSC-SD0002,error,AE,,,,,,,,,,"
    assert text.splitlines()[2] == "UMSC-SD0002,error,AE,,1.0,2,,caf\u00e9,,,,,"
    found.to_json(tmp_path / "f.json")
    doc = json.loads((tmp_path / "f.json").read_text(encoding="utf-8"))
    assert doc["summary"] == [{"rule": "UMSC-SD0002", "severity": "error", "count": 2}]
    assert doc["findings"][0]["row"] is None and doc["findings"][0]["seq"] is None
    assert doc["findings"][1]["row"] == 2 and doc["findings"][1]["seq"] == 1.0
    assert "caf\u00e9" in (tmp_path / "f.json").read_text(encoding="utf-8")
