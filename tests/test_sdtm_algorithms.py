"""SDTM mapping algorithms (cdisc_umsc/sdtm/algorithms.py) on a small trial built for each rule:
exact values at ties, boundaries, partial dates and nulls."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cdisc_umsc.core.errors import InputError
from cdisc_umsc.sdtm.check_spec import load_checked_spec
from cdisc_umsc.sdtm.pipeline import build_sdtm

STUDY = """\
study: {STUDYID: T1, sdtm: SDTMIG 3.4, ct: SDTM CT 2025-03-28, created: "2021-01-01T00:00:00"}
raw: {subject: SUBJID}
forms:
  DM:
    file: DM.csv
    key: [SUBJID]
    fields:
      SUBJID: {}
      SITE: {}
      BRTH: {type: date, format: YYYY-MM-DD}
      IC: {type: date, format: YYYY-MM-DD}
      EOS: {type: date, format: YYYY-MM-DD}
  EX:
    file: EX.csv
    key: [SUBJID, EXNO]
    fields:
      SUBJID: {}
      EXNO: {type: integer}
      EXDAT: {type: date, format: YYYY-MM-DD}
      EXTIM: {type: time}
  LB:
    file: LB.csv
    key: [SUBJID, LBNO]
    fields:
      SUBJID: {}
      LBNO: {type: integer}
      LBDAT: {type: date, format: YYYY-MM-DD}
      LBTIM: {type: time}
      TEST: {}
      RES: {}
      UNIT: {}
      LO: {}
      HI: {}
"""
CODELISTS = """\
codelists:
  ARMCD: {name: Arm code, terms: {A: Arm A}}
units:
  lab:
    - {test: GLUC, from: mmol/L, to: mg/dL, factor: 18.016, decimals: 1}
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
  RFSTDTC: {aggregate: min, of: EX.EXSTDTC}
  RFXSTDTC: {aggregate: min, of: EX.EXSTDTC}
  RFXENDTC: {aggregate: max, of: EX.EXENDTC}
  RFENDTC: {aggregate: max, of: [EX.EXENDTC, LB.LBDTC]}
  RFICDTC: {date: IC}
  RFPENDTC: {date: EOS}
  AGE: {age: BRTH, at: RFICDTC}
"""
EX = """\
domain: EX
source: EX
keys: [STUDYID, USUBJID, EXSTDTC]
variables:
  STUDYID: {setting: STUDYID}
  DOMAIN: {hardcode: EX}
  USUBJID: {dm: USUBJID}
  EXSEQ: {seq: true}
  EXTRT: {hardcode: DRUG}
  EXSTDTC: {date: EXDAT, time: EXTIM}
  EXENDTC: {date: EXDAT, time: EXTIM}
"""
LB = """\
domain: LB
source: LB
keys: [STUDYID, USUBJID, LBTESTCD, LBDTC]
variables:
  STUDYID: {setting: STUDYID}
  DOMAIN: {hardcode: LB}
  USUBJID: {dm: USUBJID}
  LBSEQ: {seq: true}
  LBTESTCD: {field: TEST}
  LBORRES: {field: RES}
  LBORRESU: {field: UNIT, codelist: null}
  LBORNRLO: {field: LO}
  LBORNRHI: {field: HI}
  LBSTRESN: {convert: LBORRES, test: LBTESTCD, unit: LBORRESU, table: lab}
  LBSTRESC: {num_text: LBSTRESN, else: {copy: LBORRES}}
  LBSTRESU: {convert_unit: LBORRESU, test: LBTESTCD, table: lab, codelist: null}
  LBSTNRLO: {convert: LBORNRLO, test: LBTESTCD, unit: LBORRESU, table: lab}
  LBSTNRHI: {convert: LBORNRHI, test: LBTESTCD, unit: LBORRESU, table: lab}
  LBNRIND: {nrind: LBSTRESN, low: LBSTNRLO, high: LBSTNRHI}
  LBLOBXFL: {last_before_exposure: LBSTRESC, by: [LBTESTCD], date: LBDTC}
  LBDTC: {date: LBDAT, time: LBTIM}
  LBDY: {study_day: LBDTC}
  EPOCH: {epoch: LBDTC{tie}}
"""
TRIAL_DESIGN = """\
TE:
  keys: [STUDYID, ETCD]
  records:
    - {ETCD: SCRN, ELEMENT: Screening, TESTRL: Consent, TEENRL: First dose}
    - {ETCD: TRT, ELEMENT: Treatment, TESTRL: First dose, TEENRL: Last dose}
    - {ETCD: FU, ELEMENT: Follow-up, TESTRL: Last dose, TEENRL: End of study}
TA:
  keys: [STUDYID, ARMCD, TAETORD]
  arms: [A]
  elements:
    - {TAETORD: 1, ETCD: SCRN, EPOCH: SCREENING}
    - {TAETORD: 2, ETCD: TRT, EPOCH: TREATMENT}
    - {TAETORD: 3, ETCD: FU, EPOCH: FOLLOW-UP}
SE:
  keys: [STUDYID, USUBJID, SESTDTC, ETCD]
  elements:
    - {ETCD: SCRN, start: RFICDTC, end: RFXSTDTC}
    - {ETCD: TRT, start: RFXSTDTC, end: RFXENDTC}
    - {ETCD: FU, start: RFXENDTC, end: RFPENDTC}
"""
RAW_DM = (
    "SUBJID,SITE,BRTH,IC,EOS\n"
    "001,01,1980-01-10,2020-01-01,2020-02-20\n"
    "002,01,1980-01-01,2020-01-01,2020-02-20\n"
)
RAW_EX = (
    "SUBJID,EXNO,EXDAT,EXTIM\n"
    "001,1,2020-01-10,09:00\n"
    "001,2,2020-01-20,09:00\n"
    "002,1,2020-01-10,09:00\n"
)
# GLUC 5.0 mmol/L x 18.016 = 90.08 -> 90.1 mg/dL; HI 5.0 -> 90.1: a result on the upper limit
LB_ROWS = [
    ("001", 1, "2020-01-10", "", "GLUC", "5.0", "mmol/L", "3.9", "5.0"),  # transition day, no time
    ("001", 2, "2020-01-10", "08:00", "GLUC", "3.8", "mmol/L", "3.9", "5.0"),  # before the dose
    ("001", 3, "2020-01-20", "10:00", "GLUC", "5.1", "mmol/L", "3.9", "5.0"),  # after last dose
    ("001", 4, "2020-01-05", "", "GLUC", "<1.0", "mmol/L", "3.9", "5.0"),  # qualified result
    ("001", 5, "2020-01", "", "GLUC", "4.0", "mmol/L", "3.9", "5.0"),  # partial date
    ("002", 1, "2020-01-11", "", "HGB", "130", "g/L", "120", "160"),  # unit not in the table
]


def _raw_lb(rows: list[tuple]) -> str:
    return "SUBJID,LBNO,LBDAT,LBTIM,TEST,RES,UNIT,LO,HI\n" + "".join(
        ",".join(map(str, r)) + "\n" for r in rows
    )


def _run(
    tmp: Path, tie: str = "", lb_rows: list[tuple] = LB_ROWS, raw_ex: str = RAW_EX
) -> dict[str, pd.DataFrame]:
    spec, raw = tmp / "spec", tmp / "raw"
    (spec / "sdtm").mkdir(parents=True)
    raw.mkdir()
    (spec / "study.yaml").write_text(STUDY, encoding="utf-8")
    (spec / "codelists.yaml").write_text(CODELISTS, encoding="utf-8")
    (spec / "sdtm" / "dm.yaml").write_text(DM, encoding="utf-8")
    (spec / "sdtm" / "ex.yaml").write_text(EX, encoding="utf-8")
    (spec / "sdtm" / "lb.yaml").write_text(LB.replace("{tie}", tie), encoding="utf-8")
    (spec / "sdtm" / "trial_design.yaml").write_text(TRIAL_DESIGN, encoding="utf-8")
    (raw / "DM.csv").write_text(RAW_DM, encoding="utf-8")
    (raw / "EX.csv").write_text(raw_ex, encoding="utf-8")
    (raw / "LB.csv").write_text(_raw_lb(lb_rows), encoding="utf-8")
    return build_sdtm(load_checked_spec(spec), raw).data


@pytest.fixture(scope="module")
def sdtm(tmp_path_factory) -> dict[str, pd.DataFrame]:
    return _run(tmp_path_factory.mktemp("alg"))


def _lb(sdtm: dict[str, pd.DataFrame]) -> pd.DataFrame:
    return sdtm["LB"].set_index("LBDTC")


def test_reference_dates_aggregate_one_and_several_sources(sdtm) -> None:
    dm = sdtm["DM"].set_index("SUBJID")
    assert dm.loc["001", "RFSTDTC"] == "2020-01-10T09:00"
    assert dm.loc["001", "RFXENDTC"] == "2020-01-20T09:00"
    # the latest of EX and LB dates: the LB record at 10:00 is after the last dose
    assert dm.loc["001", "RFENDTC"] == "2020-01-20T10:00"
    assert dm.loc["002", "RFENDTC"] == "2020-01-11"


def test_age_in_completed_years_at_the_birthday_boundary(sdtm) -> None:
    dm = sdtm["DM"].set_index("SUBJID")
    assert dm.loc["001", "AGE"] == 39.0  # birthday 10 Jan, consent 1 Jan: not yet 40
    assert dm.loc["002", "AGE"] == 40.0  # consent on the 40th birthday


def test_unit_conversion_rounding_and_qualified_results(sdtm) -> None:
    lb = _lb(sdtm)
    assert lb.loc["2020-01-10", "LBSTRESN"] == 90.1  # 90.08 rounded to the table's 1 decimal
    assert lb.loc["2020-01-10", "LBSTRESC"] == "90.1"
    assert lb.loc["2020-01-10", "LBSTRESU"] == "mg/dL"
    assert lb.loc["2020-01-10", "LBSTNRLO"] == 70.3  # 70.2624
    assert np.isnan(lb.loc["2020-01-05", "LBSTRESN"])  # "<1.0" has no numeric value
    assert lb.loc["2020-01-05", "LBSTRESC"] == "<1.0"  # ... and keeps its text
    # a test the unit table does not list keeps its unit and value
    assert (lb.loc["2020-01-11", "LBSTRESN"], lb.loc["2020-01-11", "LBSTRESU"]) == (130.0, "g/L")


def test_reference_range_indicator_boundaries(sdtm) -> None:
    lb = _lb(sdtm)
    assert lb.loc["2020-01-10", "LBNRIND"] == "NORMAL"  # equal to the upper limit
    assert lb.loc["2020-01-10T08:00", "LBNRIND"] == "LOW"  # 68.5 < 70.3
    assert lb.loc["2020-01-20T10:00", "LBNRIND"] == "HIGH"  # 91.9 > 90.1
    assert lb.loc["2020-01-05", "LBNRIND"] == ""  # no numeric result
    assert lb.loc["2020-01-11", "LBNRIND"] == "NORMAL"  # 120 <= 130 <= 160


def test_reference_range_indicator_on_each_limit_and_with_one_limit(tmp_path) -> None:
    """On a limit is NORMAL (LOW only below the lower, HIGH only above the upper limit); with
    one limit given only that side is judged; with none there is no indicator."""
    rows = [  # HGB is not in the unit table: values and limits are compared as collected
        ("001", 1, "2020-01-02", "", "HGB", "120", "g/L", "120", "160"),  # on the lower limit
        ("001", 2, "2020-01-03", "", "HGB", "119.9", "g/L", "120", "160"),  # just below
        ("001", 3, "2020-01-04", "", "HGB", "160", "g/L", "120", "160"),  # on the upper limit
        ("001", 4, "2020-01-05", "", "HGB", "160.1", "g/L", "120", "160"),  # just above
        ("001", 5, "2020-01-06", "", "HGB", "50", "g/L", "", "160"),  # upper limit only
        ("001", 6, "2020-01-07", "", "HGB", "170", "g/L", "", "160"),
        ("001", 7, "2020-01-08", "", "HGB", "500", "g/L", "120", ""),  # lower limit only
        ("001", 8, "2020-01-09", "", "HGB", "100", "g/L", "120", ""),
        ("001", 9, "2020-01-11", "", "HGB", "130", "g/L", "", ""),  # no range
    ]
    lb = _lb(_run(tmp_path, lb_rows=rows))
    assert lb["LBNRIND"].tolist() == [
        "NORMAL",
        "LOW",
        "NORMAL",
        "HIGH",
        "NORMAL",
        "HIGH",
        "NORMAL",
        "LOW",
        "",
    ]


def test_study_day_no_day_zero_and_partial_dates(sdtm) -> None:
    lb = _lb(sdtm)
    assert lb.loc["2020-01-10", "LBDY"] == 1.0  # the first dose day is day 1
    assert lb.loc["2020-01-05", "LBDY"] == -5.0  # five days before: day -5, no day 0
    assert lb.loc["2020-01-20T10:00", "LBDY"] == 11.0
    assert np.isnan(lb.loc["2020-01", "LBDY"])  # a partial date has no study day


def test_epoch_on_a_transition_day_follows_the_tie_rule(sdtm, tmp_path) -> None:
    earlier = _lb(sdtm)["EPOCH"]
    later = _lb(_run(tmp_path, ", tie: later"))["EPOCH"]
    # date only, on the first dose day: in screening (ends that day) and treatment (starts)
    assert (earlier["2020-01-10"], later["2020-01-10"]) == ("SCREENING", "TREATMENT")
    # date-times compare as date-times: 08:00 is before the 09:00 dose, whatever the tie rule
    assert earlier["2020-01-10T08:00"] == later["2020-01-10T08:00"] == "SCREENING"
    assert earlier["2020-01-20T10:00"] == later["2020-01-20T10:00"] == "FOLLOW-UP"
    assert earlier["2020-01-05"] == "SCREENING"
    # a partial date (January 2020) is not wholly inside any element: no EPOCH
    assert earlier["2020-01"] == later["2020-01"] == ""


def test_epoch_at_the_transition_instant_belongs_to_the_element_that_starts(tmp_path) -> None:
    """Where the record and the element both carry a time, the first dose minute (09:00) is in
    treatment and the last dose minute in follow-up, under either tie rule; a minute before
    is still in the element that ends."""
    rows = [
        ("001", 1, "2020-01-10", "08:59", "HGB", "130", "g/L", "120", "160"),
        ("001", 2, "2020-01-10", "09:00", "HGB", "130", "g/L", "120", "160"),
        ("001", 3, "2020-01-20", "08:59", "HGB", "130", "g/L", "120", "160"),
        ("001", 4, "2020-01-20", "09:00", "HGB", "130", "g/L", "120", "160"),
    ]
    for tie in ("", ", tie: later"):
        lb = _run(tmp_path / f"tie{len(tie)}", tie=tie, lb_rows=rows)["LB"]
        epochs = lb.loc[lb["USUBJID"] == "T1-001", "EPOCH"].tolist()
        assert epochs == ["SCREENING", "TREATMENT", "TREATMENT", "FOLLOW-UP"], tie


def test_last_before_exposure_flag(sdtm) -> None:
    lb = _lb(sdtm)
    flags = lb["LBLOBXFL"].to_dict()
    # 001's records on or before the 09:00 first dose: 05 Jan (<1.0), 10 Jan and 10 Jan 08:00;
    # the last in key order is 08:00. Subject 002's record is after its first dose.
    assert [k for k, v in flags.items() if v == "Y"] == ["2020-01-10T08:00"]


def test_last_before_exposure_at_the_dose_instant_and_on_the_dose_day(tmp_path) -> None:
    """On or before the first dose: a record at the dose's own minute counts; where either
    side has no time the dates compare, so the dose day counts whatever the record's time."""
    ex = RAW_EX.replace("002,1,2020-01-10,09:00", "002,1,2020-01-10,")  # 002: dose date only
    rows = [
        ("001", 1, "2020-01-05", "", "HGB", "130", "g/L", "120", "160"),
        ("001", 2, "2020-01-10", "09:00", "HGB", "131", "g/L", "120", "160"),  # the dose minute
        ("001", 3, "2020-01-10", "09:01", "HGB", "132", "g/L", "120", "160"),  # after it
        ("001", 4, "2020-01-09", "", "GLUC", "5.0", "mmol/L", "3.9", "5.0"),
        ("001", 5, "2020-01-10", "", "GLUC", "5.1", "mmol/L", "3.9", "5.0"),  # dose day, no time
        ("002", 1, "2020-01-09", "", "HGB", "140", "g/L", "120", "160"),
        ("002", 2, "2020-01-10", "10:00", "HGB", "141", "g/L", "120", "160"),  # dose day
        ("002", 3, "2020-01-11", "08:00", "HGB", "142", "g/L", "120", "160"),  # the day after
    ]
    lb = _run(tmp_path, lb_rows=rows, raw_ex=ex)["LB"]
    flagged = lb[lb["LBLOBXFL"] == "Y"]
    assert (flagged["USUBJID"] + " " + flagged["LBTESTCD"] + " " + flagged["LBDTC"]).tolist() == [
        "T1-001 GLUC 2020-01-10",
        "T1-001 HGB 2020-01-10T09:00",
        "T1-002 HGB 2020-01-10T10:00",
    ]


def test_epoch_method_text_names_the_tie_rule() -> None:
    from cdisc_umsc.sdtm.registry import ALGORITHMS

    describe = ALGORITHMS["epoch"].describe
    assert describe({"epoch": "LBDTC"}, "EPOCH").endswith("the element that ends that day")
    assert describe({"epoch": "LBDTC", "tie": "later"}, "EPOCH").endswith(
        "the element that starts that day"
    )


def test_seq_is_per_subject_in_key_order(sdtm) -> None:
    lb = sdtm["LB"]
    assert lb["LBSEQ"].tolist() == [1.0, 2.0, 3.0, 4.0, 5.0, 1.0]
    assert lb["LBDTC"].tolist()[:5] == [
        "2020-01",
        "2020-01-05",
        "2020-01-10",
        "2020-01-10T08:00",
        "2020-01-20T10:00",
    ]


def test_unconvertible_unit_is_a_row_error(tmp_path) -> None:
    rows = [*LB_ROWS[:1], ("001", 9, "2020-01-12", "", "GLUC", "90", "mg/L", "", "")]
    with pytest.raises(InputError, match=r"LB.csv: row 2, column LBORRESU: unit cannot be"):
        _run(tmp_path, lb_rows=rows)


def test_text_result_that_is_not_qualified_is_a_row_error(tmp_path) -> None:
    rows = [*LB_ROWS[:1], ("001", 9, "2020-01-12", "", "GLUC", "high", "mmol/L", "", "")]
    with pytest.raises(InputError, match=r"LB.csv: row 2, column RES: expected a number or a"):
        _run(tmp_path, lb_rows=rows)


RULES_STUDY = """\
study: {STUDYID: T2, sdtm: SDTMIG 3.4, ct: SDTM CT 2025-03-28, created: "2021-01-01T00:00:00"}
forms:
  DM:
    file: DM.csv
    key: [SUBJID]
    fields:
      SUBJID: {}
      BRTH: {type: date, format: DD.MM.YYYY, unknown: [NK]}
      IC: {type: date, format: YYYY-MM-DD}
      PCT: {type: number}
      TEST: {}
      RES: {}
      UNIT: {}
"""
RULES_CODELISTS = "units:\n  lab: [{test: CRP, from: mg/dL, to: mg/L, factor: 10, decimals: 1}]\n"
RULES_DM = """\
domain: DM
source: DM
keys: [STUDYID, USUBJID]
variables:
  STUDYID: {setting: STUDYID}
  DOMAIN: {hardcode: DM}
  USUBJID: {template: "{STUDYID}-{SUBJID}"}
  SUBJID: {field: SUBJID}
  RFICDTC: {date: IC}
  AGE: {age: BRTH, at: RFICDTC, partial: certain}
supp:
  AGEFIRST: {label: Age if born first day, value: {age: BRTH, at: RFICDTC, partial: first}}
  AGELAST: {label: Age if born last day, value: {age: BRTH, at: RFICDTC, partial: last}}
  AGEMID: {label: Age if born mid, value: {age: BRTH, at: RFICDTC, partial: mid}}
  AREA: {label: Area score, value: {categorize: PCT, groups: {"0": {eq: 0}, "1": {lt: 10},
                                                              "2": {lt: 30}, "3": {le: 100}}}}
  STRESC: {label: Result in mg/L, value: {convert_text: RES, test: TEST, unit: UNIT, table: lab}}
"""
# consent 2020-06-15: born in June 1980 (day unknown) is 39 or 40; born 1980 (month unknown)
RULES_RAW = (
    "SUBJID,BRTH,IC,PCT,TEST,RES,UNIT\n"
    "001,NK.06.1980,2020-06-15,0,CRP,<0.50,mg/dL\n"
    "002,NK.NK.1980,2020-06-15,9.99,CRP,>12.34,mg/dL\n"
    "003,20.05.1980,2020-06-15,10,CRP,1.25,mg/dL\n"
    "004,NK.03.1980,2020-06-15,100,CRP,NEGATIVE,mg/dL\n"
)


def _rules(tmp: Path, raw: str = RULES_RAW) -> dict[str, dict[str, str]]:
    from tests.conftest import write_trial

    spec, rawdir = write_trial(
        tmp,
        {"study.yaml": RULES_STUDY, "codelists.yaml": RULES_CODELISTS, "sdtm/dm.yaml": RULES_DM},
        {"DM.csv": raw},
    )
    data = build_sdtm(load_checked_spec(spec), rawdir).data
    supp = data["SUPPDM"]
    got: dict[str, dict[str, str]] = {}
    for r in supp.itertuples(index=False):
        value = f"{r.QVAL:g}" if isinstance(r.QVAL, float) else r.QVAL
        got.setdefault(r.USUBJID[-3:], {})[r.QNAM] = value
    for subj, age in zip(data["DM"]["SUBJID"], data["DM"]["AGE"], strict=True):
        got.setdefault(subj, {})["AGE"] = "" if np.isnan(age) else f"{age:g}"
    return got


def test_age_from_a_partial_birth_date_by_each_declared_rule(tmp_path) -> None:
    got = _rules(tmp_path)
    # June 1980, consent 15 June 2020: 40 if born by the 15th, else 39
    assert (got["001"]["AGE"], got["001"]["AGEFIRST"], got["001"]["AGELAST"]) == ("", "40", "39")
    assert got["001"]["AGEMID"] == "40"  # the 15th: the birthday is the consent day
    # 1980: born 1 Jan -> 40, born 31 Dec -> 39, mid (30 June) -> 39
    assert (got["002"]["AGEFIRST"], got["002"]["AGELAST"], got["002"]["AGEMID"]) == (
        "40",
        "39",
        "39",
    )
    assert got["003"]["AGE"] == "40"  # a complete birth date under every rule
    assert got["004"]["AGE"] == "40"  # March 1980: every possible day gives 40


def test_categorize_bands_any_decimal_at_the_boundaries(tmp_path) -> None:
    got = _rules(tmp_path)
    assert [got[s]["AREA"] for s in ("001", "002", "003", "004")] == ["0", "1", "2", "3"]
    raw = RULES_RAW.replace("004,NK.03.1980,2020-06-15,100,", "004,NK.03.1980,2020-06-15,100.5,")
    with pytest.raises(InputError, match=r"DM.csv: row 4, column PCT: value in no group of AREA"):
        _rules(tmp_path / "again", raw)


def test_convert_text_keeps_qualifiers_and_converts_their_number(tmp_path) -> None:
    got = _rules(tmp_path)
    assert [got[s]["STRESC"] for s in ("001", "002", "003", "004")] == [
        "<5",
        ">123.4",
        "12.5",
        "NEGATIVE",
    ]


CODING_STUDY = """\
study: {STUDYID: T3, sdtm: SDTMIG 3.4, ct: SDTM CT 2025-03-28, created: "2021-01-01T00:00:00"}
visits:
  - {VISITNUM: 1, VISIT: SCREENING, raw: Screening}
  - {VISITNUM: 2, VISIT: WEEK 1, raw: Week 1}
forms:
  DM:
    file: DM.csv
    key: [SUBJID]
    fields:
      SUBJID: {}
      DOSE: {}
      G1: {}
      G2: {}
      LVL: {}
      VIS: {}
      TERM: {}
      TERM2: {}
      ARM: {}
  CODE:
    file: CODE.csv
    key: [SUBJID]
    fields: {SUBJID: {}, XPT: {}}
"""
CODING_CODELISTS = """\
recodes:
  grp: {codelist: null, map: {"A|1": A1, "B|2": B2}}
  level: {codelist: null, map: {lo: LOW, hi: HIGH}}
codelists:
  ARM: {name: Arm, terms: {A: Arm A, B: Arm B}}
"""
CODING_DM = """\
domain: DM
source: DM
keys: [STUDYID, USUBJID]
dictionaries:
  exact: {file: coding/exact.csv, key: VERBATIM, match: exact, name: MEDDRA, version: "26.1"}
  loose: {file: coding/loose.csv, key: VERBATIM, match: ignore_case, name: MEDDRA, version: "26.1"}
  coder: {form: CODE, name: MEDDRA, version: "26.1"}
variables:
  STUDYID: {setting: STUDYID}
  DOMAIN: {hardcode: DM}
  USUBJID: {template: "{STUDYID}-{SUBJID}"}
  SUBJID: {field: SUBJID}
supp:
  DOSE: {label: Dose, value: {number: DOSE}}
  GRP: {label: Group, value: {recode: grp, fields: [G1, G2]}}
  LEVEL: {label: Level, value: {recode: level, field: LVL}}
  VISIT: {label: Visit, value: {visit: VIS}}
  VISITNUM: {label: Visit number, value: {visitnum: VIS}}
  PT: {label: Preferred term, value: {dictionary: exact, column: PT, field: TERM}}
  PTCD: {label: Preferred term code, value: {dictionary: exact, column: PTCD, field: TERM}}
  LPT: {label: Preferred term (any case), value: {dictionary: loose, column: PT, field: TERM2}}
  XPT: {label: Exported term, value: {dictionary: coder, column: XPT}}
  ARMDEC: {label: Arm, value: {decode: ARM, from: ARM}}
"""
CODING_EXACT = "VERBATIM,PT,PTCD\nHeadache,Headache,10019211\nFever,Pyrexia,10037660\n"
CODING_LOOSE = "VERBATIM,PT\nHeadache,Headache\nFever,Pyrexia\n"
CODING_RAW = (
    "SUBJID,DOSE,G1,G2,LVL,VIS,TERM,TERM2,ARM\n"
    "001,10,A,1,lo,Screening,Headache, HEADACHE ,A\n"
    "002,,B,2,,Week 1,,fever,\n"
    "003,2.5,,,hi,,Fever,,B\n"
)
CODING_EXPORT = "SUBJID,XPT\n001,Cephalalgia\n002,Pyrexia\n003,Rash\n"


def _coding(tmp: Path, **edits: str) -> dict[str, dict[str, str]]:
    """SUPPDM of the coding trial by subject and QNAM; ``edits`` replace its raw DM, coding
    tables, coding export or dm.yaml (keys raw, exact, loose, export, dm)."""
    from tests.conftest import write_trial

    spec, rawdir = write_trial(
        tmp,
        {
            "study.yaml": CODING_STUDY,
            "codelists.yaml": CODING_CODELISTS,
            "sdtm/dm.yaml": edits.get("dm", CODING_DM),
            "coding/exact.csv": edits.get("exact", CODING_EXACT),
            "coding/loose.csv": edits.get("loose", CODING_LOOSE),
        },
        {"DM.csv": edits.get("raw", CODING_RAW), "CODE.csv": edits.get("export", CODING_EXPORT)},
    )
    supp = build_sdtm(load_checked_spec(spec), rawdir).data["SUPPDM"]
    got: dict[str, dict[str, str]] = {s: {} for s in ("001", "002", "003")}
    for r in supp.itertuples(index=False):
        value = f"{r.QVAL:.12g}" if isinstance(r.QVAL, float) else r.QVAL
        got[r.USUBJID[-3:]][r.QNAM] = value
    return got


def test_collected_numbers_recodes_visits_dictionaries_and_decodes(tmp_path) -> None:
    got = _coding(tmp_path)
    assert got["001"] == {
        "DOSE": "10",
        "GRP": "A1",  # the fields joined by a vertical bar, then recoded
        "LEVEL": "LOW",
        "VISIT": "SCREENING",
        "VISITNUM": "1",
        "PT": "Headache",
        "PTCD": "10019211",
        "LPT": "Headache",  # ignore_case: trimmed and case-folded before the look-up
        "XPT": "Cephalalgia",
        "ARMDEC": "Arm A",
    }
    # blanks: no number, no recode, no coding, no decode, and no error
    assert got["002"] == {
        "GRP": "B2",
        "VISIT": "WEEK 1",
        "VISITNUM": "2",
        "LPT": "Pyrexia",
        "XPT": "Pyrexia",
    }
    # both joined fields blank: blank, not the bare separator
    assert got["003"] == {
        "DOSE": "2.5",
        "LEVEL": "HIGH",
        "PT": "Pyrexia",
        "PTCD": "10037660",
        "XPT": "Rash",
        "ARMDEC": "Arm B",
    }


def _row2(field: str, value: str) -> str:
    """CODING_RAW with subject 002's ``field`` set to ``value``."""
    header, first, second, third = CODING_RAW.splitlines()
    names, cells = header.split(","), second.split(",")
    cells[names.index(field)] = value
    return "\n".join([header, first, ",".join(cells), third]) + "\n"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("DOSE", "ten", "column DOSE: expected a number (got 'ten')"),
        ("LVL", "mid", "column LVL: value not in recode table 'level' (got 'mid')"),
        ("VIS", "Week 9", "column VIS: visit not in the study's visit schedule (got 'Week 9')"),
        ("TERM", "Migraine", "column TERM: verbatim term not in coding table exact (uncoded)"),
        ("TERM2", "Migraine", "column TERM2: verbatim term not in coding table loose (uncoded)"),
        ("ARM", "C", "column ARMDEC: no decode for ARM (got 'C')"),
    ],
)
def test_a_value_the_algorithm_cannot_map_is_a_row_error(tmp_path, field, value, message) -> None:
    with pytest.raises(InputError, match="^DM.csv: row 2, " + re.escape(message)):
        _coding(tmp_path, raw=_row2(field, value))


def test_exact_match_names_a_verbatim_that_differs_only_in_case(tmp_path) -> None:
    with pytest.raises(
        InputError,
        match=r"^DM.csv: row 2, column TERM: verbatim term not in coding table exact: it differs "
        r"from a coded term only in case \(the dictionary's match rule is exact",
    ):
        _coding(tmp_path, raw=_row2("TERM", "headache"))


def test_duplicate_verbatim_names_both_rows_and_the_match_rule(tmp_path) -> None:
    # rows 1 and 3 collide once case-folded; row 2 is another term
    loose = "VERBATIM,PT\nHeadache,Headache\nFever,Pyrexia\nHEADACHE,Cephalalgia\n"
    with pytest.raises(InputError) as err:
        _coding(tmp_path, loose=loose)
    assert str(err.value) == (
        "coding/loose.csv: row 3, column VERBATIM: duplicate verbatim 'HEADACHE' "
        "(match: ignore_case), also on row 1 (each must code one way)"
    )
    # under exact matching the same two rows are two terms; an exact duplicate is named
    exact = "VERBATIM,PT,PTCD\nHeadache,Headache,1\nFever,Pyrexia,2\nHEADACHE,X,3\nFever,Y,4\n"
    with pytest.raises(InputError) as err:
        _coding(tmp_path / "exact", exact=exact)
    assert str(err.value) == (
        "coding/exact.csv: row 4, column VERBATIM: duplicate verbatim 'Fever', also on row 2 "
        "(each must code one way)"
    )


def test_a_record_without_a_row_of_the_coding_export_is_uncoded(tmp_path) -> None:
    with pytest.raises(InputError, match=r"^DM.csv: row 3, column SUBJID: no row of the coding"):
        _coding(tmp_path, export="SUBJID,XPT\n001,Cephalalgia\n002,Pyrexia\n")


def test_a_numeric_code_that_is_not_a_number_is_an_error(tmp_path) -> None:
    exact = "VERBATIM,PT,PTCD\nHeadache,Headache,10019211\nFever,Pyrexia,P10037660\n"
    with pytest.raises(
        InputError, match=r"^DM.csv: row 3, column PTCD: code PTCD of dictionary exact is not a"
    ):
        _coding(tmp_path, exact=exact)


def test_age_on_each_plausibility_limit(tmp_path) -> None:
    """Born on the reference day is age 0, 130 completed years is the oldest age taken; a
    birth the day after, or 131 years, is a row error (the date itself not shown)."""
    header = RULES_RAW.splitlines()[0]
    raw = (
        f"{header}\n001,15.06.2020,2020-06-15,0,CRP,1,mg/dL\n"
        "002,15.06.1890,2020-06-15,0,CRP,1,mg/dL\n"
    )
    got = _rules(tmp_path, raw)
    assert (got["001"]["AGE"], got["002"]["AGE"]) == ("0", "130")
    # 16 June 1889 to 15 June 2020: 130 completed years, one day short of 131
    raw = f"{header}\n001,16.06.1889,2020-06-15,0,CRP,1,mg/dL\n"
    assert _rules(tmp_path / "oldest", raw)["001"]["AGE"] == "130"
    with pytest.raises(InputError, match=r"^DM.csv: row 1, column BRTH: birth date after RFICDTC"):
        _rules(tmp_path / "after", f"{header}\n001,16.06.2020,2020-06-15,0,CRP,1,mg/dL\n")
    with pytest.raises(
        InputError, match=r"^DM.csv: row 1, column BRTH: birth date more than 130 years before"
    ):
        _rules(tmp_path / "older", f"{header}\n001,15.06.1889,2020-06-15,0,CRP,1,mg/dL\n")


def test_template_method_text_names_one_part_or_each_part() -> None:
    from cdisc_umsc.sdtm.registry import ALGORITHMS

    describe = ALGORITHMS["template"].describe
    assert describe({"template": "{SUBJID}"}, "X") == "Equal to SUBJID"
    assert describe({"template": "T1"}, "X") == "Set to 'T1'"
    assert describe({"template": "{STUDYID}-{SUBJID}"}, "X") == (
        "Concatenation of STUDYID, '-' and SUBJID"
    )
