"""``cdisc-umsc validate``: check a folder of SDTM or ADaM datasets, or compare two reports.

A folder is either one folder of datasets or a ``run`` output folder (its ``sdtm/`` and
``adam/`` are validated, each by the define.xml beside it). A define.xml beside the datasets
is used by default; the report says which metadata judged the data.

Exit codes: 0 no error findings, 1 error findings (with --diff: new error findings; a file that
cannot be read, or text not valid in --encoding, is an error finding), 2 bad usage or no
datasets at all (one line, no traceback).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from cdisc_umsc.core.atomic import check_parent, check_replaceable, file_starts_with
from cdisc_umsc.core.errors import InputError, UmscError, fail

if TYPE_CHECKING:  # the validate package (pandas, pandera) is imported by the command only
    from cdisc_umsc.validate.folder import Validation

FORMATS = ("json", "csv", "html", "xlsx")


def _report_target(fmt: str | None, out: Path | None) -> tuple[str, Path] | None:
    """(format, path) of the report file, or None when no report is asked for."""
    if fmt is None:
        if out is None:
            return None
        fmt = out.suffix.lower().lstrip(".")
        if fmt not in FORMATS:
            raise InputError(
                f"--out {out}: cannot tell the report format from the suffix; "
                f"give --report {'|'.join(FORMATS)}"
            )
    elif out is not None and out.suffix.lower().lstrip(".") in FORMATS:
        if out.suffix.lower().lstrip(".") != fmt:
            raise InputError(f"--out {out}: the suffix says another format than --report {fmt}")
    target = out or Path(f"validation.{fmt}")
    if not target.parent.is_dir():
        raise InputError(f"--out {target}: folder {target.parent} does not exist")
    check_replaceable(
        target, lambda path: _own_report(path, fmt), f"validate report ({fmt})", f"--out {target}"
    )
    return fmt, target


#: how each report format begins (the xlsx names this tool as its creator)
_REPORT_START = {
    "json": b'{\n "summary": [',
    "csv": b"rule,severity,dataset,usubjid,",
    "html": b"<!DOCTYPE html>",
}


def _own_report(path: Path, fmt: str) -> bool:
    """Whether ``path`` is a report this command wrote (it may then be replaced)."""
    import zipfile

    if fmt == "xlsx":
        try:
            with zipfile.ZipFile(path) as book:
                return b">cdisc-umsc</dc:creator>" in book.read("docProps/core.xml")
        except zipfile.BadZipFile:
            return False
    with path.open("rb") as handle:
        head = handle.read(4096)
    if fmt == "html":
        return head.startswith(_REPORT_START["html"]) and b"<title>cdisc-umsc validation" in head
    return head.startswith(_REPORT_START[fmt])


#: how a --diff --out file begins (``json.dumps(..., indent=1)`` of DiffResult.to_dict)
DIFF_START = b'{\n "new": ['


def _write(validation: Validation, fmt: str, path: Path, title: str, summary: str, known) -> None:
    from cdisc_umsc.phi import Guard
    from cdisc_umsc.validate.html import write_html

    findings = validation.findings
    Guard().scan_frames({f"report {path.name}": findings.frame})  # findings quote values
    if fmt == "json":
        findings.to_json(path)
    elif fmt == "csv":
        findings.to_csv(path)
    elif fmt == "xlsx":
        from cdisc_umsc.validate.xlsx import write_xlsx

        write_xlsx(path, findings, validation.header, validation.datasets, known)
    else:
        write_html(path, findings, title, summary, datasets=validation.datasets)


def _diff(old: Path, new: Path, out: Path | None) -> int:
    from cdisc_umsc.core.atomic import write_text
    from cdisc_umsc.validate.diff import diff_findings, load_findings

    if out is not None:
        check_parent(out)
        check_replaceable(
            out, file_starts_with(DIFF_START), "validate --diff report", f"--out {out}"
        )
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
    help="Validate by this define.xml (default: the define.xml beside the datasets, if any).",
)
@click.option(
    "--no-define",
    "no_define",
    is_flag=True,
    help="Ignore a define.xml beside the datasets; judge by the bundled IG.",
)
@click.option("--ig", "ig", help="SDTMIG version to judge by (default: define.xml, TS SDTIGVER).")
@click.option("--ct", "ct", help="SDTM CT version to judge by, e.g. 2025-03-28.")
@click.option("--report", "fmt", type=click.Choice(FORMATS), help="Report file format.")
@click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Report file (default: validation.<format>).",
)
@click.option(
    "--known",
    "known",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="Known-findings CSV (rule_id, dataset, variable, justification): fills the "
    "Explanation column of the xlsx report. May be repeated.",
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
    no_define: bool,
    ig: str | None,
    ct: str | None,
    fmt: str | None,
    out: Path | None,
    known: tuple[Path, ...],
    profile: str,
    encoding: str,
    diff: tuple[Path, Path] | None,
) -> None:
    """Validate a folder of SDTM or ADaM datasets (XPT or Dataset-JSON), or a run's output."""
    try:
        if diff:
            if folder is not None or define is not None or fmt not in (None, "json"):
                raise InputError(
                    "--diff compares two JSON reports; give no FOLDER, --define or --report with it"
                )
            if out is not None:
                check_parent(out)
            sys.exit(_diff(diff[0], diff[1], out))
        if folder is None:
            raise InputError("give a FOLDER of datasets to validate, or --diff OLD.json NEW.json")
        if define is not None and no_define:
            raise InputError("--define and --no-define contradict each other; give one")
        target = _report_target(fmt, out)
        from cdisc_umsc.validate.explain import load_known

        explanations = load_known(known)
        if target is not None:
            check_parent(target[1])  # before the work, not after it
        from cdisc_umsc.validate.folder import validate_folder

        validation = validate_folder(
            folder,
            define=define,
            use_define=not no_define,
            profile=profile,
            encoding=encoding,
            ig=ig,
            ct=ct,
        )
        findings = validation.findings
        summary = findings.summary()
        for note in validation.notes:
            click.echo(f"note: {note}")
        unreadable = findings.of("UMSC-FI0002")
        for message in unreadable["message"] if len(unreadable) else ():
            # a dataset that cannot be read is never validated as if it were shorter
            click.echo(f"error: {message}; the dataset is not validated", err=True)
        click.echo(validation.what)
        click.echo(summary)
        if target is not None:
            _write(
                validation,
                target[0],
                target[1],
                f"cdisc-umsc validation: {folder}",
                f"{validation.what}\n{summary}",
                explanations,
            )
            click.echo(f"report: {target[1]}")
    except UmscError as exc:
        fail(exc)
    sys.exit(1 if (findings.frame["severity"] == "error").any() else 0)
