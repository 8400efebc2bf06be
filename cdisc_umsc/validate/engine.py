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


def _run(rule: Rule, check: catalogue.Check, ctx: Context) -> list[pd.DataFrame]:
    if rule.scope == "study":
        targets: list[tuple] = [()]
    else:
        targets = [
            (n, ctx.datasets[n], ctx.meta(n))
            for n in sorted(ctx.datasets)
            if _applies(rule, ctx, n)
        ]
    out = []
    for args in targets:
        try:
            out.extend(h for h in check(ctx, *args) if len(h))
        except UmscError:
            raise
        except Exception as exc:  # a defect in one check must still say where it happened
            where = f"dataset {args[0]}" if args else "the study"
            raise ValidationError(
                f"rule {rule.id} failed on {where}: {type(exc).__name__}: {exc}"
            ) from exc
    return out


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
    datasets: dict[str, pd.DataFrame], study: Study, *, profile: str = "submission"
) -> Findings:
    """Validate SDTM / ADaM datasets (keyed by name) against `study` and the bundled standards.

    Char columns hold text with "" for blank; Num columns float64 with NaN for missing.
    `profile` "development" downgrades the expected-variable warnings to notices.
    """
    rules = catalogue.rules()
    for r in rules:
        r.severity_for(profile)  # rejects an unknown profile before any work
    checks = all_checks()
    ctx = Context(datasets, study, profile)
    parts = []
    with run_scope():
        for r in rules:
            hits = _run(r, checks[r.id], ctx)
            if not hits:
                continue
            frame = pd.concat(hits, ignore_index=True)[list(HIT_COLUMNS)]
            parts.append(
                frame.assign(
                    rule=r.id,
                    severity=r.severity_for(profile),
                    core_id=r.core_id,
                    p21_id=r.p21_id,
                    citation=r.citation,
                    message=r.message + ": " + frame["message"].astype(str),
                )
            )
        if not parts:
            return Findings()
        allhits = pd.concat(parts, ignore_index=True)
        allhits["row"] = allhits["row"].astype("int64")
        return Findings(_subject_columns(ctx, allhits))
