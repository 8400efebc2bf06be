"""``cdisc-umsc init DIR``: a new study folder started from a bundled trial (spec + raw forms).

The copy is the user's to edit: ``DIR/spec`` is a complete study spec (the format is in
docs/spec-format.md) and ``DIR/raw`` the raw CRF exports it maps, ready for
``cdisc-umsc run --spec DIR/spec --raw DIR/raw --out DIR/out``.
"""

from __future__ import annotations

from pathlib import Path

import click

from cdisc_umsc.core.errors import InputError, UmscError, echo_safe, fail


@click.command("init")
@click.argument("folder", required=False, type=click.Path(path_type=Path))
@click.option(
    "--trial",
    "name",
    default=None,
    metavar="NAME",
    help="Bundled trial to start from (default: the one `cdisc-umsc run` runs; see --list).",
)
@click.option("--list", "show", is_flag=True, help="List the bundled trials and exit.")
def command(folder: Path | None, name: str | None, show: bool) -> None:
    """Start a study in a new FOLDER: a copy of a bundled spec (FOLDER/spec) and raw trial
    (FOLDER/raw) to edit into your own."""
    from cdisc_umsc.core.bundled import bundle, copy_trial

    try:
        if show:
            found = bundle()
            for trial in found.trials.values():
                mark = " (default)" if trial.name == found.default else ""
                echo_safe(f"{trial.name}{mark}: {trial.title}")
            return
        if folder is None:
            raise InputError("give the new study's FOLDER (or --list)")
        copy = copy_trial(folder, name)
    except UmscError as exc:
        fail(exc)
    spec_files = sum(1 for p in copy.spec.rglob("*") if p.is_file())
    forms = sum(1 for p in copy.raw.iterdir() if p.is_file())
    echo_safe(f"{copy.spec}/  study spec ({spec_files} files, bundled trial {copy.name})")
    echo_safe(f"{copy.raw}/  {forms} raw CRF forms")
    echo_safe(f"next: cdisc-umsc run --spec {copy.spec} --raw {copy.raw} --out {folder / 'out'}")
