"""Subject timing checks: DM reference dates against EX, dates within study participation."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd

from cdisc_umsc.core import iso8601
from cdisc_umsc.metadata.model import Dataset
from cdisc_umsc.validate.catalogue import check
from cdisc_umsc.validate.context import Context, as_text

Hits = Iterator[pd.DataFrame]


# ----------------------------------------------------------------------- RF dates against EX


def _ex_extreme(ctx: Context, column: str, how: str) -> pd.Series | None:
    """Per USUBJID, the earliest ("min") or latest ("max") non-blank EX `column` (ISO 8601
    text sorts in time order at equal precision), or None without that EX variable."""
    ex = ctx.datasets.get("EX")
    if ex is None or not {"USUBJID", column} <= set(ex.columns):
        return None
    values = as_text(ex[column]).str.strip()
    values = values.where(values != "")
    return values.groupby(as_text(ex["USUBJID"])).agg(how).dropna()


def _rf_vs_ex(
    ctx: Context, name: str, frame: pd.DataFrame, rf: str, sources: tuple[tuple[str, str], ...]
) -> Hits:
    """DM.`rf` against per-subject EX extremes: it must equal one of them (blank when the
    subject has no such EX value). `sources` are (EX variable, "min" | "max") pairs."""
    if name != "DM" or not {"USUBJID", rf} <= set(frame.columns):
        return
    found = [(var, how, _ex_extreme(ctx, var, how)) for var, how in sources]
    extremes = [(var, how, e) for var, how, e in found if e is not None]
    if not extremes:
        return
    recorded = as_text(frame[rf]).str.strip()
    subj = as_text(frame["USUBJID"])
    expected = [(var, how, subj.map(e).fillna("").astype(object)) for var, how, e in extremes]
    bad = pd.Series(True, index=frame.index)
    for _, _, exp in expected:
        bad &= recorded != exp

    def why() -> pd.Series:
        text = pd.Series(f"{rf} '", index=frame.index, dtype=object) + recorded + "' but"
        for i, (var, how, exp) in enumerate(expected):
            word = "earliest" if how == "min" else "latest"
            text = text + ("" if i == 0 else ",") + f" the {word} {var} is '" + exp + "'"
        return text

    yield ctx.hits(name, bad, rf, recorded, why)


@check("UMSC-XD0007")
def rfxstdtc_is_first_exposure(
    ctx: Context, name: str, frame: pd.DataFrame, meta: Dataset | None
) -> Hits:
    """SDTMIG 3.4 5 (DM): RFXSTDTC is the earliest EX.EXSTDTC of the subject."""
    yield from _rf_vs_ex(ctx, name, frame, "RFXSTDTC", (("EXSTDTC", "min"),))


@check("UMSC-XD0008")
def rfxendtc_is_last_exposure(
    ctx: Context, name: str, frame: pd.DataFrame, meta: Dataset | None
) -> Hits:
    """SDTMIG 3.4 5 (DM): RFXENDTC is the latest EX.EXENDTC of the subject, or its latest
    EX.EXSTDTC (a last record without an end date)."""
    yield from _rf_vs_ex(ctx, name, frame, "RFXENDTC", (("EXENDTC", "max"), ("EXSTDTC", "max")))


# ----------------------------------------------------------------------- study participation


def _participation_date(ctx: Context, name: str, frame: pd.DataFrame) -> str | None:
    """The date checked against participation: AESTDTC in AE, --DTC in a Findings dataset."""
    if name == "AE":
        var = "AESTDTC"
    elif ctx.domain_class(name).casefold().startswith("findings"):
        var = ctx.prefix(name) + "DTC"
    else:
        return None
    return var if {var, "USUBJID"} <= set(frame.columns) else None


def _dm_date(ctx: Context, frame: pd.DataFrame, ref: str) -> pd.Series | None:
    """DM.`ref` of each record as a complete date (NaT when partial, blank or no DM record)."""
    dm = ctx.datasets.get("DM")
    if dm is None or not {"USUBJID", ref} <= set(dm.columns):
        return None
    first = dm.drop_duplicates("USUBJID")  # duplicates in DM are reported by UMSC-SD0010
    dates = pd.Series(
        iso8601.date_part(as_text(first[ref])).to_numpy(),
        index=as_text(first["USUBJID"]).to_numpy(),
    )
    return pd.Series(
        as_text(frame["USUBJID"]).map(dates).to_numpy(dtype="datetime64[ns]"), index=frame.index
    )


def _outside(ctx: Context, name: str, frame: pd.DataFrame, ref: str, later: bool) -> Hits:
    var = _participation_date(ctx, name, frame)
    if var is None:
        return
    bound = _dm_date(ctx, frame, ref)
    if bound is None:
        return
    text = as_text(frame[var])
    date = pd.Series(iso8601.date_part(text).to_numpy(dtype="datetime64[ns]"), index=frame.index)
    bad = ((date > bound) if later else (date < bound)).to_numpy(dtype=bool)  # NaT: False
    word = "after" if later else "before"

    def why() -> pd.Series:  # built for the hits only
        out = pd.Series("", index=frame.index, dtype=object)
        days = np.datetime_as_string(bound.to_numpy()[bad], unit="D")
        out[bad] = (f"{var} '" + text[bad] + f"' is {word} DM.{ref} '" + days + "'").to_numpy()
        return out

    yield ctx.hits(name, bad, var, text, why)


@check("UMSC-XD0009")
def not_before_consent(ctx: Context, name: str, frame: pd.DataFrame, meta: Dataset | None) -> Hits:
    """SDTMIG 3.4 5 (DM RFICDTC): AE starts and findings are not dated before consent."""
    yield from _outside(ctx, name, frame, "RFICDTC", later=False)


@check("UMSC-XD0010")
def not_after_participation_end(
    ctx: Context, name: str, frame: pd.DataFrame, meta: Dataset | None
) -> Hits:
    """SDTMIG 3.4 5 (DM RFPENDTC): AE starts and findings are not dated after the end of
    participation."""
    yield from _outside(ctx, name, frame, "RFPENDTC", later=True)
