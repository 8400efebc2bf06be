"""A study's known-findings list: the reviewer's explanation of findings that are expected.

A known-findings CSV has columns ``rule_id``, ``dataset``, ``justification`` and optionally
``variable`` and ``value`` (more columns, e.g. ``count`` and ``citation``, are allowed). A
finding is explained by the row whose rule id equals its rule (or the CORE / P21 rule it
cites), whose dataset equals its dataset, and whose variable and value, when given, equal
its own; the most specific row wins.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from cdisc_umsc.core.errors import InputError

_NEEDED = ("rule_id", "dataset", "justification")


def load_known(paths: Iterable[str | os.PathLike[str]]) -> pd.DataFrame:
    """Rows rule_id, dataset, variable, value, justification of every file (in order)."""
    rows: list[dict[str, str]] = []
    for path in map(Path, paths):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: cannot read the known-findings list ({exc})") from None
        reader = csv.DictReader(text.splitlines())
        missing = [c for c in _NEEDED if c not in (reader.fieldnames or [])]
        if missing:
            raise InputError(f"{path}: row 1: known-findings columns {missing} are missing")
        for line, row in enumerate(reader, start=2):
            if not (row.get("rule_id") or "").strip() or not (row.get("dataset") or "").strip():
                raise InputError(f"{path}: row {line}: rule_id and dataset must be given")
            rows.append(
                {
                    "rule_id": row["rule_id"].strip(),
                    "dataset": row["dataset"].strip().upper(),
                    "variable": (row.get("variable") or "").strip(),
                    "value": (row.get("value") or "").strip(),
                    "justification": (row.get("justification") or "").strip(),
                }
            )
    return pd.DataFrame(rows, columns=["rule_id", "dataset", "variable", "value", "justification"])


def explanations(findings: pd.DataFrame, known: pd.DataFrame | None) -> pd.Series:
    """Per finding, the justification of the most specific matching known row ('' if none)."""
    out = pd.Series("", index=findings.index, dtype=object)
    if known is None or known.empty or findings.empty:
        return out
    # most specific first: rows with a value, then with a variable, then the rest
    order = np.lexsort(((known["variable"] == "").to_numpy(), (known["value"] == "").to_numpy()))
    for row in known.iloc[order[::-1]].itertuples(index=False):  # a list of reviewed rows
        ids = findings["rule"].eq(row.rule_id)
        cited = rf"(?:^|;){re.escape(row.rule_id)}(?:;|$)"
        for col in ("core_id", "p21_id"):
            ids |= findings[col].astype(str).str.contains(cited, regex=True)
        hit = ids & findings["dataset"].eq(row.dataset)
        if row.variable:
            hit &= findings["variable"].eq(row.variable)
        if row.value:
            hit &= findings["value"].eq(row.value)
        out[hit] = row.justification
    return out
