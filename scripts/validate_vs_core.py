#!/usr/bin/env python
"""Compare cdisc-umsc's validator with the CDISC CORE harness on one SDTM folder.

usage: validate_vs_core.py DIR [--report CORE.json] [--encoding cp1252] [--doc FILE [--write]]

For every CORE rule id our catalogue cites, and every dataset CORE executed it on (status
"success" or "issue reported"), the records each engine flags are compared. A record is a
(dataset, row) pair; findings that name no record (a missing variable) count as row 0, i.e.
"the dataset". Our findings are narrowed to what the CORE rule covers (SCOPE) when one of our
rules cites several CORE rules. Every difference needs an entry in EXPLAIN.

With --doc the generated tables are compared with the ones between the markers in FILE
(exit 1 when they differ); --write replaces them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

EXECUTED = ("success", "issue reported")
BEGIN, END = "<!-- BEGIN GENERATED -->", "<!-- END GENERATED -->"
TIMEOUT_S = 900

#: CORE id -> (variable regex, message regex) our findings must match to count for that rule.
SCOPE = {
    "CORE-000138": (r"STDY$", ""),
    "CORE-000139": (r"ENDY$", ""),
    "CORE-000552": (r"STDY$", ""),
    "CORE-000553": (r"ENDY$", ""),
    "CORE-000529": (r"[^N]DY$", ""),
    "CORE-000354": (r"[^N]DY$", ""),
    "CORE-000711": (r"^RFSTDTC$", ""),
    "CORE-000718": (r"^(?!RF).*STDTC$", ""),
    "CORE-000542": ("", r"is null although|differs from"),
    "CORE-000863": ("", r"is null although"),
    "CORE-000732": ("", r"is populated but"),
}

#: (CORE id, dataset) -> why the engines differ there. Every difference must be explained.
EXPLAIN = {
    ("CORE-000732", "SC"): (
        "SCSTRESC holds '08' / '09' (education years with a leading zero) and SCSTRESN 8 / 9. "
        "CORE's numeric test rejects a leading zero, so it calls the result character; ours "
        "reads '09' as the number 9 (SDTMIG 3.4 4.5.1 asks that a numeric STRESC be copied to "
        "STRESN, which holds here). We do not report it."
    ),
}


class CompareError(Exception):
    """Bad input or a CORE run that failed."""


def core_home() -> Path:
    """The CORE harness folder: $CORE_HOME, default ~/.cache/core."""
    return Path(os.environ.get("CORE_HOME") or Path.home() / ".cache" / "core")


def run_core(folder: Path, home: Path | None = None) -> dict:
    """Run the CORE harness on `folder` and return its JSON report."""
    script = (home or core_home()) / "run_core.sh"
    if not script.is_file():
        raise CompareError(f"CORE harness not installed: {script} is missing")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "core.json"
        done = subprocess.run(
            ["bash", str(script), str(folder), "sdtmig", "3-4", "--json", str(out)],
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
            check=False,
        )
        if done.returncode != 0 or not out.is_file():
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            raise CompareError(f"CORE failed on {folder} (exit {done.returncode}): {tail[0]}")
        return json.loads(out.read_text(encoding="utf-8"))


def cited() -> dict[str, list[str]]:
    """CORE id -> our rule ids that cite it."""
    from cdisc_umsc.validate import catalogue

    out: dict[str, list[str]] = {}
    for rule in catalogue.rules():
        for cid in filter(None, rule.core_id.split(";")):
            out.setdefault(cid, []).append(rule.id)
    return out


def core_frame(report: dict, ids: set[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(status per CORE id and dataset, one row per CORE issue with its row; 0 = dataset)."""
    status, issues = [], []
    for rule in report.get("rules", []):
        if rule.get("id") not in ids:
            continue
        for res in rule.get("results") or []:
            if not isinstance(res, dict) or not res.get("dataset"):
                continue
            ds = str(res["dataset"]).upper()
            status.append((rule["id"], ds, res.get("executionStatus", "")))
            if res.get("executionStatus") == "issue reported":
                issues += [
                    (rule["id"], ds, int(e.get("row") or 0)) for e in res.get("errors") or []
                ]
    st = pd.DataFrame(status, columns=["core_id", "dataset", "status"])
    # a dataset CORE ran in several result blocks: any executed block makes it executed
    st["executed"] = st["status"].isin(EXECUTED)
    st = st.groupby(["core_id", "dataset"], as_index=False).agg(
        executed=("executed", "any"), status=("status", lambda s: "/".join(sorted(set(s))))
    )
    return st, pd.DataFrame(issues, columns=["core_id", "dataset", "row"]).drop_duplicates()


def our_frame(findings: pd.DataFrame, ids: dict[str, list[str]]) -> pd.DataFrame:
    """One row per (CORE id, dataset, row) our findings flag for that CORE rule."""
    parts = []
    for cid, rules in ids.items():
        f = findings[findings["rule"].isin(rules)]
        var_re, msg_re = SCOPE.get(cid, ("", ""))
        if var_re:
            f = f[f["variable"].str.contains(var_re, regex=True)]
        if msg_re:
            f = f[f["message"].str.contains(msg_re, regex=True)]
        parts.append(
            pd.DataFrame(
                {
                    "core_id": cid,
                    "dataset": f["dataset"].to_numpy(),
                    "row": f["row"].fillna(0).astype("int64").to_numpy(),
                }
            )
        )
    return pd.concat(parts, ignore_index=True).drop_duplicates()


def compare(report: dict, findings: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per CORE id summary, per CORE id and dataset differences with explanations)."""
    ids = cited()
    status, core = core_frame(report, set(ids))
    ours = our_frame(findings, ids)
    both = core.merge(ours, how="outer", indicator=True)
    both = both.merge(status, on=["core_id", "dataset"], how="left")
    both["executed"] = both["executed"].astype("boolean").fillna(False).astype(bool)
    cmp = both[both["executed"]]
    rows = []
    for cid in sorted(ids):
        st = status[status["core_id"] == cid]
        c = cmp[cmp["core_id"] == cid]
        rows.append(
            {
                "core_id": cid,
                "ours": ", ".join(ids[cid]),
                "executed": int(st["executed"].sum()),
                "not_executed": int((~st["executed"]).sum()),
                "core": int((c["_merge"] != "right_only").sum()),
                "umsc": int((c["_merge"] != "left_only").sum()),
                "agree": int((c["_merge"] == "both").sum()),
                "core_only": int((c["_merge"] == "left_only").sum()),
                "umsc_only": int((c["_merge"] == "right_only").sum()),
                "umsc_not_comparable": int(((both["core_id"] == cid) & ~both["executed"]).sum()),
            }
        )
    odd = cmp[cmp["_merge"] != "both"]
    odd = odd.assign(
        core_only=(odd["_merge"] == "left_only").astype("int64"),
        umsc_only=(odd["_merge"] == "right_only").astype("int64"),
    )
    diff = odd.groupby(["core_id", "dataset"], as_index=False)[["core_only", "umsc_only"]].sum()
    diff["explanation"] = [
        EXPLAIN.get((c, d), "") for c, d in zip(diff["core_id"], diff["dataset"], strict=True)
    ]
    return pd.DataFrame(rows), diff


def markdown(summary: pd.DataFrame, diff: pd.DataFrame) -> str:
    """The two generated tables of docs/validation-vs-core.md."""
    head = (
        "| CORE rule | our rule(s) | datasets CORE executed / not | CORE records | "
        "our records | agree | CORE only | ours only | ours where CORE did not run |\n"
        "|---|---|---|---|---|---|---|---|---|\n"
    )
    body = "".join(
        f"| {r.core_id} | {r.ours} | {r.executed} / {r.not_executed} | {r.core} | {r.umsc} | "
        f"{r.agree} | {r.core_only} | {r.umsc_only} | {r.umsc_not_comparable} |\n"
        for r in summary.itertuples()
    )
    total = summary[["core", "umsc", "agree", "core_only", "umsc_only"]].sum()
    body += (
        f"| **total** | | | {total['core']} | {total['umsc']} | {total['agree']} | "
        f"{total['core_only']} | {total['umsc_only']} | |\n"
    )
    dhead = "\n| CORE rule | dataset | CORE only | ours only | why |\n|---|---|---|---|---|\n"
    dbody = "".join(
        f"| {r.core_id} | {r.dataset} | {r.core_only} | {r.umsc_only} | "
        f"{r.explanation or 'UNEXPLAINED'} |\n"
        for r in diff.itertuples()
    )
    return head + body + dhead + (dbody or "| (none) | | | | |\n")


def our_findings(folder: Path, encoding: str) -> pd.DataFrame:
    """Our findings on `folder`, metadata from the bundled IG (as ``cdisc-umsc validate``)."""
    from cdisc_umsc.validate import study_from_ig, validate_study
    from cdisc_umsc.validate.folder import read_folder

    data = read_folder(folder, encoding=encoding)
    ids = [str(f["STUDYID"].iloc[0]) for f in data.frames.values() if "STUDYID" in f and len(f)]
    study = study_from_ig(data.frames, data.described, ids[0] if ids else "")
    return validate_study(data.frames, study).frame


def generated_block(text: str) -> str:
    """The text between the generated-table markers of a document."""
    if BEGIN not in text or END not in text:
        raise CompareError(f"document lacks the markers {BEGIN} / {END}")
    return text.split(BEGIN, 1)[1].split(END, 1)[0].strip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", type=Path)
    ap.add_argument("--report", type=Path, help="a saved CORE JSON report of the folder")
    ap.add_argument("--encoding", default="cp1252")
    ap.add_argument("--doc", type=Path)
    ap.add_argument("--write", action="store_true")
    a = ap.parse_args(argv)
    try:
        report = (
            json.loads(a.report.read_text(encoding="utf-8")) if a.report else run_core(a.folder)
        )
        summary, diff = compare(report, our_findings(a.folder, a.encoding))
        table = markdown(summary, diff)
        if a.doc is None:
            print(table, end="")
            return 0
        text = a.doc.read_text(encoding="utf-8")
        if a.write:
            before, rest = text.split(BEGIN, 1)
            a.doc.write_text(
                before + BEGIN + "\n" + table + END + rest.split(END, 1)[1], encoding="utf-8"
            )
            return 0
        if generated_block(text) != table:
            print(f"{a.doc}: the tables differ from a fresh comparison:\n{table}")
            return 1
        return 0
    except (CompareError, OSError, json.JSONDecodeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
