"""define.xml bytes, define.html rendered by the bundled CDISC stylesheet, and the stylesheet
itself written beside define.xml so that the file renders when opened from its folder."""

from __future__ import annotations

import os
from copy import deepcopy
from functools import cache
from importlib.resources import as_file
from pathlib import Path

from lxml import etree

from cdisc_umsc.core.atomic import write_bytes
from cdisc_umsc.core.errors import WriteError
from cdisc_umsc.core.xmlsafe import safe_parser
from cdisc_umsc.standards import data_file

BUNDLE = "define-xml-2.1"
STYLESHEET = "define2-1.xsl"


def define_bytes(tree: etree._ElementTree) -> bytes:
    """The serialised document (UTF-8, declaration, two-space indent); `tree` is unchanged."""
    copy = deepcopy(tree)
    etree.indent(copy, space="  ")
    return etree.tostring(copy, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def stylesheet_bytes() -> bytes:
    """The bundled Define-XML 2.1 stylesheet, unchanged (its MIT licence header included)."""
    return data_file(BUNDLE).joinpath(STYLESHEET).read_bytes()


@cache
def _stylesheet() -> etree.XSLT:
    with as_file(data_file(BUNDLE).joinpath(STYLESHEET)) as xsl:
        doc = etree.parse(str(xsl), safe_parser())
    # lxml-stubs 0.5.1 declares XSLTAccessControl empty; DENY_ALL is lxml's documented constant
    deny_all = etree.XSLTAccessControl.DENY_ALL  # type: ignore[attr-defined]
    return etree.XSLT(doc, access_control=deny_all)


def render_html(tree: etree._ElementTree) -> bytes:
    """define.html rendered by the bundled define2-1.xsl (no file or network access)."""
    try:
        result = _stylesheet()(tree)
    except etree.XSLTError as exc:
        raise WriteError(f"define: rendering define.html failed: {exc}") from exc
    return bytes(result)


def write_define(
    path: str | os.PathLike[str],
    tree: etree._ElementTree,
    *,
    html_path: str | os.PathLike[str] | None = None,
    stylesheet: bool = True,
    notes: list[str] | None = None,
) -> None:
    """Write define.xml (and define.html when `html_path` is given) atomically, with the
    stylesheet its processing instruction names beside it. A different file of that name
    already there is kept (it is not ours) and noted."""
    path = Path(path)
    write_bytes(path, define_bytes(tree))
    if html_path is not None:
        write_bytes(Path(html_path), render_html(tree))
    if stylesheet:
        target = path.parent / STYLESHEET
        data = stylesheet_bytes()
        if not target.exists():
            write_bytes(target, data)
        elif target.read_bytes() != data and notes is not None:
            notes.append(f"{target}: kept the existing stylesheet (not the bundled one)")
