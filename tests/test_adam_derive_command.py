"""`cdisc-umsc derive` (cdisc_umsc/commands/derive.py): ADaM from any SDTM folder."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from cdisc_umsc.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_derive_from_written_xpt_reproduces_the_run(bundled_run, tmp_path) -> None:
    _result, out = bundled_run
    res = CliRunner().invoke(
        main,
        [
            "derive",
            "--spec",
            str(ROOT / "mappings" / "umsc"),
            "--sdtm",
            str(out / "sdtm"),
            "--out",
            str(tmp_path / "a"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "ADAE" in res.output and "ADQS" in res.output
    for name in ("adsl", "adae", "adlb", "adqs"):
        assert (tmp_path / "a" / f"{name}.xpt").read_bytes() == (
            out / "adam" / f"{name}.xpt"
        ).read_bytes(), name
    assert (tmp_path / "a" / "define.xml").is_file()


def test_derive_from_dataset_json(bundled_run, tmp_path) -> None:
    result, out = bundled_run
    from cdisc_umsc.run import study_metadata
    from cdisc_umsc.write.datasetjson import write_datasetjson

    sdtm = tmp_path / "sdtm"
    sdtm.mkdir()
    study = study_metadata(result.spec, result.sdtm.meta, "Tabulation")
    for name in ("DM", "DS", "EC", "EX", "QS", "LB", "AE", "VS"):
        write_datasetjson(
            sdtm / f"{name.lower()}.json",
            result.sdtm.data[name],
            result.sdtm.meta[name],
            study,
            created=study.created,
        )
    res = CliRunner().invoke(
        main,
        [
            "derive",
            "--spec",
            str(ROOT / "mappings" / "umsc"),
            "--sdtm",
            str(sdtm),
            "--out",
            str(tmp_path / "b"),
            "--format",
            "json",
        ],
    )
    assert res.exit_code == 0, res.output
    from cdisc_umsc.read.datasetjson import read_datasetjson

    adqs = read_datasetjson(tmp_path / "b" / "adqs.json")[0]
    anl = adqs[(adqs["ANL01FL"] == "Y") & (adqs["PARAMCD"] == "PASITOT")]
    assert len(anl) == 17 and (anl["CRIT1FL"] == "Y").sum() == 8


def test_derive_errors_are_one_line(tmp_path) -> None:
    spec = tmp_path / "spec"
    shutil.copytree(ROOT / "mappings" / "umsc" / "adam", spec)
    (tmp_path / "sdtm").mkdir()
    res = CliRunner().invoke(
        main,
        [
            "derive",
            "--spec",
            str(spec),
            "--sdtm",
            str(tmp_path / "sdtm"),
            "--out",
            str(tmp_path / "o"),
        ],
    )
    assert res.exit_code == 2
    assert res.output.strip().splitlines() == [
        f"error: {tmp_path / 'sdtm'}: no dm.xpt, .json or .ndjson (the ADaM spec reads domain DM)"
    ]
    assert not (tmp_path / "o").exists()


def test_a_codelist_miss_is_a_note_not_a_stop(bundled_run, tmp_path) -> None:
    """A define describes the data it is given: a value outside a non-extensible codelist is
    printed and listed in the manifest, left out of the define's codelist."""
    import json
    from datetime import datetime

    from cdisc_umsc.write.xpt import write_xpt

    result, out = bundled_run
    sdtm = tmp_path / "sdtm"
    shutil.copytree(out / "sdtm", sdtm)
    dm = result.sdtm.data["DM"].copy()
    dm.loc[dm.index[1], "RACE"] = "MULTIPLE"
    write_xpt(sdtm / "dm.xpt", dm, result.sdtm.meta["DM"], created=datetime(2024, 1, 1))
    args = ["derive", "--spec", str(ROOT / "mappings" / "umsc"), "--sdtm", str(sdtm)]
    res = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "a")])
    assert res.exit_code == 0, res.output
    note = (
        "dataset ADSL, row 2, variable RACE: value 'MULTIPLE' is not a term of non-extensible "
        "codelist C74457 (Race); left out of the define's codelist"
    )
    assert res.output.splitlines()[0] == f"note: {note}"
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["define_findings"] == [note]
    assert b'CodedValue="MULTIPLE"' not in (tmp_path / "a" / "define.xml").read_bytes()
    clean = CliRunner().invoke(main, [*args[:4], str(out / "sdtm"), "--out", str(tmp_path / "b")])
    assert clean.exit_code == 0 and "note:" not in clean.output
    assert "define_findings" not in (tmp_path / "b" / "manifest.json").read_text(encoding="utf-8")
