"""The whole job: raw forms -> SDTM -> ADaM -> files, built in a temporary folder, then swapped in.

Same inputs and spec give byte-identical files: every timestamp comes from the spec's
``created`` setting, never the clock.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from cdisc_umsc import phi
from cdisc_umsc.adam.build import build_adam
from cdisc_umsc.adam.build import check_specs as check_adam_specs
from cdisc_umsc.core.atomic import make_folder, write_bytes, write_text
from cdisc_umsc.core.bundled import default_trial
from cdisc_umsc.core.errors import InputError, ReconciliationError, WriteError
from cdisc_umsc.core.outdir import MANIFEST, OutputFolder, check_target
from cdisc_umsc.core.parallel import can_fork, cpu_count, run_steps
from cdisc_umsc.core.progress import Progress, StepHook, no_steps
from cdisc_umsc.core.version import __version__
from cdisc_umsc.metadata import standards
from cdisc_umsc.metadata.model import Dataset, Document, Study
from cdisc_umsc.metadata.spec import StudySpec
from cdisc_umsc.report.plan import check_plan, review_plan
from cdisc_umsc.sdtm.check_spec import load_checked_spec
from cdisc_umsc.sdtm.pipeline import SdtmResult, build_sdtm
from cdisc_umsc.write.datasetjson import write_datasetjson
from cdisc_umsc.write.define import build_define, validate_define, write_define
from cdisc_umsc.write.submission import analysis_results, value_lists
from cdisc_umsc.write.xpt import write_xpt


def inputs(spec_dir: Path | str | None, raw_dir: Path | str | None) -> tuple[Path, Path]:
    """The spec and raw folders of a run; one not given is the bundled default trial's,
    resolved now (never at import time, never against the working directory). A spec of
    its own needs its raw folder named: the bundled forms are the bundled spec's only (a
    folder that is no spec is left to the spec loader to name)."""
    if spec_dir is None or raw_dir is None:
        trial = default_trial()
        own = spec_dir is not None and not _same(Path(spec_dir), trial.spec)
        if raw_dir is None and own and (Path(str(spec_dir)) / "study.yaml").is_file():
            raise InputError(
                f"--spec {spec_dir}: name its raw folder with --raw (without --raw only the "
                "bundled trial's own spec reads the bundled raw forms)"
            )
        spec_dir = trial.spec if spec_dir is None else spec_dir
        raw_dir = trial.raw if raw_dir is None else raw_dir
    return Path(spec_dir), Path(raw_dir)


def check_raw_folder(raw_dir: Path) -> None:
    """A raw folder that does not exist or is not a folder, in one line (asked once the spec
    is checked: a spec error comes first)."""
    if not raw_dir.is_dir():
        what = "is not a folder" if raw_dir.exists() else "does not exist"
        raise InputError(f"--raw {raw_dir}: {what}; name the folder of the raw form files")


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


@dataclass
class Built:
    """A study built in memory: spec, SDTM (with accounting and lineage) and ADaM."""

    spec: StudySpec
    sdtm: SdtmResult
    adam: dict[str, pd.DataFrame]
    adam_meta: dict[str, Dataset]
    #: what the reports and the review page show (the ADaM spec's review: blocks)
    plan: dict = field(default_factory=dict)

    def validation_parts(self) -> dict[str, tuple[dict[str, pd.DataFrame], Study]]:
        """Each standard's datasets with the metadata they are validated by."""
        return {
            "SDTM": (self.sdtm.data, study_metadata(self.spec, self.sdtm.meta, "Tabulation")),
            "ADaM": (self.adam, study_metadata(self.spec, self.adam_meta, "Analysis")),
        }


def load_spec(spec_dir: Path) -> tuple[StudySpec, dict]:
    """The spec folder loaded with every check that needs no data (SDTM mappings and their
    references, the ADaM specs, the review plan): the study spec and its review plan."""
    spec = load_checked_spec(Path(spec_dir))
    check_adam_specs(spec.adam)
    return spec, review_plan(spec.adam)


def build(spec_dir: Path, raw_dir: Path, progress: Progress | None = None, jobs: int = 1) -> Built:
    """Read, map, reconcile, derive and PHI-check a study, writing nothing. The spec is
    checked first (:func:`load_spec`), so a spec error costs no data work; ``jobs`` > 1 scans
    the datasets for identifiers in that many parts at once (the same first finding)."""
    progress = progress or Progress(enabled=False)
    progress.stage("read spec")
    spec, plan = load_spec(Path(spec_dir))
    check_raw_folder(Path(raw_dir))
    progress.stage("read raw forms + map SDTM")
    sdtm = build_sdtm(spec, Path(raw_dir), progress.step)
    reconcile(sdtm.accounting)
    progress.stage("derive ADaM", _count(sdtm.data))
    adam, adam_meta = build_adam(
        spec.adam, sdtm.data, spec.sponsor_codelists, spec.standards, progress.step
    )
    check_plan(plan, adam)
    progress.stage("PHI scan", _count(sdtm.data) + _count(adam))
    frames = {
        **{f"sdtm/{k}": v for k, v in sdtm.data.items()},
        **{f"adam/{k}": v for k, v in adam.items()},
    }
    parts = _parts(frames, jobs)
    run_steps(jobs, [partial(phi.scan, part, sdtm.identifier_values) for part in parts])
    return Built(spec, sdtm, adam, adam_meta, plan)


#: Below this many records in all, the datasets are scanned in one part (a fork costs more).
PARALLEL_SCAN_FROM = 100_000


def _parts(frames: dict[str, pd.DataFrame], jobs: int) -> list[dict[str, pd.DataFrame]]:
    """The datasets in name order, cut into at most ``jobs`` runs of about equal records
    (each cut where the running count comes nearest to its share), so the first identifier
    found in the first part that holds one is the one a single scan of all would report
    (:func:`phi.scan` scans in name order)."""
    names = sorted(frames)
    sizes = np.array([len(frames[n]) for n in names], dtype=np.int64)
    total = int(sizes.sum())
    if jobs <= 1 or len(names) < 2 or total < PARALLEL_SCAN_FROM:
        return [frames]
    ends = np.cumsum(sizes)  # records up to and including each name
    cuts: list[int] = []
    for k in range(1, min(jobs, len(names))):
        at = int(np.argmin(np.abs(ends[:-1] - total * k / jobs))) + 1  # cut before names[at]
        if at > (cuts[-1] if cuts else 0):
            cuts.append(at)
    bounds = [0, *cuts, len(names)]
    return [{n: frames[n] for n in names[a:b]} for a, b in zip(bounds, bounds[1:], strict=False)]


@dataclass
class RunResult:
    """What a run produced: datasets per standard, metadata, accounting and the manifest."""

    spec: StudySpec
    sdtm: SdtmResult
    adam: dict[str, pd.DataFrame]
    adam_meta: dict[str, Dataset]
    manifest: dict
    #: Validation findings per standard ("SDTM", "ADaM"); also out/validation.json / .html.
    validation: dict = field(default_factory=dict)
    #: how many independent steps ran at once (the output is the same for any number)
    jobs: int = 1


def study_metadata(spec: StudySpec, meta: dict[str, Dataset], purpose: str) -> Study:
    """The Study object written files describe (Dataset-JSON, define.xml)."""
    # CDISC codelists of both (SEX, NY ...) come from the SDTM CT release; ADaM CT terms
    # (DTYPE) are named by the define writer from the bundled ADaM CT.
    (std, version), ct = spec.sdtm_standard, spec.ct_version
    if purpose == "Analysis":
        std, version = "ADaMIG", spec.standards.adamig
    return Study(
        study_id=str(spec.settings["STUDYID"]),
        standard=std,
        standard_version=version,
        ct_version=ct,
        datasets=dict(meta),
        codelists=dict(spec.sponsor_codelists),
        created=str(spec.settings["created"]),
        title=" ".join(str(spec.settings.get("title") or "").split()),
        documents=tuple(
            Document(d.id, d.title, d.path.name, d.kind)  # type: ignore[arg-type]
            for d in spec.documents
            if d.purpose == purpose
        ),
    )


def dataset_files(names: list[str] | dict, fmt: str) -> dict[str, str]:
    """The file each dataset's def:leaf points at: Dataset-JSON when only that is written."""
    return {n: f"{n.lower()}.{'json' if fmt == 'json' else 'xpt'}" for n in names}


def _write_all(
    folder: Path,
    data: dict[str, pd.DataFrame],
    meta: dict[str, Dataset],
    study: Study,
    created: str,
    fmt: str,
    arm: list[dict] | None = None,
    documents: tuple[Path, ...] = (),
    step: StepHook = no_steps,
) -> list[str]:
    """Datasets, define.xml (+ define.html, the stylesheet and the documents it links to);
    ``step(name, records)`` is called as each dataset's files are written. Returns the
    values the define's codelists leave out."""
    make_folder(folder)
    findings: list[str] = []
    purpose: Literal["Tabulation", "Analysis"] = (
        "Analysis" if study.standard == "ADaMIG" else "Tabulation"
    )
    tree = build_define(
        study,
        data,
        purpose=purpose,
        value_lists=value_lists(meta),
        arm=arm or None,
        files=dataset_files(list(data), fmt),
        findings=findings,
    )
    problems = validate_define(tree)
    if problems:
        raise WriteError(f"{folder.name}/define.xml is not valid Define-XML 2.1: {problems[0]}")
    write_define(folder / "define.xml", tree, html_path=folder / "define.html")
    for doc in documents:
        write_bytes(folder / doc.name, doc.read_bytes())
    stamp = datetime.fromisoformat(created)
    for name in sorted(data):
        if fmt in ("xpt", "both"):
            write_xpt(folder / f"{name.lower()}.xpt", data[name], meta[name], created=stamp)
        if fmt in ("json", "both"):
            write_datasetjson(
                folder / f"{name.lower()}.json", data[name], meta[name], study, created=created
            )
        step(f"wrote {folder.name}/{name.lower()}", len(data[name]))
    return findings


def _sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _file_hashes(folder: Path, known: dict[str, str] | None = None) -> dict[str, str]:
    """sha256 of every file of ``folder`` but the manifest, by relative path; a file in
    ``known`` (hashed before and not written since) is not read again."""
    known = known or {}
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST)
    return {
        rel: known[rel] if rel in known else _sha256(p)
        for p in files
        for rel in [p.relative_to(folder).as_posix()]
    }


def _manifest(
    spec: StudySpec,
    sdtm: SdtmResult,
    adam: dict[str, pd.DataFrame],
    folder: Path,
    raw_dir: Path,
    plan: dict,
) -> dict:
    return {
        "tool": {"name": "cdisc-umsc", "version": __version__},
        "study": str(spec.settings["STUDYID"]),
        "spec": {"folder": spec.root.name, "sha256": spec.sha256},
        "standards": {
            **{k: v for k, v in spec.standards.titles.items() if k != "sdtm_model"},
            "bundled": standards.versions(),
        },
        "created": str(spec.settings["created"]),
        "raw_forms": [{**f, "sha256": _sha256(raw_dir / f["file"])} for f in sdtm.accounting],
        "records": {
            **{f"sdtm/{k}": len(v) for k, v in sorted(sdtm.data.items())},
            **{f"adam/{k}": len(v) for k, v in sorted(adam.items())},
        },
        "ignored_files": list(sdtm.ignored),
        "unmatched_conditions": list(sdtm.unmatched),
        "review": plan,
        "files": _file_hashes(folder),
    }


def reconcile(accounting: list[dict]) -> None:
    """Rows read must equal rows mapped plus rows excluded, for every form."""
    for form in accounting:
        if form["read"] != form["mapped"] + form["excluded"]:
            raise ReconciliationError(
                f"{form['file']}: {form['read']} rows read but {form['mapped']} mapped and "
                f"{form['excluded']} excluded"
            )


def run(
    spec_dir: Path | str | None = None,
    raw_dir: Path | str | None = None,
    out_dir: Path | str = Path("out"),
    fmt: str = "xpt",
    progress: Progress | None = None,
    jobs: int | None = None,
    force: bool = False,
) -> RunResult:
    """Run the pipeline and replace ``out_dir`` with the complete result, or leave it untouched.

    ``out_dir`` may be missing, empty or a previous output of this tool (``force`` also lets a
    folder of other files be replaced); it is checked before any work. ``progress`` reports
    stages (default: silent); ``jobs`` > 1 runs the steps that write separate files (validate,
    write SDTM, write ADaM, lineage) that many at once, with the same bytes as ``jobs`` = 1
    (default: :func:`default_jobs`).
    """
    progress = progress or Progress(enabled=False)
    jobs = default_jobs() if jobs is None else jobs
    spec_dir, raw_dir = inputs(spec_dir, raw_dir)
    output = OutputFolder(Path(out_dir), inputs=(spec_dir, raw_dir), force=force)
    check_target(output.target, output.inputs, force)
    built = build(spec_dir, raw_dir, progress, jobs)
    # The output products are imported once they are needed: check and build pay for none.
    from cdisc_umsc import lineage
    from cdisc_umsc.review import build_review
    from cdisc_umsc.validate.engine import validate_study
    from cdisc_umsc.validate.outputs import write_reports

    spec, sdtm, adam, adam_meta = built.spec, built.sdtm, built.adam, built.adam_meta
    plan = built.plan
    guard = phi.Guard(sdtm.identifier_values)  # frames scanned in build(); files below
    created = str(spec.settings["created"])
    with output as tmp:
        # Steps that share no output (each writes its own files): in turn, or `jobs` at once.
        parts = built.validation_parts()
        found_sdtm, found_adam, written_sdtm, _, written_adam = _independent(
            jobs,
            progress,
            [
                (
                    "validate SDTM",
                    _count(sdtm.data),
                    lambda: validate_study(*parts["SDTM"]),
                ),
                (
                    "validate ADaM",
                    _count(adam),
                    lambda: validate_study(*parts["ADaM"]),
                ),
                (
                    "write SDTM",
                    _count(sdtm.data),
                    lambda: _write_all(
                        tmp / "sdtm",
                        sdtm.data,
                        sdtm.meta,
                        study_metadata(spec, sdtm.meta, "Tabulation"),
                        created,
                        fmt,
                        documents=_documents(spec, "Tabulation"),
                        step=progress.step,
                    ),
                ),
                (
                    "lineage",
                    None,
                    lambda: (
                        lineage.write_lineage(tmp / lineage.FOLDER, spec, sdtm, adam, adam_meta)
                        and None
                    ),
                ),
                (
                    "write ADaM",
                    _count(adam),
                    lambda: _write_all(
                        tmp / "adam",
                        adam,
                        adam_meta,
                        study_metadata(spec, adam_meta, "Analysis"),
                        created,
                        fmt,
                        analysis_results(spec.adam),
                        _documents(spec, "Analysis"),
                        progress.step,
                    ),
                ),
            ],
        )
        validation = {"SDTM": found_sdtm, "ADaM": found_adam}
        title = f"cdisc-umsc validation: study {spec.settings['STUDYID']}"
        write_reports(validation, parts, tmp, title)
        # codelist values the defines leave out (validation lists them)
        define_findings = sorted(set(written_sdtm) | set(written_adam))
        progress.stage("review page + manifest")
        manifest = _manifest(spec, sdtm, adam, tmp, Path(raw_dir), plan)
        page = build_review(tmp, manifest)  # index.html from the ADaM files just written
        written = page.relative_to(tmp).as_posix()
        others = {k: v for k, v in manifest["files"].items() if k != written}
        manifest["files"] = _file_hashes(tmp, others)  # lists index.html
        if define_findings:
            manifest["define_findings"] = define_findings
        text = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        write_text(tmp / MANIFEST, text)
        progress.stage("PHI scan of the files")
        guard.scan_files(tmp)  # define.xml, lineage, reports, review page, manifest
        output.commit()
        progress.done()
    return RunResult(spec, sdtm, adam, adam_meta, manifest, validation, jobs)


def default_jobs() -> int:
    """Steps run at once by default: one per CPU this process may use, at most the four
    independent steps, one where steps cannot run in processes."""
    return min(cpu_count(), 4) if can_fork() else 1


def _documents(spec: StudySpec, purpose: str) -> tuple[Path, ...]:
    return tuple(d.path for d in spec.documents if d.purpose == purpose)


def _count(data: dict[str, pd.DataFrame]) -> int:
    return sum(len(v) for v in data.values())


def _independent(
    jobs: int, progress: Progress, steps: list[tuple[str, int | None, Callable[[], object]]]
) -> list:
    """Results of steps that share no output, in step order: in turn, or ``jobs`` at once in
    processes (:mod:`cdisc_umsc.core.parallel`). Each step writes the same files either way;
    the first failure (in step order) is raised."""
    if jobs <= 1:
        results = []
        for name, records, step in steps:
            progress.stage(name, records)
            results.append(step())
        return results
    progress.stage(
        f"{', '.join(n for n, _, _ in steps)} ({jobs} jobs)", sum(r or 0 for _, r, _ in steps)
    )
    return run_steps(jobs, [step for _, _, step in steps])
