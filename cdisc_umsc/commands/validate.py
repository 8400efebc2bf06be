"""``cdisc-umsc validate``: check a folder of SDTM or ADaM datasets, or compare two reports.

A folder is either one folder of datasets or a ``run`` output folder (its ``sdtm/`` and
``adam/`` are validated, each by the define.xml beside it). A define.xml beside the datasets
is used by default; the report says which metadata judged the data.

Exit codes: 0 no error findings, 1 error findings (with --diff: new error findings; a file that
cannot be read, or text not valid in --encoding, is an error finding), 2 bad usage or no
datasets at all (one line, no traceback).
"""

from __future__ import annotations

import codecs
import json
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import click

from cdisc_umsc.core.errors import InputError, UmscError, fail

FORMATS = ("json", "csv", "html", "xlsx")
#: Sub-folders of a ``cdisc-umsc run`` output that hold datasets, in report order.
RUN_PARTS = ("sdtm", "adam")


@dataclass
class Validation:
    """What one ``validate`` produced: findings, what was checked, notes, the standards used."""

    findings: object
    what: str
    notes: list[str] = field(default_factory=list)
    header: dict[str, str] = field(default_factory=dict)
    datasets: dict[str, int] = field(default_factory=dict)


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
    target = out or Path(f"validation.{fmt}")
    if not target.parent.is_dir():
        raise InputError(f"--out {target}: folder {target.parent} does not exist")
    return fmt, target


def _define_beside(folder: Path) -> Path | None:
    hits = [p for p in folder.iterdir() if p.is_file() and p.name.lower() == "define.xml"]
    return hits[0] if hits else None


def _parts(folder: Path) -> list[Path]:
    """The dataset folders to validate: ``folder`` itself, or a run output's sdtm/ and adam/."""
    from cdisc_umsc.read.datasets import dataset_files

    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder of datasets")
    if dataset_files(folder)[0]:
        return [folder]
    subs = [folder / p for p in RUN_PARTS if (folder / p).is_dir() and dataset_files(folder / p)[0]]
    if not subs:
        raise InputError(
            f"{folder}: no datasets (expected *.xpt, *.json or *.ndjson files, or the sdtm/ "
            "and adam/ folders of a cdisc-umsc run)"
        )
    return subs


def _ig_text(value: str | None) -> str:
    if value is None:
        return ""
    text = value.strip()
    for word in ("SDTMIG", "SDTM IG"):
        if text.upper().startswith(word):
            text = text[len(word) :].strip(" v")
    return text


def _one(
    folder: Path,
    define: Path | None,
    use_define: bool,
    profile: str,
    encoding: str,
    ig: str | None,
    ct: str | None,
):
    from cdisc_umsc.read.define import read_define
    from cdisc_umsc.validate import validate_study
    from cdisc_umsc.validate.folder import read_folder
    from cdisc_umsc.validate.igmeta import declared_ig, study_from_ig

    data = read_folder(folder, encoding=encoding)
    define = define if define is not None else (_define_beside(folder) if use_define else None)
    if define is not None:
        study = read_define(define)
        source = f"{define.name} (Define-XML, {study.standard} {study.standard_version})".strip()
        if ig:
            study.standard_version = _ig_text(ig)
        if ct:
            study.ct_version = ct
    else:
        ids = [
            str(f["STUDYID"].iloc[0])
            for f in data.frames.values()
            if "STUDYID" in f.columns and len(f)
        ]
        declared = _ig_text(ig) or declared_ig(data.frames)
        study = study_from_ig(
            data.frames,
            data.described,
            ids[0] if ids else "",
            ig_version=declared,
            ct_version=ct or "",
        )
        source = "the bundled IG" + (f" (the study declares SDTMIG {declared})" if declared else "")
        beside = _define_beside(folder)
        if beside is not None:
            data.notes.append(f"{beside} not used (--no-define)")
    findings = validate_study(data.frames, study, profile=profile, read_issues=data.read_issues())
    records = sum(len(f) for f in data.frames.values())
    what = (
        f"{folder}: {len(data.frames)} datasets, {records} records, checked against "
        f"{source}, profile {profile}"
    )
    counts = {name: len(frame) for name, frame in data.frames.items()}
    counts |= {name: 0 for name in data.files if name not in counts}
    dated = max((p.stat().st_mtime for p in data.files.values()), default=0.0)
    return findings, what, data.notes, study, source, counts, dated


def _judged(study) -> str:
    """'SDTMIG 3.4' or 'declares SDTMIG 3.1.2, judged by SDTMIG 3.4 (not bundled)'."""
    from cdisc_umsc.metadata import standards as S
    from cdisc_umsc.validate.checks_structure import ig_name

    name = ig_name(study.standard)
    have = S.bundled_versions("ig", name) if name in ("SDTMIG", "ADaMIG") else []
    if not have or study.standard_version in have:
        return f"{name} {study.standard_version}"
    used = S.versions()[name]
    return f"declares {name} {study.standard_version}, judged by {name} {used} (not bundled)"


def validate_folder(
    folder: Path,
    *,
    define: Path | None = None,
    use_define: bool = True,
    profile: str = "submission",
    encoding: str = "ascii",
    ig: str | None = None,
    ct: str | None = None,
) -> Validation:
    """Validate a folder of datasets or a run output folder (its sdtm/ and adam/)."""
    from cdisc_umsc.metadata import standards as S
    from cdisc_umsc.validate.findings import combine

    try:
        codecs.lookup(encoding)
    except LookupError:
        raise InputError(f"--encoding {encoding}: unknown text encoding") from None
    folder = Path(folder)
    parts = _parts(folder)
    if define is not None and len(parts) > 1:
        raise InputError(
            f"{folder} is a run output (sdtm/ and adam/); --define names one define.xml: "
            "give the sdtm or adam folder with it"
        )
    results = [_one(p, define, use_define, profile, encoding, ig, ct) for p in parts]
    findings = results[0][0] if len(results) == 1 else combine([r[0] for r in results])
    header = {
        "tool": "cdisc-umsc validate",
        "folder": str(folder),
        "profile": profile,
        "metadata": "; ".join(r[4] for r in results),
        "standards": "; ".join(_judged(r[3]) for r in results if r[3].standard),
        "CT": f"SDTM CT {results[0][3].ct_version or S.versions()['SDTM CT']}",
        "data dated": datetime.fromtimestamp(max(r[6] for r in results), UTC).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        ),
    }
    counts: dict[str, int] = {}
    for r in results:
        counts |= r[5]
    return Validation(
        findings=findings,
        what="\n".join(r[1] for r in results),
        notes=[n for r in results for n in r[2]],
        header=header,
        datasets=counts,
    )


def _write(validation: Validation, fmt: str, path: Path, title: str, summary: str, known) -> None:
    from cdisc_umsc.validate.html import write_html

    findings = validation.findings
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
            sys.exit(_diff(diff[0], diff[1], out))
        if folder is None:
            raise InputError("give a FOLDER of datasets to validate, or --diff OLD.json NEW.json")
        if define is not None and no_define:
            raise InputError("--define and --no-define contradict each other; give one")
        target = _report_target(fmt, out)
        from cdisc_umsc.validate.explain import load_known

        explanations = load_known(known)
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
