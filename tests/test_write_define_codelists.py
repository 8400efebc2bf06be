"""The define's CodeLists (Define-XML 2.1 section 5.3.12; cdisc_umsc/write/define/codelists.py):
the terms the data uses, decodes, nci:ExtCodeID aliases, def:ExtendedValue and external
dictionaries, with values outside a non-extensible list reported, not listed."""

from __future__ import annotations

import pandas as pd
import pytest
from lxml import etree

from cdisc_umsc.core.errors import WriteError
from cdisc_umsc.metadata.model import Codelist, Study, Term
from cdisc_umsc.write.define.codelists import SMALL_CODELIST, Codelists
from cdisc_umsc.write.define.nodes import DEF_NS, NSMAP, ODM_NS, q

ARMCD = Codelist(
    "ARMCD",
    "Arm Code",
    False,
    (Term("PBO", decode="Placebo"), Term("DRUG", decode="Drug 10 mg")),
    sponsor=True,
)
EXTENDED = q(DEF_NS, "ExtendedValue")


def _codelists(**codelists: Codelist) -> tuple[Codelists, list[str]]:
    findings: list[str] = []
    study = Study("S1", "SDTMIG", "3.4", "2025-03-28", codelists=codelists)
    return Codelists(study, findings), findings


def _written(cls: Codelists) -> dict[str, etree._Element]:
    mdv = etree.Element(q(ODM_NS, "MetaDataVersion"), nsmap=NSMAP)
    cls.write(mdv)
    return {node.get("OID"): node for node in mdv}


def _items(node: etree._Element) -> list[tuple]:
    """(tag, CodedValue, decode, ExtendedValue, alias) of each item, in order."""
    out = []
    for item in node:
        tag = etree.QName(item).localname
        if tag not in ("CodeListItem", "EnumeratedItem"):
            continue
        alias = item.find(q(ODM_NS, "Alias"))
        out.append(
            (
                tag,
                item.get("CodedValue"),
                item.findtext(f"{{{ODM_NS}}}Decode/{{{ODM_NS}}}TranslatedText"),
                item.get(EXTENDED),
                None if alias is None else alias.get("Name"),
            )
        )
    return out


def test_a_small_sponsor_list_is_written_whole_with_decodes() -> None:
    cls, findings = _codelists(ARMCD=ARMCD)
    assert cls.use("ARMCD", pd.Series(["DRUG", "", None]), "DM", "ARMCD") == "CL.ARMCD"
    node = _written(cls)["CL.ARMCD"]
    assert (node.get("Name"), node.get("DataType"), node.get(q(DEF_NS, "StandardOID"))) == (
        "Arm Code",
        "text",
        None,
    )
    # PBO is not in the data, but a sponsor list of at most SMALL_CODELIST terms is whole;
    # a sponsor list has no NCI alias
    assert _items(node) == [
        ("CodeListItem", "PBO", "Placebo", None, None),
        ("CodeListItem", "DRUG", "Drug 10 mg", None, None),
    ]
    assert node.find(q(ODM_NS, "Alias")) is None
    assert findings == []


def test_a_large_sponsor_list_lists_the_values_in_the_data() -> None:
    terms = tuple(Term(f"T{i:02d}") for i in range(SMALL_CODELIST + 1))
    big = Codelist("BIG", "Big", False, terms, sponsor=True)
    cls, _ = _codelists(BIG=big)
    cls.use("BIG", pd.Series(["T20", "T03", "T20"]), "XX", "XXVAR")
    assert [i[1] for i in _items(_written(cls)["CL.BIG"])] == ["T03", "T20"]


def test_a_sponsor_list_of_exactly_small_codelist_terms_is_whole() -> None:
    terms = tuple(Term(f"T{i:02d}") for i in range(SMALL_CODELIST))
    edge = Codelist("EDGE", "Edge", False, terms, sponsor=True)
    cls, _ = _codelists(EDGE=edge)
    cls.use("EDGE", pd.Series(["T03"]), "XX", "XXVAR")
    assert len(_items(_written(cls)["CL.EDGE"])) == SMALL_CODELIST


def test_a_value_outside_a_non_extensible_list_is_reported_once_and_left_out() -> None:
    cls, findings = _codelists(ARMCD=ARMCD)
    cls.use("ARMCD", pd.Series(["DRUG", "X", "X"]), "DM", "ARMCD")
    cls.use("ARMCD", pd.Series(["X"]), "DS", "ARMCD")  # noted once for the whole define
    assert findings == [
        "dataset DM, row 2, variable ARMCD: value 'X' is not a term of non-extensible "
        "codelist ARMCD (Arm Code); left out of the define's codelist"
    ]
    assert [i[1] for i in _items(_written(cls)["CL.ARMCD"])] == ["PBO", "DRUG"]


def test_a_cdisc_list_from_the_bundled_ct_lists_used_terms_with_nci_codes() -> None:
    cls, findings = _codelists()
    assert cls.use("C66731", pd.Series(["M", "M", "F"]), "DM", "SEX") == "CL.C66731"
    node = _written(cls)["CL.C66731"]
    assert (node.get("Name"), node.get(q(DEF_NS, "StandardOID"))) == ("Sex", "STD.CT.SDTM")
    # CT order (F before M), only the terms in the data, each with its NCI code
    assert _items(node) == [
        ("EnumeratedItem", "F", None, None, "C16576"),
        ("EnumeratedItem", "M", None, None, "C20197"),
    ]
    assert node.find(q(ODM_NS, "Alias")).get("Name") == "C66731"
    assert cls.standards_used() == {"STD.CT.SDTM"}
    assert findings == []


def test_a_sponsor_value_of_an_extensible_cdisc_list_is_an_extended_value() -> None:
    cls, findings = _codelists()
    cls.use("C71620", pd.Series(["mmol/L", "furlong/L"]), "LB", "LBORRESU")
    # the extended value has no NCI code; CDISC terms first, then the sponsor's
    assert _items(_written(cls)["CL.C71620"]) == [
        ("EnumeratedItem", "mmol/L", None, None, "C64387"),
        ("EnumeratedItem", "furlong/L", None, "Yes", None),
    ]
    assert findings == []


def test_decodes_from_the_data_make_code_list_items() -> None:
    plain = Codelist("TRT", "Treatment", True, (Term("A"), Term("B")), sponsor=True)
    cls, _ = _codelists(TRT=plain)
    cls.use("TRT", pd.Series(["A"]), "ADSL", "TRT01PN", decodes={"A": "Active"})
    cls.use("TRT", pd.Series(["B"]), "ADSL", "TRT01PN", decodes={"A": "Later", "B": "B"})
    # the first decode of a code wins; a decode equal to the code is written as the code
    assert _items(_written(cls)["CL.TRT"]) == [
        ("CodeListItem", "A", "Active", None, None),
        ("CodeListItem", "B", "B", None, None),
    ]


def test_a_declared_cdisc_list_takes_missing_term_codes_from_the_ct() -> None:
    sex = Codelist("SEX", "Sex", False, (Term("F"), Term("M")), nci_code="C66731")
    cls, _ = _codelists(SEX=sex)
    assert cls.use("SEX", pd.Series(["M"]), "DM", "SEX") == "CL.C66731"
    assert _items(_written(cls)["CL.C66731"]) == [("EnumeratedItem", "M", None, None, "C20197")]


def test_an_external_dictionary() -> None:
    cls, _ = _codelists()
    oid = cls.use("EXT:MEDDRA:26.0", pd.Series(["Headache"]), "AE", "AEDECOD")
    assert oid == "CL.EXT.MEDDRA_26_0"
    node = _written(cls)[oid]
    ext = node.find(q(ODM_NS, "ExternalCodeList"))
    assert (ext.get("Dictionary"), ext.get("Version")) == ("MEDDRA", "26.0")
    assert _items(node) == []
    assert cls.standards_used() == {None}


@pytest.mark.parametrize(
    "cid, message",
    [
        (
            "EXT:MEDDRA",
            "define: dataset AE, variable AEDECOD: external codelist 'EXT:MEDDRA' must read "
            "EXT:<dictionary>:<version>",
        ),
        (
            "C999999",
            "define: dataset AE, variable AEDECOD: codelist 'C999999' is neither declared in "
            "the study nor in the bundled CT (SDTM CT 2025-03-28; ADaM CT 2025-09-26)",
        ),
    ],
)
def test_an_unknown_codelist_is_an_error(cid: str, message: str) -> None:
    cls, _ = _codelists()
    with pytest.raises(WriteError) as err:
        cls.use(cid, pd.Series(["x"]), "AE", "AEDECOD")
    assert str(err.value) == message
