"""SUPP-- datasets (SDTMIG 3.4 section 8.4): non-standard variables, and text over 200 characters.

SDTMIG 4.5.3.2: a value longer than 200 characters keeps its first 200 characters in the parent
variable; each further 200 characters go to SUPP-- with QNAM = the variable name (up to 7
characters) plus 1, 2, ... Text is split between words where a space allows it.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from cdisc_umsc.core.values import all_text
from cdisc_umsc.metadata.specfile import SpecMap
from cdisc_umsc.sdtm.context import Build, Context

LIMIT = 200


_SPACES = re.compile(" *")


def _byte_offsets(text: str) -> np.ndarray | None:
    """UTF-8 byte offset of each character boundary of ``text`` (None for ASCII text)."""
    if text.isascii():
        return None
    points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    sizes = 1 + (points >= 0x80) + (points >= 0x800) + (points >= 0x10000)
    return np.concatenate(([0], np.cumsum(sizes, dtype=np.int64)))


def _value_chunks(text: str, limit: int) -> list[str]:
    """One value's chunks of at most ``limit`` bytes, each cut at its last space (or just
    before a space that follows it) if there is one after its first character; spaces at a
    cut are dropped. Linear in the length."""
    offsets = _byte_offsets(text)
    n, pos, out = len(text), 0, []
    while True:
        start = pos if offsets is None else int(offsets[pos])
        total = n if offsets is None else int(offsets[n])
        if total - start <= limit:
            out.append(text[pos:])
            return out
        end = pos + limit  # the last boundary within the limit
        if offsets is not None:
            end = int(np.searchsorted(offsets, start + limit, side="right")) - 1
        cut = end if text[end] == " " else text.rfind(" ", pos, end)
        end = cut if cut > pos else end
        out.append(text[pos:end])
        spaces = _SPACES.match(text, end)  # " *" matches at any position
        pos = spaces.end() if spaces else end
        if pos == n:
            return out


def split_text(values: pd.Series, limit: int = LIMIT) -> list[pd.Series]:
    """Chunks of at most ``limit`` bytes, split at the last space inside the limit if any:
    the first holds every value's start (the whole of a short value), the k-th the k-th
    chunk or "". Work is linear in the text's length, done once per distinct value."""
    text = values.fillna("").astype(str)
    codes, uniq = pd.factorize(text)
    pieces = [_value_chunks(u, limit) for u in uniq]
    count = max(map(len, pieces), default=1)
    chunks = []
    for k in range(count):
        column = np.array([p[k] if k < len(p) else "" for p in pieces] or [""], dtype=object)
        chunks.append(
            pd.Series(column[codes] if len(codes) else [], index=values.index, dtype=object)
        )
    return chunks


def qnam(var: str, i: int) -> str:
    """QNAM of the i-th overflow chunk of ``var`` (SDTMIG 4.5.3.2): up to 7 characters of the
    name, then the number."""
    return f"{var[:7]}{i}"


def max_chunks(var: str) -> int:
    """Chunks a value of ``var`` can have: the parent, and every QNAM that fits 8 characters."""
    return 10 ** (8 - len(var[:7]))


def _longest(values: np.ndarray) -> int:
    """The most characters of a value of an object array of text."""
    return max(map(len, values), default=0)


try:  # pandas' own C loop (the Stata writer's), ~10x faster than len() per value
    from pandas._libs.writers import (  # type: ignore[import-not-found,no-redef]
        max_len_string_array as _longest,
    )
except ImportError:  # pragma: no cover - another pandas
    pass


def _all_short(col: pd.Series) -> bool:
    """Every value is text of at most ``LIMIT // 4`` characters, so of at most ``LIMIT``
    UTF-8 bytes (4 bytes a character at most): a scan of lengths, no hashing. A value that
    is no text (a number, a missing value) leaves the column to the byte count."""
    # a copy: the C loop takes a writable buffer
    return all_text(col) and _longest(col.to_numpy(dtype=object, copy=True)) * 4 <= LIMIT


def split_long_text(ctx: Context, b: Build) -> dict[str, tuple[str, pd.Series]]:
    """Cut every character variable of ``b`` over 200 bytes; return the overflow for SUPP--.
    A value that needs more SUPP-- records than QNAM can number is an error naming its row."""
    overflow: dict[str, tuple[str, pd.Series]] = {}
    for var in b.out.columns:
        col = b.out[var]
        if col.dtype != object or _all_short(col):
            continue
        # byte length per distinct value (values repeat across records), spread back by code
        codes, uniq = pd.factorize(col.astype(str))
        size = np.array([len(u.encode("utf-8")) for u in uniq], dtype=np.int64)
        too_long = pd.Series(size[codes] > LIMIT if len(uniq) else False, index=col.index)
        if not too_long.any():
            continue
        most = max_chunks(var)
        over = pd.Series(size[codes] > most * LIMIT, index=col.index)
        chunks = split_text(col[too_long]) if not over.any() else []
        if over.any() or len(chunks) > most:
            if not over.any():
                over = pd.Series(False, index=col.index)
                over[too_long] = (chunks[most] != "").to_numpy()
            nbytes = int(size[codes][int(np.flatnonzero(over.to_numpy())[0])])
            raise ctx.row_error(
                b,
                over,
                var,
                f"text of {nbytes} bytes does not fit {var} and SUPP{b.spec.name} "
                f"QNAM {qnam(var, 1)} to {qnam(var, most - 1)} ({most} records of "
                f"{LIMIT} bytes, SDTMIG 4.5.3.2)",
            )
        b.out.loc[too_long, var] = chunks[0]
        for i, chunk in enumerate(chunks[1:], start=1):
            overflow[qnam(var, i)] = (var, chunk.reindex(col.index).fillna("").astype(object))
    return overflow


def build_supp(ctx: Context, b: Build, labels: dict[str, str]) -> pd.DataFrame | None:
    """SUPP-- records for one parent domain, or None when it has none."""
    domain = b.spec.name
    overflow = split_long_text(ctx, b)
    values = dict(b.supp)
    declared = b.spec.supp or SpecMap()
    qlabels = {q: str(declared[q].get("label", q)) for q in declared}
    origins = {q: str(declared[q].get("origin", "Collected")) for q in declared}
    for qnam, (parent, chunk) in overflow.items():
        values[qnam] = chunk
        number = qnam[len(parent[:7]) :]  # QLABEL: at most 40 characters (SDTMIG 8.4.1)
        qlabels[qnam] = f"{labels.get(parent, parent)[: 39 - len(number)]} {number}"
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
