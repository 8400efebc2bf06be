"""Dataset layout checks: variable order, dataset name and label against the IG, sort order."""

from __future__ import annotations

import bisect
from collections.abc import Iterator

import numpy as np
import pandas as pd

from cdisc_umsc.metadata import standards as S
from cdisc_umsc.metadata.model import Dataset
from cdisc_umsc.validate.catalogue import check
from cdisc_umsc.validate.context import Context, as_text

Hits = Iterator[pd.DataFrame]

#: SDTMIG 3.4 8.4.1: the label of SUPP-- for domain XX.
SUPP_LABEL = "Supplemental Qualifiers for {}"


# ----------------------------------------------------------------------- variable order


def _ordered_names(frame: pd.DataFrame, meta: Dataset | None) -> list[str]:
    """Variable names in metadata order (the data's column order without metadata)."""
    if meta is None:
        return list(frame.columns)
    return [v.name for v in sorted(meta.variables, key=lambda v: v.order)]


def _kept(positions: list[int]) -> set[int]:
    """Indexes of one longest increasing run of `positions` (the variables left in place)."""
    tails: list[int] = []  # IG position ending the best run of each length
    tail_at: list[int] = []  # index of that element
    back = [-1] * len(positions)
    for i, pos in enumerate(positions):
        k = bisect.bisect_left(tails, pos)
        back[i] = tail_at[k - 1] if k else -1
        if k == len(tails):
            tails.append(pos)
            tail_at.append(i)
        else:
            tails[k], tail_at[k] = pos, i
    kept, i = set(), tail_at[-1] if tail_at else -1
    while i >= 0:
        kept.add(i)
        i = back[i]
    return kept


@check("UMSC-SD0011")
def variable_order_matches_ig(
    ctx: Context, name: str, frame: pd.DataFrame, meta: Dataset | None
) -> Hits:
    """SDTMIG 3.4 domain tables: IG variables appear in the IG's order (others may sit anywhere).

    Reports the fewest variables whose moving restores the order (outside a longest run in
    IG order)."""
    ig = ctx.ig_rows(name)
    rank = dict(zip(ig["variable"], ig["order"].astype(int), strict=True))
    ordered = _ordered_names(frame, meta)
    names = [v for v in ordered if v in rank]
    positions = [rank[v] for v in names]
    kept = _kept(positions)
    for i, var in enumerate(names):
        if i in kept:
            continue
        later = next((v for v in names[:i] if rank[v] > rank[var]), None)
        where = (
            f"it follows {later}, which the IG places after it"
            if later
            else f"it precedes {next(v for v in names[i + 1 :] if rank[v] < rank[var])}, which the "
            "IG places before it"
        )
        yield ctx.note(
            name, var, str(ordered.index(var) + 1), f"{name}.{var} is out of IG order: {where}"
        )


# ----------------------------------------------------------------------- name and label


def _ig_domains(ctx: Context) -> set[str]:
    return set(S.ig_datasets("SDTMIG", ctx.sdtmig_version)["dataset"])


@check("UMSC-SD0012")
def dataset_name_matches_ig(
    ctx: Context, name: str, frame: pd.DataFrame, meta: Dataset | None
) -> Hits:
    """SDTMIG 3.4: a dataset is an IG domain, a split of one (4.1.7: domain + up to two
    characters) or SUPP-- of a dataset of the study (8.4.1); its DOMAIN values are its name's
    first two characters."""
    domains = _ig_domains(ctx)
    if name.startswith("SUPP"):
        parent = name[4:]
        if parent not in ctx.datasets and parent not in domains:
            yield ctx.note(
                name,
                "",
                name,
                f"{name} is SUPP-- of {parent or 'nothing'}, which "
                "is neither a dataset of the study nor an IG domain",
            )
        return
    if name not in domains and not (2 < len(name) <= 4 and name[:2] in domains):
        yield ctx.note(
            name,
            "",
            name,
            f"{name} is not an SDTMIG {ctx.sdtmig_version} domain "
            "or a split of one (a custom domain)",
        )
    if "DOMAIN" in frame.columns:
        codes, values = pd.factorize(as_text(frame["DOMAIN"]), use_na_sentinel=False)
        for code, value in enumerate(values):  # each distinct DOMAIN value, at its first record
            if value.strip() and value != name[:2]:
                yield ctx.note(
                    name,
                    "DOMAIN",
                    value,
                    f"dataset {name} holds DOMAIN '{value}' "
                    f"(expected '{name[:2]}', the first two characters of its name)",
                    row=int(np.argmax(codes == code)),
                )


@check("UMSC-SD0013")
def dataset_label_matches_ig(
    ctx: Context, name: str, frame: pd.DataFrame, meta: Dataset | None
) -> Hits:
    """The IG dataset label; SUPPXX: 'Supplemental Qualifiers for XX' (SDTMIG 3.4 8.4.1).
    Split datasets (QSCG) and datasets whose metadata has no label are not compared."""
    if meta is None or not meta.label.strip():
        return
    if name.startswith("SUPP"):
        expected = SUPP_LABEL.format(name[4:])
    else:
        table = S.ig_datasets("SDTMIG", ctx.sdtmig_version)
        hit = table.loc[table["dataset"] == name, "label"]
        if not len(hit):
            return
        expected = str(hit.iloc[0])
    if meta.label != expected:
        yield ctx.note(
            name, "", meta.label, f"{name} label {meta.label!r}; the IG says {expected!r}"
        )


# ----------------------------------------------------------------------- sort order


def _sort_codes(series: pd.Series) -> np.ndarray:
    """Rank of each value in sort order: missing / blank first, numbers numerically, text by
    code point (the byte order of UTF-8)."""
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        values = pd.to_numeric(series, errors="coerce").astype("float64")
    else:
        values = as_text(series).astype(object)
    codes, _ = pd.factorize(values, sort=True, use_na_sentinel=True)
    return codes  # NaN -> -1, before every value


@check("UMSC-SD0014")
def sorted_by_keys(ctx: Context, name: str, frame: pd.DataFrame, meta: Dataset | None) -> Hits:
    """Define-XML 2.1 KeySequence / SDTMIG 3.4 3.2.1.1: records are in the order of the keys.
    Names the first record that sorts before the one above it."""
    if meta is None or not meta.keys or len(frame) < 2:
        return
    keys = list(meta.keys)
    if any(k not in frame.columns for k in keys):
        return  # reported by UMSC-SD0010
    diffs = np.column_stack([np.diff(_sort_codes(frame[k])) for k in keys])
    changed = diffs != 0
    first = changed.argmax(axis=1)
    decides = diffs[np.arange(len(diffs)), first]
    down = np.flatnonzero(changed.any(axis=1) & (decides < 0))
    if not len(down):
        return
    row, key = int(down[0]) + 1, keys[int(first[down[0]])]
    values = ", ".join(f"{k}={as_text(frame[k].iloc[[row]]).iloc[0]}" for k in keys)
    yield ctx.note(
        name,
        key,
        as_text(frame[key].iloc[[row]]).iloc[0],
        f"record {row + 1} ({values}) sorts before record {row} by the keys "
        f"{', '.join(keys)} ({len(down)} such place(s) in {name})",
        row=row,
    )
