"""What define.xml says of SDTM variables: origins, methods, CRF pages and value-level metadata
(cdisc_umsc/sdtm/describe.py, with the trial design builders)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cdisc_umsc.core.errors import InputError
from cdisc_umsc.metadata.specfile import SpecError
from cdisc_umsc.sdtm.check_spec import load_checked_spec
from cdisc_umsc.sdtm.pipeline import build_sdtm
from tests.conftest import RAW

STUDY_DAY = (
    "Study day of {0} relative to DM.RFSTDTC: date - RFSTDTC + 1 on or after RFSTDTC, date - "
    "RFSTDTC before it (there is no day 0); blank when either date is partial"
)
PASI_TOTAL = (
    "Not collected: one record per USUBJID, VISITNUM, computed from the QSSTRESN of the "
    "QSTESTCD items as 0.1 * (PASI0201 + PASI0202 + PASI0203) * PASI0204 + 0.2 * (PASI0205 + "
    "PASI0206 + PASI0207) * PASI0208 + 0.3 * (PASI0209 + PASI0210 + PASI0211) * PASI0212 + "
    "0.4 * (PASI0213 + PASI0214 + PASI0215) * PASI0216, rounded to 1 decimal place(s); a "
    "group missing any of the items gets no derived record"
)


@pytest.fixture(scope="module")
def meta(bundled_run):
    return bundled_run[0].sdtm.meta


def _origins(ds) -> dict[str, str]:
    return {v.name: v.origin for v in ds.variables}


def _levels(ds, var: str) -> dict[str, object]:
    return {(lv.by, lv.code): lv for lv in ds.value_level if lv.variable == var}


def test_trial_design_is_protocol(meta) -> None:
    for name in ("TA", "TE", "TV", "TI"):
        origins = _origins(meta[name])
        assert origins.pop("DOMAIN") == "Assigned", name
        assert set(origins.values()) == {"Protocol"}, name
    ts = _origins(meta["TS"])
    assert (ts["TSVAL"], ts["TSPARMCD"], ts["TSSEQ"], ts["TSPARM"]) == (
        "Protocol",
        "Protocol",
        "Derived",
        "Assigned",
    )
    tsval = _levels(meta["TS"], "TSVAL")
    assert sorted(code for _, code in tsval) == ["ACTSUB", "NARMS", "NCOHORT", "SENDTC", "SSTDTC"]
    assert tsval[("", "NARMS")].method == (
        "Number of distinct TA.ARMCD values of the study's records; 0 when there is none"
    )
    assert tsval[("", "NCOHORT")].method == tsval[("", "NARMS")].method
    assert tsval[("", "ACTSUB")].method == (
        "Number of non-blank DM.USUBJID values of the study's records where ACTARMCD is not "
        "blank; 0 when there is none"
    )


def test_subject_elements_are_derived_with_their_rules(meta) -> None:
    se = meta["SE"]
    assert {v.name: v.origin for v in se.variables if v.origin != "Derived"} == {
        "STUDYID": "Assigned",
        "DOMAIN": "Assigned",
    }
    assert se.var("SESTDY").method == STUDY_DAY.format("SESTDTC")
    assert se.var("SESTDTC").method == (
        "Start of the element: DM.RFICDTC for SCRN; DM.RFXSTDTC for UMSC; DM.RFXENDTC for FU"
    )
    assert se.var("USUBJID").method == meta["DM"].var("USUBJID").method


def test_usubjid_and_supp_keys(meta) -> None:
    dm_usubjid = meta["DM"].var("USUBJID")
    assert (dm_usubjid.origin, dm_usubjid.method) == (
        "Derived",
        "Concatenation of STUDYID, '-', SITEID, '-' and SUBJID",
    )
    for name in ("AE", "LB", "QS", "SUPPAE", "SUPPDM"):
        v = meta[name].var("USUBJID")
        assert (v.origin, v.method) == ("Derived", dm_usubjid.method), name
    supp = _origins(meta["SUPPAE"])
    assert [k for k, o in supp.items() if o == "Assigned"] == [
        "STUDYID",
        "RDOMAIN",
        "IDVAR",
        "IDVARVAL",
        "QNAM",
        "QLABEL",
        "QORIG",
        "QEVAL",
    ]
    qval = _levels(meta["SUPPAE"], "QVAL")[("", "AETERM1")]
    assert (qval.origin, qval.pages) == ("Collected", ())


def test_methods_show_raw_answers_by_their_meaning(meta) -> None:
    assert meta["AE"].var("AEENTPT").method == (
        "Set to 'END OF STUDY', when AEONGO (the CRF answer, as recoded) = 'Y'"
    )
    assert meta["EX"].var("VISIT").method == "Concatenation of 'INFUSION ' and INFNO"
    assert meta["DM"].var("RFSTDTC").method == (
        "Earliest (smallest) EX.EXSTDTC of the subject's records (ISO 8601 dates and text "
        "compare in text order; blank values are ignored); blank when there is none"
    )
    for ds in meta.values():
        for v in ds.variables:
            assert v.origin != "Derived" or (v.method and v.method.isascii()), (ds.name, v.name)


def test_derived_records_and_per_source_description(meta) -> None:
    qs = meta["QS"]
    levels = _levels(qs, "QSORRES")
    total = levels[("", "PASI0229")]
    assert (total.origin, total.method) == ("Derived", PASI_TOTAL)
    item = levels[("", "PASI0201")]
    assert (item.origin, item.method) == (None, None)  # as the variable: collected
    assert levels[("", "SPGA01")].codelist == "PGA"
    assert qs.var("QSDRVFL").method == (
        "Y on the derived PASI total records (QSTESTCD PASI0229), which are computed from other "
        "records rather than collected; blank on collected records"
    )
    testcd = _levels(qs, "QSTESTCD")
    assert {k: (lv.origin, lv.codelist) for k, lv in testcd.items()} == {
        ("QSCAT", "PASI FELDMAN"): ("Collected", "C179936"),
        ("QSCAT", "STATIC PHYSICIAN GLOBAL ASSESSMENT"): ("Assigned", "PGATESTCD"),
    }
    dsdecod = _levels(meta["DS"], "DSDECOD")
    assert {k: lv.codelist for k, lv in dsdecod.items()} == {
        ("DSCAT", "DISPOSITION EVENT"): "C66727",
        ("DSCAT", "PROTOCOL MILESTONE"): "C114118",
    }


def _pages_spec(spec_copy: Path) -> Path:
    (spec_copy / "documents").mkdir()
    (spec_copy / "documents" / "acrf.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
    study = spec_copy / "study.yaml"
    text = study.read_text(encoding="utf-8")
    text = text.replace(
        "raw:\n",
        "documents:\n  acrf: {file: documents/acrf.pdf, title: Annotated CRF}\n\nraw:\n",
        1,
    )
    for form, pages in (("DM", "[3, 4]"), ("PASI", "7"), ("PGA", "[8]")):
        text = text.replace(f"  {form}:\n    file:", f"  {form}:\n    pages: {pages}\n    file:", 1)
    study.write_text(text, encoding="utf-8")
    return spec_copy


def test_value_level_items_cite_their_own_form(spec_copy) -> None:
    spec = load_checked_spec(_pages_spec(spec_copy))
    assert [(d.id, d.kind, d.path.name) for d in spec.documents] == [
        ("acrf", "AnnotatedCRF", "acrf.pdf")
    ]
    meta = build_sdtm(spec, RAW).meta
    assert meta["DM"].var("SEX").pages == (3, 4)
    assert meta["DM"].var("USUBJID").pages == ()  # derived, not collected
    levels = _levels(meta["QS"], "QSORRES")
    assert levels[("", "PASI0201")].pages == (7,)
    assert levels[("", "SPGA01")].pages == (8,)
    assert levels[("", "PASI0229")].pages == ()  # the derived total cites no page
    nation = _levels(meta["SUPPDM"], "QVAL")[("", "NATION")]
    assert (nation.origin, nation.pages) == ("Collected", (3, 4))


def test_pages_need_the_annotated_crf(spec_copy) -> None:
    study = spec_copy / "study.yaml"
    text = study.read_text(encoding="utf-8")
    study.write_text(text.replace("  PGA:\n    file:", "  PGA:\n    pages: 8\n    file:"), "utf-8")
    lines = study.read_text(encoding="utf-8").splitlines()
    line = next(i for i, t in enumerate(lines, start=1) if t == "    pages: 8")
    with pytest.raises(SpecError) as err:
        load_checked_spec(spec_copy)
    assert str(err.value) == (
        f"spec/study.yaml:{line}: form PGA: pages need the annotated CRF (documents: acrf:)"
    )


def test_unexplained_raw_value_in_a_method_needs_method(spec_copy) -> None:
    ae = spec_copy / "sdtm" / "ae.yaml"
    text = ae.read_text(encoding="utf-8")
    old = 'AEENTPT: {template: "END OF STUDY", when: {AEONGO: 是}}'
    assert old in text
    ae.write_text(text.replace(old, old.replace("是", "持续")), encoding="utf-8")
    line = next(i for i, t in enumerate(text.splitlines(), start=1) if "AEENTPT" in t)
    with pytest.raises(InputError) as err:
        load_checked_spec(spec_copy)
    assert str(err.value) == (
        f"spec/sdtm/ae.yaml:{line}: variable AEENTPT: its define.xml method would show the "
        "non-ASCII text '持续'; describe the derivation in ASCII words with method:"
    )
    ae.write_text(
        text.replace(old, old[:-1] + ", method: Set when the subject's AE is ongoing}"),
        encoding="utf-8",
    )
    load_checked_spec(spec_copy)
