"""``cdisc-umsc synth``: write a seeded synthetic raw trial of any size (for scale runs)."""

from __future__ import annotations

from pathlib import Path

import click

from cdisc_umsc.core.errors import UmscError, fail
from cdisc_umsc.core.outdir import FORCE_HELP


@click.command(name="synth")
@click.option("--subjects", type=click.IntRange(min=1), required=True, help="Number of subjects.")
@click.option("--seed", type=int, default=1, show_default=True, help="Random seed.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    required=True,
    help="Folder for the raw CSV forms: created, or replaced whole if it is a previous "
    "output of cdisc-umsc.",
)
@click.option("--force", is_flag=True, help=FORCE_HELP)
@click.option(
    "--dense-labs",
    is_flag=True,
    help="Full and extended lab panels at every visit (~500 LAB rows per subject).",
)
def command(subjects: int, seed: int, out_dir: Path, dense_labs: bool, force: bool) -> None:
    """Write a SYNTHETIC raw trial shaped like the bundled one (whose spec maps it)."""
    from cdisc_umsc.synth import write_trial

    try:
        rows = write_trial(out_dir, subjects, seed, dense_labs, force)
    except UmscError as exc:
        fail(exc)
    click.echo(f"{subjects} synthetic subjects (seed {seed}) -> {out_dir}/")
    for name, count in rows.items():
        click.echo(f"  {name + '.csv':<14} {count:>8} rows")
