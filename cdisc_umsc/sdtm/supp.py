"""SUPP-- datasets (SDTMIG 3.4 section 8.4): non-standard variables, and text over 200 characters.

SDTMIG 4.5.3.2: a value longer than 200 characters keeps its first 200 characters in the parent
variable; each further 200 characters go to SUPP-- with QNAM = the variable name (up to 7
characters) plus 1, 2, ... Text is split between words where a space allows it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdisc_umsc.sdtm.context import Build, Context

LIMIT = 200


def split_text(values: pd.Series, limit: int = LIMIT) -> list[pd.Series]:
    """Chunks of at most ``limit`` bytes, split at the last space inside the limit if any."""
    chunks: list[pd.Series] = []
    rest = values.fillna("").astype(str)
    while not chunks or (rest != "").any():
        long = rest.str.encode("utf-8").str.len() > limit
        head = rest.str.slice(0, limit)
        cut = head.str.rfind(" ")
        use_space = long & (cut > 0)
        first = head.where(~use_space, [h[:c] for h, c in zip(head, cut, strict=True)])
        first = first.where(long, rest)
        chunks.append(first)
        lens = first.str.len()
        remainder = pd.Series([r[n:] for r, n in zip(rest, lens, strict=True)], index=rest.index)
        rest = remainder.str.lstrip(" ").where(long, "")
        if not (rest != "").any():
            break
    return chunks


def split_long_text(ctx: Context, b: Build) -> dict[str, tuple[str, pd.Series]]:
    """Cut every character variable of ``b`` over 200 bytes; return the overflow for SUPP--."""
    overflow: dict[str, tuple[str, pd.Series]] = {}
    for var in b.out.columns:
        col = b.out[var]
        if col.dtype != object:
            continue
        # byte length per distinct value (values repeat across records), spread back by code
        codes, uniq = pd.factorize(col.astype(str))
        size = pd.Series(uniq, dtype=object).str.encode("utf-8").str.len().to_numpy()
        too_long = pd.Series(size[codes] > LIMIT if len(uniq) else False, index=col.index)
        if not too_long.any():
            continue
        chunks = split_text(col[too_long])
        b.out.loc[too_long, var] = chunks[0]
        for i, chunk in enumerate(chunks[1:], start=1):
            qnam = f"{var[:7]}{i}"
            overflow[qnam] = (var, chunk.reindex(col.index).fillna("").astype(object))
    return overflow


def build_supp(ctx: Context, b: Build, labels: dict[str, str]) -> pd.DataFrame | None:
    """SUPP-- records for one parent domain, or None when it has none."""
    domain = b.spec.name
    overflow = split_long_text(ctx, b)
    values = dict(b.supp)
    qlabels = {q: str(b.spec.supp[q].get("label", q)) for q in (b.spec.supp or {})}
    origins = {q: str(b.spec.supp[q].get("origin", "Collected")) for q in (b.spec.supp or {})}
    for qnam, (parent, chunk) in overflow.items():
        values[qnam] = chunk
        qlabels[qnam] = f"{labels.get(parent, parent)[:38]} {qnam[-1]}"
        origins[qnam] = "Collected"
    if not values:
        return None
    idvar = "" if domain == "DM" else f"{domain}SEQ"
    parts = []
    for qnam in sorted(values):
        qval = values[qnam]
        keep = (qval != "").to_numpy()
        if not keep.any():
            continue
        seq = b.out[idvar][keep] if idvar else None
        parts.append(
            pd.DataFrame(
                {
                    "STUDYID": b.out["STUDYID"][keep].to_numpy(),
                    "RDOMAIN": domain,
                    "USUBJID": b.out["USUBJID"][keep].to_numpy(),
                    "IDVAR": idvar,
                    "IDVARVAL": (
                        seq.astype("int64").astype(str).to_numpy()
                        if seq is not None
                        else np.full(int(keep.sum()), "", dtype=object)
                    ),
                    "QNAM": qnam,
                    "QLABEL": qlabels[qnam],
                    "QVAL": qval[keep].to_numpy(),
                    "QORIG": origins[qnam],
                    "QEVAL": "",
                }
            )
        )
    if not parts:
        return None
    supp = pd.concat(parts, ignore_index=True)
    supp["_seq"] = pd.to_numeric(supp["IDVARVAL"].replace("", np.nan))
    supp = supp.sort_values(["USUBJID", "_seq", "QNAM"], kind="stable", na_position="first")
    return supp.drop(columns="_seq").reset_index(drop=True)
