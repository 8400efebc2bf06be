"""``cdisc-umsc define --sdtm DIR | --adam DIR``: Define-XML 2.1 for a folder without a spec.

Metadata comes from the files themselves (names, labels, types, lengths) plus the bundled IG
(core, role, class, codelists), as ``cdisc-umsc validate`` uses without --define. Writes
DIR/define.xml and DIR/define.html atomically; the document must pass the Define-XML 2.1 schema.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from pathlib import Path

import click
import pandas as pd

from cdisc_umsc.core.errors import InputError, UmscError, WriteError, fail
from cdisc_umsc.metadata import standards as S
from cdisc_umsc.metadata.model import Dataset, Study, Variable
from cdisc_umsc.metadata.resolve import with_value_types


def _variable(var: Variable) -> Variable:
    """Numeric data types are measured from the values by the define writer."""
    if var.type == "Num":
        return dataclasses.replace(var, data_type="")  # integer or float, from the values
    return var


def _created(files: dict[str, Path]) -> str:
    """The latest creation time written in the dataset files (deterministic, not the clock)."""
    import pyreadstat

    stamps = []
    for path in files.values():
        if path.suffix.lower() == ".xpt":
            stamp = pyreadstat.read_xport(path, metadataonly=True)[1].creation_time
            if stamp is not None:
                stamps.append(stamp.isoformat(timespec="seconds"))
        else:
            with path.open(encoding="utf-8") as fh:
                head = json.loads(fh.readline() if path.suffix.lower() == ".ndjson" else fh.read())
            stamp = str(head.get("datasetJSONCreationDateTime", ""))[:19]
            if stamp:
                stamps.append(datetime.fromisoformat(stamp).isoformat(timespec="seconds"))
    if not stamps:
        raise InputError("no creation time in the dataset files; give --created")
    return max(stamps)


def folder_study(
    frames: dict[str, pd.DataFrame], described: dict[str, Dataset], purpose: str, created: str
) -> Study:
    """The Study a define of `frames` describes (bundled IG merged with the files' own)."""
    from cdisc_umsc.validate.igmeta import study_from_ig

    ids = sorted(
        {str(f["STUDYID"].iloc[0]) for f in frames.values() if "STUDYID" in f.columns and len(f)}
    )
    if len(ids) > 1:
        raise InputError(f"datasets of more than one study: STUDYID {', '.join(ids)}")
    study = study_from_ig(frames, described, ids[0] if ids else "")
    datasets = {}
    for name, ds in study.datasets.items():
        want = "ADaMIG" if purpose == "Analysis" else "SDTMIG"
        if ds.standard != want:
            raise InputError(
                f"dataset {name}: is {ds.standard} data, not {want} "
                f"(use --{'adam' if want == 'SDTMIG' else 'sdtm'})"
            )
        own = described.get(name)
        variables = tuple(_variable(v) for v in ds.variables)
        # ADaMIG 1.3 1.6: an analysis dataset that is neither ADSL nor BDS is "ADAM OTHER"
        # unless its producer says otherwise (a folder has no one to say it)
        cls = ds.cls or ("ADAM OTHER" if purpose == "Analysis" else "")
        datasets[name] = with_value_types(
            dataclasses.replace(
                ds,
                variables=variables,
                cls=cls,
                label=ds.label or (own.label if own else ""),
                standard=f"{want} {S.versions()[want]}",
                keys=own.keys if own else (),
                parent=name[4:] if name.startswith("SUPP") else None,
            ),
            frames[name],
        )
    std = "ADaMIG" if purpose == "Analysis" else "SDTMIG"
    return dataclasses.replace(
        study, standard=std, standard_version=S.versions()[std], datasets=datasets, created=created
    )


def write_folder_define(
    folder: Path,
    purpose: str,
    *,
    encoding: str = "ascii",
    created: str | None = None,
    force: bool = False,
) -> Path:
    """Write folder/define.xml (+ define.html) for the datasets of `folder`; returns the path.
    A define.xml or define.html there that this tool did not write is kept unless ``force``."""
    from cdisc_umsc.phi import Guard
    from cdisc_umsc.validate.folder import read_folder
    from cdisc_umsc.write.define import build_define, validate_define, write_define
    from cdisc_umsc.write.submission import value_lists

    check_define_target(folder, force)
    data = read_folder(folder, encoding=encoding)
    Guard().scan_frames(data.frames)  # define.xml lists values: none may be an identifier
    stamp = created or _created(data.files)
    study = folder_study(data.frames, data.described, purpose, stamp)
    tree = build_define(
        study,
        data.frames,
        purpose=purpose,  # type: ignore[arg-type]
        value_lists=value_lists(study.datasets),
    )
    problems = validate_define(tree)
    if problems:
        raise WriteError(f"{folder}/define.xml would not be valid Define-XML 2.1: {problems[0]}")
    target = Path(folder) / "define.xml"
    write_define(target, tree, html_path=Path(folder) / "define.html")
    return target


def _own_define(path: Path) -> bool:
    """Whether ``path`` is a define.xml this tool wrote (ODM SourceSystem)."""
    from cdisc_umsc.core.xmlsafe import parse_xml

    try:
        root = parse_xml(path).getroot()
    except UmscError:
        return False
    return root.get("SourceSystem") == "cdisc-umsc"


def check_define_target(folder: Path, force: bool = False) -> None:
    """Refuse (one line) to replace a define.xml or define.html this tool did not write."""
    xml, html = Path(folder) / "define.xml", Path(folder) / "define.html"
    own = xml.is_file() and _own_define(xml)
    for path in (xml, html):
        if path.is_symlink() or (path.exists() and not path.is_file()):
            raise WriteError(f"{path}: exists and is not a file; it is left untouched")
        if path.exists() and not own and not force:
            raise WriteError(
                f"{path}: was not written by cdisc-umsc; it is left untouched "
                "(use --force to replace it)"
            )


@click.command("define")
@click.option(
    "--sdtm",
    "sdtm",
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder of SDTM datasets.",
)
@click.option(
    "--adam",
    "adam",
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder of ADaM datasets.",
)
@click.option("--encoding", default="ascii", show_default=True, help="Text encoding of XPT files.")
@click.option(
    "--created",
    default=None,
    help="CreationDateTime (default: the latest one in the dataset files).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Replace a define.xml / define.html in the folder that cdisc-umsc did not write.",
)
def command(
    sdtm: Path | None, adam: Path | None, encoding: str, created: str | None, force: bool
) -> None:
    """Write DIR/define.xml and define.html for a folder of datasets (bundled IG metadata)."""
    try:
        if (sdtm is None) == (adam is None):
            raise InputError("give exactly one of --sdtm DIR or --adam DIR")
        if created is not None:
            try:
                datetime.fromisoformat(created)
            except ValueError:
                raise InputError(
                    f"--created {created!r}: expected an ISO 8601 date-time "
                    "such as 2024-05-01T09:00:00"
                ) from None
        folder, purpose = (sdtm, "Tabulation") if sdtm is not None else (adam, "Analysis")
        path = write_folder_define(folder, purpose, encoding=encoding, created=created, force=force)
    except UmscError as exc:
        fail(exc)
    click.echo(f"wrote {path} and {path.with_suffix('.html').name}")
