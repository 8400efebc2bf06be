"""Draft forms from an export's own metadata (read/draft.py, command draft-forms): the draft
reads the file it came from, the bundled ODM export and a hand-written public-style ODM
ClinicalData file of a different shape (transactions, repeating events, code lists)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from cdisc_umsc.cli import main
from cdisc_umsc.core.errors import InputError
from cdisc_umsc.metadata.spec import load_study_spec
from cdisc_umsc.read.draft import draft_forms
from cdisc_umsc.read.raw import read_raw_forms
from tests.conftest import RAW, ROOT, SPEC

HERE = Path(__file__).resolve().parent
PUBLIC = HERE / "odm" / "public_style.xml"
EXPORTS = ROOT / "fixtures" / "umsc"
SETTINGS = (
    "study:\n  STUDYID: DRAFT\n  sdtm: SDTMIG 3.4\n  ct: SDTM CT 2025-03-28\n"
    '  created: "2024-06-30T00:00:00"\n'
)


def spec_from_draft(folder: Path, draft: str) -> Path:
    """A spec folder of the draft as it is: settings + raw/forms, recodes in codelists.yaml."""
    folder.mkdir(parents=True)
    forms, _, recodes = draft.partition("\nrecodes:\n")
    (folder / "study.yaml").write_text(SETTINGS + forms + "\n", encoding="utf-8")
    if recodes:
        (folder / "codelists.yaml").write_text("recodes:\n" + recodes, encoding="utf-8")
    return folder


def _read(tmp_path: Path, sources: list[Path], raw_dir: Path):  # type: ignore[no-untyped-def]
    spec = load_study_spec(spec_from_draft(tmp_path / "spec", draft_forms(sources)))
    return spec, read_raw_forms(raw_dir, spec.forms, spec.encoding, "2024-06-30")


def test_draft_of_the_bundled_odm_export_reads_it(tmp_path):
    spec, frames = _read(tmp_path, [EXPORTS / "odm" / "umsc.xml"], EXPORTS / "odm")
    csv = read_raw_forms(RAW, load_study_spec(SPEC).forms)
    assert list(frames) == list(csv)
    assert {n: len(f) for n, f in frames.items()} == {n: len(f) for n, f in csv.items()}
    lab = spec.forms["LAB"]
    assert [f.name for f in lab.fields][:3] == ["SUBJID", "EVENT", "IGRPT"]
    assert lab.key == ("SUBJID", "EVENT", "IGRPT")
    assert frames["LAB"]["LBCODE"].tolist() == csv["LAB"]["LBCODE"].tolist()
    assert frames["AE"]["AESTDAT"].tolist() == csv["AE"]["AESTDAT"].tolist()  # 2019-05 ...
    pasi = {f.name: f for f in spec.forms["PASI"].fields}
    assert (pasi["ERYTH"].type, pasi["PASIDAT"].type, pasi["PASIDAT"].format) == (
        "integer",
        "date",
        "YYYY-MM-DD",
    )
    assert spec.recodes["cl_sex"].map == {"男": "M", "女": "F"}


def test_draft_of_a_public_style_odm_file_reads_it(tmp_path):
    spec, frames = _read(tmp_path, [PUBLIC], PUBLIC.parent)
    assert list(frames) == ["DEMOG", "VITALS", "CM"]
    demog = frames["DEMOG"]  # SS_103 was inserted, then removed
    assert demog[["SUBJID", "BRTHDAT", "SEX", "SUBJECT_ID"]].values.tolist() == [
        ["SS_101", "1961-03-14", "2", "101"],
        ["SS_102", "1975-11-30", "1", ""],
    ]
    vitals = frames["VITALS"]
    assert spec.forms["VITALS"].key == ("SUBJID", "EVENTRPT")
    assert vitals[["SUBJID", "EVENTRPT", "SYSBP", "WEIGHT", "VSPOS"]].values.tolist() == [
        ["SS_101", "1", "142", "", "SUPINE"],  # WEIGHT removed, position upserted
        ["SS_101", "2", "138", "", ""],  # SYSBP updated from 183; WEIGHT IsNull
        ["SS_102", "1", "128", "", ""],
        ["SS_102", "2", "", "", ""],
    ]
    sysbp = next(f for f in spec.forms["VITALS"].fields if f.name == "SYSBP")
    assert (sysbp.min, sysbp.max) == (50, 250)  # hard checks only; the soft 180 is not one
    cm = frames["CM"]  # one group in two forms of two events; repeat 2 removed
    assert cm[
        ["EVENT", "EVENTRPT", "FORM", "IGRPT", "CMTRT", "CMSTDAT", "CMONGO"]
    ].values.tolist() == [
        ["SE_SCREEN", "", "F_CONMED_V1", "1", "Lisinopril", "2019-07", "Y"],
        ["SE_VISIT", "1", "F_CMFU_V1", "1", "Lisinopril", "", "N"],
    ]
    assert cm["__where"].tolist()[1] == (
        "SubjectKey=SS_101 StudyEventOID=SE_VISIT StudyEventRepeatKey=1 FormOID=F_CMFU_V1 "
        "ItemGroupRepeatKey=1"
    )
    assert spec.recodes["cl_sex"].map == {"1": "Male", "2": "Female"}
    assert spec.recodes["cl_ny"].map == {"Y": "Yes", "N": "No"}
    assert "cl_pos" not in spec.recodes  # enumerated values have no decode to recode to


def test_draft_of_sas_datasets_reads_them(tmp_path):
    for kind in ("sas7bdat", "xpt"):
        files = sorted((EXPORTS / kind).glob(f"*.{kind}"))
        draft = draft_forms(files)
        assert "INFSTTIM: {type: time}  # Infusion start time; SAS time (TIME5.)" in draft
        assert "INFDAT: {type: date, format: YYYY-MM-DD}  # Date of infusion; SAS date" in draft
        assert "LBLOW: {}  # Reference range lower limit" in draft  # character in the export
        spec, frames = _read(tmp_path / kind, files, EXPORTS / kind)
        infusion = {f.name: f.type for f in spec.forms["INFUSION"].fields}
        assert (infusion["INFNO"], infusion["DOSE"]) == ("integer", "number")
        assert spec.forms["INFUSION"].label == "Infusion log"
        assert frames["INFUSION"]["INFSTTIM"].iloc[0] == "09:30"
        assert sum(len(f) for f in frames.values()) == 3042


def test_draft_refuses_a_mix_of_exports():
    with pytest.raises(InputError, match="not a mix"):
        draft_forms([PUBLIC, EXPORTS / "xpt" / "dm.xpt"])


def test_draft_names_a_file_it_cannot_read_and_what_to_do(tmp_path):
    """A CSV export is not a mix: it is a format draft-forms does not read."""
    with pytest.raises(InputError) as err:
        draft_forms([tmp_path / "DM.csv"])
    assert str(err.value) == (
        "DM.csv: draft-forms reads an ODM file (.xml) or SAS datasets (.sas7bdat, .xpt), not "
        ".csv (for CSV exports, write the forms: of study.yaml by hand; see "
        "docs/spec-format.md)"
    )


def test_command_prints_or_writes_the_draft(tmp_path):
    runner = CliRunner()
    shown = runner.invoke(main, ["draft-forms", str(PUBLIC)])
    assert shown.exit_code == 0 and "  VITALS:  # ItemGroupOID IG_VITAL_UNGROUPED" in shown.output
    out = tmp_path / "draft.yaml"
    done = runner.invoke(main, ["draft-forms", str(PUBLIC), "-o", str(out)])
    assert done.exit_code == 0 and out.read_text(encoding="utf-8") == shown.output
    again = runner.invoke(main, ["draft-forms", str(PUBLIC), "-o", str(out)])
    assert again.exit_code == 2 and "exists (give --force" in again.output
    bad = runner.invoke(main, ["draft-forms", str(tmp_path / "none.xml")])
    assert bad.exit_code == 2 and "none.xml: raw form file not found" in bad.output
