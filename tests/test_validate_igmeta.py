"""Metadata for datasets without a spec (validate/igmeta.py): types and lengths from the data
or the file, core / codelist / class / keys from the bundled IG, the SDTMIG version TS declares."""

from __future__ import annotations

import pandas as pd
import pytest

from cdisc_umsc.metadata import standards as S
from cdisc_umsc.metadata.model import Dataset, Variable
from cdisc_umsc.validate.igmeta import dataset_from_ig, declared_ig, study_from_ig


def ae() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "STUDYID": "S",
            "DOMAIN": "AE",
            "USUBJID": ["S-1"],
            "AESEQ": [1.0],
            "AETERM": ["X"],
            "AESER": ["Y"],
            "AEFOO": ["z"],
        }
    )


def test_sdtm_dataset_from_the_ig() -> None:
    meta = dataset_from_ig("ae", ae())
    assert (meta.name, meta.cls, meta.standard, meta.purpose) == (
        "AE",
        "Events",
        "SDTMIG",
        "Tabulation",
    )
    got = {v.name: (v.type, v.core, v.codelist, v.order, v.data_type) for v in meta.variables}
    assert got == {
        "STUDYID": ("Char", "Req", None, 1, "text"),
        "DOMAIN": ("Char", "Req", None, 2, "text"),
        "USUBJID": ("Char", "Req", None, 3, "text"),
        "AESEQ": ("Num", "Req", None, 4, "float"),
        "AETERM": ("Char", "Req", None, 5, "text"),
        "AESER": ("Char", "Exp", "C66742", 6, "text"),
        "AEFOO": ("Char", "Perm", None, 7, "text"),
    }
    assert meta.var("AETERM").label == "Reported Term for the Adverse Event"
    assert meta.var("AEFOO").label == ""
    assert meta.keys == ()  # the IG keys are not all present


def test_keys_when_present_and_result_codelists_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    keys = ("STUDYID", "USUBJID", "LBTESTCD", "LBSPEC", "VISITNUM", "LBTPTREF", "LBTPTNUM")
    monkeypatch.setattr(S, "ig_keys", lambda table, version: keys if table == "LB" else ())
    lb = pd.DataFrame(
        {
            c: ["x"]
            for c in (
                "STUDYID",
                "USUBJID",
                "LBTESTCD",
                "LBSPEC",
                "VISITNUM",
                "LBTPTREF",
                "LBTPTNUM",
                "LBORRES",
                "LBSTRESC",
            )
        }
    )
    meta = dataset_from_ig("LB", lb)
    assert meta.keys == keys
    assert dataset_from_ig("LB", lb.drop(columns="LBSPEC")).keys == ()  # a key is absent
    assert meta.var("LBORRES").codelist is None and meta.var("LBSTRESC").codelist is None
    assert meta.var("LBTESTCD").codelist == "C65047"


def test_the_files_own_description_wins_for_label_type_and_length() -> None:
    own = Dataset(
        "AE", "Adverse Events", "", "", "",
        variables=(
            Variable("AETERM", "Term", "Char", 1, length=40),
            Variable("AESEQ", "Seq", "Char", 2, length=8),
        ),
    )  # fmt: skip
    meta = dataset_from_ig("AE", ae(), own)
    assert meta.label == "Adverse Events"
    assert (meta.var("AETERM").label, meta.var("AETERM").length) == ("Term", 40)
    assert (meta.var("AESEQ").type, meta.var("AESEQ").length) == ("Char", 8)
    assert meta.var("STUDYID").length is None


def test_adam_places() -> None:
    adsl = dataset_from_ig("ADSL", pd.DataFrame({"USUBJID": ["S-1"], "TRT01P": ["A"]}))
    assert (adsl.standard, adsl.cls, adsl.purpose) == (
        "ADaMIG",
        "SUBJECT LEVEL ANALYSIS DATASET",
        "Analysis",
    )
    assert adsl.var("USUBJID").core == "Req"
    bds = dataset_from_ig("ADLB", pd.DataFrame({"PARAMCD": ["ALT"]}))
    assert bds.cls == "BASIC DATA STRUCTURE" and bds.var("PARAMCD").core == "Req"
    other = dataset_from_ig("ADTTE2", pd.DataFrame({"X": [1.0]}))
    assert (other.cls, other.var("X").core, other.var("X").type) == ("", "Perm", "Num")
    assert dataset_from_ig("ZZ", pd.DataFrame({"X": ["a"]})).cls == ""
    assert dataset_from_ig("SUPPAE", pd.DataFrame({"QNAM": ["a"]})).cls == "Relationship"


def test_declared_ig_from_ts() -> None:
    def ts(value: str) -> dict[str, pd.DataFrame]:
        return {"TS": pd.DataFrame({"TSPARMCD": ["TITLE", "SDTIGVER"], "TSVAL": ["T", value]})}

    assert [declared_ig(ts(v)) for v in ("3.2", "SDTMIG 3.1.2", "SDTM IG v3.3", " V3.4 ")] == [
        "3.2",
        "3.1.2",
        "3.3",
        "3.4",
    ]
    assert declared_ig({}) == ""
    assert declared_ig({"TS": pd.DataFrame({"TSPARMCD": ["TITLE"], "TSVAL": ["T"]})}) == ""


def test_study_from_ig_versions() -> None:
    study = study_from_ig({"ae": ae()}, study_id="S1")
    assert (study.study_id, study.standard, study.standard_version, study.ct_version) == (
        "S1", "SDTMIG", "3.4", "2025-03-28",
    )  # fmt: skip
    assert list(study.datasets) == ["AE"]
    declared = study_from_ig({"AE": ae()}, ig_version="3.2", ct_version="2020-01-01")
    assert (declared.standard_version, declared.ct_version) == ("3.2", "2020-01-01")
