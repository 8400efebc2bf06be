"""``cdisc-umsc check``: the checks ``run`` makes before it writes anything, without writing.

With ``--spec`` alone it loads the spec folder and checks everything that needs no data: the
schema of every spec file, each mapping's algorithm, parameters and references (forms, fields,
codelists, datasets), the ADaM specs and the review plan. With ``--raw`` too it reads every raw
form (headers, types, dates, codes), runs every SDTM mapping and ADaM derivation on the data,
reconciles the records and runs the direct-identifier guard, then prints what ``run`` would
account for. Exit 0 when every check passes; a failed check is one line and exit 2, as in
``run``.
"""

from __future__ import annotations

from pathlib import Path

import click

from cdisc_umsc.commands._options import format_option
from cdisc_umsc.commands.summary import echo_accounting
from cdisc_umsc.core.errors import UmscError, fail


def _spec_line(spec_dir: Path) -> None:
    """Check the spec folder alone and print what it declares."""
    from cdisc_umsc import run as runner

    spec, plan = runner.load_spec(spec_dir)
    titles = spec.standards.titles
    click.echo(
        f"{spec.settings['STUDYID']}: {titles['sdtm']}, {titles['ct']}, {titles['adam']}  "
        f"(spec {spec_dir}: no errors)"
    )
    design = sorted(spec.trial_design or {})
    rows = [
        ("raw forms", sorted(spec.forms)),
        ("SDTM domains", sorted(spec.domains)),
        ("trial design", design),
        ("ADaM datasets", sorted(spec.adam)),
        ("endpoints", [f"{ep['dataset']} {ep['visit']}" for ep in plan["endpoints"]]),
    ]
    for label, names in rows:
        click.echo(f"  {label:<14} {len(names):>3}  {', '.join(names)}")


def _with_raw(spec_dir: Path, raw_dir: Path, fmt: str) -> None:
    """Check the spec, then every raw form and every mapping on the data, and (for XPT) the
    text the XPT files would refuse."""
    from cdisc_umsc import run as runner
    from cdisc_umsc.write.xpt import check_text

    built = runner.build(spec_dir, raw_dir)
    for data, study in built.validation_parts().values() if fmt != "json" else ():
        for name in sorted(data):  # what the XPT files would refuse (non-ASCII text ...)
            check_text(data[name], study.datasets[name])
    titles = built.spec.standards.titles
    click.echo(
        f"{built.spec.settings['STUDYID']}: {titles['sdtm']}, {titles['ct']}, {titles['adam']}  "
        f"(spec {spec_dir}, raw {raw_dir}: no errors)"
    )
    records = {
        **{f"sdtm/{k}": len(v) for k, v in sorted(built.sdtm.data.items())},
        **{f"adam/{k}": len(v) for k, v in sorted(built.adam.items())},
    }
    echo_accounting(built.sdtm.accounting, built.sdtm.ignored, built.sdtm.unmatched, records)


@click.command("check")
@click.option(
    "--spec",
    "spec_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Study spec folder (default: the bundled trial's).",
)
@click.option(
    "--raw",
    "raw_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Raw form folder: also read every form and run every mapping on its data.",
)
@format_option(
    "The dataset format run will write (with --raw: XPT text is checked as XPT holds it)."
)
def command(spec_dir: Path | None, raw_dir: Path | None, fmt: str) -> None:
    """Check a spec (and with --raw its raw forms) as run does first, writing nothing."""
    from cdisc_umsc.core.bundled import default_trial

    try:
        spec = spec_dir if spec_dir is not None else default_trial().spec
        if raw_dir is None:
            _spec_line(spec)
        else:
            _with_raw(spec, raw_dir, fmt)
    except UmscError as exc:
        fail(exc)
    click.echo("\nNothing written.")
