"""Parse untrusted XML (define.xml, ODM) without fetching, expanding or trusting anything.

Entities are never resolved, no DTD is loaded, nothing is read from the network and huge trees
are refused; a document whose DOCTYPE declares any entity (the carrier of XXE and of
"billion laughs" expansion) is rejected outright with an :class:`InputError`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

from lxml import etree

from cdisc_umsc.core.errors import InputError

#: A DOCTYPE internal subset declaring an entity; scanned before parsing so that no parser
#: work happens on a hostile document.
_ENTITY_DECL = re.compile(rb"<!DOCTYPE[^\[>]*\[[^\]]*<!ENTITY", re.DOTALL)


def safe_parser(*, remove_blank_text: bool = False) -> etree.XMLParser:
    """An lxml parser with the safe settings (``remove_blank_text`` drops ignorable whitespace)."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        dtd_validation=False,
        remove_blank_text=remove_blank_text,
    )


def _reject_entities(data: bytes, name: str) -> None:
    if _ENTITY_DECL.search(data):
        raise InputError(
            f"{name}: the DOCTYPE declares an entity; entity declarations are "
            "refused (XXE / entity-expansion protection)"
        )


def parse_xml(
    source: str | os.PathLike[str] | bytes, *, remove_blank_text: bool = False
) -> etree._ElementTree:
    """Parse a file path or XML bytes safely; any problem is a one-line InputError."""
    if isinstance(source, bytes):
        data, name = source, "<bytes>"
    else:
        path = Path(source)
        name = str(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InputError(f"{name}: cannot read XML file ({exc.strerror})") from exc
    _reject_entities(data, name)
    parser = safe_parser(remove_blank_text=remove_blank_text)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise InputError(f"{name}: line {exc.lineno}: not well-formed XML ({exc.msg})") from exc
    tree = root.getroottree()
    dtd = tree.docinfo.internalDTD
    # The ignore: lxml-stubs lack DTD.iterentities, which lxml has.
    if dtd is not None and any(True for _ in dtd.iterentities()):  # type: ignore[union-attr]
        # Defence in depth: the byte scan above should already have caught this.
        raise InputError(
            f"{name}: the DOCTYPE declares an entity; entity declarations are "
            "refused (XXE / entity-expansion protection)"
        )
    return tree


def iterparse_file(
    path: Path, name: str, *, max_bytes: int, max_depth: int
) -> Iterator[tuple[str, etree._Element]]:
    """Stream ("start" / "end", element) events of a large XML file (ODM ClinicalData) safely.

    The file may hold at most ``max_bytes`` bytes and nest at most ``max_depth`` elements;
    a DOCTYPE declaring entities, a broken or truncated document, or a bound passed is a
    one-line InputError naming ``name`` (and the line). The caller clears what it has read.
    """
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(1 << 20)
    except OSError as exc:
        raise InputError(f"{name}: cannot read XML file ({exc.strerror})") from None
    if size > max_bytes:
        raise InputError(f"{name}: {size} bytes, larger than the {max_bytes} bytes allowed")
    if not head.strip():
        raise InputError(f"{name}: file is empty (expected an XML document)")
    _reject_entities(head, name)
    events = etree.iterparse(
        str(path),
        events=("start", "end"),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        dtd_validation=False,
        remove_comments=True,
        remove_pis=True,
    )
    depth = 0
    try:
        for event, elem in events:
            if event == "start":
                depth += 1
                if depth == 1:
                    dtd = elem.getroottree().docinfo.internalDTD
                    if dtd is not None and any(True for _ in dtd.iterentities()):
                        raise InputError(
                            f"{name}: the DOCTYPE declares an entity; entity declarations are "
                            "refused (XXE / entity-expansion protection)"
                        )
                if depth > max_depth:
                    raise InputError(
                        f"{name}: line {elem.sourceline}: elements nested more than "
                        f"{max_depth} deep"
                    )
            else:
                depth -= 1
            yield event, elem
    except etree.XMLSyntaxError as exc:
        raise InputError(f"{name}: line {exc.lineno}: not well-formed XML ({exc.msg})") from None
