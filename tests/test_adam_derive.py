"""Core derivations (cdisc_umsc/adam/derive.py): merge, dates, ABLFL, BASE, CHG, PCHG, criteria,
imputed records."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cdisc_umsc.adam import derive as D

NAN = np.nan


def _bds() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "USUBJID": ["A"] * 4 + ["B"] * 3,
            "PARAMCD": ["P"] * 7,
            "AVISITN": [1.0, 2.0, 3.0, 11.0, 1.0, 2.0, 3.0],
            "ADT": [5.0, 10.0, 40.0, 200.0, 10.0, 10.0, 50.0],
            "TRTSDT": [10.0] * 4 + [10.0] * 3,
            "AVAL": [11.0, 11.5, 6.9, 0.0, 4.0, NAN, 0.0],
        }
    )


def test_merged_requires_unique_add() -> None:
    left = pd.DataFrame({"USUBJID": ["A", "B"], "X": [1, 2]})
    add = pd.DataFrame({"USUBJID": ["A", "B"], "SEX": ["F", "M"]})
    assert D.derive_vars_merged(left, add, ["USUBJID"], ["SEX"])["SEX"].tolist() == ["F", "M"]
    with pytest.raises(ValueError, match="not unique by USUBJID"):
        D.derive_vars_merged(left, pd.concat([add, add]), ["USUBJID"], ["SEX"])
    with pytest.raises(ValueError, match="missing variable"):
        D.derive_vars_merged(left, add, ["USUBJID"], ["AGE"])


def _joined(left: pd.DataFrame, add: pd.DataFrame, by: list[str], variables: list[str]):
    """derive_vars_merged as the left join computes it (the reference)."""
    keep = [v for v in variables if v not in by]
    base = left.drop(columns=[v for v in keep if v in left.columns])
    return base.merge(add[[*by, *keep]], on=by, how="left", validate="many_to_one")


@pytest.mark.parametrize("left_type", ["str", object])
@pytest.mark.parametrize("add_type", ["str", object])
@pytest.mark.parametrize(
    "subjects",
    [
        ["A", "B", "A", "C", "B"],  # every record has its subject
        ["A", "Z", "A"],  # Z: not in add
        ["A", None, "B"],  # a blank key
        [],  # no records
    ],
)
def test_merged_as_the_left_join(left_type: object, add_type: object, subjects: list) -> None:
    left = pd.DataFrame(
        {
            "STUDYID": pd.Series(["S"] * len(subjects), dtype=left_type),
            "USUBJID": pd.Series(subjects, dtype=left_type),
            "AVAL": np.arange(len(subjects), dtype="float64"),
            "SEX": "old",  # replaced by add's
        },
        index=np.arange(len(subjects)) * 3,  # the join numbers the records afresh
    )
    add = pd.DataFrame(
        {
            "STUDYID": pd.Series(["S"] * 4, dtype=add_type),
            "USUBJID": pd.Series(["C", "A", "B", "Q"], dtype=add_type),
            "SEX": pd.Series(["F", "M", None, "F"], dtype=object),
            "ARM": pd.Series(["X", "Y", "Z", "W"], dtype="str"),
            "AGE": [30, 40, 50, 60],
            "TRTSDT": [1.0, NAN, 3.0, 4.0],
            "FL": [True, False, True, True],
        }
    )
    by, variables = ["STUDYID", "USUBJID"], ["SEX", "ARM", "AGE", "TRTSDT", "FL", "USUBJID"]
    got = D.derive_vars_merged(left, add, by, variables)
    pd.testing.assert_frame_equal(got, _joined(left, add, by, variables), check_exact=True)


def test_merged_keys_of_other_types_are_joined() -> None:
    left = pd.DataFrame({"ID": [1, 2, 1], "X": [1.0, 2.0, 3.0]})
    add = pd.DataFrame({"ID": [2.0, 1.0], "SEX": ["F", "M"]})
    got = D.derive_vars_merged(left, add, ["ID"], ["SEX"])
    pd.testing.assert_frame_equal(got, _joined(left, add, ["ID"], ["SEX"]), check_exact=True)


def test_dt_and_ady_have_no_day_zero() -> None:
    dt = D.compute_dt(pd.Series(["1960-01-02", "2019-05", "1960-01-01T10:00"]))
    assert dt.iloc[0] == 1.0 and np.isnan(dt.iloc[1]) and dt.iloc[2] == 0.0
    ady = D.compute_ady(pd.Series([9.0, 10.0, 11.0]), pd.Series([10.0] * 3))
    assert ady.tolist() == [-1.0, 1.0, 2.0]


def test_ablfl_last_nonmissing_on_or_before_reference_and_ties() -> None:
    bds = _bds()
    flag = D.compute_ablfl(bds, ["USUBJID", "PARAMCD"], "AVAL", "ADT", "TRTSDT", order=["AVISITN"])
    # A: day 10 (= first dose) wins over day 5; B: day 10 twice, the later visit has no value
    assert flag.tolist() == ["", "Y", "", "", "Y", "", ""]


def test_ablfl_excluded_records_are_never_baseline() -> None:
    bds = _bds()
    late = pd.Series([False, True, False, False, False, False, False])  # A's day-10 record
    flag = D.compute_ablfl(
        bds, ["USUBJID", "PARAMCD"], "AVAL", "ADT", "TRTSDT", order=["AVISITN"], exclude=late
    )
    assert flag.tolist() == ["Y", "", "", "", "Y", "", ""]


def test_merged_summary_per_subject() -> None:
    adsl = pd.DataFrame({"USUBJID": ["A", "B", "C", "D"]})
    ex = pd.DataFrame(
        {
            "USUBJID": ["A", "A", "B", "D"],
            "DOSE": [124.7, 125.0, NAN, NAN],
            "LOT": ["L1", "", "L2", ""],
        }
    )
    by = ["USUBJID"]

    def summary(fun, var=None):
        return D.derive_var_merged_summary(adsl, ex, by, "N", fun, var)["N"].tolist()

    assert summary("count") == [2.0, 1.0, 0.0, 1.0]  # records; C has none
    assert summary("count", "DOSE") == [2.0, 0.0, 0.0, 0.0]  # non-missing values
    assert summary("count", "LOT") == [1.0, 1.0, 0.0, 0.0]  # blank text is missing
    total = summary("sum", "DOSE")
    # no record: 0 added; records whose values are all missing: unknown
    assert total[0] == pytest.approx(249.7) and np.isnan(total[1]) and total[2:3] == [0.0]
    assert np.isnan(total[3])
    assert summary("min", "DOSE")[0] == 124.7 and np.isnan(summary("max", "DOSE")[2])
    assert summary("mean", "DOSE")[0] == pytest.approx(124.85)
    assert D.derive_var_merged_summary(adsl, ex, by, "N", "count").columns.tolist() == [
        "USUBJID",
        "N",
    ]
    with pytest.raises(ValueError, match="fun must be one of count, sum, min, max, mean"):
        summary("median", "DOSE")
    with pytest.raises(ValueError, match="sum needs source_var"):
        summary("sum")
    with pytest.raises(ValueError, match="LOT is not numeric"):
        summary("sum", "LOT")
    with pytest.raises(ValueError, match="missing variable"):
        summary("sum", "NOPE")


def test_bmi_from_height_in_cm_and_weight_in_kg() -> None:
    bmi = D.compute_bmi(pd.Series([170.0, 156.0, 0.0, NAN]), pd.Series([82.4, 67.5, 60.0, 70.0]))
    assert bmi.iloc[0] == pytest.approx(82.4 / 1.7**2) and bmi.iloc[0] == pytest.approx(
        28.5121, abs=1e-4
    )
    assert bmi.iloc[1] == pytest.approx(27.7367, abs=1e-4)
    assert np.isnan(bmi.iloc[2]) and np.isnan(bmi.iloc[3])  # no height, no BMI


def test_base_chg_pchg_null_on_baseline_and_before() -> None:
    bds = _bds()
    by = ["USUBJID", "PARAMCD"]
    bds["ABLFL"] = D.compute_ablfl(bds, by, "AVAL", "ADT", "TRTSDT", order=["AVISITN"])
    bds["BASE"] = D.compute_base(bds, by)
    post = (bds["ADT"] > bds["TRTSDT"]) & (bds["ABLFL"] != "Y")
    assert bds["BASE"].tolist() == [11.5] * 4 + [4.0] * 3
    chg = D.compute_chg(bds, post, 1)
    assert np.isnan(chg.iloc[0]) and np.isnan(chg.iloc[1])
    assert chg.iloc[2] == pytest.approx(-4.6) and chg.iloc[6] == -4.0
    pchg = D.compute_pchg(bds, post, 1)
    assert pchg.iloc[2] == pytest.approx(-40.0) and pchg.iloc[6] == -100.0
    zero = bds.assign(BASE=0.0)
    assert D.compute_pchg(zero, post, 1).isna().all()  # BASE 0: PCHG null
    text = D.compute_base(bds.assign(ANRIND=["N", "H", "L", "N", "N", "", "H"]), by, "ANRIND")
    assert text.tolist() == ["H"] * 4 + ["N"] * 3
    with pytest.raises(ValueError, match="more than one ABLFL"):
        D.compute_base(bds.assign(ABLFL="Y"), by)


def test_criteria_exact_on_boundary() -> None:
    frame = pd.DataFrame({"AVAL": [6.9, 7.0, NAN, 1.0], "BASE": [11.5, 11.5, 11.5, 0.0]})
    assert D.compute_crit_improvement(frame, 40, 1).tolist() == ["Y", "N", "", "N"]
    assert D.compute_crit_in(frame, [1.0, 7.0]).tolist() == ["N", "Y", "", "Y"]


def test_imputed_records_carry_baseline_forward() -> None:
    bds = _bds()
    by = ["USUBJID", "PARAMCD"]
    bds["ABLFL"] = D.compute_ablfl(bds, by, "AVAL", "ADT", "TRTSDT", order=["AVISITN"])
    bds["AVISIT"] = ""
    new = D.derive_param_imputed(
        bds, pd.DataFrame({"USUBJID": ["A", "B"]}), by, "MONTH 6", 11.0, "BLOCF"
    )
    assert new["USUBJID"].tolist() == ["B"] and new["AVAL"].tolist() == [4.0]
    assert new[["AVISIT", "AVISITN", "DTYPE", "ABLFL"]].iloc[0].tolist() == [
        "MONTH 6",
        11.0,
        "BLOCF",
        "",
    ]
    assert np.isnan(new["ADT"].iloc[0])


def test_imputed_records_have_no_date_time_or_source() -> None:
    bds = _bds()
    by = ["USUBJID", "PARAMCD"]
    bds["ABLFL"] = D.compute_ablfl(bds, by, "AVAL", "ADT", "TRTSDT", order=["AVISITN"])
    bds["ADTM"] = bds["ADT"] * 86400 + 8 * 3600
    bds["ATMF"] = "S"
    bds["SRCDOM"], bds["SRCVAR"], bds["SRCSEQ"] = "LB", "LBSTRESN", np.arange(7.0)
    new = D.derive_param_imputed(
        bds, pd.DataFrame({"USUBJID": ["A", "B"]}), by, "MONTH 6", 11.0, "BLOCF"
    )
    assert new[["ATMF", "SRCDOM", "SRCVAR"]].iloc[0].tolist() == ["", "", ""]
    assert new[["ADT", "ADTM", "SRCSEQ"]].isna().all(axis=None)
    assert new["AVAL"].tolist() == [4.0]  # B's baseline, carried forward


def test_copied_names_the_copy_line_and_the_absent_variable(tmp_path) -> None:
    """A copy: variable the source lacks (e.g. not mapped by the SDTM spec) is one line at
    copy:, not a pandas KeyError."""
    from cdisc_umsc.adam.derive import copied
    from cdisc_umsc.core.errors import InputError
    from cdisc_umsc.metadata.specfile import load_spec_file

    path = tmp_path / "adsl.yaml"
    path.write_text("dataset: ADSL\nstructure: ADSL\ncopy: [USUBJID, SUBJID, AGE]\n", "utf-8")
    spec = load_spec_file(path, "adam/adsl.yaml")
    dm = pd.DataFrame(columns=["USUBJID", "AGE"])
    with pytest.raises(InputError) as err:
        copied(spec, dm, "DM")
    assert str(err.value) == (
        "adam/adsl.yaml:3: copy: DM has no variable SUBJID (the SDTM spec maps no DM.SUBJID, "
        "or the DM dataset lacks it)"
    )
    dm["SUBJID"] = []
    assert copied(spec, dm, "DM") == ["USUBJID", "SUBJID", "AGE"]


def _base_joined(dataset: pd.DataFrame, by: list[str], value: str) -> pd.Series:
    """compute_base as the left join computes it (the reference)."""
    base = dataset.loc[dataset["ABLFL"] == "Y", [*by, value]].rename(columns={value: "_base"})
    merged = dataset[by].merge(base, on=by, how="left")
    if dataset[value].dtype.kind in "fiu":
        return pd.Series(merged["_base"].to_numpy(), index=dataset.index, dtype="float64")
    return pd.Series(
        merged["_base"].astype(object).fillna("").to_numpy(), index=dataset.index, dtype=object
    )


@pytest.mark.parametrize("key_type", ["str", object])
@pytest.mark.parametrize("blank_key", [False, True])
def test_base_as_the_left_join(key_type: object, blank_key: bool) -> None:
    subjects = ["A", "A", "A", "B", "B", "C", "C", None if blank_key else "D"]
    frame = pd.DataFrame(
        {
            "USUBJID": pd.Series(subjects, dtype=key_type),
            "PARAMCD": pd.Series(["P", "P", "Q", "P", "P", "P", "P", "P"], dtype=key_type),
            "ABLFL": ["", "Y", "Y", "", "", "Y", "", "Y"],  # B has no baseline
            "AVAL": [1.0, 2.0, NAN, 4.0, 5.0, 6.0, 7.0, 8.0],
            "N": [1, 2, 3, 4, 5, 6, 7, 8],
            "ANRIND": pd.Series(["LOW", "HIGH", None, "", "LOW", "NORMAL", "", "LOW"], dtype="str"),
            "TEXT": pd.Series(["x", None, "z", "", "y", "w", "", "v"], dtype=object),
        }
    ).set_axis(np.arange(8) * 2)
    for value in ("AVAL", "N", "ANRIND", "TEXT"):
        got = D.compute_base(frame, ["USUBJID", "PARAMCD"], value)
        want = _base_joined(frame, ["USUBJID", "PARAMCD"], value)
        pd.testing.assert_series_equal(got, want, check_exact=True)
    base = D.compute_base(frame, ["USUBJID", "PARAMCD"]).to_numpy()
    np.testing.assert_array_equal(base[:7], [2.0, 2.0, NAN, NAN, NAN, 6.0, 6.0])
    assert D.compute_base(frame, ["USUBJID", "PARAMCD"], "ANRIND").tolist()[:3] == ["HIGH"] * 2 + [
        ""
    ]


def test_merged_on_many_key_combinations_as_the_left_join() -> None:
    # 6 x 6 x 6 key combinations for 6 records: looked up, not tabulated
    left = pd.DataFrame({k: [f"{k}{i}" for i in range(6)] for k in ("A", "B", "C")})
    left["V"] = np.arange(6.0)
    add = left.iloc[::-1].assign(W=np.arange(6) * 10, X=list("uvwxyz"))
    got = D.derive_vars_merged(left, add, ["A", "B", "C"], ["W", "X"])
    pd.testing.assert_frame_equal(got, _joined(left, add, ["A", "B", "C"], ["W", "X"]))
    assert got["W"].tolist() == [50, 40, 30, 20, 10, 0]
    base = left.assign(ABLFL=["Y", "", "Y", "", "", "Y"])
    got_base = D.compute_base(base, ["A", "B", "C"], "V")
    np.testing.assert_array_equal(got_base.to_numpy(), _base_joined(base, ["A", "B", "C"], "V"))
