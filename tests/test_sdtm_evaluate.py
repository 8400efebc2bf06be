"""Applying a variable's algorithm (cdisc_umsc/sdtm/evaluate.py): conditions guard the
computation, else: fills what is left, conditions are numeric-aware and the same as ADaM's."""

from __future__ import annotations

from pathlib import Path

import pytest

from cdisc_umsc.core.conditions import match
from cdisc_umsc.core.errors import InputError
from cdisc_umsc.sdtm.check_spec import load_checked_spec
from cdisc_umsc.sdtm.pipeline import build_sdtm

STUDY = """\
study: {STUDYID: S1, sdtm: SDTMIG 3.4, ct: SDTM CT 2025-03-28, created: "2024-01-01T00:00:00"}
raw: {subject: SUBJID}
forms:
  DM:
    file: DM.csv
    key: [SUBJID]
    fields: {SUBJID: {}, SITE: {}, SEX: {}, OK: {}, VISNUM: {}, ETH: {}}
"""
CODELISTS = "recodes:\n  sex: {codelist: C66731, map: {male: M, female: F}}\n"
DM = """\
domain: DM
source: DM
keys: [STUDYID, USUBJID]
variables:
  STUDYID: {setting: STUDYID}
  DOMAIN: {hardcode: DM}
  USUBJID: {template: "{STUDYID}-{SUBJID}"}
  SUBJID: {field: SUBJID}
  SITEID: {field: SITE}
{extra}
supp:  # every collected field reaches a dataset
  RAWSEX: {label: Sex as collected, value: {field: SEX}}
  RAWOK: {label: OK as collected, value: {field: OK}}
  RAWVIS: {label: Visit number as collected, value: {field: VISNUM}}
  RAWETH: {label: Ethnicity as collected, value: {field: ETH}}
"""
RAW = (
    "SUBJID,SITE,SEX,OK,VISNUM,ETH\n"
    "001,01,male,Y,07,\n"
    "002,01,X,N,7.0,HISPANIC OR LATINO\n"
    "003,02,female,Y,8,\n"
)


def _study(tmp: Path, extra: str, raw: str = RAW) -> tuple[Path, Path]:
    spec, rawdir = tmp / "spec", tmp / "raw"
    (spec / "sdtm").mkdir(parents=True)
    rawdir.mkdir()
    (spec / "study.yaml").write_text(STUDY, encoding="utf-8")
    (spec / "codelists.yaml").write_text(CODELISTS, encoding="utf-8")
    (spec / "sdtm" / "dm.yaml").write_text(DM.replace("{extra}", extra), encoding="utf-8")
    (rawdir / "DM.csv").write_text(raw, encoding="utf-8")
    return spec, rawdir


def _dm(tmp: Path, extra: str, raw: str = RAW):
    spec, rawdir = _study(tmp, extra, raw)
    result = build_sdtm(load_checked_spec(spec), rawdir)
    return result.data["DM"], result


def test_when_guards_the_computation(tmp_path: Path) -> None:
    # subject 002's SEX 'X' is no term of C66731: outside `when`, so no error and blank
    dm, _ = _dm(tmp_path, "  SEX: {recode: sex, field: SEX, when: {OK: Y}}")
    assert dm["SEX"].tolist() == ["M", "", "F"]


def test_without_the_guard_the_bad_value_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"DM.csv: row 2, column SEX: value not in recode"):
        _dm(tmp_path, "  SEX: {recode: sex, field: SEX}")


def test_unless_and_else_for_the_other_records(tmp_path: Path) -> None:
    extra = "  SEX: {recode: sex, field: SEX, unless: {OK: N}, else: {hardcode: U}}"
    dm, _ = _dm(tmp_path, extra)
    assert dm["SEX"].tolist() == ["M", "U", "F"]


def test_else_without_a_condition_fills_blanks(tmp_path: Path) -> None:
    dm, _ = _dm(tmp_path, "  ETHNIC: {field: ETH, else: {hardcode: NOT REPORTED}}")
    assert dm["ETHNIC"].tolist() == ["NOT REPORTED", "HISPANIC OR LATINO", "NOT REPORTED"]


def test_numeric_condition_on_raw_text(tmp_path: Path) -> None:
    # "07" and "7.0" are the number 7; "8" is not
    dm, result = _dm(tmp_path, "  ETHNIC: {hardcode: NOT REPORTED, when: {VISNUM: 7}}")
    assert dm["ETHNIC"].tolist() == ["NOT REPORTED", "NOT REPORTED", ""]
    assert result.unmatched == []


def test_a_condition_matching_nothing_is_reported(tmp_path: Path) -> None:
    dm, result = _dm(tmp_path, "  ETHNIC: {hardcode: NOT REPORTED, when: {VISNUM: 9}}")
    assert dm["ETHNIC"].tolist() == ["", "", ""]
    assert len(result.unmatched) == 1
    assert result.unmatched[0].endswith("dm.yaml:10: VISNUM = 9")


def test_sdtm_and_adam_give_the_same_answer(tmp_path: Path) -> None:
    cond = {"SITEID": "01", "any": [{"USUBJID": {"ge": "S1-002"}}, {"SUBJID": ["003"]}]}
    extra = "  ETHNIC: {hardcode: NOT REPORTED, when: " + str(cond).replace("'", '"') + "}"
    dm, _ = _dm(tmp_path, extra)
    sdtm_rows = (dm["ETHNIC"] == "NOT REPORTED").tolist()
    assert sdtm_rows == [False, True, False]
    assert match(dm, cond).tolist() == sdtm_rows


def test_a_where_given_a_list_is_a_spec_error(tmp_path: Path) -> None:
    spec, _ = _study(tmp_path, "  ETHNIC: {hardcode: X, when: [{OK: Y}]}")
    with pytest.raises(InputError, match=r"dm.yaml:10: a condition is a mapping"):
        load_checked_spec(spec)


def test_a_condition_on_an_unknown_name_is_a_spec_error(tmp_path: Path) -> None:
    spec, _ = _study(tmp_path, "  ETHNIC: {hardcode: X, when: {NOPE: Y}}")
    with pytest.raises(InputError, match=r"dm.yaml:10: variable ETHNIC: unknown name 'NOPE'"):
        load_checked_spec(spec)
