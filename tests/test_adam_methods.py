"""define.xml words for ADaM variables from the ADaM spec (cdisc_umsc/adam/methods.py)."""

from __future__ import annotations

import textwrap

import pandas as pd
import pytest

from cdisc_umsc.adam.methods import Said, describe_adam
from cdisc_umsc.core.errors import InputError
from cdisc_umsc.metadata.specfile import load_spec_file


def _spec(tmp_path, text: str):
    path = tmp_path / "spec.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return load_spec_file(path, "adam/spec.yaml")


@pytest.fixture(scope="module")
def bundled(bundled_run):
    result, _out = bundled_run
    return {
        name: describe_adam(result.spec.adam[name], frame) for name, frame in result.adam.items()
    }


def test_adsl_population_flags_and_dates(bundled) -> None:
    said, levels = bundled["ADSL"]
    assert levels == []
    assert said["SAFFL"] == Said(
        "Derived", None, "Y if the subject has at least one EX record, else N"
    )
    assert said["FASFL"].method == (
        "Y if the subject has at least one QS record where QSTESTCD = 'PASI0229' and "
        "QSLOBXFL = 'Y' and SAFFL = 'Y', else N"
    )
    assert said["TRTSDT"].method == (
        "Numeric SAS date (days since 1960-01-01) of RFXSTDTC; blank when the date is partial "
        "(no imputation)"
    )
    # TRT01P copies ARM, which ADSL takes from DM: the value is DM's (Predecessor)
    assert said["TRT01P"] == Said("Predecessor", "DM.ARM")
    assert said["AGE"] == Said("Predecessor", "DM.AGE")


def test_occds_dates_imputation_and_treatment_emergence(bundled) -> None:
    said, _ = bundled["ADAE"]
    assert said["ASTDT"].method == (
        "The numeric SAS date (days since 1960-01-01) of AE.AESTDTC; a missing month is imputed "
        "as 01 and a missing day as 01, or TRTSDT when the range the partial date can span "
        "contains it; an imputed start after AENDT is set to AENDT"
    )
    assert said["ASTDTF"].method == (
        "Imputation flag of ASTDT: D when the day of AESTDTC was imputed, M when the month and "
        "day were, blank when nothing was (ADaM CT DATEFL)"
    )
    assert said["AENDT"].method == (
        "The numeric SAS date (days since 1960-01-01) of AE.AEENDTC; a missing month is imputed "
        "as 12 and a missing day as the last day of the month"
    )
    assert said["TRTEMFL"].method == (
        "Y when ASTDT is on or after TRTSDT and no later than TRTEDT + 183 days (a missing "
        "TRTEDT counts as ongoing); an event without ASTDT is emergent unless its AENDT is "
        "before TRTSDT; never for an untreated subject (no TRTSDT); blank otherwise"
    )
    assert said["AOCCPFL"].method == (
        "Y on the first record per USUBJID, AEBODSYS, AEDECOD ordered by ASTDT, AESEQ (missing "
        "values last, then record order) among records where TRTEMFL = 'Y'; blank otherwise"
    )
    assert said["TRTA"] == Said("Predecessor", "ADSL.TRT01A")
    assert said["AEDECOD"] == Said("Predecessor", "AE.AEDECOD")
    assert said["SAFFL"] == Said("Predecessor", "ADSL.SAFFL")


def test_bds_baseline_change_criteria_imputation(bundled) -> None:
    said, levels = bundled["ADQS"]
    assert said["ABLFL"].method == (
        "Y on the subject's last record of each parameter with a non-missing AVAL and an ADT on "
        "or before TRTSDT; records on the same date are ordered by AVISITN (then record order) "
        "and the last wins; blank otherwise"
    )
    assert said["BASE"].method == (
        "AVAL of the subject's baseline record (ABLFL = 'Y') of the parameter, on every record "
        "of that parameter; blank when there is none"
    )
    post = "records dated after TRTSDT (never the baseline record)"
    assert said["CHG"].method == (
        f"AVAL - BASE on {post}, computed at the parameter's precision (decimal places per "
        "parameter: PASITOT 1, PGA 0); blank on other records"
    )
    assert said["PCHG"].method == (
        f"100 x (AVAL - BASE) / BASE on {post}, from AVAL and BASE at the parameter's "
        "precision; blank on other records and when BASE is 0"
    )
    assert said["CRIT1FL"].method == (
        f"On {post} with AVAL and BASE: for PASITOT: Y if (BASE - AVAL) / BASE x 100 >= 40 "
        "(compared exactly at the parameter's precision), N otherwise (N when BASE is 0); for "
        "PGA: Y if AVAL is one of 0, 1, N otherwise; blank on other records and parameters"
    )
    assert said["DTYPE"].method == (
        "BLOCF on the record added for each subject of the FASFL = 'Y' population and parameter "
        "without a record at FOLLOW-UP MONTH 6 (AVISITN 11): a copy of the baseline record with "
        "AVISIT FOLLOW-UP MONTH 6, AVAL = BASE and no ADT; blank on observed records"
    )
    assert said["ANL01FL"].method == (
        "Y on the record at FOLLOW-UP MONTH 6 (AVISITN 11) of each parameter of each subject of "
        "the FASFL = 'Y' population, observed or BLOCF; when there are several, the last one; "
        "blank otherwise"
    )
    assert said["AVISIT"].method == (
        "QS.VISIT of the source record; FOLLOW-UP MONTH 6 (AVISITN 11) on the BLOCF records"
    )
    assert said["SRCDOM"] == Said("Assigned", None, "Set to 'QS'")
    aval = {lv.code: lv.method for lv in levels}
    assert sorted(aval) == ["PASI40R", "PASI50R", "PASI75R", "PASI90R", "PASITOT", "PGA", "PGA01R"]
    assert aval["PASITOT"] == (
        "QS.QSSTRESN of the source record (QSTESTCD = 'PASI0229'); on the BLOCF record, the "
        "baseline value (BASE)"
    )
    assert aval["PGA01R"] == (
        "1 if CRIT1FL = 'Y' on the subject's PGA analysis record (ANL01FL = 'Y'), 0 if 'N' (a "
        "BLOCF record counts as observed, so a subject without a value is a non-responder)"
    )
    assert said["AVAL"].method.startswith("Per parameter: PASI40R: 1 if CRIT1FL = 'Y'")


def test_bds_ranges_and_on_treatment(bundled) -> None:
    said, levels = bundled["ADLB"]
    assert said["ANRIND"].method == (
        "LOW if AVAL < A1LO, HIGH if AVAL > A1HI, NORMAL otherwise; blank when AVAL is "
        "missing; blank when both limits are missing"
    )
    # the bundled spec states its own words (samples drawn before dosing)
    assert said["ONTRTFL"].method.startswith("Y when the result is after the first infusion")
    assert said["A1LO"] == Said("Predecessor", "LB.LBSTNRLO")
    assert said["PARAMCD"].method == (
        "LBTESTCD of the source LB record (records where LBSTAT is blank): one parameter per test"
    )
    # every lab parameter has the same derivation: one text, all the parameters
    assert {lv.method for lv in levels} == {"LB.LBSTRESN of the source record"}
    assert said["DTYPE"] == Said("Assigned", None, "Always blank: no record is imputed")


ADSL = """
dataset: ADSL
structure: ADSL
label: Subject-Level Analysis Dataset
keys: [STUDYID, USUBJID]
copy: [STUDYID, USUBJID, AGE]
variables:
  TRTEDT:
    date: EXENDTC
    from: EX
    order: [EXSTDTC, EXSEQ]
    pick: last
    else: {date: DSSTDTC, from: DS, where: {DSCAT: DISPOSITION EVENT}}
  TRTSDTM: {datetime: RFXSTDTC, impute: {highest: D, rule: first}, flag: {date: TRTSDTF}}
  AGEGR1: {categorize: AGE, groups: {"<65": {lt: 65}, ">=65": {}}}
  AGEGR1N: {map: AGEGR1, values: {"<65": 1, ">=65": 2}}
  TRTDUR: {duration: [TRTSDTM, TRTEDT]}
  REGION: {hardcode: ASIA}
"""


def _frame(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: [] for c in columns})


def test_adsl_algorithms_in_words(tmp_path) -> None:
    spec = _spec(tmp_path, ADSL)
    cols = ["STUDYID", "USUBJID", "AGE", "TRTEDT", "TRTSDTM", "TRTSDTF", "AGEGR1", "AGEGR1N"]
    said, _ = describe_adam(spec, _frame([*cols, "TRTDUR", "REGION"]))
    assert said["TRTEDT"].method == (
        "Numeric SAS date (days since 1960-01-01) of EX.EXENDTC of the subject's last EX record "
        "ordered by EXSTDTC, EXSEQ; blank when the date is partial (no imputation); when that "
        "gives no value: numeric SAS date (days since 1960-01-01) of DS.DSSTDTC of the subject's "
        "first DS record where DSCAT = 'DISPOSITION EVENT' in the domain's record order; blank "
        "when the date is partial (no imputation)"
    )
    assert said["TRTSDTM"].method == (
        "Numeric SAS date-time (seconds since 1960-01-01) of RFXSTDTC; a missing day is imputed "
        "as 01; blank when the month is missing; a missing time part is imputed from 00:00:00"
    )
    assert said["TRTSDTF"].method.startswith("Imputation flag of TRTSDTM: D when the day")
    assert said["AGEGR1"].method == (
        "The first group whose condition AGE meets: '<65' if AGE < 65; '>=65' if any other "
        "value; blank when AGE is blank"
    )
    assert (
        said["AGEGR1N"].method == "From AGEGR1: '<65' -> 1, '>=65' -> 2; blank when AGEGR1 is blank"
    )
    assert said["TRTDUR"].method == "TRTEDT - TRTSDTM + 1 (days); blank when either is missing"
    assert said["REGION"] == Said("Assigned", None, "Set to 'ASIA'")
    assert said["REGION"].at == "adam/spec.yaml:18: hardcode=ASIA"


def test_spec_method_overrides_and_missing_derivation_is_an_error(tmp_path) -> None:
    text = ADSL + "metadata:\n  REGION: {label: Region, method: Region of the site per protocol}\n"
    spec = _spec(tmp_path, text)
    said, _ = describe_adam(spec, _frame(["STUDYID", "USUBJID", "REGION"]))
    assert said["REGION"] == Said("Assigned", None, "Region of the site per protocol")
    assert said["REGION"].at == "adam/spec.yaml:18: hardcode=ASIA"  # the derivation's line
    by_hand = _spec(tmp_path, ADSL + "metadata:\n  EXTRA: {label: Extra, method: Set by hand}\n")
    said, _ = describe_adam(by_hand, _frame(["EXTRA"]))
    assert said["EXTRA"].at == "adam/spec.yaml:20: metadata"  # derived only in words
    with pytest.raises(InputError) as err:
        describe_adam(spec, _frame(["STUDYID", "USUBJID", "EXTRA"]))
    assert str(err.value) == (
        "adam/spec.yaml:2: ADSL.EXTRA is derived but the spec states no derivation for it; "
        "describe it with metadata: {EXTRA: {method: ...}}"
    )
    bad = _spec(tmp_path, ADSL + "metadata:\n  REGION: {method: 亚洲}\n")
    with pytest.raises(InputError, match=r"ADSL.REGION: its define.xml method would show"):
        describe_adam(bad, _frame(["REGION"]))


OCCDS = """
dataset: ADAE
structure: OCCDS
label: Adverse Events Analysis Dataset
keys: [STUDYID, USUBJID, AESEQ]
source: AE
copy: [AESEQ]
adsl: [TRTSDT, TRTEDT]
dates: {start: AESTDTC, end: AEENDTC, highest: D, max_date: DTHDT}
trtemfl: {missing_start: not}
"""


def test_occds_words_follow_the_declared_options(tmp_path) -> None:
    said, _ = describe_adam(_spec(tmp_path, OCCDS), _frame([]))
    assert said["TRTEMFL"].method == (
        "Y when ASTDT is on or after TRTSDT and no later than TRTEDT (a missing TRTEDT counts "
        "as ongoing); an event without ASTDT is not flagged; never for an untreated subject (no "
        "TRTSDT); blank otherwise"
    )
    assert said["AENDT"].method == (
        "The numeric SAS date (days since 1960-01-01) of AE.AEENDTC; a missing day is imputed "
        "as the last day of the month; blank when the month is missing; an imputed end after "
        "DTHDT is set to DTHDT when DTHDT is within the range the partial date can span"
    )


def _without_override(spec, ontrt: dict):
    """The bundled BDS spec with another ontrt: and no spec words for ONTRTFL."""
    import copy

    from cdisc_umsc.metadata.specfile import SpecMap

    out = copy.copy(spec)
    out["ontrt"] = SpecMap(ontrt)
    out["ontrt"].key_lines = {}
    meta = SpecMap({k: v for k, v in (spec.get("metadata") or {}).items() if k != "ONTRTFL"})
    meta.key_lines = {}
    out["metadata"] = meta
    return out


@pytest.mark.parametrize(
    ("ontrt", "end", "day"),
    [
        ({"end_window": 0}, "ADT <= TRTEDT", "is on treatment"),
        (
            {"end_window": 30, "same_day": "pre_dose"},
            "ADT <= TRTEDT + 30 days",
            "is before it (assessed before dosing)",
        ),
    ],
)
def test_generated_on_treatment_words_follow_the_builder(bundled_run, ontrt, end, day) -> None:
    """ONTRTFL words state the date-time comparison and the same-day rule the flag applies."""
    result, _out = bundled_run
    spec = _without_override(result.spec.adam["ADLB"], ontrt)
    said, _ = describe_adam(spec, result.adam["ADLB"])
    assert said["ONTRTFL"].method == (
        f"Y when the record is at or after the first dose and {end} (a missing TRTEDT counts "
        "as ongoing); blank otherwise. The start is compared as date-times (ADTM >= TRTSDTM) "
        "where both have a collected time, else as dates: a later day is on treatment and a "
        f"record dated the day of the first dose {day}"
    )


BDS = """
dataset: ADQS
structure: BDS
label: Questionnaire Analysis Dataset
keys: [STUDYID, USUBJID, PARAMCD, AVISITN]
source: QS
adsl: [TRTSDT]
parameters: [{PARAMCD: TOT, PARAM: Total, where: {QSTESTCD: TOT}, decimals: 1}]
aval: QSSTRESN
adt: QSDTC
avisit: {AVISIT: VISIT, AVISITN: VISITNUM}
"""
BDS_COLUMNS = ["STUDYID", "USUBJID", "TRTSDT", "PARAMCD", "PARAM", "AVAL", "ADT", "ADY"]
BDS_COLUMNS += ["AVISIT", "AVISITN", "SRCDOM", "SRCVAR", "SRCSEQ", "ABLFL", "BASE", "CHG"]


def test_each_bds_variable_cites_the_spec_line_its_derivation_reads(tmp_path) -> None:
    """The lineage's variable table cites, per variable, the spec key the builder reads:
    ABLFL and BASE the baseline: rule where there is one, else ADT's (the default rule)."""
    frame = _frame([*BDS_COLUMNS, "PCHG", "DTYPE"])
    said, _ = describe_adam(_spec(tmp_path, BDS), frame)
    at = {var: said[var].at for var in frame.columns}
    assert at == {
        "STUDYID": "adam/spec.yaml:6: source=QS",
        "USUBJID": "adam/spec.yaml:6: source=QS",
        "TRTSDT": "adam/spec.yaml:7: from ADSL",
        "PARAMCD": "adam/spec.yaml:8: parameters",
        "PARAM": "adam/spec.yaml:8: parameters",
        "AVAL": "adam/spec.yaml:9: aval=QSSTRESN",
        "ADT": "adam/spec.yaml:10: adt=QSDTC",
        "ADY": "adam/spec.yaml:10: adt=QSDTC",
        "AVISIT": "adam/spec.yaml:11: avisit",
        "AVISITN": "adam/spec.yaml:11: avisit",
        "SRCDOM": "adam/spec.yaml:6: source=QS",
        "SRCVAR": "adam/spec.yaml:9: aval=QSSTRESN",
        "SRCSEQ": "adam/spec.yaml:6: source=QS",
        "ABLFL": "adam/spec.yaml:10: adt=QSDTC",
        "BASE": "adam/spec.yaml:10: adt=QSDTC",
        "CHG": "adam/spec.yaml:8: parameters",
        "PCHG": "adam/spec.yaml:8: parameters",
        "DTYPE": "adam/spec.yaml:2: dataset ADQS",
    }
    text = BDS + "baseline: {where: {VISITNUM: 1}}\nchange: {post: not_baseline}\n"
    said, _ = describe_adam(_spec(tmp_path, text), frame)
    assert said["ABLFL"].at == said["BASE"].at == "adam/spec.yaml:12: baseline"
    assert said["CHG"].at == said["PCHG"].at == "adam/spec.yaml:13: change"
