"""Validation inside ``cdisc-umsc run``: SDTM and ADaM checked with the run's own metadata.

Writes ``validation.json`` and ``validation.html`` (both standards in one report; dataset names
tell them apart). Findings never fail the run: no catalogue rule is blocking, because the
pipeline already refuses what would make a dataset unusable (unmapped rows, bad types,
over-long values) and a study under construction must still produce its output to be reviewed.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd  # noqa: F401  (type of the frames)

from cdisc_umsc.metadata.model import Study
from cdisc_umsc.validate.engine import validate_study
from cdisc_umsc.validate.findings import SEVERITIES, Findings, combine
from cdisc_umsc.validate.html import write_html


def summary_line(standard: str, findings: Findings) -> str:
    """e.g. ``SDTM: 3 findings (0 errors, 3 warnings, 0 notices)``."""
    sev = findings.frame["severity"].value_counts()
    parts = ", ".join(f"{int(sev.get(s, 0))} {s}s" for s in SEVERITIES)
    return f"{standard}: {len(findings)} findings ({parts})"


def validate_outputs(
    parts: dict[str, tuple[dict[str, pd.DataFrame], Study]], folder: Path, title: str
) -> dict[str, Findings]:
    """Validate each standard's datasets; write folder/validation.json and .html."""
    found = {std: validate_study(data, study) for std, (data, study) in parts.items()}
    write_reports(found, parts, folder, title)
    return found


def write_reports(
    found: dict[str, Findings],
    parts: dict[str, tuple[dict[str, pd.DataFrame], Study]],
    folder: Path,
    title: str,
) -> None:
    """folder/validation.json and .html of each standard's findings (``found``) on its
    datasets (``parts``)."""
    combined = combine(list(found.values()))
    combined.to_json(folder / "validation.json")
    lines = [summary_line(std, f) for std, f in found.items()]
    counts = {n: len(f) for data, _ in parts.values() for n, f in data.items()}
    write_html(
        folder / "validation.html",
        combined,
        title,
        "\n".join([*lines, "", combined.summary()]),
        datasets=counts,
    )
