"""Spec mistakes are reported as file:line: message, before any data is read."""

from __future__ import annotations

import pytest

from cdisc_umsc.metadata.specfile import SpecError
from cdisc_umsc.sdtm.check_spec import load_checked_spec as load_study_spec


def _line_of(path, text):
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if text in line:
            return i
    raise AssertionError(text)


def _error(spec_copy) -> str:
    with pytest.raises(SpecError) as exc:
        load_study_spec(spec_copy)
    return str(exc.value)


def _edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_bundled_spec_loads():
    from tests.conftest import SPEC

    spec = load_study_spec(SPEC)
    assert spec.settings["STUDYID"] == "CSU-UMSC-PSO"
    assert set(spec.domains) == {"DM", "AE", "DS", "EC", "EX", "LB", "QS", "SV", "VS"}
    assert spec.recodes["sex"].map == {"男": "M", "女": "F"}
    assert len(spec.sha256) == 64


def test_unknown_raw_field(spec_copy):
    path = spec_copy / "sdtm" / "ae.yaml"
    _edit(path, "AETERM: {field: AETERM}", "AETERM: {field: AETERMX}")
    line = _line_of(path, "AETERMX")
    msg = _error(spec_copy)
    assert msg.startswith(f"spec/sdtm/ae.yaml:{line}:") and "unknown raw field 'AETERMX'" in msg


def test_unknown_codelist(spec_copy):
    path = spec_copy / "sdtm" / "ex.yaml"
    _edit(
        path,
        "EXDOSU: {hardcode: 10^6/kg, codelist: C71620}",
        "EXDOSU: {codelist: C99999999, hardcode: X}",
    )
    line = _line_of(path, "C99999999")
    assert _error(spec_copy).startswith(f"spec/sdtm/ex.yaml:{line}: unknown codelist 'C99999999'")


def test_variable_not_in_ig(spec_copy):
    path = spec_copy / "sdtm" / "dm.yaml"
    _edit(
        path,
        "  DMDY: {study_day: DMDTC}",
        "  DMDY: {study_day: DMDTC}\n  DMFOO: {hardcode: X}",
    )
    line = _line_of(path, "DMFOO")
    msg = _error(spec_copy)
    assert msg.startswith(f"spec/sdtm/dm.yaml:{line}:") and "DMFOO is not in SDTMIG 3.4 DM" in msg


def test_wrong_domain(spec_copy):
    path = spec_copy / "sdtm" / "sv.yaml"
    _edit(path, "domain: SV", "domain: XY")
    assert _error(spec_copy) == "spec/sdtm/sv.yaml:1: domain XY is not in SDTMIG 3.4"


def test_recode_target_not_in_non_extensible_codelist(spec_copy):
    path = spec_copy / "codelists.yaml"
    _edit(path, "map: {男: M, 女: F}", "map: {男: MALE, 女: F}")
    line = _line_of(path, "男: MALE")
    msg = _error(spec_copy)
    assert msg.startswith(f"spec/codelists.yaml:{line}:") and "'MALE' is not a term" in msg


def test_unknown_algorithm_and_parameter(spec_copy):
    path = spec_copy / "sdtm" / "sv.yaml"
    _edit(path, "SVSTDTC: {date: VISDAT}", "SVSTDTC: {date: VISDAT, tiem: X}")
    line = _line_of(path, "tiem")
    assert _error(spec_copy).startswith(f"spec/sdtm/sv.yaml:{line}: unknown parameter 'tiem'")


def test_yaml_syntax_error_and_duplicate_key(spec_copy):
    path = spec_copy / "sdtm" / "sv.yaml"
    _edit(path, "  DOMAIN: {hardcode: SV}", "  DOMAIN: {hardcode: SV}\n  DOMAIN: {hardcode: SV}")
    line = _line_of(path, "DOMAIN") + 1
    assert _error(spec_copy) == (
        f"spec/sdtm/sv.yaml:{line}: duplicate key 'DOMAIN' (first at line {line - 1})"
    )
    _edit(path, "  DOMAIN: {hardcode: SV}\n  DOMAIN: {hardcode: SV}", "  DOMAIN: {hardcode: SV")
    assert "YAML syntax error" in _error(spec_copy)


def test_filter_needs_a_reason(spec_copy):
    path = spec_copy / "sdtm" / "ex.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("excluded_because")
    path.write_text(text[:start] + text[text.index("\n", start) + 1 :], encoding="utf-8")
    assert "needs excluded_because" in _error(spec_copy)


def test_coding_table_problems_are_one_line_errors(spec_copy, raw_copy, tmp_path):
    from cdisc_umsc.core.errors import InputError
    from cdisc_umsc.run import run

    table = spec_copy / "coding" / "ae_dictionary.csv"
    lines = table.read_text(encoding="utf-8").splitlines()
    data = [i for i, line in enumerate(lines) if line and not line.startswith("#")]
    table.write_text("\n".join([*lines, lines[data[1]]]) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        run(spec_copy, raw_copy, tmp_path / "out")
    assert str(exc.value).startswith(
        f"coding/ae_dictionary.csv: row {len(data)}, column VERBATIM: duplicate verbatim"
    )
    table.unlink()
    with pytest.raises(InputError) as exc:
        run(spec_copy, raw_copy, tmp_path / "out")
    assert "coding table coding/ae_dictionary.csv" in str(exc.value)
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------ how a form's export is read


@pytest.mark.parametrize(
    ("old", "new", "marker", "message"),
    [
        (
            "    file: PGA.csv\n",
            "    file: PGA.dat\n",
            "PGA.dat",
            "form PGA: cannot tell the reader from 'PGA.dat' (give reader: one of csv, "
            "sas7bdat, xpt, xlsx, odm)",
        ),
        (
            "    file: PGA.csv\n",
            "    file: PGA.csv\n    reader: json\n",
            "reader: json",
            "unknown reader 'json' (expected one of: csv, sas7bdat, xpt, xlsx, odm)",
        ),
        (
            "    file: PGA.csv\n",
            "    file: PGA.csv\n    sheet: PGA\n",
            "sheet: PGA",
            "form PGA: sheet: is for xlsx forms (this one is csv)",
        ),
        (
            "    file: PGA.csv\n",
            "    file: PGA.csv\n    item_group: IG.PGA\n",
            "item_group: IG.PGA",
            "form PGA: item_group: is for odm forms (this one is csv)",
        ),
        (
            "      PGA: {type: integer, min: 0, max: 4}",
            "      PGA: {type: integer, min: 0, max: 4, item: IT.PGA}",
            "item: IT.PGA",
            "field PGA.PGA: item: is for odm forms",
        ),
    ],
)
def test_form_reader_keys(spec_copy, old, new, marker, message):
    path = spec_copy / "study.yaml"
    _edit(path, old, new)
    assert _error(spec_copy) == f"spec/study.yaml:{_line_of(path, marker)}: {message}"


ODM_PGA = """  PGA:
    file: study.xml
    item_group: IG.PGA
    key: [SUBJID, VISIT]
    fields:
      SUBJID: {odm: SubjectKey}
      VISIT: {odm: StudyEventName}
      PGADAT: {type: date, format: YYYY-MM-DD, item: IT.PGADAT}
      PGA: {type: integer, min: 0, max: 4, item: IT.PGA}
"""


def _odm_pga(spec_copy, change=None):  # type: ignore[no-untyped-def]
    path = spec_copy / "study.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("  PGA:\n")
    end = text.index("  EOS:\n")
    block = ODM_PGA if change is None else ODM_PGA.replace(*change)
    path.write_text(text[:start] + block + text[end:], encoding="utf-8")
    return path


def test_odm_form_declaration(spec_copy):
    _odm_pga(spec_copy)
    pga = load_study_spec(spec_copy).forms["PGA"]
    assert (pga.reader, pga.item_group, pga.source) == (
        "odm",
        "IG.PGA",
        "study.xml ItemGroupOID=IG.PGA",
    )
    assert [(f.name, f.item, f.odm) for f in pga.fields] == [
        ("SUBJID", None, "SubjectKey"),
        ("VISIT", None, "StudyEventName"),
        ("PGADAT", "IT.PGADAT", None),
        ("PGA", "IT.PGA", None),
    ]


@pytest.mark.parametrize(
    ("change", "marker", "message"),
    [
        (
            ("    item_group: IG.PGA\n", ""),
            "file: study.xml",
            "missing required key 'item_group'",
        ),
        (
            ("{odm: StudyEventName}", "{}"),
            "VISIT: {}",
            "field PGA.VISIT of an odm form needs one of item: (an ItemOID) or odm: (the "
            "record's SubjectKey, StudyEventOID ...)",
        ),
        (
            ("{odm: StudyEventName}", "{odm: VisitName}"),
            "VisitName",
            "unknown odm: 'VisitName' (expected one of: SubjectKey, LocationOID, StudyEventOID, "
            "StudyEventName, StudyEventRepeatKey, FormOID, FormName, FormRepeatKey, "
            "ItemGroupRepeatKey)",
        ),
        (
            ("item: IT.PGADAT", "item: IT.PGA"),
            "    fields:",
            "item IT.PGA is read into two fields of form PGA",
        ),
    ],
)
def test_odm_form_mistakes(spec_copy, change, marker, message):
    path = _odm_pga(spec_copy, change)
    lines = path.read_text(encoding="utf-8").splitlines()
    start = lines.index("    file: study.xml")
    line = next(i for i, text in enumerate(lines[start:], start + 1) if marker in text)
    assert _error(spec_copy) == f"spec/study.yaml:{line}: {message}"


def test_xlsx_sheet_defaults_to_the_form_name(spec_copy):
    path = spec_copy / "study.yaml"
    _edit(path, "    file: PGA.csv\n", "    file: crf.xlsx\n")
    _edit(path, "    file: EOS.csv\n", "    file: crf.xlsx\n    sheet: End of study\n")
    forms = load_study_spec(spec_copy).forms
    assert (forms["PGA"].reader, forms["PGA"].sheet, forms["PGA"].source) == (
        "xlsx",
        "PGA",
        "crf.xlsx sheet PGA",
    )
    assert forms["EOS"].sheet == "End of study"
    assert forms["AE"].sheet is None and forms["AE"].reader == "csv"
