#!/usr/bin/env python
"""Run CDISC CORE on an SDTM output folder and compare its findings with a known-findings list.

usage: core_check.py OUTDIR_SDTM KNOWN_FINDINGS.csv [--report REPORT.json] [--core-home DIR]

A finding is a (CORE rule id, dataset) pair with the number of issues CORE reports for it. Every
finding must be in the known list with the same count; a listed finding CORE no longer reports
is stale. Exit 0 when report and list agree, 1 listing each difference, 2 on bad input.
Rules that CORE could not execute are printed as notes; they never pass or fail the check.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

COLUMNS = ("rule_id", "dataset", "variable", "count", "justification", "citation")
ISSUE = "issue reported"
ERROR = "execution error"
TIMEOUT_S = 900


class CoreCheckError(Exception):
    """Bad input: a known-findings file, a CORE report or the CORE harness itself."""


@dataclass(frozen=True)
class Known:
    """One justified finding of the known-findings list."""

    rule_id: str
    dataset: str
    variable: str
    count: int
    justification: str
    citation: str


@dataclass(frozen=True)
class Found:
    """One finding of a CORE report: issues of one rule in one dataset."""

    rule_id: str
    dataset: str
    count: int
    message: str
    variables: tuple[str, ...]


def core_home() -> Path:
    """The CORE harness folder: $CORE_HOME, default ~/.cache/core."""
    return Path(os.environ.get("CORE_HOME") or Path.home() / ".cache" / "core")


def load_known(path: Path) -> dict[tuple[str, str], Known]:
    """Read a known-findings CSV (COLUMNS, one row per rule id and dataset)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CoreCheckError(f"{path}: known-findings file not found") from None
    rows = list(csv.reader(text.splitlines()))
    if not rows or tuple(rows[0]) != COLUMNS:
        raise CoreCheckError(f"{path}: row 1: header must be {','.join(COLUMNS)}")
    known: dict[tuple[str, str], Known] = {}
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(COLUMNS):
            raise CoreCheckError(
                f"{path}: row {line}: expected {len(COLUMNS)} columns, got {len(row)}"
            )
        values = dict(zip(COLUMNS, (v.strip() for v in row), strict=True))
        for col in COLUMNS:
            if not values[col]:
                raise CoreCheckError(
                    f"{path}: row {line}, column {col}: empty (every finding needs all columns)"
                )
        if not values["count"].isdigit() or int(values["count"]) < 1:
            raise CoreCheckError(
                f"{path}: row {line}, column count: expected a positive "
                f"integer, got {values['count']!r}"
            )
        key = (values["rule_id"], values["dataset"])
        if key in known:
            raise CoreCheckError(
                f"{path}: row {line}: rule {key[0]} dataset {key[1]} is listed twice"
            )
        known[key] = Known(
            values["rule_id"],
            values["dataset"],
            values["variable"],
            int(values["count"]),
            values["justification"],
            values["citation"],
        )
    return known


def findings(report: dict) -> tuple[dict[tuple[str, str], Found], dict[str, str]]:
    """(findings by (rule id, dataset), execution errors by rule id) of a CORE JSON report."""
    if not isinstance(report, dict) or not isinstance(report.get("rules"), list):
        raise CoreCheckError("CORE report: expected a JSON object with a 'rules' list")
    found: dict[tuple[str, str], Found] = {}
    errors: dict[str, str] = {}
    for rule in report["rules"]:
        rid = str(rule.get("id"))
        for res in rule.get("results") or []:
            if not isinstance(res, dict):
                continue
            status = res.get("executionStatus")
            if status == ERROR:
                errors.setdefault(rid, str(res.get("message") or "")[:200])
            if status != ISSUE:
                continue
            dataset = str(res.get("dataset") or res.get("domain") or "?")
            n = len(res.get("errors") or [])
            prev = found.get((rid, dataset))
            count = n + (prev.count if prev else 0)
            found[(rid, dataset)] = Found(
                rid,
                dataset,
                count,
                str(res.get("message") or ""),
                tuple(str(v) for v in res.get("variables") or ()),
            )
    return found, errors


def compare(found: dict[tuple[str, str], Found], known: dict[tuple[str, str], Known]) -> list[str]:
    """One line per difference: unexplained, changed count, or stale known finding."""
    lines = []
    for key in sorted(found.keys() | known.keys()):
        f, k = found.get(key), known.get(key)
        if k is None:
            lines.append(
                f"UNEXPLAINED {key[0]} {key[1]}: {f.count} issue(s) "
                f"[{', '.join(f.variables)}] {f.message}"
            )
        elif f is None:
            lines.append(
                f"STALE {key[0]} {key[1]}: listed with count {k.count}, not reported by CORE"
            )
        elif f.count != k.count:
            lines.append(
                f"CHANGED {key[0]} {key[1]}: CORE reports {f.count}, known list "
                f"says {k.count} ({f.message})"
            )
    return lines


def run_core(sdtm_dir: Path, home: Path, report: Path) -> dict:
    """Run the CORE harness (SDTMIG 3.4) on ``sdtm_dir`` and return its JSON report."""
    script = Path(home) / "run_core.sh"
    if not script.is_file():
        raise CoreCheckError(f"{script}: CORE harness not found (set CORE_HOME)")
    if not Path(sdtm_dir).is_dir():
        raise CoreCheckError(f"{sdtm_dir}: SDTM output folder not found")
    env = {**os.environ, "CORE_HOME": str(home)}
    proc = subprocess.run(
        [
            "bash",
            str(script),
            str(Path(sdtm_dir).resolve()),
            "sdtmig",
            "3-4",
            "--json",
            str(Path(report).resolve()),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=TIMEOUT_S,
        check=False,
    )
    if proc.returncode != 0 or not Path(report).is_file():
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        raise CoreCheckError(f"{script}: exit {proc.returncode}: {tail[0]}")
    return read_report(report)


def read_report(path: Path) -> dict:
    """A CORE JSON report from a file."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise CoreCheckError(f"{path}: cannot read CORE report: {exc}") from None


def check(
    sdtm_dir: Path, known_csv: Path, report: Path | None = None, home: Path | None = None
) -> tuple[list[str], list[str]]:
    """(differences, notes) between CORE's findings on ``sdtm_dir`` and the known list."""
    known = load_known(known_csv)
    if report is not None:
        data = read_report(report)
    else:
        with tempfile.TemporaryDirectory(prefix="core_check.") as tmp:
            data = run_core(sdtm_dir, home or core_home(), Path(tmp) / "report.json")
    found, errors = findings(data)
    notes = [f"note: {rid} not executed: {msg}" for rid, msg in sorted(errors.items())]
    return compare(found, known), notes


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sdtm_dir", type=Path)
    ap.add_argument("known", type=Path)
    ap.add_argument("--report", type=Path, help="use this CORE JSON report instead of running CORE")
    ap.add_argument("--core-home", type=Path, default=None)
    a = ap.parse_args(argv)
    try:
        diffs, notes = check(a.sdtm_dir, a.known, a.report, a.core_home)
    except (CoreCheckError, subprocess.TimeoutExpired) as exc:
        print(f"core_check: error: {exc}", file=sys.stderr)
        return 2
    for line in notes:
        print(line)
    for line in diffs:
        print(line)
    if diffs:
        print(f"core_check: {len(diffs)} finding(s) not matching {a.known}")
        return 1
    print(f"core_check: every CORE finding is explained by {a.known}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
