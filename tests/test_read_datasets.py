"""Datasets on disk: suffix dispatch (.xpt, .json, .ndjson), preference order, folder listing."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from cdisc_umsc.core.errors import InputError
from cdisc_umsc.metadata.model import Dataset, Study, Variable
from cdisc_umsc.read.datasets import (
    NOT_DATASETS,
    SUFFIXES,
    dataset_files,
    find_dataset,
    is_dataset_file,
    load_dataset,
    read_dataset,
)
from cdisc_umsc.write.datasetjson import write_datasetjson
from cdisc_umsc.write.xpt import write_xpt
from tests.conftest import SPEC

STUDY = Study("UMSC-01", "SDTMIG", "3.4", "2025-03-28")


def _meta(name: str = "DM", width: int = 6) -> Dataset:
    return Dataset(
        name=name,
        label="Demographics",
        cls="Special-Purpose",
        structure="One record per subject",
        standard="SDTMIG 3.4",
        variables=(
            Variable("USUBJID", "Unique Subject Identifier", "Char", 1, length=width),
            Variable("AGE", "Age", "Num", 2, data_type="integer"),
        ),
    )


def _write(path: Path, first: str = "01-001", encoding: str = "ascii") -> Path:
    """A two-row dataset at ``path`` in the format its suffix names; ``first`` tells files
    apart."""
    frame = pd.DataFrame({"USUBJID": [first, "01-002"], "AGE": [61.0, None]})
    ds = _meta(path.stem.upper(), width=max(6, len(first.encode(encoding))))
    fmt = path.suffix.lower().lstrip(".")
    if fmt == "xpt":
        write_xpt(path, frame, ds, created=datetime(2025, 1, 2, 3, 4, 5), encoding=encoding)
    else:
        written = path.with_suffix(f".{fmt}")
        write_datasetjson(written, frame, ds, STUDY, created="2025-01-02T03:04:05", fmt=fmt)
        if written != path:  # an upper-case suffix
            written.rename(path)
    return path


def test_suffixes_in_order_of_preference() -> None:
    assert SUFFIXES == (".xpt", ".json", ".ndjson")
    assert NOT_DATASETS == frozenset({"manifest.json", "validation.json"})


# is_dataset_file -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("dm.xpt", True),
        ("DM.XPT", True),
        ("ae.json", True),
        ("ae.ndjson", True),
        ("ae.NDJSON", True),
        ("manifest.xpt", True),  # only the JSON names are taken
        ("dm.csv", False),
        ("dm", False),
        ("dm.xpt.bak", False),
        ("dm.jsonl", False),
        (".xpt", False),  # a hidden file has no suffix
        ("manifest.json", False),
        ("MANIFEST.JSON", False),
        ("validation.json", False),
        ("validation.ndjson", True),
    ],
)
def test_is_dataset_file(name: str, expected: bool) -> None:
    assert is_dataset_file(Path("out") / name) is expected


# read_dataset --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["dm.xpt", "dm.json", "dm.ndjson", "DM.XPT", "dm.Json"])
def test_read_dataset_by_suffix(tmp_path: Path, name: str) -> None:
    path = _write(tmp_path / name)
    frame, ds = read_dataset(path)
    assert frame["USUBJID"].tolist() == ["01-001", "01-002"]
    assert frame["AGE"].iloc[0] == 61.0 and pd.isna(frame["AGE"].iloc[1])
    assert (ds.name, ds.label, ds.names) == ("DM", "Demographics", ["USUBJID", "AGE"])
    # XPT stores every numeric in 8 bytes; Dataset-JSON gives a numeric no length
    xpt = path.suffix.lower() == ".xpt"
    assert ds.var("AGE").length == (8 if xpt else None)


def test_read_dataset_accepts_a_string_path(tmp_path: Path) -> None:
    path = _write(tmp_path / "dm.json")
    frame, _ = read_dataset(str(path))  # type: ignore[arg-type]
    assert len(frame) == 2


def test_read_dataset_xpt_text_in_the_encoding_given(tmp_path: Path) -> None:
    path = _write(tmp_path / "dm.xpt", first="café", encoding="cp1252")
    frame, _ = read_dataset(path, encoding="cp1252")
    assert frame["USUBJID"].tolist() == ["café", "01-002"]
    with pytest.raises(InputError):  # 0xE9 is no UTF-8 text
        read_dataset(path)


@pytest.mark.parametrize("name", ["dm.csv", "dm.sas7bdat", "dm", "dm.xpt.bak", "dm.jsonl"])
def test_read_dataset_unknown_suffix(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text("x", encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_dataset(path)
    assert str(err.value) == f"{path}: not a dataset file (expected .xpt, .json, .ndjson)"


def test_read_dataset_unknown_suffix_does_not_need_the_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"not a dataset file"):
        read_dataset(tmp_path / "absent.csv")


def test_read_dataset_reader_error_is_one_line_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "dm.json"
    path.write_text("not json", encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_dataset(path)
    assert str(err.value).startswith(str(path))
    assert "\n" not in str(err.value)


# find_dataset / load_dataset -----------------------------------------------------------------


def test_find_dataset_prefers_xpt_then_json_then_ndjson(tmp_path: Path) -> None:
    assert find_dataset(tmp_path, "DM") is None
    _write(tmp_path / "dm.ndjson")
    assert find_dataset(tmp_path, "DM") == tmp_path / "dm.ndjson"
    _write(tmp_path / "dm.json")
    assert find_dataset(tmp_path, "DM") == tmp_path / "dm.json"
    _write(tmp_path / "dm.xpt")
    assert find_dataset(tmp_path, "DM") == tmp_path / "dm.xpt"
    assert find_dataset(tmp_path, "dm") == tmp_path / "dm.xpt"  # the name in any case
    assert find_dataset(tmp_path, "AE") is None


def test_find_dataset_passes_over_a_folder_of_that_name(tmp_path: Path) -> None:
    (tmp_path / "dm.xpt").mkdir()
    _write(tmp_path / "dm.json")
    assert find_dataset(tmp_path, "DM") == tmp_path / "dm.json"


def test_load_dataset_reads_the_preferred_file(tmp_path: Path) -> None:
    _write(tmp_path / "dm.json", first="JSON-1")
    _write(tmp_path / "dm.ndjson", first="NDJS-1")
    assert load_dataset(tmp_path, "DM")["USUBJID"].tolist() == ["JSON-1", "01-002"]


def test_load_dataset_passes_the_encoding_on(tmp_path: Path) -> None:
    _write(tmp_path / "dm.xpt", first="café", encoding="cp1252")
    assert load_dataset(tmp_path, "DM", encoding="cp1252")["USUBJID"].iloc[0] == "café"


def test_load_dataset_absent(tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        load_dataset(tmp_path, "AE")
    assert str(err.value) == f"{tmp_path}: no ae.xpt or ae.json or ae.ndjson"
    with pytest.raises(InputError) as err:
        load_dataset(tmp_path, "AE", why="AE flags need it")
    assert str(err.value) == f"{tmp_path}: no ae.xpt or ae.json or ae.ndjson (AE flags need it)"


# dataset_files -------------------------------------------------------------------------------


def test_dataset_files_one_file_per_dataset_with_notes(tmp_path: Path) -> None:
    for name in ("lb.xpt", "vs.json", "vs.xpt", "dm.ndjson", "dm.json", "AE.NDJSON"):
        (tmp_path / name).write_text("", encoding="utf-8")  # names only: nothing is read
    for other in ("manifest.json", "validation.json", "define.xml", "notes.csv"):
        (tmp_path / other).write_text("", encoding="utf-8")
    (tmp_path / "sub.xpt").mkdir()  # a folder is no dataset
    found, notes = dataset_files(tmp_path)
    assert found == {
        "AE": tmp_path / "AE.NDJSON",
        "DM": tmp_path / "dm.json",
        "LB": tmp_path / "lb.xpt",
        "VS": tmp_path / "vs.xpt",
    }
    assert list(found) == ["AE", "DM", "LB", "VS"]  # by name, not by format
    assert notes == [  # in order of preference, then of name
        "vs.json not read: dataset VS is read from vs.xpt",
        "dm.ndjson not read: dataset DM is read from dm.json",
    ]


def test_dataset_files_same_suffix_in_two_cases(tmp_path: Path) -> None:
    (tmp_path / "dm.json").write_text("", encoding="utf-8")
    (tmp_path / "DM.json").write_text("", encoding="utf-8")
    found, notes = dataset_files(str(tmp_path))
    assert found == {"DM": tmp_path / "DM.json"}  # by name within a suffix: "D" < "d"
    assert notes == ["dm.json not read: dataset DM is read from DM.json"]


def test_dataset_files_empty_folder(tmp_path: Path) -> None:
    assert dataset_files(tmp_path) == ({}, [])


def test_dataset_files_not_a_folder(tmp_path: Path) -> None:
    file = tmp_path / "dm.xpt"
    file.write_text("", encoding="utf-8")
    for path in (file, tmp_path / "absent"):
        with pytest.raises(InputError) as err:
            dataset_files(path)
        assert str(err.value) == f"{path}: not a folder of datasets"


# ------------------------------------------------- record counts of this tool's manifest


def test_a_dataset_with_fewer_records_than_its_manifest_lists_is_an_error(bundled_run, tmp_path):
    import shutil

    from click.testing import CliRunner

    from cdisc_umsc.cli import main
    from cdisc_umsc.read.datasets import manifest_count

    _result, out = bundled_run
    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    lb = copy / "sdtm" / "lb.xpt"
    assert manifest_count(lb) == (copy / "manifest.json", 1864)
    frame, meta = read_dataset(lb)
    assert len(frame) == 1864
    write_xpt(lb, frame.iloc[:1800], meta, created=datetime(2021, 6, 30))  # 64 records short
    with pytest.raises(InputError) as caught:
        read_dataset(lb)
    assert str(caught.value) == (
        f"{lb}: holds 1,800 records, but {copy / 'manifest.json'} lists 1,864 for it "
        "(the file was cut short or replaced after cdisc-umsc wrote it)"
    )
    res = CliRunner().invoke(
        main, ["validate", str(copy / "sdtm"), "--out", str(tmp_path / "v.json")]
    )
    # validate reports an unreadable dataset as an error finding (UMSC-FI0002) and goes on
    assert res.exit_code == 1
    assert "lb.xpt: holds 1,800 records, but" in res.output
    # the same number of records, edited values: read (validation judges the values)
    edited = frame.assign(LBORRES=frame["LBORRES"].where(frame.index != 0, "999"))
    write_xpt(lb, edited, meta, created=datetime(2021, 6, 30))
    assert read_dataset(lb)[0]["LBORRES"].iloc[0] == "999"


def test_no_count_where_no_manifest_of_this_tool_lists_the_file(bundled_run, tmp_path):
    import json
    import shutil

    from cdisc_umsc.read.datasets import manifest_count

    _result, out = bundled_run
    copy = tmp_path / "out"
    shutil.copytree(out / "sdtm", copy / "sdtm")
    assert manifest_count(copy / "sdtm" / "lb.xpt") is None  # no manifest
    doc = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    for change, expected in (
        ({}, 1864),
        ({"tool": {"name": "other"}}, None),
        ({"tool": "cdisc-umsc"}, None),  # not an object: not this tool's, no traceback
        ({"records": {"sdtm/LB": True}}, None),
        ({"records": {}}, None),
        ({"files": {}}, None),
    ):
        (copy / "manifest.json").write_text(json.dumps({**doc, **change}), encoding="utf-8")
        found = manifest_count(copy / "sdtm" / "lb.xpt")
        assert (found and found[1]) == expected or (found is None and expected is None)
    (copy / "manifest.json").write_text("{not json", encoding="utf-8")
    assert manifest_count(copy / "sdtm" / "lb.xpt") is None


def test_derive_lists_its_records_in_its_manifest(bundled_run, tmp_path):
    import json

    from click.testing import CliRunner

    from cdisc_umsc.cli import main
    from cdisc_umsc.read.datasets import manifest_count

    _result, out = bundled_run
    res = CliRunner().invoke(
        main,
        [
            "derive",
            "--spec",
            str(SPEC),
            "--sdtm",
            str(out / "sdtm"),
            "--out",
            str(tmp_path / "adam"),
        ],
    )
    assert res.exit_code == 0, res.output
    doc = json.loads((tmp_path / "adam" / "manifest.json").read_text(encoding="utf-8"))
    assert doc["records"] == {"ADAE": 16, "ADLB": 1863, "ADQS": 433, "ADSL": 17}
    assert manifest_count(tmp_path / "adam" / "adsl.xpt") == (
        tmp_path / "adam" / "manifest.json",
        17,
    )
