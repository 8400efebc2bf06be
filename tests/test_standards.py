"""Tests for the bundled standards (scripts/build_standards.py, cdisc_umsc.metadata.standards)."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cdisc_umsc.metadata import standards as S
from cdisc_umsc.standards import data_file
from tests.conftest import load_script

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
DATA = REPO / "cdisc_umsc" / "standards" / "data"
SCRIPT = REPO / "scripts" / "build_standards.py"

needs_shared = pytest.mark.skipif(not (SHARED / "reference").is_dir(), reason="../shared absent")


def _script():
    return load_script("scripts/build_standards.py")


# --------------------------------------------------------------------------- manifest / bundle


def test_versions() -> None:
    assert S.versions() == {
        "SDTMIG": "3.4",
        "ADaMIG": "1.3",
        "SDTM": "2.0",
        "SDTM CT": "2025-03-28",
        "ADaM CT": "2025-09-26",
        "Define-XML CT": "2025-09-26",
    }
    titles = {s["title"] for s in S.manifest()["standards"] if s.get("default", True)}
    # other CT releases (the CORE cache's ADaM and Define-XML CT) are bundled too
    assert len(S.bundled_versions("ct", "ADaM CT")) == 22
    assert "2016-03-25" in S.bundled_versions("ct", "ADaM CT")
    assert len(S.bundled_versions("ct", "Define-XML CT")) == 18
    old = S.controlled_terminology("ADaM", "2016-03-25")
    assert len(old) == 7 and old.codelist("DTYPE") is not None
    assert S.resolve_in_use({"adam_ct": "ADaM CT 2016-03-25"}).adam_ct == "2016-03-25"
    assert titles == {
        "CORE rules SDTMIG 3.2-3.4",
        "SDTMIG 3.4",
        "ADaMIG 1.3",
        "SDTM 2.0",
        "SDTM CT 2025-03-28",
        "ADaM CT 2025-09-26",
        "Define-XML CT 2025-09-26",
    }


def test_manifest_hashes_match_bundled_files() -> None:
    for std in S.manifest()["standards"]:
        for info in std["files"].values():
            data = data_file(info["file"]).read_bytes()
            assert hashlib.sha256(data).hexdigest() == info["sha256"], info["file"]


@needs_shared
def test_manifest_hashes_match_sources() -> None:
    for std in S.manifest()["standards"]:
        for src in std["sources"]:
            digest = hashlib.sha256((SHARED / src["path"]).read_bytes()).hexdigest()
            assert digest == src["sha256"], src["path"]


@needs_shared
def test_rebuild_gives_identical_bytes(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--shared", str(SHARED), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    built = sorted(p.name for p in tmp_path.iterdir())
    # sub-folders (e.g. the bundled Define-XML schemas) are copied, not built by the script
    committed = sorted(p.name for p in DATA.iterdir() if p.is_file() and not p.name.startswith("."))
    assert built == committed
    for name in built:
        assert (tmp_path / name).read_bytes() == (DATA / name).read_bytes(), name


def test_build_reports_bad_source_row(tmp_path: Path) -> None:
    ig = tmp_path / "reference" / "standards" / "sdtmig-3.4"
    ig.mkdir(parents=True)
    (ig / "Datasets.csv").write_text(
        '\ufeff"Version","Class","Dataset Name","Dataset Label","Structure"\n'
        '"SDTMIG v3.4","Events","AE","Adverse Events","One record per event"\n',
        encoding="utf-8",
    )
    head = (
        '"Version","Variable Order","Class","Dataset Name","Variable Name","Variable Label",'
        '"Type","CDISC CT Codelist Code(s)","Codelist Submission Values",'
        '"Described Value Domain(s)","Value List","Role","CDISC Notes","Core"\n'
    )
    good = (
        '"SDTMIG v3.4","1","Events","AE","STUDYID","Study Identifier","Char","","",,"",'
        '"Identifier","x","Req"\n'
    )
    bad = (
        '"SDTMIG v3.4","2","Events","AE","AESEV","Severity","Text","C66769","",,"",'
        '"Record Qualifier","","Perm"\n'
    )
    (ig / "Variables.csv").write_text(head + good + bad, encoding="utf-8")
    mod = _script()
    expected = r"Variables\.csv: line 3: column 'Type': expected Char or Num, got 'Text'"
    with pytest.raises(mod.SourceError, match=expected):
        mod.build_sdtmig(tmp_path)


def test_usage_restriction_phrases() -> None:
    parse = _script().parse_usage
    assert parse("CP, IS, and LB domains only") == ("CP IS LB", "", "", "all")
    assert parse("Not in human clinical trials; EX domain only") == ("EX", "", "", "nonclinical")
    assert parse("Not in QS, FT, and clinical classifications use case of RS") == (
        "",
        "FT QS",
        "",
        "all",
    )
    assert parse("Not in Findings class domains") == ("", "", "FINDINGS", "all")
    with pytest.raises(ValueError):
        parse("Only on Tuesdays")


# --------------------------------------------------------------------------- SDTMIG / ADaMIG


def test_sdtmig_tables() -> None:
    ds = S.ig_datasets()
    assert list(ds.columns) == ["dataset", "label", "cls", "structure", "keys"]
    assert len(ds) == 63
    assert S.ig_keys("DM") == ("STUDYID", "USUBJID")
    assert S.ig_keys("SUPPLBCH") == S.ig_keys("SUPPQUAL") == (
        "STUDYID", "RDOMAIN", "USUBJID", "IDVAR", "IDVARVAL", "QNAM",
    )  # fmt: skip
    assert S.ig_keys("TS") == ("STUDYID", "TSPARMCD", "TSSEQ")
    assert S.ig_keys("AE") == () and S.ig_keys("LBCH") == ()  # not stated one to one
    ae = ds.set_index("dataset").loc["AE"]
    assert (ae["label"], ae["cls"]) == ("Adverse Events", "Events")
    v = S.ig_variables()
    assert list(v.columns) == [
        "dataset",
        "order",
        "variable",
        "label",
        "type",
        "codelist",
        "codelists",
        "codelist_values",
        "core",
        "role",
        "cls",
        "described_value_domain",
        "value_list",
    ]
    assert v["order"].dtype == "int64" and len(v) == 1917
    assert set(v["core"]) == {"Req", "Exp", "Perm"}


def test_dm_sex() -> None:
    row = S.ig_variable("SDTMIG", "3.4", "DM", "SEX")
    assert row is not None
    assert (row["label"], row["type"], row["codelist"], row["core"]) == (
        "Sex",
        "Char",
        "C66731",
        "Req",
    )
    assert row["role"] == "Record Qualifier" and row["cls"] == "Special-Purpose"


def test_ae_sev_and_first_codelist() -> None:
    assert S.ig_variable("SDTMIG", "3.4", "AE", "AESEV")["codelist"] == "C66769"
    ds = S.ig_variable("SDTMIG", "3.4", "DS", "DSDECOD")
    assert ds["codelists"] == "C66727; C114118; C150811" and ds["codelist"] == "C66727"
    assert S.ig_variable("SDTMIG", "3.4", "AE", "NOTAVAR") is None
    assert S.ig_variable("SDTMIG", "3.4", "SUPPAE", "QNAM")["dataset"] == "SUPPQUAL"


def test_returned_frames_do_not_leak_into_cache() -> None:
    v = S.ig_variables()
    v.loc[:, "label"] = "changed"
    assert S.ig_variable("SDTMIG", "3.4", "DM", "SEX")["label"] == "Sex"
    assert (S.ig_variables()["label"] != "changed").all()


def test_adamig_tables() -> None:
    ds = S.ig_datasets("ADaMIG", "1.3")
    assert list(ds["dataset"]) == ["ADSL", "BDS", "TTE"]
    assert ds.set_index("dataset").loc["ADSL", "structure"] == "One record per subject."
    v = S.ig_variables("ADaMIG", "1.3")
    assert set(v["dataset"]) == {"ADSL", "BDS"}
    assert "variable_set" in v.columns
    adsl = v[v["dataset"] == "ADSL"]
    assert list(adsl["order"]) == list(range(1, len(adsl) + 1))
    trtsdt = S.ig_variable("ADaMIG", "1.3", "ADSL", "TRTSDT")
    assert (trtsdt["type"], trtsdt["label"]) == ("Num", "Date of First Exposure to Treatment")
    sex = S.ig_variable("ADaMIG", "1.3", "ADSL", "SEX")
    assert (sex["codelist"], sex["codelist_values"]) == ("C66731", "SEX")


@pytest.mark.parametrize(
    ("name", "template"),
    [
        ("TRT01P", "TRTxxP"),
        ("TRT01PN", "TRTxxPN"),
        ("CRIT1FL", "CRITyFL"),
        ("CRIT1", "CRITy"),
        ("ANL01FL", "ANLzzFL"),
        ("A1LO", "AyLO"),
        ("R2A1LO", "R2AyLO"),
        ("SHIFT1", "SHIFTy"),
        ("PARCAT1", "PARCATy"),
        ("AVALCAT1", "AVALCATy"),
        ("TR02PG12", "TRxxPGy"),
        ("P01S1", "PxxSw"),
        ("TRTSDT", "TRTSDT"),
        ("AVAL", "AVAL"),
        ("LBSDT", "*SDT"),
        ("LBSTDT", "*DT"),
        ("TRT1P", None),
        ("ANL1FL", None),
        ("CRIT0FL", None),
        ("NOTANAME", None),
    ],
)
def test_adam_variable_pattern(name: str, template: str | None) -> None:
    assert S.adam_variable_pattern(name) == template


_PLACEHOLDER = {
    "xx": st.integers(1, 99).map("{:02d}".format),
    "zz": st.integers(1, 99).map("{:02d}".format),
    "y": st.integers(1, 99).map(str),
    "w": st.integers(1, 9).map(str),
}
_TEMPLATES = sorted(
    t
    for t in set(S.ig_variables("ADaMIG", "1.3")["variable"])
    if re.search(r"xx|zz|y|w", t) and "*" not in t
)


@st.composite
def _concrete(draw: st.DrawFn) -> tuple[str, str]:
    template = draw(st.sampled_from(_TEMPLATES))
    parts = re.split(r"(xx|zz|y|w)", template)
    name = "".join(draw(_PLACEHOLDER[p]) if i % 2 else p for i, p in enumerate(parts))
    return template, name


@given(_concrete())
def test_adam_placeholders_resolve_uniquely(pair: tuple[str, str]) -> None:
    template, name = pair
    expected = template if len(name) <= 8 else None
    assert S.adam_variable_pattern(name) == expected


def test_adam_ig_variable_resolves_templates() -> None:
    row = S.ig_variable("ADaMIG", "1.3", "ADSL", "TRT01P")
    assert (row["variable"], row["type"], row["core"]) == ("TRTxxP", "Char", "Req")
    assert S.ig_variable("ADaMIG", "1.3", "BDS", "CRIT1FL")["variable"] == "CRITyFL"
    cnsr = S.ig_variable("ADaMIG", "1.3", "TTE", "CNSR")  # TTE is a BDS subclass
    assert (cnsr["dataset"], cnsr["type"]) == ("BDS", "Num")
    assert S.ig_variable("ADaMIG", "1.3", "ADSL", "CRIT1FL") is None


def test_unknown_standard_version() -> None:
    with pytest.raises(S.StandardsError, match="SDTMIG 3.3 is not bundled"):
        S.ig_variables("SDTMIG", "3.3")
    with pytest.raises(S.StandardsError, match="not bundled"):
        S.controlled_terminology("SDTM", "2024-12-20")


# --------------------------------------------------------------------------- SDTM model


def test_model_variables() -> None:
    m = S.model_variables()
    term = m[(m["cls"] == "Events") & (m["variable"] == "--TERM")].iloc[0]
    assert (term["label"], term["type"], term["role"]) == ("Reported Term", "Char", "Topic")
    assert set(S.model_datasets()["dataset"]) >= {"DM", "CO", "SE", "SV", "TS", "SUPPQUAL"}


def test_model_allows() -> None:
    ig_ae = set(S.ig_variables().query("dataset == 'AE'")["variable"])
    assert "AELAT" not in ig_ae and "AEPORTOT" not in ig_ae
    assert S.model_allows("Events", "AE", "AELAT")  # Events --LAT
    assert S.model_allows("EVENTS", "AE", "AEPORTOT")
    assert S.model_allows("Events", "AE", "VISITNUM")  # general observation timing
    assert not S.model_allows("Events", "AE", "AEFOOBAR")
    assert not S.model_allows("Events", "AE", "AEOCCUR")  # model: "Not in AE domain"
    assert S.model_allows("Events", "MH", "MHOCCUR")
    assert not S.model_allows("Findings", "LB", "LBSTDTC")  # "Not in Findings class domains"
    assert S.model_allows("Findings", "LB", "LBPTFL") and not S.model_allows(
        "Findings", "VS", "VSPTFL"
    )
    assert S.model_allows("Findings About", "FA", "FAOBJ")
    assert S.model_allows("Findings About", "FA", "FAORRES")
    assert not S.model_allows("Findings", "LB", "LBOBJ")
    assert S.model_allows("Special-Purpose", "DM", "RACE")
    assert not S.model_allows("Special Purpose", "DM", "SPECIES")
    assert S.model_allows("Special Purpose", "DM", "SPECIES", nonclinical=True)
    assert S.model_allows("Relationship", "SUPPAE", "QNAM")
    assert S.model_allows("Events", "APMH", "APID") and S.model_allows("Events", "APMH", "MHTERM")
    with pytest.raises(S.StandardsError, match="no dataset 'XX' in class 'Trial Design'"):
        S.model_allows("Trial Design", "XX", "XXSEQ")


# --------------------------------------------------------------------------- controlled terminology


def test_sex_codelist() -> None:
    ct = S.controlled_terminology()
    sex = ct.codelist("C66731")
    assert sex is ct.codelist("SEX")
    assert (sex.name, sex.submission_value, sex.extensible) == ("Sex", "SEX", False)
    assert list(sex.terms) == ["F", "INTERSEX", "M", "U"]
    f = sex.terms["F"]
    assert (f.code, f.synonyms, f.preferred_term) == ("C16576", ("Female",), "Female")
    assert sex.terms["U"].synonyms == ("U", "UNK", "Unknown")


def test_lookup_and_synonyms() -> None:
    ct = S.controlled_terminology()
    assert ct.lookup("SEX", "M").code == "C20197"
    assert ct.lookup("SEX", "m") is None and ct.lookup("SEX", "Male") is None
    assert ct.lookup_synonym("SEX", "male").submission_value == "M"
    assert ct.lookup_synonym("C66731", "unk").submission_value == "U"
    assert ct.lookup_synonym("SEX", "Intersex").submission_value == "INTERSEX"
    assert ct.lookup_synonym("SEX", "other") is None
    # UNIT holds both "Pa" (pascal) and "PA" (per annum): exact wins, case-folded is ambiguous.
    assert ct.lookup_synonym("UNIT", "Pa").code != ct.lookup_synonym("UNIT", "PA").code
    assert ct.lookup_synonym("UNIT", "pa") is None
    with pytest.raises(S.StandardsError, match="has no codelist 'NOPE'"):
        ct.lookup("NOPE", "x")
    assert ct.codelist("NOPE") is None


def test_unit_lbtestcd_pasi() -> None:
    ct = S.controlled_terminology("SDTM", "2025-03-28")
    unit = ct.codelist("C71620")
    assert unit.submission_value == "UNIT" and unit.extensible
    assert "umol/L" in unit.terms
    assert ct.lookup("LBTESTCD", "INTLK17").code == "C74813"
    pasi = ct.codelist("C179936")
    assert pasi.submission_value == "PASI02TC" and not pasi.extensible
    assert set(pasi.terms) == {f"PASI02{i:02d}" for i in range(1, 30)}
    assert len(ct) == 1158 and "C179936" in ct and "PASI02TC" in ct


def test_adam_and_define_xml_ct() -> None:
    adam = S.controlled_terminology("ADaM", "2025-09-26")
    assert set(adam.codelist("DATEFL").terms) == {"D", "M", "Y"}
    assert adam.codelist("C81226").name == "Time Imputation Flag"
    define = S.controlled_terminology("define-xml", "2025-09-26")
    gen = define.codelist("C103329")
    assert gen.submission_value == "GNRLOBSC"
    assert define.lookup_synonym(gen, "Special-Purpose").submission_value == "SPECIAL PURPOSE"
    assert define.lookup_synonym(gen, "OCCDS").submission_value == "OCCURRENCE DATA STRUCTURE"
    assert "Collected" in define.codelist("ORIGINT").terms


def test_ct_loads_fast() -> None:
    S._ct.cache_clear()
    S._read.cache_clear()
    start = time.perf_counter()
    ct = S.controlled_terminology()
    ct.codelist("UNIT")
    assert time.perf_counter() - start < 1.0


def test_standards_in_use_resolve_against_the_bundle() -> None:
    from cdisc_umsc.core.errors import StandardsError, UmscError
    from cdisc_umsc.metadata.standards import InUse, resolve_in_use

    got = resolve_in_use({"sdtm": "SDTMIG 3.4", "adam": "ADaMIG  1.3", "ct": "SDTM CT 2025-03-28"})
    assert got == InUse()
    assert got.titles["adam"] == "ADaMIG 1.3"
    with pytest.raises(
        StandardsError,
        match=r"s.yaml: adam: ADaMIG 1.1 is not bundled \(bundled: "
        r"ADaMIG 1.3\)",
    ):
        resolve_in_use({"adam": "ADaMIG 1.1"}, "s.yaml")
    with pytest.raises(StandardsError, match=r"sdtm: 'STDTMIG 3.4' is not a SDTMIG version"):
        resolve_in_use({"sdtm": "STDTMIG 3.4"})
    assert issubclass(StandardsError, UmscError)  # one line and exit 2, never a traceback


def test_iso8601_data_type_is_measured_from_the_values() -> None:
    from cdisc_umsc.core.iso8601 import define_data_type

    cases = {
        ("2019-01-02", ""): "date",
        ("2019-01-02", "2019-01-02T10:00"): "datetime",
        ("2019-01", "2019-01-02"): "partialDate",
        ("2019---15",): "incompleteDatetime",
        ("2019-01-02T10",): "partialDatetime",
        ("2019-01", "2019-01-02T10:00"): "partialDatetime",
        ("P3D", "PT2H"): "durationDatetime",
        ("2019-01-02/2019-01-05",): "intervalDatetime",
        ("", None): "datetime",
        ("UNKNOWN",): "text",
    }
    for values, expected in cases.items():
        assert define_data_type(pd.Series(values, dtype=object), "XXDTC") == expected, values
