"""``cdisc-umsc derive``: ADaM datasets from any folder of SDTM datasets (XPT or Dataset-JSON)
by a study's ADaM spec, written with define.xml into a folder that is replaced atomically.

A value outside a non-extensible codelist is left out of the define's codelist and printed as
a note (and listed in the folder's manifest), never a reason to stop."""

from __future__ import annotations

from pathlib import Path

import click

from cdisc_umsc.commands._options import format_option
from cdisc_umsc.core.errors import InputError, UmscError, fail
from cdisc_umsc.core.outdir import FORCE_HELP

DEFAULT_CREATED = "2000-01-01T00:00:00"


def _settings(spec_dir: Path) -> dict:
    """``study:`` settings of ``spec_dir/study.yaml`` when there is one."""
    from cdisc_umsc.metadata.specfile import load_spec_file

    path = spec_dir / "study.yaml"
    return dict(load_spec_file(path).get("study") or {}) if path.is_file() else {}


def derive(
    spec_dir: Path,
    sdtm_dir: Path,
    out_dir: Path,
    fmt: str = "xpt",
    encoding: str = "utf-8",
    force: bool = False,
    notes: list[str] | None = None,
    raw_dir: Path | None = None,
) -> dict[str, int]:
    """Build the spec's ADaM datasets from ``sdtm_dir`` into ``out_dir``; records per dataset.
    Codelist misses the define leaves out are added to ``notes``."""
    from cdisc_umsc.adam.build import build_adam
    from cdisc_umsc.adam.inputs import SdtmFolder, load_adam_specs
    from cdisc_umsc.core.outdir import OutputFolder, check_target, write_own_manifest
    from cdisc_umsc.metadata import standards
    from cdisc_umsc.metadata.model import Study
    from cdisc_umsc.phi import Guard
    from cdisc_umsc.run import _write_all

    inputs = (Path(spec_dir), Path(sdtm_dir), *([Path(raw_dir)] if raw_dir is not None else []))
    check_target(Path(out_dir), inputs, force)
    secrets = _identifier_values(Path(spec_dir), Path(raw_dir)) if raw_dir is not None else set()
    specs = load_adam_specs(spec_dir)
    settings = _settings(spec_dir)
    data, meta = build_adam(specs, SdtmFolder(sdtm_dir, encoding))
    created = str(settings.get("created", DEFAULT_CREATED))
    study_id = str(settings.get("STUDYID") or data["ADSL"]["STUDYID"].iloc[0])
    std, version = str(settings.get("adam", "ADaMIG 1.3")).split()
    study = Study(
        study_id=study_id,
        standard=std,
        standard_version=version,
        ct_version=str(settings.get("ct") or standards.versions()["SDTM CT"]).split()[-1],
        datasets=dict(meta),
        created=created,
    )
    guard = Guard(secrets)  # without --raw: identifier patterns only
    guard.scan_frames({f"adam/{k}": v for k, v in data.items()})
    output = OutputFolder(Path(out_dir), inputs=inputs, force=force)
    with output as tmp:
        findings = _write_all(tmp, data, meta, study, created, fmt)
        extra: dict = {
            "command": "derive",
            "study": study_id,
            "records": {name: len(frame) for name, frame in sorted(data.items())},
        }
        if findings:
            extra["define_findings"] = findings
        write_own_manifest(tmp, extra)
        guard.scan_files(tmp)
        output.commit()
    if notes is not None:
        notes.extend(findings)
    return {name: len(frame) for name, frame in data.items()}


def _identifier_values(spec_dir: Path, raw_dir: Path) -> set[str]:
    """The values of the study spec's declared identifier fields in the raw forms."""
    from cdisc_umsc.core.values import blank
    from cdisc_umsc.metadata.spec import load_study_spec
    from cdisc_umsc.read.forms import read_form

    study = load_study_spec(spec_dir)
    if not study.identifiers:
        raise InputError(f"--raw {raw_dir}: the spec declares no identifiers (raw: identifiers:)")
    cutoff = str(study.settings.get("created") or "") or None
    values: set[str] = set()
    for name in sorted({form for form, _field in study.identifiers}):
        frame = read_form(raw_dir, study.forms[name], study.encoding, cutoff)
        for form, fld in study.identifiers:
            if form == name:
                col = frame[fld]
                values |= set(col[~blank(col)].astype(str).unique())
    return values


@click.command(name="derive")
@click.option(
    "--spec",
    "spec_dir",
    type=click.Path(path_type=Path, file_okay=False),
    required=True,
    help="Study spec folder (its adam/*.yaml) or a folder of ADaM specs.",
)
@click.option(
    "--sdtm",
    "sdtm_dir",
    type=click.Path(path_type=Path, file_okay=False),
    required=True,
    help="Folder of SDTM datasets (*.xpt, *.json or *.ndjson).",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    required=True,
    help="Output folder for the ADaM datasets (replaced atomically).",
)
@format_option()
@click.option(
    "--encoding", default="utf-8", show_default=True, help="Text encoding of the SDTM XPT files."
)
@click.option("--force", is_flag=True, help=FORCE_HELP)
@click.option(
    "--raw",
    "raw_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Raw forms of the study: the values of the spec's declared identifiers "
    "(raw: identifiers:) are then looked for in every output, besides identifier patterns.",
)
def command(
    spec_dir: Path,
    sdtm_dir: Path,
    out_dir: Path,
    fmt: str,
    encoding: str,
    force: bool,
    raw_dir: Path | None,
) -> None:
    """Derive ADaM datasets from a folder of SDTM datasets by the ADaM spec."""
    notes: list[str] = []
    try:
        counts = derive(spec_dir, sdtm_dir, out_dir, fmt, encoding, force, notes, raw_dir)
    except UmscError as exc:
        fail(exc)
    for note in notes:
        click.echo(f"note: {note}")
    for name, n in counts.items():
        click.echo(f"  {name:<10} {n:>7} records")
    click.echo(f"-> {out_dir}/")
