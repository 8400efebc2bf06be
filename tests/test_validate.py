"""Tests for the validation engine (cdisc_umsc.validate): catalogue, findings, SDTM rules."""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cdisc_umsc.core.errors import InputError
from cdisc_umsc.metadata import standards as S
from cdisc_umsc.metadata.model import Codelist, Dataset, Study, Term
from cdisc_umsc.validate import (
    COLUMNS,
    Findings,
    ValidationError,
    catalogue,
    checks,
    validate_study,
)
from cdisc_umsc.validate.igmeta import dataset_from_ig

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
needs_shared = pytest.mark.skipif(not (SHARED / "reference").is_dir(), reason="../shared absent")

KEYS = {
    "DM": ("STUDYID", "USUBJID"),
    "AE": ("STUDYID", "USUBJID", "AEDECOD", "AESTDTC"),
    "LB": ("STUDYID", "USUBJID", "LBTESTCD", "VISITNUM"),
    "SV": ("STUDYID", "USUBJID", "VISITNUM"),
    "SUPPAE": ("STUDYID", "RDOMAIN", "USUBJID", "IDVAR", "IDVARVAL", "QNAM"),
}
SUBJ = ["S1-001", "S1-002"]


# --------------------------------------------------------------------------- a clean study


def _dm() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "STUDYID": "S1",
            "DOMAIN": "DM",
            "USUBJID": SUBJ,
            "SUBJID": ["001", "002"],
            "RFSTDTC": ["2024-01-10", "2024-01-15"],
            "RFENDTC": ["2024-03-01", "2024-03-05"],
            "RFXSTDTC": ["2024-01-10", "2024-01-15"],
            "RFXENDTC": ["2024-02-28", "2024-03-04"],
            "RFICDTC": ["2024-01-02", "2024-01-03"],
            "RFPENDTC": ["2024-03-01", "2024-03-05"],
            "DTHDTC": "",
            "DTHFL": "",
            "SITEID": "01",
            "AGE": [40.0, 55.0],
            "AGEU": "YEARS",
            "SEX": ["F", "M"],
            "RACE": "WHITE",
            "ARMCD": "A",
            "ARM": "Drug A",
            "ACTARMCD": "A",
            "ACTARM": "Drug A",
            "ARMNRS": "",
            "ACTARMUD": "",
            "COUNTRY": "USA",
        }
    )


def _ae() -> pd.DataFrame:
    # MedDRA terms and codes interleaved in SDTMIG 3.4 AE order
    coding = {}
    for term, code in (
        ("AETERM", None),
        ("AELLT", "AELLTCD"),
        ("AEDECOD", "AEPTCD"),
        ("AEHLT", "AEHLTCD"),
        ("AEHLGT", "AEHLGTCD"),
        ("AEBODSYS", "AEBDSYCD"),
        ("AESOC", "AESOCCD"),
    ):
        coding[term] = ["Headache", "Nausea", "Headache"]
        if code:
            coding[code] = [1.0, 2.0, 1.0]
    return pd.DataFrame(
        {
            "STUDYID": "S1",
            "DOMAIN": "AE",
            "USUBJID": ["S1-001", "S1-001", "S1-002"],
            "AESEQ": [1.0, 2.0, 1.0],
            **coding,
            "AESER": "N",
            "AEACN": "DOSE NOT CHANGED",
            "AEREL": "NOT RELATED",
            "AESTDTC": ["2024-01-12", "2024-01-09", "2024-01-15T08:30"],
            "AEENDTC": ["2024-01-14", "2024-01-10", "2024-01-15T09:00"],
            "AESTDY": [3.0, -1.0, 1.0],
            "AEENDY": [5.0, 1.0, 1.0],
        }
    )


def _lb() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "STUDYID": "S1",
            "DOMAIN": "LB",
            "USUBJID": ["S1-001", "S1-001", "S1-002", "S1-002"],
            "LBSEQ": [1.0, 2.0, 1.0, 2.0],
            "LBTESTCD": "GLUC",
            "LBTEST": "Glucose",
            "LBCAT": "CHEMISTRY",
            "LBORRES": ["5.5", "6", "", "4.75"],
            "LBORRESU": "mmol/L",
            "LBORNRLO": "3.9",
            "LBORNRHI": "5.6",
            "LBSTRESC": ["5.5", "6", "", "4.75"],
            "LBSTRESN": [5.5, 6.0, np.nan, 4.75],
            "LBSTRESU": "mmol/L",
            "LBSTNRLO": [3.9] * 4,
            "LBSTNRHI": [5.6] * 4,
            "LBNRIND": ["NORMAL", "HIGH", "", "NORMAL"],
            "LBSTAT": ["", "", "NOT DONE", ""],
            "LBLOBXFL": ["Y", "", "", "Y"],
            "VISITNUM": [1.0, 2.0, 1.0, 2.0],
            "VISIT": ["SCREENING", "WEEK 2"] * 2,
            "LBDTC": ["2024-01-09", "2024-01-24", "2024-01-14", "2024-01-29"],
            "LBDY": [-1.0, 15.0, -1.0, 15.0],
        }
    )


def _sv() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "STUDYID": "S1",
            "DOMAIN": "SV",
            "USUBJID": ["S1-001", "S1-001", "S1-002", "S1-002"],
            "VISITNUM": [1.0, 2.0, 1.0, 2.0],
            "VISIT": ["SCREENING", "WEEK 2"] * 2,
            "SVPRESP": "Y",
            "SVOCCUR": "Y",
            "SVSTDTC": ["2024-01-09", "2024-01-24", "2024-01-14", "2024-01-29"],
            "SVENDTC": ["2024-01-09", "2024-01-24", "2024-01-14", "2024-01-29"],
        }
    )


def _suppae() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "STUDYID": "S1",
            "RDOMAIN": "AE",
            "USUBJID": ["S1-001", "S1-002"],
            "IDVAR": "AESEQ",
            "IDVARVAL": ["2", "1"],
            "QNAM": "AETRTEM",
            "QLABEL": "Treatment Emergent Flag",
            "QVAL": "Y",
            "QORIG": "Derived",
            "QEVAL": "",
        }
    )


def clean() -> dict[str, pd.DataFrame]:
    """A small study that passes every rule."""
    return {"DM": _dm(), "AE": _ae(), "LB": _lb(), "SV": _sv(), "SUPPAE": _suppae()}


#: Sponsor choices where the IG offers a codelist the study does not use.
NO_CODELIST = {"LBSTRESC"}


def study_for(
    frames: dict[str, pd.DataFrame], codelists: dict[str, Codelist] | None = None, **changes: dict
) -> Study:
    """Metadata for `frames` from the bundled IG (labels, core, codelists) plus KEYS."""
    metas = {}
    for name, frame in frames.items():
        meta = dataset_from_ig(name, frame)
        variables = tuple(
            dataclasses.replace(v, codelist=None) if v.name in NO_CODELIST else v
            for v in meta.variables
        )
        metas[name] = dataclasses.replace(meta, keys=KEYS.get(name, ()), variables=variables)
    return Study("S1", "SDTMIG", "3.4", "2025-03-28", datasets=metas, codelists=codelists or {})


def with_var(meta: Dataset, name: str, **changes: object) -> Dataset:
    """`meta` with variable `name` changed."""
    return dataclasses.replace(
        meta,
        variables=tuple(
            dataclasses.replace(v, **changes) if v.name == name else v for v in meta.variables
        ),
    )


def run(frames: dict[str, pd.DataFrame], study: Study | None = None, **kw: object) -> Findings:
    return validate_study(frames, study or study_for(frames), **kw)


def hits(found: Findings, rule: str) -> list[tuple]:
    """(dataset, row, variable, value) of one rule's findings."""
    f = found.of(rule)
    rows = [None if pd.isna(r) else int(r) for r in f["row"]]
    return list(zip(f["dataset"], rows, f["variable"], f["value"], strict=True))


@pytest.fixture(scope="module")
def baseline() -> Findings:
    return run(clean())


#: What the small study lacks to be a submission, found by the CORE / P21 rules: no EPOCH,
#: no TS, DS, EX, SE, TA, TE, VS, no --STDY / --ENDY in SV, and LB row 3 ('NOT DONE') keeps
#: its units and has no --REASND.
SUBMISSION_GAPS = {
    ("UMSC-CR000701", "AE"): 3,
    ("UMSC-CR000701", "LB"): 4,
    ("UMSC-CR000133", "LB"): 1,
    ("UMSC-CR000774", "LB"): 1,
    ("UMSC-PSD0027", "LB"): 1,
    ("UMSC-PSD0030", "LB"): 1,
    ("UMSC-CR000328", "SV"): 1,
    ("UMSC-CR000776", "SV"): 1,
    ("UMSC-PR0001", "TS"): 1,
    **{("UMSC-PR0002", d): 1 for d in ("DS", "EX", "SE", "TA", "TE", "VS")},
}


def test_clean_study_has_no_findings(baseline: Findings) -> None:
    f = baseline.frame
    assert f.groupby(["rule", "dataset"]).size().to_dict() == SUBMISSION_GAPS
    assert set(f["severity"]) == {"warning", "error"}
    assert f.loc[f["severity"] == "error", "rule"].tolist() == ["UMSC-PR0001"]


def gaps_removed(found: Findings) -> Findings:
    """``found`` without the findings of SUBMISSION_GAPS (what the small study lacks)."""
    f = found.frame
    keep = ~pd.Series(list(zip(f["rule"], f["dataset"], strict=True))).isin(SUBMISSION_GAPS)
    return Findings(f[keep.to_numpy()])


# --------------------------------------------------------------------------- catalogue


def test_catalogue_and_registry_agree() -> None:
    ids = [r.id for r in catalogue.rules()]
    assert len(ids) == len(set(ids)) >= 40
    assert set(checks.checks()) == set(ids)
    assert all(r.citation and r.message for r in catalogue.rules())


@needs_shared
def test_catalogue_cites_real_core_and_p21_ids() -> None:
    core_file = SHARED / "tools/core/core-rules-sdtmig-3.4.csv"
    p21_file = SHARED / "reference/p21/p21-community-2.2.0-sdtmig-3.2-rules.csv"
    core = {r["core_id"] for r in csv.DictReader(core_file.open(encoding="utf-8"))}
    # CORE rules for SDTMIG 3.2 / 3.3 only are bundled too (and are not in the 3.4 list)
    core |= {r["core_id"] for r in S.core_rules() if "3.4" not in r["versions"]}
    p21 = {r["Pinnacle 21 ID"] for r in csv.DictReader(p21_file.open(encoding="utf-8"))}
    for r in catalogue.rules():
        assert {c for c in r.core_id.split(";") if c} <= core, r.id
        assert {p for p in r.p21_id.split(";") if p} <= p21, r.id


def test_unknown_profile_is_refused() -> None:
    with pytest.raises(InputError, match="unknown validation profile 'strict'"):
        run(clean(), profile="strict")


def test_development_profile_downgrades_expected_variables() -> None:
    frames = clean()
    frames["DM"] = frames["DM"].drop(columns=["RACE"])
    study = study_for(frames)
    sub, dev = run(frames, study), run(frames, study, profile="development")
    assert hits(sub, "UMSC-SD0003") == [("DM", None, "RACE", "")]
    assert set(sub.of("UMSC-SD0003")["severity"]) == {"warning"}
    assert set(dev.of("UMSC-SD0003")["severity"]) == {"notice"}


# --------------------------------------------------------------------------- findings object


def test_findings_columns_writers_and_summary(tmp_path: Path) -> None:
    frames = clean()
    frames["DM"].loc[1, "SEX"] = "MALE"
    frames["DM"] = frames["DM"].drop(columns=["RACE"])
    found = run(frames)
    assert list(found.frame.columns) == list(COLUMNS)
    row = found.of("UMSC-CT0001").iloc[0]
    assert (row["dataset"], row["usubjid"], row["row"], row["variable"], row["value"]) == (
        "DM",
        "S1-002",
        2,
        "SEX",
        "MALE",
    )
    assert (row["p21_id"], row["citation"], row["severity"]) == (
        "CT2001",
        "SDTMIG 3.4 4.3; CDISC CT",
        "error",
    )
    counts = found.counts()
    assert list(counts.columns) == ["rule", "severity", "count"]
    assert counts.set_index("rule").loc["UMSC-CT0001", "count"] == 1
    assert found.summary().splitlines()[0].startswith(f"{len(found)} findings: ")
    found.to_csv(tmp_path / "a.csv")
    found.to_json(tmp_path / "a.json")
    run(frames).to_json(tmp_path / "b.json")
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    doc = json.loads((tmp_path / "a.json").read_text(encoding="utf-8"))
    assert len(doc["findings"]) == len(found)
    assert {"rule": "UMSC-SD0003", "severity": "warning", "count": 1} in doc["summary"]
    back = pd.read_csv(tmp_path / "a.csv", dtype=str, keep_default_na=False)
    assert list(back.columns) == list(COLUMNS) and len(back) == len(found)
    assert not list(tmp_path.glob(".*.tmp"))


def test_empty_findings_summary() -> None:
    empty = Findings()
    assert len(empty) == 0 and empty.counts().empty
    assert empty.summary() == "0 findings: 0 errors, 0 warnings, 0 notices"


# --------------------------------------------------------------------------- metadata agreement


def test_dataset_without_metadata() -> None:
    frames = clean()
    study = study_for(frames)
    study.datasets.pop("SV")
    assert hits(run(frames, study), "UMSC-MD0001") == [("SV", None, "", "SV")]


def test_data_and_metadata_variables_agree() -> None:
    frames = clean()
    study = study_for(frames)
    frames["AE"]["AEXTRA"] = "x"
    frames["DM"] = frames["DM"].drop(columns=["ARMNRS"])
    found = run(frames, study)
    assert hits(found, "UMSC-MD0002") == [("AE", None, "AEXTRA", "")]
    assert hits(found, "UMSC-MD0003") == [("DM", None, "ARMNRS", "")]


def test_column_dtype_against_metadata() -> None:
    frames = clean()
    study = study_for(frames)
    frames["DM"]["AGE"] = ["40", "55"]
    assert hits(run(frames, study), "UMSC-MD0004") == [("DM", None, "AGE", "str")]


# --------------------------------------------------------------------------- IG core / type / label


def test_required_variable_missing_and_null() -> None:
    frames = clean()
    frames["AE"] = frames["AE"].drop(columns=["AEDECOD"])
    frames["DM"].loc[0, "SUBJID"] = ""
    found = run(frames)
    assert hits(found, "UMSC-SD0001") == [("AE", None, "AEDECOD", "")]
    assert hits(found, "UMSC-SD0002") == [("DM", 1, "SUBJID", "")]


def test_variable_not_allowed_by_ig_or_model() -> None:
    frames = clean()
    frames["AE"]["AETRTEM"] = "Y"  # in SUPPAE by SDTMIG 3.4; not in the Events model
    frames["AE"]["AEGRPID"] = ""  # a General Observations identifier: allowed
    frames["LB"]["LBFAST"] = "Y"  # an IG LB permissible variable
    assert hits(run(frames), "UMSC-SD0004") == [("AE", None, "AETRTEM", "")]


def test_type_and_label_against_ig() -> None:
    frames = clean()
    study = study_for(frames)
    dm = with_var(study.datasets["DM"], "AGE", type="Char")
    dm = with_var(dm, "SEX", label="Gender")
    study.datasets["DM"] = dm
    found = run(frames, study)
    assert hits(found, "UMSC-SD0005") == [("DM", None, "AGE", "Char")]
    assert hits(found, "UMSC-SD0006") == [("DM", None, "SEX", "Gender")]


def test_char_values_at_most_200_bytes_and_declared_length() -> None:
    frames = clean()
    study = study_for(frames)
    study.datasets["AE"] = with_var(study.datasets["AE"], "AEREL", length=11)
    frames["AE"].loc[1, "AETERM"] = "é" * 101  # 202 bytes in UTF-8
    frames["AE"].loc[2, "AEREL"] = "NOT RELATED!"  # 12 bytes > 11 declared
    found = run(frames, study)
    assert [h[:3] for h in hits(found, "UMSC-SD0007")] == [("AE", 2, "AETERM")]
    assert "202 bytes" in found.of("UMSC-SD0007")["message"].iloc[0]
    assert hits(found, "UMSC-SD0008") == [("AE", 3, "AEREL", "NOT RELATED!")]


def test_seq_unique_within_subject() -> None:
    frames = clean()
    frames["AE"].loc[1, "AESEQ"] = 1.0
    found = run(frames)
    assert hits(found, "UMSC-SD0009") == [("AE", 1, "AESEQ", "1"), ("AE", 2, "AESEQ", "1")]
    assert list(found.of("UMSC-SD0009")["seq"]) == [1.0, 1.0]


def test_keys_unique_and_present() -> None:
    frames = clean()
    frames["LB"].loc[1, "VISITNUM"] = 1.0
    frames["LB"].loc[1, "VISIT"] = "SCREENING"
    frames["LB"].loc[1, "LBDY"] = 15.0
    found = run(frames)
    assert [h[:2] for h in hits(found, "UMSC-SD0010")] == [("LB", 1), ("LB", 2)]
    study = study_for(clean())
    study.datasets["SV"] = dataclasses.replace(study.datasets["SV"], keys=("USUBJID", "SVX"))
    assert hits(run(clean(), study), "UMSC-SD0010") == [("SV", None, "SVX", "")]


# --------------------------------------------------------------------------- CT


def test_non_extensible_codelist() -> None:
    frames = clean()
    frames["AE"].loc[0, "AESER"] = "Yes"
    assert hits(run(frames), "UMSC-CT0001") == [("AE", 1, "AESER", "Yes")]


def test_extensible_codelist_lists_each_new_term_once() -> None:
    frames = clean()
    frames["LB"]["LBORRESU"] = ["mmol/L", "mmol per litre", "mmol per litre", "mg%"]
    found = run(frames)
    assert hits(found, "UMSC-CT0002") == [
        ("LB", 2, "LBORRESU", "mmol per litre"),
        ("LB", 4, "LBORRESU", "mg%"),
    ]
    assert "on 2 record(s)" in found.of("UMSC-CT0002")["message"].iloc[0]
    assert set(found.of("UMSC-CT0002")["severity"]) == {"warning"}


def test_sponsor_codelist_and_study_extension() -> None:
    frames = clean()
    frames["AE"]["AEREL"] = ["NOT RELATED", "RELATED", "MAYBE"]
    frames["LB"]["LBORRESU"] = "mmol per litre"
    ct = {
        "REL": Codelist(
            "REL", "Causality", False, (Term("NOT RELATED"), Term("RELATED")), sponsor=True
        ),
        "C71620": Codelist(
            "C71620",
            "UNIT",
            True,
            (Term("mmol/L"), Term("mmol per litre", extended=True)),
            nci_code="C71620",
        ),
    }
    study = study_for(frames, codelists=ct)
    study.datasets["AE"] = with_var(study.datasets["AE"], "AEREL", codelist="REL")
    found = run(frames, study)
    assert hits(found, "UMSC-CT0003") == [("AE", 3, "AEREL", "MAYBE")]
    # the study's copy extends C71620; the term is still new to CDISC CT and reported once, as
    # with metadata that names C71620 itself (one answer with or without the define)
    assert hits(found, "UMSC-CT0002") == [("LB", 1, "LBORRESU", "mmol per litre")]
    assert hits(run(frames, study_for(frames)), "UMSC-CT0002") == hits(found, "UMSC-CT0002")


def test_undefined_codelist_and_unbundled_ct_version() -> None:
    frames = clean()
    study = study_for(frames)
    study.datasets["AE"] = with_var(study.datasets["AE"], "AEREL", codelist="CL.NOPE")
    study = dataclasses.replace(study, ct_version="2019-12-20")
    found = run(frames, study)
    assert hits(found, "UMSC-CT0004") == [("AE", None, "AEREL", "CL.NOPE")]
    assert hits(found, "UMSC-CT0005") == [("", None, "", "2019-12-20")]
    assert hits(run(clean()), "UMSC-CT0005") == []


def test_unbundled_ig_version_is_a_notice() -> None:
    study = dataclasses.replace(study_for(clean()), standard_version="3.3")
    found = run(clean(), study)
    assert hits(found, "UMSC-MD0005") == [("", None, "", "SDTMIG 3.3")]
    assert list(found.of("UMSC-MD0005")["severity"]) == ["notice"]
    assert hits(run(clean()), "UMSC-MD0005") == []


# --------------------------------------------------------------------------- dates and days


def test_iso8601_including_impossible_dates() -> None:
    frames = clean()
    frames["AE"]["AEENDTC"] = ["2024-02-30", "2024-01", "15JAN2024"]
    frames["AE"]["AEENDY"] = np.nan
    found = run(frames)
    assert hits(found, "UMSC-DT0001") == [
        ("AE", 1, "AEENDTC", "2024-02-30"),
        ("AE", 3, "AEENDTC", "15JAN2024"),
    ]
    assert "impossible" in found.of("UMSC-DT0001")["message"].iloc[0]


def test_start_not_after_end() -> None:
    frames = clean()
    frames["AE"]["AEENDTC"] = ["2024-01-11", "2024-01", "2024-01-15T08:00"]
    frames["AE"]["AEENDY"] = [2.0, np.nan, 1.0]
    found = run(frames)
    assert hits(found, "UMSC-DT0002") == [
        ("AE", 1, "AESTDTC", "2024-01-12"),
        ("AE", 3, "AESTDTC", "2024-01-15T08:30"),
    ]


def test_study_days_against_rfstdtc() -> None:
    frames = clean()
    ae = frames["AE"]
    ae.loc[0, "AESTDY"] = 2.0  # wrong: 2024-01-12 vs 2024-01-10 is day 3
    ae.loc[1, "AEENDY"] = 0.0  # wrong: there is no day 0
    ae.loc[2, "AEENDTC"] = "2024-01"
    ae.loc[2, "AEENDY"] = 1.0  # imputed: the end date is partial
    frames["LB"].loc[3, "LBDY"] = np.nan  # missing although computable
    found = run(frames)
    assert hits(found, "UMSC-DT0003") == [("AE", 1, "AESTDY", "2"), ("AE", 2, "AEENDY", "0")]
    assert hits(found, "UMSC-DT0004") == [("AE", 3, "AEENDY", "1")]
    assert hits(found, "UMSC-DT0005") == [("LB", 4, "LBDY", "")]
    assert "give 3" in found.of("UMSC-DT0003")["message"].iloc[0]


# --------------------------------------------------------------------------- Findings results


def test_stresn_consistent_with_stresc() -> None:
    frames = clean()
    lb = frames["LB"]
    lb["LBSTRESN"] = [5.5, 6.5, 1.0, np.nan]  # differs / stray / missing
    lb.loc[2, "LBSTRESC"] = "<1"
    lb.loc[2, "LBSTAT"] = ""
    lb.loc[2, "LBORRES"] = "<1"
    found = run(frames)
    assert hits(found, "UMSC-FN0001") == [
        ("LB", 2, "LBSTRESN", "6.5"),
        ("LB", 3, "LBSTRESN", "1"),
        ("LB", 4, "LBSTRESN", ""),
    ]


def test_one_lobxfl_per_subject_and_test() -> None:
    frames = clean()
    frames["LB"].loc[1, "LBLOBXFL"] = "Y"
    assert [h[:2] for h in hits(run(frames), "UMSC-FN0002")] == [("LB", 1), ("LB", 2)]
    frames["LB"].loc[1, "LBCAT"] = "URINALYSIS"  # another category: one flag each
    assert hits(run(frames), "UMSC-FN0002") == []


def test_orres_present_unless_not_done_or_derived() -> None:
    frames = clean()
    lb = frames["LB"]
    lb.loc[0, ["LBORRES", "LBSTRESC", "LBSTRESN", "LBLOBXFL"]] = ["", "", np.nan, ""]
    lb.loc[2, "LBSTAT"] = ""
    assert [h[:3] for h in hits(run(frames), "UMSC-FN0003")] == [
        ("LB", 1, "LBORRES"),
        ("LB", 3, "LBORRES"),
    ]
    frames["LB"]["LBDRVFL"] = ["Y", "", "Y", ""]
    assert hits(run(frames), "UMSC-FN0003") == []


# --------------------------------------------------------------------------- cross-dataset


def test_every_subject_in_dm() -> None:
    frames = clean()
    frames["AE"].loc[2, "USUBJID"] = "S1-999"
    frames["SUPPAE"].loc[1, "USUBJID"] = "S1-999"
    frames["AE"].loc[2, "AESTDY"] = np.nan
    frames["AE"].loc[2, "AEENDY"] = np.nan
    found = run(frames)
    assert hits(found, "UMSC-XD0001") == [
        ("AE", 3, "USUBJID", "S1-999"),
        ("SUPPAE", 2, "USUBJID", "S1-999"),
    ]


def test_supp_points_at_parent_records() -> None:
    frames = clean()
    supp = pd.concat([frames["SUPPAE"]] * 3, ignore_index=True)
    supp["USUBJID"] = ["S1-001", "S1-002", "S1-001", "S1-002", "S1-001", "S1-002"]
    supp["RDOMAIN"] = ["AE", "AE", "AE", "XX", "AE", "DM"]
    supp["IDVAR"] = ["AESEQ", "AESEQ", "AESEQ", "AESEQ", "AESPID", ""]
    supp["IDVARVAL"] = ["2", "1", "7", "1", "1", ""]
    supp["QNAM"] = ["AETRTEM", "AETRTEM", "AETRTEM", "AETRTEM", "AEX", "DMX"]
    frames["SUPPAE"] = supp
    found = run(frames)
    assert hits(found, "UMSC-XD0002") == [("SUPPAE", 4, "RDOMAIN", "XX")]
    assert hits(found, "UMSC-XD0003") == [("SUPPAE", 5, "IDVAR", "AESPID")]
    assert hits(found, "UMSC-XD0004") == [("SUPPAE", 3, "IDVARVAL", "7")]


def test_visit_one_to_one_within_and_across() -> None:
    frames = clean()
    frames["LB"].loc[3, "VISIT"] = "Week 2"  # VISITNUM 2 is WEEK 2 and Week 2 within LB
    found = run(frames)
    assert [h[:3] for h in hits(found, "UMSC-XD0005")] == [
        ("LB", 2, "VISITNUM"),
        ("LB", 4, "VISITNUM"),
    ]
    assert hits(found, "UMSC-XD0006")[0][:3] == ("LB", 2, "VISITNUM")
    frames = clean()
    frames["LB"]["VISIT"] = ["SCREENING", "VISIT 2"] * 2  # consistent in LB, not with SV
    found = run(frames)
    assert hits(found, "UMSC-XD0005") == []
    assert hits(found, "UMSC-XD0006") == [("LB", 2, "VISITNUM", "2"), ("SV", 2, "VISITNUM", "2")]
    msg = found.of("UMSC-XD0006")["message"].iloc[0]
    assert "'VISIT 2' (LB)" in msg and "'WEEK 2' (SV)" in msg


# --------------------------------------------------------------------------- pandera layer


def test_schema_layer_reports_pandera_failures() -> None:
    frames = clean()
    study = study_for(frames)
    frames["DM"]["SEX"] = pd.Series(["F", None], dtype=object)  # null Char: must be ""
    frames["DM"]["AGE"] = pd.Series([40, 55], dtype="int64")  # Num must be float64
    frames["AE"].loc[0, "AESER"] = "Yes"  # non-extensible codelist
    found = run(frames, study).of("UMSC-PA0001")
    got = set(
        zip(
            found["dataset"],
            found["variable"],
            found["value"],
            found["row"].astype(object).where(found["row"].notna(), None),
            strict=True,
        )
    )
    assert ("DM", "SEX", "", 2) in got
    assert ("DM", "AGE", "int64", None) in got
    assert ("AE", "AESER", "Yes", 1) in got
    assert all(found["severity"] == "error")


def test_schema_from_metadata_requires_req_columns() -> None:
    from cdisc_umsc.validate.context import Context
    from cdisc_umsc.validate.schema import build_schema

    frames = clean()
    study = study_for(frames)
    schema = build_schema(Context(frames, study, "submission"), study.datasets["DM"])
    assert schema.columns["SEX"].required and not schema.columns["RACE"].required
    assert str(schema.columns["AGE"].dtype) == "float64"
    assert schema.validate(frames["DM"]).shape == frames["DM"].shape


# --------------------------------------------------------------------------- bad input / defects


def test_bad_datasets_argument_is_one_clear_error() -> None:
    study = study_for(clean())
    with pytest.raises(InputError, match="dataset DM: expected a pandas DataFrame, got list"):
        validate_study({"DM": [1, 2]}, study)
    with pytest.raises(InputError, match="dataset dm: given twice"):
        validate_study({"DM": _dm(), "dm": _dm()}, study)
    with pytest.raises(InputError, match="dataset DM: column 0 is not a variable name"):
        validate_study({"DM": pd.DataFrame({0: ["x"]})}, study)


def test_catalogue_row_with_bad_severity_is_refused() -> None:
    row = {f.name: "" for f in dataclasses.fields(catalogue.Rule)}
    row.update(
        id="UMSC-XX0001",
        severity="fatal",
        scope="dataset",
        applies="any",
        citation="x",
        message="x",
    )
    with pytest.raises(catalogue.CatalogueError, match="column severity: 'fatal'"):
        catalogue._validate_row(7, row)


def test_a_failing_check_names_rule_and_dataset(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(ctx: object, name: str, frame: pd.DataFrame, meta: object):
        raise KeyError("boom")
        yield  # pragma: no cover

    monkeypatch.setitem(catalogue._CHECKS, "UMSC-SD0009", broken)
    with pytest.raises(ValidationError, match="rule UMSC-SD0009 failed on dataset AE: KeyError"):
        run(clean())


def test_numeric_results_are_not_codelist_terms() -> None:
    frames = clean()
    frames["LB"].loc[1, ["LBORRES", "LBSTRESC", "LBSTRESN"]] = ["SOMEWHAT", "SOMEWHAT", np.nan]
    study = study_for(frames)
    study.datasets["LB"] = with_var(study.datasets["LB"], "LBSTRESC", codelist="C102580")
    assert hits(run(frames, study), "UMSC-CT0002") == [("LB", 2, "LBSTRESC", "SOMEWHAT")]
