"""The declared-rule engine (cdisc_umsc.validate.core_rules) and its rules: the bundled CORE
rules and the P21 rules of validate/p21_rules.yaml.

Every declared rule is run on its committed cases (tests/data/core_rule_cases.json, found by
scripts/core_rule_cases.py): it must fire on exactly the records listed and on no other, so a
breaking and a passing record per rule. The operators' meanings are pinned by hand-written
cases with exact values (blanks, ties, partial dates, absent variables); the rules that look
into other datasets have their own cases here.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cdisc_umsc.metadata import standards as S
from cdisc_umsc.validate import core_rules as C
from cdisc_umsc.validate import p21_rules as P
from cdisc_umsc.validate import study_from_ig, validate_study
from cdisc_umsc.validate.checks import checks
from cdisc_umsc.validate.context import Context

CASES = json.loads(
    (Path(__file__).parent / "data" / "core_rule_cases.json").read_text(encoding="utf-8")
)
#: Declared rules without generated cases, and why (each is tested below instead).
NO_CASE = {
    # CORE's class for RELSUB is SPECIAL PURPOSE while the SDTMIG puts RELSUB in Relationship;
    # the rule never takes in a dataset, in CORE as here.
    "UMSC-CR000229": "scope never met",
}
CROSS = {  # P21 rules that read another dataset: tested by test_cross_dataset_rules
    P.rule_id(p)
    for p in (
        "SD0066 SD0071 SD2002 SD2003 SD0067 SD1012 SD0068 SD1016 SD1015 SD1014 SD0065 "
        "SD1017 SD0069 SD0070 SD0079 SD1032 SD0080 SD0082"
    ).split()
}
DECLARED = {e.id: r for r, e in (*C.registered_rules(), *P.declared())}


def _frame(dataset: str, records: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(records)
    for col in frame.columns:
        values = [v for v in frame[col] if v is not None]
        if values and all(isinstance(v, int | float) for v in values):
            frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("float64")
        else:
            frame[col] = frame[col].where(frame[col].notna(), "").astype(str)
    return frame  # exactly the variables of the case: some rules test the presence of others


def fired(rid: str, dataset: str, frame: pd.DataFrame, version: str = "3.4") -> list[int]:
    """0-based rows rule ``rid`` reports on ``frame`` as dataset ``dataset`` ([-1] for a
    dataset-level finding); [] also when the rule does not apply."""
    frames = {dataset: frame}
    ctx = Context(frames, study_from_ig(frames, study_id="S1", ig_version=version), "submission")
    if not ctx.rule_applies(rid, dataset):
        return []
    hits = list(checks()[rid](ctx, dataset, ctx.datasets[dataset], ctx.meta(dataset)))
    return sorted(int(r) for h in hits for r in h["row"])


# ----------------------------------------------------------------------------- catalogue


def test_every_declared_rule_has_cases_or_a_reason():
    missing = set(DECLARED) - set(CASES) - set(NO_CASE) - CROSS
    assert missing == set()
    assert set(NO_CASE) <= set(DECLARED)


def test_declared_rules_are_in_the_catalogue_once():
    from cdisc_umsc.validate import catalogue

    ids = [r.id for r in catalogue.rules()]
    assert len(ids) == len(set(ids))
    assert set(DECLARED) <= set(ids)
    p21 = {e.id: e for _, e in P.declared()}
    assert p21["UMSC-PSD0026"].severity == "warning" and p21["UMSC-PSD0083"].severity == "error"
    assert p21["UMSC-PSD0026"].p21_id == "SD0026"


def test_core_rules_already_worded_by_the_project_are_not_run_twice():
    assert "CORE-000914" in C.own_core_ids()  # UMSC-FN0005 (baselines per natural keys)
    assert "UMSC-CR000914" not in DECLARED
    assert "UMSC-CR000093" in DECLARED


@pytest.mark.parametrize("rid", sorted(set(CASES) & set(DECLARED)))
def test_rule_fires_on_its_breaking_records_only(rid):
    case = CASES[rid]
    for sample in case["samples"]:
        frame = _frame(case["dataset"], sample["records"])
        got = fired(rid, case["dataset"], frame, case.get("version", "3.4"))
        want = sample["fires"]
        if DECLARED[rid].get("sensitivity") == "Dataset":
            want = [-1] if want else []
        assert got == want, (rid, sample)
    assert any(s["fires"] for s in case["samples"])  # a breaking record
    assert any(len(s["fires"]) < len(s["records"]) for s in case["samples"])  # a passing one


# ----------------------------------------------------------------------------- operators


def _data(**cols) -> C._Data:
    return C._Data(pd.DataFrame(cols), "LB")


def _op(op: str, data: C._Data, **value) -> list[bool]:
    return C.OPERATORS[op](data, value).tolist()


def test_equality_treats_blanks_as_core_does():
    d = _data(LBORRES=["5", "", "5", ""], LBSTRESC=["5", "5", "", ""])
    # equal_to: false when either side is blank; not_equal_to: true when exactly one is
    assert _op("equal_to", d, target="--ORRES", comparator="--STRESC") == [1, 0, 0, 0]
    assert _op("not_equal_to", d, target="--ORRES", comparator="--STRESC") == [0, 1, 1, 0]
    # a literal that is not a variable name; value_is_literal forces it
    assert _op("equal_to", d, target="LBORRES", comparator="5") == [1, 0, 1, 0]
    d2 = _data(LBORRES=["LBSTRESC", "x"], LBSTRESC=["y", "x"])
    lit = _op("equal_to", d2, target="LBORRES", comparator="LBSTRESC", value_is_literal=True)
    assert lit == [True, False]
    assert _op("equal_to", d2, target="LBORRES", comparator="LBSTRESC") == [False, True]


def test_numbers_compare_as_numbers_and_blanks_never():
    d = _data(LBSTNRLO=[1.0, 5.0, np.nan, 2.0], LBSTNRHI=[2.0, 4.0, 3.0, 2.0])
    assert _op("less_than", d, target="--STNRHI", comparator="--STNRLO") == [0, 1, 0, 0]
    assert _op("less_than_or_equal_to", d, target="--STNRHI", comparator="--STNRLO") == [
        0, 1, 0, 1,
    ]  # fmt: skip
    assert _op("equal_to", d, target="LBSTNRHI", comparator=2) == [1, 0, 0, 1]
    assert _op("equal_to", d, target="LBSTNRHI", comparator="2") == [1, 0, 0, 1]


def test_dates_compare_at_the_precision_both_have():
    d = _data(
        LBDTC=["2020-01-02", "2020-01", "2020-02-01T10:00", "2020", "", "2020-13-45x"],
        LBENDTC=["2020-01-01", "2020-01-15", "2020-02-01T09:59", "2019-12-31", "2020", "2020"],
    )
    got = _op("date_greater_than", d, target="--DTC", comparator="--ENDTC")
    # 2020-01 vs 2020-01-15 -> equal months; 2020 vs 2019-12-31 -> 2020 > 2019; blank and
    # invalid text never compare
    assert got == [True, False, True, True, False, False]
    assert _op("date_equal_to", d, target="--DTC", comparator="--ENDTC") == [
        False, True, False, False, False, False,
    ]  # fmt: skip


def test_complete_dates_regex_and_lengths():
    d = _data(LBDTC=["2020-01-02", "2020-01", "2020-01-02T10:30", "", "2020-01-02T10:30:00Z"])
    assert _op("is_complete_date", d, target="LBDTC") == [1, 0, 1, 0, 1]
    assert _op("is_incomplete_date", d, target="LBDTC") == [0, 1, 0, 1, 0]
    t = _data(LBTESTCD=["ALT", "ALT1", "1ALT", ""], LBTEST=["x" * 41, "x" * 40, "", "y"])
    # re.match: anchored at the start only; blank text is a value, a missing number is not
    assert _op("matches_regex", t, target="LBTESTCD", comparator="[A-Z]+") == [1, 1, 0, 0]
    assert _op("not_matches_regex", t, target="LBTESTCD", comparator="[A-Z]+") == [0, 0, 1, 1]
    assert _op("longer_than", t, target="--TEST", comparator=40) == [1, 0, 0, 0]
    n = _data(TAETORD=[1.0, 1.5, np.nan])
    regex = "^(-?[1-9]\\d*|0)$"
    assert _op("not_matches_regex", n, target="TAETORD", comparator=regex) == [0, 1, 0]


def test_sets_relationships_and_presence():
    d = _data(
        USUBJID=["A", "A", "B", "B"],
        LBTESTCD=["ALT", "ALT", "ALT", "AST"],
        LBTEST=["Alanine", "Alanine aminotransferase", "Alanine", "Aspartate"],
        LBSTRESU=["U/L", "U/L", "", "U/L"],
    )
    assert _op("is_not_unique_set", d, target="USUBJID", comparator=["--TESTCD"]) == [
        1, 1, 0, 0,
    ]  # fmt: skip
    # ALT maps to two LBTEST values: its records; and each of those LBTEST values maps back to
    # one LBTESTCD only
    assert _op("is_not_unique_relationship", d, target="LBTESTCD", comparator="LBTEST") == [
        1, 1, 1, 0,
    ]  # fmt: skip
    assert _op("maps_to_many", d, target="--TESTCD", comparator="--TEST") == [1, 1, 1, 0]
    assert _op("maps_to_many", d, target="--TESTCD", comparator="--STRESU") == [0, 0, 0, 0]
    assert _op("exists", d, target="--STRESU") == [1, 1, 1, 1]
    assert _op("not_exists", d, target="--STAT") == [1, 1, 1, 1]
    assert _op("is_contained_by", d, target="--STRESU", comparator=["U/L"]) == [1, 1, 0, 1]
    assert _op("is_contained_by", d, target="--STRESU", comparator=["U/L", ""]) == [1, 1, 1, 1]
    folded = _op("is_contained_by_case_insensitive", d, target="LBTESTCD", comparator=["alt"])
    assert folded == [1, 1, 1, 0]


def test_absent_variables_inside_any_do_not_hold_and_outside_make_the_rule_not_apply():
    rule = {
        "conditions": {
            "all": [
                {"operator": "empty", "value": {"target": "--DOSU"}},
                {
                    "any": [
                        {"operator": "non_empty", "value": {"target": "--DOSE"}},
                        {"operator": "non_empty", "value": {"target": "--DOSTXT"}},
                    ]
                },
            ]
        }
    }
    needed, optional = C.targets(rule, "CM")
    assert needed == {"CMDOSU"} and optional == {"CMDOSE", "CMDOSTXT"}
    frame = pd.DataFrame({"CMDOSU": ["", "", "mg"], "CMDOSE": [1.0, np.nan, 1.0]})
    assert C.evaluate(rule["conditions"], C._Data(frame, "CM")).tolist() == [1, 0, 0]


def test_a_variable_comparator_is_needed_like_a_target():
    """CORE-000264 (AEBODSYS equals AESOC) reads AESOC as its comparator: without AESOC the
    rule does not apply (it is not 'AEBODSYS differs from blank' on every record); a literal
    comparator is no variable."""
    rule = next(r for r in S.core_rules() if r["core_id"] == "CORE-000264")
    needed, optional = C.targets(rule, "AE")
    assert needed == {"AEBODSYS", "AESOC"} and optional == set()
    literal = {
        "conditions": {
            "all": [
                {
                    "operator": "equal_to",
                    "value": {"target": "--SOC", "comparator": "--X", "value_is_literal": True},
                }
            ]
        }
    }
    assert C.targets(literal, "AE") == ({"AESOC"}, set())


# ----------------------------------------------------------------------------- scope


def test_scope_follows_domains_classes_and_the_declared_version():
    only_32 = next(r for r in S.core_rules() if r["versions"] == ["3.2"] and not C.unsupported(r))
    frames = {"DM": pd.DataFrame({"STUDYID": ["S1"], "USUBJID": ["S1-1"]})}
    for version, expected in (("3.2", True), ("3.4", False), ("3.1.2", False)):
        ctx = Context(frames, study_from_ig(frames, ig_version=version), "submission")
        dm_rule = dict(only_32, domains={"Include": ["DM"]}, classes={"Include": ["ALL"]})
        assert C.in_scope(dm_rule, ctx, "DM") is expected, version
    ctx = Context({"LBCH": frames["DM"]}, study_from_ig({"LBCH": frames["DM"]}), "submission")
    lb_rule = {"versions": ["3.4"], "domains": {"Include": ["LB"]}, "classes": {}}
    assert C.in_scope(lb_rule, ctx, "LBCH")  # a split dataset is its domain
    assert not C.in_scope(dict(lb_rule, domains={"Exclude": ["LB"]}), ctx, "LBCH")


# ----------------------------------------------------------------------------- cross-dataset


def _study() -> dict[str, pd.DataFrame]:
    text = {"STUDYID": "S1"}
    dm = pd.DataFrame(
        {
            **text,
            "DOMAIN": "DM",
            "USUBJID": ["S1-1", "S1-2", "S1-3", "S1-4"],
            "ARMCD": ["A", "B", "SCRNFAIL", "A"],
            "ARM": ["Drug A", "Drug A", "Screen Failure", "Drug A"],
            "ACTARMCD": ["A", "B", "SCRNFAIL", "C"],
            "ACTARM": ["Drug A", "Drug B", "Screen Failure", "Drug C"],
        }
    )
    ta = pd.DataFrame(
        {
            **text,
            "DOMAIN": "TA",
            "ARMCD": ["A", "A"],
            "ARM": ["Drug A", "Drug A"],
            "TAETORD": [1.0, 2.0],
            "ETCD": ["SCRN", "TRT"],
            "ELEMENT": ["Screening", "Treatment"],
            "EPOCH": ["SCREENING", "TREATMENT"],
        }
    )
    te = pd.DataFrame(
        {**text, "DOMAIN": "TE", "ETCD": ["SCRN", "TRT"], "ELEMENT": ["Screening", "Treatment"]}
    )
    se = pd.DataFrame(
        {
            **text,
            "DOMAIN": "SE",
            "USUBJID": ["S1-1", "S1-1", "S1-2"],
            "ETCD": ["SCRN", "FUP", "TRT"],
            "ELEMENT": ["Screening", "Follow-up", "Therapy"],
            "TAETORD": [1.0, np.nan, 3.0],
            "EPOCH": ["SCREENING", "FOLLOW-UP", "TREATMENT"],
        }
    )
    ti = pd.DataFrame(
        {**text, "DOMAIN": "TI", "IETESTCD": ["IN01"], "IETEST": ["Adult"], "IECAT": ["INCLUSION"]}
    )
    ie = pd.DataFrame(
        {
            **text,
            "DOMAIN": "IE",
            "USUBJID": ["S1-3", "S1-3"],
            "IETESTCD": ["IN01", "IN02"],
            "IETEST": ["Adult", "Consent"],
            "IECAT": ["INCLUSION", "INCLUSION"],
        }
    )
    ds = pd.DataFrame(
        {
            **text,
            "DOMAIN": "DS",
            "USUBJID": ["S1-1", "S1-2", "S1-2"],
            "DSSTDTC": ["2024-03-01", "2024-02-01", "2024-04"],
        }
    )
    ex = pd.DataFrame(
        {
            **text,
            "DOMAIN": "EX",
            "USUBJID": ["S1-1", "S1-3"],
            "EXENDTC": ["2024-03-02", "2024-01-10"],
        }
    )
    ae = pd.DataFrame(
        {
            **text,
            "DOMAIN": "AE",
            "USUBJID": ["S1-1", "S1-1"],
            "AESTDTC": ["2024-03-01", "2024-03-02"],
        }
    )
    sv = pd.DataFrame(
        {
            **text,
            "DOMAIN": "SV",
            "USUBJID": ["S1-1", "S1-1"],
            "VISITNUM": [1.0, 1.1],
            "VISIT": ["WEEK 1", "UNSCHEDULED 1.1"],
            "SVUPDES": ["", ""],
        }
    )
    tv = pd.DataFrame({**text, "DOMAIN": "TV", "VISITNUM": [1.0], "VISIT": ["WEEK 1"]})
    lb = pd.DataFrame(
        {
            **text,
            "DOMAIN": "LB",
            "USUBJID": ["S1-1", "S1-1"],
            "VISITNUM": [1.0, 2.0],
            "VISIT": ["WEEK 1", "WEEK 2"],
            "EPOCH": ["SCREENING", "RUN-IN"],
        }
    )
    return {"DM": dm, "TA": ta, "TE": te, "SE": se, "TI": ti, "IE": ie, "DS": ds, "EX": ex,
            "AE": ae, "SV": sv, "TV": tv, "LB": lb}  # fmt: skip


@pytest.mark.parametrize(
    ("p21", "dataset", "rows"),
    [
        ("SD0066", "DM", [2]),  # ARMCD B is not in TA; SCRNFAIL is excused
        ("SD0071", "DM", [2]),
        ("SD2002", "DM", [2, 4]),  # ACTARMCD B and C
        ("SD2003", "DM", [2, 4]),
        ("SD0067", "SE", [2]),  # FUP is not in TE
        ("SD1012", "SE", [2, 3]),  # FUP / Follow-up and TRT / Therapy
        ("SD1014", "SE", [3]),  # ETCD TRT with TAETORD 3 is not a TA record
        ("SD0068", "IE", [2]),
        ("SD1016", "IE", [2]),
        ("SD1015", "LB", [2]),  # EPOCH RUN-IN is not an epoch of TA
        ("SD0065", "LB", [2]),  # WEEK 2 is not a visit of the subject in SV
        ("SD1017", "SV", [2]),  # 1.1 has no SVUPDES and is not in TV
        ("SD0069", "DM", [3, 4]),  # no DS record
        ("SD0070", "DM", [2, 4]),  # assigned, no EX record (S1-3 failed screening)
        ("SD0079", "DM", [3]),  # the screen failure has EX records
        ("SD1032", "DM", []),  # the screen failure has IE records
        ("SD0080", "AE", [2]),  # after the latest complete DS date 2024-03-01
        ("SD0082", "EX", [1]),
    ],
)
def test_cross_dataset_rules(p21, dataset, rows):
    frames = _study()
    found = validate_study(frames, study_from_ig(frames, study_id="S1"))
    got = found.of(P.rule_id(p21))
    also = {"SD1015": {"SE": [2]}}.get(p21, {})  # SE's FOLLOW-UP is not a TA epoch either
    assert set(got["dataset"]) <= {dataset, *also}
    assert got.loc[got["dataset"] == dataset, "row"].astype(int).tolist() == rows
    for other, other_rows in also.items():
        assert got.loc[got["dataset"] == other, "row"].astype(int).tolist() == other_rows
    if p21 == "SD1032":
        frames["IE"] = frames["IE"].iloc[0:0]
        again = validate_study(frames, study_from_ig(frames, study_id="S1"))
        assert again.of(P.rule_id(p21))["row"].astype(int).tolist() == [3]


def test_cross_dataset_rules_need_the_other_dataset():
    frames = {k: v for k, v in _study().items() if k not in ("TA", "DS")}
    found = validate_study(frames, study_from_ig(frames, study_id="S1"))
    for p21 in ("SD0066", "SD0071", "SD2002", "SD1015", "SD0069", "SD0080"):
        assert found.of(P.rule_id(p21)).empty, p21


# ----------------------------------------------------------------------------- every operator

#: One dataset on which every operator is asked once or more: blanks (row 2), ties (row 0),
#: partial dates (row 1), a date-time against a date-time (row 3), an invalid date (row 4).
OPERAND = pd.DataFrame(
    {
        "AETERM": ["a", "A", "", "b", "abc"],
        "AEDECOD": ["a", "a", "", "", "xbc"],
        "AESEQ": [1.0, 2.0, np.nan, 3.0, 10.0],
        "AEGRPID": [1.0, 1.0, np.nan, 4.0, 9.0],
        "AESTDTC": ["2024-01-10", "2024-01", "", "2024-01-10T08:00", "bad"],
        "AEENDTC": ["2024-01-10", "2024-02-05", "2024-01-01", "2024-01-10T07:00", "2024-01-01"],
    }
)
#: (operator [with a label after a space], value, records where it holds).
OPERATOR_CASES = [
    ("empty", {"target": "AETERM"}, [2]),
    ("non_empty", {"target": "AETERM"}, [0, 1, 3, 4]),
    ("equal_to", {"target": "AETERM", "comparator": "AEDECOD"}, [0]),
    ("equal_to lit", {"target": "AETERM", "comparator": "a", "value_is_literal": True}, [0]),
    ("not_equal_to", {"target": "AETERM", "comparator": "AEDECOD"}, [1, 3, 4]),
    ("equal_to_case_insensitive", {"target": "AETERM", "comparator": "AEDECOD"}, [0, 1]),
    ("not_equal_to_case_insensitive", {"target": "AETERM", "comparator": "AEDECOD"}, [3, 4]),
    ("equal_to num", {"target": "AESEQ", "comparator": "AEGRPID"}, [0]),
    ("equal_to numlit", {"target": "AESEQ", "comparator": 1}, [0]),
    ("is_contained_by", {"target": "AETERM", "comparator": ["a", "b"]}, [0, 3]),
    ("is_not_contained_by", {"target": "AETERM", "comparator": ["a", "b"]}, [1, 2, 4]),
    ("is_contained_by_case_insensitive", {"target": "AETERM", "comparator": ["a"]}, [0, 1]),
    ("is_not_contained_by_case_insensitive", {"target": "AETERM", "comparator": ["a"]}, [2, 3, 4]),
    ("less_than", {"target": "AESEQ", "comparator": "AEGRPID"}, [3]),
    ("less_than_or_equal_to", {"target": "AESEQ", "comparator": "AEGRPID"}, [0, 3]),
    ("greater_than", {"target": "AESEQ", "comparator": 2}, [3, 4]),
    ("greater_than_or_equal_to", {"target": "AESEQ", "comparator": 2}, [1, 3, 4]),
    ("matches_regex", {"target": "AETERM", "comparator": "[a-z]$"}, [0, 3]),
    ("not_matches_regex", {"target": "AETERM", "comparator": "[a-z]$"}, [1, 2, 4]),
    ("prefix_matches_regex", {"target": "AEDECOD", "comparator": "^x", "prefix": 1}, [4]),
    (
        "not_prefix_matches_regex",
        {"target": "AEDECOD", "comparator": "^x", "prefix": 1},
        [0, 1, 2, 3],
    ),
    ("suffix_matches_regex", {"target": "AETERM", "comparator": "c$", "suffix": 1}, [4]),
    (
        "not_suffix_matches_regex",
        {"target": "AETERM", "comparator": "c$", "suffix": 1},
        [0, 1, 2, 3],
    ),
    ("longer_than", {"target": "AETERM", "comparator": 1}, [4]),
    ("longer_than_or_equal_to", {"target": "AETERM", "comparator": 1}, [0, 1, 3, 4]),
    ("shorter_than", {"target": "AETERM", "comparator": 1}, [2]),
    ("shorter_than_or_equal_to", {"target": "AETERM", "comparator": 1}, [0, 1, 2, 3]),
    ("date_equal_to", {"target": "AESTDTC", "comparator": "AEENDTC"}, [0]),
    ("date_not_equal_to", {"target": "AESTDTC", "comparator": "AEENDTC"}, [1, 3]),
    ("date_less_than", {"target": "AESTDTC", "comparator": "AEENDTC"}, [1]),
    ("date_less_than_or_equal_to", {"target": "AESTDTC", "comparator": "AEENDTC"}, [0, 1]),
    ("date_greater_than", {"target": "AESTDTC", "comparator": "AEENDTC"}, [3]),
    ("date_greater_than_or_equal_to", {"target": "AESTDTC", "comparator": "AEENDTC"}, [0, 3]),
    (
        "date_equal_to day",
        {"target": "AESTDTC", "comparator": "AEENDTC", "date_component": "day"},
        [0, 3],
    ),
    ("is_complete_date", {"target": "AESTDTC"}, [0, 3]),
    ("is_incomplete_date", {"target": "AESTDTC"}, [1, 2, 4]),
    ("is_not_unique_set", {"target": "AEDECOD", "comparator": ["AEGRPID"]}, [0, 1]),
    ("is_unique_set", {"target": "AEDECOD", "comparator": ["AEGRPID"]}, [2, 3, 4]),
    ("is_not_unique_relationship", {"target": "AEDECOD", "comparator": "AEGRPID"}, []),
    ("is_unique_relationship", {"target": "AEDECOD", "comparator": "AEGRPID"}, [0, 1, 2, 3, 4]),
    ("exists", {"target": "AETERM"}, [0, 1, 2, 3, 4]),
    ("not_exists", {"target": "AETERM"}, []),
    ("contains", {"target": "AETERM", "comparator": "b"}, [3, 4]),
    ("does_not_contain", {"target": "AETERM", "comparator": "b"}, [0, 1, 2]),
    ("contains col", {"target": "AEDECOD", "comparator": "AETERM"}, [0, 2]),
    ("prefix_equal_to", {"target": "AEDECOD", "comparator": "a", "prefix": 1}, [0, 1]),
    ("prefix_not_equal_to", {"target": "AEDECOD", "comparator": "a", "prefix": 1}, [2, 3, 4]),
    ("suffix_equal_to", {"target": "AETERM", "comparator": "c", "suffix": 1}, [4]),
    ("suffix_not_equal_to", {"target": "AETERM", "comparator": "c", "suffix": 1}, [0, 1, 2, 3]),
    ("prefix_is_contained_by", {"target": "AEDECOD", "comparator": ["x", "z"], "prefix": 1}, [4]),
    (
        "prefix_is_not_contained_by",
        {"target": "AEDECOD", "comparator": ["x", "z"], "prefix": 1},
        [0, 1, 2, 3],
    ),
    ("suffix_is_contained_by", {"target": "AETERM", "comparator": ["c", "b"], "suffix": 1}, [3, 4]),
    (
        "suffix_is_not_contained_by",
        {"target": "AETERM", "comparator": ["c", "b"], "suffix": 1},
        [0, 1, 2],
    ),
    ("starts_with", {"target": "AETERM", "comparator": "a"}, [0, 4]),
    ("ends_with", {"target": "AETERM", "comparator": "c"}, [4]),
    ("maps_to_many", {"target": "AEGRPID", "comparator": "AEDECOD"}, []),
    ("is_not_unique_relationship", {"target": "AETERM", "comparator": "AEDECOD"}, [0, 1]),
    ("maps_to_many", {"target": "AEDECOD", "comparator": "AETERM"}, [0, 1]),
    ("not_exists", {"target": "AEXX"}, [0, 1, 2, 3, 4]),
    ("equal_to", {"target": "AESEQ", "comparator": "1", "value_is_literal": True}, [0]),
]
#: Operators that look into another dataset of the run: AE against DM and DS.
CROSS_OPERATOR_CASES = [
    ("not_in_dataset", {"target": "USUBJID", "comparator": "DM"}, [3]),
    ("has_records_in", {"target": "USUBJID", "comparator": "DM"}, [0, 1]),
    ("has_no_records_in", {"target": "USUBJID", "comparator": "DM"}, [3]),
    ("date_after_latest", {"target": "AESTDTC", "comparator": "DS.DSSTDTC"}, [0]),
    ("not_in_dataset x", {"target": "USUBJID", "comparator": "XX"}, []),
]


def test_every_operator_has_cases() -> None:
    named = {case[0].split()[0] for case in (*OPERATOR_CASES, *CROSS_OPERATOR_CASES)}
    assert named == set(C.OPERATORS)


@pytest.mark.parametrize(
    ("op", "value", "rows"), OPERATOR_CASES, ids=[c[0] for c in OPERATOR_CASES]
)
def test_operator_holds_on_exactly_these_records(op: str, value: dict, rows: list[int]) -> None:
    mask = C.OPERATORS[op.split()[0]](C._Data(OPERAND, "AE"), value)
    assert np.flatnonzero(mask).tolist() == rows


@pytest.mark.parametrize(
    ("op", "value", "rows"), CROSS_OPERATOR_CASES, ids=[c[0] for c in CROSS_OPERATOR_CASES]
)
def test_cross_dataset_operator_holds_on_exactly_these_records(
    op: str, value: dict, rows: list[int]
) -> None:
    frames = {
        "AE": pd.DataFrame(
            {
                "USUBJID": ["S-1", "S-2", "", "S-3"],
                "AESTDTC": ["2024-02-01", "2024-01-31", "2024-09-09", "2024-03"],
            }
        ),
        "DM": pd.DataFrame({"USUBJID": ["S-1", "S-2"]}),
        "DS": pd.DataFrame(
            {
                "USUBJID": ["S-1", "S-1", "S-2", "S-3"],
                "DSSTDTC": ["2024-01-31", "2024-01-15", "2024-01-31T10:00", "2024-05-01"],
            }
        ),
    }
    ctx = Context(frames, study_from_ig(frames), "submission")
    mask = C.OPERATORS[op.split()[0]](C._Data(ctx.datasets["AE"], "AE", ctx), value)
    assert np.flatnonzero(mask).tolist() == rows


def test_a_whitespace_value_is_blank_for_equality_and_lists() -> None:
    data = C._Data(pd.DataFrame({"AETERM": [" ", "a"]}), "AE")
    literal = {"target": "AETERM", "comparator": " ", "value_is_literal": True}
    assert C.OPERATORS["equal_to"](data, literal).tolist() == [False, False]
    assert C.OPERATORS["not_equal_to"](data, literal).tolist() == [True, True]
    listed = {"target": "AETERM", "comparator": [" ", "a"]}
    assert C.OPERATORS["is_contained_by"](data, listed).tolist() == [False, True]
