"""The ADaM checks (validate/checks_adam.py): ADSL one record per subject, BASE / CHG / PCHG
arithmetic at its tolerance, PARAMCD <-> PARAM, ANL01FL, CRITy / CRITyFL, ADSL templates."""

from __future__ import annotations

import numpy as np
import pandas as pd
from validate_support import hits

from cdisc_umsc.validate.checks_adam import REL_TOL

NAN = np.nan


def bds(**cols: list) -> dict[str, pd.DataFrame]:
    n = len(next(iter(cols.values())))
    base = {"STUDYID": "S", "USUBJID": ["S-1"] * n, "PARAMCD": ["SYSBP"] * n}
    return {"ADVS": pd.DataFrame({**base, **cols})}


def test_adsl_one_record_per_subject() -> None:
    data = {"ADSL": pd.DataFrame({"STUDYID": "S", "USUBJID": ["S-1", "S-2", "S-1"]})}
    message = "USUBJID 'S-1' has more than one ADSL record"
    assert hits("UMSC-AD0001", data, "ADSL") == [
        ("ADSL", 0, "USUBJID", "S-1", message),
        ("ADSL", 2, "USUBJID", "S-1", message),
    ]
    single = {"ADSL": pd.DataFrame({"STUDYID": "S", "USUBJID": ["S-1"]})}
    assert hits("UMSC-AD0001", single, "ADSL") == []


def test_base_equals_aval_on_the_baseline_record_only() -> None:
    data = bds(
        ABLFL=["Y", "Y", "Y", "", "Y"],
        AVAL=[120.0, 120.0, NAN, 130.0, 100.0],
        BASE=[120.0, 121.0, 120.0, 120.0, 100.0 * (1 + REL_TOL / 2)],
    )
    assert hits("UMSC-AD0002", data, "ADVS") == [
        ("ADVS", 1, "BASE", "121", "BASE 121 but AVAL 120 on ABLFL='Y'"),
        ("ADVS", 2, "BASE", "120", "BASE 120 but AVAL  on ABLFL='Y'"),
    ]


def test_chg_is_aval_minus_base() -> None:
    data = bds(
        AVAL=[130.0, 130.0, NAN, 130.0],
        BASE=[120.0, 120.0, 120.0, 120.0],
        CHG=[10.0, 11.0, 5.0, NAN],
    )
    assert hits("UMSC-AD0003", data, "ADVS") == [
        ("ADVS", 1, "CHG", "11", "CHG 11 but AVAL - BASE = 10"),
        ("ADVS", 2, "CHG", "5", "CHG 5 but AVAL - BASE = "),
    ]


def test_pchg_is_percent_change_and_null_where_base_is_zero_or_null() -> None:
    data = bds(
        AVAL=[130.0, 130.0, 5.0, 5.0, 130.0],
        BASE=[120.0, 120.0, 0.0, NAN, 120.0],
        CHG=[10.0, 10.0, 5.0, NAN, 10.0],
        PCHG=[100 * 10 / 120, 8.0, 1.0, 2.0, NAN],
    )
    assert hits("UMSC-AD0004", data, "ADVS") == [
        ("ADVS", 1, "PCHG", "8", "PCHG 8 but 100 * CHG / BASE = 8.333333333333334"),
        ("ADVS", 2, "PCHG", "1", "PCHG must be null where BASE is null or 0"),
        ("ADVS", 3, "PCHG", "2", "PCHG must be null where BASE is null or 0"),
    ]


def test_pchg_without_chg_uses_aval_minus_base() -> None:
    data = bds(AVAL=[150.0], BASE=[100.0], PCHG=[40.0])
    assert hits("UMSC-AD0004", data, "ADVS") == [
        ("ADVS", 0, "PCHG", "40", "PCHG 40 but 100 * CHG / BASE = 50")
    ]


def test_paramcd_and_param_one_to_one() -> None:
    data = bds(PARAM=["Systolic BP", "Systolic BP (mmHg)", "Systolic BP", ""])
    message = "PARAMCD 'SYSBP' / PARAM '{}' is not one-to-one"
    assert hits("UMSC-AD0005", data, "ADVS") == [
        ("ADVS", 0, "PARAMCD", "SYSBP", message.format("Systolic BP")),
        ("ADVS", 1, "PARAMCD", "SYSBP", message.format("Systolic BP (mmHg)")),
    ]
    two_codes = {
        "ADVS": pd.DataFrame(
            {"USUBJID": "S-1", "PARAMCD": ["SYSBP", "DIABP"], "PARAM": ["Blood pressure"] * 2}
        )
    }
    assert [h[1] for h in hits("UMSC-AD0005", two_codes, "ADVS")] == [0, 1]


def test_one_anl01fl_per_subject_parameter_and_visit() -> None:
    data = bds(
        AVISIT=["WEEK 1", "WEEK 1", "WEEK 2", "WEEK 1"],
        ANL01FL=["Y", "Y", "Y", ""],
    )
    message = "more than one ANL01FL='Y' for the same USUBJID, PARAMCD, AVISIT"
    assert hits("UMSC-AD0006", data, "ADVS") == [
        ("ADVS", 0, "ANL01FL", "Y", message),
        ("ADVS", 1, "ANL01FL", "Y", message),
    ]
    by_type = bds(AVISIT=["WEEK 1", "WEEK 1"], BASETYPE=["LAST", "FIRST"], ANL01FL=["Y", "Y"])
    assert hits("UMSC-AD0006", by_type, "ADVS") == []


def test_crit_and_critfl_populated_together() -> None:
    data = bds(
        CRIT1=["SBP > 140", "SBP > 140", "", ""],
        CRIT1FL=["Y", "", "Y", ""],
        CRIT2FL=["", "", "", "N"],  # CRIT2 absent
    )
    assert hits("UMSC-AD0007", data, "ADVS") == [
        ("ADVS", 1, "CRIT1FL", "", "CRIT1 is populated but CRIT1FL is null"),
        ("ADVS", 2, "CRIT1FL", "Y", "CRIT1FL is populated but CRIT1 is null"),
        ("ADVS", 3, "CRIT2FL", "N", "CRIT2FL is populated but CRIT2 is null"),
    ]


def test_adsl_required_template_variables() -> None:
    adsl = pd.DataFrame({"STUDYID": ["S"], "USUBJID": ["S-1"], "TRT01P": ["A"]})
    assert hits("UMSC-AD0008", {"ADSL": adsl}, "ADSL") == []
    missing = [("ADSL", -1, "TRTxxP", "", "ADSL has no TRTxxP variable (e.g. TRT01P)")]
    assert hits("UMSC-AD0008", {"ADSL": adsl.drop(columns="TRT01P")}, "ADSL") == missing
    # xx is two digits: TRT1P does not stand for TRTxxP, TRT99P does
    assert hits("UMSC-AD0008", {"ADSL": adsl.rename(columns={"TRT01P": "TRT1P"})}, "ADSL") == (
        missing
    )
    assert hits("UMSC-AD0008", {"ADSL": adsl.rename(columns={"TRT01P": "TRT99P"})}, "ADSL") == []
    assert hits("UMSC-AD0008", bds(AVAL=[1.0]), "ADVS") == []
