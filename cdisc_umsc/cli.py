"""Command line: ``cdisc-umsc run`` and friends. Errors are one line and an exit code."""

from __future__ import annotations

from pathlib import Path

import click

from cdisc_umsc.core.errors import UmscError, echo_safe, exit_on_signals, fail, safe_console
from cdisc_umsc.core.outdir import FORCE_HELP
from cdisc_umsc.core.version import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cdisc-umsc")
def main() -> None:
    """Raw CRF exports to CDISC SDTM and ADaM: XPT v5, Dataset-JSON, Define-XML."""
    safe_console()
    exit_on_signals()


@main.command()
@click.option(
    "--spec",
    "spec_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Study spec folder (default: the bundled trial's; see cdisc-umsc init --list).",
)
@click.option(
    "--raw",
    "raw_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Raw form folder (default: the bundled trial's raw forms).",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=Path("out"),
    show_default=True,
    help="Output folder: created, or replaced whole if it is a previous output of cdisc-umsc.",
)
@click.option("--force", is_flag=True, help=FORCE_HELP)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["xpt", "json", "both"]),
    default="xpt",
    show_default=True,
    help="Dataset file format.",
)
@click.option(
    "--quiet",
    "-q",
    is_flag=True,
    help="No progress on stderr (it is shown only on a terminal anyway).",
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Threads for independent stages (write, validate, lineage); same output.",
)
def run(
    spec_dir: Path | None,
    raw_dir: Path | None,
    out_dir: Path,
    force: bool,
    fmt: str,
    quiet: bool,
    jobs: int,
) -> None:
    """Run the whole pipeline (default: the bundled synthetic trial)."""
    from cdisc_umsc import run as runner
    from cdisc_umsc.core.progress import Progress
    from cdisc_umsc.report.efficacy import efficacy_table, format_table

    progress = Progress(enabled=False if quiet else None)  # stderr, shown on a terminal
    try:
        result = runner.run(
            spec_dir,
            raw_dir,
            out_dir,
            fmt,
            progress=progress,
            jobs=jobs,
            force=force,
        )
    except UmscError as exc:
        fail(exc)
    m = result.manifest
    click.echo(
        f"{m['study']}: {m['standards']['sdtm']}, {m['standards']['ct']}, "
        f"{m['standards']['adam']}  ->  {out_dir}/"
    )
    click.echo("\nRaw records (read = mapped + excluded):")
    for f in m["raw_forms"]:
        click.echo(
            f"  {f['file']:<14} {f['read']:>6} read {f['mapped']:>6} mapped "
            f"{f['excluded']:>4} excluded"
        )
        for reason, count in f["reasons"].items():
            click.echo(f"      {count} excluded: {reason}")
    if result.sdtm.unmatched:
        click.echo("\nConditions that matched no record (check the spec's values):")
        for line in result.sdtm.unmatched:
            echo_safe(f"  {line}")
    click.echo("\nRecords per dataset:")
    for name, count in m["records"].items():
        click.echo(f"  {name:<14} {count:>6}")
    from cdisc_umsc.validate.outputs import summary_line

    click.echo(f"\nValidation ({out_dir}/validation.html):")
    for standard, findings in result.validation.items():
        click.echo("  " + summary_line(standard, findings))
    table = efficacy_table(result.adam["ADQS"])
    click.echo("\nEfficacy (ADQS, ANL01FL=Y, full analysis set):")
    click.echo(format_table(table[table["endpoint"].isin(["PASI40", "PGA 0/1"])]))


def _read_folder(folder: Path, name: str):
    """One ADaM dataset from a folder of XPT or Dataset-JSON files."""
    from cdisc_umsc.read.datasets import load_dataset

    return load_dataset(folder, name)


@main.command()
@click.option(
    "--adam",
    "adam_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("out/adam"),
    show_default=True,
    help="Folder of ADaM datasets.",
)
@click.option("--csv", "csv_out", type=click.Path(path_type=Path), help="Write the tables as CSV.")
@click.option(
    "--json", "json_out", type=click.Path(path_type=Path), help="Write the tables as JSON."
)
@click.option(
    "--tests",
    default="TLHRTLH,TH17TH,TLHNTH,TLHMTH,INTLK17",
    show_default=True,
    help="ADLB parameters for the immunology table.",
)
def report(adam_dir: Path, csv_out: Path | None, json_out: Path | None, tests: str) -> None:
    """Efficacy and immunology tables, computed from ADaM datasets only."""
    import json

    import pandas as pd

    from cdisc_umsc.core.atomic import check_parent, write_text
    from cdisc_umsc.report.efficacy import efficacy_table, format_table
    from cdisc_umsc.report.immunology import format_immunology, immunology_table

    try:
        for target in (csv_out, json_out):
            if target is not None:
                check_parent(target)
        adqs = _read_folder(adam_dir, "ADQS")
        adlb = _read_folder(adam_dir, "ADLB")
    except UmscError as exc:
        fail(exc)
    eff = efficacy_table(adqs)
    imm = immunology_table(adlb, adqs, [t for t in tests.split(",") if t])
    click.echo("Efficacy (ANL01FL=Y, full analysis set):")
    click.echo(format_table(eff, groups=("Overall", "SEX", "ARM")))
    click.echo("\nImmunology (medians; baseline vs last post-baseline visit):")
    click.echo(format_immunology(imm))
    try:
        if csv_out:
            both = pd.concat([eff.assign(table="efficacy"), imm.assign(table="immunology")])
            write_text(csv_out, both.to_csv(index=False, lineterminator="\n"))
        if json_out:
            payload = {"efficacy": eff.to_dict("records"), "immunology": imm.to_dict("records")}
            write_text(json_out, json.dumps(payload, indent=2, default=float) + "\n")
    except UmscError as exc:
        fail(exc)


def _register_commands() -> None:
    """Add the command defined by each module of cdisc_umsc.commands."""
    import importlib
    import pkgutil

    from cdisc_umsc import commands

    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"cdisc_umsc.commands.{info.name}")
        command = getattr(module, "command", None)
        if isinstance(command, click.Command):
            main.add_command(command)


_register_commands()


if __name__ == "__main__":  # pragma: no cover
    main()
