"""Safe XML parsing: entities, DTDs and the network refused; size and depth bounds hold."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from lxml import etree

from cdisc_umsc.core.errors import InputError
from cdisc_umsc.core.xmlsafe import iterparse_file, parse_xml, safe_parser

ENTITY_REFUSED = (
    "the DOCTYPE declares an entity; entity declarations are refused "
    "(XXE / entity-expansion protection)"
)

#: Entity declarations the byte scan sees, and ones only the parsed DTD shows (a ``]`` or a
#: ``>`` before the declaration, a UTF-16 document).
HOSTILE = {
    "internal": b'<!DOCTYPE r [<!ENTITY x "y">]><r>&x;</r>',
    "external": b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>',
    "parameter": b'<!DOCTYPE r [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]><r/>',
    "laughs": (
        b'<!DOCTYPE r [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><r>&c;</r>'
    ),
    "bracket-in-comment": b'<!DOCTYPE r [<!-- ] --><!ENTITY x "y">]><r>&x;</r>',
    "bracket-in-attlist": b'<!DOCTYPE r [<!ATTLIST r a CDATA "]"><!ENTITY x "y">]><r>&x;</r>',
    "gt-in-system-id": b'<!DOCTYPE r SYSTEM "a>b" [<!ENTITY x "y">]><r>&x;</r>',
    "utf-16": (
        '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r [<!ENTITY x "y">]><r>&x;</r>'
    ).encode("utf-16"),
}


def _text(tree: etree._ElementTree) -> bytes:
    return etree.tostring(tree.getroot())


# parse_xml -----------------------------------------------------------------------------------


def test_parse_bytes_and_path(tmp_path: Path) -> None:
    data = b"<r><a> x </a>\n  <b/></r>"
    assert _text(parse_xml(data)) == data
    path = tmp_path / "define.xml"
    path.write_bytes(data)
    assert _text(parse_xml(path)) == data
    assert _text(parse_xml(str(path))) == data


def test_remove_blank_text() -> None:
    data = b"<r>\n  <a> x </a>\n</r>"
    assert parse_xml(data).getroot().text == "\n  "
    tree = parse_xml(data, remove_blank_text=True)
    assert tree.getroot().text is None
    assert tree.getroot()[0].text == " x "  # text that is not blank is kept


def test_character_and_predefined_references_still_work() -> None:
    assert parse_xml(b"<r>&amp;&lt;&#65;&#x42;</r>").getroot().text == "&<AB"


@pytest.mark.parametrize("data", list(HOSTILE.values()), ids=list(HOSTILE))
def test_entity_declarations_are_refused(data: bytes) -> None:
    with pytest.raises(InputError) as err:
        parse_xml(data)
    assert str(err.value) == f"<bytes>: {ENTITY_REFUSED}"


def test_entity_declaration_refused_before_parsing() -> None:
    # a broken document after the declaration: the refusal, not the syntax error
    with pytest.raises(InputError) as err:
        parse_xml(b'<!DOCTYPE r [<!ENTITY x "y">]><r>')
    assert str(err.value) == f"<bytes>: {ENTITY_REFUSED}"


def test_entity_refusal_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "define.xml"
    path.write_bytes(HOSTILE["internal"])
    with pytest.raises(InputError) as err:
        parse_xml(path)
    assert str(err.value) == f"{path}: {ENTITY_REFUSED}"


def test_doctype_without_entities_is_accepted() -> None:
    assert _text(parse_xml(b"<!DOCTYPE r [<!ELEMENT r ANY>]><r/>")) == b"<r/>"


def test_external_dtd_is_not_loaded(tmp_path: Path) -> None:
    dtd = tmp_path / "ext.dtd"
    dtd.write_text('<!ENTITY e "EXPANDED"><!ATTLIST r a CDATA "from-dtd">', encoding="utf-8")
    tree = parse_xml(f'<!DOCTYPE r SYSTEM "{dtd.as_uri()}"><r>&e;</r>'.encode())
    root = tree.getroot()
    assert root.get("a") is None  # the DTD's attribute default is not applied
    assert etree.tostring(root) == b"<r>&e;</r>"  # nor its entity expanded
    assert "EXPANDED" not in "".join(root.itertext())


def test_nothing_is_fetched_from_the_network() -> None:
    # (a libxml2 built without HTTP support never fetches; this guards the builds that can)
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        server.settimeout(0.3)
        port = server.getsockname()[1]
        doc = f'<!DOCTYPE r SYSTEM "http://127.0.0.1:{port}/x.dtd"><r/>'.encode()
        assert _text(parse_xml(doc)) == b"<r/>"
        with pytest.raises(TimeoutError):
            server.accept()


def test_undefined_entity_is_an_error() -> None:
    with pytest.raises(InputError, match=r"^<bytes>: line 1: not well-formed XML \(Entity"):
        parse_xml(b"<r>&undefined;</r>")


def test_not_well_formed_is_one_line_with_the_line() -> None:
    with pytest.raises(InputError) as err:
        parse_xml(b"<r>\n<a>\n</r>")
    message = str(err.value)
    assert message.startswith("<bytes>: line 3: not well-formed XML (Opening and ending tag")
    assert "\n" not in message


def test_empty_bytes() -> None:
    with pytest.raises(InputError, match=r"^<bytes>: line 1: not well-formed XML \(Document is"):
        parse_xml(b"")


def test_depth_beyond_the_parser_limit_is_refused() -> None:
    assert parse_xml(b"<a>" * 200 + b"</a>" * 200).getroot().tag == "a"
    with pytest.raises(InputError, match=r"^<bytes>: line 1: not well-formed XML \(Excessive"):
        parse_xml(b"<a>" * 300 + b"</a>" * 300)


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        parse_xml(tmp_path / "none.xml")
    assert (
        str(err.value)
        == f"{tmp_path / 'none.xml'}: cannot read XML file (No such file or directory)"
    )
    with pytest.raises(InputError) as err:
        parse_xml(tmp_path)
    assert str(err.value) == f"{tmp_path}: cannot read XML file (Is a directory)"


def test_safe_parser_refuses_entities_on_its_own() -> None:
    # the parser alone (without the scan) leaves a declared entity unexpanded
    root = etree.fromstring(HOSTILE["internal"], safe_parser())
    assert "y" not in "".join(root.itertext())
    blank = etree.fromstring(b"<r>\n  <a/>\n</r>", safe_parser(remove_blank_text=True))
    assert blank.text is None


# iterparse_file ------------------------------------------------------------------------------


def _events(tmp_path: Path, data: bytes, max_bytes: int = 10**6, max_depth: int = 10) -> list:
    path = tmp_path / "f.xml"
    path.write_bytes(data)
    return [
        (event, elem.tag)
        for event, elem in iterparse_file(
            path, "raw/f.xml", max_bytes=max_bytes, max_depth=max_depth
        )
    ]


def _iter_error(tmp_path: Path, data: bytes, **bounds: int) -> str:
    with pytest.raises(InputError) as err:
        _events(tmp_path, data, **bounds)
    return str(err.value)


def test_iterparse_events_in_order(tmp_path: Path) -> None:
    assert _events(tmp_path, b"<r><a/><!-- c --><?pi x?><b><c/></b></r>") == [
        ("start", "r"),
        ("start", "a"),
        ("end", "a"),
        ("start", "b"),
        ("start", "c"),
        ("end", "c"),
        ("end", "b"),
        ("end", "r"),
    ]


def test_iterparse_drops_comments_and_processing_instructions(tmp_path: Path) -> None:
    path = tmp_path / "f.xml"
    path.write_bytes(b"<r><!-- c --><?pi x?><a/></r>")
    root = [e for ev, e in iterparse_file(path, "f", max_bytes=100, max_depth=3) if ev == "end"][-1]
    assert [child.tag for child in root] == ["a"]


def test_iterparse_size_bound(tmp_path: Path) -> None:
    assert _events(tmp_path, b"<r/>", max_bytes=4) == [("start", "r"), ("end", "r")]
    assert _iter_error(tmp_path, b"<r/>", max_bytes=3) == (
        "raw/f.xml: 4 bytes, larger than the 3 bytes allowed"
    )


def test_iterparse_depth_bound(tmp_path: Path) -> None:
    data = b"<r>\n<a>\n<b/></a></r>"
    assert len(_events(tmp_path, data, max_depth=3)) == 6
    assert _iter_error(tmp_path, data, max_depth=2) == (
        "raw/f.xml: line 3: elements nested more than 2 deep"
    )


def test_iterparse_depth_counts_nesting_not_elements(tmp_path: Path) -> None:
    many = b"<r>" + b"<a/>" * 50 + b"</r>"
    assert len(_events(tmp_path, many, max_depth=2)) == 102


@pytest.mark.parametrize("data", [b"", b"  \n\t"], ids=["empty", "blank"])
def test_iterparse_empty_file(tmp_path: Path, data: bytes) -> None:
    assert _iter_error(tmp_path, data) == "raw/f.xml: file is empty (expected an XML document)"


def test_iterparse_truncated(tmp_path: Path) -> None:
    assert _iter_error(tmp_path, b"<r>\n<a>") == (
        "raw/f.xml: line 2: not well-formed XML (Premature end of data in tag a line 2, "
        "line 2, column 4)"
    )


@pytest.mark.parametrize("data", list(HOSTILE.values()), ids=list(HOSTILE))
def test_iterparse_refuses_entity_declarations(tmp_path: Path, data: bytes) -> None:
    assert _iter_error(tmp_path, data) == f"raw/f.xml: {ENTITY_REFUSED}"


def test_iterparse_refuses_entities_declared_past_the_scanned_head(tmp_path: Path) -> None:
    padding = b"<!--" + b" " * (1 << 20) + b"-->"
    message = _iter_error(tmp_path, padding + HOSTILE["internal"], max_bytes=2 << 20)
    assert message == f"raw/f.xml: {ENTITY_REFUSED}"


def test_iterparse_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        list(iterparse_file(tmp_path / "none.xml", "raw/none.xml", max_bytes=10, max_depth=3))
    assert str(err.value) == "raw/none.xml: cannot read XML file (No such file or directory)"


def test_iterparse_does_not_load_an_external_dtd(tmp_path: Path) -> None:
    dtd = tmp_path / "ext.dtd"
    dtd.write_text('<!ENTITY e "EXPANDED"><!ATTLIST r a CDATA "from-dtd">', encoding="utf-8")
    path = tmp_path / "f.xml"
    path.write_bytes(f'<!DOCTYPE r SYSTEM "{dtd.as_uri()}"><r>&e;</r>'.encode())
    events = list(iterparse_file(path, "raw/f.xml", max_bytes=1000, max_depth=3))
    root = events[-1][1]
    assert (root.tag, root.get("a")) == ("r", None)
    assert "EXPANDED" not in "".join(root.itertext())
