"""The result of a validation run: one row per finding, with writers and summaries."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from cdisc_umsc.core.atomic import write_text

#: Column order of every findings table (and of the CSV / JSON written from it).
COLUMNS = (
    "rule",
    "severity",
    "dataset",
    "usubjid",
    "seq",
    "row",
    "variable",
    "value",
    "message",
    "core_id",
    "p21_id",
    "citation",
    "standard",
)
SEVERITIES = ("error", "warning", "notice")
_TEXT = (
    "rule",
    "severity",
    "dataset",
    "usubjid",
    "variable",
    "value",
    "message",
    "core_id",
    "p21_id",
    "citation",
    "standard",
)


def empty_frame() -> pd.DataFrame:
    """A findings table with no rows and the right dtypes."""
    return conform(pd.DataFrame({c: [] for c in COLUMNS}))


def conform(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns in COLUMNS order; text as object ("" for none), seq float64, row Int64 (1-based)."""
    out = pd.DataFrame(index=pd.RangeIndex(len(frame)))
    for col in COLUMNS:
        values = frame[col].to_numpy() if col in frame.columns else np.full(len(frame), None)
        series = pd.Series(values, index=out.index)
        if col in _TEXT:
            out[col] = series.fillna("").astype(str).astype(object)
        elif col == "seq":
            out[col] = pd.to_numeric(series, errors="raise").astype("float64")
        else:
            out[col] = pd.to_numeric(series, errors="raise").astype("Int64")
    return out


def combine(parts: list[Findings]) -> Findings:
    """One Findings of several (e.g. the SDTM and ADaM parts of a run)."""
    frames = [f.frame for f in parts if len(f)]
    runs = [f.executed for f in parts if f.executed is not None]
    executed = None
    if runs:
        both = pd.concat(runs, ignore_index=True)
        agg = both.groupby("rule", sort=False).agg(
            {
                "severity": "first",
                "message": "first",
                "core_id": "first",
                "p21_id": "first",
                "citation": "first",
                "datasets": "sum",
                "findings": "sum",
            }
        )
        agg["status"] = np.where(
            agg["findings"] > 0, "fail", np.where(agg["datasets"] > 0, "pass", "not applicable")
        )
        executed = agg.reset_index()
    return Findings(pd.concat(frames, ignore_index=True) if frames else None, executed)


class Findings:
    """Validation findings: a DataFrame with columns COLUMNS, sorted deterministically."""

    def __init__(
        self, frame: pd.DataFrame | None = None, executed: pd.DataFrame | None = None
    ) -> None:
        #: The rules of the run and their status (see engine._executed); None when unknown.
        self.executed = executed
        frame = empty_frame() if frame is None else conform(frame)
        order = ["dataset", "rule", "row", "variable", "value", "message"]
        self.frame = frame.sort_values(order, kind="stable", na_position="first", ignore_index=True)

    def __len__(self) -> int:
        return len(self.frame)

    def __repr__(self) -> str:
        return f"Findings({self.summary().splitlines()[0]})"

    def rules(self) -> set[str]:
        """Ids of the rules that fired."""
        return set(self.frame["rule"])

    def of(self, rule: str) -> pd.DataFrame:
        """The findings of one rule."""
        return self.frame[self.frame["rule"] == rule].reset_index(drop=True)

    def counts(self) -> pd.DataFrame:
        """Findings per rule: columns rule, severity, count (sorted by rule, severity)."""
        if self.frame.empty:
            return pd.DataFrame(
                {
                    "rule": pd.Series([], dtype=object),
                    "severity": pd.Series([], dtype=object),
                    "count": pd.Series([], dtype="int64"),
                }
            )
        grouped = self.frame.groupby(["rule", "severity"], sort=True).size()
        return grouped.rename("count").reset_index().astype({"count": "int64"})

    def summary(self) -> str:
        """One header line with totals per severity, then one line per rule."""
        sev = self.frame["severity"].value_counts()
        head = f"{len(self)} findings: " + ", ".join(
            f"{int(sev.get(s, 0))} {s}{'s' if int(sev.get(s, 0)) != 1 else ''}" for s in SEVERITIES
        )
        rows = self.counts()
        lines = [
            f"  {r:<14} {s:<8} {n:>7}"
            for r, s, n in zip(rows["rule"], rows["severity"], rows["count"], strict=True)
        ]
        return "\n".join([head, *lines])

    def to_csv(self, path: str | Path) -> None:
        """Write the findings as UTF-8 CSV (LF line ends), atomically."""
        text = self.frame.to_csv(index=False, lineterminator="\n")
        write_text(Path(path), text)

    def to_records(self) -> list[dict]:
        """The findings as JSON-ready dicts (missing seq / row as None)."""
        frame = self.frame.astype(object)
        frame = frame.where(self.frame.notna(), None)
        return frame.to_dict("records")

    def to_json(self, path: str | Path) -> None:
        """Write {"summary": counts, "findings": [...]} as UTF-8 JSON, atomically."""
        counts = self.counts().to_dict("records")
        doc = {
            "summary": [
                {"rule": c["rule"], "severity": c["severity"], "count": int(c["count"])}
                for c in counts
            ],
            "findings": self.to_records(),
        }
        text = json.dumps(doc, ensure_ascii=False, indent=1, allow_nan=False) + "\n"
        write_text(Path(path), text)
