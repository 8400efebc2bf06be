"""``cdisc-umsc define --sdtm DIR | --adam DIR``: Define-XML 2.1 for a folder without a spec.

Metadata comes from the files themselves (names, labels, types, lengths, keys) plus the bundled
IG (core, role, class, codelists), as ``cdisc-umsc validate`` uses without --define
(:mod:`cdisc_umsc.write.folder`). Writes DIR/define.xml, define.html and the stylesheet
atomically; the document must pass the Define-XML 2.1 schema. A value outside a
non-extensible codelist is a finding, printed as a note, not a reason to stop.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from cdisc_umsc.core.errors import InputError, UmscError, fail


def _classes(items: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for item in items:
        name, eq, cls = item.partition("=")
        if not eq or not name.strip() or not cls.strip():
            raise InputError(f"--class {item!r}: write NAME=CLASS, e.g. DI='SPECIAL PURPOSE'")
        out[name.strip().upper()] = cls.strip().upper()
    return out


@click.command("define")
@click.option(
    "--sdtm",
    "sdtm",
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder of SDTM datasets.",
)
@click.option(
    "--adam",
    "adam",
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder of ADaM datasets.",
)
@click.option("--encoding", default="ascii", show_default=True, help="Text encoding of XPT files.")
@click.option(
    "--created",
    default=None,
    help="CreationDateTime (default: the latest one in the dataset files).",
)
@click.option(
    "--ig",
    default=None,
    help="Implementation guide the define names, e.g. 'SDTMIG 3.4' (default: the bundled one).",
)
@click.option(
    "--ct",
    default=None,
    help="Controlled terminology, e.g. 'SDTM CT 2025-03-28' (default: the bundled one).",
)
@click.option(
    "--class",
    "classes",
    multiple=True,
    metavar="NAME=CLASS",
    help="Class of a dataset the IG and the SDTM model do not name (repeatable).",
)
@click.option("--force", is_flag=True, help="Replace a define.xml this tool did not write.")
def command(
    sdtm: Path | None,
    adam: Path | None,
    encoding: str,
    created: str | None,
    ig: str | None,
    ct: str | None,
    classes: tuple[str, ...],
    force: bool,
) -> None:
    """Write DIR/define.xml and define.html for a folder of datasets (bundled IG metadata)."""
    from cdisc_umsc.phi import Guard
    from cdisc_umsc.write.folder import write_folder_define

    notes: list[str] = []
    try:
        if (sdtm is None) == (adam is None):
            raise InputError("give exactly one of --sdtm DIR or --adam DIR")
        if created is not None:
            try:
                datetime.fromisoformat(created)
            except ValueError:
                raise InputError(
                    f"--created {created!r}: expected an ISO 8601 date-time "
                    "such as 2024-05-01T09:00:00"
                ) from None
        folder, purpose = (sdtm, "Tabulation") if sdtm is not None else (adam, "Analysis")
        path = write_folder_define(
            folder,  # type: ignore[arg-type]
            purpose,
            encoding=encoding,
            created=created,
            ig=ig,
            ct=ct,
            classes=_classes(classes),
            force=force,
            notes=notes,
            check=Guard().scan_frames,
        )
    except UmscError as exc:
        fail(exc)
    for note in notes:
        click.echo(f"note: {note}")
    click.echo(f"wrote {path}, {path.with_suffix('.html').name} and define2-1.xsl")
