"""The ODM-XML 1.3 ClinicalData reader (read/odm.py): records by item group with their path,
the ODM 1.3.2 transaction rules, typed and untyped items, and one-line errors for corrupt
or hostile files (XXE, entity bomb, truncated, too deep, too large) and for anything the spec
does not declare."""

from __future__ import annotations

from pathlib import Path

import pytest

from cdisc_umsc.core.errors import InputError
from cdisc_umsc.metadata.model import FieldSpec, FormSpec
from cdisc_umsc.read import odm
from cdisc_umsc.read.odm import read_odm_forms

HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3" ODMVersion="1.3.2" FileType="{ft}" '
    'FileOID="F" CreationDateTime="2024-01-01T00:00:00">\n'
)
META = """<Study OID="S"><GlobalVariables><StudyName>S</StudyName><StudyDescription>S
</StudyDescription><ProtocolName>S</ProtocolName></GlobalVariables>
<MetaDataVersion OID="M" Name="M">
<StudyEventDef OID="SE.V1" Name="Week 1" Repeating="Yes" Type="Scheduled"/>
<FormDef OID="F.VS" Name="Vitals" Repeating="No"/>
<ItemGroupDef OID="IG.VS" Name="VS" Repeating="Yes">
<ItemRef ItemOID="IT.SBP" Mandatory="No"/>
<ItemRef ItemOID="IT.DAT" Mandatory="No"/></ItemGroupDef>
<ItemDef OID="IT.SBP" Name="SBP" DataType="integer"/>
<ItemDef OID="IT.DAT" Name="DAT" DataType="date"/>
</MetaDataVersion></Study>
"""

VS = FormSpec(
    "VS",
    "t.xml",
    "",
    ("SUBJID", "EVRPT", "RPT"),
    (
        FieldSpec("SUBJID", odm="SubjectKey"),
        FieldSpec("EVRPT", odm="StudyEventRepeatKey"),
        FieldSpec("VISIT", odm="StudyEventName"),
        FieldSpec("RPT", odm="ItemGroupRepeatKey"),
        FieldSpec("SBP", "integer", item="IT.SBP", max=300),
        FieldSpec("DAT", "date", "YYYY-MM-DD", item="IT.DAT"),
    ),
    "odm",
    None,
    "IG.VS",
)


def _group(rk: str, items: str, tx: str = "") -> str:
    attr = f' TransactionType="{tx}"' if tx else ""
    key = f' ItemGroupRepeatKey="{rk}"' if rk else ""
    return f'<ItemGroupData ItemGroupOID="IG.VS"{key}{attr}>{items}</ItemGroupData>'


def _subject(key: str, groups: str, tx: str = "", event_rk: str = "1") -> str:
    attr = f' TransactionType="{tx}"' if tx else ""
    return (
        f'<SubjectData SubjectKey="{key}"{attr}><StudyEventData StudyEventOID="SE.V1" '
        f'StudyEventRepeatKey="{event_rk}"><FormData FormOID="F.VS">{groups}</FormData>'
        "</StudyEventData></SubjectData>"
    )


def doc(subjects: str, ft: str = "Snapshot", meta: str = META) -> str:
    return (
        HEAD.format(ft=ft)
        + meta
        + f'<ClinicalData StudyOID="S" MetaDataVersionOID="M">{subjects}</ClinicalData></ODM>\n'
    )


def read(tmp_path: Path, text: str | bytes, form: FormSpec = VS, cutoff: str | None = None):  # type: ignore[no-untyped-def]
    path = tmp_path / "t.xml"
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return read_odm_forms(tmp_path, [form], cutoff)["VS"]


def item(oid: str, value: str, extra: str = "") -> str:
    return f'<ItemData ItemOID="{oid}" Value="{value}"{extra}/>'


def test_records_keep_their_path_and_names(tmp_path):
    frame = read(
        tmp_path,
        doc(
            _subject("101", _group("1", item("IT.SBP", "120") + item("IT.DAT", "2023-01-02")))
            + _subject("101", _group("1", item("IT.SBP", "125")), event_rk="2")
        ),
        cutoff="2023-12-31",
    )
    assert frame[
        ["__row", "SUBJID", "EVRPT", "VISIT", "RPT", "SBP", "DAT", "__form"]
    ].values.tolist() == [
        [1, "101", "1", "Week 1", "1", "120", "2023-01-02", "VS"],
        [2, "101", "2", "Week 1", "1", "125", "", "VS"],
    ]
    event = "SubjectKey=101 StudyEventOID=SE.V1 StudyEventRepeatKey="
    assert frame["__where"].tolist() == [
        f"{event}1 FormOID=F.VS ItemGroupRepeatKey=1",
        f"{event}2 FormOID=F.VS ItemGroupRepeatKey=1",
    ]


def test_transactions_apply_in_document_order(tmp_path):
    remove_date = '<ItemData ItemOID="IT.DAT" TransactionType="Remove"/>'
    body = (
        _subject("1", _group("1", item("IT.SBP", "120") + item("IT.DAT", "2023-01-02")), "Insert")
        + _subject("2", _group("1", item("IT.SBP", "130")), "Insert")
        + _subject("1", _group("1", item("IT.SBP", "122"), "Update"), "Context")
        + _subject("1", _group("1", remove_date), "Context")
        + _subject("1", _group("2", item("IT.SBP", "140")), "Upsert")
        + _subject("2", "", "Remove")
        + _subject("1", _group("3", item("IT.SBP", "150"), "Insert"), "Context")
        + _subject("1", _group("3", item("IT.SBP", "999", ' TransactionType="Context"')), "Context")
    )
    frame = read(tmp_path, doc(body, "Transactional"))
    assert frame[["SUBJID", "RPT", "SBP", "DAT"]].values.tolist() == [
        ["1", "1", "122", ""],
        ["1", "2", "140", ""],
        ["1", "3", "150", ""],  # a Context item changes nothing held
    ]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (_subject("1", _group("1", item("IT.SBP", "1")), "Update"), "line 1"),
        (
            _subject("1", _group("1", item("IT.SBP", "1")), "Insert")
            + _subject("1", _group("1", item("IT.SBP", "2"), "Insert"), "Context"),
            "Insert of ItemGroupData ItemGroupOID=IG.VS ItemGroupRepeatKey=1, which already exists",
        ),
        (
            _subject("1", _group("1", item("IT.SBP", "1")), "Insert")
            + _subject(
                "1", _group("1", '<ItemData ItemOID="IT.DAT" TransactionType="Remove"/>'), "Context"
            ),
            "Remove of ItemOID=IT.DAT, which holds no value",
        ),
        (_subject("1", _group("1", item("IT.SBP", "1"))), "SubjectData without TransactionType"),
        (_subject("1", _group("1", item("IT.SBP", "1")), "Replace"), "TransactionType 'Replace'"),
        (
            _subject("1", _group("1", item("IT.SBP", "1"), "Insert"), "Remove"),
            "Remove of SubjectData SubjectKey=1, which does not exist",
        ),
    ],
)
def test_transaction_errors_name_the_line(tmp_path, body, message):
    with pytest.raises(InputError, match=message) as err:
        read(tmp_path, doc(body.replace("><", ">\n<"), "Transactional"))
    assert str(err.value).startswith("t.xml: line ")
    assert "\n" not in str(err.value)


def test_typed_items_audit_records_and_extensions(tmp_path):
    groups = _group(
        "1",
        '<ItemDataInteger ItemOID="IT.SBP">118<AuditRecord><UserRef UserOID="U"/>'
        "<LocationRef LocationOID='L'/><DateTimeStamp>2023-01-01T00:00:00</DateTimeStamp>"
        '</AuditRecord></ItemDataInteger><x:Ext xmlns:x="urn:vendor"><ItemData ItemOID="IT.DAT" '
        'Value="2099-01-01"/></x:Ext>'
        '<ItemDataDate ItemOID="IT.DAT">2023-05-06</ItemDataDate>'
        '<Annotation SeqNum="1"><Comment>checked</Comment></Annotation>',
    )
    frame = read(tmp_path, doc(_subject("7", groups)))
    assert frame[["SBP", "DAT"]].values.tolist() == [["118", "2023-05-06"]]


@pytest.mark.parametrize(
    ("groups", "message"),
    [
        (
            _group("1", item("IT.SBP", "12x")),
            "t.xml ItemGroupOID=IG.VS: SubjectKey=9 StudyEventOID=SE.V1 StudyEventRepeatKey=1 "
            "FormOID=F.VS ItemGroupRepeatKey=1, item IT.SBP (field SBP): expected a whole number "
            "(got '12x')",
        ),
        (
            _group("1", item("IT.SBP", "301")),
            "item IT.SBP (field SBP): above the allowed maximum 300",
        ),
        (_group("1", item("IT.DAT", "2023-02-30")), "item IT.DAT (field DAT): day out of range"),
        (_group("1", item("IT.DAT", "2025-01-01")), "date after the data cut-off 2024-06-30"),
        (
            _group("1", item("IT.HR", "60")),
            "item IT.HR: unexpected item (not declared in the spec's form)",
        ),
        (
            _group("1", item("IT.SBP", "1")) + _group("1", item("IT.SBP", "1")),
            "ItemOID=IT.SBP given twice in one item group record",
        ),
        (_group("", item("IT.SBP", "1")), ""),
    ],
)
def test_value_errors_name_the_record_path_and_item(tmp_path, groups, message):
    if not message:  # a repeat key may be absent: it is not a blank key field
        assert read(tmp_path, doc(_subject("9", groups)))["RPT"].tolist() == [""]
        return
    with pytest.raises(InputError, match=message.replace("(", "\\(").replace(")", "\\)")) as err:
        read(tmp_path, doc(_subject("9", groups)), cutoff="2024-06-30")
    assert "\n" not in str(err.value)


def test_duplicate_records_name_both_paths(tmp_path):
    form = FormSpec("VS", "t.xml", "", ("SUBJID",), VS.fields, "odm", None, "IG.VS")
    body = _subject("5", _group("1", item("IT.SBP", "1")) + _group("2", item("IT.SBP", "2")))
    with pytest.raises(InputError) as err:
        read(tmp_path, doc(body), form)
    assert str(err.value) == (
        "t.xml ItemGroupOID=IG.VS: SubjectKey=5 StudyEventOID=SE.V1 StudyEventRepeatKey=1 "
        "FormOID=F.VS ItemGroupRepeatKey=2, field SUBJID (SubjectKey): duplicate record: "
        "SUBJID='5' already on SubjectKey=5 StudyEventOID=SE.V1 StudyEventRepeatKey=1 "
        "FormOID=F.VS ItemGroupRepeatKey=1"
    )


def test_nothing_undeclared_is_dropped(tmp_path):
    other = (
        '<ItemGroupData ItemGroupOID="IG.LB"><ItemData ItemOID="IT.X" Value="1"/></ItemGroupData>'
    )
    with pytest.raises(InputError, match="1 records of ItemGroupOID=IG.LB, which no form declares"):
        read(tmp_path, doc(_subject("1", _group("1", "") + other)))
    missing = FormSpec(
        "VS", "t.xml", "", (), (*VS.fields, FieldSpec("HR", item="IT.HR")), "odm", None, "IG.VS"
    )
    with pytest.raises(
        InputError, match="item IT.HR \\(field HR\\) is not an item of the ItemGroupDef IG.VS"
    ):
        read(tmp_path, doc(_subject("1", _group("1", ""))), missing)
    ghost = FormSpec("VS", "t.xml", "", (), VS.fields[:1], "odm", None, "IG.NONE")
    with pytest.raises(InputError, match="no ItemGroupDef IG.NONE in the file's MetaDataVersion"):
        read(tmp_path, doc(""), ghost)


def test_without_metadata_names_cannot_be_given(tmp_path):
    with pytest.raises(InputError, match="event and form names need the file's MetaDataVersion"):
        read(tmp_path, doc(_subject("1", _group("1", "")), meta=""))
    plain = FormSpec("VS", "t.xml", "", (), (VS.fields[0], VS.fields[4]), "odm", None, "IG.VS")
    frame = read(tmp_path, doc(_subject("1", _group("1", item("IT.SBP", "9"))), meta=""), plain)
    assert frame["SBP"].tolist() == ["9"]


XXE = (
    '<?xml version="1.0"?>\n<!DOCTYPE ODM [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
    '<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3" ODMVersion="1.3.2" FileType="Snapshot">'
    "&x;</ODM>"
)
BOMB = (
    '<?xml version="1.0"?>\n<!DOCTYPE ODM [<!ENTITY a "aaaaaaaaaa">'
    + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8))
    + ']>\n<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3">&i;</ODM>'
)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (XXE, "t.xml: the DOCTYPE declares an entity; entity declarations are refused"),
        (BOMB, "t.xml: the DOCTYPE declares an entity"),
        (doc(_subject("1", _group("1", item("IT.SBP", "1"))))[:-200], "t.xml: line "),
        ("", "t.xml: file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "t.xml: line 1: not well-formed XML"),
        (
            HEAD.format(ft="Snapshot") + "<a>" * 40 + "</a>" * 40 + "</ODM>",
            "t.xml: line 3: elements nested more than 32 deep",
        ),
        ('<?xml version="1.0"?><Define/>', "the root element is 'Define', not a CDISC ODM 1.3"),
        (HEAD.format(ft="Snapshot").replace("1.3.2", "2.0") + "</ODM>", "ODMVersion '2.0'"),
        (HEAD.format(ft="Archive") + "</ODM>", "ODM FileType 'Archive'"),
        (
            doc("").replace(
                '<ClinicalData StudyOID="S" MetaDataVersionOID="M">',
                '<ClinicalData StudyOID="S" MetaDataVersionOID="M9">',
            ),
            "refers to MetaDataVersion M9 of study S, which the file does not define",
        ),
    ],
)
def test_corrupt_or_hostile_files_give_one_line(tmp_path, text, message):
    with pytest.raises(InputError, match=message.replace("(", "\\(").replace(")", "\\)")) as err:
        read(tmp_path, text)
    assert "\n" not in str(err.value)


def test_size_is_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(odm, "MAX_BYTES", 1000)
    with pytest.raises(InputError, match=r"t.xml: \d+ bytes, larger than the 1000 bytes allowed"):
        read(tmp_path, doc(_subject("1", _group("1", item("IT.SBP", "1")))))


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="t.xml: raw form file not found in"):
        read_odm_forms(tmp_path, [VS])
