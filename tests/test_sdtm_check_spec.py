"""Static checks of an SDTM spec (cdisc_umsc/sdtm/check_spec.py): each mistake is one
``file:line: message`` error before any data is read, and every declared raw field is
accounted for (read by a variable, a record key, an identifier, or not submitted)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cdisc_umsc.metadata.spec import load_study_spec
from cdisc_umsc.metadata.specfile import SpecError
from cdisc_umsc.sdtm.algorithms import ALGORITHMS
from cdisc_umsc.sdtm.check_spec import check_spec, field_use, load_checked_spec
from tests.conftest import write_trial

STUDY = """\
study: {STUDYID: T1, sdtm: SDTMIG 3.4, ct: SDTM CT 2025-03-28, created: "2021-01-01T00:00:00"}
raw: {subject: SUBJID}
forms:
  DM:
    file: DM.csv
    key: [SUBJID]
    fields: {SUBJID: {}, SITE: {}}
  PS:
    file: PS.csv
    key: [SUBJID, PSNO]
    fields:
      SUBJID: {}
      PSNO: {type: integer}
      DONE: {}
      VIS: {}
      SCORE: {}
      DAT: {type: date, format: YYYY-MM-DD}
"""
CODELISTS = """\
codelists:
  PSTC: {name: PS item code, terms: {A: Item A}}
recodes:
  done: {map: {是: Y, 否: N}}
units:
  ps: [{test: A, from: a, to: b, factor: 2, decimals: 1}]
"""
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
  RFSTDTC: {aggregate: min, of: QS.QSDTC}
"""
# line numbers of qs.yaml are part of the expected messages
QS = """\
domain: QS
keys: [STUDYID, USUBJID, QSTESTCD, VISITNUM]
sources:
  - form: PS
    where: {DONE: 是}
    excluded_because: not done
    variables:
      QSTESTCD: {hardcode: A, codelist: PSTC}
      QSTEST: {decode: QSTESTCD}
      QSCAT: {hardcode: PS}
      QSORRES: {field: SCORE}
      QSSTAT: {recode: done, field: DONE}
      VISITNUM: {number: VIS}
      QSDTC: {date: DAT}
variables:
  STUDYID: {setting: STUDYID}
  DOMAIN: {hardcode: QS}
  USUBJID: {dm: USUBJID}
  QSSEQ: {seq: true}
  QSDY: {study_day: QSDTC}
"""
FILES = {"study.yaml": STUDY, "codelists.yaml": CODELISTS, "sdtm/dm.yaml": DM, "sdtm/qs.yaml": QS}


def _spec(tmp: Path, file: str = "sdtm/qs.yaml", old: str = "", new: str = "") -> Path:
    texts = dict(FILES)
    if old:
        assert old in texts[file], old
        texts[file] = texts[file].replace(old, new, 1)
    spec, _raw = write_trial(tmp, texts, {})
    return spec


def _error(tmp: Path, old: str, new: str, file: str = "sdtm/qs.yaml") -> str:
    with pytest.raises(SpecError) as err:
        load_checked_spec(_spec(tmp, file, old, new))
    message = str(err.value)
    assert "\n" not in message
    return message


def test_the_small_spec_is_clean(tmp_path) -> None:
    study = load_checked_spec(_spec(tmp_path))
    assert list(study.domains) == ["DM", "QS"]


# ------------------------------------------------------------------ names a variable reads

QSORRES = "QSORRES: {field: SCORE}"
UNKNOWN = "(not a field of the domain's forms nor a variable of QS)"


@pytest.mark.parametrize(
    ("new", "message"),
    [
        (
            "QSORRES: {field: NOPE}",
            f"qs.yaml:11: variable QSORRES: unknown raw field 'NOPE' {UNKNOWN}",
        ),
        (
            "QSORRES: {field: XX.SCORE}",
            "qs.yaml:11: variable QSORRES: 'XX.SCORE': no form XX (forms: DM, PS)",
        ),
        (
            "QSORRES: {field: DM.NOPE}",
            "qs.yaml:11: variable QSORRES: 'DM.NOPE': form DM has no field NOPE",
        ),
        (
            "QSORRES: {field: [SCORE]}",
            "qs.yaml:11: variable QSORRES: field must name a field or variable",
        ),
        (
            "QSORRES: {field: SCORE, when: {NOPE: 1}}",
            f"qs.yaml:11: variable QSORRES: unknown name 'NOPE' {UNKNOWN}",
        ),
        (
            "QSORRES: {field: SCORE, when: {has_records: AE}}",
            "qs.yaml:11: variable QSORRES: has_records: AE is not a mapped domain",
        ),
        (
            "QSORRES: {field: SCORE, else: {field: NOPE}}",
            f"qs.yaml:11: variable QSORRES: unknown raw field 'NOPE' {UNKNOWN}",
        ),
        (
            'QSORRES: {template: "{STUDYID}-{NOPE}"}',
            f"qs.yaml:11: variable QSORRES: unknown name 'NOPE' {UNKNOWN}",
        ),
        (
            "QSORRES: {convert: SCORE, test: QSTESTCD, unit: QSCAT, table: nope}",
            "qs.yaml:11: unknown unit table 'nope' (codelists.yaml units:)",
        ),
        (
            "QSORRES: {dictionary: MEDDRA, column: PT, field: SCORE}",
            "qs.yaml:11: unknown dictionary 'MEDDRA' (declare it under dictionaries:)",
        ),
        (
            "QSORRES: {categorize: SCORE, groups: {LOW: {lt: 1}, HIGH: 5}}",
            "qs.yaml:11: variable QSORRES: group HIGH: expected a condition such as {lt: 10}",
        ),
        (
            "QSORRES: {categorize: SCORE, groups: []}",
            "qs.yaml:11: variable QSORRES: groups: expected a mapping of label to condition",
        ),
    ],
)
def test_a_reference_that_does_not_resolve_is_one_line_error(tmp_path, new, message) -> None:
    assert _error(tmp_path, QSORRES, new) == f"spec/sdtm/{message}"


@pytest.mark.parametrize(
    "new",
    [
        "QSORRES: {copy: QSCAT}",  # a variable of QS
        "QSORRES: {field: DM.SITE}",  # a field of another form, joined by the subject key
        "QSORRES: {field: SCORE, when: {DM.SITE: 1}}",
    ],
)
def test_a_variable_of_the_domain_or_a_looked_up_field_resolves(tmp_path, new) -> None:
    study = load_study_spec(_spec(tmp_path, old=QSORRES, new=new))
    check_spec(study)  # no error (field use, checked apart, would miss PS.SCORE)
    assert study.domains["QS"].sources[0].variables["QSORRES"] is not None


# ------------------------------------------------------------------ values of each kind


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "QSSTAT: {recode: done, field: DONE}",
            "QSSTAT: {recode: nope, field: DONE}",
            "qs.yaml:12: unknown recode table 'nope' (codelists.yaml recodes:)",
        ),
        ("codelist: PSTC}", "codelist: NOPE}", "qs.yaml:8: unknown codelist 'NOPE'"),
        (
            "codelist: PSTC}",
            "codelist: EXT:MedDRA}",
            "qs.yaml:8: external codelist 'EXT:MedDRA': write EXT:<name>:<version>",
        ),
        (
            "codelist: PSTC}",
            'codelist: "EXT:MedDRA: "}',
            "qs.yaml:8: external codelist 'EXT:MedDRA: ': write EXT:<name>:<version>",
        ),
        (
            "STUDYID: {setting: STUDYID}",
            "STUDYID: {setting: NOPE}",
            "qs.yaml:16: unknown study setting 'NOPE' (study: in study.yaml)",
        ),
        (
            "USUBJID: {dm: USUBJID}",
            "USUBJID: {dm: NOPE}",
            "qs.yaml:18: variable USUBJID: DM maps no variable NOPE",
        ),
        (
            "QSCAT: {hardcode: PS}",
            "QSCAT: {hardcode: [PS, X]}",
            "qs.yaml:10: hardcode: expected a single value",
        ),
        (
            "QSCAT: {hardcode: PS}",
            "QSCAT: {field: SCORE, else: 5}",
            "qs.yaml:10: else: expected an algorithm such as {field: X}",
        ),
        ("QSSEQ: {seq: true}", "QSSEQ: {seq: false}", "qs.yaml:19: seq: write seq: true"),
        (
            "QSCAT: {hardcode: PS}",
            "QSCAT: {hardcode: PS, length: 2.5}",
            "qs.yaml:10: length: expected a whole number, got 2.5",
        ),
        (
            "QSCAT: {hardcode: PS}",
            "QSCAT: {hardcode: PS, origin: Typed}",
            "qs.yaml:10: origin: 'Typed' is not one of: Collected, Derived, Assigned, "
            "Protocol, Predecessor, Not Available",
        ),
    ],
)
def test_a_value_of_the_wrong_kind_is_one_line_error(tmp_path, old, new, message) -> None:
    assert _error(tmp_path, old, new) == f"spec/sdtm/{message}"


@pytest.mark.parametrize(
    "new",
    [
        'codelist: "EXT:MedDRA:26.0"}',  # an external dictionary with its version
        "codelist: C66742}",  # a CT codelist
        "codelist: null}",  # no codelist check
    ],
)
def test_codelists_that_resolve(tmp_path, new) -> None:
    assert "QS" in load_checked_spec(_spec(tmp_path, old="codelist: PSTC}", new=new)).domains


def test_pseudo_settings_resolve(tmp_path) -> None:
    spec = _spec(
        tmp_path, old="STUDYID: {setting: STUDYID}", new="STUDYID: {setting: sdtm_version}"
    )
    assert "QS" in load_checked_spec(spec).domains


# ------------------------------------------------------------------ the algorithm itself

ALL = ", ".join(sorted(ALGORITHMS))


@pytest.mark.parametrize(
    ("new", "message"),
    [
        (
            "QSCAT: {label: Category}",
            f"qs.yaml:10: variable QSCAT: give exactly one algorithm (one of: {ALL})",
        ),
        (
            "QSCAT: {hardcode: PS, field: SCORE}",
            "qs.yaml:10: variable QSCAT: give exactly one algorithm (it names hardcode, field) "
            f"(one of: {ALL})",
        ),
        (
            "QSCAT: {hardcode: PS, nope: 1}",
            "qs.yaml:10: unknown parameter 'nope' for algorithm 'hardcode' (allowed: codelist, "
            "comment, else, format, hardcode, label, length, method, origin, "
            "significant_digits, unless, when)",
        ),
        (
            "QSCAT: {age: DAT}",
            "qs.yaml:10: variable QSCAT: algorithm 'age' needs 'at:'",
        ),
        (
            "QSCAT: {recode: done}",
            "qs.yaml:10: variable QSCAT: algorithm 'recode' needs exactly one of 'field:' or "
            "'fields:'",
        ),
        (
            "QSCAT: {recode: done, field: DONE, fields: [DONE, VIS]}",
            "qs.yaml:10: variable QSCAT: algorithm 'recode' needs exactly one of 'field:' or "
            "'fields:'",
        ),
        (
            "QSSEQ: {seq: true}\n      QSCAT: {hardcode: PS}",
            "qs.yaml:10: variable QSSEQ: seq runs at the order stage, but a source's variables "
            "are computed from its raw rows (the row stage); move QSSEQ to the domain's "
            "variables:",
        ),
    ],
)
def test_an_algorithm_against_its_declaration(tmp_path, new, message) -> None:
    assert _error(tmp_path, "QSCAT: {hardcode: PS}", new) == f"spec/sdtm/{message}"


def test_a_recode_of_several_fields_is_accepted(tmp_path) -> None:
    spec = _spec(
        tmp_path,
        old="QSSTAT: {recode: done, field: DONE}",
        new="QSSTAT: {recode: done, fields: [DONE]}",
    )
    assert "QS" in load_checked_spec(spec).domains


def test_a_variable_not_in_the_ig_nor_the_model_goes_to_supp(tmp_path) -> None:
    new = "QSDY: {study_day: QSDTC}\n  QSFOO: {hardcode: X}"
    assert _error(tmp_path, "QSDY: {study_day: QSDTC}", new) == (
        "spec/sdtm/qs.yaml:21: variable QSFOO is not in SDTMIG 3.4 QS nor allowed by the "
        "SDTM model for its class (non-standard variables go to supp:)"
    )


def test_a_domain_not_in_the_ig_is_an_error_on_its_first_line(tmp_path) -> None:
    texts = dict(FILES)
    texts["sdtm/dm.yaml"] = DM.replace("  RFSTDTC: {aggregate: min, of: QS.QSDTC}\n", "")
    texts["sdtm/qs.yaml"] = QS.replace("domain: QS", "domain: QX")
    spec, _raw = write_trial(tmp_path, texts, {})
    with pytest.raises(SpecError) as err:
        load_checked_spec(spec)
    assert str(err.value) == "spec/sdtm/qs.yaml:1: domain QX is not in SDTMIG 3.4"


def test_derived_records_condition_names_resolve(tmp_path) -> None:
    new = (
        "QSDY: {study_day: QSDTC}\nderived:\n  - {name: t, where: {NOPE: 1}, by: [USUBJID], "
        "pivot: QSTESTCD, value: QSORRES, formula: A}"
    )
    assert _error(tmp_path, "QSDY: {study_day: QSDTC}", new) == (
        f"spec/sdtm/qs.yaml:22: variable (derived records): unknown name 'NOPE' {UNKNOWN}"
    )


# ------------------------------------------------------------------ other domains


@pytest.mark.parametrize(
    ("new", "message"),
    [
        ("of: QSDTC}", "variable RFSTDTC: 'QSDTC' must be DOMAIN.VARIABLE"),
        (
            "of: XX.QSDTC}",
            "variable RFSTDTC: 'XX.QSDTC': XX is not a domain of this spec (mapped: DM, QS)",
        ),
        ("of: QS.NOPE}", "variable RFSTDTC: 'QS.NOPE': QS maps no variable NOPE"),
        (
            "of: QS.QSDTC, where: {NOPE: 1}}",
            f"variable RFSTDTC: unknown name 'NOPE' {UNKNOWN}",
        ),
    ],
)
def test_a_reference_to_another_domain(tmp_path, new, message) -> None:
    got = _error(tmp_path, "of: QS.QSDTC}", new, file="sdtm/dm.yaml")
    assert got == f"spec/sdtm/dm.yaml:10: {message}"


def test_a_condition_on_another_domain_reads_that_domains_names(tmp_path) -> None:
    # QSCAT is a variable of QS, not of DM: the where of `of: QS...` is checked in QS
    spec = _spec(tmp_path, "sdtm/dm.yaml", "of: QS.QSDTC}", "of: QS.QSDTC, where: {QSCAT: PS}}")
    assert "DM" in load_checked_spec(spec).domains


def test_an_unknown_aggregate_is_not_one_of_the_choices(tmp_path) -> None:
    assert _error(tmp_path, "aggregate: min", "aggregate: median", file="sdtm/dm.yaml") == (
        "spec/sdtm/dm.yaml:10: aggregate: 'median' is not one of: min, max, count, count_distinct"
    )


# ------------------------------------------------------------------ source filters

WHERE = "where: {DONE: 是}"


@pytest.mark.parametrize(
    ("new", "message"),
    [
        (
            "where: {DONE: Y}",
            "qs.yaml:5: source filter: 'Y' is not a code of DONE (recode table done: 是, 否)",
        ),
        (
            "where: {DONE: [是, Y]}",
            "qs.yaml:5: source filter: 'Y' is not a code of DONE (recode table done: 是, 否)",
        ),
        (
            "where: {DONE: {ne: 'N'}}",
            "qs.yaml:5: source filter: 'N' is not a code of DONE (recode table done: 是, 否)",
        ),
        (
            "where:\n      DONE: Y",
            "qs.yaml:6: source filter: 'Y' is not a code of DONE (recode table done: 是, 否)",
        ),
        # a filter reads the raw form only: QSCAT is a variable, not a field of PS
        (
            "where: {QSCAT: PS}",
            "qs.yaml:5: variable (source filter): unknown name 'QSCAT' " + UNKNOWN,
        ),
        ("where: {has_records: DM}", "qs.yaml:5: a source filter cannot use has_records"),
    ],
)
def test_a_source_filter_mistake_names_the_filters_line(tmp_path, new, message) -> None:
    assert _error(tmp_path, WHERE, new) == f"spec/sdtm/{message}"


@pytest.mark.parametrize(
    "new", ["where: {DONE: 否}", "where: {DONE: [是, 否]}", "where: {DONE: {not: null}}"]
)
def test_a_source_filter_on_crf_codes_or_blank_is_accepted(tmp_path, new) -> None:
    assert "QS" in load_checked_spec(_spec(tmp_path, old=WHERE, new=new)).domains


# ------------------------------------------------------------------ field use


def test_field_use_says_what_becomes_of_each_field(tmp_path) -> None:
    study = load_checked_spec(_spec(tmp_path))
    assert field_use(study) == {
        "DM": {"SUBJID": "read by DM.SUBJID", "SITE": "read by DM.SITEID"},
        "PS": {
            "SUBJID": "record key",
            "PSNO": "record key",
            "DONE": "read by QS (record filter), QS.QSSTAT",
            "VIS": "read by QS.VISITNUM",
            "SCORE": "read by QS.QSORRES",
            "DAT": "read by QS.QSDTC",
        },
    }


def _use_error(tmp: Path, study: str, qs_old: str = "", qs_new: str = "") -> str:
    texts = dict(FILES, **{"study.yaml": study})
    if qs_old:
        texts["sdtm/qs.yaml"] = QS.replace(qs_old, qs_new, 1)
    spec, _raw = write_trial(tmp, texts, {})
    with pytest.raises(SpecError) as err:
        load_checked_spec(spec)
    return str(err.value)


def test_a_field_that_reaches_no_dataset_is_an_error_at_its_declaration(tmp_path) -> None:
    got = _use_error(tmp_path, STUDY, QSORRES, "QSORRES: {hardcode: X}")
    assert got == (
        "spec/study.yaml:16: field PS.SCORE reaches no dataset: map it, or declare "
        "not_submitted: with the reason"
    )


def test_not_submitted_fields_and_their_reason(tmp_path) -> None:
    study = STUDY.replace("      SCORE: {}", '      SCORE: {not_submitted: "a free-text note"}')
    spec, _raw = write_trial(
        tmp_path,
        dict(
            FILES,
            **{"study.yaml": study, "sdtm/qs.yaml": QS.replace(QSORRES, "QSORRES: {hardcode: X}")},
        ),
        {},
    )
    assert field_use(load_checked_spec(spec))["PS"]["SCORE"] == "not submitted: a free-text note"
    # a field declared not submitted that a variable reads is a contradiction
    got = _use_error(tmp_path / "b", study)
    assert got == (
        "spec/study.yaml:16: field PS.SCORE is declared not_submitted but is read by QS.QSORRES"
    )


def test_a_direct_identifier_is_never_output_except_as_an_age(tmp_path) -> None:
    study = STUDY.replace("raw: {subject: SUBJID}", "raw: {subject: SUBJID, identifiers: [PS.DAT]}")
    # read by a date variable: the value would be disclosed
    got = _use_error(tmp_path, study)
    assert got == (
        "spec/study.yaml:17: field PS.DAT is a declared direct identifier (raw: identifiers:) "
        "and cannot be mapped, but QS.QSDTC reads it"
    )
    # read only by age (completed years): allowed, and said so
    qs = QS.replace("QSDTC: {date: DAT}", "QSDTC: {hardcode: ''}").replace(
        "QSCAT: {hardcode: PS}", "QSCAT: {hardcode: PS}\n      QSORNRLO: {age: DAT, at: QSDTC}"
    )
    spec, _raw = write_trial(
        tmp_path / "b", dict(FILES, **{"study.yaml": study, "sdtm/qs.yaml": qs}), {}
    )
    assert field_use(load_checked_spec(spec))["PS"]["DAT"] == (
        "direct identifier, never output; read by QS.QSORNRLO"
    )


def test_files_of_the_current_folder_are_named_from_it(monkeypatch) -> None:
    """--spec . names sdtm/ae.yaml, not /sdtm/ae.yaml (the folder '.' has no name)."""
    from tests.conftest import SPEC

    monkeypatch.chdir(SPEC)
    spec = load_study_spec(Path("."))
    assert spec.domains["AE"].file == "sdtm/ae.yaml"
    assert load_study_spec(SPEC).domains["AE"].file == "umsc/sdtm/ae.yaml"
