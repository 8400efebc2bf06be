"""The Python API, used exactly as README.md shows it, and what each call returns."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import cdisc_umsc
from cdisc_umsc import api
from tests.conftest import RAW, ROOT, SPEC


def _readme_example() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Python API", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


@pytest.fixture(scope="module")
def readme(tmp_path_factory) -> tuple[dict, Path]:
    """The README's example run in an empty folder; its variables and the folder."""
    import os

    folder = tmp_path_factory.mktemp("readme")
    here = os.getcwd()
    os.chdir(folder)
    try:
        names: dict = {}
        exec(compile(_readme_example(), "README.md", "exec"), names)
    finally:
        os.chdir(here)
    return names, folder


def test_the_package_exports_the_api_lazily() -> None:
    code = (
        "import sys, cdisc_umsc; before = 'cdisc_umsc.api' in sys.modules; "
        "cdisc_umsc.build_study; print(before, 'cdisc_umsc.api' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]
    assert set(cdisc_umsc.__all__) == {"__version__", *api.__all__}
    for name in api.__all__:
        assert getattr(cdisc_umsc, name) is getattr(api, name)
    assert set(api.__all__) <= set(dir(cdisc_umsc))
    with pytest.raises(AttributeError, match="has no attribute 'nothing'"):
        cdisc_umsc.nothing  # noqa: B018


def test_every_api_function_is_documented_and_typed() -> None:
    import inspect

    for name in api.__all__:
        obj = getattr(api, name)
        assert (obj.__doc__ or "").strip(), name
        if inspect.isfunction(obj):
            hints = obj.__annotations__
            assert "return" in hints, name
            params = inspect.signature(obj).parameters
            assert set(params) <= set(hints), name
    assert (ROOT / "cdisc_umsc" / "py.typed").is_file()


def test_build_study_is_in_memory_and_accounts_for_every_row(readme) -> None:
    names, folder = readme
    study = names["study"]
    assert isinstance(study, api.StudyRun) and study.out_dir is None
    assert (study.spec_dir, study.raw_dir) == (SPEC, RAW)
    assert study.study_id == "CSU-UMSC-PSO"
    assert names["dm"] is study.sdtm["DM"] and len(study.sdtm["DM"]) == 17
    assert len(names["adsl"]) == 17 and list(names["adsl"].columns)[:2] == ["STUDYID", "USUBJID"]
    acc = study.accounting
    assert list(acc.columns) == ["form", "file", "read", "mapped", "excluded"]
    assert (acc["read"] == acc["mapped"] + acc["excluded"]).all()
    assert acc.set_index("file").loc["INFUSION.csv"].tolist() == ["INFUSION", 56, 55, 1]
    assert int(acc["read"].sum()) == 17 * 4 + 56 + 173 + 16 + 1864 + 692 + 173
    assert study.exclusions.to_dict("records") == [
        {
            "form": "INFUSION",
            "file": "INFUSION.csv",
            "reason": "infusion not given (INFYN = 否); not an exposure record",
            "records": 1,
        }
    ]
    assert set(study.findings) == {"SDTM", "ADaM"}
    assert isinstance(study.findings["SDTM"].frame, pd.DataFrame)


def test_run_study_writes_what_run_writes_and_returns_the_same_study(readme) -> None:
    names, folder = readme
    study, run = names["study"], names["run"]
    out = folder / "mystudy" / "out"
    assert run.out_dir == Path("mystudy/out") and (out / "manifest.json").is_file()
    assert run.spec_dir == Path("mystudy/spec") and run.raw_dir == Path("mystudy/raw")
    for name, frame in study.sdtm.items():
        pd.testing.assert_frame_equal(run.sdtm[name], frame)
    for name, frame in study.adam.items():
        pd.testing.assert_frame_equal(run.adam[name], frame)
    pd.testing.assert_frame_equal(run.accounting, study.accounting)
    written = json.loads((out / "validation.json").read_text(encoding="utf-8"))
    rows = written["findings"] if isinstance(written, dict) else written
    counts = {std: len(f) for std, f in study.findings.items()}
    assert {std: len(f) for std, f in run.findings.items()} == counts
    assert len(rows) == sum(counts.values())


def test_start_study_is_init(readme) -> None:
    names, folder = readme
    mine = names["mine"]
    assert (mine.spec, mine.raw) == (Path("mystudy/spec"), Path("mystudy/raw"))
    assert (folder / mine.spec / "study.yaml").read_bytes() == (SPEC / "study.yaml").read_bytes()
    assert sorted(p.name for p in (folder / mine.raw).iterdir()) == sorted(
        p.name for p in RAW.iterdir()
    )
    assert set(api.bundled_trials()) >= {"umsc"}


def test_validate_folder_is_the_command(readme) -> None:
    from click.testing import CliRunner

    from cdisc_umsc.cli import main

    names, folder = readme
    findings = names["findings"]
    assert isinstance(findings, api.Findings)
    sdtm = folder / "mystudy/out/sdtm"
    res = CliRunner().invoke(main, ["validate", str(sdtm), "--define", str(sdtm / "define.xml")])
    assert findings.summary() in res.output


def test_formats_round_trip_to_the_same_bytes(readme, tmp_path) -> None:
    names, folder = readme
    frame, meta = names["frame"], names["meta"]
    assert meta.name == "DM" and list(frame.columns) == [v.name for v in meta.variables]
    back, back_meta = api.read_dataset_json(folder / "dm.json")
    pd.testing.assert_frame_equal(back, frame, check_dtype=False)
    assert [(v.name, v.label) for v in back_meta.variables] == [
        (v.name, v.label) for v in meta.variables
    ]
    again, _ = api.read_xpt(folder / "dm.xpt")
    pd.testing.assert_frame_equal(again, frame)
    created = names["study"].spec.settings["created"]
    api.write_xpt(tmp_path / "dm.xpt", frame, meta, created=created)
    original = folder / "mystudy/out/sdtm/dm.xpt"
    assert (tmp_path / "dm.xpt").read_bytes() == original.read_bytes()


def test_define_round_trip(readme) -> None:
    names, folder = readme
    written = api.read_define(folder / "define.xml")
    assert (folder / "define.html").read_bytes().startswith(b"<")
    original = names["define"]
    assert set(written.datasets) == set(original.datasets) == set(names["run"].sdtm)
    assert (
        written.datasets["DM"].var("USUBJID").length
        == original.datasets["DM"].var("USUBJID").length
    )


def test_writers_describe_a_bare_frame_from_the_ig(tmp_path) -> None:
    frame = pd.DataFrame(
        {"STUDYID": ["S1", "S1"], "DOMAIN": ["DM", "DM"], "USUBJID": ["S1-1", "S1-2"]}
    )
    frame["AGE"] = [34.0, 61.0]
    api.write_xpt(tmp_path / "dm.xpt", frame, created="2024-05-01T09:00:00")
    back, meta = api.read_xpt(tmp_path / "dm.xpt")
    pd.testing.assert_frame_equal(back, frame)
    assert (meta.name, meta.var("USUBJID").label, meta.var("AGE").label) == (
        "DM",
        "Unique Subject Identifier",
        "Age",
    )
    api.write_dataset_json(tmp_path / "x.ndjson", frame, name="DM", created="2024-05-01T09:00:00")
    back, meta = api.read_dataset_json(tmp_path / "x.ndjson")
    assert meta.name == "DM" and back["USUBJID"].tolist() == ["S1-1", "S1-2"]
    first = json.loads((tmp_path / "x.ndjson").read_text().splitlines()[0])
    assert first["studyOID"].endswith("S1") and first["datasetJSONCreationDateTime"] == (
        "2024-05-01T09:00:00"
    )


def test_errors_are_umsc_errors_with_one_line(tmp_path) -> None:
    with pytest.raises(api.UmscError, match="not a spec folder|study.yaml"):
        api.build_study(tmp_path)
    with pytest.raises(api.UmscError, match=r"created 'yesterday': expected an ISO 8601"):
        api.write_xpt(tmp_path / "a.xpt", pd.DataFrame({"A": ["x"]}), created="yesterday")
    with pytest.raises(api.UmscError, match="folder .* does not exist"):
        api.write_xpt(tmp_path / "no" / "a.xpt", pd.DataFrame({"A": ["x"]}), created="2024-01-01")
    with pytest.raises(api.UmscError, match="holds files that are not a previous output"):
        (tmp_path / "full").mkdir()
        (tmp_path / "full" / "x").write_text("x")
        api.run_study(out=tmp_path / "full")
    assert (tmp_path / "full" / "x").read_text() == "x"
