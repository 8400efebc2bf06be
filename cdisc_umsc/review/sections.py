"""The page's sections as HTML: run facts, files, efficacy, immunology, safety."""

from __future__ import annotations

from html import escape
from pathlib import Path

import pandas as pd

from cdisc_umsc.read.datasets import SUFFIXES
from cdisc_umsc.review import plots
from cdisc_umsc.review import summaries as s
from cdisc_umsc.review.load import ReviewInputs
from cdisc_umsc.review.markup import cell, figure, link, num, para, table

GROUP_NAMES = {"Overall": "Overall", "SEX": "Sex", "ARM": "Dose group (ARM)"}


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
    return summary + table(["Raw form", "Read", "Mapped", "Excluded", "Reasons"], rows)


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


def efficacy(inputs: ReviewInputs) -> str:
    """Responder table, PASI trajectories, mean percent change and rates by sex."""
    eff = s.efficacy(inputs.adqs)
    endpoints = list(dict.fromkeys(eff["endpoint"]))
    keys = eff[["group", "level"]].drop_duplicates()
    rows = []
    for group, level in keys.itertuples(index=False):  # one row per group level (~10)
        part = eff[(eff["group"] == group) & (eff["level"] == level)].set_index("endpoint")
        label = GROUP_NAMES.get(group, group) + (f": {level}" if level else "")
        cells = [cell(label, "th", scope="row")]
        for ep in endpoints:  # one cell per endpoint
            r = part.loc[ep]
            cells.append(
                num(
                    _pct(r["n"], r["N"], r["pct"]),
                    data_table="efficacy",
                    data_endpoint=ep,
                    data_group=group,
                    data_level=level,
                    data_resp=int(r["n"]),
                    data_total=int(r["N"]),
                    data_pct=float(r["pct"]),
                )
            )
        rows.append(cells)
    crit = "; ".join(dict.fromkeys(eff["criterion"]))
    out = table(
        ["Group", *endpoints],
        rows,
        id="efficacy-table",
        caption="Responders n/N (%), ADQS, ANL01FL=Y, full analysis set (FASFL=Y)",
    )
    out += para(f"Criteria: {crit}.")
    traj = s.trajectories(inputs.adqs)
    param = str(traj["PARAM"].iloc[0]) if len(traj) else "PASITOT"
    out += figure(
        plots.to_svg(plots.spaghetti(traj, f"{param}, points"), "spaghetti"),
        f"{param} per subject over analysis visits (observed records, DTYPE blank); "
        "solid dark lines: PASI40 responders at the primary analysis, dashed light "
        "lines: non-responders.",
        "fig-spaghetti",
    )
    stats = s.pchg_by_visit(traj)
    out += figure(
        plots.to_svg(plots.mean_pchg(stats, "Change from baseline in PASI (%)"), "pchg"),
        "Mean percent change from baseline in PASI total (PCHG) per analysis visit, "
        "with \u00b1 1 standard deviation (band and bars); dotted line: -40 %.",
        "fig-pchg",
    )
    srows = [
        [cell(v), num(n), num(f"{m:.1f}"), num("" if pd.isna(sd) else f"{sd:.1f}")]
        for v, n, m, sd in stats[["AVISIT", "n", "mean", "sd"]].itertuples(index=False)
    ]
    out += table(["Analysis visit", "n", "Mean PCHG (%)", "SD (%)"], srows, id="pchg-table")
    out += figure(
        plots.to_svg(plots.rates_by_group(eff, "SEX"), "by-sex"),
        "Responder rates by sex per endpoint (labels: n/N).",
        "fig-by-sex",
    )
    return out


def _fmt(value: float, sign: bool = False) -> str:
    return "" if pd.isna(value) else (f"{value:+.2f}" if sign else f"{value:.2f}")


def immunology(inputs: ReviewInputs) -> str:
    """The report's immunology medians, and per-subject baseline vs last visit plots."""
    tests = s.present_tests(inputs.adlb)
    if not tests:
        return para(f"ADLB carries none of the immunology tests ({', '.join(s.IMMUNOLOGY_TESTS)}).")
    imm = s.immunology(inputs.adlb, inputs.adqs, tests)
    rows = []
    for r in imm.itertuples(index=False):  # one row per test and group (15)
        vals = {
            "N": r.N,
            "baseline_median": r.baseline_median,
            "last_median": r.last_median,
            "change_median": r.change_median,
        }
        common = {"data_table": "immunology", "data_paramcd": r.paramcd, "data_group": r.group}
        rows.append(
            [
                cell(f"{s.SHORT_NAMES.get(r.paramcd, r.paramcd)} ({r.paramcd})"),
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
                    if k != "N"
                ),
            ]
        )
    out = table(
        ["Test", "Group", "N", "Baseline median", "Last visit median", "Median change"],
        rows,
        id="immunology-table",
        caption="Medians: baseline (ABLFL=Y) vs last post-baseline value (ADT > TRTSDT);"
        " responders by PASI40 at the primary analysis",
    )
    pairs = s.paired_lab(inputs.adlb, inputs.adqs, tests)
    out += figure(
        plots.to_svg(plots.immunology(pairs, tests, s.SHORT_NAMES), "immunology"),
        "Per test: each subject's baseline and last post-baseline value, PASI40 "
        "responders (solid, dark) vs non-responders (dashed, light); last panel: "
        f"baseline {s.SHORT_NAMES.get(tests[0], tests[0])} by response (box: median "
        "and quartiles).",
        "fig-immunology",
    )
    return out


def safety(inputs: ReviewInputs) -> str:
    """Adverse events by body system and severity; lab shifts BNRIND -> ANRIND."""
    out = "<h3>Adverse events</h3>"
    if inputs.ae is None:
        out += para("No adverse event dataset in this run (adam/ADAE or sdtm/AE).")
    else:
        counts, n_safety = s.ae_counts(inputs.ae, inputs.adsl, inputs.ae_source)
        sevs = s._ordered(counts.loc[counts["severity"] != "Any", "severity"], s.SEVERITY_ORDER)
        socs = ["Any body system", *sorted(set(counts["soc"]) - {"Any body system"})]
        wide = counts.set_index(["soc", "severity"])
        rows = []
        for soc in socs:  # one row per body system
            cells = [cell(soc, "th", scope="row")]
            for sev in [*sevs, "Any"]:  # one cell per severity
                if (soc, sev) in wide.index:
                    r = wide.loc[(soc, sev)]
                    text = f"{int(r['subjects'])} ({r['pct']:.1f} %) [{int(r['events'])}]"
                    cells.append(
                        num(
                            text,
                            data_table="ae",
                            data_soc=soc,
                            data_severity=sev,
                            data_subjects=int(r["subjects"]),
                            data_events=int(r["events"]),
                        )
                    )
                else:
                    cells.append(
                        num(
                            "0",
                            data_table="ae",
                            data_soc=soc,
                            data_severity=sev,
                            data_subjects=0,
                            data_events=0,
                        )
                    )
            rows.append(cells)
        out += table(
            ["Body system (AEBODSYS)", *sevs, "Any severity"],
            rows,
            id="ae-table",
            caption=f"All recorded adverse events: subjects n (% of safety set, "
            f"N={n_safety}) [events], source {inputs.ae_source}",
        )
        if inputs.ae_source != "adam/ADAE":
            out += para(
                f"This run wrote no ADAE; adverse events are read from "
                f"{inputs.ae_source} of the same run."
            )
        out += figure(
            plots.to_svg(plots.ae_bars(counts, sevs), "ae"),
            "Adverse events per body system, stacked by severity.",
            "fig-ae",
        )
    out += "<h3>Laboratory shifts (BNRIND \u2192 ANRIND)</h3>"
    out += _shift_table(s.lab_shifts(inputs.adlb), "BNRIND" in inputs.adlb.columns)
    return out


def _shift_table(shifts: pd.DataFrame, has_bnrind: bool) -> str:
    cats = s._ordered(pd.concat([shifts["BNRIND"], shifts["ANRIND"]]), s.RANGE_ORDER)
    wide = shifts.pivot_table(
        index=["PARAMCD", "PARAM", "BNRIND"],
        columns="ANRIND",
        values="records",
        fill_value=0,
        aggfunc="sum",
    )
    wide = wide.reindex(columns=cats, fill_value=0)
    wide["Total"] = wide.sum(axis=1)
    rows = []
    for (paramcd, param, bnr), r in wide.iterrows():  # one row per parameter and category
        rows.append(
            [
                cell(param),
                cell(bnr),
                *(
                    num(
                        int(r[c]),
                        data_table="shift",
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
        id="shift-table",
        caption=f"Post-baseline ADLB records (ADT > TRTSDT) by reference-range "
        f"category; baseline category from {source}",
    )
