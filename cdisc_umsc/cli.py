"""Command line: ``cdisc-umsc run`` and friends. Errors are one line and an exit code."""

from __future__ import annotations

from pathlib import Path

import click

from cdisc_umsc.commands._options import format_option
from cdisc_umsc.commands.summary import echo_accounting
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
@format_option()
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
    default=None,
    help="Independent stages (validate, write SDTM, write ADaM, lineage) run at once, in "
    "processes; the output is the same for any number [default: the CPUs, at most 4].",
)
def run(
    spec_dir: Path | None,
    raw_dir: Path | None,
    out_dir: Path,
    force: bool,
    fmt: str,
    quiet: bool,
    jobs: int | None,
) -> None:
    """Run the whole pipeline (default: the bundled synthetic trial)."""
    from cdisc_umsc import run as runner
    from cdisc_umsc.core.progress import Progress

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
    echo_accounting(m["raw_forms"], m["ignored_files"], result.sdtm.unmatched, m["records"])
    from cdisc_umsc.validate.outputs import summary_line

    click.echo(f"\nValidation ({out_dir}/validation.html):")
    for standard, findings in result.validation.items():
        click.echo("  " + summary_line(standard, findings))
    for note in m["review"].get("notes", []):
        echo_safe(f"\nReview page: {note}")
    _endpoints(m["review"], result.adam)


def _endpoints(plan: dict, adam: dict) -> None:
    """The responder table of every endpoint the ADaM spec declares."""
    from cdisc_umsc.report.efficacy import efficacy_table, format_table

    for ep in plan["endpoints"]:
        table = efficacy_table(adam[ep["dataset"]], ep["by"], ep["population"], ep["dataset"])
        pop = f", {ep['population']}=Y" if ep["population"] else ""
        click.echo(f"\nEndpoints ({ep['dataset']}, ANL01FL=Y{pop}, {ep['visit']}):")
        click.echo(format_table(table))


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
@click.option(
    "--spec",
    "spec_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Study spec folder whose ADaM spec plans the tables (default: the plan in the run's "
    "manifest.json beside the ADaM folder).",
)
@click.option("--by", default=None, help="ADSL variables to split responders by, e.g. TRT01P,SEX.")
@click.option(
    "--tests", default=None, help="Parameters of the laboratory panel (default: the plan's)."
)
@click.option("--csv", "csv_out", type=click.Path(path_type=Path), help="Write the tables as CSV.")
@click.option(
    "--json", "json_out", type=click.Path(path_type=Path), help="Write the tables as JSON."
)
def report(
    adam_dir: Path,
    spec_dir: Path | None,
    by: str | None,
    tests: str | None,
    csv_out: Path | None,
    json_out: Path | None,
) -> None:
    """Responder and laboratory tables, computed from ADaM datasets only, as the study's ADaM
    spec plans them."""
    import json

    import pandas as pd
    from pandas.api.types import is_integer_dtype

    from cdisc_umsc.core.atomic import check_parent, check_replaceable, write_text
    from cdisc_umsc.report.efficacy import efficacy_table, format_table
    from cdisc_umsc.report.labs import format_lab_table, lab_table, responders

    try:
        for option, target, ours in (
            ("--csv", csv_out, _own_report_csv),
            ("--json", json_out, _own_report_json),
        ):
            if target is not None:
                check_parent(target)
                check_replaceable(target, ours, "report table", f"{option} {target}")
        plan = _report_plan(adam_dir, spec_dir)
        eff, imm = [], []
        for ep in plan["endpoints"]:
            groups = [v for v in by.split(",") if v] if by is not None else ep["by"]
            bds = _read_folder(adam_dir, ep["dataset"])
            eff.append(efficacy_table(bds, groups, ep["population"], ep["dataset"]))
        if tests is not None and not plan["labs"]:
            raise UmscError(
                "--tests: the ADaM spec declares no laboratory panel (review: parameters:)"
            )
        for panel in plan["labs"]:
            codes = (
                [t for t in tests.split(",") if t]
                if tests is not None
                else list(panel["parameters"])
            )
            resp = None
            if panel.get("responders"):
                r = panel["responders"]
                resp = responders(
                    _read_folder(adam_dir, r["dataset"]), r["PARAMCD"], r["CRIT"], r["dataset"]
                )
            lab = _read_folder(adam_dir, panel["dataset"])
            imm.append(
                lab_table(lab, codes, resp, panel["dataset"]).assign(dataset=panel["dataset"])
            )
        eff_all = pd.concat(eff, ignore_index=True) if eff else pd.DataFrame()
        imm_all = pd.concat(imm, ignore_index=True) if imm else pd.DataFrame()
        from cdisc_umsc.phi import Guard

        # the tables name their groups by values of the data (--by any variable): printed or
        # written, they are an output like any other
        Guard().scan_frames({"report efficacy": eff_all, "report labs": imm_all})
    except UmscError as exc:
        fail(exc)
    for ep, table in zip(plan["endpoints"], eff, strict=True):
        pop = f", {ep['population']}=Y" if ep["population"] else ""
        click.echo(f"Endpoints ({ep['dataset']}, ANL01FL=Y{pop}, {ep['visit']}):")
        click.echo(format_table(table) + "\n")
    for panel, table in zip(plan["labs"], imm, strict=True):
        click.echo(
            f"Laboratory panel {panel['dataset']} (medians; baseline vs last post-baseline visit):"
        )
        click.echo(format_lab_table(table) + "\n")
    if not eff and not imm:
        click.echo("The ADaM spec declares no endpoints and no laboratory panel.")
    try:
        if csv_out:
            both = pd.concat([eff_all.assign(table="efficacy"), imm_all.assign(table="labs")])
            # counts stay whole numbers where the other table has no such column (not 8.0)
            counts = {c for f in (eff_all, imm_all) for c in f if is_integer_dtype(f[c])}
            both = both.astype({c: "Int64" for c in counts})
            write_text(csv_out, both.to_csv(index=False, lineterminator="\n"))
        if json_out:
            payload = {"efficacy": eff_all.to_dict("records"), "labs": imm_all.to_dict("records")}
            write_text(json_out, json.dumps(payload, indent=2, default=float) + "\n")
    except UmscError as exc:
        fail(exc)


#: a file larger than this at --csv/--json is not a report table of this tool
REPORT_MAX_BYTES = 16 * 1024 * 1024


def _own_report_csv(path: Path) -> bool:
    """A ``report --csv`` file: its header has a ``table`` column that says ``efficacy`` or
    ``labs`` on every row."""
    import csv

    if path.stat().st_size > REPORT_MAX_BYTES:
        return False
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    if not rows or "table" not in rows[0]:
        return False
    at, width = rows[0].index("table"), len(rows[0])
    return all(len(r) == width and r[at] in ("efficacy", "labs") for r in rows[1:])


def _own_report_json(path: Path) -> bool:
    """A ``report --json`` file: an object of exactly the lists ``efficacy`` and ``labs``."""
    import json

    if path.stat().st_size > REPORT_MAX_BYTES:
        return False
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return False
    return isinstance(doc, dict) and sorted(doc) == ["efficacy", "labs"]


def _report_plan(adam_dir: Path, spec_dir: Path | None) -> dict:
    """The plan of the tables: from the spec folder, else from the run's manifest."""
    import json

    from cdisc_umsc.core.errors import InputError
    from cdisc_umsc.report.plan import review_plan

    if spec_dir is not None:
        from cdisc_umsc.adam.inputs import load_adam_specs

        return review_plan(load_adam_specs(spec_dir))
    manifest = Path(adam_dir).parent / "manifest.json"
    try:
        return json.loads(manifest.read_text(encoding="utf-8"))["review"]
    except (OSError, ValueError, KeyError):
        raise InputError(
            f"{manifest}: no run manifest with a review plan beside the ADaM folder; give "
            "--spec (the study's spec folder)"
        ) from None


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


def entry() -> None:
    """The ``cdisc-umsc`` command: :func:`main`, then the process ends at once with its exit
    code. Every file is written and closed (atomically) before a command returns, so the
    interpreter's tear-down (freeing each of the millions of objects a large study's frames
    hold: 2.4 s at 2,000 subjects) does nothing for the user; stdout and stderr are flushed
    first. An exception that is not an exit (a bug) is left to Python to report."""
    import os
    import sys

    try:
        main()
    except SystemExit as done:
        code = done.code
        status = code if isinstance(code, int) else (0 if code is None else 1)
        if not isinstance(code, int | None):
            print(code, file=sys.stderr)  # a message given as the exit code, as Python prints it
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):  # a closed pipe or stream: nothing more to show
                status = status or 1
        os._exit(status)


if __name__ == "__main__":  # pragma: no cover
    entry()
