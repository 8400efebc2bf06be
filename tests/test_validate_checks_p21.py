"""The study-level P21 checks (validate/checks_p21.py): Trial Summary parameters (required,
conditional, single, formats, null values), the datasets a submission holds, and treated
subjects without a baseline result."""

from __future__ import annotations

import pandas as pd
from validate_support import hits

from cdisc_umsc.validate.checks_p21 import CONDITIONAL_TS, REQUIRED_TS
from cdisc_umsc.validate.igmeta import study_from_ig


def ts(pairs: list[tuple[str, str]], **extra: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "STUDYID": "S",
            "DOMAIN": "TS",
            "TSSEQ": [1.0] * len(pairs),
            "TSPARMCD": [p for p, _ in pairs],
            "TSVAL": [v for _, v in pairs],
            **extra,
        }
    )


def complete_ts() -> list[tuple[str, str]]:
    """Every required parameter once, with values that need no conditional parameter."""
    values = {"ADDON": "N", "HLTSUBJI": "Y", "STYPE": "INTERVENTIONAL", "INTTYPE": "DRUG"}
    values |= {"AGEMAX": "P65Y", "AGEMIN": "P18Y", "LENGTH": "P2M", "PLANSUB": "40"}
    values |= {"NARMS": "2", "ACTSUB": "38", "DCUTDTC": "2024-05-01", "SSTDTC": "2023-01"}
    values |= {"SENDTC": "2024"}
    return [(code, values.get(code, "X")) for code in REQUIRED_TS] + [("REGID", "NCT0")]


def messages(found: list[tuple]) -> list[str]:
    return [h[4] for h in found]


# ----------------------------------------------------------------------- Trial Summary


def test_complete_ts_has_no_findings() -> None:
    data = {"TS": ts(complete_ts())}
    for rid in ("UMSC-TS0001", "UMSC-TS0002", "UMSC-TS0003", "UMSC-TS0004", "UMSC-TS0005"):
        assert hits(rid, data) == [], rid


def test_missing_required_parameter_names_its_p21_rule() -> None:
    pairs = [p for p in complete_ts() if p[0] not in ("TITLE", "REGID")]
    data = {"TS": ts(pairs)}
    assert hits("UMSC-TS0001", data) == [
        ("TS", -1, "TSPARMCD", "TITLE", "no TS record with TSPARMCD 'TITLE' (SD2213)")
    ]
    assert hits("UMSC-TS0002", data) == [
        ("TS", -1, "TSPARMCD", "REGID", "no TS record with TSPARMCD 'REGID'")
    ]


def test_conditional_parameters_follow_their_condition() -> None:
    assert CONDITIONAL_TS["CURTRT"] == ("ADDON", {"Y"})
    pairs = [p for p in complete_ts() if p[0] != "CURTRT"]
    assert hits("UMSC-TS0001", {"TS": ts(pairs)}) == []  # ADDON 'N'
    addon = [(c, "Y" if c == "ADDON" else v) for c, v in pairs]
    assert hits("UMSC-TS0001", {"TS": ts(addon)}) == [
        ("TS", -1, "TSPARMCD", "CURTRT", "no TS record with TSPARMCD 'CURTRT' (SD2216)")
    ]
    lower = [(c, " y " if c == "ADDON" else v) for c, v in pairs]  # trimmed, any case
    assert [h[3] for h in hits("UMSC-TS0001", {"TS": ts(lower)})] == ["CURTRT"]
    observational = [
        (c, "OBSERVATIONAL" if c == "STYPE" else v)
        for c, v in complete_ts()
        if c not in ("INDIC", "TRT", "INTTYPE", "PCLAS")
    ]
    assert hits("UMSC-TS0001", {"TS": ts(observational)}) == []


def test_older_ig_expects_rather_than_requires() -> None:
    data = {"TS": ts([p for p in complete_ts() if p[0] != "TITLE"])}
    old = study_from_ig(data, ig_version="3.1.2")
    assert hits("UMSC-TS0001", data, study=old) == []
    assert hits("UMSC-TS0006", data, study=old) == [
        ("TS", -1, "TSPARMCD", "TITLE", "no TS record with TSPARMCD 'TITLE' (SD2213)")
    ]
    assert hits("UMSC-TS0006", data) == []


def test_single_valued_parameter_twice_fires_on_every_record() -> None:
    pairs = complete_ts() + [("AGEMIN", "P12Y"), ("TITLE", "Second title")]
    data = {"TS": ts(pairs)}
    first = [c for c, _ in pairs].index("AGEMIN")
    assert hits("UMSC-TS0003", data) == [
        ("TS", first, "TSPARMCD", "AGEMIN", "2 records (SD1218)"),
        ("TS", len(pairs) - 2, "TSPARMCD", "AGEMIN", "2 records (SD1218)"),
    ]


def test_tsval_formats() -> None:
    data = {
        "TS": ts(
            [
                ("AGEMIN", "18 years"),
                ("AGEMAX", "P"),
                ("LENGTH", "P1.5W"),
                ("PLANSUB", "40.0"),
                ("DCUTDTC", "2024-5-1"),
                ("NARMS", ""),
                ("SSTDTC", "2024-05-01"),
            ],
            TSVALNF=["", "", "", "", "", "NA", ""],
        )
    }
    assert messages(hits("UMSC-TS0004", data)) == [
        "TSVAL of AGEMAX is not an ISO 8601 duration: 'P' (SD1215)",
        "TSVAL of AGEMIN is not an ISO 8601 duration: '18 years' (SD1217)",
        "TSVAL of PLANSUB is not a whole number: '40.0' (SD1221)",
        "TSVAL of DCUTDTC is not an ISO 8601 date: '2024-5-1' (SD2245)",
    ]


def test_tsval_null_needs_tsvalnf() -> None:
    data = {"TS": ts([("TITLE", ""), ("TPHASE", ""), ("SPONSOR", "X")], TSVALNF=["", "NA", ""])}
    assert hits("UMSC-TS0005", data) == [
        ("TS", 0, "TSVAL", "", "TSVAL and TSVALNF are both null for TSPARMCD 'TITLE'")
    ]
    without = {"TS": ts([("TITLE", "")])}
    assert [h[1] for h in hits("UMSC-TS0005", without)] == [0]


def test_no_ts_no_trial_summary_findings() -> None:
    data = {"DM": pd.DataFrame({"STUDYID": ["S"], "USUBJID": ["S-1"]})}
    for rid in ("UMSC-TS0001", "UMSC-TS0002", "UMSC-TS0003", "UMSC-TS0004", "UMSC-TS0005"):
        assert hits(rid, data) == []


# ----------------------------------------------------------------------- datasets


def test_required_and_expected_datasets_splits_count() -> None:
    data = {
        "DM": pd.DataFrame({"USUBJID": ["S-1"]}),
        "LBCH": pd.DataFrame({"USUBJID": ["S-1"]}),
        "MS": pd.DataFrame({"USUBJID": ["S-1"]}),
    }
    assert hits("UMSC-PR0001", data) == [("TS", -1, "", "TS", "the submission has no TS dataset")]
    assert [h[0] for h in hits("UMSC-PR0002", data)] == ["AE", "DS", "EX", "SE", "TA", "TE", "VS"]
    assert hits("UMSC-PR0003", data) == [("MS", -1, "", "MB", "MS is present but MB is not")]
    data["MB"] = pd.DataFrame({"USUBJID": ["S-1"]})
    assert hits("UMSC-PR0003", data) == []


def test_adam_only_folder_needs_no_sdtm_datasets() -> None:
    data = {"ADSL": pd.DataFrame({"USUBJID": ["S-1"]})}
    assert hits("UMSC-PR0001", data) == []
    assert hits("UMSC-PR0002", data) == []


# ----------------------------------------------------------------------- baseline


def baseline_frames() -> dict[str, pd.DataFrame]:
    dm = pd.DataFrame(
        {
            "USUBJID": ["S-1", "S-2", "S-3", "S-4", "S-5"],
            "ARMCD": ["A", "A", "SCRNFAIL", "A", ""],
            "ACTARMCD": ["A", "A", "SCRNFAIL", "NOTTRT", ""],
        }
    )
    vs = pd.DataFrame(
        {
            "USUBJID": ["S-1", "S-1", "S-2", "S-2", "S-3", "S-4", "S-5"],
            "VSBLFL": ["Y", "", "", "", "", "", ""],
        }
    )
    return {"DM": dm, "VS": vs}


def test_treated_subject_without_baseline_once_at_its_first_record() -> None:
    assert hits("UMSC-FN0006", baseline_frames(), "VS") == [
        ("VS", 2, "USUBJID", "S-2", "USUBJID 'S-2' has VS records but none with VSBLFL = 'Y'")
    ]


def test_baseline_is_judged_per_domain_over_its_splits() -> None:
    frames = baseline_frames()
    lb = frames["VS"].rename(columns={"VSBLFL": "LBBLFL"})
    frames = {
        "DM": frames["DM"],
        "LBCH": lb.iloc[:2].reset_index(drop=True),
        "LBHE": lb.iloc[2:].assign(LBBLFL=["", "Y", "", "", ""]).reset_index(drop=True),
    }
    assert hits("UMSC-FN0006", frames, "LBCH") == []
    assert hits("UMSC-FN0006", frames, "LBHE") == []  # judged once, on the first dataset
    frames["LBHE"] = frames["LBHE"].assign(LBBLFL="")
    assert hits("UMSC-FN0006", frames, "LBCH") == [
        ("LBHE", 0, "USUBJID", "S-2", "USUBJID 'S-2' has LB records but none with LBBLFL = 'Y'")
    ]


def test_baseline_rule_needs_the_flag_and_a_baseline_domain() -> None:
    frames = baseline_frames()
    frames["VS"] = frames["VS"].drop(columns="VSBLFL")
    assert hits("UMSC-FN0006", frames, "VS") == []
    frames = baseline_frames()
    frames["QS"] = frames.pop("VS").rename(columns={"VSBLFL": "QSBLFL"})
    assert hits("UMSC-FN0006", frames, "QS") == []
