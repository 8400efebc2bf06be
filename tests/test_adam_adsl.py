"""ADSL from a spec (cdisc_umsc/adam/adsl.py): per-subject merges, fallbacks, flags, groups."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
import pytest

from cdisc_umsc.adam.adsl import build_adsl
from cdisc_umsc.core.errors import InputError
from cdisc_umsc.metadata.specfile import load_spec_file

SDTM = {
    "DM": pd.DataFrame(
        {
            "STUDYID": ["S"] * 4,
            "USUBJID": ["S-1", "S-2", "S-3", "S-4"],
            "ARMCD": ["A", "A", "Scrnfail", ""],
            "AGE": [64.0, 65.0, 80.0, 81.0],
            "RFXSTDTC": ["2019-01-15T09:30", "2019-02", "", ""],
        }
    ),
    "SV": pd.DataFrame(
        {
            "USUBJID": ["S-1", "S-2", "S-2"],
            "VISITNUM": [3.0, 1.0, 3.0],
            "SVSTDTC": ["2019-01-15", "2019-01-01", "2019-02-03"],
        }
    ),
    "EX": pd.DataFrame(
        {
            "USUBJID": ["S-1", "S-1", "S-2"],
            "EXSEQ": [1.0, 2.0, 1.0],
            "EXENDTC": ["2019-01-20", "", "2019-02-10"],
        }
    ),
    "DS": pd.DataFrame({"USUBJID": ["S-1"], "VISITNUM": [5.0], "DSSTDTC": ["2019-03-01"]}),
}
SPEC = """
dataset: ADSL
structure: ADSL
label: Subject-Level Analysis Dataset
keys: [STUDYID, USUBJID]
where: {ARMCD: {not: Scrnfail}}
copy: [STUDYID, USUBJID, AGE]
variables:
  TRTSDT: {date: SVSTDTC, from: SV, where: {VISITNUM: 3}}
  TRTEDT:
    date: EXENDTC
    from: EX
    order: [EXSEQ]
    pick: last
    else: {date: DSSTDTC, from: DS, where: {VISITNUM: {gt: 3}}}
  TRTSDTM: {datetime: RFXSTDTC, impute: {highest: D, rule: first},
            flag: {date: TRTSDTF, time: TRTSTMF}}
  TRTDUR: {duration: [TRTSDT, TRTEDT]}
  ITTFL: {flag: {when: {ARMCD: {not: null}}}}
  SAFFL: {flag: {when: {ITTFL: "Y", TRTSDT: {not: null}}}}
  EXFL: {flag: {has_records: EX}, and: [SAFFL]}
  AGEGR1: {categorize: AGE, groups: {"<65": {lt: 65}, "65-80": {le: 80}, ">80": {}}}
  AGEGR1N: {map: AGEGR1, values: {"<65": 1, "65-80": 2, ">80": 3}}
  ARMX: {hardcode: X}
"""


def _spec(tmp_path, text: str = SPEC):
    path = tmp_path / "adsl.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return load_spec_file(path)


def day(text: str) -> float:
    return float((pd.Timestamp(text) - pd.Timestamp("1960-01-01")).days)


def test_adsl_variables(tmp_path) -> None:
    adsl = build_adsl(_spec(tmp_path), SDTM)
    assert adsl["USUBJID"].tolist() == ["S-1", "S-2", "S-4"]  # screen failure left out
    assert adsl["TRTSDT"].tolist()[:2] == [day("2019-01-15"), day("2019-02-03")]
    # S-1's last EX record has no end date, so the discontinuation date after visit 3 is used
    assert adsl["TRTEDT"].tolist()[:2] == [day("2019-03-01"), day("2019-02-10")]
    assert adsl["TRTDUR"].tolist()[:2] == [46.0, 8.0]
    assert adsl["TRTSDTM"].iloc[0] == day("2019-01-15") * 86400 + 9.5 * 3600
    assert adsl["TRTSDTM"].iloc[1] == day("2019-02-01") * 86400
    assert adsl["TRTSDTF"].tolist() == ["", "D", ""]
    assert adsl["TRTSTMF"].tolist() == ["S", "H", ""]
    assert adsl["ITTFL"].tolist() == ["Y", "Y", "N"] and adsl["SAFFL"].tolist() == ["Y", "Y", "N"]
    assert adsl["EXFL"].tolist() == ["Y", "Y", "N"]
    assert adsl["AGEGR1"].tolist() == ["<65", "65-80", ">80"]
    assert adsl["AGEGR1N"].tolist() == [1.0, 2.0, 3.0] and (adsl["ARMX"] == "X").all()
    assert np.isnan(adsl["TRTSDT"].iloc[2])


def test_adsl_errors_name_the_spec_line(tmp_path) -> None:
    bad = SPEC.replace(
        'AGEGR1N: {map: AGEGR1, values: {"<65": 1, "65-80": 2, ">80": 3}}',
        'AGEGR1N: {map: AGEGR1, values: {"<65": 1}}',
    )
    with pytest.raises(InputError, match=r"adsl.yaml:\d+: AGEGR1N: no value for '65-80'"):
        build_adsl(_spec(tmp_path, bad), SDTM)
    bad = SPEC.replace("ARMX: {hardcode: X}", "ARMX: {guess: X}")
    with pytest.raises(InputError, match="unknown ADSL derivation for ARMX"):
        build_adsl(_spec(tmp_path, bad), SDTM)
    bad = SPEC.replace("pick: last", "pick: middle")
    with pytest.raises(InputError, match="pick must be first or last"):
        build_adsl(_spec(tmp_path, bad), SDTM)
    dup = {**SDTM, "DM": pd.concat([SDTM["DM"], SDTM["DM"].iloc[[0]]])}
    with pytest.raises(InputError, match="more than one record for S-1"):
        build_adsl(_spec(tmp_path), dup)


EXPOSURE = {
    **SDTM,
    "EX": SDTM["EX"].assign(EXDOSE=[124.7, 125.0, 99.5]),
    "VS": pd.DataFrame(
        {
            "USUBJID": ["S-1", "S-1", "S-2", "S-2", "S-2"],
            "VSTESTCD": ["HEIGHT", "WEIGHT", "HEIGHT", "WEIGHT", "WEIGHT"],
            "VSSTRESN": [170.0, 82.4, 156.0, 67.0, 67.5],
            "VSLOBXFL": ["Y", "Y", "Y", "", "Y"],
        }
    ),
    "DS": pd.DataFrame(
        {
            "USUBJID": ["S-1", "S-1", "S-2"],
            "DSCAT": ["PROTOCOL MILESTONE", "DISPOSITION EVENT", "DISPOSITION EVENT"],
            "DSDECOD": ["ENTERED INTO TRIAL", "COMPLETED", "LOST TO FOLLOW-UP"],
            "DSTERM": ["ENTERED INTO TRIAL", "COMPLETED", "LOST TO FOLLOW-UP"],
        }
    ),
}
SUBJECT = """
dataset: ADSL
structure: ADSL
label: Subject-Level Analysis Dataset
keys: [STUDYID, USUBJID]
copy: [STUDYID, USUBJID]
variables:
  NINFUS: {aggregate: count, from: EX}
  CUMDOSE: {aggregate: sum, of: EXDOSE, from: EX, where: {EXSEQ: {le: 2}}}
  HEIGHTBL: {copy: VSSTRESN, from: VS, where: {VSTESTCD: HEIGHT, VSLOBXFL: "Y"}}
  WEIGHTBL: {copy: VSSTRESN, from: VS, where: {VSTESTCD: WEIGHT, VSLOBXFL: "Y"}}
  BMIBL: {bmi: [HEIGHTBL, WEIGHTBL]}
  EOSSTT: {map: DSDECOD, from: DS, where: {DSCAT: DISPOSITION EVENT},
           values: {COMPLETED: COMPLETED, LOST TO FOLLOW-UP: DISCONTINUED},
           else: {hardcode: ONGOING}}
  DCSREAS: {copy: DSDECOD, from: DS, where: {DSCAT: DISPOSITION EVENT, DSDECOD: {not: COMPLETED}}}
"""


def test_adsl_exposure_baseline_and_disposition(tmp_path) -> None:
    adsl = build_adsl(_spec(tmp_path, SUBJECT), EXPOSURE)
    assert adsl["USUBJID"].tolist() == ["S-1", "S-2", "S-3", "S-4"]
    assert adsl["NINFUS"].tolist() == [2.0, 1.0, 0.0, 0.0]  # no EX record: none given
    assert adsl["CUMDOSE"].tolist()[:2] == [pytest.approx(249.7), 99.5]
    assert adsl["CUMDOSE"].tolist()[2:] == [0.0, 0.0]
    assert adsl["WEIGHTBL"].tolist()[:2] == [82.4, 67.5]  # the VSLOBXFL record
    assert adsl["BMIBL"].iloc[0] == pytest.approx(82.4 / 1.7**2)
    assert adsl["BMIBL"].iloc[1] == pytest.approx(67.5 / 1.56**2)
    assert np.isnan(adsl["BMIBL"].iloc[2])  # no height or weight: no BMI
    assert adsl["EOSSTT"].tolist() == ["COMPLETED", "DISCONTINUED", "ONGOING", "ONGOING"]
    # text of a subject without a record is blank, never null
    assert adsl["DCSREAS"].tolist() == ["", "LOST TO FOLLOW-UP", "", ""]


def test_adsl_aggregate_errors(tmp_path) -> None:
    bad = SUBJECT.replace("of: EXDOSE", "of: EXDOS")
    with pytest.raises(InputError, match=r"adsl.yaml:\d+: EX has no variable EXDOS"):
        build_adsl(_spec(tmp_path, bad), EXPOSURE)
    bad = SUBJECT.replace("aggregate: sum", "aggregate: median")
    with pytest.raises(InputError, match=r"adsl.yaml:\d+: CUMDOSE: .*fun must be one of"):
        build_adsl(_spec(tmp_path, bad), EXPOSURE)
    bad = SUBJECT.replace("LOST TO FOLLOW-UP: DISCONTINUED", "LOST: DISCONTINUED")
    with pytest.raises(InputError, match="EOSSTT: no value for 'LOST TO FOLLOW-UP'"):
        build_adsl(_spec(tmp_path, bad), EXPOSURE)
