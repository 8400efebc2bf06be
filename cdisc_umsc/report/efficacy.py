"""The efficacy table, computed from ADaM only: responders n/N and % per endpoint and group.

An endpoint is a (PARAMCD, CRITy) pair found in the BDS data; the analysis records are those
with ANL01FL = "Y" in the population named by ``population`` (a Y/N flag carried on the records).
"""

from __future__ import annotations

import re

import pandas as pd

CRIT = re.compile(r"^CRIT(\d+)$")


def endpoints(bds: pd.DataFrame) -> list[tuple[str, str, str]]:
    """(PARAMCD, CRITy variable, CRITy text) for every criterion present on analysis records."""
    found = []
    analysis = bds[bds["ANL01FL"] == "Y"]
    for col in bds.columns:
        if not CRIT.match(col):
            continue
        texts = analysis.loc[analysis[col] != "", ["PARAMCD", col]].drop_duplicates()
        for paramcd, text in texts.itertuples(index=False):
            found.append((str(paramcd), col, str(text)))
    return sorted(found, key=lambda e: (e[0], int(e[1].removeprefix("CRIT"))))  # CRITy: y


def efficacy_table(
    bds: pd.DataFrame, by: tuple[str, ...] = ("SEX", "ARM"), population: str = "FASFL"
) -> pd.DataFrame:
    """One row per endpoint and group: n responders, N analysed, percent."""
    analysis = bds[(bds["ANL01FL"] == "Y") & (bds[population] == "Y")]
    rows = []
    for paramcd, crit, text in endpoints(bds):
        recs = analysis[analysis["PARAMCD"] == paramcd]
        flag = recs[f"{crit}FL"] == "Y"
        label = text.split(":")[0]
        rows.append(
            {
                "endpoint": label,
                "criterion": text,
                "paramcd": paramcd,
                "group": "Overall",
                "level": "",
                "n": int(flag.sum()),
                "N": len(recs),
            }
        )
        for var in by:
            for level, idx in recs.groupby(var, sort=True).groups.items():
                rows.append(
                    {
                        "endpoint": label,
                        "criterion": text,
                        "paramcd": paramcd,
                        "group": var,
                        "level": str(level),
                        "n": int(flag[idx].sum()),
                        "N": len(idx),
                    }
                )
    table = pd.DataFrame(
        rows, columns=["endpoint", "criterion", "paramcd", "group", "level", "n", "N"]
    )
    table["pct"] = (100 * table["n"] / table["N"]).round(1)
    return table


def format_table(table: pd.DataFrame, groups: tuple[str, ...] = ("Overall", "SEX")) -> str:
    """Plain-text table: endpoint, group, n/N (%)."""
    shown = table[table["group"].isin(groups)]
    names = [
        g if g == "Overall" else f"{g}={lv}"
        for g, lv in zip(shown["group"], shown["level"], strict=True)
    ]
    width = max([28, *map(len, names)])
    lines = [f"{'Endpoint':<10} {'Group':<{width}} {'n/N':>7} {'%':>7}"]
    for r, group in zip(shown.itertuples(index=False), names, strict=True):
        lines.append(f"{r.endpoint:<10} {group:<{width}} {f'{r.n}/{r.N}':>7} {r.pct:>6.1f}%")
    return "\n".join(lines)
