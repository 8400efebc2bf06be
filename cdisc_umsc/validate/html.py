"""A self-contained HTML findings report: inline CSS and JS, no external resource, opens offline.

A dataset summary (records, errors, warnings, notices per dataset) heads the page; the findings
table holds every record of every finding, sortable (click a header), filterable by dataset,
rule and severity (and free text) and shown a page at a time. Rows are rendered server-side,
so the report is readable without JavaScript too (then all rows show at once).
"""

from __future__ import annotations

import html
import os
from pathlib import Path

import pandas as pd

from cdisc_umsc.core.atomic import write_bytes
from cdisc_umsc.core.values import number_text
from cdisc_umsc.validate.findings import SEVERITIES, Findings

#: Columns shown, in order (header text, findings column).
SHOWN = (
    ("Severity", "severity"),
    ("Rule", "rule"),
    ("Dataset", "dataset"),
    ("USUBJID", "usubjid"),
    ("SEQ", "seq"),
    ("Row", "row"),
    ("Variable", "variable"),
    ("Value", "value"),
    ("Message", "message"),
    ("CORE", "core_id"),
    ("P21", "p21_id"),
    ("Standard reference", "citation"),
    ("Judged by", "standard"),
)
#: Findings rows shown per page.
PAGE = 500

_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.3em;margin:0 0 .3em}
.summary{margin:.4em 0 1em;white-space:pre;font-family:monospace}
.filters{display:flex;gap:.8em;flex-wrap:wrap;margin-bottom:.6em}
.filters label{font-size:.9em}
table{border-collapse:collapse;width:100%}
th,td{border:1px solid #ccc;padding:.2em .4em;vertical-align:top;text-align:left}
th{background:#eee;cursor:pointer;position:sticky;top:0}
th.asc::after{content:" \\25B2"}th.desc::after{content:" \\25BC"}
tr.error td:first-child{background:#f8d0d0}
tr.warning td:first-child{background:#fbeec0}
tr.notice td:first-child{background:#d8e8f8}
td.num{text-align:right}
#count{font-size:.9em;color:#555}
#datasets{width:auto;margin-bottom:1em}
.pager button{margin:0 .3em}
"""

_JS = """
(function(){
var body=document.querySelector('#findings tbody'),rows=Array.prototype.slice.call(body.rows);
var sel={ds:document.getElementById('f-dataset'),rule:document.getElementById('f-rule'),
 sev:document.getElementById('f-severity'),text:document.getElementById('f-text')};
var page=0,size=+document.getElementById('findings').dataset.page;
function apply(){var n=0,t=sel.text.value.toLowerCase();rows.forEach(function(r){
 var ok=(!sel.ds.value||r.dataset.ds===sel.ds.value)
 &&(!sel.rule.value||r.dataset.rule===sel.rule.value)
 &&(!sel.sev.value||r.dataset.sev===sel.sev.value)&&(!t||r.textContent.toLowerCase().indexOf(t)>=0);
 var on=ok&&n>=page*size&&n<(page+1)*size;r.style.display=on?'':'none';if(ok)n++;});
 var pages=Math.max(1,Math.ceil(n/size));if(page>=pages){page=pages-1;apply();return;}
 document.getElementById('count').textContent=n+' of '+rows.length+' findings match; page '
 +(page+1)+' of '+pages;}
function reset(){page=0;apply();}
['ds','rule','sev'].forEach(function(k){sel[k].addEventListener('change',reset);});
sel.text.addEventListener('input',reset);
document.getElementById('prev').addEventListener('click',function(){if(page>0){page--;apply();}});
document.getElementById('next').addEventListener('click',function(){page++;apply();});
document.querySelectorAll('#findings th').forEach(function(th,i){th.addEventListener('click',
 function(){var asc=!th.classList.contains('asc'),num=th.dataset.num==='1';
 document.querySelectorAll('#findings th').forEach(function(h){h.classList.remove('asc','desc');});
 th.classList.add(asc?'asc':'desc');
 rows.sort(function(a,b){var x=a.cells[i].textContent,y=b.cells[i].textContent,c;
  if(num){x=x===''?-Infinity:+x;y=y===''?-Infinity:+y;c=x-y;}else{c=x.localeCompare(y);}
  return asc?c:-c;});
 rows.forEach(function(r){body.appendChild(r);});});});
apply();})();
"""


def _esc(series: pd.Series) -> pd.Series:
    """HTML-escaped text of each value (vectorised; quotes escaped for attributes)."""
    text = series.astype(object).where(series.notna(), "").astype(str)
    for raw, ent in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;")):
        text = text.str.replace(raw, ent, regex=False)
    return text


def _options(values: pd.Series, element: str, label: str) -> str:
    opts = "".join(
        f'<option value="{html.escape(v)}">{html.escape(v)}</option>' for v in sorted(set(values))
    )
    return (
        f'<label>{label} <select id="{element}"><option value="">all</option>{opts}'
        "</select></label>"
    )


def dataset_summary(findings: Findings, datasets: dict[str, int] | None = None) -> pd.DataFrame:
    """Per dataset (those given, with their record counts, and any with findings): records,
    errors, warnings, notices; sorted by dataset ('' = findings not tied to a dataset)."""
    f = findings.frame
    counts = f.groupby(["dataset", "severity"]).size().unstack(fill_value=0)
    names = sorted(set(datasets or {}) | set(f["dataset"]))
    out = pd.DataFrame({"dataset": names})
    out["records"] = [(datasets or {}).get(n) for n in names]
    for sev in SEVERITIES:
        col = counts[sev] if sev in counts.columns else pd.Series(dtype="int64")
        out[f"{sev}s"] = out["dataset"].map(col).fillna(0).astype("int64")
    return out


def _summary_table(table: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(c.capitalize())}</th>" for c in table.columns)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="num">{"" if v is None or v != v else int(v)}</td>'
            if c != "dataset"
            else f"<td>{html.escape(str(v) or '(study)')}</td>"
            for c, v in zip(table.columns, row, strict=True)
        )
        + "</tr>"
        for row in table.itertuples(index=False)  # one row per dataset
    )
    return f'<table id="datasets"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def render_html(
    findings: Findings,
    title: str,
    summary: str = "",
    datasets: dict[str, int] | None = None,
) -> bytes:
    """The report page (UTF-8). `summary` is shown verbatim above the tables; `datasets`
    (name -> records) lists datasets without findings in the dataset summary too."""
    f = findings.frame
    cells = {col: _esc(f[col]) for _, col in SHOWN if col not in ("seq", "row")}
    cells["seq"], cells["row"] = number_text(f["seq"]), number_text(f["row"])
    row = (
        '<tr class="'
        + cells["severity"]
        + '" data-ds="'
        + cells["dataset"]
        + '" data-rule="'
        + cells["rule"]
        + '" data-sev="'
        + cells["severity"]
        + '">'
    )
    for _, col in SHOWN:
        cls = ' class="num"' if col in ("seq", "row") else ""
        row = row + f"<td{cls}>" + cells[col] + "</td>"
    body = "\n".join(row + "</tr>") if len(f) else ""
    head = "".join(f'<th data-num="{1 if c in ("seq", "row") else 0}">{h}</th>' for h, c in SHOWN)
    sev = pd.Series([s for s in SEVERITIES if s in set(f["severity"])], dtype=object)
    filters = "".join(
        [
            _options(f["dataset"], "f-dataset", "Dataset"),
            _options(f["rule"], "f-rule", "Rule"),
            _options(sev, "f-severity", "Severity"),
            '<label>Text <input id="f-text" type="search"></label>',
            '<span class="pager"><button id="prev" type="button">previous</button>'
            '<button id="next" type="button">next</button></span>',
            '<span id="count"></span>',
        ]
    )
    page = (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>\n"
        f"<h1>{html.escape(title)}</h1>\n"
        f'<div class="summary">{html.escape(summary or findings.summary())}</div>\n'
        f"<h2>Datasets</h2>\n{_summary_table(dataset_summary(findings, datasets))}\n"
        f"<h2>Findings</h2>\n"
        f'<div class="filters">{filters}</div>\n'
        f'<table id="findings" data-page="{PAGE}"><thead><tr>{head}</tr></thead><tbody>\n{body}\n'
        f"</tbody></table>\n<script>{_JS}</script>\n</body></html>\n"
    )
    return page.encode("utf-8")


def write_html(
    path: str | os.PathLike[str],
    findings: Findings,
    title: str,
    summary: str = "",
    datasets: dict[str, int] | None = None,
) -> None:
    """Write the report atomically."""
    write_bytes(Path(path), render_html(findings, title, summary, datasets))
