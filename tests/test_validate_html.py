"""The HTML findings report (validate/html.py): escaping, the dataset summary, filters and
rows rendered server-side, no external resource."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from cdisc_umsc.validate.findings import COLUMNS, Findings
from cdisc_umsc.validate.html import SHOWN, dataset_summary, render_html, write_html


def findings() -> Findings:
    base = {c: "" for c in COLUMNS} | {"seq": np.nan, "row": None}
    rows = [
        base | {"rule": "UMSC-CT0001", "severity": "error", "dataset": "AE", "row": 3,
                "seq": 2.0, "value": '<b>"x" & y</b>', "message": "m"},
        base | {"rule": "UMSC-SD0003", "severity": "warning", "dataset": "AE", "message": "w"},
        base | {"rule": "UMSC-CT0005", "severity": "notice", "dataset": "", "message": "n"},
    ]  # fmt: skip
    return Findings(pd.DataFrame(rows))


def test_dataset_summary_lists_given_datasets_and_those_with_findings() -> None:
    table = dataset_summary(findings(), {"DM": 5, "AE": 7})
    assert table.astype(object).where(table.notna(), None).values.tolist() == [
        ["", None, 0, 0, 1],
        ["AE", 7, 1, 1, 0],
        ["DM", 5, 0, 0, 0],
    ]
    assert table.columns.tolist() == ["dataset", "records", "errors", "warnings", "notices"]


def test_report_escapes_values_and_renders_every_row() -> None:
    page = render_html(findings(), "Report <1>", "3 findings", {"AE": 7}).decode("utf-8")
    assert page.startswith("<!DOCTYPE html>\n")
    assert "<title>Report &lt;1&gt;</title>" in page
    assert "<td>&lt;b&gt;&quot;x&quot; &amp; y&lt;/b&gt;</td>" in page
    assert '<b>"x"' not in page
    assert page.count('<tr class="error" data-ds="AE" data-rule="UMSC-CT0001"') == 1
    assert page.count("<tr class=") == 3
    assert '<td class="num">2</td><td class="num">3</td>' in page  # seq, row without .0
    assert "<td>(study)</td>" in page
    assert '<div class="summary">3 findings</div>' in page
    assert re.findall(r'<select id="f-severity">(.*?)</select>', page) == [
        '<option value="">all</option><option value="error">error</option>'
        '<option value="notice">notice</option><option value="warning">warning</option>'
    ]
    assert [h for h, _ in SHOWN] == re.findall(r'<th data-num="\d">([^<]+)</th>', page)
    assert not re.search(r"(src|href)=\"?https?:", page)


def test_empty_report_and_default_summary(tmp_path: Path) -> None:
    write_html(tmp_path / "r.html", Findings(), "Empty")
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert '<div class="summary">0 findings: 0 errors, 0 warnings, 0 notices</div>' in page
    assert "<tbody>\n\n</tbody>" in page
    assert render_html(Findings(), "Empty") == (tmp_path / "r.html").read_bytes()
