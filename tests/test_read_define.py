"""Reading another sponsor's define: codelists by OID, the standards it names
(cdisc_umsc/read/define.py)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from click.testing import CliRunner

from cdisc_umsc.cli import main
from cdisc_umsc.metadata.model import Dataset, Study, Variable
from cdisc_umsc.read.define import read_define, standard_notes
from cdisc_umsc.validate import validate_study
from cdisc_umsc.write.datasetjson import write_datasetjson

DEFINE = """<?xml version="1.0" encoding="UTF-8"?>
<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3" xmlns:def="http://www.cdisc.org/ns/def/v2.1"
     ODMVersion="1.3.2" FileOID="F" FileType="Snapshot" CreationDateTime="2024-01-01T00:00:00">
 <Study OID="S"><GlobalVariables><StudyName>S1</StudyName><StudyDescription>d</StudyDescription>
  <ProtocolName>S1</ProtocolName></GlobalVariables>
  <MetaDataVersion OID="MDV" Name="n" def:DefineVersion="2.1.0">
   <def:Standards>
    <def:Standard OID="STD.1" Name="{ig}" Type="IG" Version="3.4" Status="Final"/>
    <def:Standard OID="STD.2" Name="CDISC/NCI" Type="CT" PublishingSet="SDTM"
                  Version="2025-03-28" Status="Final"/>
   </def:Standards>
   <ItemGroupDef OID="IG.AE" Name="AE" Repeating="Yes" IsReferenceData="No" Purpose="Tabulation"
                 def:Structure="One record per adverse event per subject" def:StandardOID="STD.1">
    <Description><TranslatedText xml:lang="en">Adverse Events</TranslatedText></Description>
    <ItemRef ItemOID="IT.AE.USUBJID" OrderNumber="1" Mandatory="Yes" KeySequence="1"/>
    <ItemRef ItemOID="IT.AE.AESER" OrderNumber="2" Mandatory="No"/>
    <ItemRef ItemOID="IT.AE.AESDTH" OrderNumber="3" Mandatory="No"/>
    <def:Class Name="EVENTS"/>
   </ItemGroupDef>
   <ItemDef OID="IT.AE.USUBJID" Name="USUBJID" DataType="text" Length="8">
    <Description><TranslatedText xml:lang="en">Unique Subject Identifier</TranslatedText>
    </Description></ItemDef>
   <ItemDef OID="IT.AE.AESER" Name="AESER" DataType="text" Length="1">
    <Description><TranslatedText xml:lang="en">Serious Event</TranslatedText></Description>
    <CodeListRef CodeListOID="CL.NY"/></ItemDef>
   <ItemDef OID="IT.AE.AESDTH" Name="AESDTH" DataType="text" Length="1">
    <Description><TranslatedText xml:lang="en">Results in Death</TranslatedText></Description>
    <CodeListRef CodeListOID="CL.NY.Y"/></ItemDef>
   <CodeList OID="CL.NY" Name="No Yes Response" DataType="text">
    <EnumeratedItem CodedValue="N"><Alias Context="nci:ExtCodeID" Name="C49487"/></EnumeratedItem>
    <EnumeratedItem CodedValue="Y"><Alias Context="nci:ExtCodeID" Name="C49488"/></EnumeratedItem>
    <Alias Context="nci:ExtCodeID" Name="C66742"/></CodeList>
   <CodeList OID="CL.NY.Y" Name="No Yes Response (Y only)" DataType="text">
    <EnumeratedItem CodedValue="Y"><Alias Context="nci:ExtCodeID" Name="C49488"/></EnumeratedItem>
    <Alias Context="nci:ExtCodeID" Name="C66742"/></CodeList>
  </MetaDataVersion></Study></ODM>"""


def _define(tmp_path: Path, ig: str = "SDTMIG") -> Path:
    path = tmp_path / "define.xml"
    path.write_text(DEFINE.replace("{ig}", ig), encoding="utf-8")
    return path


AE = pd.DataFrame({"USUBJID": ["S1-1", "S1-1", "S1-2"], "AESER": ["N", "Y", "N"],
                   "AESDTH": ["", "Y", ""]})  # fmt: skip


def test_codelists_sharing_an_nci_code_stay_apart(tmp_path: Path) -> None:
    study = read_define(_define(tmp_path))
    ae = study.datasets["AE"]
    assert (ae.var("AESER").codelist, ae.var("AESDTH").codelist) == ("NY", "NY.Y")
    full, only_y = study.codelists["NY"], study.codelists["NY.Y"]
    assert (full.nci_code, only_y.nci_code) == ("C66742", "C66742")
    assert (full.values, only_y.values) == ({"N", "Y"}, {"Y"})
    assert not full.extensible  # as the bundled CT says of C66742
    findings = validate_study({"AE": AE}, study)
    ct = findings.frame[findings.frame["rule"].str.startswith(("UMSC-CT", "UMSC-PA"))]
    assert ct.empty, ct[["rule", "variable", "value", "message"]].to_string()
    # a value outside its own list is still one
    bad = validate_study({"AE": AE.assign(AESDTH=["N", "Y", ""])}, study).of("UMSC-CT0001")
    assert list(bad["variable"]) == ["AESDTH"] and list(bad["value"]) == ["N"]


def test_standard_names_are_reported(tmp_path: Path) -> None:
    assert standard_notes(read_define(_define(tmp_path))) == []
    typo = read_define(_define(tmp_path, "STDTMIG"))
    assert standard_notes(typo) == [
        "the define names the standard 'STDTMIG 3.4', which this tool does not know (it "
        "bundles SDTMIG 3.4 and ADaMIG 1.3); its datasets are checked by the data and the "
        "define only"
    ]
    device = Study("S", "SDTMIG-MD", "1.0", "")
    assert standard_notes(device) == [
        "the define names SDTMIG-MD 1.0: this tool does not bundle SDTMIG-MD; its datasets are "
        "checked by the data and the define only"
    ]
    # the SDTMIG under its Define-XML 1.0 name: the findings say which version judged it
    assert standard_notes(Study("S", "CDISC SDTM", "3.1.2", "")) == []


def test_validate_says_which_standard_the_define_names(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    variables = tuple(Variable(c, c, "Char", i) for i, c in enumerate(AE.columns, start=1))
    write_datasetjson(
        folder / "ae.json",
        AE,
        Dataset("AE", "Adverse Events", "", "", "", variables=variables),
        Study("S1", "SDTMIG", "3.4", "2025-03-28"),
        created="2024-01-01T00:00:00",
    )
    path = _define(tmp_path, "STDTMIG")
    result = CliRunner().invoke(main, ["validate", str(folder), "--define", str(path)])
    assert "the define names the standard 'STDTMIG 3.4'" in result.output
