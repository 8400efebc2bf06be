"""Plots for the review page as inline SVG text (matplotlib, no pyplot state).

Readable in greyscale: responders and non-responders differ in lightness, line style and
marker, bars in hatching. Output is deterministic: no date in the SVG, ids salted per figure,
text kept as text (no embedded glyph ids), ids prefixed per figure.
"""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Callable
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.ticker import MaxNLocator
from matplotlib.typing import RcKeyType

from cdisc_umsc.review.summaries import ANY_SOC

# Dark blue / light orange: distinct in colour vision deficiency and in greyscale.
RESPONDER = {"color": "#1a3f73", "linestyle": "-", "marker": "o", "label": "Responder"}
NON_RESPONDER = {"color": "#e09a2b", "linestyle": "--", "marker": "s", "label": "Non-responder"}
HATCHES = ("", "///", "...", "xxx", "\\\\\\", "++")
GREYS = ("#1a3f73", "#e09a2b", "#8c8c8c", "#4d4d4d", "#c6c6c6", "#000000")
_RC: dict[RcKeyType, Any] = {
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "svg.image_inline": True,
}
_XML_HEAD = re.compile(r"^.*?(?=<svg)", re.S)
_ID_REF = re.compile(r'(\bid="|url\(#|href="#)([^")]+)')


def to_svg(fig: Figure, name: str) -> str:
    """The figure as an ``<svg>`` element string, without XML prolog or DOCTYPE."""
    buf = io.StringIO()
    with matplotlib.rc_context({**_RC, "svg.hashsalt": f"umsc-review-{name}"}):
        # the constrained layout already fits the figure: bbox_inches="tight" would lay it
        # out and draw it a second time to measure it
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    svg = _XML_HEAD.sub("", buf.getvalue(), count=1).strip()
    # matplotlib numbers its group ids per figure (axes_1, line2d_1 ...): prefix every id and
    # every reference to one, so several plots inline in one page keep ids unique
    return _ID_REF.sub(lambda m: f"{m.group(1)}{name}-{m.group(2)}", svg)


class _Figure(Figure):
    """A Figure that savefig lays out without drawing it twice.

    With a layout engine, savefig draws the figure once with output disabled, for the
    constrained layout to run, and then once more for the file; the first draw here only
    runs what the layout needs (each axes' aspect and locator, then the layout), not every
    artist's drawing code: the file's draw is the same."""

    def draw(self, renderer) -> None:
        engine = self.get_layout_engine()
        # what Figure.draw runs before the layout (matplotlib 3.11; not in its stubs): where a
        # version lacks it, the figure is drawn in full
        lock = getattr(self, "_render_lock", None)
        aspects = getattr(self, "_get_draw_artists", None)
        saving = getattr(self.canvas, "_is_saving", False)
        if (
            not saving
            or not isinstance(engine, ConstrainedLayoutEngine)
            or lock is None
            or aspects is None
        ):
            super().draw(renderer)
            return
        with lock:
            aspects(renderer)
            if self.axes:
                try:
                    engine.execute(self)
                except ValueError:  # as Figure.draw: a figure too small to lay out
                    pass


def _figure(width: float, height: float) -> Figure:
    return _Figure(figsize=(width, height), layout="constrained")


def styled(func: Callable[..., Figure]) -> Callable[..., Figure]:
    """Run a plot function under the page's matplotlib style (global rcParams untouched)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs) -> Figure:
        with matplotlib.rc_context(_RC):
            return func(*args, **kwargs)

    return wrapper


def _broken_lines(df: pd.DataFrame, key: str, x: str, y: str) -> tuple[np.ndarray, np.ndarray]:
    """x/y arrays of all groups of ``key`` (df sorted by key) with NaN breaks between groups,
    so one plot call draws one line per group."""
    xs = df[x].to_numpy(dtype=float)
    ys = df[y].to_numpy(dtype=float)
    starts = np.flatnonzero(df[key].to_numpy()[1:] != df[key].to_numpy()[:-1]) + 1
    return np.insert(xs, starts, np.nan), np.insert(ys, starts, np.nan)


def _by_response(ax, df: pd.DataFrame, key: str, x: str, y: str, endpoint: str = "") -> None:
    """One line per ``key`` group, styled by responder status (named by ``endpoint``)."""
    for flag, style in ((True, RESPONDER), (False, NON_RESPONDER)):
        part = df[df["responder"] == flag]
        if part.empty:
            continue
        xs, ys = _broken_lines(part, key, x, y)
        n = part[key].nunique()
        name = f"{endpoint} {style['label'].lower()}" if endpoint else style["label"]
        ax.plot(
            xs,
            ys,
            linewidth=1.1,
            markersize=3.5,
            alpha=0.9,
            **{**style, "label": f"{name} (n={n})"},
        )


def _visit_axis(ax, visits: pd.DataFrame) -> None:
    """Visit names as ticks at the visits' positions (``day``: nominal study day, see
    summaries.visit_days), study days on a secondary axis on top."""
    by_day = visits["source"].iloc[0] != "AVISITN" if len(visits) else False
    ax.set_xticks(
        visits["day"].to_numpy(dtype=float),
        visits["AVISIT"].astype(str),
        rotation=55,
        ha="right",
        rotation_mode="anchor",
        fontsize=7.5,
    )
    if by_day:
        top = ax.secondary_xaxis("top")
        top.set_xlabel("Study day", fontsize=8)
        top.tick_params(labelsize=7.5)
        ax.set_xlabel("Analysis visit (AVISIT) at its nominal study day")
    else:
        ax.set_xlabel("Analysis visit (AVISIT)")


def _positions(
    frame: pd.DataFrame, visits: pd.DataFrame | None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``frame`` with ``day`` (its visit's position) and the visits table; without one, the
    visits of ``frame`` at their AVISITN."""
    if visits is None:
        visits = frame.drop_duplicates("AVISITN").sort_values("AVISITN")[["AVISITN", "AVISIT"]]
        visits = visits.assign(day=visits["AVISITN"].astype(float), source="AVISITN")
    day = frame["AVISITN"].map(visits.set_index("AVISITN")["day"])
    return frame.assign(day=day.to_numpy(dtype=float)), visits


@styled
def spaghetti(
    traj: pd.DataFrame, ylabel: str, endpoint: str = "", visits: pd.DataFrame | None = None
) -> Figure:
    """A parameter per subject over analysis visits placed at ``visits``' days (the table of
    summaries.visit_days), by responder status of ``endpoint``."""
    fig = _figure(8.0, 4.4)
    ax = fig.add_subplot()
    traj, visits = _positions(traj, visits)
    _by_response(ax, traj, "USUBJID", "day", "AVAL", endpoint)
    _visit_axis(ax, visits)
    ax.set_ylabel(ylabel)
    ax.set_ylim(bottom=0)
    ax.grid(axis="y", color="#dddddd", linewidth=0.6)
    ax.legend(frameon=False)
    return fig


@styled
def mean_pchg(
    stats: pd.DataFrame,
    ylabel: str,
    thresholds: dict[str, float],
    visits: pd.DataFrame | None = None,
) -> Figure:
    """Mean percent change from baseline per visit (placed at ``visits``' days) with a band of
    +/- 1 SD, one line per ``group`` level (a single level: overall); dotted lines at the
    endpoints' thresholds."""
    fig = _figure(8.0, 4.0)
    ax = fig.add_subplot()
    stats, visits = _positions(stats, visits)
    levels = list(dict.fromkeys(stats["group"]))
    span = float(np.ptp(visits["day"].to_numpy(dtype=float))) if len(visits) else 0.0
    for i, level in enumerate(levels):  # one line per compared group (arms: a handful)
        part = stats[stats["group"] == level]
        shift = (i - (len(levels) - 1) / 2) * 0.006 * (span or 10.0)  # groups side by side
        x = part["day"].to_numpy(dtype=float) + shift
        mean = part["mean"].to_numpy(dtype=float)
        sd = part["sd"].fillna(0).to_numpy(dtype=float)
        colour = "#1a1a1a" if len(levels) == 1 else GREYS[i % len(GREYS)]
        if len(levels) == 1:
            ax.fill_between(
                x,
                mean - sd,
                mean + sd,
                color="#bfbfbf",
                alpha=0.6,
                linewidth=0,
                label="Mean \u00b1 1 SD",
            )
        ax.errorbar(
            x,
            mean,
            yerr=sd,
            color=colour,
            marker="os^Dv*"[i % 6],
            linestyle=("-", "--", ":", "-.")[i % 4],
            markersize=4,
            capsize=3,
            linewidth=1.4,
            label="Mean" if len(levels) == 1 else f"Mean, {level}",
        )
    ax.axhline(0, color="#777777", linewidth=0.8)
    for name, value in thresholds.items():  # a few endpoint thresholds
        ax.axhline(-value, color="#777777", linewidth=0.8, linestyle=":")
        ax.annotate(
            f"{name}",
            (1.0, -value),
            xycoords=("axes fraction", "data"),
            fontsize=7,
            ha="right",
            va="bottom",
            color="#555555",
        )
    _visit_axis(ax, visits)
    ax.set_ylabel(ylabel)
    ax.grid(axis="y", color="#dddddd", linewidth=0.6)
    ax.legend(frameon=False, loc="lower left")
    return fig


@styled
def rates_by_group(table: pd.DataFrame, group: str) -> Figure:
    """Responder percentage per endpoint, one hatched bar per level of ``group``."""
    rows = table[table["group"] == group]
    endpoints = list(dict.fromkeys(rows["endpoint"]))
    levels = sorted(rows["level"].unique())
    fig = _figure(8.0, 3.6 + (0.25 * len(levels) if len(levels) > 3 else 0))
    ax = fig.add_subplot()
    width = 0.8 / max(len(levels), 1)
    pos = pd.Series(range(len(endpoints)), index=endpoints, dtype=float)
    for i, level in enumerate(levels):  # one bar series per level of the grouping variable
        part = rows[rows["level"] == level]
        x = pos[part["endpoint"]].to_numpy() + (i - (len(levels) - 1) / 2) * width
        bars = ax.bar(
            x,
            part["pct"],
            width,
            color=GREYS[i % len(GREYS)],
            edgecolor="black",
            linewidth=0.6,
            hatch=HATCHES[i % len(HATCHES)],
            label=f"{group}={level}",
        )
        ax.bar_label(
            bars,
            labels=[f"{n}/{d}" for n, d in zip(part["n"], part["N"], strict=True)],
            fontsize=7,
            padding=2,
        )
    ax.set_xticks(pos.to_numpy(), endpoints)
    ax.set_xlabel("Endpoint (primary analysis visit)")
    ax.set_ylabel("Responders (% of analysed subjects)")
    ax.set_ylim(0, 110)
    longest = max((len(f"{group}={lv}") for lv in levels), default=0)
    ax.legend(frameon=False, ncols=1 if longest > 24 else min(len(levels), 4), fontsize=7)
    return fig


@styled
def lab_panel(
    pairs: pd.DataFrame, tests: tuple[str, ...], names: dict[str, str], endpoint: str = ""
) -> Figure:
    """Per test: baseline and last visit per subject, responders vs non-responders of
    ``endpoint``; last panel: baseline of the first test by responder status."""
    cols = 3
    rows = -(-(len(tests) + 1) // cols)
    fig = _figure(9.0, 3.0 * rows)
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    long = pd.concat(
        [pairs.assign(x=0.0, value=pairs["baseline"]), pairs.assign(x=1.0, value=pairs["last"])]
    )
    long = long.sort_values(["PARAMCD", "USUBJID", "x"], ignore_index=True)
    for ax, test in zip(axes, tests, strict=False):  # one panel per test
        part = long[long["PARAMCD"] == test]
        _by_response(ax, part, "USUBJID", "x", "value", endpoint)
        ax.set_xticks([0, 1], ["Baseline", "Last visit"])
        ax.set_xlim(-0.3, 1.3)
        ax.set_title(names.get(test, test), fontsize=9)
        ax.set_ylabel(str(part["PARAM"].iloc[0]) if len(part) else test, fontsize=8)
    if tests:
        _baseline_comparison(
            axes[len(tests)],
            pairs[pairs["PARAMCD"] == tests[0]],
            names.get(tests[0], tests[0]),
            endpoint,
        )
    for ax in axes[len(tests) + 1 :]:
        ax.set_visible(False)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=2, frameon=False)
    return fig


def _baseline_comparison(ax, part: pd.DataFrame, name: str, endpoint: str) -> None:
    groups = [(True, RESPONDER, "Responders"), (False, NON_RESPONDER, "Non-responders")]
    data = [
        part.loc[part["responder"] == flag, "baseline"].to_numpy(dtype=float)
        for flag, _s, _l in groups
    ]
    ax.boxplot(
        data,
        positions=[0, 1],
        widths=0.5,
        showfliers=False,
        medianprops={"color": "black", "linewidth": 1.5},
    )
    for i, ((_flag, style, _label), values) in enumerate(zip(groups, data, strict=True)):
        offsets = np.linspace(-0.12, 0.12, len(values)) if len(values) > 1 else np.zeros(1)
        ax.plot(
            i + offsets[: len(values)],
            np.sort(values),
            linestyle="none",
            marker=style["marker"],
            color=style["color"],
            markersize=4,
        )
    ax.set_xticks(
        [0, 1], [f"{lbl}\n(n={len(v)})" for (_f, _s, lbl), v in zip(groups, data, strict=True)]
    )
    ax.set_title(f"Baseline {name} by {endpoint or 'endpoint'} response", fontsize=9)
    ax.set_ylabel(str(part["PARAM"].iloc[0]) if len(part) else name, fontsize=8)


@styled
def ae_bars(table: pd.DataFrame, severities: list[str]) -> Figure:
    """Subjects per system organ class, stacked by their maximum severity there (hatched);
    ``table`` is summaries.ae_counts'."""
    rows = table[(table["soc"] != ANY_SOC) & (table["pt"] == "")]
    rows = rows[rows["severity"].astype(str).isin(severities)]
    wide = rows.pivot_table(
        index="soc", columns="severity", values="subjects", fill_value=0, observed=False
    )
    wide.columns = wide.columns.astype(str)
    wide = wide.reindex(columns=severities, fill_value=0).sort_index(ascending=False)
    fig = _figure(8.0, 0.45 * len(wide) + 1.4)
    ax = fig.add_subplot()
    left = np.zeros(len(wide))
    for i, sev in enumerate(severities):  # one stacked series per severity
        values = wide[sev].to_numpy(dtype=float)
        ax.barh(
            wide.index.astype(str),
            values,
            left=left,
            color=GREYS[i % len(GREYS)],
            edgecolor="black",
            linewidth=0.6,
            hatch=HATCHES[i % len(HATCHES)],
            label=sev,
        )
        left += values
    ax.set_xlabel("Subjects (each at their maximum severity in the class)")
    ax.set_ylabel("System organ class")
    locator = ax.xaxis.get_major_locator()
    if isinstance(locator, MaxNLocator):  # the default AutoLocator is one
        locator.set_params(integer=True)
    ax.legend(frameon=False, title="Maximum severity")
    return fig
