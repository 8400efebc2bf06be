"""``cdisc-umsc validate``: check a folder of SDTM or ADaM datasets, or compare two reports.

Exit codes: 0 no error findings, 1 error findings (with --diff: new error findings), 2 bad
usage or unreadable input (one line, no traceback).
"""

from __future__ import annotations

import codecs
import json
import sys
from pathlib import Path

import click

from cdisc_umsc.core.errors import InputError, UmscError, fail

FORMATS = ("json", "csv", "html")


def _report_target(fmt: str | None, out: Path | None) -> tuple[str, Path] | None:
    """(format, path) of the report file, or None when no report is asked for."""
    if fmt is None and out is None:
        return None
    if fmt is None:
        fmt = out.suffix.lower().lstrip(".")
        if fmt not in FORMATS:
            raise InputError(
                f"--out {out}: cannot tell the report format from the suffix; "
                f"give --report {'|'.join(FORMATS)}"
            )
    return fmt, out or Path(f"validation.{fmt}")


def validate_folder(
    folder: Path,
    *,
    define: Path | None = None,
    profile: str = "submission",
    encoding: str = "ascii",
):
    """(Findings, description of the work) for a folder of datasets."""
    from cdisc_umsc.read.define import read_define
    from cdisc_umsc.validate import validate_study
    from cdisc_umsc.validate.folder import read_folder
    from cdisc_umsc.validate.igmeta import study_from_ig

    try:
        codecs.lookup(encoding)
    except LookupError:
        raise InputError(f"--encoding {encoding}: unknown text encoding") from None
    data = read_folder(folder, encoding=encoding)
    if define is not None:
        study = read_define(define)
        source = f"{define.name} (Define-XML, {study.standard} {study.standard_version})".strip()
    else:
        ids = [
            str(f["STUDYID"].iloc[0])
            for f in data.frames.values()
            if "STUDYID" in f.columns and len(f)
        ]
        study = study_from_ig(data.frames, data.described, ids[0] if ids else "")
        source = "the bundled IG"
        if any(p.name.lower() == "define.xml" for p in Path(folder).iterdir()):
            data.notes.append(f"{folder}/define.xml not used (give --define to validate by it)")
    findings = validate_study(data.frames, study, profile=profile)
    records = sum(len(f) for f in data.frames.values())
    what = (
        f"{folder}: {len(data.frames)} datasets, {records} records, checked against "
        f"{source}, profile {profile}"
    )
    return findings, what, data.notes


def _write(findings, fmt: str, path: Path, title: str, summary: str) -> None:
    from cdisc_umsc.phi import Guard
    from cdisc_umsc.validate.html import write_html

    Guard().scan_frames({f"report {path.name}": findings.frame})  # findings quote values
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "json":
        findings.to_json(path)
    elif fmt == "csv":
        findings.to_csv(path)
    else:
        write_html(path, findings, title, summary)


def _diff(old: Path, new: Path, out: Path | None) -> int:
    from cdisc_umsc.core.atomic import write_text
    from cdisc_umsc.validate.diff import diff_findings, load_findings

    result = diff_findings(load_findings(old), load_findings(new))
    click.echo(f"{old} -> {new}: " + result.summary())
    if out is not None:
        text = json.dumps(result.to_dict(), ensure_ascii=False, indent=1, allow_nan=False)
        write_text(out, text + "\n")
    return 1 if (result.new.frame["severity"] == "error").any() else 0


@click.command("validate")
@click.argument("folder", required=False, type=click.Path(path_type=Path))
@click.option(
    "--define",
    "define",
    type=click.Path(path_type=Path),
    help="Validate by this define.xml's metadata (default: the bundled IG).",
)
@click.option("--report", "fmt", type=click.Choice(FORMATS), help="Report file format.")
@click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Report file (default: validation.<format>).",
)
@click.option(
    "--profile",
    type=click.Choice(["submission", "development"]),
    default="submission",
    show_default=True,
    help="development downgrades what is expected while a study is being built.",
)
@click.option(
    "--encoding",
    default="ascii",
    show_default=True,
    help="Text encoding of XPT files (e.g. cp1252 for legacy files).",
)
@click.option(
    "--diff",
    "diff",
    nargs=2,
    type=click.Path(path_type=Path),
    default=None,
    metavar="OLD.json NEW.json",
    help="List findings new, fixed and unchanged.",
)
def command(
    folder: Path | None,
    define: Path | None,
    fmt: str | None,
    out: Path | None,
    profile: str,
    encoding: str,
    diff: tuple[Path, Path] | None,
) -> None:
    """Validate a folder of SDTM or ADaM datasets (XPT or Dataset-JSON)."""
    try:
        if diff:
            if folder is not None or define is not None or fmt not in (None, "json"):
                raise InputError(
                    "--diff compares two JSON reports; give no FOLDER, --define or --report with it"
                )
            sys.exit(_diff(diff[0], diff[1], out))
        if folder is None:
            raise InputError("give a FOLDER of datasets to validate, or --diff OLD.json NEW.json")
        target = _report_target(fmt, out)
        findings, what, notes = validate_folder(
            folder, define=define, profile=profile, encoding=encoding
        )
        summary = findings.summary()
        for note in notes:
            click.echo(f"note: {note}")
        click.echo(what)
        click.echo(summary)
        if target is not None:
            _write(
                findings,
                target[0],
                target[1],
                f"cdisc-umsc validation: {folder}",
                f"{what}\n{summary}",
            )
            click.echo(f"report: {target[1]}")
    except UmscError as exc:
        fail(exc)
    sys.exit(1 if (findings.frame["severity"] == "error").any() else 0)
