"""Reading and validating a folder of datasets (validate/folder.py): bad encodings and
unreadable files become findings, JSON twins are noted, run outputs are split in SDTM / ADaM."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from cdisc_umsc.core.errors import InputError
from cdisc_umsc.validate.folder import _ig_text, read_folder, validate_folder
from cdisc_umsc.validate.igmeta import dataset_from_ig
from cdisc_umsc.write.xpt import write_xpt

CREATED = datetime(2024, 1, 1)
#: 2024-01-02T03:04:05Z, the modification time given to the files (the report's "data dated").
STAMP = 1704164645


def write(folder: Path, name: str, frame: pd.DataFrame, encoding: str = "ascii") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name.lower()}.xpt"
    write_xpt(path, frame, dataset_from_ig(name, frame), created=CREATED, encoding=encoding)
    os.utime(path, (STAMP, STAMP))
    return path


def dm() -> pd.DataFrame:
    return pd.DataFrame({"STUDYID": "S", "DOMAIN": "DM", "USUBJID": ["S-1", "S-2"]})


def ae(term: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "STUDYID": "S",
            "DOMAIN": "AE",
            "USUBJID": ["S-1", "S-2"],
            "AESEQ": [1.0, 1.0],
            "AETERM": term,
        }
    )


def test_text_not_valid_in_the_encoding_is_read_and_reported(tmp_path: Path) -> None:
    write(tmp_path, "AE", ae(["caf\u00e9", "ok"]), encoding="latin-1")
    write(tmp_path, "DM", dm())
    folder = read_folder(tmp_path)
    assert sorted(folder.frames) == ["AE", "DM"]
    assert folder.frames["AE"]["AETERM"].tolist() == ["caf\u00e9", "ok"]
    assert folder.read_issues().to_dict("records") == [
        {
            "rule": "UMSC-FI0001",
            "dataset": "AE",
            "row": 0,
            "variable": "AETERM",
            "value": "caf\u00e9",
            "message": "ae.xpt: row 1, variable AETERM: byte 0xE9 at position 4 is not valid ascii",
        }
    ]
    assert read_folder(tmp_path, encoding="latin-1").read_issues().empty


def test_unreadable_file_is_an_issue_and_the_rest_is_read(tmp_path: Path) -> None:
    write(tmp_path, "DM", dm())
    (tmp_path / "lb.xpt").write_bytes(b"not a transport file")
    folder = read_folder(tmp_path)
    assert list(folder.frames) == ["DM"]
    issues = folder.read_issues()
    assert issues[["rule", "dataset", "row", "variable", "value"]].values.tolist() == [
        ["UMSC-FI0002", "LB", -1, "", "lb.xpt"]
    ]
    assert (
        issues["message"]
        .iloc[0]
        .endswith("lb.xpt: not a readable SAS XPORT file (no library header record)")
    )


def test_json_twin_of_an_xpt_is_noted(tmp_path: Path) -> None:
    write(tmp_path, "DM", dm())
    (tmp_path / "dm.json").write_text("{}", encoding="utf-8")
    assert read_folder(tmp_path).notes == ["dm.json not read: dataset DM is read from dm.xpt"]


def test_empty_or_missing_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no datasets"):
        read_folder(tmp_path)
    with pytest.raises(InputError, match="not a folder of datasets"):
        validate_folder(tmp_path / "absent")
    with pytest.raises(InputError, match="no datasets .* sdtm/ and adam/"):
        validate_folder(tmp_path)
    write(tmp_path, "DM", dm())
    with pytest.raises(InputError, match="--encoding klingon: unknown text encoding"):
        validate_folder(tmp_path, encoding="klingon")


def test_validate_folder_findings_header_and_counts(tmp_path: Path) -> None:
    write(tmp_path, "AE", ae(["caf\u00e9", "ok"]), encoding="latin-1")
    write(tmp_path, "DM", dm())
    (tmp_path / "lb.xpt").write_bytes(b"x")
    os.utime(tmp_path / "lb.xpt", (STAMP - 10, STAMP - 10))
    result = validate_folder(tmp_path)
    assert result.what == (
        f"{tmp_path}: 2 datasets, 4 records, checked against the bundled IG, profile submission"
    )
    assert result.datasets == {"AE": 2, "DM": 2, "LB": 0}
    assert result.header == {
        "tool": "cdisc-umsc validate",
        "folder": str(tmp_path),
        "profile": "submission",
        "metadata": "the bundled IG",
        "standards": "SDTMIG 3.4",
        "CT": "SDTM CT 2025-03-28",
        "data dated": "2024-01-02T03:04:05Z",
    }
    fi1 = result.findings.of("UMSC-FI0001")
    assert fi1[
        ["severity", "dataset", "usubjid", "seq", "row", "variable", "value"]
    ].values.tolist() == [["error", "AE", "S-1", 1.0, 1, "AETERM", "caf\u00e9"]]
    fi2 = result.findings.of("UMSC-FI0002")
    assert fi2[["dataset", "value"]].values.tolist() == [["LB", "lb.xpt"]]
    assert pd.isna(fi2["row"].iloc[0])


def test_declared_ig_of_ts_is_named_and_judged_by_the_bundled(tmp_path: Path) -> None:
    ts = pd.DataFrame(
        {
            "STUDYID": "S",
            "DOMAIN": "TS",
            "TSSEQ": [1.0],
            "TSPARMCD": ["SDTIGVER"],
            "TSVAL": ["SDTMIG 3.2"],
        }
    )
    write(tmp_path, "TS", ts)
    result = validate_folder(tmp_path)
    assert result.header["metadata"] == "the bundled IG (the study declares SDTMIG 3.2)"
    assert result.header["standards"] == "declares SDTMIG 3.2, judged by SDTMIG 3.4 (not bundled)"
    assert validate_folder(tmp_path, ig="SDTMIG v3.4").header["standards"] == "SDTMIG 3.4"


def test_run_output_folder_is_validated_part_by_part(tmp_path: Path) -> None:
    write(tmp_path / "sdtm", "DM", dm())
    adsl = pd.DataFrame({"STUDYID": "S", "USUBJID": ["S-1", "S-1"], "TRT01P": ["A", "A"]})
    write(tmp_path / "adam", "ADSL", adsl)
    result = validate_folder(tmp_path)
    assert result.what.splitlines() == [
        f"{tmp_path / 'sdtm'}: 1 datasets, 2 records, checked against the bundled IG, profile "
        "submission",
        f"{tmp_path / 'adam'}: 1 datasets, 2 records, checked against the bundled IG, profile "
        "submission",
    ]
    assert result.datasets == {"DM": 2, "ADSL": 2}
    assert result.findings.of("UMSC-AD0001")["row"].tolist() == [1, 2]
    with pytest.raises(InputError, match="is a run output"):
        validate_folder(tmp_path, define=tmp_path / "define.xml")


def test_ig_text() -> None:
    assert [_ig_text(v) for v in (None, " 3.4 ", "SDTMIG v3.3", "SDTM IG 3.2", "sdtmig 3.1.2")] == [
        "",
        "3.4",
        "3.3",
        "3.2",
        "3.1.2",
    ]
