"""Comparing two findings reports (validate/diff.py): identity without row or message, equal
identities paired in order, and the report loader's errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cdisc_umsc.core.errors import InputError
from cdisc_umsc.validate.diff import IDENTITY, diff_findings, load_findings
from cdisc_umsc.validate.findings import COLUMNS, Findings


def findings(*rows: dict) -> Findings:
    base = {c: "" for c in COLUMNS} | {"seq": np.nan, "row": None}
    return Findings(pd.DataFrame([base | {"severity": "error"} | r for r in rows]))


A = {"rule": "UMSC-SD0002", "dataset": "AE", "usubjid": "S-1", "seq": 1.0, "variable": "AETERM"}
B = {"rule": "UMSC-CT0001", "dataset": "AE", "usubjid": "S-2", "seq": 3.0, "variable": "AESER"}


def test_identity_ignores_row_and_message() -> None:
    assert IDENTITY == ("rule", "dataset", "usubjid", "seq", "variable", "value")
    old = findings(A | {"row": 3, "message": "m 1"})
    new = findings(A | {"row": 7, "message": "m 2"})
    d = diff_findings(old, new)
    assert (len(d.new), len(d.fixed), len(d.unchanged)) == (0, 0, 1)
    assert d.unchanged.frame["row"].tolist() == [7]  # as in the new report


def test_new_fixed_and_pairs_of_equal_identities() -> None:
    old = findings(A, A, B)
    new = findings(A, B | {"seq": 4.0})
    d = diff_findings(old, new)
    assert (len(d.new), len(d.fixed), len(d.unchanged)) == (1, 2, 1)
    assert d.new.frame["seq"].tolist() == [4.0]
    assert sorted(d.fixed.frame["rule"]) == ["UMSC-CT0001", "UMSC-SD0002"]
    assert d.summary().splitlines() == [
        "1 new, 2 fixed, 1 unchanged findings",
        "  new error UMSC-CT0001 AE S-2 4 AESER '': ",
        "  fixed error UMSC-CT0001 AE S-2 3 AESER '': ",
        "  fixed error UMSC-SD0002 AE S-1 1 AETERM '': ",
    ]
    assert [len(v) for v in d.to_dict().values()] == [1, 2, 1]


def test_missing_seq_is_one_identity() -> None:
    no_seq = A | {"seq": np.nan}
    d = diff_findings(findings(no_seq), findings(no_seq))
    assert (len(d.new), len(d.fixed), len(d.unchanged)) == (0, 0, 1)


def test_load_round_trip_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "v.json"
    findings(A | {"row": 2}).to_json(path)
    loaded = load_findings(path)
    assert loaded.frame.to_dict("records") == findings(A | {"row": 2}).frame.to_dict("records")
    with pytest.raises(InputError, match="findings report not found"):
        load_findings(tmp_path / "none.json")
    (tmp_path / "bad.json").write_text("{", encoding="utf-8")
    with pytest.raises(InputError, match="not a readable JSON findings report"):
        load_findings(tmp_path / "bad.json")
    (tmp_path / "list.json").write_text(json.dumps({"findings": [1]}), encoding="utf-8")
    with pytest.raises(InputError, match='expected an object with a "findings" list of objects'):
        load_findings(tmp_path / "list.json")
    (tmp_path / "keys.json").write_text(json.dumps({"findings": [{"rule": "R"}]}), encoding="utf-8")
    with pytest.raises(InputError, match="findings lack the key"):
        load_findings(tmp_path / "keys.json")
    record = {c: "" for c in COLUMNS} | {"row": "three", "seq": None}
    (tmp_path / "row.json").write_text(json.dumps({"findings": [record]}), encoding="utf-8")
    with pytest.raises(InputError, match="malformed seq or row"):
        load_findings(tmp_path / "row.json")
    (tmp_path / "none.json").write_text(json.dumps({"findings": []}), encoding="utf-8")
    assert len(load_findings(tmp_path / "none.json")) == 0
