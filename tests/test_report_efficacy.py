"""Responder tables from ADaM BDS records (cdisc_umsc/report/efficacy.py): endpoints from CRITy
(ADaMIG 1.3 BDS CRITy / CRITyFL), n/N and percent per group at exact boundaries."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cdisc_umsc.core.errors import InputError
from cdisc_umsc.report.efficacy import efficacy_table, endpoints, format_table, label, percent


def _bds(flags: list[str], **extra) -> pd.DataFrame:
    """One analysis record per subject of parameter P with criterion CRIT1."""
    n = len(flags)
    return pd.DataFrame(
        {
            "USUBJID": [f"S{i:02d}" for i in range(n)],
            "PARAMCD": ["P"] * n,
            "ANL01FL": ["Y"] * n,
            "CRIT1": ["R50: AVAL >= 50"] * n,
            "CRIT1FL": flags,
            **extra,
        }
    )


def test_endpoints_in_parameter_then_criterion_number_order() -> None:
    bds = pd.DataFrame(
        {
            "PARAMCD": ["Q", "P", "P", "P", "P"],
            "ANL01FL": ["Y", "Y", "Y", "", "Y"],
            "CRIT10": ["T10", "T10", "", "X", None],
            "CRIT10FL": ["Y", "Y", "", "Y", ""],
            "CRIT2": ["T2", "T2", "T2", "T2", "T2"],
            "CRIT2FL": ["N", "N", "Y", "Y", "Y"],
        }
    )
    # CRIT10 after CRIT2 (by number, not text); CRITyFL is no criterion; "X" is only on a
    # record outside the analysis (ANL01FL blank); blank and missing CRITy are no endpoint
    assert endpoints(bds) == [
        ("P", "CRIT2", "T2"),
        ("P", "CRIT10", "T10"),
        ("Q", "CRIT2", "T2"),
        ("Q", "CRIT10", "T10"),
    ]


def test_no_endpoint_without_analysis_records() -> None:
    assert endpoints(pd.DataFrame({"PARAMCD": ["P"], "CRIT1": ["T"], "CRIT1FL": ["Y"]})) == []


def test_label_is_the_text_up_to_the_first_colon() -> None:
    assert label("PASI75: PCHG <= -75: week 16") == "PASI75"
    assert label("no colon") == "no colon"


@pytest.mark.parametrize(
    "n, total, pct",
    [
        (0, 7, 0.0),
        (7, 7, 100.0),
        (1, 3, 33.3),
        (2, 3, 66.7),
        (1, 8, 12.5),
        (1, 16, 6.3),  # 6.25: a half rounds up, not to even
        (3, 16, 18.8),  # 18.75
        (5, 16, 31.3),  # 31.25
        (1, 80, 1.3),  # 1.25
        (1, 2000, 0.1),  # 0.05
        (1, 2001, 0.0),  # 0.04998
    ],
)
def test_percent_at_exact_boundaries(n: int, total: int, pct: float) -> None:
    assert percent(pd.Series([n]), pd.Series([total])).tolist() == [pct]
    assert percent(pd.Series([n]), total).tolist() == [pct]


def test_percent_of_nobody_is_missing() -> None:
    assert np.isnan(percent(pd.Series([0]), pd.Series([0])).iloc[0])


def test_overall_and_group_rows() -> None:
    bds = _bds(["Y", "N", "Y", "", "Y"], SEX=["F", "M", "F", "M", "M"])
    table = efficacy_table(bds, by=["SEX"])
    assert table[["endpoint", "group", "level", "n", "N", "pct"]].values.tolist() == [
        ["R50", "Overall", "", 3, 5, 60.0],
        ["R50", "SEX", "F", 2, 2, 100.0],
        # "N" and a blank flag are both non-responders
        ["R50", "SEX", "M", 1, 3, 33.3],
    ]
    assert table["criterion"].unique().tolist() == ["R50: AVAL >= 50"]


def test_a_subject_without_a_group_value_is_counted_in_a_missing_row() -> None:
    """Every analysed subject is in one row of each grouping: a blank and a null value are
    one level, '(missing)', after the others; the group rows add up to Overall."""
    bds = _bds(["Y", "N", "Y", "Y", "N"], SEX=["F", "", "M", None, "M"])
    table = efficacy_table(bds, by=["SEX"])
    assert table[["group", "level", "n", "N", "pct"]].values.tolist() == [
        ["Overall", "", 3, 5, 60.0],
        ["SEX", "F", 1, 1, 100.0],
        ["SEX", "M", 1, 2, 50.0],
        ["SEX", "(missing)", 1, 2, 50.0],
    ]


def test_only_analysis_records_of_the_population_count() -> None:
    bds = _bds(["Y", "Y", "Y", "N"], SAFFL=["Y", "N", "Y", "Y"])
    bds.loc[2, "ANL01FL"] = ""
    table = efficacy_table(bds, population="SAFFL")
    assert table[["n", "N", "pct"]].values.tolist() == [[1, 2, 50.0]]


def test_a_population_without_analysed_subjects_has_no_percent() -> None:
    table = efficacy_table(_bds(["Y"], FASFL=["N"]), population="FASFL")
    assert table[["n", "N"]].values.tolist() == [[0, 0]]
    assert np.isnan(table["pct"].iloc[0])


def test_a_half_percent_responder_rate_rounds_up() -> None:
    table = efficacy_table(_bds(["Y"] + ["N"] * 15))
    assert table[["n", "N", "pct"]].values.tolist() == [[1, 16, 6.3]]


def test_a_missing_variable_is_one_line() -> None:
    with pytest.raises(InputError) as err:
        efficacy_table(_bds(["Y"]), by=["SEX"], name="ADEFF")
    assert str(err.value) == (
        "ADEFF: variable SEX is missing; the responder table needs USUBJID, PARAMCD, ANL01FL, SEX"
    )


def test_format_table() -> None:
    bds = _bds(["Y", "N", "Y"], SEX=["F", "M", "F"], FASFL=["Y", "Y", "Y"])
    table = efficacy_table(bds, by=["SEX"], population="FASFL")
    table.loc[len(table)] = {**table.iloc[0].to_dict(), "n": 0, "N": 0, "pct": np.nan}
    assert format_table(table).splitlines() == [
        "Endpoint   Group                            n/N       %",
        "R50        Overall                          2/3   66.7%",
        "R50        SEX=F                            2/2  100.0%",
        "R50        SEX=M                            0/1    0.0%",
        "R50        Overall                          0/0        ",
    ]
