"""Small HTML builders: every text value is escaped here, attributes included."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape


def attrs(**values: object) -> str:
    """`` name="value"`` pairs; underscores in names become hyphens (data_x -> data-x) and
    ``cls`` is the class attribute."""
    return "".join(
        f' {"class" if k == "cls" else k.replace("_", "-")}="{escape(str(v), quote=True)}"'
        for k, v in values.items()
        if v is not None
    )


def cell(text: object, tag: str = "td", raw: bool = False, **values: object) -> str:
    """One table cell; ``raw`` marks text that is already HTML."""
    body = str(text) if raw else escape(str(text))
    return f"<{tag}{attrs(**values)}>{body}</{tag}>"


def num(text: object, tag: str = "td", raw: bool = False, **values: object) -> str:
    """A right-aligned number cell."""
    return cell(text, tag, raw, cls="num", **values)


def table(
    headers: Sequence[str], rows: Iterable[Sequence[str]], caption: str = "", **values: object
) -> str:
    """A table from header texts and rows of ready cells."""
    head = "".join(cell(h, "th", scope="col") for h in headers)
    body = "\n".join(f"<tr>{''.join(r)}</tr>" for r in rows)
    cap = f"<caption>{escape(caption)}</caption>" if caption else ""
    return (
        f"<table{attrs(**values)}>{cap}<thead><tr>{head}</tr></thead>"
        f"<tbody>\n{body}\n</tbody></table>"
    )


def link(href: str, text: str) -> str:
    """A relative link to a file of the output folder."""
    return f'<a href="{escape(href, quote=True)}">{escape(text)}</a>'


def figure(svg: str, caption: str, ident: str) -> str:
    """An inline SVG plot with its caption."""
    return (
        f'<figure id="{escape(ident, quote=True)}" role="group">{svg}'
        f"<figcaption>{escape(caption)}</figcaption></figure>"
    )


def para(text: str, cls: str = "note") -> str:
    return f'<p class="{cls}">{escape(text)}</p>'
