"""BDS from a spec (cdisc_umsc/adam/bds.py), on a small LB and on the bundled trial's ADLB."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
import pytest

from cdisc_umsc.adam.bds import build_bds
from cdisc_umsc.core.errors import InputError
from cdisc_umsc.metadata.specfile import load_spec_file

NAN = np.nan
LB = pd.DataFrame(
    {
        "STUDYID": "S",
        "USUBJID": ["S-1"] * 5 + ["S-2"] * 3 + ["S-9"],
        "LBSEQ": [1.0, 2, 3, 4, 5, 1, 2, 3, 1],
        "LBTESTCD": ["K"] * 9,
        "LBTEST": ["Potassium"] * 9,
        "LBSTRESU": ["mmol/L"] * 9,
        "LBCAT": ["CHEM"] * 8 + ["CHEM"],
        "LBSTRESN": [4.0, 4.2, 6.0, NAN, 1.0, 5.0, 5.5, 3.0, 1.0],
        "LBSTNRLO": [3.5] * 9,
        "LBSTNRHI": [5.0] * 9,
        "LBDTC": [
            "2019-01-01",
            "2019-01-10",
            "2019-01-24",
            "2019-02-07",
            "2019-02",
            "2019-01-05",
            "2019-01-19",
            "2019-01-20",
            "2019-01-01",
        ],
        "VISIT": ["SCR", "WEEK 0", "WEEK 2", "WEEK 4", "UNS", "SCR", "WEEK 2", "WEEK 2", "SCR"],
        "VISITNUM": [1.0, 2, 3, 4, 4.1, 1, 3, 3, 1],
    }
)
ADSL = pd.DataFrame(
    {
        "STUDYID": "S",
        "USUBJID": ["S-1", "S-2"],
        "TRTSDT": [21559.0, 21559.0],
        "TRTEDT": [21580.0, 21580.0],
    }
)
# 21559 = 2019-01-10
SPEC = """
dataset: ADLB
structure: BDS
label: Lab
keys: [STUDYID, USUBJID, PARAMCD, AVISITN, ADT]
source: LB
where: {LBCAT: CHEM}
adsl: [TRTSDT, TRTEDT]
parameters: {per_test: LBTESTCD, PARAM: "{LBTEST} ({LBSTRESU})", PARAMN: {K: 19}, decimals: 1}
aval: LBSTRESN
adt: {date: LBDTC, impute: {highest: D, rule: first}}
avisit:
  windows:
    - {AVISIT: Baseline, AVISITN: 0, lo: -30, hi: 1, target: 1}
    - {AVISIT: Week 2, AVISITN: 2, lo: 2, hi: 21, target: 15}
    - {AVISIT: Week 4, AVISITN: 4, lo: 22, hi: 42, target: 29}
  rule: closest
  flag: ANL02FL
ranges: {A1LO: LBSTNRLO, A1HI: LBSTNRHI, shift: SHIFT1}
ontrt: {end_window: 7}
extra_records:
  - {where: {AVISITN: {ge: 2}}, pick: last, order: [AVISITN, ADT],
     set: {AVISIT: End of Treatment, AVISITN: 99}}
"""


def _spec(tmp_path, text: str = SPEC):
    path = tmp_path / "adlb.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return load_spec_file(path)


def test_bds_from_spec(tmp_path) -> None:
    bds = build_bds(_spec(tmp_path), {"LB": LB}, ADSL)
    assert set(bds["USUBJID"]) == {"S-1", "S-2"}  # S-9 is not in ADSL
    s1 = bds[(bds["USUBJID"] == "S-1") & (bds["AVISITN"] != 99)].set_index("SRCSEQ").sort_index()
    assert (bds["PARAM"] == "Potassium (mmol/L)").all() and (bds["PARAMN"] == 19).all()
    assert s1.loc[5.0, "ADT"] == 21581.0 and s1.loc[5.0, "ADTF"] == "D"  # 2019-02 -> 02-01
    assert s1["ADY"].tolist() == [-9.0, 1.0, 15.0, 29.0, 23.0]
    assert s1["AVISIT"].tolist() == ["Baseline", "Baseline", "Week 2", "Week 4", "Week 4"]
    assert s1["ABLFL"].tolist() == ["", "Y", "", "", ""]  # last on/before first dose
    assert s1["BASE"].eq(4.2).all()
    assert np.isnan(s1.loc[1.0, "CHG"]) and np.isnan(s1.loc[2.0, "CHG"])
    assert s1.loc[3.0, "CHG"] == pytest.approx(1.8) and s1.loc[5.0, "CHG"] == pytest.approx(-3.2)
    assert s1["ANRIND"].tolist() == ["NORMAL", "NORMAL", "HIGH", "", "LOW"]
    assert s1["BNRIND"].eq("NORMAL").all()
    assert s1["SHIFT1"].tolist() == ["", "", "NORMAL to HIGH", "", "NORMAL to LOW"]
    assert s1.loc[3.0, "R2A1HI"] == pytest.approx(1.2)
    assert s1["ONTRTFL"].tolist() == ["", "Y", "Y", "Y", "Y"]  # up to TRTEDT + 7 days
    # Week 4 window: day 29 has no value, so the unscheduled day 23 record is the analysis one
    assert s1["ANL02FL"].tolist() == ["", "Y", "Y", "", "Y"]
    eot = bds[bds["AVISITN"] == 99].set_index("USUBJID")
    assert eot.loc["S-1", "SRCSEQ"] == 4.0 and eot.loc["S-2", "SRCSEQ"] == 3.0
    s2 = bds[(bds["USUBJID"] == "S-2") & (bds["AVISITN"] == 2)]
    # two records in the Week 2 window (days 10 and 11, target 15): the closer one
    assert s2["ANL02FL"].tolist() == ["", "Y"]


def test_baseline_by_condition_and_change_scope(tmp_path) -> None:
    text = SPEC + (
        "carry: {VISITNUM: VISITNUM}\nbaseline: {where: {VISITNUM: 1}}\n"
        "change: {post: not_baseline}\n"
    )
    bds = build_bds(_spec(tmp_path, text), {"LB": LB}, ADSL)
    s1 = bds[(bds["USUBJID"] == "S-1") & (bds["AVISITN"] != 99)].sort_values("SRCSEQ")
    assert s1["ABLFL"].tolist() == ["Y", "", "", "", ""] and s1["BASE"].eq(4.0).all()
    assert s1["CHG"].round(6).tolist()[1:3] == [0.2, 2.0]  # day 1 is after baseline now
    text = SPEC + "change: {post: sometimes}\n"
    with pytest.raises(InputError, match="change.post must be"):
        build_bds(_spec(tmp_path, text), {"LB": LB}, ADSL)


def test_derived_parameter_change_from_previous(tmp_path) -> None:
    text = (
        SPEC
        + """derived_parameters:
  - type: change_from_previous
    PARAMCD: "_{PARAMCD}"
    PARAM: "{PARAM} change from previous"
    select: {AVISITN: {not: null}}
    decimals: 1
    anrind: {low: -1, high: 1, terms: [L, N, H]}
"""
    )
    bds = build_bds(_spec(tmp_path, text), {"LB": LB}, ADSL)
    new = bds[(bds["PARAMCD"] == "_K") & (bds["USUBJID"] == "S-1") & (bds["AVISITN"] != 99)]
    new = new.sort_values("SRCSEQ")
    assert (new["PARAM"] == "Potassium (mmol/L) change from previous").all()
    # half range 0.75: seq 3 (6.0 - 4.2) / 0.75 = 2.4; the baseline record (seq 2) has none
    assert new["AVAL"].round(6).tolist()[2] == 2.4 and np.isnan(new["AVAL"].iloc[1])
    assert new["ANRIND"].tolist()[2] == "H" and new["BASE"].isna().all()
    assert (new["ABLFL"] == "").all() and (new["SHIFT1"] == "").all()
    assert len(bds[(bds["PARAMCD"] == "_K") & (bds["AVISITN"] == 99)]) == 2  # EOT copies too
    with pytest.raises(InputError, match="derived parameter type must be change_from_previous"):
        build_bds(
            _spec(tmp_path, text.replace("type: change_from_previous", "type: ratio")),
            {"LB": LB},
            ADSL,
        )


def test_total_check_stops_on_disagreement(tmp_path) -> None:
    qs = pd.DataFrame(
        {
            "STUDYID": "S",
            "USUBJID": ["S-1"] * 3,
            "QSSEQ": [1.0, 2, 3],
            "QSTESTCD": ["A", "B", "TOT"],
            "QSSTRESN": [1.0, 2.0, 3.5],
            "QSDTC": ["2019-01-10"] * 3,
            "VISITNUM": [1.0] * 3,
        }
    )
    spec = """
    dataset: ADQS
    structure: BDS
    label: Q
    keys: [USUBJID]
    source: QS
    adsl: [TRTSDT]
    parameters: [{PARAMCD: TOT, PARAM: Total, where: {QSTESTCD: TOT}, decimals: 1}]
    aval: QSSTRESN
    adt: QSDTC
    avisit: {AVISIT: VISITNUM, AVISITN: VISITNUM}
    checks:
      - {total: {QSTESTCD: TOT}, by: [USUBJID, VISITNUM], code: QSTESTCD, value: QSSTRESN,
         formula: "A + B", decimals: 1, tolerance: 0.05}
    """
    with pytest.raises(
        InputError,
        match=r"recomputed total 3.0 differs from the recorded 3.5 "
        r"\(USUBJID=S-1, VISITNUM=1.0\)",
    ):
        build_bds(_spec(tmp_path, spec), {"QS": qs}, ADSL)
    qs.loc[2, "QSSTRESN"] = 3.0
    assert build_bds(_spec(tmp_path, spec), {"QS": qs}, ADSL)["AVAL"].tolist() == [3.0]


def test_an_added_record_is_not_its_source_s_baseline_or_analysis_record(tmp_path) -> None:
    """End of Treatment copies the last Week 2+ record, values and all, but not the record
    flags: ANL02FL marks one record per window (the copy's window is none) and ABLFL the
    baseline record; a flag the spec's set: gives is kept."""
    bds = build_bds(_spec(tmp_path), {"LB": LB}, ADSL)
    source = bds[(bds["AVISITN"] >= 2) & (bds["AVISITN"] < 99) & (bds["ANL02FL"] == "Y")]
    assert len(source) > 0
    eot = bds[bds["AVISITN"] == 99]
    assert eot["USUBJID"].tolist() == ["S-1", "S-2"]
    assert (eot["ANL02FL"] == "").all() and (eot["ABLFL"] == "").all()
    text = SPEC.replace(
        "set: {AVISIT: End of Treatment, AVISITN: 99}",
        "set: {AVISIT: End of Treatment, AVISITN: 99, ANL02FL: Y}",
    )
    bds = build_bds(_spec(tmp_path, text), {"LB": LB}, ADSL)
    assert (bds.loc[bds["AVISITN"] == 99, "ANL02FL"] == "Y").all()


def test_without_visits_records_sort_by_subject_parameter_and_date(tmp_path) -> None:
    """avisit: is optional: without it there is no AVISITN and the records are ordered by
    USUBJID, PARAMCD and ADT (missing dates first, as SAS sorts them)."""
    qs = pd.DataFrame(
        {
            "STUDYID": "S",
            "USUBJID": ["S-2", "S-1", "S-1", "S-1"],
            "QSSEQ": [1.0, 1, 2, 3],
            "QSTESTCD": ["TOT"] * 4,
            "QSSTRESN": [4.0, 3.0, 2.0, 1.0],
            "QSDTC": ["2019-01-09", "2019-02-01", "", "2019-01-05"],
        }
    )
    spec = """
    dataset: ADQS
    structure: BDS
    label: Q
    keys: [USUBJID, PARAMCD, ADT]
    source: QS
    adsl: [TRTSDT]
    parameters: [{PARAMCD: TOT, PARAM: Total, where: {QSTESTCD: TOT}, decimals: 1}]
    aval: QSSTRESN
    adt: QSDTC
    """
    bds = build_bds(_spec(tmp_path, spec), {"QS": qs}, ADSL)
    assert "AVISITN" not in bds.columns
    assert bds["USUBJID"].tolist() == ["S-1", "S-1", "S-1", "S-2"]
    assert bds["AVAL"].tolist() == [2.0, 1.0, 3.0, 4.0]
    assert bds["ABLFL"].tolist() == ["", "Y", "", "Y"]


def test_bundled_adlb_ranges_and_shift(bundled_run) -> None:
    result, _out = bundled_run
    adlb, lb = result.adam["ADLB"], result.sdtm.data["LB"]
    merged = adlb.merge(
        lb[["LBSEQ", "USUBJID", "LBNRIND"]],
        left_on=["USUBJID", "SRCSEQ"],
        right_on=["USUBJID", "LBSEQ"],
    )
    assert len(merged) == len(adlb) and (merged["ANRIND"] == merged["LBNRIND"]).all()
    base = adlb[adlb["ABLFL"] == "Y"].set_index(["USUBJID", "PARAMCD"])["ANRIND"]
    post = adlb[adlb["SHIFT1"] != ""]
    assert len(post) > 1000
    expect = (
        base.reindex(pd.MultiIndex.from_frame(post[["USUBJID", "PARAMCD"]])).to_numpy()
        + " to "
        + post["ANRIND"].to_numpy()
    )
    assert (post["SHIFT1"].to_numpy() == expect).all()
    on = adlb["ONTRTFL"] == "Y"
    assert (
        (adlb.loc[on, "ADT"] >= adlb.loc[on, "TRTSDT"])
        & (adlb.loc[on, "ADT"] <= adlb.loc[on, "TRTEDT"])
    ).all() and on.sum() > 0
    ratio = adlb["R2A1HI"].notna()
    assert np.allclose(adlb.loc[ratio, "R2A1HI"], adlb.loc[ratio, "AVAL"] / adlb.loc[ratio, "A1HI"])


def test_on_treatment_with_collected_times(tmp_path) -> None:
    """A record timed before the first dose on its day is baseline, not on treatment; one
    timed after it is on treatment; a date-only record on that day follows same_day."""
    pc = pd.DataFrame(
        {
            "STUDYID": "S",
            "USUBJID": ["S-1"] * 5,
            "PCSEQ": [1.0, 2, 3, 4, 5],
            "PCTESTCD": ["X"] * 5,
            "PCTEST": ["Drug X"] * 5,
            "PCSTRESN": [1.0, 2.0, 3.0, 4.0, 5.0],
            "PCDTC": [
                "2019-01-09",
                "2019-01-10T08:00",
                "2019-01-10T11:00",
                "2019-01-10",
                "2019-01-11T08:00:30",
            ],
            "VISITNUM": [1.0, 2, 2, 2, 3],
            "VISIT": ["DAY -1", "DAY 1", "DAY 1", "DAY 1", "DAY 2"],
        }
    )
    adsl = ADSL.iloc[[0]].assign(
        TRTSDTM=21559.0 * 86400 + 9 * 3600 + 45 * 60, TRTSTMF="S"
    )  # first dose 2019-01-10T09:45
    spec = """
    dataset: ADPC
    structure: BDS
    label: PK
    keys: [STUDYID, USUBJID, PARAMCD, ADT]
    source: PC
    adsl: [TRTSDT, TRTSDTM, TRTSTMF, TRTEDT]
    parameters: {per_test: PCTESTCD, PARAM: "{PCTEST}"}
    aval: PCSTRESN
    adt: PCDTC
    adtm: PCDTC
    avisit: {AVISIT: VISIT, AVISITN: VISITNUM}
    ontrt: {end_window: 0, same_day: SAME}
    """
    expected = {"pre_dose": ["", "", "Y", "", "Y"], "on_treatment": ["", "", "Y", "Y", "Y"]}
    for same_day, flags in expected.items():
        bds = build_bds(_spec(tmp_path, spec.replace("SAME", same_day)), {"PC": pc}, adsl)
        bds = bds.sort_values("SRCSEQ")
        assert bds["ONTRTFL"].tolist() == flags, same_day
        # the record timed after the dose on day 1 is never baseline; of the two left on
        # that day (08:00 and a date only) the later record is, as for any tie
        assert bds["ABLFL"].tolist() == ["", "", "", "Y", ""]
        assert bds["ATMF"].tolist() == ["", "S", "S", "", ""]
        assert bds["ADTM"].iloc[1] == 21559.0 * 86400 + 8 * 3600
        assert np.isnan(bds["ADTM"].iloc[0]) and np.isnan(bds["ADTM"].iloc[3])
    bad = spec.replace("SAME", "later")
    with pytest.raises(InputError, match=r"adlb.yaml:\d+: ONTRTFL: .*same_day must be one of"):
        build_bds(_spec(tmp_path, bad), {"PC": pc}, adsl)


def test_times_matter_only_where_the_first_dose_has_one(tmp_path) -> None:
    """Without ``adtm:`` there is no ADTM/ATMF; with it but no TRTSDTM carried from ADSL, the
    records are compared by date (a same-day timed record is baseline and, by default, on
    treatment)."""
    plain = build_bds(_spec(tmp_path), {"LB": LB}, ADSL)
    assert "ADTM" not in plain and "ATMF" not in plain
    lb = LB.copy()
    lb.loc[1, "LBDTC"] = "2019-01-10T11:00"  # S-1's record on the first-dose day
    timed = build_bds(
        _spec(tmp_path, SPEC.replace("aval:", "adtm: LBDTC\naval:")), {"LB": lb}, ADSL
    )
    day1 = timed[(timed["USUBJID"] == "S-1") & (timed["SRCSEQ"] == 2) & (timed["AVISITN"] == 0)]
    assert day1[["ABLFL", "ONTRTFL", "ATMF"]].iloc[0].tolist() == ["Y", "Y", "S"]
    assert day1["ADTM"].iloc[0] == 21559.0 * 86400 + 11 * 3600
    assert plain["ONTRTFL"].tolist() == timed["ONTRTFL"].tolist()
    assert plain["ABLFL"].tolist() == timed["ABLFL"].tolist()


def test_a_record_timed_after_the_first_dose_is_never_baseline_even_when_last(tmp_path) -> None:
    """The default reference (TRTSDT) excludes a record timed at or after the first dose
    (09:45) although it is the last record on that day: the 08:00 one is baseline."""
    pc = pd.DataFrame(
        {
            "STUDYID": "S",
            "USUBJID": ["S-1"] * 3,
            "PCSEQ": [1.0, 2, 3],
            "PCTESTCD": ["X"] * 3,
            "PCTEST": ["Drug X"] * 3,
            "PCSTRESN": [1.0, 2.0, 3.0],
            "PCDTC": ["2019-01-09", "2019-01-10T08:00", "2019-01-10T09:45"],
            "VISITNUM": [1.0, 2, 2],
            "VISIT": ["DAY -1", "DAY 1", "DAY 1"],
        }
    )
    adsl = ADSL.iloc[[0]].assign(TRTSDTM=21559.0 * 86400 + 9 * 3600 + 45 * 60, TRTSTMF="S")
    spec = """
    dataset: ADPC
    structure: BDS
    label: PK
    keys: [STUDYID, USUBJID, PARAMCD, ADT]
    source: PC
    adsl: [TRTSDT, TRTSDTM, TRTSTMF, TRTEDT]
    parameters: {per_test: PCTESTCD, PARAM: "{PCTEST}"}
    aval: PCSTRESN
    adt: PCDTC
    adtm: PCDTC
    avisit: {AVISIT: VISIT, AVISITN: VISITNUM}
    """
    bds = build_bds(_spec(tmp_path, spec), {"PC": pc}, adsl).sort_values("SRCSEQ")
    assert bds["ABLFL"].tolist() == ["", "Y", ""]
    assert bds["BASE"].tolist() == [2.0, 2.0, 2.0]


def test_change_scope_on_the_first_dose_and_baseline_day(tmp_path) -> None:
    """Two records on the first dose day (2019-01-10): the later one is baseline (4.6). The
    other is not after the reference date, so gets no CHG by default, but is on the
    baseline's date, so gets one with ``post: after_baseline``."""
    lb = pd.concat([LB, LB.iloc[[1]].assign(LBSEQ=6.0, LBSTRESN=4.6)], ignore_index=True)
    chg = {}
    for post in ("after_reference", "after_baseline"):
        bds = build_bds(_spec(tmp_path, SPEC + f"change: {{post: {post}}}\n"), {"LB": lb}, ADSL)
        s1 = bds[(bds["USUBJID"] == "S-1") & (bds["AVISITN"] != 99)].set_index("SRCSEQ")
        assert s1.loc[6.0, "ABLFL"] == "Y" and s1.loc[2.0, "ABLFL"] == ""
        chg[post] = s1.loc[2.0, "CHG"]
    assert np.isnan(chg["after_reference"])
    assert chg["after_baseline"] == pytest.approx(-0.4)


def test_primary_visit_imputed_only_for_the_population(tmp_path) -> None:
    """S-2 (ITTFL Y) has no Week 4 record: its baseline is carried forward (BLOCF) and is the
    analysis record; S-1 is not in the population, so none of its records is flagged."""
    adsl = ADSL.assign(ITTFL=["N", "Y"])
    text = SPEC + "primary: {population: ITTFL, AVISIT: Week 4, AVISITN: 4, missing: BLOCF}\n"
    bds = build_bds(_spec(tmp_path, text), {"LB": LB}, adsl)
    week4 = bds[(bds["AVISITN"] == 4) & (bds["USUBJID"] == "S-2")]
    assert week4[["AVAL", "DTYPE", "ANL01FL"]].values.tolist() == [[5.0, "BLOCF", "Y"]]
    assert (bds.loc[bds["USUBJID"] == "S-1", "ANL01FL"] == "").all()
    assert (bds.loc[bds["USUBJID"] == "S-1", "DTYPE"] == "").all()


def test_rows_of_each_value_in_record_order() -> None:
    from cdisc_umsc.adam.bds import _rows_of

    values = pd.Series(["K", None, "NA", "K", "", "NA", "K"], dtype="str")
    rows = _rows_of(values)
    assert list(rows) == ["K", "NA", ""]  # first-seen order; missing values have no entry
    assert {k: v.tolist() for k, v in rows.items()} == {"K": [0, 3, 6], "NA": [2, 5], "": [4]}
    assert _rows_of(pd.Series([], dtype="str")) == {}


def test_a_primary_visit_no_record_has_lists_the_visits_in_number_order() -> None:
    import pandas as pd
    import pytest

    from cdisc_umsc.adam.bds import _check_primary_visit
    from cdisc_umsc.core.errors import InputError

    class _Primary(dict):
        def where(self) -> str:
            return "adam/adqs.yaml:31"

    for visitn in ([11.0, 2.0, 1.0, 2.0], ["11", "2", "1", "2"]):  # numbers, or numbers as text
        bds = pd.DataFrame({"AVISITN": visitn, "AVISIT": ["M6", "W2", "SCR", "W2"]})
        with pytest.raises(InputError) as exc:
            _check_primary_visit(bds, _Primary(AVISIT="WEEK 9"), 55.0)  # type: ignore[arg-type]
        assert str(exc.value) == (
            "adam/adqs.yaml:31: primary: no record is at AVISITN 55 (WEEK 9); the records' "
            "visits (AVISITN AVISIT): 1 SCR, 2 W2, 11 M6"
        )
    bds = pd.DataFrame({"AVISITN": [11.0], "AVISIT": ["M6"]})
    with pytest.raises(InputError, match="the records at AVISITN 11 are M6, not WEEK 9$"):
        _check_primary_visit(bds, _Primary(AVISIT="WEEK 9"), 11.0)  # type: ignore[arg-type]
    _check_primary_visit(bds, _Primary(AVISIT="M6"), 11.0)  # type: ignore[arg-type]
