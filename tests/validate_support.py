"""Shared helpers of the validate unit tests: run one registered check on in-memory frames.

A check is called exactly as the engine calls it (``check(ctx, name, frame, meta)`` for a
dataset rule, ``check(ctx)`` for a study rule); its hits come back as tuples
(dataset, 0-based row or -1, variable, value, message).
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from cdisc_umsc.metadata.model import Dataset, Study
from cdisc_umsc.validate.catalogue import rule
from cdisc_umsc.validate.checks import checks
from cdisc_umsc.validate.context import Context
from cdisc_umsc.validate.igmeta import study_from_ig


def context(
    frames: dict[str, pd.DataFrame], study: Study | None = None, profile: str = "submission"
) -> Context:
    """A validation context over ``frames`` (IG metadata unless ``study`` is given)."""
    return Context(frames, study if study is not None else study_from_ig(frames), profile)


def hits(
    rule_id: str,
    frames: dict[str, pd.DataFrame],
    name: str | None = None,
    study: Study | None = None,
    ctx: Context | None = None,
) -> list[tuple]:
    """The hits of one check: on dataset ``name`` for a dataset rule, on the study else."""
    ctx = ctx if ctx is not None else context(frames, study)
    fn = checks()[rule_id]
    if rule(rule_id).scope == "study":
        parts = list(fn(ctx))
    else:
        assert name is not None, "a dataset rule needs the dataset name"
        key = name.upper()
        parts = list(fn(ctx, key, ctx.datasets[key], ctx.meta(key)))
    parts = [p for p in parts if len(p)]
    if not parts:
        return []
    table = pd.concat(parts, ignore_index=True)
    return [
        (d, int(r), v, val, m)
        for d, r, v, val, m in zip(
            table["dataset"],
            table["row"],
            table["variable"],
            table["value"],
            table["message"],
            strict=True,
        )
    ]


def rows(found: list[tuple]) -> list[int]:
    """The rows of the hits, in order."""
    return [h[1] for h in found]


def with_meta(study: Study, name: str, **changes: object) -> Study:
    """``study`` with dataset ``name``'s metadata changed."""
    meta: Dataset = study.datasets[name]
    return dataclasses.replace(
        study, datasets={**study.datasets, name: dataclasses.replace(meta, **changes)}
    )


def with_var(study: Study, name: str, variable: str, **changes: object) -> Study:
    """``study`` with one variable of dataset ``name`` changed."""
    meta = study.datasets[name]
    variables = tuple(
        dataclasses.replace(v, **changes) if v.name == variable else v for v in meta.variables
    )
    return with_meta(study, name, variables=variables)
