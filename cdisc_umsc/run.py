"""The whole job: raw forms -> SDTM -> ADaM -> files, built in a temporary folder, then swapped in.

Same inputs and spec give byte-identical files: every timestamp comes from the spec's
``created`` setting, never the clock.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd

from cdisc_umsc import __version__, phi
from cdisc_umsc.adam.build import build_adam
from cdisc_umsc.errors import ReconciliationError, WriteError
from cdisc_umsc.metadata import standards
from cdisc_umsc.metadata.model import Dataset, Study
from cdisc_umsc.metadata.spec import StudySpec, load_study_spec
from cdisc_umsc.review import build_review
from cdisc_umsc.sdtm.pipeline import SdtmResult, build_sdtm
from cdisc_umsc.write.datasetjson import write_datasetjson
from cdisc_umsc.write.define import build_define, validate_define, write_define
from cdisc_umsc.write.submission import analysis_results, value_lists
from cdisc_umsc.write.xpt import write_xpt

PACKAGE_ROOT = Path(__file__).resolve().parent.parent


def _bundled(relative: str) -> Path:
    """The bundled trial's folder: in the working directory, else beside the package source."""
    here = Path(relative)
    return here if here.exists() else PACKAGE_ROOT / relative


DEFAULT_SPEC = _bundled("mappings/umsc")
DEFAULT_RAW = _bundled("fixtures/umsc/raw")


@dataclass
class RunResult:
    """What a run produced: datasets per standard, metadata, accounting and the manifest."""

    spec: StudySpec
    sdtm: SdtmResult
    adam: dict[str, pd.DataFrame]
    adam_meta: dict[str, Dataset]
    manifest: dict


def study_metadata(spec: StudySpec, meta: dict[str, Dataset], purpose: str) -> Study:
    """The Study object written files describe (Dataset-JSON, define.xml)."""
    # CDISC codelists of both (SEX, NY ...) come from the SDTM CT release; ADaM CT terms
    # (DTYPE) are named by the define writer from the bundled ADaM CT.
    (std, version), ct = spec.sdtm_standard, spec.ct_version
    if purpose == "Analysis":
        std, version = str(spec.settings.get("adam", "ADaMIG 1.3")).split()
    return Study(study_id=str(spec.settings["STUDYID"]), standard=std, standard_version=version,
                 ct_version=ct, datasets=dict(meta), codelists=dict(spec.sponsor_codelists),
                 created=str(spec.settings["created"]))


def _write_all(folder: Path, data: dict[str, pd.DataFrame], meta: dict[str, Dataset],
               study: Study, created: str, fmt: str, arm: list[dict] | None = None) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    purpose = "Analysis" if study.standard == "ADaMIG" else "Tabulation"
    tree = build_define(study, data, purpose=purpose, value_lists=value_lists(meta),
                        arm=arm or None)
    problems = validate_define(tree)
    if problems:
        raise WriteError(f"{folder.name}/define.xml is not valid Define-XML 2.1: {problems[0]}")
    write_define(folder / "define.xml", tree, html_path=folder / "define.html")
    stamp = datetime.fromisoformat(created)
    for name in sorted(data):
        if fmt in ("xpt", "both"):
            write_xpt(folder / f"{name.lower()}.xpt", data[name], meta[name], created=stamp)
        if fmt in ("json", "both"):
            write_datasetjson(folder / f"{name.lower()}.json", data[name], meta[name], study,
                              created=created)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _manifest(spec: StudySpec, sdtm: SdtmResult, adam: dict[str, pd.DataFrame],
              folder: Path) -> dict:
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.name != "manifest.json")
    return {
        "tool": {"name": "cdisc-umsc", "version": __version__},
        "study": str(spec.settings["STUDYID"]),
        "spec": {"folder": spec.root.name, "sha256": spec.sha256},
        "standards": {"sdtm": str(spec.settings["sdtm"]), "adam": str(spec.settings.get("adam")),
                      "ct": str(spec.settings["ct"]), "adam_ct": str(spec.settings.get("adam_ct")),
                      "bundled": standards.versions()},
        "created": str(spec.settings["created"]),
        "raw_forms": sdtm.accounting,
        "records": {**{f"sdtm/{k}": len(v) for k, v in sorted(sdtm.data.items())},
                    **{f"adam/{k}": len(v) for k, v in sorted(adam.items())}},
        "files": {p.relative_to(folder).as_posix(): _sha256(p) for p in files},
    }


def reconcile(accounting: list[dict]) -> None:
    """Rows read must equal rows mapped plus rows excluded, for every form."""
    for form in accounting:
        if form["read"] != form["mapped"] + form["excluded"]:
            raise ReconciliationError(
                f"{form['file']}: {form['read']} rows read but {form['mapped']} mapped and "
                f"{form['excluded']} excluded")


def run(spec_dir: Path = DEFAULT_SPEC, raw_dir: Path = DEFAULT_RAW, out_dir: Path = Path("out"),
        fmt: str = "xpt") -> RunResult:
    """Run the pipeline and replace ``out_dir`` with the complete result, or leave it untouched."""
    spec = load_study_spec(Path(spec_dir))
    sdtm = build_sdtm(spec, Path(raw_dir))
    reconcile(sdtm.accounting)
    adam, adam_meta = build_adam(spec.adam, sdtm.data, spec.sponsor_codelists)
    phi.scan({**{f"sdtm/{k}": v for k, v in sdtm.data.items()},
              **{f"adam/{k}": v for k, v in adam.items()}}, sdtm.identifier_values)
    created = str(spec.settings["created"])
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        _write_all(tmp / "sdtm", sdtm.data, sdtm.meta,
                   study_metadata(spec, sdtm.meta, "Tabulation"), created, fmt)
        _write_all(tmp / "adam", adam, adam_meta, study_metadata(spec, adam_meta, "Analysis"),
                   created, fmt, analysis_results(spec.adam))
        manifest = _manifest(spec, sdtm, adam, tmp)
        build_review(tmp, manifest)  # index.html from the ADaM files just written
        manifest = _manifest(spec, sdtm, adam, tmp)  # lists index.html
        text = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        (tmp / "manifest.json").write_text(text, encoding="utf-8")
        _swap(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return RunResult(spec, sdtm, adam, adam_meta, manifest)


def _swap(tmp: Path, out_dir: Path) -> None:
    """Put the finished folder in place; the old one is removed only after the rename."""
    old = None
    if out_dir.exists():
        old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
        os.replace(out_dir, old)
    os.replace(tmp, out_dir)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
