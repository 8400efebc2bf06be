"""A positive and a negative case for each rule issue 4 added to the catalogue: variable order,
dataset name / label, sort order, units, --BLFL, RF dates against EX, participation dates and
ADSL Required templates."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from cdisc_umsc.metadata.model import Study
from cdisc_umsc.validate import Findings, catalogue, checks, validate_study
from cdisc_umsc.validate.igmeta import dataset_from_ig

SUBJ = ["S1-001", "S1-002"]


def run(
    frames: dict[str, pd.DataFrame],
    labels: dict[str, str] | None = None,
    keys: dict[str, tuple[str, ...]] | None = None,
    order: dict[str, list[str]] | None = None,
) -> Findings:
    """Validate `frames` with IG metadata; optional dataset labels, keys and variable order."""
    metas = {}
    for name, frame in frames.items():
        meta = dataset_from_ig(name, frame)
        if order and name in order:
            rank = {v: i for i, v in enumerate(order[name], start=1)}
            meta = dataclasses.replace(
                meta,
                variables=tuple(dataclasses.replace(v, order=rank[v.name]) for v in meta.variables),
            )
        metas[name] = dataclasses.replace(
            meta, label=(labels or {}).get(name, ""), keys=(keys or {}).get(name, ())
        )
    return validate_study(frames, Study("S1", "SDTMIG", "3.4", "2025-03-28", datasets=metas))


def hits(found: Findings, rule: str) -> list[tuple]:
    """(dataset, row, variable, value) of one rule's findings."""
    f = found.of(rule)
    rows = [None if pd.isna(r) else int(r) for r in f["row"]]
    return list(zip(f["dataset"], rows, f["variable"], f["value"], strict=True))


def message(found: Findings, rule: str) -> str:
    return str(found.of(rule)["message"].iloc[0])


def dm(**changes: object) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "STUDYID": "S1",
            "DOMAIN": "DM",
            "USUBJID": SUBJ,
            "SUBJID": ["001", "002"],
            "RFSTDTC": ["2024-01-10", "2024-01-15"],
            "RFENDTC": ["2024-03-01", "2024-03-05"],
            "RFXSTDTC": ["2024-01-10T09:00", "2024-01-15"],
            "RFXENDTC": ["2024-02-28T10:00", "2024-03-04"],
            "RFICDTC": ["2024-01-02", "2024-01-03"],
            "RFPENDTC": ["2024-03-01", "2024-03-05"],
            "AGE": [40.0, 55.0],
            "SEX": ["F", "M"],
        }
    )
    return frame.assign(**changes)


def ex() -> pd.DataFrame:
    """Subject 1: two doses with times; subject 2: the last dose has no end date."""
    return pd.DataFrame(
        {
            "STUDYID": "S1",
            "DOMAIN": "EX",
            "USUBJID": ["S1-001", "S1-001", "S1-002", "S1-002"],
            "EXSEQ": [1.0, 2.0, 1.0, 2.0],
            "EXTRT": "DRUG A",
            "EXSTDTC": ["2024-02-28T09:00", "2024-01-10T09:00", "2024-01-15", "2024-03-04"],
            "EXENDTC": ["2024-02-28T10:00", "2024-01-10T10:00", "2024-01-16", ""],
        }
    )


def lb(**changes: object) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "STUDYID": "S1",
            "DOMAIN": "LB",
            "USUBJID": ["S1-001", "S1-001", "S1-002", "S1-002"],
            "LBSEQ": [1.0, 2.0, 1.0, 2.0],
            "LBTESTCD": "GLUC",
            "LBCAT": "CHEMISTRY",
            "LBSTRESC": ["5.5", "6", "", "4.75"],
            "LBSTRESN": [5.5, 6.0, np.nan, 4.75],
            "LBSTRESU": ["mmol/L", "mmol/L", "", "mmol/L"],
            "LBBLFL": ["Y", "", "", "Y"],
            "VISITNUM": [1.0, 2.0, 1.0, 2.0],
            "LBDTC": ["2024-01-09", "2024-01-24", "2024-01-14", "2024-01-29"],
        }
    )
    return frame.assign(**changes)


# --------------------------------------------------------------------------- catalogue rows


@pytest.mark.parametrize(
    ("rule", "severity", "core", "p21"),
    [
        ("UMSC-SD0011", "warning", "", "SD1079"),
        ("UMSC-SD0012", "warning", "CORE-000598", "SD0004;SD1095"),
        ("UMSC-SD0013", "warning", "", ""),
        ("UMSC-SD0014", "warning", "", ""),
        ("UMSC-FN0004", "warning", "", "SD0029"),
        ("UMSC-FN0005", "error", "CORE-000914", ""),
        ("UMSC-XD0007", "error", "CORE-000239", ""),
        ("UMSC-XD0008", "error", "CORE-000238", ""),
        ("UMSC-XD0009", "warning", "", ""),
        ("UMSC-XD0010", "warning", "CORE-000720", ""),
        ("UMSC-AD0008", "error", "", ""),
    ],
)
def test_new_rules_are_catalogued_with_citations(rule, severity, core, p21) -> None:
    r = catalogue.rule(rule)
    assert (r.severity, r.core_id, r.p21_id) == (severity, core, p21)
    assert r.citation.startswith(("SDTMIG 3.4", "ADaMIG 1.3", "Define-XML 2.1")) and r.message
    assert rule in checks.checks()


# --------------------------------------------------------------------------- variable order


def test_variable_order_names_the_variable_to_move() -> None:
    frame = dm()[["DOMAIN", "USUBJID", "SUBJID", "AGE", "SEX", "STUDYID"]]
    assert hits(run({"DM": frame}), "UMSC-SD0011") == [("DM", None, "STUDYID", "6")]
    front = dm()[["SEX", "STUDYID", "DOMAIN", "USUBJID", "SUBJID", "AGE"]]
    found = run({"DM": front})
    assert hits(found, "UMSC-SD0011") == [("DM", None, "SEX", "1")]
    assert "DM.SEX is out of IG order: it precedes STUDYID" in message(found, "UMSC-SD0011")


def test_variable_order_follows_metadata_and_ignores_sponsor_variables() -> None:
    frame = dm()[["STUDYID", "DOMAIN", "USUBJID", "SUBJID", "AGE", "SEX"]].assign(ZZSCORE=1.0)
    assert hits(run({"DM": frame}), "UMSC-SD0011") == []
    # columns scrambled in the frame, but the metadata declares the IG order
    scrambled = frame[["SEX", "ZZSCORE", "AGE", "STUDYID", "SUBJID", "DOMAIN", "USUBJID"]]
    assert hits(run({"DM": scrambled}, order={"DM": list(frame.columns)}), "UMSC-SD0011") == []


# --------------------------------------------------------------------------- name and label


def test_dataset_name_against_the_ig() -> None:
    found = run(
        {
            "DM": dm(),
            "XQ": dm(DOMAIN="XQ"),
            "SUPPZZ": pd.DataFrame({"USUBJID": SUBJ}),
            "LB": lb(DOMAIN=["LB", "LX", "LX", "LB"]),
        }
    )
    assert hits(found, "UMSC-SD0012") == [
        ("LB", 2, "DOMAIN", "LX"),
        ("SUPPZZ", None, "", "SUPPZZ"),
        ("XQ", None, "", "XQ"),
    ]
    assert "expected 'LB'" in found.of("UMSC-SD0012")["message"].iloc[0]


def test_dataset_name_accepts_domains_splits_and_supp() -> None:
    supp = pd.DataFrame({"STUDYID": "S1", "RDOMAIN": "DM", "USUBJID": SUBJ})
    found = run({"DM": dm(), "LBCH": lb(), "SUPPDM": supp})
    assert hits(found, "UMSC-SD0012") == []


def test_dataset_label_against_the_ig() -> None:
    supp = pd.DataFrame({"STUDYID": "S1", "RDOMAIN": "DM", "USUBJID": SUBJ})
    found = run(
        {"DM": dm(), "SUPPDM": supp, "LB": lb()},
        labels={
            "DM": "Demographic",
            "SUPPDM": "Supplemental Qualifiers for Demographics",
            "LB": "Laboratory Test Results",
        },
    )
    assert hits(found, "UMSC-SD0013") == [
        ("DM", None, "", "Demographic"),
        ("SUPPDM", None, "", "Supplemental Qualifiers for Demographics"),
    ]
    assert "'Supplemental Qualifiers for DM'" in found.of("UMSC-SD0013")["message"].iloc[1]


def test_dataset_label_matching_or_absent_is_quiet() -> None:
    supp = pd.DataFrame({"STUDYID": "S1", "RDOMAIN": "DM", "USUBJID": SUBJ})
    found = run(
        {"DM": dm(), "SUPPDM": supp, "LB": lb()},
        labels={"DM": "Demographics", "SUPPDM": "Supplemental Qualifiers for DM"},
    )
    assert hits(found, "UMSC-SD0013") == []


# --------------------------------------------------------------------------- sort order


KEYS = {"LB": ("STUDYID", "USUBJID", "LBTESTCD", "VISITNUM")}


def test_sort_order_names_the_first_out_of_order_record() -> None:
    frame = lb().iloc[[0, 1, 3, 2]].reset_index(drop=True)  # subject 2: visit 2 before 1
    found = run({"LB": frame}, keys=KEYS)
    assert hits(found, "UMSC-SD0014") == [("LB", 4, "VISITNUM", "1")]
    assert (
        "record 4 (STUDYID=S1, USUBJID=S1-002, LBTESTCD=GLUC, VISITNUM=1) sorts before "
        "record 3" in message(found, "UMSC-SD0014")
    )


def test_sort_order_numbers_numerically_and_missing_first() -> None:
    frame = lb(VISITNUM=[np.nan, 2.0, 9.0, 10.0])  # as text, "10" would sort before "9"
    assert hits(run({"LB": frame}, keys=KEYS), "UMSC-SD0014") == []
    assert hits(run({"LB": lb()}, keys=KEYS), "UMSC-SD0014") == []


# --------------------------------------------------------------------------- units


def test_numeric_result_without_unit_is_reported() -> None:
    frame = lb(LBSTRESU=["mmol/L", "", "", "mmol/L"])
    found = run({"LB": frame})
    assert hits(found, "UMSC-FN0004") == [("LB", 2, "LBSTRESU", "")]
    assert "LBSTRESN is 6 and other LBTESTCD 'GLUC' records have units" in message(
        found, "UMSC-FN0004"
    )


def test_scores_and_ratios_need_no_unit() -> None:
    unitless = lb(LBTESTCD="ALBCREAT", LBSTRESU="")  # never recorded with a unit
    ratio = lb(LBTESTCD="ALBCREAT", LBSTRESU=["RATIO", "", "", "ratio"])
    assert hits(run({"LB": unitless}), "UMSC-FN0004") == []
    assert hits(run({"LB": ratio}), "UMSC-FN0004") == []
    assert hits(run({"LB": lb()}), "UMSC-FN0004") == []  # the null result has no unit: fine


# --------------------------------------------------------------------------- baseline flag


def test_two_baseline_flags_per_subject_and_test() -> None:
    found = run({"LB": lb(LBBLFL=["Y", "Y", "", "Y"])})
    assert hits(found, "UMSC-FN0005") == [("LB", 1, "LBBLFL", "Y"), ("LB", 2, "LBBLFL", "Y")]


def test_one_baseline_flag_per_test_is_quiet() -> None:
    other_test = lb(LBBLFL=["Y", "Y", "", "Y"], LBTESTCD=["GLUC", "ALT", "GLUC", "GLUC"])
    assert hits(run({"LB": other_test}), "UMSC-FN0005") == []
    assert hits(run({"LB": lb()}), "UMSC-FN0005") == []


# --------------------------------------------------------------------------- RF dates vs EX


def test_rf_exposure_dates_match_ex() -> None:
    found = run({"DM": dm(), "EX": ex()})
    assert hits(found, "UMSC-XD0007") == [] and hits(found, "UMSC-XD0008") == []
    # the last dose has no end date: its start, or the latest end of the others, will do
    # (CORE-000238 reads it the same way)
    latest_end = run({"DM": dm(RFXENDTC=["2024-02-28T10:00", "2024-01-16"]), "EX": ex()})
    assert hits(latest_end, "UMSC-XD0008") == []


def test_rf_exposure_dates_that_differ_from_ex() -> None:
    frame = dm(RFXSTDTC=["2024-01-10", "2024-01-15"], RFXENDTC=["2024-02-28T10:00", "2024-03-05"])
    found = run({"DM": frame, "EX": ex()})
    assert hits(found, "UMSC-XD0007") == [("DM", 1, "RFXSTDTC", "2024-01-10")]
    assert "RFXSTDTC '2024-01-10' but the earliest EXSTDTC is '2024-01-10T09:00'" in message(
        found, "UMSC-XD0007"
    )
    assert hits(found, "UMSC-XD0008") == [("DM", 2, "RFXENDTC", "2024-03-05")]
    assert "the latest EXENDTC is '2024-01-16', the latest EXSTDTC is '2024-03-04'" in message(
        found, "UMSC-XD0008"
    )
    no_ex = run({"DM": dm(), "EX": ex().iloc[:2]})  # subject 2 has no exposure record
    assert hits(no_ex, "UMSC-XD0007") == [("DM", 2, "RFXSTDTC", "2024-01-15")]


# --------------------------------------------------------------------------- participation


def _ae(starts: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "STUDYID": "S1",
            "DOMAIN": "AE",
            "USUBJID": SUBJ,
            "AESEQ": 1.0,
            "AETERM": "Headache",
            "AEDECOD": "Headache",
            "AESTDTC": starts,
        }
    )


def test_dates_outside_participation() -> None:
    found = run(
        {
            "DM": dm(),
            "AE": _ae(["2024-01-01T08:00", "2024-01-20"]),
            "LB": lb(LBDTC=["2024-01-09", "2024-03-02", "2024-01-14", "2024-03-05"]),
        }
    )
    assert hits(found, "UMSC-XD0009") == [("AE", 1, "AESTDTC", "2024-01-01T08:00")]
    assert "is before DM.RFICDTC '2024-01-02'" in message(found, "UMSC-XD0009")
    assert hits(found, "UMSC-XD0010") == [("LB", 2, "LBDTC", "2024-03-02")]
    assert "is after DM.RFPENDTC '2024-03-01'" in message(found, "UMSC-XD0010")


def test_partial_dates_and_other_classes_are_not_compared() -> None:
    cm = pd.DataFrame(
        {
            "STUDYID": "S1",
            "DOMAIN": "CM",
            "USUBJID": SUBJ,
            "CMSEQ": 1.0,
            "CMTRT": "ASPIRIN",
            "CMSTDTC": ["2020-01-01", "2020-02-01"],
        }
    )
    found = run(
        {
            "DM": dm(),
            "AE": _ae(["2024-01", "2024-01-20"]),
            "CM": cm,
            "LB": lb(LBDTC=["2024-01-09", "2024-03", "2024-01-14", "2024-03-05"]),
        }
    )
    assert hits(found, "UMSC-XD0009") == [] and hits(found, "UMSC-XD0010") == []


# --------------------------------------------------------------------------- ADSL templates


def _adsl(**changes: object) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "STUDYID": "S1",
            "USUBJID": SUBJ,
            "SUBJID": ["001", "002"],
            "SITEID": "01",
            "AGE": [40.0, 55.0],
            "AGEU": "YEARS",
            "SEX": ["F", "M"],
            "RACE": "WHITE",
            "ARM": "Drug A",
            "TRT01P": "Drug A",
        }
    ).assign(**changes)


def test_adsl_without_a_planned_treatment_variable() -> None:
    found = run({"ADSL": _adsl().drop(columns=["TRT01P"]).assign(TRT01A="Drug A")})
    assert hits(found, "UMSC-AD0008") == [("ADSL", None, "TRTxxP", "")]
    assert "e.g. TRT01P" in message(found, "UMSC-AD0008")


def test_adsl_template_satisfied_by_any_period() -> None:
    assert hits(run({"ADSL": _adsl()}), "UMSC-AD0008") == []
    assert hits(run({"ADSL": _adsl().rename(columns={"TRT01P": "TRT02P"})}), "UMSC-AD0008") == []
