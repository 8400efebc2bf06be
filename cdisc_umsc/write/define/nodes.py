"""XML building blocks of a define.xml: namespaces, elements with ordered attributes, and
TranslatedText (Define-XML 2.1 section 4.1; ODM 1.3.2)."""

from __future__ import annotations

from collections.abc import Sequence

from lxml import etree

from cdisc_umsc.core.errors import WriteError

ODM_NS = "http://www.cdisc.org/ns/odm/v1.3"
DEF_NS = "http://www.cdisc.org/ns/def/v2.1"
XLINK_NS = "http://www.w3.org/1999/xlink"
ARM_NS = "http://www.cdisc.org/ns/arm/v1.0"
NSMAP = {None: ODM_NS, "xlink": XLINK_NS, "def": DEF_NS}
LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_PREFIXES = {"def": DEF_NS, "arm": ARM_NS, "xlink": XLINK_NS}


def q(ns: str, tag: str) -> str:
    """Clark notation of a namespaced name."""
    return f"{{{ns}}}{tag}"


def _name(text: str, default: str | None) -> str:
    prefix, _, local = text.partition(":")
    if local:
        return q(_PREFIXES[prefix], local)
    return q(default, text) if default else text


def el(
    parent: etree._Element,
    tag: str,
    attrs: Sequence[tuple[str, object]] = (),
    text: str | None = None,
) -> etree._Element:
    """Child element ``tag`` (``def:``/``arm:`` prefixes, else ODM); attributes with a None
    value are left out and the order given is kept."""
    node = etree.SubElement(parent, _name(tag, ODM_NS))
    for key, value in attrs:
        if value is None:
            continue
        try:
            node.set(_name(key, None), str(value))
        except ValueError:
            raise WriteError(
                f"define: {etree.QName(node).localname} {key}: {value!r} holds "
                "characters XML cannot carry (control characters)"
            ) from None
    if text is not None:
        try:
            node.text = text
        except ValueError:
            raise WriteError(
                f"define: {etree.QName(node).localname} text {text!r} holds "
                "characters XML cannot carry (control characters)"
            ) from None
    return node


def translated(parent: etree._Element, tag: str, text: str) -> etree._Element:
    """``tag`` holding one English TranslatedText."""
    node = el(parent, tag)
    el(node, "TranslatedText", [], text).set(LANG, "en")
    return node
