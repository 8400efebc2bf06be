"""XPT -> Dataset-JSON -> XPT is lossless: the bytes of the XPT written back equal the original."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from cdisc_umsc.cli import main
from cdisc_umsc.metadata.model import Study
from cdisc_umsc.read.datasetjson import read_datasetjson
from cdisc_umsc.read.xpt import read_xpt
from cdisc_umsc.write.datasetjson import write_datasetjson
from cdisc_umsc.write.xpt import write_xpt
from tests.conftest import RAW, SHARED, SPEC

CREATED = "2021-06-30T00:00:00"


def test_bundled_trial_json_back_to_identical_xpt(tmp_path):
    out = tmp_path / "out"
    res = CliRunner().invoke(
        main, ["run", "--spec", str(SPEC), "--raw", str(RAW), "--out", str(out), "--format", "both"]
    )
    assert res.exit_code == 0, res.output
    files = sorted(out.glob("*/*.json"))
    assert len(files) == len(list(out.glob("*/*.xpt"))) > 15
    for js in files:
        df, meta = read_datasetjson(js)
        back = tmp_path / "back" / js.parent.name / f"{js.stem}.xpt"
        back.parent.mkdir(parents=True, exist_ok=True)
        write_xpt(back, df, meta, created=datetime.fromisoformat(CREATED))
        assert back.read_bytes() == js.with_suffix(".xpt").read_bytes(), js.name


PILOT = sorted((SHARED / "reference" / "cdiscpilot01").glob("*/*.xpt"))


@pytest.mark.skipif(not PILOT, reason="../shared (CDISC pilot XPT files) not present")
@pytest.mark.parametrize("xpt", PILOT, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_pilot_xpt_json_xpt_is_byte_identical(xpt: Path, tmp_path):
    encoding = "cp1252" if xpt.name == "ts.xpt" else "ascii"
    df, meta = read_xpt(xpt, encoding=encoding)
    study = Study(
        study_id="CDISCPILOT01",
        standard="SDTMIG",
        standard_version="3.1.2",
        ct_version="2025-03-28",
        datasets={meta.name: meta},
        created=CREATED,
    )
    direct, via = tmp_path / "direct.xpt", tmp_path / "via.xpt"
    write_xpt(direct, df, meta, created=datetime.fromisoformat(CREATED), encoding=encoding)
    write_datasetjson(tmp_path / "x.json", df, meta, study, created=CREATED)
    df2, meta2 = read_datasetjson(tmp_path / "x.json")
    write_xpt(via, df2, meta2, created=datetime.fromisoformat(CREATED), encoding=encoding)
    assert via.read_bytes() == direct.read_bytes()
