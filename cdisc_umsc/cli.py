"""Command line: ``cdisc-umsc run`` and friends. Errors are one line and an exit code."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from cdisc_umsc import __version__
from cdisc_umsc.errors import UmscError


def _fail(exc: UmscError) -> None:
    click.echo(f"error: {exc}", err=True)
    sys.exit(exc.exit_code)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cdisc-umsc")
def main() -> None:
    """Raw CRF exports to CDISC SDTM and ADaM: XPT v5, Dataset-JSON, Define-XML."""


@main.command()
@click.option("--spec", "spec_dir", type=click.Path(path_type=Path), default=None,
              help="Study spec folder (default: mappings/umsc).")
@click.option("--raw", "raw_dir", type=click.Path(path_type=Path), default=None,
              help="Raw form folder (default: fixtures/umsc/raw).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("out"),
              show_default=True, help="Output folder (replaced atomically).")
@click.option("--format", "fmt", type=click.Choice(["xpt", "json", "both"]), default="xpt",
              show_default=True, help="Dataset file format.")
def run(spec_dir: Path | None, raw_dir: Path | None, out_dir: Path, fmt: str) -> None:
    """Run the whole pipeline (default: the bundled UMSC trial)."""
    from cdisc_umsc import run as runner
    from cdisc_umsc.report.efficacy import efficacy_table, format_table

    try:
        result = runner.run(spec_dir or runner.DEFAULT_SPEC, raw_dir or runner.DEFAULT_RAW,
                            out_dir, fmt)
    except UmscError as exc:
        _fail(exc)
        return
    m = result.manifest
    click.echo(f"{m['study']}: {m['standards']['sdtm']}, {m['standards']['ct']}, "
               f"{m['standards']['adam']}  ->  {out_dir}/")
    click.echo("\nRaw records (read = mapped + excluded):")
    for f in m["raw_forms"]:
        click.echo(f"  {f['file']:<14} {f['read']:>6} read {f['mapped']:>6} mapped "
                   f"{f['excluded']:>4} excluded")
        for reason, count in f["reasons"].items():
            click.echo(f"      {count} excluded: {reason}")
    click.echo("\nRecords per dataset:")
    for name, count in m["records"].items():
        click.echo(f"  {name:<14} {count:>6}")
    table = efficacy_table(result.adam["ADQS"])
    click.echo("\nEfficacy (ADQS, ANL01FL=Y, full analysis set):")
    click.echo(format_table(table[table["endpoint"].isin(["PASI40", "PGA 0/1"])]))


if __name__ == "__main__":  # pragma: no cover
    main()
