"""define for a folder of another sponsor's datasets (cdisc_umsc/write/folder.py, `define`)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from cdisc_umsc.cli import main
from cdisc_umsc.core.errors import InputError, StandardsError, WriteError
from cdisc_umsc.core.xmlsafe import parse_xml
from cdisc_umsc.metadata.model import Dataset, Study, Variable
from cdisc_umsc.write.datasetjson import write_datasetjson
from cdisc_umsc.write.define import DEF_NS, ODM_NS, validate_define
from cdisc_umsc.write.folder import natural_keys, write_folder_define

NS = {"odm": ODM_NS, "def": DEF_NS, "xlink": "http://www.w3.org/1999/xlink"}
STUDY = Study("S1", "SDTMIG", "3.4", "2025-03-28")
CREATED = "2024-05-01T09:00:00"


def _write(folder: Path, name: str, frame: pd.DataFrame, keys: tuple[str, ...] = ()) -> None:
    variables = tuple(
        Variable(
            c,
            c.title(),
            "Num" if frame[c].dtype.kind == "f" else "Char",
            i,
            key_sequence=keys.index(c) + 1 if c in keys else None,
        )
        for i, c in enumerate(frame.columns, start=1)
    )
    meta = Dataset(name, f"{name} data", "", "", "", variables=variables)
    write_datasetjson(folder / f"{name.lower()}.json", frame, meta, STUDY, created=CREATED)


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    out = tmp_path / "sdtm"
    out.mkdir()
    subj = ["S1-1", "S1-2"]
    _write(
        out,
        "DM",
        pd.DataFrame(
            {
                "STUDYID": "S1",
                "DOMAIN": "DM",
                "USUBJID": subj,
                "RFSTDTC": ["2024-01-01", "2024-01-03"],
                "SEX": ["F", "U"],
                "RACE": ["ASIAN", "MULTIPLE"],
            }
        ),
    )
    _write(
        out,
        "AE",
        pd.DataFrame(
            {
                "STUDYID": "S1",
                "DOMAIN": "AE",
                "USUBJID": [subj[0], subj[0], subj[1]],
                "AESEQ": [1.0, 2.0, 1.0],
                "AETERM": ["Headache", "Headache", "Nausea"],
                "AESTDTC": ["2024-01-02", "2024-01-05", "2024-01-04"],
                "AESTDY": [2.0, 5.0, 2.0],
            }
        ),
    )
    _write(
        out,
        "DI",
        pd.DataFrame(
            {
                "STUDYID": "S1",
                "DOMAIN": "DI",
                "SPDEVID": ["D1", "D1"],
                "DISEQ": [1.0, 2.0],
                "DIPARMCD": ["TYPE", "MANUF"],
                "DIPARM": ["Device Type", "Manufacturer"],
                "DIVAL": ["PATCH", "ACME"],
            }
        ),
        keys=("STUDYID", "SPDEVID", "DIPARMCD"),
    )
    return out


def _groups(tree) -> dict[str, object]:
    return {g.get("Name"): g for g in tree.xpath("//odm:ItemGroupDef", namespaces=NS)}


def test_define_for_a_folder_outside_the_ig(folder: Path) -> None:
    notes: list[str] = []
    path = write_folder_define(folder, "Tabulation", notes=notes)
    tree = parse_xml(path)
    assert validate_define(tree) == []
    # CT misses are findings, printed as notes, never a stop
    assert notes == [
        "dataset DM, row 2, variable RACE: value 'MULTIPLE' is not a term of non-extensible "
        "codelist C74457 (Race); left out of the define's codelist"
    ]
    groups = _groups(tree)
    assert list(groups) == ["DM", "AE", "DI"]
    di = groups["DI"]
    assert di.find(f"{{{DEF_NS}}}Class").get("Name") == "STUDY REFERENCE"  # SDTM 2.0 model
    assert di.get(f"{{{DEF_NS}}}Structure") == "One record per DIPARMCD per SPDEVID"
    assert di.get("Repeating") == "No"
    keys = [
        (r.get("ItemOID"), r.get("KeySequence"))
        for r in di.findall(f"{{{ODM_NS}}}ItemRef")
        if r.get("KeySequence")
    ]
    assert keys == [("IT.DI.STUDYID", "1"), ("IT.DI.SPDEVID", "2"), ("IT.DI.DIPARMCD", "3")]
    ae = groups["AE"]
    assert [r.get("KeySequence") for r in ae.findall(f"{{{ODM_NS}}}ItemRef")][:4] == [
        "1",
        None,
        "2",
        "3",
    ]
    assert ae.find(f"{{{DEF_NS}}}leaf").get(f"{{{NS['xlink']}}}href") == "ae.json"
    assert ae.get(f"{{{DEF_NS}}}Structure") == "One record per adverse event per subject"
    origin = tree.xpath("//odm:ItemDef[@OID='IT.AE.AESTDY']/def:Origin/@Type", namespaces=NS)
    assert origin == ["Derived"]
    method = tree.xpath("//odm:ItemRef[@ItemOID='IT.AE.AESTDY']/@MethodOID", namespaces=NS)[0]
    assert tree.xpath(
        f"//odm:MethodDef[@OID='{method}']//odm:TranslatedText/text()", namespaces=NS
    ) == [
        "Study day of AESTDTC relative to DM.RFSTDTC: date - RFSTDTC + 1 on or after RFSTDTC, "
        "date - RFSTDTC before it (there is no day 0); blank when either date is partial"
    ]
    assert (folder / "define2-1.xsl").is_file() and (folder / "define.html").is_file()
    # rewriting our own define needs no --force
    write_folder_define(folder, "Tabulation")


def test_class_from_the_caller_or_one_line(folder: Path) -> None:
    _write(folder, "ZZ", pd.DataFrame({"STUDYID": "S1", "DOMAIN": "ZZ", "ZZVAL": ["A"]}))
    with pytest.raises(InputError) as err:
        write_folder_define(folder, "Tabulation")
    assert str(err.value) == (
        "dataset ZZ: not in the implementation guide nor the SDTM model, and no topic variable "
        "(ZZTRT, ZZTERM, ZZTESTCD) tells its class; give it with --class ZZ=<class>"
    )
    tree = parse_xml(write_folder_define(folder, "Tabulation", classes={"zz": "SPECIAL PURPOSE"}))
    assert _groups(tree)["ZZ"].find(f"{{{DEF_NS}}}Class").get("Name") == "SPECIAL PURPOSE"
    _write(folder, "XY", pd.DataFrame({"STUDYID": "S1", "XYTESTCD": ["A"], "XYORRES": ["1"]}))
    tree = parse_xml(write_folder_define(folder, "Tabulation", classes={"ZZ": "SPECIAL PURPOSE"}))
    assert _groups(tree)["XY"].find(f"{{{DEF_NS}}}Class").get("Name") == "FINDINGS"


def test_a_define_not_ours_is_left_alone(folder: Path) -> None:
    theirs = b"<?xml version='1.0'?><ODM SourceSystem='other'/>"
    (folder / "define.xml").write_bytes(theirs)
    with pytest.raises(WriteError, match=r"define.xml: was not written by cdisc-umsc"):
        write_folder_define(folder, "Tabulation")
    assert (folder / "define.xml").read_bytes() == theirs
    write_folder_define(folder, "Tabulation", force=True)
    assert parse_xml(folder / "define.xml").getroot().get("SourceSystem") == "cdisc-umsc"


def test_standards_options(folder: Path) -> None:
    with pytest.raises(StandardsError) as err:
        write_folder_define(folder, "Tabulation", ig="SDTMIG 3.3")
    assert str(err.value) == "--ig/--ct: sdtm: SDTMIG 3.3 is not bundled (bundled: SDTMIG 3.4)"
    tree = parse_xml(
        write_folder_define(folder, "Tabulation", ig="SDTMIG 3.4", ct="SDTM CT 2025-03-28")
    )
    std = tree.xpath("//def:Standard/@Version", namespaces=NS)
    assert std == ["3.4", "2025-03-28"]


def test_cli_prints_the_notes(folder: Path) -> None:
    result = CliRunner().invoke(main, ["define", "--sdtm", str(folder)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "note: dataset DM, row 2, variable RACE: value 'MULTIPLE' is not a term of "
        "non-extensible codelist C74457 (Race); left out of the define's codelist",
        f"wrote {folder}/define.xml, define.html and define2-1.xsl",
    ]
    bad = CliRunner().invoke(main, ["define", "--sdtm", str(folder), "--class", "DI"])
    assert bad.exit_code == 2
    assert "--class 'DI': write NAME=CLASS" in bad.output


def test_natural_keys_follow_the_ig_rules() -> None:
    supp = pd.DataFrame(
        {c: ["x"] for c in ("STUDYID", "RDOMAIN", "USUBJID", "IDVAR", "IDVARVAL", "QNAM", "QVAL")}
    )
    assert natural_keys("SUPPAE", supp, ()) == (
        "STUDYID",
        "RDOMAIN",
        "USUBJID",
        "IDVAR",
        "IDVARVAL",
        "QNAM",
    )
    ta = pd.DataFrame(
        {
            "STUDYID": "S",
            "DOMAIN": "TA",
            "ARMCD": ["A", "A", "B", "B"],
            "ARM": ["Arm A", "Arm A", "Arm B", "Arm B"],
            "TAETORD": [1.0, 2.0, 1.0, 2.0],
        }
    )
    assert natural_keys("TA", ta, ()) == ("STUDYID", "ARMCD", "TAETORD")
    ts = pd.DataFrame(
        {
            "STUDYID": "S",
            "DOMAIN": "TS",
            "TSSEQ": [1.0, 2.0, 1.0],
            "TSPARMCD": ["TRT", "TRT", "AGEMIN"],
            "TSVAL": ["A", "B", "P18Y"],
        }
    )
    # the values of one parameter are numbered by TSSEQ: keyed parameter first
    assert natural_keys("TS", ts, ()) == ("STUDYID", "TSPARMCD", "TSSEQ")
    sc = pd.DataFrame({"STUDYID": "S", "USUBJID": ["1", "2"], "SCSEQ": [1.0, 1.0]})
    # unique per subject by chance, but SC is keyed by --SEQ (not one record per subject)
    assert natural_keys("SC", sc, ()) == ("STUDYID", "USUBJID", "SCSEQ")
    assert natural_keys("DM", sc, (), "One record per subject") == ("STUDYID", "USUBJID")
    assert natural_keys("XX", pd.DataFrame({"A": [1, 1]}), ()) == ()


PILOT = Path(__file__).resolve().parents[2] / "shared" / "reference" / "cdiscpilot01" / "sdtm"


def test_pilot_folder_as_xpt(tmp_path: Path) -> None:
    """The CDISC pilot's SDTMIG 3.1.2 XPTs (its define is Define-XML 1.0): a schema-valid
    2.1 define with the pilot's keys by the IG rules."""
    if not PILOT.is_dir():
        pytest.skip("../shared reference material is absent")
    folder = tmp_path / "pilot"
    folder.mkdir()
    for path in PILOT.glob("*.xpt"):
        (folder / path.name).write_bytes(path.read_bytes())
    tree = parse_xml(write_folder_define(folder, "Tabulation", encoding="cp1252"))
    assert validate_define(tree) == []
    groups = _groups(tree)
    assert len(groups) == 18 and list(groups)[:5] == ["TA", "TE", "TI", "TS", "TV"]
    assert list(groups)[-3:] == ["SUPPDM", "SUPPAE", "SUPPDS"]
    assert groups["SV"].get(f"{{{DEF_NS}}}Structure") == (
        "One record per actual or planned visit per subject"
    )


def test_adam_folder_classes_and_subclasses(tmp_path: Path) -> None:
    """Analysis datasets outside ADSL/BDS: an events topic makes an occurrence dataset (its
    AE subclass from the data), a CNSR makes a time-to-event BDS, the rest is ADAM OTHER."""
    folder = tmp_path / "adam"
    folder.mkdir()
    subj = {"STUDYID": "S1", "USUBJID": ["S1-1", "S1-2"]}
    _write(folder, "ADSL", pd.DataFrame({**subj, "SAFFL": ["Y", "N"]}))
    _write(
        folder,
        "ADAE",
        pd.DataFrame({**subj, "AESEQ": [1.0, 1.0], "AEDECOD": ["Headache", "Nausea"]}),
    )
    _write(
        folder,
        "ADTTE",
        pd.DataFrame({**subj, "PARAMCD": "TTDE", "AVAL": [3.0, 9.0], "CNSR": [0.0, 1.0]}),
    )
    _write(folder, "ADXX", pd.DataFrame({**subj, "XVAL": ["a", "b"]}))
    tree = parse_xml(write_folder_define(folder, "Analysis"))
    assert validate_define(tree) == []
    got = {
        name: (
            g.find(f"{{{DEF_NS}}}Class").get("Name"),
            g.xpath("def:Class/def:SubClass/@Name", namespaces=NS),
        )
        for name, g in _groups(tree).items()
    }
    assert got == {
        "ADSL": ("SUBJECT LEVEL ANALYSIS DATASET", []),
        "ADTTE": ("BASIC DATA STRUCTURE", ["TIME-TO-EVENT"]),
        "ADAE": ("OCCURRENCE DATA STRUCTURE", ["ADVERSE EVENT"]),
        "ADXX": ("ADAM OTHER", []),
    }


def test_reading_problems_are_said_or_stop(folder: Path) -> None:
    """Text not valid in --encoding is one note per variable; a file that cannot be read
    stops the define, which would otherwise leave its dataset out."""
    from cdisc_umsc.write.folder import _reading_notes

    issues = pd.DataFrame(
        {
            "rule": ["UMSC-FI0001"] * 3,
            "dataset": ["TS", "TS", "TS"],
            "row": [8, 9, 10],
            "variable": ["TSVAL"] * 3,
            "value": ["a", "b", "c"],
            "message": [f"ts.xpt: row {r}, variable TSVAL: byte 0x92 ..." for r in (9, 10, 11)],
        }
    )
    assert _reading_notes(issues) == [
        "ts.xpt: row 9, variable TSVAL: byte 0x92 ... (and 2 more value(s) of that variable); "
        "read as Windows-1252 (give --encoding)"
    ]
    (folder / "xx.xpt").write_bytes(b"not a transport file")
    with pytest.raises(InputError, match=r"xx\.xpt"):
        write_folder_define(folder, "Tabulation")
    assert not (folder / "define.xml").exists()


def test_define_of_a_folder_in_a_fresh_process_describes_seq_and_study_days(
    bundled_run, tmp_path: Path
) -> None:
    """`define --sdtm` on its own (no spec mapped in the process) takes the --SEQ and --DY
    method texts from the algorithms' declarations: they are loaded where they are read."""
    import shutil
    import subprocess
    import sys

    folder = tmp_path / "sdtm"
    folder.mkdir()
    for name in ("dm.xpt", "ae.xpt"):
        shutil.copy(bundled_run[1] / "sdtm" / name, folder / name)
    done = subprocess.run(
        [sys.executable, "-m", "cdisc_umsc.cli", "define", "--sdtm", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    tree = parse_xml(folder / "define.xml")
    methods = tree.xpath("//odm:MethodDef/@Name", namespaces=NS)
    assert any("AESEQ" in m for m in methods) and any("AESTDY" in m for m in methods)
