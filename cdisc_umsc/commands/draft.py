"""``cdisc-umsc draft-forms EXPORT...``: a draft ``forms:`` block from an export's metadata.

From an ODM-XML file's MetaDataVersion (item groups, items, types, code lists as recode
tables) or from SAS datasets' names, labels and formats. The draft reads the export as it
stands; the user completes it (field names the mapping uses, keys, recode targets).
"""

from __future__ import annotations

from pathlib import Path

import click

from cdisc_umsc.core.atomic import write_text
from cdisc_umsc.core.errors import InputError, UmscError, echo_safe, fail


@click.command("draft-forms")
@click.argument("exports", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--out",
    "-o",
    "out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the draft to this YAML file (default: print it).",
)
@click.option("--force", is_flag=True, help="Replace --out if it exists.")
@click.option(
    "--encoding",
    default="utf-8",
    show_default=True,
    help="Encoding of SAS XPORT files (SAS7BDAT files name their own).",
)
def command(exports: tuple[Path, ...], out: Path | None, force: bool, encoding: str) -> None:
    """Draft forms: (and recodes:) from one ODM file or from SAS datasets."""
    from cdisc_umsc.read.draft import draft_forms

    try:
        text = draft_forms(list(exports), encoding)
        if out is not None:
            if out.exists() and not force:
                raise InputError(f"{out}: exists (give --force to replace it)")
            if not out.parent.is_dir():
                raise InputError(f"{out.parent}: no such folder")
            write_text(out, text)
    except UmscError as exc:
        fail(exc)
    if out is None:
        echo_safe(text.rstrip("\n"))
    else:
        click.echo(f"draft written to {out}")
