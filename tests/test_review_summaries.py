"""The review page's numbers (cdisc_umsc/review/summaries.py): trajectories, percent change by
visit, severity order, adverse event counts (ties, no events, missing severity)."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest

from cdisc_umsc.core.errors import InputError
from cdisc_umsc.review.summaries import (
    ANY,
    ANY_SOC,
    MISSING,
    ae_analysed,
    ae_counts,
    first_criterion,
    pchg_by_visit,
    severity_ranks,
    trajectories,
)

ENDPOINT = {
    "dataset": "ADEFF",
    "by": [],
    "population": "",
    "compare": "TRT01P",
    "criteria": {"SCORE": [{"CRIT": 2, "text": "75% better"}, {"CRIT": 1, "text": "50% better"}]},
}
BDS = pd.DataFrame(
    {
        "USUBJID": ["S2", "S1", "S1", "S1", "S2", "S2"],
        "PARAMCD": ["SCORE"] * 6,
        "PARAM": ["Score"] * 6,
        "AVISIT": ["BASELINE", "WEEK 4", "BASELINE", "WEEK 4", "WEEK 4", "WEEK 4"],
        "AVISITN": [0.0, 4.0, 0.0, 4.0, 4.0, np.nan],
        "AVAL": [10.0, 2.0, 20.0, 3.0, 9.0, 1.0],
        "PCHG": [np.nan, -90.0, np.nan, -85.0, -10.0, -90.0],
        "DTYPE": ["", "", "", "LOCF", "", ""],
        "TRT01P": ["A", "B", "B", "B", "A", "A"],
        "ANL01FL": ["", "Y", "", "", "Y", ""],
        "CRIT1FL": ["", "Y", "", "", "N", ""],
    }
)
ADSL = pd.DataFrame({"USUBJID": ["1", "2", "3", "4"], "SAFFL": ["Y", "Y", "Y", "N"]})


def test_first_criterion_is_the_lowest_crit_number() -> None:
    assert first_criterion(ENDPOINT, "SCORE") == {"CRIT": 1, "text": "50% better"}
    assert first_criterion(ENDPOINT, "OTHER") is None


def test_trajectories_keep_observed_records_with_a_visit() -> None:
    traj = trajectories(BDS, "SCORE", ENDPOINT)
    # the LOCF record (DTYPE) and the record without AVISITN are left out; sorted by subject
    # and visit; S1 responds by CRIT1 on its ANL01FL record, S2 does not
    assert traj[["USUBJID", "AVISITN", "AVAL", "group", "responder"]].values.tolist() == [
        ["S1", 0.0, 20.0, "B", True],
        ["S1", 4.0, 2.0, "B", True],
        ["S2", 0.0, 10.0, "A", False],
        ["S2", 4.0, 9.0, "A", False],
    ]


def test_trajectories_without_compare_or_criterion() -> None:
    plain = dict(ENDPOINT, compare="", criteria={})
    traj = trajectories(BDS, "SCORE", plain)
    assert traj["group"].unique().tolist() == ["Overall"]
    assert not traj["responder"].any()


def test_trajectories_name_a_missing_variable() -> None:
    with pytest.raises(InputError, match=r"^ADEFF: variable DTYPE is missing; the review"):
        trajectories(BDS.drop(columns="DTYPE"), "SCORE", ENDPOINT)


def test_pchg_by_visit_counts_means_and_sds() -> None:
    traj = pd.DataFrame(
        {
            "group": ["A", "A", "A", "B"],
            "AVISITN": [4.0, 4.0, 0.0, 4.0],
            "AVISIT": ["WEEK 4", "WEEK 4", "BASELINE", "WEEK 4"],
            "PCHG": [-10.0, -30.0, np.nan, -50.0],
        }
    )
    got = pchg_by_visit(traj)
    # baseline (no PCHG) has no row; one value: SD is missing, not 0
    assert got[["group", "AVISIT", "n", "mean"]].values.tolist() == [
        ["A", "WEEK 4", 2, -20.0],
        ["B", "WEEK 4", 1, -50.0],
    ]
    assert got["sd"].iloc[0] == pytest.approx(np.sqrt(200.0))
    assert np.isnan(got["sd"].iloc[1])


def test_severity_ranks_from_the_numeric_companion() -> None:
    ae = pd.DataFrame({"ASEV": ["HIGH", "LOW", "", "LOW"], "ASEVN": [2, 1, np.nan, 1]})
    sev, ranks = severity_ranks(ae, "ADAE")
    assert sev == "ASEV"
    assert ranks.to_dict() == {"LOW": 1.0, "HIGH": 2.0}
    assert list(ranks.index) == ["LOW", "HIGH"]


def test_severity_ranks_from_the_ct_grades() -> None:
    # SDTMIG 3.4 AE.AESEV, codelist C66769: MILD, MODERATE, SEVERE graded 1, 2, 3
    sev, ranks = severity_ranks(pd.DataFrame({"AESEV": ["SEVERE", "MILD"]}), "AE")
    assert sev == "AESEV"
    assert ranks.to_dict() == {"MILD": 1.0, "MODERATE": 2.0, "SEVERE": 3.0}


def test_no_severity_variable_has_no_ranks() -> None:
    sev, ranks = severity_ranks(pd.DataFrame({"USUBJID": ["1"]}), "ADAE")
    assert (sev, ranks.empty) == ("", True)


@pytest.mark.parametrize(
    "asevn, message",
    [
        (
            [1, 1],
            "ADAE: ASEVN 1 has ASEV 'MILD' and 'SEVERE'; each ASEVN must name one ASEV",
        ),
        (
            [1, np.nan],
            "ADAE: ASEV 'SEVERE' has no ASEVN; the maximum severity needs ASEVN on every "
            "record with a ASEV",
        ),
    ],
)
def test_severity_ranks_errors(asevn: list, message: str) -> None:
    ae = pd.DataFrame({"ASEV": ["MILD", "SEVERE"], "ASEVN": asevn})
    with pytest.raises(InputError) as err:
        severity_ranks(ae, "ADAE")
    assert str(err.value) == message


def test_ae_analysed_without_trtemfl_counts_every_safety_record() -> None:
    ae = pd.DataFrame({"USUBJID": ["1", "4", "9"]})
    data, n, excluded = ae_analysed(ae, ADSL, "AE")
    assert (data["USUBJID"].tolist(), n) == (["1"], 3)
    assert excluded == {
        "not treatment-emergent (TRTEMFL is not Y)": 0,
        "of subjects outside the safety set (SAFFL is not Y)": 2,
    }


def _rows(table: pd.DataFrame) -> list[tuple]:
    return [
        (r.soc, r.pt, str(r.severity), r.subjects, r.events, r.pct)
        for r in table.itertuples(index=False)
    ]


def test_ae_counts_ties_sort_by_name() -> None:
    ae = pd.DataFrame(
        {
            "USUBJID": ["1", "2", "3", "3"],
            "AESOC": ["Skin", "Eye", "Skin", "Eye"],
            "AEDECOD": ["Rash", "Pain", "Itch", "Dry"],
        }
    )
    table, n = ae_counts(ae, ADSL, "AE")
    assert n == 3
    # Eye and Skin have two subjects each: by name; so have their terms (one each).
    # No severity variable: every subject is under MISSING; 2 of 3 subjects is 66.7 %
    assert _rows(table) == [
        (ANY_SOC, "", MISSING, 3, 4, 100.0),
        (ANY_SOC, "", ANY, 3, 4, 100.0),
        ("Eye", "", MISSING, 2, 2, 66.7),
        ("Eye", "", ANY, 2, 2, 66.7),
        ("Eye", "Dry", MISSING, 1, 1, 33.3),
        ("Eye", "Dry", ANY, 1, 1, 33.3),
        ("Eye", "Pain", MISSING, 1, 1, 33.3),
        ("Eye", "Pain", ANY, 1, 1, 33.3),
        ("Skin", "", MISSING, 2, 2, 66.7),
        ("Skin", "", ANY, 2, 2, 66.7),
        ("Skin", "Itch", MISSING, 1, 1, 33.3),
        ("Skin", "Itch", ANY, 1, 1, 33.3),
        ("Skin", "Rash", MISSING, 1, 1, 33.3),
        ("Skin", "Rash", ANY, 1, 1, 33.3),
    ]


def test_ae_counts_percent_rounds_a_half_up() -> None:
    adsl = pd.DataFrame({"USUBJID": [f"{i:02d}" for i in range(16)], "SAFFL": ["Y"] * 16})
    ae = pd.DataFrame({"USUBJID": ["00"], "AESOC": ["Skin"], "AEDECOD": ["Rash"]})
    table, n = ae_counts(ae, adsl, "AE")
    assert n == 16
    assert table["pct"].unique().tolist() == [6.3]  # 1/16 = 6.25 %


@pytest.mark.parametrize(
    "ae, adsl",
    [
        (pd.DataFrame({"USUBJID": pd.Series([], dtype=object)}), ADSL),  # no event at all
        (pd.DataFrame({"USUBJID": ["1"], "TRTEMFL": [""]}), ADSL),  # none treatment-emergent
        (pd.DataFrame({"USUBJID": ["4"]}), ADSL),  # only outside the safety set
    ],
)
def test_ae_counts_without_counted_events_is_the_empty_any_row(ae, adsl) -> None:
    table, n = ae_counts(ae, adsl, "AE")
    assert n == 3
    assert _rows(table) == [(ANY_SOC, "", ANY, 0, 0, 0.0)]


def test_ae_counts_without_a_safety_set() -> None:
    table, n = ae_counts(pd.DataFrame({"USUBJID": ["1"]}), ADSL.assign(SAFFL="N"), "AE")
    assert n == 0
    assert _rows(table) == [(ANY_SOC, "", ANY, 0, 0, 0.0)]


def test_ae_counts_maximum_severity_ignores_unrated_events() -> None:
    ae = pd.DataFrame(
        {
            "USUBJID": ["1", "1", "2"],
            "AESOC": ["Skin"] * 3,
            "AEDECOD": ["Rash"] * 3,
            "AESEV": ["MODERATE", "", ""],
        }
    )
    table, _n = ae_counts(ae, ADSL, "AE")
    got = {(r[0], r[1], r[2]): r[3:5] for r in _rows(table)}
    # subject 1 is MODERATE (its unrated event neither lowers nor raises it); subject 2 has
    # only an unrated event: MISSING
    assert got[(ANY_SOC, "", "MODERATE")] == (1, 1)
    assert got[(ANY_SOC, "", MISSING)] == (1, 2)
    assert got[(ANY_SOC, "", ANY)] == (2, 3)
    assert list(table["severity"].cat.categories) == ["MILD", "MODERATE", "SEVERE", MISSING, ANY]


def test_distinct_records_are_those_pandas_keeps() -> None:
    """summaries._distinct drops runs of equal records before drop_duplicates: the same
    records in the same order, with missing values (NaN, pd.NA) among them."""

    from cdisc_umsc.review.summaries import _distinct

    rng = random.Random(1)
    for n in range(40):
        frame = pd.DataFrame(
            {
                "A": [rng.choice(["a", "b", np.nan]) for _ in range(n % 13)],
                "B": [rng.choice(["x", "y"]) for _ in range(n % 13)],
            },
            dtype=object,
        )
        if n % 3 == 0 and len(frame):
            frame.loc[0, "A"] = pd.NA
        pd.testing.assert_frame_equal(
            _distinct(frame, ["A", "B"]), frame.drop_duplicates(["A", "B"])
        )
