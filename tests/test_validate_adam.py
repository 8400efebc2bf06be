"""Tests for the ADaM rules of the validation engine (ADSL and BDS)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cdisc_umsc.metadata.model import Study
from cdisc_umsc.validate import Findings, validate_study
from cdisc_umsc.validate.igmeta import dataset_from_ig

SUBJ = ["S1-001", "S1-002", "S1-003"]


def _adsl() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "STUDYID": "S1",
            "USUBJID": SUBJ,
            "SUBJID": ["001", "002", "003"],
            "SITEID": "01",
            "AGE": [40.0, 55.0, 61.0],
            "AGEU": "YEARS",
            "SEX": ["F", "M", "F"],
            "RACE": "WHITE",
            "ARM": ["Drug A", "Placebo", "Drug A"],
            "TRT01P": ["Drug A", "Placebo", "Drug A"],
            "TRT01PN": [1.0, 0.0, 1.0],
            "SAFFL": "Y",
        }
    )


def _adlb() -> pd.DataFrame:
    """Subject 1: baseline 5, then 6 and 4.5; subject 2: baseline 0; subject 3: no baseline."""
    return pd.DataFrame(
        {
            "STUDYID": "S1",
            "USUBJID": ["S1-001"] * 3 + ["S1-002"] * 2 + ["S1-003"],
            "ASEQ": [1.0, 2.0, 3.0, 1.0, 2.0, 1.0],
            "PARAMCD": "GLUC",
            "PARAM": "Glucose (mmol/L)",
            "AVISIT": ["Baseline", "Week 2", "Week 4"] + ["Baseline", "Week 2"] + ["Week 2"],
            "AVISITN": [0.0, 2.0, 4.0, 0.0, 2.0, 2.0],
            "AVAL": [5.0, 6.0, 4.5, 0.0, 0.3, 7.1],
            "BASE": [5.0, 5.0, 5.0, 0.0, 0.0, np.nan],
            "ABLFL": ["Y", "", "", "Y", "", ""],
            "CHG": [0.0, 1.0, -0.5, 0.0, 0.3, np.nan],
            "PCHG": [0.0, 20.0, -10.0, np.nan, np.nan, np.nan],
            "ANL01FL": ["Y", "Y", "Y", "Y", "Y", "Y"],
            "CRIT1": ["", "AVAL > 5.5", "AVAL > 5.5", "", "", "AVAL > 5.5"],
            "CRIT1FL": ["", "Y", "N", "", "", "Y"],
        }
    )


def run(frames: dict[str, pd.DataFrame]) -> Findings:
    study = Study(
        "S1",
        "SDTMIG",
        "3.4",
        "2025-03-28",
        datasets={n: dataset_from_ig(n, f) for n, f in frames.items()},
    )
    return validate_study(frames, study)


def rows(found: Findings, rule: str) -> list[tuple]:
    f = found.of(rule)
    index = [None if pd.isna(r) else int(r) for r in f["row"]]
    return list(zip(f["dataset"], index, f["variable"], f["value"], strict=True))


def test_clean_adam_has_no_findings() -> None:
    found = run({"ADSL": _adsl(), "ADLB": _adlb()})
    assert len(found) == 0, found.frame[["rule", "dataset", "variable", "message"]]


def test_adam_metadata_comes_from_the_adamig() -> None:
    meta = dataset_from_ig("ADLB", _adlb())
    assert (meta.standard, meta.cls) == ("ADaMIG", "BASIC DATA STRUCTURE")
    assert meta.var("PARAMCD").core == "Req" and meta.var("CRIT1FL").core == "Cond"
    assert dataset_from_ig("ADSL", _adsl()).var("TRT01P").core == "Req"


def test_adsl_one_record_per_subject() -> None:
    adsl = pd.concat([_adsl(), _adsl().iloc[[1]]], ignore_index=True)
    assert rows(run({"ADSL": adsl}), "UMSC-AD0001") == [
        ("ADSL", 2, "USUBJID", "S1-002"),
        ("ADSL", 4, "USUBJID", "S1-002"),
    ]


def test_adsl_required_template_variable() -> None:
    found = run({"ADSL": _adsl().drop(columns=["SEX"])})
    assert rows(found, "UMSC-SD0001") == [("ADSL", None, "SEX", "")]  # ADaMIG: SEX is Req
    adsl = _adsl()
    adsl.loc[2, "TRT01P"] = ""
    assert rows(run({"ADSL": adsl}), "UMSC-SD0002") == [("ADSL", 3, "TRT01P", "")]


def test_base_equals_aval_on_baseline_record() -> None:
    adlb = _adlb()
    adlb.loc[0, "BASE"] = 5.1
    adlb.loc[3, "BASE"] = np.nan
    found = run({"ADLB": adlb})
    assert rows(found, "UMSC-AD0002") == [("ADLB", 1, "BASE", "5.1"), ("ADLB", 4, "BASE", "")]


def test_chg_is_aval_minus_base_within_tolerance() -> None:
    adlb = _adlb()
    adlb.loc[1, "CHG"] = 1.0 + 1e-12  # inside 1e-9 relative: fine
    adlb.loc[2, "CHG"] = -0.4  # wrong
    adlb.loc[5, "CHG"] = 1.0  # BASE is null, so CHG must be too
    found = run({"ADLB": adlb})
    assert rows(found, "UMSC-AD0003") == [("ADLB", 3, "CHG", "-0.4"), ("ADLB", 6, "CHG", "1")]
    assert "AVAL - BASE = -0.5" in found.of("UMSC-AD0003")["message"].iloc[0]
    assert rows(run({"ADLB": _adlb()}), "UMSC-AD0003") == []  # 0.3 - 0.0 and the rest


def test_pchg_is_percent_change_and_null_on_zero_base() -> None:
    adlb = _adlb()
    adlb.loc[1, "PCHG"] = 20.0000001  # outside 1e-9 relative
    adlb.loc[4, "PCHG"] = 0.0  # BASE is 0: must be null
    found = run({"ADLB": adlb})
    assert rows(found, "UMSC-AD0004") == [
        ("ADLB", 2, "PCHG", "20.0000001"),
        ("ADLB", 5, "PCHG", "0"),
    ]
    assert "BASE is null or 0" in found.of("UMSC-AD0004")["message"].iloc[1]


def test_paramcd_param_one_to_one() -> None:
    adlb = _adlb()
    adlb.loc[4, "PARAM"] = "Glucose (mg/dL)"
    got = rows(run({"ADLB": adlb}), "UMSC-AD0005")
    assert [g[:2] for g in got] == [("ADLB", 1), ("ADLB", 5)]  # first record of each pair


@pytest.mark.parametrize("column", ["AVISIT", "USUBJID"])
def test_one_anl01fl_per_subject_parameter_visit(column: str) -> None:
    adlb = _adlb()
    adlb.loc[2, column] = adlb.loc[1, column] if column == "AVISIT" else "S1-001"
    found = run({"ADLB": adlb})
    expected = [("ADLB", 2, "ANL01FL", "Y"), ("ADLB", 3, "ANL01FL", "Y")]
    assert rows(found, "UMSC-AD0006") == (expected if column == "AVISIT" else [])
    adlb.loc[2, "ANL01FL"] = ""
    assert rows(run({"ADLB": adlb}), "UMSC-AD0006") == []


def test_crit_flag_exactly_where_criterion() -> None:
    adlb = _adlb()
    adlb.loc[0, "CRIT1FL"] = "N"  # flag without criterion
    adlb.loc[2, "CRIT1FL"] = ""  # criterion without flag
    found = run({"ADLB": adlb})
    assert rows(found, "UMSC-AD0007") == [("ADLB", 1, "CRIT1FL", "N"), ("ADLB", 3, "CRIT1FL", "")]


def test_sdtm_only_rules_skip_adam() -> None:
    adlb = _adlb()
    adlb["VISITNUM"] = [1.0, 1.0, 2.0, 1.0, 2.0, 2.0]
    adlb["VISIT"] = ["A", "B", "C", "A", "C", "C"]  # not one-to-one, but not SDTM
    found = run({"ADSL": _adsl(), "ADLB": adlb})
    assert not {"UMSC-XD0001", "UMSC-XD0005", "UMSC-SD0003", "UMSC-SD0004"} & found.rules()
