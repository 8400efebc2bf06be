"""Responder tables, computed from ADaM only: responders n/N and % per endpoint and group.

An endpoint is a (PARAMCD, CRITy) pair found in a BDS dataset; the analysis records are those
with ANL01FL = "Y" in the population named by ``population`` (a Y/N flag carried on the records;
blank: every analysis record). Groups are the levels of the ``by`` variables (ADSL variables
carried on the records), after the overall row.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from cdisc_umsc.core.errors import InputError
from cdisc_umsc.core.values import blank

CRIT = re.compile(r"^CRIT([0-9]+)$")
COLUMNS = ["endpoint", "criterion", "paramcd", "group", "level", "n", "N"]


#: The level of a grouping variable shown for subjects without a value.
MISSING = "(missing)"


def endpoints(bds: pd.DataFrame) -> list[tuple[str, str, str]]:
    """(PARAMCD, CRITy variable, CRITy text) for every criterion present on analysis records."""
    found = []
    analysis = bds[bds["ANL01FL"] == "Y"] if "ANL01FL" in bds else bds.iloc[0:0]
    for col in bds.columns:
        if not CRIT.match(col):
            continue
        texts = analysis.loc[~blank(analysis[col]), ["PARAMCD", col]].drop_duplicates()
        for paramcd, text in texts.itertuples(index=False):
            found.append((str(paramcd), col, str(text)))
    return sorted(found, key=lambda e: (e[0], int(e[1].removeprefix("CRIT"))))  # CRITy: y


def label(criterion: str) -> str:
    """The endpoint's short name: the criterion text up to its first colon."""
    return criterion.split(":")[0]


def percent(n: pd.Series, total: pd.Series | int) -> pd.Series:
    """100 n / total to one decimal, a half rounded up (1/16: 6.3, not 6.2 as rounding to even
    gives), computed on integers so no binary fraction moves a boundary; NaN where total is
    0. Counts are never negative."""
    num = n.to_numpy(dtype="int64")
    den = np.broadcast_to(np.asarray(total, dtype="int64"), num.shape)
    safe = np.where(den > 0, den, 1)
    tenths = (2000 * num + safe) // (2 * safe)
    return pd.Series(np.where(den > 0, tenths / 10, np.nan), index=n.index, dtype="float64")


def efficacy_table(
    bds: pd.DataFrame, by: Sequence[str] = (), population: str = "", name: str = "BDS"
) -> pd.DataFrame:
    """One row per endpoint and group: n responders, N analysed, percent."""
    need = ["USUBJID", "PARAMCD", "ANL01FL", *by, *([population] if population else [])]
    missing = [c for c in need if c not in bds.columns]
    if missing:
        raise InputError(
            f"{name}: variable {missing[0]} is missing; the responder table needs {', '.join(need)}"
        )
    analysis = bds[bds["ANL01FL"] == "Y"]
    if population:
        analysis = analysis[analysis[population] == "Y"]
    rows = []
    for paramcd, crit, text in endpoints(bds):
        recs = analysis[analysis["PARAMCD"] == paramcd]
        flag = recs[f"{crit}FL"] == "Y"
        common = {"endpoint": label(text), "criterion": text, "paramcd": paramcd}
        rows.append(
            {**common, "group": "Overall", "level": "", "n": int(flag.sum()), "N": len(recs)}
        )
        for var in by:  # a handful of grouping variables, each with a few levels
            # a subject without a value is counted in a row of its own, never left out
            key = recs[var].where(~blank(recs[var]))  # blank and null: one level, last
            for level, idx in recs.groupby(key, sort=True, dropna=False).groups.items():
                rows.append(
                    {
                        **common,
                        "group": var,
                        "level": MISSING if level != level else str(level),  # NaN: no value
                        "n": int(flag[idx].sum()),
                        "N": len(idx),
                    }
                )
    table = pd.DataFrame(rows, columns=COLUMNS)
    table["pct"] = percent(table["n"], table["N"])
    return table


def format_table(table: pd.DataFrame) -> str:
    """Plain-text table: endpoint, group, n/N (%)."""
    names = [
        g if g == "Overall" else f"{g}={lv}"
        for g, lv in zip(table["group"], table["level"], strict=True)
    ]
    width = max([28, *map(len, names)])
    ep = max([10, *map(len, table["endpoint"])])
    lines = [f"{'Endpoint':<{ep}} {'Group':<{width}} {'n/N':>7} {'%':>7}"]
    for r, group in zip(table.itertuples(index=False), names, strict=True):
        value = float(r.pct)  # type: ignore[arg-type]  # pandas-stubs: itertuples fields are Scalar
        pct = "" if np.isnan(value) else f"{value:>6.1f}%"
        lines.append(f"{r.endpoint:<{ep}} {group:<{width}} {f'{r.n}/{r.N}':>7} {pct:>7}")
    return "\n".join(lines)
