"""Proof by equivalence: the bundled trial exported as ODM-XML 1.3.2, as SAS7BDAT and as SAS
XPORT datasets (fixtures/umsc/{odm,sas7bdat,xpt}, written by make_raw.py from the same data)
gives SDTM and ADaM files byte-identical to the CSV run; only lineage's source references
differ. The dispatch reads each form with the reader its declaration names."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from cdisc_umsc import lineage
from cdisc_umsc.commands.trace import trace
from cdisc_umsc.metadata.spec import load_study_spec
from cdisc_umsc.read.raw import read_raw_forms
from cdisc_umsc.run import run
from tests.conftest import RAW, ROOT, SPEC

EXPORTS = ROOT / "fixtures" / "umsc"
KINDS = ("odm", "sas7bdat", "xpt")


def export_spec(tmp: Path, kind: str) -> Path:
    """mappings/umsc with its forms: block replaced by the export's forms.yaml."""
    dest = tmp / kind / "umsc"  # same folder name: lineage steps name it
    shutil.copytree(SPEC, dest)
    study = dest / "study.yaml"
    text = study.read_text(encoding="utf-8")
    forms = (EXPORTS / kind / "forms.yaml").read_text(encoding="utf-8")
    text = text.replace(  # the forms block lies in the folder it reads: it is no form
        "\n  ignore:\n", "\n  ignore:\n    forms.yaml: the forms block that reads this export\n", 1
    )
    study.write_text(text[: text.index("\nforms:\n") + 1] + forms, encoding="utf-8")
    return dest


@pytest.fixture(scope="module", params=KINDS)
def export_run(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(request.param)
    spec = export_spec(tmp, request.param)
    out = tmp / "out"
    result = run(spec, EXPORTS / request.param, out)
    return request.param, result, out


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def test_sdtm_and_adam_files_are_byte_identical(bundled_run, export_run):
    _result, csv_out = bundled_run
    kind, _r, out = export_run
    for part in ("sdtm", "adam"):
        want, got = _files(csv_out / part), _files(out / part)
        assert sorted(got) == sorted(want)
        differ = [name for name in want if want[name] != got[name]]
        assert differ == [], f"{kind}: {differ}"
    for name in ("validation.json", "validation.html"):
        assert (out / name).read_bytes() == (csv_out / name).read_bytes()


def test_only_lineage_source_references_differ(bundled_run, export_run):
    csv_result, csv_out = bundled_run
    kind, result, out = export_run
    sources = {
        f.source: result.spec.forms[name].source for name, f in csv_result.spec.forms.items()
    }
    for table in sorted((csv_out / lineage.FOLDER / "sdtm").glob("*.csv")):
        dataset = f"sdtm/{table.stem.upper()}"
        want = lineage.read_records(csv_out, dataset)
        got = lineage.read_records(out, dataset)
        same = ["record", "USUBJID", "kind", "row", "step"]
        pd.testing.assert_frame_equal(got[same], want[same])
        raw = want["kind"] == "raw"
        assert (got.loc[raw, "source"] == want.loc[raw, "source"].map(sources)).all()
        assert (got.loc[~raw, ["source", "key"]] == want.loc[~raw, ["source", "key"]]).all().all()
        if kind == "odm":  # a record's own row: its ODM path, then any melted item
            by_subject = want["key"].str.startswith("SUBJID=")  # a form read by subject
            assert (got.loc[by_subject, "key"] == want.loc[by_subject, "key"]).all()
            own = raw & ~by_subject
            keys, melted = got.loc[own, "key"], want.loc[own, "key"]
            assert keys.str.match(r"SubjectKey=\S+ StudyEventOID=\S+ FormOID=\S+").all()
            ends = [k.endswith(" " + m) or m == "" for k, m in zip(keys, melted, strict=True)]
            assert all(ends)
        else:
            assert (got["key"] == want["key"]).all()
    for table in sorted((csv_out / lineage.FOLDER / "adam").glob("*.csv")):
        assert (out / lineage.FOLDER / "adam" / table.name).read_bytes() == table.read_bytes()


def test_every_record_is_accounted_for(bundled_run, export_run):
    csv_result, _ = bundled_run
    _kind, result, _out = export_run
    strip = lambda acc: [{k: v for k, v in f.items() if k != "file"} for f in acc]  # noqa: E731
    assert strip(result.sdtm.accounting) == strip(csv_result.sdtm.accounting)


def test_trace_shows_the_odm_path(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("trace")
    out = tmp / "out"
    run(export_spec(tmp, "odm"), EXPORTS / "odm", out)
    lines = trace(out, "sdtm/AE", "USUBJID='CSU-UMSC-PSO-01-002' and AESPID='2'")
    raw = [line.strip() for line in lines if "<- raw" in line]
    assert raw == [
        "<- raw umsc.xml ItemGroupOID=IG.AE row 4 (SubjectKey=002 StudyEventOID=SE.AE "
        "FormOID=F.AE ItemGroupRepeatKey=2)"
    ]


def test_each_form_is_read_by_its_declared_reader(tmp_path):
    spec = load_study_spec(export_spec(tmp_path, "odm"))
    frames = read_raw_forms(EXPORTS / "odm", spec.forms)
    csv = read_raw_forms(RAW, load_study_spec(SPEC).forms)
    assert list(frames) == list(csv)
    lab = frames["LAB"]
    assert lab["__where"].iloc[0] == (
        "SubjectKey=001 StudyEventOID=SE.V01 FormOID=F.LAB ItemGroupRepeatKey=1"
    )
    cols = [c for c in csv["LAB"].columns if c != "__where"]
    pd.testing.assert_frame_equal(lab[cols], csv["LAB"][cols])


# ------------------------------------------------------------------ raw file bounds


def _bounded(tmp: Path, file: str) -> str:
    from cdisc_umsc.core.errors import InputError
    from cdisc_umsc.metadata.model import FormSpec
    from cdisc_umsc.read.raw import form_path

    try:
        return form_path(tmp, FormSpec("F", file)).relative_to(tmp).as_posix()
    except InputError as exc:
        return str(exc)


def test_form_files_are_regular_files_inside_the_raw_folder(tmp_path):
    (tmp_path / "a.csv").write_text("X\n", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "link.csv").symlink_to("../a.csv")  # a link that stays inside
    assert _bounded(tmp_path, "a.csv") == "a.csv"
    assert _bounded(tmp_path, "sub/link.csv") == "sub/link.csv"
    assert _bounded(tmp_path, "sub/../a.csv") == "sub/../a.csv"
    assert _bounded(tmp_path, "missing.csv") == "missing.csv"  # the reader reports it
    outside = "the form's file lies outside the raw folder; only files inside --raw are read"
    assert _bounded(tmp_path, "/dev/zero") == f"/dev/zero: {outside}"
    assert _bounded(tmp_path, "../a.csv") == f"../a.csv: {outside}"
    assert _bounded(tmp_path, "sub") == "sub: cannot read file (a folder, not a file)"
    import os

    os.mkfifo(tmp_path / "pipe.csv")
    assert _bounded(tmp_path, "pipe.csv") == (
        "pipe.csv: cannot read file (not a regular file: a pipe, socket or device)"
    )
