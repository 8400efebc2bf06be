"""Parse untrusted XML (define.xml, ODM) without fetching, expanding or trusting anything.

Entities are never resolved, no DTD is loaded, nothing is read from the network and huge trees
are refused; a document whose DOCTYPE declares any entity (the carrier of XXE and of
"billion laughs" expansion) is rejected outright with an :class:`InputError`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from lxml import etree

from cdisc_umsc.core.errors import InputError

#: A DOCTYPE internal subset declaring an entity; scanned before parsing so that no parser
#: work happens on a hostile document.
_ENTITY_DECL = re.compile(rb"<!DOCTYPE[^\[>]*\[[^\]]*<!ENTITY", re.DOTALL)


def safe_parser(**extra: object) -> etree.XMLParser:
    """An lxml parser with the safe settings (extra keyword options pass through)."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        dtd_validation=False,
        **extra,
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
        root = etree.fromstring(data, parser, base_url=None)
    except etree.XMLSyntaxError as exc:
        raise InputError(f"{name}: line {exc.lineno}: not well-formed XML ({exc.msg})") from exc
    tree = root.getroottree()
    dtd = tree.docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):
        # Defence in depth: the byte scan above should already have caught this.
        raise InputError(
            f"{name}: the DOCTYPE declares an entity; entity declarations are "
            "refused (XXE / entity-expansion protection)"
        )
    return tree
