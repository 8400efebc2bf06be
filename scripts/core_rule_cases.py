"""Find records that break and pass each declared rule (bundled CORE rules, P21 rules).

Usage: .venv/bin/python scripts/core_rule_cases.py [--write]

For every rule of cdisc_umsc.validate.core_rules and .p21_rules, candidate values
are drawn for the variables it reads (its literals and their neighbours, blanks, dates of
several precisions, long text),
combinations are evaluated by the engine, and the first breaking and the first passing record
are kept. The result, tests/data/core_rule_cases.json, is what tests/test_validate_core_rules.py
runs every rule on: a rule must fire on its breaking record and stay silent on its passing one,
so a change in any operator's meaning fails a test. Rules for which no such pair is found are
listed (and fail the test) until a case is written for them.
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cdisc_umsc.metadata import standards as S  # noqa: E402
from cdisc_umsc.validate import core_rules as C  # noqa: E402
from cdisc_umsc.validate import p21_rules as P  # noqa: E402

OUT = REPO / "tests" / "data" / "core_rule_cases.json"
#: A dataset standing for each class when a rule names no domain.
BY_CLASS = {
    "FINDINGS": "LB",
    "FINDINGS ABOUT": "FA",
    "EVENTS": "AE",
    "INTERVENTIONS": "CM",
    "SPECIAL PURPOSE": "DM",
    "TRIAL DESIGN": "TS",
    "RELATIONSHIP": "SUPPAE",
}
TRIES = 20000
BASE_TEXT = [
    "", "Y", "N", "X", "A1", "a", "2020-01-01", "2020-01-02", "2020-01", "2020", "2021",
    "2020-01-01T10:30", "2019-12-31T23:59", "L" * 45,
]  # fmt: skip
SAMPLE = 6
BASE_NUM = [np.nan, 0.0, 1.0, 2.0, -1.0, 0.5]


def dataset_for(rule: dict) -> str:
    include = [d for d in (rule.get("domains") or {}).get("Include") or ["ALL"] if d != "ALL"]
    exclude = set((rule.get("domains") or {}).get("Exclude") or [])
    if include:
        name = include[0]
        return {"SUPP--": "SUPPAE", "AP--": "APDM"}.get(name, name)
    classes = [c for c in (rule.get("classes") or {}).get("Include") or ["ALL"] if c != "ALL"]
    for cls in classes or ["FINDINGS"]:
        name = BY_CLASS.get(cls, "LB")
        if name not in exclude and name[:2] not in exclude:
            return name
    return "AE" if "LB" in exclude else "LB"


def _numeric(dataset: str, var: str) -> bool:
    table = "SUPPQUAL" if dataset.startswith("SUPP") else dataset
    row = S.ig_variable("SDTMIG", "3.4", table, var)
    if row is None:
        row = S.ig_variable("SDTMIG", "3.4", table[:2], var)
    return bool(row) and row["type"] == "Num"


def _neighbours(value: object) -> list[object]:
    if isinstance(value, bool) or value is None:
        return []
    if isinstance(value, int | float):
        return [float(value), float(value) - 1, float(value) + 1]
    if isinstance(value, list):
        return [v for item in value for v in _neighbours(item)][:12]
    text = str(value)
    return [text, text + "X", text.lower(), text[:-1] if len(text) > 1 else "Z", "X" * 201]


def candidates(rule: dict, dataset: str) -> dict[str, list[object]]:
    prefix = C._prefix(None, dataset, pd.DataFrame())  # type: ignore[arg-type]
    data = C._Data(pd.DataFrame(), prefix)
    found: dict[str, list[object]] = {}
    for leaf in C._leaves(rule["conditions"]):
        value = leaf.get("value") or {}
        target = str(data.name(value.get("target")))
        found.setdefault(target, [])
        comp = value.get("comparator")
        for name in comp if isinstance(comp, list) else [comp]:
            if (
                not value.get("value_is_literal")
                and isinstance(name, str)
                and re.fullmatch(r"(--)?[A-Z][A-Z0-9]{1,7}", name)
            ):
                found.setdefault(str(data.name(name)), [])
        found[target] += _neighbours(comp)
        if "regex" in leaf["operator"] and isinstance(comp, str):
            found[target] += re.findall(r"[A-Z0-9]{2,}", comp)[:12]
        if leaf["operator"].startswith(("prefix", "suffix")):
            size = int(value.get("prefix") or value.get("suffix") or 1)
            found[target] += [str(c) + "REST" for c in _neighbours(comp)] + ["Q" * size]
    out = {}
    for var, values in found.items():
        if _numeric(dataset, var):
            nums = [v for v in values if isinstance(v, float)]
            nums += [float(v) for v in values if isinstance(v, str) and _number(v)]
            out[var] = list(dict.fromkeys(BASE_NUM + nums))
        else:
            texts = [str(v) if not isinstance(v, float) else f"{v:g}" for v in values]
            out[var] = list(dict.fromkeys(BASE_TEXT + texts))
    return out


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _frame(dataset: str, columns: dict[str, list[object]], rng, n: int) -> pd.DataFrame:
    data: dict[str, object] = {"DOMAIN": dataset[:2] if not dataset.startswith("SUPP") else ""}
    for var, values in columns.items():
        picks = rng.integers(0, len(values), n)
        col = np.array(values, dtype=object)[picks]
        data[var] = (
            col.astype("float64") if all(isinstance(v, float) for v in values) else col.astype(str)
        )
    return pd.DataFrame(data)


def _clean(frame: pd.DataFrame, keep: list[str]) -> list[dict]:
    rows = frame[[c for c in frame.columns if c in keep or c == "DOMAIN"]].astype(object)
    rows = rows.where(rows.notna(), None)
    return rows.to_dict("records")


def case(rule: dict, seed: int = 0) -> dict | None:
    """{dataset, samples: [{records, fires}]} for one rule: small sets of records, with the
    rows the rule fires on, that together hold a breaking and a passing record; or None."""
    from cdisc_umsc.validate import study_from_ig
    from cdisc_umsc.validate.context import Context

    dataset = dataset_for(rule)
    columns = candidates(rule, dataset)
    prefix = C._prefix(None, dataset, pd.DataFrame())  # type: ignore[arg-type]
    _, optional_set = C.targets(rule, prefix)
    optional = sorted(optional_set)[:4]
    rng = np.random.default_rng(seed)
    full = _frame(dataset, columns, rng, TRIES)
    version = C.DEFAULT_VERSION if C.DEFAULT_VERSION in rule["versions"] else rule["versions"][-1]
    study = study_from_ig({dataset: full}, study_id="S1", ig_version=version)
    ctx = Context({dataset: full}, study, "submission")
    if not C.in_scope(rule, ctx, dataset):
        return None
    firing, silent = None, None
    for keep in itertools.product((True, False), repeat=len(optional)):
        drop = [v for v, k in zip(optional, keep, strict=True) if not k]
        frame = full.drop(columns=drop)
        mask = C.evaluate(rule["conditions"], C._Data(frame, prefix))
        hit_rows, quiet_rows = np.flatnonzero(mask), np.flatnonzero(~mask)
        for _ in range(200):
            picks = [rng.choice(r) for r in (hit_rows, quiet_rows) if len(r)]
            rest = rng.choice(len(frame), SAMPLE - 2 - len(picks), replace=False)
            rows = np.concatenate([picks, rest]).astype(int)
            rows = np.concatenate([rows, rows[:2]])  # repeats, for the uniqueness operators
            sample = frame.iloc[rows].reset_index(drop=True)
            hit = C.evaluate(rule["conditions"], C._Data(sample, prefix))
            fires = np.flatnonzero(hit).tolist()
            entry = {"records": _clean(sample, list(columns)), "fires": fires}
            if 0 < len(fires) < SAMPLE:
                return {"dataset": dataset, "version": version, "samples": [entry]}
            if fires and firing is None:
                firing = entry
            if not fires and silent is None:
                silent = entry
        if firing and silent:
            return {"dataset": dataset, "version": version, "samples": [firing, silent]}
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"write {OUT.relative_to(REPO)}")
    args = parser.parse_args(argv)
    cases, missing = {}, []
    for rule, entry in (*C.registered_rules(), *P.declared()):
        found = case(rule)
        if found is None:
            missing.append(rule["core_id"])
        else:
            cases[entry.id] = found
    print(f"{len(cases)} rules with a breaking and a passing record; without: {missing}")
    if args.write:
        OUT.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(cases, indent=1, sort_keys=True, ensure_ascii=True) + "\n"
        OUT.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
