"""The immunology table from ADaM: per test, baseline and last-visit medians and median change,
for PASI responders and non-responders (responder status from the ADQS primary analysis)."""

from __future__ import annotations

import pandas as pd


def responders(adqs: pd.DataFrame, paramcd: str = "PASITOT", crit: str = "CRIT1FL") -> pd.Series:
    """USUBJID -> True/False responder on the primary analysis record."""
    anl = adqs[(adqs["ANL01FL"] == "Y") & (adqs["PARAMCD"] == paramcd)]
    return (anl.set_index("USUBJID")[crit] == "Y").rename("responder")


def immunology_table(adlb: pd.DataFrame, adqs: pd.DataFrame, tests: list[str]) -> pd.DataFrame:
    """Rows per test and group (All, Responders, Non-responders): N, medians and median change."""
    resp = responders(adqs)
    data = adlb[adlb["PARAMCD"].isin(tests) & adlb["AVAL"].notna()]
    base = data[data["ABLFL"] == "Y"].set_index(["USUBJID", "PARAMCD"])["AVAL"]
    post = data[data["ADT"] > data["TRTSDT"]].sort_values(["USUBJID", "PARAMCD", "ADT"])
    last = post.groupby(["USUBJID", "PARAMCD"])["AVAL"].last()
    both = pd.DataFrame({"baseline": base, "last": last}).dropna().reset_index()
    both["change"] = both["last"] - both["baseline"]
    both["responder"] = both["USUBJID"].map(resp).fillna(False).astype(bool)
    rows = []
    for test in tests:
        sub = both[both["PARAMCD"] == test]
        for group, sel in (
            ("All", sub.index == sub.index),
            ("Responders", sub["responder"]),
            ("Non-responders", ~sub["responder"]),
        ):
            g = sub[sel]
            rows.append(
                {
                    "paramcd": test,
                    "group": group,
                    "N": len(g),
                    "baseline_median": g["baseline"].median(),
                    "last_median": g["last"].median(),
                    "change_median": g["change"].median(),
                }
            )
    return pd.DataFrame(rows)


def format_immunology(table: pd.DataFrame) -> str:
    lines = [f"{'Test':<9} {'Group':<15} {'N':>3} {'Baseline':>9} {'Last':>9} {'Change':>9}"]
    for r in table.itertuples(index=False):
        lines.append(
            f"{r.paramcd:<9} {r.group:<15} {r.N:>3} {r.baseline_median:>9.2f} "
            f"{r.last_median:>9.2f} {r.change_median:>+9.2f}"
        )
    return "\n".join(lines)
