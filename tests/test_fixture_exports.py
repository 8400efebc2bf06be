"""The bundled trial's other exports (fixtures/umsc/exports.py): ODM-XML 1.3.2 valid against
the ODM schema, SAS datasets with the forms' names, labels and SAS types, all rewritten byte
for byte by the generator (no clock in any header)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pyreadstat
import pytest
from lxml import etree

from cdisc_umsc.core.xmlsafe import safe_parser
from tests.conftest import ROOT, SHARED

EXPORTS = ROOT / "fixtures" / "umsc"
ODM_XSD = Path("reference/define-xml-2.1/schema/cdisc-odm-1.3.2/ODM1-3-2.xsd")
BUNDLED_XSD = ROOT / "cdisc_umsc" / "standards" / "data" / "define-xml-2.1" / "schema"


def _validate(xsd: Path) -> list[str]:
    schema = etree.XMLSchema(etree.parse(str(xsd), safe_parser()))
    doc = etree.parse(str(EXPORTS / "odm" / "umsc.xml"), safe_parser())
    schema.validate(doc)
    return [f"line {e.line}: {e.message}" for e in schema.error_log]


def test_odm_export_is_valid_odm_132():
    if not (SHARED / ODM_XSD).is_file():
        pytest.skip("shared reference material absent")
    assert _validate(SHARED / ODM_XSD) == []


def test_odm_export_is_valid_against_the_bundled_schema():
    assert _validate(BUNDLED_XSD / "cdisc-odm-1.3.2" / "ODM1-3-2.xsd") == []


def test_odm_export_shape():
    root = etree.parse(str(EXPORTS / "odm" / "umsc.xml"), safe_parser()).getroot()
    ns = {"o": "http://www.cdisc.org/ns/odm/v1.3"}
    assert root.get("ODMVersion") == "1.3.2" and root.get("FileType") == "Snapshot"
    assert root.get("CreationDateTime") == "2021-06-30T00:00:00"
    assert len(root.findall(".//o:SubjectData", ns)) == 17
    groups = root.findall(".//o:ItemGroupData", ns)
    assert len(groups) == 3042  # every CSV row of the ten forms
    (ae,) = root.xpath(
        "//o:SubjectData[@SubjectKey='002']//o:ItemGroupData"
        "[@ItemGroupOID='IG.AE' and @ItemGroupRepeatKey='2']",
        namespaces=ns,
    )
    values = {i.get("ItemOID"): i.get("Value") for i in ae.findall("o:ItemData", ns)}
    assert values["IT.AE.AESTDAT"] == "2019-05"  # UK/MAY/2019: an ODM partialDate
    assert "IT.AE.AESDTH" not in values  # blank: not sent
    sex = root.find(".//o:CodeList[@OID='CL.sex']", ns)
    assert [c.get("CodedValue") for c in sex.findall("o:CodeListItem", ns)] == ["男", "女"]


def test_sas_datasets_carry_names_labels_and_types():
    for kind, read in (("sas7bdat", pyreadstat.read_sas7bdat), ("xpt", pyreadstat.read_xport)):
        frame, meta = read(str(EXPORTS / kind / f"infusion.{kind}"))
        assert meta.table_name == "INFUSION" and meta.file_label == "Infusion log"
        assert meta.column_names_to_labels["TOTCELL"] == "Total cells infused (10^6)"
        types = meta.original_variable_types
        assert (types["INFDAT"], types["INFSTTIM"], types["DOSE"]) == ("DATE9.", "TIME5.", "12.1")
        assert str(frame["INFDAT"].iloc[0]) == "2019-01-15"
        assert frame["DOSE"].iloc[0] == 1.5
        assert str(meta.creation_time) == "2021-06-30 00:00:00"
    lab, meta = pyreadstat.read_sas7bdat(str(EXPORTS / "sas7bdat" / "lab.sas7bdat"))
    # reference limits printed with varying decimals stay character, as printed
    assert meta.readstat_variable_types["LBLOW"] == "string"


def _digests(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for kind in ("odm", "sas7bdat", "xpt")
        for p in sorted((folder / kind).iterdir())
    }


def test_generator_rewrites_the_same_bytes(tmp_path):
    script = EXPORTS / "make_raw.py"
    done = subprocess.run(
        [
            sys.executable,
            str(script),
            "--out",
            str(tmp_path / "raw"),
            "--coding",
            str(tmp_path / "coding.csv"),
            "--exports",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "odm: 3042 records = the CSV forms" in done.stdout
    assert _digests(tmp_path) == _digests(EXPORTS)
