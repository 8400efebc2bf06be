"""A Pinnacle 21-style validation workbook (Office Open XML, written with openpyxl).

Sheets: Report (tool, folder, metadata, standards, CT, profile, date of the data, totals),
Dataset Summary (records, errors, warnings, notices per dataset), Issue Summary (rule,
message, severity, count per dataset), Details (every finding record: dataset, USUBJID,
--SEQ, row, variable, value, message, explanation), Rules (every rule of the run with
pass / fail / not applicable). Details holds every record up to the sheet's row limit; past it
the cap and the total are stated on the Report sheet and above the table, never silently.

Bytes are deterministic: workbook properties and zip entry times are fixed.
"""

from __future__ import annotations

import io
import os
import zipfile
from datetime import datetime
from pathlib import Path

import pandas as pd

from cdisc_umsc.core.atomic import write_bytes
from cdisc_umsc.validate.explain import explanations
from cdisc_umsc.validate.findings import Findings
from cdisc_umsc.validate.html import dataset_summary

#: Data rows a Details sheet holds (Excel's 1,048,576 rows less the two heading rows).
MAX_DETAILS = 1_048_574
_FIXED = datetime(2000, 1, 1)
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)

DETAIL_COLUMNS = (
    ("Dataset", "dataset"),
    ("USUBJID", "usubjid"),
    ("SEQ", "seq"),
    ("Row", "row"),
    ("Rule", "rule"),
    ("Severity", "severity"),
    ("Variable(s)", "variable"),
    ("Value(s)", "value"),
    ("Message", "message"),
    ("CORE", "core_id"),
    ("P21", "p21_id"),
    ("Judged by", "standard"),
    ("Explanation", "explanation"),
)


def _sheet(wb, title: str, header: list[str], rows, widths: list[int] | None = None):
    from openpyxl.styles import Font

    ws = wb.create_sheet(title)
    ws.append(header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append(row)
    ws.freeze_panes = "A2"
    for i, width in enumerate(widths or [], start=1):
        ws.column_dimensions[ws.cell(1, i).column_letter].width = width
    return ws


def _cells(frame: pd.DataFrame) -> list[list]:
    """Rows of plain Python values (None for missing), in frame column order."""
    out = frame.astype(object).where(frame.notna(), None)
    return out.to_numpy().tolist()


def render_xlsx(
    findings: Findings,
    header: dict[str, str],
    datasets: dict[str, int] | None = None,
    known: pd.DataFrame | None = None,
) -> bytes:
    """The workbook as bytes."""
    from openpyxl import Workbook

    f = findings.frame.assign(explanation=explanations(findings.frame, known))
    wb = Workbook()
    wb.remove(wb.active)
    total, shown = len(f), min(len(f), MAX_DETAILS)
    sev = f["severity"].value_counts()
    info = dict(header) | {
        "findings": f"{total} ({int(sev.get('error', 0))} errors, "
        f"{int(sev.get('warning', 0))} warnings, {int(sev.get('notice', 0))} notices)",
        "details shown": f"{shown} of {total}"
        + ("" if shown == total else f" (capped at the sheet limit of {MAX_DETAILS} rows)"),
    }
    _sheet(wb, "Report", ["Item", "Value"], [[k, v] for k, v in info.items()], [22, 100])

    summary = dataset_summary(findings, datasets)
    _sheet(
        wb,
        "Dataset Summary",
        ["Dataset", "Records", "Errors", "Warnings", "Notices"],
        _cells(summary),
        [14, 10, 10, 10, 10],
    )

    issues = (
        f.groupby(["dataset", "rule", "severity"], sort=True)
        .agg(message=("message", "first"), count=("rule", "size"))
        .reset_index()
    )
    if len(issues):
        # the rule's own text (before the per-record detail after ': ')
        issues["message"] = issues["message"].str.split(": ", n=1).str[0]
    _sheet(
        wb,
        "Issue Summary",
        ["Dataset", "Rule", "Severity", "Message", "Count"],
        _cells(issues[["dataset", "rule", "severity", "message", "count"]]),
        [14, 16, 10, 90, 10],
    )

    details = f.iloc[:shown][[c for _, c in DETAIL_COLUMNS]]
    ws = _sheet(
        wb,
        "Details",
        [h for h, _ in DETAIL_COLUMNS],
        _cells(details),
        [12, 18, 8, 8, 16, 10, 18, 30, 90, 14, 10, 28, 60],
    )
    if shown < total:
        ws.insert_rows(1)
        ws.cell(1, 1, f"{shown} of {total} findings shown: the sheet's row limit")

    executed = findings.executed
    rules = (
        executed[["rule", "severity", "status", "datasets", "findings", "message", "core_id",
                  "p21_id", "citation"]]
        if executed is not None
        else pd.DataFrame(columns=["rule"])
    )  # fmt: skip
    _sheet(
        wb,
        "Rules",
        ["Rule", "Severity", "Status", "Datasets checked", "Findings", "Message", "CORE", "P21",
         "Citation"],
        _cells(rules),
        [16, 10, 14, 10, 10, 80, 24, 16, 50],
    )  # fmt: skip

    wb.properties.creator = "cdisc-umsc"
    wb.properties.created = wb.properties.modified = _FIXED
    buf = io.BytesIO()
    wb.save(buf)
    return _fixed_zip(buf.getvalue())


def _fixed_zip(data: bytes) -> bytes:
    """The same archive with every entry dated 1980-01-01 and the core properties' times
    fixed, so that equal findings give equal bytes."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            body = src.read(item.filename)
            if item.filename == "docProps/core.xml":
                body = _fixed_times(body)
            info = zipfile.ZipInfo(item.filename, _ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            dst.writestr(info, body)
    return out.getvalue()


def _fixed_times(xml: bytes) -> bytes:
    import re

    stamp = _FIXED.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    return re.sub(
        rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(<)", rb"\g<1>" + stamp + rb"\2", xml
    )


def write_xlsx(
    path: str | os.PathLike[str],
    findings: Findings,
    header: dict[str, str],
    datasets: dict[str, int] | None = None,
    known: pd.DataFrame | None = None,
) -> None:
    """Write the workbook atomically."""
    write_bytes(Path(path), render_xlsx(findings, header, datasets, known))
