"""Compare two JSON findings reports: which findings are new, fixed or unchanged.

A finding is identified by rule, dataset, USUBJID, --SEQ, variable and value, never by row
number or message (records added before it shift rows; messages carry counts). Equal
identities are paired in order, so two identical findings before and one after give one
unchanged and one fixed.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from cdisc_umsc.core.errors import InputError
from cdisc_umsc.core.values import number_text
from cdisc_umsc.validate.findings import COLUMNS, Findings

IDENTITY = ("rule", "dataset", "usubjid", "seq", "variable", "value")


@dataclass(frozen=True)
class FindingsDiff:
    """Findings only in the new report, only in the old one, and in both (as in the new)."""

    new: Findings
    fixed: Findings
    unchanged: Findings

    def summary(self) -> str:
        """One line of counts, then the new and fixed findings one per line."""
        lines = [
            f"{len(self.new)} new, {len(self.fixed)} fixed, "
            f"{len(self.unchanged)} unchanged findings"
        ]
        for label, part in (("new", self.new), ("fixed", self.fixed)):
            f = part.frame
            seq = number_text(f["seq"])
            text = (
                f"  {label:<6}"
                + f["severity"]
                + " "
                + f["rule"]
                + " "
                + f["dataset"]
                + " "
                + f["usubjid"]
                + " "
                + seq.astype(str)
                + " "
                + f["variable"]
                + " '"
                + f["value"]
                + "': "
                + f["message"]
            )
            lines.extend(text.str.replace(r"(?<=\S)\s+", " ", regex=True).tolist())
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """JSON-ready {"new": [...], "fixed": [...], "unchanged": [...]}."""
        return {
            "new": self.new.to_records(),
            "fixed": self.fixed.to_records(),
            "unchanged": self.unchanged.to_records(),
        }


def load_findings(path: str | os.PathLike[str]) -> Findings:
    """The findings of a report written by ``Findings.to_json`` (``--report json``)."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: findings report not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not a readable JSON findings report ({exc})") from None
    records = doc.get("findings") if isinstance(doc, dict) else None
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise InputError(
            f'{path}: expected an object with a "findings" list of objects '
            "(a cdisc-umsc validate --report json file)"
        )
    frame = pd.DataFrame.from_records(records)
    missing = [c for c in COLUMNS if c not in frame.columns] if records else []
    if missing:
        raise InputError(f"{path}: findings lack the key(s) {', '.join(missing)}")
    try:
        return Findings(frame if records else None)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{path}: findings with malformed seq or row ({exc})") from None


def _keys(findings: Findings) -> pd.MultiIndex:
    """Identity of each finding plus its occurrence number among equal identities."""
    f = findings.frame
    key = pd.DataFrame(
        {c: f[c].astype(object).where(f[c].notna(), "").astype(str) for c in IDENTITY}
    )
    key["_n"] = key.groupby(list(IDENTITY), sort=False, dropna=False).cumcount().astype(str)
    return pd.MultiIndex.from_frame(key)


def diff_findings(old: Findings, new: Findings) -> FindingsDiff:
    """New, fixed and unchanged findings between two reports."""
    ka, kb = _keys(old), _keys(new)
    in_old, in_new = kb.isin(ka), ka.isin(kb)
    a, b = old.frame, new.frame
    return FindingsDiff(
        new=Findings(b.loc[~in_old]),
        fixed=Findings(a.loc[~in_new]),
        unchanged=Findings(b.loc[in_old]),
    )
