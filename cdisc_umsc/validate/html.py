"""A self-contained HTML findings report: inline CSS and JS, no external resource, opens offline.

The table is sortable (click a header) and filterable by dataset, rule and severity (and free
text). Rows are rendered server-side, so the report is readable without JavaScript too.
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
)

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
"""

_JS = """
(function(){
var body=document.querySelector('#findings tbody'),rows=Array.prototype.slice.call(body.rows);
var sel={ds:document.getElementById('f-dataset'),rule:document.getElementById('f-rule'),
 sev:document.getElementById('f-severity'),text:document.getElementById('f-text')};
function apply(){var n=0,t=sel.text.value.toLowerCase();rows.forEach(function(r){
 var ok=(!sel.ds.value||r.dataset.ds===sel.ds.value)
 &&(!sel.rule.value||r.dataset.rule===sel.rule.value)
 &&(!sel.sev.value||r.dataset.sev===sel.sev.value)&&(!t||r.textContent.toLowerCase().indexOf(t)>=0);
 r.style.display=ok?'':'none';if(ok)n++;});
 document.getElementById('count').textContent=n+' of '+rows.length+' findings shown';}
['ds','rule','sev'].forEach(function(k){sel[k].addEventListener('change',apply);});
sel.text.addEventListener('input',apply);
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


def render_html(findings: Findings, title: str, summary: str = "") -> bytes:
    """The report page (UTF-8). `summary` is shown verbatim above the table."""
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
            '<span id="count"></span>',
        ]
    )
    page = (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>\n"
        f"<h1>{html.escape(title)}</h1>\n"
        f'<div class="summary">{html.escape(summary or findings.summary())}</div>\n'
        f'<div class="filters">{filters}</div>\n'
        f'<table id="findings"><thead><tr>{head}</tr></thead><tbody>\n{body}\n'
        f"</tbody></table>\n<script>{_JS}</script>\n</body></html>\n"
    )
    return page.encode("utf-8")


def write_html(
    path: str | os.PathLike[str], findings: Findings, title: str, summary: str = ""
) -> None:
    """Write the report atomically."""
    write_bytes(Path(path), render_html(findings, title, summary))
