"""The two defines of the bundled run as a reviewer reads them (cdisc_umsc/write/define/)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from lxml import etree

from cdisc_umsc.core.xmlsafe import parse_xml
from cdisc_umsc.write.define import ARM_NS, DEF_NS, ODM_NS, stylesheet_bytes, validate_define
from cdisc_umsc.write.folder import write_folder_define

NS = {"odm": ODM_NS, "def": DEF_NS, "arm": ARM_NS, "xlink": "http://www.w3.org/1999/xlink"}
#: what must never reach a reviewer: placeholders, spec syntax (braces, lists, file:line,
#: key=value), Python reprs (None, True, dict items) and raw non-ASCII CRF text
BAD = re.compile(
    r"not described|Algorithm for \w|[{}\[\]]|\.ya?ml\b|\w\.yaml:\d+|\b\w+=\w+|\bNone\b|"
    r"\bTrue\b|\bFalse\b|'\s*:\s*'|[^\x00-\x7f]"
)


@pytest.fixture(scope="module")
def defines(bundled_run) -> dict[str, etree._ElementTree]:
    _result, out = bundled_run
    return {part: parse_xml(out / part / "define.xml") for part in ("sdtm", "adam")}


def _texts(tree: etree._ElementTree) -> list[tuple[str, str]]:
    """(where, text) of every reviewer-facing text: descriptions, methods, comments, origins,
    analysis results (codelist items are data values, not prose)."""
    out = []
    for node in tree.iter(f"{{{ODM_NS}}}TranslatedText"):
        owner = node.getparent().getparent()
        if etree.QName(owner).localname in ("CodeListItem",):
            continue
        out.append((owner.get("OID") or etree.QName(owner).localname, node.text or ""))
    for method in tree.iter(f"{{{ODM_NS}}}MethodDef"):
        out.append((method.get("OID"), method.get("Name")))
    for code in tree.iter(f"{{{ARM_NS}}}Code"):
        out.append(("arm:Code", code.text or ""))
    return out


@pytest.mark.parametrize("part", ["sdtm", "adam"])
def test_no_placeholder_or_spec_syntax(defines, part) -> None:
    texts = _texts(defines[part])
    assert len(texts) > 300
    bad = [(where, text) for where, text in texts if BAD.search(text)]
    assert bad == []


def test_the_scan_catches_what_it_looks_for() -> None:
    for text in (
        "umsc/sdtm/dm.yaml:11: aggregate=min, of=EX.EXSTDTC",
        "hardcode=None",
        "Set to ONGOING, when {'AEONGO': '是'}",
        "Algorithm for ADAE.TRTEMFL: not described in the study specification",
        "Text assembled as {STUDYID}-{SITEID}-{SUBJID}",
        "of [SV.SVENDTC, AE.AEENDTC]",
    ):
        assert BAD.search(text), text
    assert not BAD.search("Y if AVAL is one of 0, 1, N otherwise; blank when AGE < 65")


@pytest.mark.parametrize("part", ["sdtm", "adam"])
def test_schema_valid_and_every_derived_item_has_a_method(defines, part) -> None:
    tree = defines[part]
    assert validate_define(tree) == []
    methods = {m.get("OID"): m for m in tree.iter(f"{{{ODM_NS}}}MethodDef")}
    refs = tree.xpath("//odm:ItemRef", namespaces=NS)
    items = {i.get("OID"): i for i in tree.iter(f"{{{ODM_NS}}}ItemDef")}
    derived = 0
    for ref in refs:
        origin = items[ref.get("ItemOID")].find(f"{{{DEF_NS}}}Origin")
        if origin is not None and origin.get("Type") == "Derived":
            derived += 1
            assert ref.get("MethodOID") in methods, ref.get("ItemOID")
    assert derived > 40
    # identical texts share one MethodDef
    texts = [m.findtext(".//odm:TranslatedText", namespaces=NS) for m in methods.values()]
    assert len(texts) == len(set(texts))


def test_study_description_is_the_title(defines) -> None:
    for tree in defines.values():
        text = tree.findtext(".//odm:GlobalVariables/odm:StudyDescription", namespaces=NS)
        assert text.startswith("A Phase 1/2a, Single-Arm, Open-Label Study of the Safety")
        assert "  " not in text


def test_datasets_by_class_with_supp_after_their_parents(defines) -> None:
    groups = defines["sdtm"].xpath("//odm:ItemGroupDef", namespaces=NS)
    assert [g.get("Name") for g in groups] == [
        "TA",
        "TE",
        "TI",
        "TS",
        "TV",
        "DM",
        "SE",
        "SV",
        "EC",
        "EX",
        "AE",
        "DS",
        "LB",
        "QS",
        "VS",
        "SUPPDM",
        "SUPPAE",
    ]
    flags = {g.get("Name"): (g.get("Repeating"), g.get("IsReferenceData")) for g in groups}
    assert flags["DM"] == ("No", "No") and flags["TS"] == ("No", "Yes")
    assert flags["AE"] == ("Yes", "No") and flags["TA"] == ("No", "Yes")
    adam = defines["adam"].xpath("//odm:ItemGroupDef", namespaces=NS)
    assert [(g.get("Name"), g.get("Repeating")) for g in adam] == [
        ("ADSL", "No"),
        ("ADLB", "Yes"),
        ("ADQS", "Yes"),
        ("ADAE", "Yes"),
    ]
    classes = {
        g.get("Name"): [
            (c.get("Name"), [s.get("Name") for s in c])
            for c in g.findall("def:Class", namespaces=NS)
        ]
        for g in adam
    }
    assert classes == {
        "ADSL": [("SUBJECT LEVEL ANALYSIS DATASET", [])],
        "ADLB": [("BASIC DATA STRUCTURE", [])],
        "ADQS": [("BASIC DATA STRUCTURE", [])],
        "ADAE": [("OCCURRENCE DATA STRUCTURE", ["ADVERSE EVENT"])],  # as the CDISC example
    }


def _origin(tree, oid: str) -> tuple[str | None, str | None, str | None]:
    node = tree.xpath(f"//odm:ItemDef[@OID='{oid}']/def:Origin", namespaces=NS)
    if not node:
        return None, None, None
    text = node[0].findtext(".//odm:TranslatedText", namespaces=NS)
    return node[0].get("Type"), node[0].get("Source"), text


def test_origins_by_class(defines) -> None:
    sdtm, adam = defines["sdtm"], defines["adam"]
    assert _origin(sdtm, "IT.TS.TSVAL.TITLE") == ("Protocol", "Sponsor", None)
    assert _origin(sdtm, "IT.TS.TSVAL.ACTSUB") == ("Derived", "Sponsor", None)
    assert _origin(sdtm, "IT.SE.SESEQ") == ("Derived", "Sponsor", None)
    assert _origin(sdtm, "IT.AE.USUBJID") == ("Derived", "Sponsor", None)
    assert _origin(sdtm, "IT.SUPPAE.QNAM") == ("Assigned", "Sponsor", None)
    assert _origin(sdtm, "IT.QS.QSORRES.PASI0229") == ("Derived", "Sponsor", None)
    assert _origin(sdtm, "IT.QS.QSORRES.PASI0201") == ("Collected", "Investigator", None)
    assert _origin(sdtm, "IT.QS.QSORRES") == (None, None, None)  # described per test
    assert _origin(adam, "IT.ADQS.TRT01P") == ("Predecessor", None, "ADSL.TRT01P")
    assert _origin(adam, "IT.ADSL.TRT01P") == ("Predecessor", None, "DM.ARM")
    assert _origin(adam, "IT.ADAE.AETERM") == ("Predecessor", None, "AE.AETERM")


def _codelist(tree, oid: str) -> list[str]:
    ref = tree.xpath(f"//odm:ItemDef[@OID='{oid}']/odm:CodeListRef/@CodeListOID", namespaces=NS)
    if not ref:
        return []
    return tree.xpath(f"//odm:CodeList[@OID='{ref[0]}']/*/@CodedValue", namespaces=NS)


def test_codelists(defines) -> None:
    sdtm, adam = defines["sdtm"], defines["adam"]
    assert _codelist(sdtm, "IT.DS.DSDECOD.PROTOCOL_MILESTONE") == [
        "ELIGIBILITY CRITERIA MET",
        "ENTERED INTO TRIAL",
        "INFORMED CONSENT OBTAINED",
    ]
    assert _codelist(sdtm, "IT.QS.QSTESTCD.STATIC_PHYSICIAN_GLOBAL_ASSESSMENT") == ["SPGA01"]
    assert len(_codelist(sdtm, "IT.QS.QSTESTCD.PASI_FELDMAN")) == 17
    assert _codelist(sdtm, "IT.LB.LBSTRESC") == []  # numeric results are never terms
    assert sdtm.xpath(
        "//odm:CodeList[odm:ExternalCodeList/@Dictionary='ISO 3166-1 alpha-3']/@OID",
        namespaces=NS,
    ) == ["CL.EXT.ISO_3166_1_alpha_3_2020"]
    assert _codelist(adam, "IT.ADQS.PARAMCD") == [
        "PASI40R",
        "PASI50R",
        "PASI75R",
        "PASI90R",
        "PASITOT",
        "PGA",
        "PGA01R",
    ]
    decode = adam.xpath(
        "//odm:CodeList[@OID='CL.PARAMCD.ADQS']/odm:CodeListItem[@CodedValue='PGA']"
        "/odm:Decode/odm:TranslatedText",
        namespaces=NS,
    )
    assert decode[0].text == "Static Physician Global Assessment (0-4)"
    assert _codelist(adam, "IT.ADSL.SAFFL") == ["N", "Y"]
    assert adam.xpath("//odm:ItemDef[@OID='IT.ADSL.AGE']/@DataType", namespaces=NS) == ["integer"]
    assert sdtm.xpath("//odm:ItemDef[@OID='IT.AE.AEPTCD']/@DataType", namespaces=NS) == ["integer"]


def test_analysis_results_as_the_spec_labels_them(defines) -> None:
    results = defines["adam"].xpath("//arm:AnalysisResult", namespaces=NS)
    assert {r.get("OID"): r.get("AnalysisPurpose") for r in results} == {
        "AR.ADQS.PASITOT.CRIT1": "PRIMARY OUTCOME MEASURE",
        "AR.ADQS.PASITOT.CRIT2": "SECONDARY OUTCOME MEASURE",
        "AR.ADQS.PASITOT.CRIT3": "SECONDARY OUTCOME MEASURE",
        "AR.ADQS.PASITOT.CRIT4": "SECONDARY OUTCOME MEASURE",
        "AR.ADQS.PGA.CRIT1": "PRIMARY OUTCOME MEASURE",
    }


def test_renders_from_its_folder(bundled_run) -> None:
    _result, out = bundled_run
    for part in ("sdtm", "adam"):
        folder = out / part
        assert (folder / "define2-1.xsl").read_bytes() == stylesheet_bytes()
        head = (folder / "define.xml").read_bytes()[:200]
        assert b'<?xml-stylesheet type="text/xsl" href="define2-1.xsl"?>' in head
        leaves = parse_xml(folder / "define.xml").xpath("//def:leaf/@xlink:href", namespaces=NS)
        assert leaves and all((folder / href).is_file() for href in leaves)


def test_run_and_define_sdtm_agree(bundled_run, tmp_path) -> None:
    """One rule for data types and lengths, whichever command writes the define."""
    _result, out = bundled_run
    folder = tmp_path / "sdtm"
    shutil.copytree(out / "sdtm", folder)
    write_folder_define(folder, "Tabulation")

    def items(path: Path) -> dict[str, tuple]:
        tree = parse_xml(path)
        return {
            i.get("OID"): (i.get("DataType"), i.get("Length"), i.get("SignificantDigits"))
            for i in tree.iter(f"{{{ODM_NS}}}ItemDef")
        }

    run_items, folder_items = items(out / "sdtm" / "define.xml"), items(folder / "define.xml")
    common = set(run_items) & set(folder_items)
    assert len(common) > 300
    assert {k: run_items[k] for k in common} == {k: folder_items[k] for k in common}
    variables = {k for k in run_items if k.count(".") == 2}
    assert variables <= set(folder_items)
    dtc = {k: v[0] for k, v in run_items.items() if k.count(".") == 2 and k.endswith("DTC")}
    assert sorted(set(dtc.values())) == ["date", "datetime", "partialDate"]


def test_documents_and_crf_pages(spec_copy, tmp_path) -> None:
    """The spec's aCRF and reviewer's guides are linked and copied; collected values cite
    the pages of their own form (Define-XML 2.1 sections 5.3.2, 5.3.3, 5.3.11.4)."""
    from cdisc_umsc.run import run
    from tests.conftest import RAW

    docs = spec_copy / "documents"
    docs.mkdir()
    for name in ("acrf.pdf", "csdrg.pdf", "adrg.pdf"):
        (docs / name).write_bytes(b"%PDF-1.4\n%%EOF\n")
    study = spec_copy / "study.yaml"
    text = study.read_text(encoding="utf-8").replace(
        "raw:\n",
        "documents:\n"
        "  acrf: {file: documents/acrf.pdf, title: Annotated CRF}\n"
        "  sdtm: [{id: csdrg, file: documents/csdrg.pdf, title: Clinical Study Data "
        "Reviewer's Guide}]\n"
        "  adam: [{id: adrg, file: documents/adrg.pdf, title: Analysis Data Reviewer's Guide}]\n"
        "\nraw:\n",
        1,
    )
    for form, pages in (("DM", "[3, 4]"), ("PASI", "7"), ("PGA", "8")):
        text = text.replace(f"  {form}:\n    file:", f"  {form}:\n    pages: {pages}\n    file:", 1)
    study.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    run(spec_copy, RAW, out)
    sdtm = parse_xml(out / "sdtm" / "define.xml")
    assert validate_define(sdtm) == []
    assert sdtm.xpath("//def:AnnotatedCRF/def:DocumentRef/@leafID", namespaces=NS) == ["LF.acrf"]
    assert sdtm.xpath("//def:SupplementalDoc/def:DocumentRef/@leafID", namespaces=NS) == [
        "LF.csdrg"
    ]
    leaves = dict(
        zip(
            sdtm.xpath("//def:leaf/@ID", namespaces=NS),
            sdtm.xpath("//def:leaf/@xlink:href", namespaces=NS),
            strict=True,
        )
    )
    assert (leaves["LF.acrf"], leaves["LF.csdrg"]) == ("acrf.pdf", "csdrg.pdf")
    assert (out / "sdtm" / "acrf.pdf").read_bytes() == (docs / "acrf.pdf").read_bytes()

    def pages(oid: str) -> list[str]:
        return sdtm.xpath(
            f"//odm:ItemDef[@OID='{oid}']/def:Origin/def:DocumentRef[@leafID='LF.acrf']"
            "/def:PDFPageRef/@PageRefs",
            namespaces=NS,
        )

    assert pages("IT.DM.SEX") == ["3 4"]
    assert pages("IT.QS.QSORRES.PASI0201") == ["7"]
    assert pages("IT.QS.QSORRES.SPGA01") == ["8"]
    assert pages("IT.QS.QSORRES.PASI0229") == []
    assert pages("IT.DM.USUBJID") == []
    html = (out / "sdtm" / "define.html").read_text(encoding="utf-8")
    assert "acrf.pdf" in html and "csdrg.pdf" in html
    adam = parse_xml(out / "adam" / "define.xml")
    assert adam.xpath("//def:SupplementalDoc/def:DocumentRef/@leafID", namespaces=NS) == ["LF.adrg"]
    assert not adam.xpath("//def:AnnotatedCRF", namespaces=NS)
    assert (out / "adam" / "adrg.pdf").is_file() and not (out / "adam" / "acrf.pdf").exists()


def test_leaves_name_the_format_written() -> None:
    from cdisc_umsc.run import dataset_files

    assert dataset_files(["AE", "SUPPAE"], "json") == {"AE": "ae.json", "SUPPAE": "suppae.json"}
    assert dataset_files(["AE"], "xpt") == dataset_files(["AE"], "both") == {"AE": "ae.xpt"}
