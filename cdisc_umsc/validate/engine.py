"""Run every catalogue rule over a study's datasets and collect the findings."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdisc_umsc.core.errors import UmscError
from cdisc_umsc.metadata.model import Study
from cdisc_umsc.validate import catalogue
from cdisc_umsc.validate.catalogue import Rule
from cdisc_umsc.validate.checks import checks as all_checks
from cdisc_umsc.validate.context import HIT_COLUMNS, Context, as_text, run_scope
from cdisc_umsc.validate.findings import Findings


class ValidationError(UmscError):
    """A check that could not run (names the rule and dataset)."""


def _applies(rule: Rule, ctx: Context, name: str) -> bool:
    if rule.applies == "any":
        return True
    return ctx.is_adam(name) == (rule.applies == "adam")


def _run(rule: Rule, check: catalogue.Check, ctx: Context) -> tuple[list[pd.DataFrame], int]:
    """(hit tables, number of datasets the rule was run on; 1 for a study rule)."""
    if rule.scope == "study":
        targets: list[tuple] = [()]
    else:
        targets = [
            (n, ctx.datasets[n], ctx.meta(n))
            for n in sorted(ctx.datasets)
            if _applies(rule, ctx, n)
        ]
    out = []
    ran = 0
    for args in targets:
        if args and not ctx.rule_applies(rule.id, args[0]):
            continue
        ran += 1
        try:
            out.extend(h for h in check(ctx, *args) if len(h))
        except UmscError:
            raise
        except Exception as exc:  # a defect in one check must still say where it happened
            where = f"dataset {args[0]}" if args else "the study"
            raise ValidationError(
                f"rule {rule.id} failed on {where}: {type(exc).__name__}: {exc}"
            ) from exc
    return out, ran


def _subject_columns(ctx: Context, hits: pd.DataFrame) -> pd.DataFrame:
    """Add usubjid and seq of the record each hit points at (blank / NaN otherwise)."""
    usubjid = np.full(len(hits), "", dtype=object)
    seq = np.full(len(hits), np.nan)
    rows = hits["row"].to_numpy()
    for name in hits["dataset"].unique():
        frame = ctx.datasets.get(name)
        sel = (hits["dataset"] == name).to_numpy() & (rows >= 0)
        if frame is None or not sel.any():
            continue
        if "USUBJID" in frame.columns:
            usubjid[sel] = as_text(frame["USUBJID"]).to_numpy()[rows[sel]]
        seq_var = ctx.seq_var(name)
        if seq_var is not None:
            values = pd.to_numeric(frame[seq_var], errors="coerce").to_numpy(dtype="float64")
            seq[sel] = values[rows[sel]]
    row = pd.Series(rows + 1, index=hits.index).astype("Int64").mask(rows < 0)
    return hits.assign(usubjid=usubjid, seq=seq, row=row)


def validate_study(
    datasets: dict[str, pd.DataFrame],
    study: Study,
    *,
    profile: str = "submission",
    read_issues: pd.DataFrame | None = None,
) -> Findings:
    """Validate SDTM / ADaM datasets (keyed by name) against `study` and the bundled standards.

    Char columns hold text with "" for blank; Num columns float64 with NaN for missing.
    `profile` "development" downgrades the expected-variable warnings to notices.
    `read_issues` are the problems met reading the files (``Folder.read_issues()``).
    """
    rules = catalogue.rules()
    for r in rules:
        r.severity_for(profile)  # rejects an unknown profile before any work
    checks = all_checks()
    ctx = Context(datasets, study, profile, read_issues)
    parts = []
    executed = []
    with run_scope():
        for r in rules:
            hits, ran = _run(r, checks[r.id], ctx)
            skipped = ctx.skipped.get(r.id, 0)
            executed.append((r, ran - skipped, sum(len(h) for h in hits)))
            if not hits:
                continue
            frame = pd.concat(hits, ignore_index=True)[list(HIT_COLUMNS)]
            terminology = r.id.startswith("UMSC-CT")
            judged = {d: ctx.judged_by(d, terminology) for d in frame["dataset"].unique()}
            parts.append(
                frame.assign(
                    standard=frame["dataset"].map(judged),
                    rule=r.id,
                    severity=_severity(r, ctx, profile),
                    core_id=r.core_id,
                    p21_id=r.p21_id,
                    citation=r.citation,
                    message=r.message + ": " + frame["message"].astype(str),
                )
            )
        table = _executed(executed, profile)
        if not parts:
            return Findings(executed=table)
        allhits = pd.concat(parts, ignore_index=True)
        allhits["row"] = allhits["row"].astype("int64")
        return Findings(_subject_columns(ctx, allhits), executed=table)


#: Rules whose errors depend on the CT release: judged by another release than the study
#: declares, a value outside a codelist may be a term of the declared release.
_CT_ERRORS = frozenset({"UMSC-CT0001"})


def _severity(rule: Rule, ctx: Context, profile: str) -> str:
    """The rule's severity; a CT error is a warning when the declared SDTM CT release is not
    bundled and another judged it (UMSC-CT0005 names both once)."""
    severity = rule.severity_for(profile)
    if rule.id in _CT_ERRORS and severity == "error" and ctx.ct_substituted:
        return "warning"
    return severity


def _executed(executed: list[tuple[Rule, int, int]], profile: str) -> pd.DataFrame:
    """Every rule of the run: id, severity, message, CORE / P21 ids, datasets checked,
    findings, status (fail: findings; pass: checked without findings; not applicable)."""
    return pd.DataFrame(
        {
            "rule": [r.id for r, _, _ in executed],
            "severity": [r.severity_for(profile) for r, _, _ in executed],
            "message": [r.message for r, _, _ in executed],
            "core_id": [r.core_id for r, _, _ in executed],
            "p21_id": [r.p21_id for r, _, _ in executed],
            "citation": [r.citation for r, _, _ in executed],
            "datasets": [max(n, 0) for _, n, _ in executed],
            "findings": [k for _, _, k in executed],
            "status": [
                "fail" if k else ("pass" if n > 0 else "not applicable") for _, n, k in executed
            ],
        }
    )
