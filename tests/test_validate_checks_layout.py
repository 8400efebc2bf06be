"""The layout checks (validate/checks_layout.py): variable order against the IG, dataset name
and label, sort order by the keys."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
from validate_support import hits, with_meta

from cdisc_umsc.validate.checks_layout import _kept
from cdisc_umsc.validate.igmeta import study_from_ig


def ae(columns: list[str] | None = None, **changes: object) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "STUDYID": "S",
            "DOMAIN": "AE",
            "USUBJID": ["S-1", "S-1", "S-2"],
            "AESEQ": [1.0, 2.0, 1.0],
            "AETERM": ["A", "B", "C"],
        }
    ).assign(**changes)
    return frame[columns] if columns else frame


# ----------------------------------------------------------------------- UMSC-SD0011


def test_longest_run_in_order_is_kept() -> None:
    assert _kept([1, 2, 3]) == {0, 1, 2}
    assert _kept([]) == set()
    assert _kept([3, 1, 2]) == {1, 2}
    assert len(_kept([1, 5, 2, 3, 4])) == 4 and 1 not in _kept([1, 5, 2, 3, 4])


def test_the_fewest_variables_out_of_order_are_named() -> None:
    data = {"AE": ae(["STUDYID", "DOMAIN", "AETERM", "USUBJID", "AESEQ"])}
    assert hits("UMSC-SD0011", data, "AE") == [
        (
            "AE",
            -1,
            "AETERM",
            "3",
            "AE.AETERM is out of IG order: it precedes USUBJID, which the IG places before it",
        )
    ]
    assert hits("UMSC-SD0011", {"AE": ae()}, "AE") == []


def test_a_late_variable_is_named_by_what_it_follows() -> None:
    data = {"AE": ae(["DOMAIN", "USUBJID", "AESEQ", "AETERM", "STUDYID"])}
    assert hits("UMSC-SD0011", data, "AE") == [
        (
            "AE",
            -1,
            "STUDYID",
            "5",
            "AE.STUDYID is out of IG order: it follows DOMAIN, which the IG places after it",
        )
    ]


def test_non_ig_variables_may_sit_anywhere_and_metadata_order_rules() -> None:
    data = {"AE": ae(["STUDYID", "AEFOO", "DOMAIN", "USUBJID", "AESEQ", "AETERM"], AEFOO="x")}
    assert hits("UMSC-SD0011", data, "AE") == []
    # the metadata's order, not the column order, is judged
    shuffled = {"AE": ae(["AETERM", "STUDYID", "DOMAIN", "USUBJID", "AESEQ"])}
    study = study_from_ig({"AE": ae()})
    assert hits("UMSC-SD0011", shuffled, "AE", study) == []


# ----------------------------------------------------------------------- UMSC-SD0012


def test_domain_value_differs_from_the_name_reported_once_per_value() -> None:
    data = {"AE": ae(DOMAIN=["AE", "AX", "AX"])}
    assert hits("UMSC-SD0012", data, "AE") == [
        (
            "AE",
            1,
            "DOMAIN",
            "AX",
            "dataset AE holds DOMAIN 'AX' (expected 'AE', the first two characters of its name)",
        )
    ]
    blank = {"AE": ae(DOMAIN=["AE", "", "AE"])}
    assert hits("UMSC-SD0012", blank, "AE") == []


def test_custom_domains_splits_and_supp_parents() -> None:
    data = {
        "XY": pd.DataFrame({"DOMAIN": ["XY"]}),
        "LBCH": pd.DataFrame({"DOMAIN": ["LB"]}),
        "LBCHEM": pd.DataFrame({"DOMAIN": ["LB"]}),
        "SUPPZZ": pd.DataFrame({"RDOMAIN": ["ZZ"]}),
        "SUPPXY": pd.DataFrame({"RDOMAIN": ["XY"]}),
    }
    assert hits("UMSC-SD0012", data, "XY") == [
        ("XY", -1, "", "XY", "XY is not an SDTMIG 3.4 domain or a split of one (a custom domain)")
    ]
    assert hits("UMSC-SD0012", data, "LBCH") == []  # domain + two characters
    assert hits("UMSC-SD0012", data, "LBCHEM") == [
        (
            "LBCHEM",
            -1,
            "",
            "LBCHEM",
            "LBCHEM is not an SDTMIG 3.4 domain or a split of one (a custom domain)",
        )
    ]
    assert hits("UMSC-SD0012", data, "SUPPXY") == []  # parent is a dataset of the study
    assert hits("UMSC-SD0012", data, "SUPPZZ") == [
        (
            "SUPPZZ",
            -1,
            "",
            "SUPPZZ",
            "SUPPZZ is SUPP-- of ZZ, which is neither a dataset of the study nor an IG domain",
        )
    ]


# ----------------------------------------------------------------------- UMSC-SD0013


def test_dataset_label_against_the_ig_and_supp_wording() -> None:
    data = {"AE": ae(), "SUPPAE": pd.DataFrame({"RDOMAIN": ["AE"]})}
    study = with_meta(study_from_ig(data), "AE", label="Adverse Event")
    assert hits("UMSC-SD0013", data, "AE", study) == [
        ("AE", -1, "", "Adverse Event", "AE label 'Adverse Event'; the IG says 'Adverse Events'")
    ]
    study = with_meta(study, "AE", label="Adverse Events")
    assert hits("UMSC-SD0013", data, "AE", study) == []
    study = with_meta(study, "SUPPAE", label="Supplemental Qualifiers for LB")
    assert hits("UMSC-SD0013", data, "SUPPAE", study) == [
        (
            "SUPPAE",
            -1,
            "",
            "Supplemental Qualifiers for LB",
            "SUPPAE label 'Supplemental Qualifiers for LB'; the IG says "
            "'Supplemental Qualifiers for AE'",
        )
    ]
    unlabelled = with_meta(study, "AE", label=" ")
    assert hits("UMSC-SD0013", data, "AE", unlabelled) == []


# ----------------------------------------------------------------------- UMSC-SD0014


def keyed(frame: pd.DataFrame, keys: tuple[str, ...] = ("USUBJID", "AESEQ")):
    data = {"AE": frame}
    return data, with_meta(study_from_ig(data), "AE", keys=keys)


def test_sorted_numbers_numerically_ties_in_place() -> None:
    frame = ae(USUBJID=["S-1", "S-1", "S-1"], AESEQ=[9.0, 10.0, 10.0])
    data, study = keyed(frame)
    assert hits("UMSC-SD0014", data, "AE", study) == []


def test_first_record_out_of_order_named_with_the_count() -> None:
    frame = ae(USUBJID=["S-1", "S-2", "S-1"], AESEQ=[2.0, 1.0, 1.0])
    frame = pd.concat([frame, ae().iloc[[0]].assign(USUBJID="S-0")], ignore_index=True)
    data, study = keyed(frame)
    assert hits("UMSC-SD0014", data, "AE", study) == [
        (
            "AE",
            2,
            "USUBJID",
            "S-1",
            "record 3 (USUBJID=S-1, AESEQ=1) sorts before record 2 by the keys USUBJID, AESEQ "
            "(2 such place(s) in AE)",
        )
    ]


def test_second_key_decides_within_the_first() -> None:
    frame = ae(USUBJID=["S-1", "S-1", "S-2"], AESEQ=[2.0, 1.0, 1.0])
    data, study = keyed(frame)
    assert hits("UMSC-SD0014", data, "AE", study) == [
        (
            "AE",
            1,
            "AESEQ",
            "1",
            "record 2 (USUBJID=S-1, AESEQ=1) sorts before record 1 by the keys USUBJID, AESEQ "
            "(1 such place(s) in AE)",
        )
    ]


def test_missing_values_sort_first() -> None:
    frame = ae(USUBJID=["S-1", "S-1", "S-1"], AESEQ=[np.nan, 1.0, np.nan])
    data, study = keyed(frame)
    assert [h[1] for h in hits("UMSC-SD0014", data, "AE", study)] == [2]


def test_sort_needs_two_records_and_the_keys() -> None:
    data, study = keyed(ae().iloc[[2, 0]].reset_index(drop=True).iloc[:1])
    assert hits("UMSC-SD0014", data, "AE", study) == []
    data, study = keyed(ae().iloc[[2, 0]].reset_index(drop=True), ("USUBJID", "AESPID"))
    assert hits("UMSC-SD0014", data, "AE", study) == []
    meta = dataclasses.replace(study.datasets["AE"], keys=())
    study.datasets["AE"] = meta
    assert hits("UMSC-SD0014", data, "AE", study) == []
