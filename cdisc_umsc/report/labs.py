"""Laboratory panels from ADaM: per parameter, baseline and last-visit medians and the median
change, for all subjects and by responder status of one endpoint (the ADaM spec's ``review:``
block names the parameters and the endpoint)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from cdisc_umsc.core.errors import InputError


def responders(bds: pd.DataFrame, paramcd: str, crit: int, name: str = "BDS") -> pd.Series:
    """USUBJID -> True/False: responder by CRITy on the primary analysis record of
    ``paramcd``."""
    flag = f"CRIT{int(crit)}FL"
    if flag not in bds.columns or "ANL01FL" not in bds.columns:
        raise InputError(f"{name}: no {flag} on ANL01FL records: no responders to split by")
    anl = bds[(bds["ANL01FL"] == "Y") & (bds["PARAMCD"] == paramcd)]
    return (anl.set_index("USUBJID")[flag] == "Y").rename("responder")


#: the variables a laboratory panel reads (:func:`paired`, :func:`lab_table`)
PANEL_VARIABLES = ("USUBJID", "PARAMCD", "PARAM", "AVAL", "ABLFL", "ADT", "TRTSDT")


def paired(lab: pd.DataFrame, tests: Sequence[str], resp: pd.Series | None) -> pd.DataFrame:
    """Per subject and parameter: baseline (ABLFL = Y) and last post-baseline value
    (ADT > TRTSDT), with responder status (False where the subject has none)."""
    need = PANEL_VARIABLES
    missing = [c for c in need if c not in lab.columns]
    if missing:
        raise InputError(f"lab panel: variable {missing[0]} is missing; it needs {', '.join(need)}")
    data = lab.loc[lab["PARAMCD"].isin(list(tests)) & lab["AVAL"].notna(), list(need)]
    base = data[data["ABLFL"] == "Y"].set_index(["USUBJID", "PARAMCD"])["AVAL"]
    post = data[data["ADT"] > data["TRTSDT"]].sort_values(["USUBJID", "PARAMCD", "ADT"])
    last = post.groupby(["USUBJID", "PARAMCD"])["AVAL"].last()
    both = pd.DataFrame({"baseline": base, "last": last}).dropna().reset_index()
    both["change"] = both["last"] - both["baseline"]
    status = both["USUBJID"].map(resp) if resp is not None else pd.Series(False, index=both.index)
    both["responder"] = status.fillna(False).astype(bool)
    params = data.drop_duplicates("PARAMCD").set_index("PARAMCD")["PARAM"]
    both["PARAM"] = both["PARAMCD"].map(params)
    return both.sort_values(["PARAMCD", "USUBJID"], ignore_index=True)


def lab_table(
    lab: pd.DataFrame,
    tests: Sequence[str],
    resp: pd.Series | None,
    name: str = "BDS",
    pairs: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Rows per parameter and group (All, and Responders / Non-responders when ``resp`` is
    given): N, medians at baseline and last visit, median change (``pairs``: those
    :func:`paired` gives, when already computed). A parameter the dataset does not have is
    an error."""
    have = set(lab["PARAMCD"].astype(str).unique())
    for test in tests:
        if test not in have:
            raise InputError(
                f"{name}: {test} is not a parameter of the dataset (parameters: "
                f"{', '.join(sorted(have))})"
            )
    both = paired(lab, tests, resp) if pairs is None else pairs
    groups: list[tuple[str, bool | None]] = [("All", None)]
    if resp is not None:
        groups += [("Responders", True), ("Non-responders", False)]
    rows = []
    for test in tests:  # a handful of parameters, each vectorised
        sub = both[both["PARAMCD"] == test]
        for group, want in groups:
            g = sub if want is None else sub[sub["responder"] == want]
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
    table = pd.DataFrame(
        rows, columns=["paramcd", "group", "N", "baseline_median", "last_median", "change_median"]
    )
    for col in ("baseline_median", "last_median", "change_median"):
        table[col] = without_binary_noise(table[col])
    return table


#: significant digits a reported figure keeps: a double holds 15-17, so the digits past 12
#: are the remainder of binary arithmetic (60.8 + 61.0) / 2 = 60.900000000000006, not data
FIGURE_DIGITS = 12


def without_binary_noise(values: pd.Series) -> pd.Series:
    """Each figure rounded to :data:`FIGURE_DIGITS` significant digits (NaN kept), so a
    median or a change written to CSV or JSON reads as the decimal it stands for (-4.7, not
    -4.699999999999999)."""
    rounded = [float(f"{v:.{FIGURE_DIGITS}g}") for v in values.astype("float64").tolist()]
    return pd.Series(rounded, index=values.index, dtype="float64")


def format_lab_table(table: pd.DataFrame) -> str:
    lines = [f"{'Test':<9} {'Group':<15} {'N':>3} {'Baseline':>9} {'Last':>9} {'Change':>9}"]
    for r in table.itertuples(index=False):
        lines.append(
            f"{r.paramcd:<9} {r.group:<15} {r.N:>3} {r.baseline_median:>9.2f} "
            f"{r.last_median:>9.2f} {r.change_median:>+9.2f}"
        )
    return "\n".join(lines)
