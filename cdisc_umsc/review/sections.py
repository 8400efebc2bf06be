"""The page's sections as HTML: run facts, files, efficacy, laboratory panels, safety; what
they show comes from the review plan (the ADaM spec's endpoints, groupings and panels)."""

from __future__ import annotations

from html import escape
from pathlib import Path

import pandas as pd

from cdisc_umsc.metadata.standards import InUse
from cdisc_umsc.read.datasets import SUFFIXES
from cdisc_umsc.report.efficacy import label
from cdisc_umsc.report.labs import responders
from cdisc_umsc.review import plots
from cdisc_umsc.review import summaries as s
from cdisc_umsc.review.load import ReviewInputs
from cdisc_umsc.review.markup import cell, figure, link, num, para, table


def facts(manifest: dict) -> str:
    """Study, standards, tool and spec as a definition list."""
    std = manifest["standards"]
    items = [
        ("Study", manifest["study"]),
        ("SDTM", std["sdtm"]),
        ("ADaM", std["adam"]),
        ("Controlled terminology (SDTM)", std["ct"]),
        ("Controlled terminology (ADaM)", std["adam_ct"]),
        ("Tool", f"{manifest['tool']['name']} {manifest['tool']['version']}"),
        ("Created (spec setting)", manifest["created"]),
        ("Spec", f"{manifest['spec']['folder']} (sha256 {manifest['spec']['sha256']})"),
    ]
    body = "".join(f"<dt>{escape(k)}</dt><dd>{escape(str(v))}</dd>" for k, v in items)
    return f'<dl class="facts">{body}</dl>'


def accounting(manifest: dict) -> str:
    """Records read, mapped and excluded per raw form, with totals and exclusion reasons."""
    forms = pd.DataFrame(manifest["raw_forms"])
    totals = {k: int(forms[k].sum()) for k in ("read", "mapped", "excluded")}
    summary = (
        f"<p>Records in: {cell(totals['read'], 'b', data_figure='records-in')}; "
        f"mapped: {cell(totals['mapped'], 'b', data_figure='records-mapped')}; "
        f"rejected (excluded with a stated reason): "
        f"{cell(totals['excluded'], 'b', data_figure='records-rejected')}.</p>"
    )
    rows = [
        [
            cell(f["file"]),
            num(f["read"]),
            num(f["mapped"]),
            num(f["excluded"]),
            cell("; ".join(f"{n} {reason}" for reason, n in f["reasons"].items())),
        ]
        for f in manifest["raw_forms"]
    ]
    out = summary + table(["Raw form", "Read", "Mapped", "Excluded", "Reasons"], rows)
    fields = [
        [
            cell(f["file"]),
            cell(name),
            cell(what, data_table="fields", data_form=f["form"], data_field=name),
        ]
        for f in manifest["raw_forms"]
        for name, what in (f.get("fields") or {}).items()
    ]
    if fields:
        dropped = sum(1 for r in fields if "not submitted" in r[2])
        out += (
            f"<details><summary>Collected fields: {len(fields)}, of which {dropped} not "
            "submitted (with the spec's reason)</summary>"
            + table(["Raw form", "Field", "What becomes of it"], fields, id="fields-table")
            + "</details>"
        )
    ignored = manifest.get("ignored_files") or []
    if ignored:
        out += table(
            ["Raw-folder file", "Not read because"],
            [[cell(f["file"]), cell(f["reason"])] for f in ignored],
            id="ignored-table",
            caption="Files of the raw folder that are no form (study.yaml raw: ignore:)",
        )
    return out


def files(out_dir: Path, manifest: dict) -> str:
    """Per dataset: records and links to its files; define.xml/html and validation report."""
    hashes = manifest.get("files", {})
    rows = []
    for key, count in manifest["records"].items():  # one row per dataset of the run
        folder, name = key.split("/")
        found = [
            f"{folder}/{name.lower()}{suf}"
            for suf in SUFFIXES
            if (out_dir / folder / f"{name.lower()}{suf}").is_file()
        ]
        rows.append(
            [
                cell(folder),
                cell(name),
                num(count, data_figure=f"records-{key}"),
                cell(" ".join(link(f, Path(f).name) for f in found), raw=True),
                cell(" ".join(hashes.get(f, "")[:12] for f in found), cls="num"),
            ]
        )
    out = table(["Standard", "Dataset", "Records", "Files", "sha256 (first 12)"], rows)
    docs = []
    for folder in ("sdtm", "adam"):
        for name in ("define.xml", "define.html"):
            if (out_dir / folder / name).is_file():
                docs.append(link(f"{folder}/{name}", f"{folder}/{name}"))
    out += f"<p>Define-XML 2.1: {' &middot; '.join(docs)}</p>"
    if (out_dir / "validation.html").is_file():
        out += f"<p>Validation report: {link('validation.html', 'validation.html')}</p>"
    else:
        out += para(
            "Validation report: not in this output folder (cdisc-umsc validate writes "
            "validation.html)."
        )
    return out


def _pct(n: int, total: int, pct: float) -> str:
    return f"{n}/{total} ({pct:.1f} %)"


def _group_label(group: str, level: str) -> str:
    return "Overall" if group == "Overall" else f"{group}: {level}"


def efficacy(inputs: ReviewInputs) -> str:
    """Per endpoint dataset of the plan: responder table, per-subject trajectories, mean
    percent change and rates by each grouping variable."""
    if not inputs.plan["endpoints"]:
        return para("The ADaM spec declares no endpoints (BDS criteria: with a primary: visit).")
    return "".join(_endpoint(inputs, ep) for ep in inputs.plan["endpoints"])


def _endpoint(inputs: ReviewInputs, ep: dict) -> str:
    name = ep["dataset"]
    bds = inputs.datasets[name]
    eff = s.efficacy(bds, ep)
    out = f"<h3>{escape(name)}: responders at {escape(ep['visit'])}</h3>"
    if eff.empty:
        return out + para(f"{name} has no analysis records (ANL01FL = Y) with a criterion.")
    endpoints = list(dict.fromkeys(eff["endpoint"]))
    keys = eff[["group", "level"]].drop_duplicates()
    rows = []
    for group, level in keys.itertuples(index=False):  # one row per group level (~10)
        part = eff[(eff["group"] == group) & (eff["level"] == level)].set_index("endpoint")
        cells = [cell(_group_label(group, level), "th", scope="row")]
        for e in endpoints:  # one cell per endpoint
            r = part.loc[e]
            cells.append(
                num(
                    _pct(r["n"], r["N"], r["pct"]),
                    data_table="efficacy",
                    data_dataset=name,
                    data_endpoint=e,
                    data_group=group,
                    data_level=level,
                    data_resp=int(r["n"]),
                    data_total=int(r["N"]),
                    data_pct=float(r["pct"]),
                )
            )
        rows.append(cells)
    population = f", {ep['population']}=Y" if ep["population"] else ""
    out += table(
        ["Group", *endpoints],
        rows,
        id=f"efficacy-{name.lower()}",
        caption=f"Responders n/N (%), {name}, ANL01FL=Y{population}",
    )
    out += para(f"Criteria: {'; '.join(dict.fromkeys(eff['criterion']))}.")
    for paramcd in ep["plot"]:  # the parameters the spec asks to plot
        out += _trajectory(bds, ep, paramcd, inputs.tv)
    for var in ep["by"]:
        ident = f"{name.lower()}-by-{var.lower()}"
        out += figure(
            plots.to_svg(plots.rates_by_group(eff, var), ident),
            f"Responder rates by {var} per endpoint (labels: n/N).",
            f"fig-{ident}",
        )
    return out


_DAY_SOURCE = {
    "VISITDY": "the planned study day (TV VISITDY)",
    "ADY": "the median study day of the visit's records (ADY)",
    "AVISITN": "the analysis visit number (AVISITN)",
}


def _day_note(visits: pd.DataFrame) -> str:
    """How the plot's visits are placed, e.g. 'Visits at the planned study day (TV VISITDY):
    SCREENING, INFUSION 1; at the median study day of the visit's records (ADY): ...'."""
    parts = [
        f"{_DAY_SOURCE[str(src)]}: {', '.join(part['AVISIT'])}"
        for src, part in visits.groupby("source", sort=False)
    ]
    return "Visits are placed at " + "; at ".join(parts) + "."


def _trajectory(bds: pd.DataFrame, ep: dict, paramcd: str, tv: pd.DataFrame | None = None) -> str:
    traj = s.trajectories(bds, paramcd, ep)
    visits = s.visit_days(traj, tv)
    param = str(traj["PARAM"].iloc[0]) if len(traj) else paramcd
    crit = s.first_criterion(ep, paramcd)
    endpoint = label(crit["text"]) if crit else ""
    ident = f"{ep['dataset']}-{paramcd}".lower()
    colour = (
        f"solid dark lines: {endpoint} responders at the primary analysis, dashed light lines: "
        "non-responders"
        if crit
        else "one line per subject"
    )
    out = figure(
        plots.to_svg(plots.spaghetti(traj, f"{param}, points", endpoint, visits), f"traj-{ident}"),
        f"{param} per subject over analysis visits at their nominal study day (observed "
        f"records, DTYPE blank); {colour}. {_day_note(visits)}",
        f"fig-traj-{ident}",
    )
    stats = s.pchg_by_visit(traj)
    thresholds = {
        label(c["text"]): float(c["improvement"])
        for c in ep["criteria"].get(paramcd, [])
        if c.get("improvement") is not None
    }
    compared = f", by {ep['compare']}" if ep.get("compare") else ""
    lines = "; dotted lines: " + ", ".join(f"-{v:g} % ({k})" for k, v in thresholds.items())
    out += figure(
        plots.to_svg(
            plots.mean_pchg(stats, f"Change from baseline in {paramcd} (%)", thresholds, visits),
            f"pchg-{ident}",
        ),
        f"Mean percent change from baseline in {param} (PCHG) per analysis visit{compared}, "
        f"with \u00b1 1 standard deviation{lines if thresholds else ''}; visits at their "
        "nominal study day as above.",
        f"fig-pchg-{ident}",
    )
    shown = stats.assign(day=stats["AVISITN"].map(visits.set_index("AVISITN")["day"]))
    srows = [
        [
            cell(g),
            cell(v),
            num(f"{d:g}"),
            num(n),
            num(f"{m:.1f}"),
            num("" if pd.isna(sd) else f"{sd:.1f}"),
        ]
        for g, v, d, n, m, sd in shown[["group", "AVISIT", "day", "n", "mean", "sd"]].itertuples(
            index=False
        )
    ]
    out += table(
        ["Group", "Analysis visit", "Nominal day", "n", "Mean PCHG (%)", "SD (%)"],
        srows,
        id=f"pchg-{ident}",
    )
    return out


def _fmt(value: float, sign: bool = False) -> str:
    return "" if pd.isna(value) else (f"{value:+.2f}" if sign else f"{value:.2f}")


def labs(inputs: ReviewInputs) -> str:
    """Per laboratory panel of the plan: medians at baseline and the last visit, by responder
    status, and each subject's baseline and last value."""
    if not inputs.plan["labs"]:
        return para("The ADaM spec declares no laboratory panel (BDS review: parameters:).")
    notes = "".join(para(n) for n in inputs.plan.get("notes", []))
    return notes + "".join(_lab_panel(inputs, panel) for panel in inputs.plan["labs"])


def _lab_panel(inputs: ReviewInputs, panel: dict) -> str:
    name = panel["dataset"]
    resp_of = panel.get("responders")
    resp, endpoint = None, ""
    if resp_of:
        source = inputs.datasets[resp_of["dataset"]]
        resp = responders(source, resp_of["PARAMCD"], resp_of["CRIT"], resp_of["dataset"])
        flag = f"CRIT{resp_of['CRIT']}"
        texts = source.loc[source["PARAMCD"] == resp_of["PARAMCD"], flag].replace("", pd.NA)
        endpoint = label(str(texts.dropna().iloc[0])) if texts.notna().any() else flag
    names = panel["parameters"]
    imm, pairs = s.lab_panel(inputs.datasets[name], panel, resp)
    rows = []
    for r in imm.itertuples(index=False):  # one row per test and group
        vals = {
            "baseline_median": r.baseline_median,
            "last_median": r.last_median,
            "change_median": r.change_median,
        }
        common = {
            "data_table": "labs",
            "data_dataset": name,
            "data_paramcd": r.paramcd,
            "data_group": r.group,
        }
        rows.append(
            [
                cell(f"{names.get(r.paramcd, r.paramcd)} ({r.paramcd})"),
                cell(r.group),
                num(r.N, data_stat="N", data_value=r.N, **common),
                *(
                    num(
                        _fmt(v, k == "change_median"),
                        data_stat=k,
                        data_value=repr(float(v)),
                        **common,
                    )
                    for k, v in vals.items()
                ),
            ]
        )
    by = f"; responders by {endpoint} at the primary analysis" if resp_of else ""
    out = f"<h3>{escape(name)}</h3>" + table(
        ["Test", "Group", "N", "Baseline median", "Last visit median", "Median change"],
        rows,
        id=f"labs-{name.lower()}",
        caption=f"Medians: baseline (ABLFL=Y) vs last post-baseline value (ADT > TRTSDT){by}",
    )
    tests = tuple(names)
    lines = (
        f"{endpoint} responders (solid, dark) vs non-responders (dashed, light)"
        if resp_of
        else "one line per subject"
    )
    out += figure(
        plots.to_svg(plots.lab_panel(pairs, tests, names, endpoint), f"labs-{name.lower()}"),
        f"Per test: each subject's baseline and last post-baseline value, {lines}; last panel: "
        f"baseline {names.get(tests[0], tests[0])} by response (box: median and quartiles).",
        f"fig-labs-{name.lower()}",
    )
    return out


def _n_pct(n: int, pct: float) -> str:
    return f"{n} ({pct:.1f} %)" if n else "0"


def safety(inputs: ReviewInputs, in_use: InUse | None = None) -> str:
    """Adverse events by system organ class and preferred term at each subject's maximum
    severity; reference-range shifts per subject (baseline -> worst post-baseline)."""
    out = "<h3>Adverse events</h3>"
    if inputs.ae is None or inputs.adsl is None:
        out += para("No adverse event dataset (adam/ADAE or sdtm/AE) and ADSL in this run.")
    else:
        out += _ae_table(inputs.ae, inputs.adsl, inputs.ae_source, in_use)
    for name in inputs.plan["shifts"]:  # each BDS dataset with reference ranges
        out += f"<h3>{escape(name)}: reference-range shifts (BNRIND \u2192 worst ANRIND)</h3>"
        frame = inputs.datasets[name]
        out += _shift_table(name, s.lab_shifts(frame, name), "BNRIND" in frame.columns)
    return out


def _ae_table(ae: pd.DataFrame, adsl: pd.DataFrame, source: str, in_use: InUse | None) -> str:
    counts, n_safety = s.ae_counts(ae, adsl, source, in_use)
    sev_var, _ranks = s.severity_ranks(ae, source, in_use)
    levels = [str(c) for c in counts["severity"].cat.categories]
    sevs = [c for c in levels if c != s.ANY]
    wide = counts.set_index(["soc", "pt", "severity"])
    rows = []
    for soc, pt in counts[["soc", "pt"]].drop_duplicates().itertuples(index=False):  # one per row
        head = pt or soc
        cells = [cell(head, "th", scope="row", cls="pt" if pt else "soc")]
        for sev in levels:  # one cell per severity, then any severity
            hit = (soc, pt, sev) in wide.index
            n = int(wide.loc[(soc, pt, sev), "subjects"]) if hit else 0
            pct = float(wide.loc[(soc, pt, sev), "pct"]) if hit else 0.0
            cells.append(
                num(
                    _n_pct(n, pct),
                    data_table="ae",
                    data_soc=soc,
                    data_pt=pt,
                    data_severity=sev,
                    data_subjects=n,
                )
            )
        events = int(wide.loc[(soc, pt, s.ANY), "events"])
        cells.append(num(events, data_table="ae-events", data_soc=soc, data_pt=pt))
        rows.append(cells)
    soc_var = next((v for v in ("AEBODSYS", "AESOC") if v in ae.columns), "AEBODSYS")
    scope = (
        "treatment-emergent adverse events (TRTEMFL = Y)"
        if "TRTEMFL" in ae.columns
        else "all recorded adverse events"
    )
    out = table(
        [
            f"System organ class ({soc_var}) / preferred term (AEDECOD)",
            *[f"Max. {v}" for v in sevs],
            "Any severity",
            "Events",
        ],
        rows,
        id="ae-table",
        caption=f"Subjects with {scope}, n (% of the safety set, SAFFL = Y, N={n_safety}), "
        f"each counted once per row at the maximum severity ({sev_var or 'not recorded'}) of "
        f"their events in that row; source {source}",
    )
    _data, _n, excluded = s.ae_analysed(ae, adsl, source)
    notes = [f"{k} {why}" for why, k in excluded.items() if k]
    if notes:
        out += para(f"Not counted: records of {source} {'; '.join(notes)}.")
    unrated = int((counts.loc[counts["severity"] == s.MISSING, "subjects"]).sum())
    if s.MISSING in levels:
        out += para(
            f"Events without a severity do not change a subject's maximum; the {s.MISSING} "
            f"column counts subjects none of whose events in the row records one "
            f"({unrated} subject-rows)."
        )
    if source != "adam/ADAE":
        out += para(
            f"This run wrote no ADAE; adverse events are read from {source} of the same run."
        )
    out += figure(
        plots.to_svg(plots.ae_bars(counts, sevs), "ae"),
        "Subjects with adverse events per system organ class, stacked by their maximum "
        "severity in that class.",
        "fig-ae",
    )
    return out


def _shift_table(name: str, shifts: pd.DataFrame, has_bnrind: bool) -> str:
    cats = s._ordered(shifts["worst"], s.RANGE_ORDER)
    tail = [c for c in (s.MISSING, s.NO_POST) if c in cats]
    cats = [c for c in cats if c not in tail] + tail
    wide = shifts.pivot_table(
        index=["PARAMCD", "PARAM", "BNRIND"],
        columns="worst",
        values="subjects",
        fill_value=0,
        aggfunc="sum",
    )
    wide = wide.reindex(columns=cats, fill_value=0)
    wide["Total"] = wide.sum(axis=1)
    rows = []
    for key, r in wide.iterrows():  # one row per parameter and category
        assert isinstance(key, tuple)  # the index levels: PARAMCD, PARAM, BNRIND
        paramcd, param, bnr = key
        rows.append(
            [
                cell(param),
                cell(bnr),
                *(
                    num(
                        int(r[c]),
                        data_table="shift",
                        data_dataset=name,
                        data_paramcd=paramcd,
                        data_from=bnr,
                        data_to=c,
                    )
                    for c in [*cats, "Total"]
                ),
            ]
        )
    source = "BNRIND" if has_bnrind else "ANRIND of the baseline record (ABLFL=Y)"
    return table(
        ["Parameter", "Baseline (BNRIND)", *[f"\u2192 {c}" for c in cats], "Total"],
        rows,
        id=f"shift-{name.lower()}",
        caption=f"Subjects per {name} parameter, each counted once: baseline "
        f"category from {source} against the worst post-baseline ANRIND (ADT > TRTSDT; any "
        f"category but NORMAL is worse than NORMAL, both directions reached are joined)",
    )
