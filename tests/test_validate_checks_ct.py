"""The Controlled Terminology checks (validate/checks_ct.py): non-extensible, extensible,
sponsor and undefined codelists, numeric results, external dictionaries, CT version."""

from __future__ import annotations

import dataclasses

import pandas as pd
from validate_support import hits, with_var

from cdisc_umsc.metadata import standards as S
from cdisc_umsc.metadata.model import Codelist, Term
from cdisc_umsc.validate import validate_study
from cdisc_umsc.validate.igmeta import study_from_ig


def ae(**cols: list[str]) -> dict[str, pd.DataFrame]:
    n = len(next(iter(cols.values())))
    return {"AE": pd.DataFrame({"STUDYID": "S", "DOMAIN": "AE", "USUBJID": ["S-1"] * n, **cols})}


def lb(**cols: list[str]) -> dict[str, pd.DataFrame]:
    n = len(next(iter(cols.values())))
    return {"LB": pd.DataFrame({"STUDYID": "S", "DOMAIN": "LB", "USUBJID": ["S-1"] * n, **cols})}


def test_value_outside_a_non_extensible_codelist() -> None:
    data = ae(AESER=["Y", "N", "YES", "", "y"])
    tail = "' is not in non-extensible codelist C66742 (NY)"
    assert hits("UMSC-CT0001", data, "AE") == [
        ("AE", 2, "AESER", "YES", "'YES" + tail),
        ("AE", 4, "AESER", "y", "'y" + tail),
    ]
    assert hits("UMSC-CT0002", data, "AE") == []


def test_new_terms_of_an_extensible_codelist_once_each_with_their_count() -> None:
    data = lb(LBORRESU=["mg/dL", "furlong", "furlong", "", "cubit", "furlong"])
    assert hits("UMSC-CT0002", data, "LB") == [
        (
            "LB",
            1,
            "LBORRESU",
            "furlong",
            "new term 'furlong' in extensible codelist C71620 (UNIT) on 3 record(s)",
        ),
        (
            "LB",
            4,
            "LBORRESU",
            "cubit",
            "new term 'cubit' in extensible codelist C71620 (UNIT) on 1 record(s)",
        ),
    ]
    assert hits("UMSC-CT0001", data, "LB") == []


def test_an_extended_copy_in_the_metadata_still_names_the_new_term() -> None:
    data = lb(LBORRESU=["furlong"])
    copy = Codelist("C71620", "UNIT", True, (Term("mg/dL"), Term("furlong", extended=True)))
    study = with_var(study_from_ig(data), "LB", "LBORRESU", codelist="C71620")
    study = dataclasses.replace(study, codelists={"C71620": copy})
    assert hits("UMSC-CT0002", data, "LB", study) == [
        (
            "LB",
            0,
            "LBORRESU",
            "furlong",
            "new term 'furlong' in extensible codelist C71620 (UNIT) on 1 record(s)",
        ),
    ]


def test_numeric_results_are_not_terms() -> None:
    data = lb(LBORRESU=["mg/dL"] * 4, LBORRES=["5", " 1.5e2 ", "POS", ""])
    study = with_var(study_from_ig(data), "LB", "LBORRES", codelist="CL.RES")
    study = dataclasses.replace(
        study, codelists={"CL.RES": Codelist("CL.RES", "Results", False, (Term("NEG"),))}
    )
    assert hits("UMSC-CT0001", data, "LB", study) == [
        ("LB", 2, "LBORRES", "POS", "'POS' is not in non-extensible codelist CL.RES (Results)")
    ]


def test_a_result_is_numeric_only_in_ascii_finite_notation() -> None:
    """Full-width digits, infinity and a number past the double range are no numbers
    (core/values.NUMBER): they are judged against the codelist like any other text. Values
    repeat, so each distinct value is judged once and every record of it reported."""
    values = ["８２", "inf", "1e400", "-1.5", "８２", "NEG"]
    data = lb(LBORRESU=["mg/dL"] * 6, LBORRES=values)
    study = with_var(study_from_ig(data), "LB", "LBORRES", codelist="CL.RES")
    study = dataclasses.replace(
        study, codelists={"CL.RES": Codelist("CL.RES", "Results", False, (Term("NEG"),))}
    )
    tail = "' is not in non-extensible codelist CL.RES (Results)"
    assert hits("UMSC-CT0001", data, "LB", study) == [
        ("LB", 0, "LBORRES", "８２", "'８２" + tail),
        ("LB", 1, "LBORRES", "inf", "'inf" + tail),
        ("LB", 2, "LBORRES", "1e400", "'1e400" + tail),
        ("LB", 4, "LBORRES", "８２", "'８２" + tail),
    ]


def sponsor_study(data: dict[str, pd.DataFrame]):
    study = with_var(study_from_ig(data), "AE", "AEACN", codelist="CL.ACN")
    own = Codelist("CL.ACN", "Action", False, (Term("NONE"), Term("STOPPED")), sponsor=True)
    return dataclasses.replace(study, codelists={"CL.ACN": own})


def test_sponsor_codelist_is_judged_by_its_own_rule() -> None:
    data = ae(AEACN=["NONE", "STOPPED", "PAUSED"])
    study = sponsor_study(data)
    assert hits("UMSC-CT0003", data, "AE", study) == [
        ("AE", 2, "AEACN", "PAUSED", "'PAUSED' is not in sponsor codelist CL.ACN (Action)")
    ]
    assert hits("UMSC-CT0001", data, "AE", study) == []


def test_undefined_and_external_codelists() -> None:
    data = ae(AEACN=["X"], AEDECOD=["Headache"])
    study = with_var(study_from_ig(data), "AE", "AEACN", codelist="CL.NONE")
    study = with_var(study, "AE", "AEDECOD", codelist="EXT:MedDRA:26.0")
    assert hits("UMSC-CT0004", data, "AE", study) == [
        (
            "AE",
            -1,
            "AEACN",
            "CL.NONE",
            "AE.AEACN names codelist 'CL.NONE', which is neither in study.codelists nor in the "
            "bundled CDISC CT",
        )
    ]
    for rid in ("UMSC-CT0001", "UMSC-CT0002", "UMSC-CT0003"):
        assert hits(rid, data, "AE", study) == []


def test_ct_version_not_bundled_is_a_notice_and_errors_become_warnings() -> None:
    data = ae(AESER=["YES"])
    bundled = S.versions()["SDTM CT"]
    old = study_from_ig(data, ct_version="2010-01-01")
    assert hits("UMSC-CT0005", data, study=old) == [
        (
            "",
            -1,
            "",
            "2010-01-01",
            f"study CT version 2010-01-01 is not bundled; codelists were checked against SDTM "
            f"CT {bundled}",
        )
    ]
    assert hits("UMSC-CT0005", data) == []
    found = validate_study(data, old).of("UMSC-CT0001")
    assert found["severity"].tolist() == ["warning"]
    assert validate_study(data, study_from_ig(data)).of("UMSC-CT0001")["severity"].tolist() == [
        "error"
    ]
