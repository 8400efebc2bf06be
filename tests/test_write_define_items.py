"""ItemGroupDefs, ItemRefs, ItemDefs with def:Origin, value lists and MethodDefs (Define-XML 2.1
sections 5.3.4-5.3.7, 5.3.11, 5.3.11.4, 5.3.13; cdisc_umsc/write/define/items.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lxml import etree

from cdisc_umsc.core.errors import WriteError
from cdisc_umsc.metadata.model import Dataset, Study, ValueLevel, Variable
from cdisc_umsc.write.define.codelists import Codelists
from cdisc_umsc.write.define.items import (
    Build,
    Origin,
    item_def,
    item_group,
    structure_from_keys,
    subclass,
    write_origin,
)
from cdisc_umsc.write.define.nodes import DEF_NS, NSMAP, ODM_NS, XLINK_NS, q

NS = {"odm": ODM_NS, "def": DEF_NS}


def V(name: str, label: str, order: int, type_: str = "Char", **kw) -> Variable:
    return Variable(name, label, type_, order, **kw)


LB = Dataset(
    "LB",
    "Laboratory Test Results",
    "Findings",
    "One record per lab test per visit per subject",
    "SDTMIG 3.4",
    keys=("STUDYID", "USUBJID", "LBTESTCD"),
    variables=(
        V("STUDYID", "Study Identifier", 1, core="Req"),
        V("DOMAIN", "Domain Abbreviation", 2, core="Req"),
        V("USUBJID", "Unique Subject Identifier", 3, core="Req", key_sequence=2),
        V("LBSEQ", "Sequence Number", 4, "Num", origin="Derived", method="Sequence number"),
        V("LBTESTCD", "Lab Test Short Name", 5, key_sequence=3, role="Topic"),
        V("LBTEST", "Lab Test", 6),
        V("LBORRES", "Result", 7, pages=(12,)),
        V("LBORRESU", "Unit", 8, codelist="C71620"),
        V(
            "LBSTRESN",
            "Numeric Result",
            9,
            "Num",
            origin="Derived",
            method="Sequence number",  # the same text as LBSEQ's: one MethodDef
            comment="Standard units",
        ),
    ),
    value_level=(ValueLevel("LBORRES", "HCG", origin="Assigned", source="Vendor"),),
)
LB_DATA = pd.DataFrame(
    {
        "STUDYID": ["S1"] * 3,
        "DOMAIN": ["LB"] * 3,
        "USUBJID": ["S1-1", "S1-1", "S1-2"],
        "LBSEQ": [1.0, 2.0, 1.0],
        "LBTESTCD": ["GLUC", "HCG", "GLUC"],
        "LBTEST": ["Glucose", "hCG", "Glucose"],
        "LBORRES": ["5.5", "NEGATIVE", "12"],
        "LBORRESU": ["mmol/L", "", "mmol/L"],
        "LBSTRESN": [5.5, np.nan, 12.0],
    }
)


def _build(*datasets: Dataset, acrf: str | None = "LF.acrf") -> tuple[Build, list[str]]:
    study = Study("S1", "SDTMIG", "3.4", "2025-03-28", datasets={d.name: d for d in datasets})
    findings: list[str] = []
    return Build(study, Codelists(study, findings), {}, acrf=acrf), findings


def _mdv() -> etree._Element:
    return etree.Element(q(ODM_NS, "MetaDataVersion"), nsmap=NSMAP)


def _written(
    ds: Dataset, frame: pd.DataFrame, purpose: str = "Tabulation", value_lists=None
) -> tuple[etree._Element, Build]:
    b, _ = _build(ds)
    mdv = _mdv()
    item_group(mdv, b, ds, frame, purpose, value_lists or {})
    for var, info in b.item_defs + b.value_defs:
        item_def(mdv, b, var, info)
    b.write_methods(mdv)
    return mdv, b


def _origin(node: etree._Element | None) -> tuple:
    """(Type, Source, description, pages) of the def:Origin under ``node``."""
    origin = node.find(q(DEF_NS, "Origin"))
    if origin is None:
        return ()
    pages = origin.find(f"{{{DEF_NS}}}DocumentRef/{{{DEF_NS}}}PDFPageRef")
    return (
        origin.get("Type"),
        origin.get("Source"),
        origin.findtext(f"{{{ODM_NS}}}Description/{{{ODM_NS}}}TranslatedText"),
        None if pages is None else pages.get("PageRefs"),
    )


# --------------------------------------------------------------------------- small helpers


def test_structure_from_keys() -> None:
    ds = Dataset("XX", "X", "Findings", "", "", keys=("STUDYID", "USUBJID", "XXTESTCD", "DOMAIN"))
    assert structure_from_keys(ds) == "One record per XXTESTCD per USUBJID"
    assert structure_from_keys(Dataset("XX", "X", "Findings", "", "", keys=("STUDYID",))) == (
        "One record per record of the dataset (no key variables are known)"
    )


@pytest.mark.parametrize(
    "cls, columns, sub",
    [
        ("OCCURRENCE DATA STRUCTURE", ["AEDECOD"], "ADVERSE EVENT"),
        ("OCCURRENCE DATA STRUCTURE", ["CMDECOD"], None),
        ("BASIC DATA STRUCTURE", ["CNSR"], "TIME-TO-EVENT"),
        ("BASIC DATA STRUCTURE", ["AVAL"], None),
        ("SUBJECT LEVEL ANALYSIS DATASET", ["CNSR", "AETERM"], None),
    ],
)
def test_subclass(cls: str, columns: list[str], sub: str | None) -> None:
    assert subclass(cls, pd.DataFrame(columns=columns)) == sub


def test_identical_method_texts_share_one_method_def() -> None:
    b, _ = _build()
    assert b.method("Sum of A", "DS.A") == "MT.DS.A"
    assert b.method("Other", "DS.B") == "MT.DS.B"
    for name in ("DS.C", "DS.D", "DS.E"):
        assert b.method("Sum of A", name) == "MT.DS.A"
    mdv = _mdv()
    b.write_methods(mdv)
    # more than three variables: the first three and how many more
    assert [(m.get("OID"), m.get("Name")) for m in mdv] == [
        ("MT.DS.A", "Algorithm to derive DS.A, DS.C, DS.D and 1 more"),
        ("MT.DS.B", "Algorithm to derive DS.B"),
    ]


# --------------------------------------------------------------------------- def:Origin


@pytest.mark.parametrize(
    "origin, expected",
    [
        # a default Source per origin type (Define-XML 2.1 section 5.3.11.4)
        (Origin("Collected"), ("Collected", "Investigator", None, None)),
        (Origin("Assigned"), ("Assigned", "Sponsor", None, None)),
        (Origin("Derived"), ("Derived", "Sponsor", None, None)),
        (Origin("Protocol"), ("Protocol", "Sponsor", None, None)),
        (Origin("Not Available"), ("Not Available", None, None, None)),
        # a Source term given is kept; other source text is the description
        (Origin("Collected", "Subject"), ("Collected", "Subject", None, None)),
        (Origin("Collected", "the diary"), ("Collected", "Investigator", "the diary", None)),
        # a predecessor names its variable, with no Source
        (Origin("Predecessor", "DM.AGE"), ("Predecessor", None, "DM.AGE", None)),
        (Origin("Collected", pages=(3, 12)), ("Collected", "Investigator", None, "3 12")),
    ],
)
def test_write_origin(origin: Origin, expected: tuple) -> None:
    b, _ = _build()
    node = etree.Element("x")
    write_origin(node, b, origin, "here")
    assert _origin(node) == expected


@pytest.mark.parametrize(
    "origin, acrf, message",
    [
        (
            Origin("eCRF"),
            "LF.acrf",
            "define: here: origin 'eCRF' is not a Define-XML 2.1 origin type (Assigned, "
            "Collected, Derived, Not Available, Other, Predecessor, Protocol)",
        ),
        (
            Origin("Predecessor"),
            "LF.acrf",
            "define: here: origin Predecessor needs the predecessor variable in source "
            "(e.g. DM.AGE)",
        ),
        (
            Origin("Collected", pages=(4,)),
            None,
            "define: here: CRF pages [4] are given but the study names no annotated CRF",
        ),
    ],
)
def test_write_origin_errors(origin: Origin, acrf: str | None, message: str) -> None:
    b, _ = _build(acrf=acrf)
    with pytest.raises(WriteError) as err:
        write_origin(etree.Element("x"), b, origin, "here")
    assert str(err.value) == message


# --------------------------------------------------------------------------- ItemGroupDef


def test_item_group_def_and_item_refs() -> None:
    mdv, b = _written(LB, LB_DATA)
    group = mdv.find(q(ODM_NS, "ItemGroupDef"))
    assert dict(group.attrib) == {
        "OID": "IG.LB",
        "Domain": "LB",
        "Name": "LB",
        "Repeating": "Yes",
        "IsReferenceData": "No",
        "SASDatasetName": "LB",
        q(DEF_NS, "Structure"): "One record per lab test per visit per subject",
        "Purpose": "Tabulation",
        q(DEF_NS, "StandardOID"): "STD.IG",
        q(DEF_NS, "ArchiveLocationID"): "LF.LB",
    }
    refs = [dict(r.attrib) for r in group.findall(q(ODM_NS, "ItemRef"))]
    assert refs[2] == {
        "ItemOID": "IT.LB.USUBJID",
        "Mandatory": "Yes",
        "OrderNumber": "3",
        "KeySequence": "2",
    }
    assert refs[3] == {
        "ItemOID": "IT.LB.LBSEQ",
        "Mandatory": "No",
        "OrderNumber": "4",
        "MethodOID": "MT.LB.LBSEQ",
    }
    assert refs[4]["Role"] == "Topic"
    # LBSTRESN is derived the same way as LBSEQ: it shares the MethodDef
    assert refs[8]["MethodOID"] == "MT.LB.LBSEQ"
    assert group.find(q(DEF_NS, "Class")).get("Name") == "FINDINGS"
    leaf = group.find(q(DEF_NS, "leaf"))
    assert (leaf.get("ID"), leaf.get(q(XLINK_NS, "href"))) == ("LF.LB", "lb.xpt")
    assert b.comments == [("COM.LB.LBSTRESN", "Standard units")]


def test_item_defs_are_measured_on_the_data() -> None:
    mdv, _b = _written(LB, LB_DATA, value_lists={("LB", "LBORRES"): "LBTESTCD"})
    items = {i.get("OID"): i for i in mdv.findall(q(ODM_NS, "ItemDef"))}
    got = {
        oid: (i.get("DataType"), i.get("Length"), i.get("SignificantDigits"))
        for oid, i in items.items()
    }
    assert got == {
        "IT.LB.STUDYID": ("text", "2", None),
        "IT.LB.DOMAIN": ("text", "2", None),
        "IT.LB.USUBJID": ("text", "4", None),
        "IT.LB.LBSEQ": ("integer", "1", None),
        "IT.LB.LBTESTCD": ("text", "4", None),
        "IT.LB.LBTEST": ("text", "7", None),
        "IT.LB.LBORRES": ("text", "8", None),
        "IT.LB.LBORRESU": ("text", "6", None),
        # 5.5 and 12: two integer digits and one fraction digit (Define-XML 2.1 section 5.3.11)
        "IT.LB.LBSTRESN": ("float", "3", "1"),
        "IT.LB.LBORRES.GLUC": ("float", "3", "1"),
        "IT.LB.LBORRES.HCG": ("text", "8", None),
    }
    assert items["IT.LB.LBORRESU"].find(q(ODM_NS, "CodeListRef")).get("CodeListOID") == (
        "CL.C71620"
    )
    assert items["IT.LB.LBSTRESN"].get(q(DEF_NS, "CommentOID")) == "COM.LB.LBSTRESN"
    assert _origin(items["IT.LB.LBSEQ"]) == ("Derived", "Sponsor", None, None)


def test_value_level_items_carry_their_own_origin() -> None:
    mdv, b = _written(LB, LB_DATA, value_lists={("LB", "LBORRES"): "LBTESTCD"})
    items = {i.get("OID"): i for i in mdv.findall(q(ODM_NS, "ItemDef"))}
    # HCG's origin differs from the variable's: the variable states none, each value its own
    assert _origin(items["IT.LB.LBORRES"]) == ()
    assert items["IT.LB.LBORRES"].find(q(DEF_NS, "ValueListRef")).get("ValueListOID") == (
        "VL.LB.LBORRES"
    )
    assert _origin(items["IT.LB.LBORRES.GLUC"]) == ("Collected", "Investigator", None, "12")
    assert _origin(items["IT.LB.LBORRES.HCG"])[:2] == ("Assigned", "Vendor")
    assert items["IT.LB.LBORRES.GLUC"].findtext(".//odm:TranslatedText", namespaces=NS) == (
        "Glucose (mmol/L)"
    )
    assert b.value_lists == [
        (
            "VL.LB.LBORRES",
            [
                ("IT.LB.LBORRES.GLUC", "WC.LB.LBTESTCD.GLUC", None),
                ("IT.LB.LBORRES.HCG", "WC.LB.LBTESTCD.HCG", None),
            ],
        )
    ]
    assert b.where == [
        ("WC.LB.LBTESTCD.GLUC", [("IT.LB.LBTESTCD", "EQ", ["GLUC"])]),
        ("WC.LB.LBTESTCD.HCG", [("IT.LB.LBTESTCD", "EQ", ["HCG"])]),
    ]


def test_a_result_codelist_applies_to_text_results_only() -> None:
    # SDTMIG 3.4 section 4.5.1: a number is never a term of a result codelist
    var = V("LBORRES", "Result", 2, codelist="C85494")
    ds = Dataset("LB", "Lab", "Findings", "s", "SDTMIG 3.4", variables=(V("LBTESTCD", "T", 1), var))
    numbers = pd.DataFrame({"LBTESTCD": ["A", "B"], "LBORRES": ["1", "POSITIVE"]})
    mdv, _ = _written(ds, numbers)
    assert mdv.find(f".//{{{ODM_NS}}}ItemDef/{{{ODM_NS}}}CodeListRef") is None
    words = pd.DataFrame({"LBTESTCD": ["A", "B"], "LBORRES": ["NEGATIVE", "POSITIVE"]})
    mdv, _ = _written(ds, words)
    refs = mdv.xpath("//odm:ItemDef[@OID='IT.LB.LBORRES']/odm:CodeListRef", namespaces=NS)
    assert [r.get("CodeListOID") for r in refs] == ["CL.C85494"]


def test_an_analysis_dataset_gets_parameter_codelists_from_the_data() -> None:
    ds = Dataset(
        "ADLB",
        "Lab Analysis",
        "Basic Data Structure",
        "One record per subject per parameter",
        "ADaMIG 1.3",
        purpose="Analysis",
        keys=("USUBJID", "PARAMCD"),
        variables=(
            V("USUBJID", "Unique Subject Identifier", 1),
            V("PARAMCD", "Parameter Code", 2, role="Topic"),
            V("PARAM", "Parameter", 3),
            V("AVAL", "Analysis Value", 4, "Num"),
            V("CNSR", "Censor", 5, "Num"),
        ),
    )
    frame = pd.DataFrame(
        {
            "USUBJID": ["1", "1"],
            "PARAMCD": ["TTE2", "TTE1"],
            "PARAM": ["Time 2", "Time 1"],
            "AVAL": [3.0, 4.0],
            "CNSR": [0.0, 1.0],
        }
    )
    mdv, b = _written(ds, frame, purpose="Analysis")
    group = mdv.find(q(ODM_NS, "ItemGroupDef"))
    # an analysis dataset has no Domain and its ItemRefs no Role
    assert group.get("Domain") is None
    assert all(r.get("Role") is None for r in group.findall(q(ODM_NS, "ItemRef")))
    cls = group.find(q(DEF_NS, "Class"))
    assert cls.get("Name") == "BASIC DATA STRUCTURE"
    assert cls.find(q(DEF_NS, "SubClass")).get("Name") == "TIME-TO-EVENT"
    paramcd = b.codelists.entries["PARAMCD.ADLB"].cl
    assert [(t.value, t.decode) for t in paramcd.terms] == [("TTE1", "Time 1"), ("TTE2", "Time 2")]
    assert paramcd.name == "Parameter Code (ADLB)"
    assert [t.value for t in b.codelists.entries["PARAM.ADLB"].cl.terms] == ["Time 1", "Time 2"]


@pytest.mark.parametrize(
    "ds, repeating, reference",
    [
        # one record per subject: not repeating
        (Dataset("DM", "Demographics", "Special-Purpose", "s", "", keys=("STUDYID", "USUBJID")),
         "No", "No"),
        # trial design: reference data, no subject
        (Dataset("TA", "Trial Arms", "Trial Design", "s", "", keys=("STUDYID", "ARMCD")),
         "No", "Yes"),
        (Dataset("AE", "Adverse Events", "Events", "s", "", keys=("USUBJID", "AETERM")),
         "Yes", "No"),
    ],
)  # fmt: skip
def test_repeating_and_reference_data(ds: Dataset, repeating: str, reference: str) -> None:
    frame = pd.DataFrame(columns=["USUBJID"] if ds.name != "TA" else ["ARMCD"])
    b, _ = _build(ds)
    mdv = _mdv()
    item_group(mdv, b, ds, frame, "Tabulation", {})
    group = mdv.find(q(ODM_NS, "ItemGroupDef"))
    assert (group.get("Repeating"), group.get("IsReferenceData")) == (repeating, reference)


def test_a_dataset_of_another_standard_gets_its_own_standard_oid() -> None:
    ds = Dataset("XX", "X", "Findings", "s", "SDTMIG-MD 1.1", keys=("USUBJID",))
    b, _ = _build(ds)
    mdv = _mdv()
    item_group(mdv, b, ds, pd.DataFrame(columns=["USUBJID"]), "Tabulation", {})
    assert mdv.find(q(ODM_NS, "ItemGroupDef")).get(q(DEF_NS, "StandardOID")) == "STD.IG.2"
    assert b.other_igs == {"SDTMIG-MD 1.1": "STD.IG.2"}


@pytest.mark.parametrize(
    "ds, message",
    [
        (
            Dataset("XX", "X", "", "s", ""),
            "define: dataset XX: no class (def:Class) is known for it; it is not in the "
            "standard the study uses, so its metadata must give one",
        ),
        (
            Dataset("XX", "X", "Findings", "s", "SDTMIG"),
            "define: dataset XX: standard 'SDTMIG' must read '<name> <version>', e.g. 'SDTMIG 3.4'",
        ),
        (
            Dataset("XX", "X", "Findings", "s", "", variables=(V("A", "A", 1, origin="Derived"),)),
            "define: dataset XX, variable A: origin Derived needs a method (the derivation in "
            "words), and the metadata gives none",
        ),
    ],
)
def test_item_group_errors(ds: Dataset, message: str) -> None:
    b, _ = _build(ds)
    with pytest.raises(WriteError) as err:
        item_group(_mdv(), b, ds, pd.DataFrame({"A": ["x"]}), "Tabulation", {})
    assert str(err.value) == message
