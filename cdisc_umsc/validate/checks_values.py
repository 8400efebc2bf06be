"""Record-level value checks: ISO 8601 dates, start/end order, study days, Findings results."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

import numpy as np
import pandas as pd

from cdisc_umsc.core import iso8601
from cdisc_umsc.core.values import to_number
from cdisc_umsc.metadata.model import Dataset
from cdisc_umsc.validate.catalogue import check
from cdisc_umsc.validate.context import (
    Context,
    as_text,
    blank,
    by_value,
    by_values,
    duplicated,
    stripped,
)

Hits = Iterator[pd.DataFrame]

#: Relative tolerance for --STRESN against the number written in --STRESC (XPT floats are
#: IBM hex floats, exact to about 1e-15).
STRESN_RTOL = 1e-12


def _dtc_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c.endswith("DTC")]


# ----------------------------------------------------------------------- dates


@check("UMSC-DT0001")
def iso8601_valid(ctx: Context, name: str, frame: pd.DataFrame, meta: Dataset | None) -> Hits:
    """SDTMIG 3.4 4.4.2: every *DTC value is ISO 8601 and a possible date/time."""
    for var in _dtc_columns(frame):
        text = as_text(frame[var])
        err = iso8601.validate(text)  # judged once per distinct value
        yield ctx.hits(
            name,
            err != "",
            var,
            text,
            partial(_invalid_message, err, var, text),
        )


def _invalid_message(err: pd.Series, var: str, text: pd.Series) -> pd.Series:
    return err + " in " + var + ": '" + text + "'"


def _after(start: pd.Series, end: pd.Series) -> pd.Series:
    """start > end, comparing date-times where both have a time, else complete dates."""
    s_dt, e_dt = iso8601.datetime_part(start), iso8601.datetime_part(end)
    s_d, e_d = iso8601.date_part(start), iso8601.date_part(end)
    both_dt = s_dt.notna() & e_dt.notna()
    return pd.Series(np.where(both_dt, s_dt > e_dt, s_d > e_d), index=start.index)


@check("UMSC-DT0002")
def start_not_after_end(ctx: Context, name: str, frame: pd.DataFrame, meta: Dataset | None) -> Hits:
    """SDTMIG 3.4 4.4: --STDTC <= --ENDTC where both are complete (also RFSTDTC / RFENDTC)."""
    for start in [c for c in _dtc_columns(frame) if c.endswith("STDTC")]:
        end = start[:-5] + "ENDTC"
        if end not in frame.columns:
            continue
        s, e = as_text(frame[start]), as_text(frame[end])
        yield ctx.hits(
            name, _after(s, e), start, s, f"{start} '" + s + f"' is after {end} '" + e + "'"
        )


def _reference(ctx: Context, name: str, frame: pd.DataFrame) -> pd.Series | None:
    """DM.RFSTDTC for each record (by USUBJID), or None when it cannot be looked up."""
    dm = ctx.datasets.get("DM")
    if dm is None or "USUBJID" not in frame.columns or not {"USUBJID", "RFSTDTC"} <= set(dm):
        return None
    first = dm.drop_duplicates("USUBJID")  # duplicates in DM are reported by UMSC-SD0010
    lookup = pd.Series(as_text(first["RFSTDTC"]).to_numpy(), index=as_text(first["USUBJID"]))
    return as_text(frame["USUBJID"]).map(lookup).fillna("").astype(object)


def _study_day(frame: pd.DataFrame, dtc: str, ref: pd.Series) -> pd.Series:
    """The study day of each record's ``dtc`` date from its DM.RFSTDTC."""
    return by_values(lambda f: iso8601.study_day(f[0], f[1]), as_text(frame[dtc]), ref)


def _day_differs(dy: str, dtc: str, recorded: pd.Series, expected: pd.Series) -> pd.Series:
    return f"{dy} is " + as_text(recorded) + f" but {dtc} and DM.RFSTDTC give " + as_text(expected)


def _day_missing(dy: str, dtc: str, expected: pd.Series) -> pd.Series:
    return f"{dy} is null but {dtc} and DM.RFSTDTC give " + as_text(expected)


def _study_days(
    ctx: Context, name: str, frame: pd.DataFrame
) -> Iterator[tuple[str, str, pd.Series, pd.Series]]:
    """(--DY variable, its --DTC, recorded days, recomputed days) for each pair present."""
    pairs = [
        (c, c[:-2] + "DTC")
        for c in frame.columns
        if c.endswith("DY") and c[:-2] + "DTC" in frame.columns
    ]
    if not pairs:
        return
    ref = ctx.memo(("RFSTDTC", name), lambda: _reference(ctx, name, frame))
    if ref is None:
        return
    for dy, dtc in pairs:
        recorded = pd.to_numeric(frame[dy], errors="coerce").astype("float64")
        expected = ctx.memo(
            ("study day", name, dy),
            partial(_study_day, frame, dtc, ref),
        )
        yield dy, dtc, recorded, expected


@check("UMSC-DT0003")
def study_day_correct(ctx: Context, name: str, frame: pd.DataFrame, meta: Dataset | None) -> Hits:
    """SDTMIG 3.4 4.4.4: --DY = date - RFSTDTC (+1 on or after it); there is no day 0."""
    for dy, dtc, recorded, expected in _study_days(ctx, name, frame):
        bad = recorded.notna() & expected.notna() & (recorded != expected)
        yield ctx.hits(
            name,
            bad,
            dy,
            recorded,
            partial(_day_differs, dy, dtc, recorded, expected),
        )


@check("UMSC-DT0004")
def study_day_not_imputed(
    ctx: Context, name: str, frame: pd.DataFrame, meta: Dataset | None
) -> Hits:
    for dy, dtc, recorded, expected in _study_days(ctx, name, frame):
        yield ctx.hits(
            name,
            recorded.notna() & expected.isna(),
            dy,
            recorded,
            f"{dy} is populated but {dtc} or DM.RFSTDTC is not a complete date",
        )


@check("UMSC-DT0005")
def study_day_present(ctx: Context, name: str, frame: pd.DataFrame, meta: Dataset | None) -> Hits:
    for dy, dtc, recorded, expected in _study_days(ctx, name, frame):
        yield ctx.hits(
            name,
            recorded.isna() & expected.notna(),
            dy,
            "",
            partial(_day_missing, dy, dtc, expected),
        )


# ----------------------------------------------------------------------- Findings results


def _var(frame: pd.DataFrame, name: str, suffix: str) -> str | None:
    var = Context.prefix(name) + suffix
    return var if var in frame.columns else None


@check("UMSC-FN0001")
def stresn_matches_stresc(
    ctx: Context, name: str, frame: pd.DataFrame, meta: Dataset | None
) -> Hits:
    """SDTMIG 3.4 4.5.1: a numeric --STRESC is copied to --STRESN; otherwise --STRESN is null."""
    stresc, stresn = _var(frame, name, "STRESC"), _var(frame, name, "STRESN")
    if stresc is None or stresn is None:
        return
    text = stripped(frame[stresc])
    written = to_number(text)
    numeric = written.notna()
    stored = pd.to_numeric(frame[stresn], errors="coerce").astype("float64")
    close = np.isclose(stored.fillna(0), written.fillna(0), rtol=STRESN_RTOL, atol=0.0)
    missing = numeric & stored.isna()
    differs = numeric & stored.notna() & ~close
    stray = ~numeric & stored.notna()
    bad = missing | differs | stray
    if not bad.any():
        return
    why = pd.Series(
        np.select(
            [missing.to_numpy(), differs.to_numpy(), stray.to_numpy()],
            [
                f"{stresn} is null although {stresc} is numeric",
                f"{stresn} differs from {stresc}",
                f"{stresn} is populated but {stresc} is not numeric",
            ],
            "",
        ),
        index=frame.index,
        dtype=object,
    )
    yield ctx.hits(name, bad, stresn, as_text(stored), why + f" ({stresc}='" + text + "')")


@check("UMSC-FN0002")
def one_lobxfl(ctx: Context, name: str, frame: pd.DataFrame, meta: Dataset | None) -> Hits:
    """At most one --LOBXFL = 'Y' per USUBJID, --TESTCD and the natural keys present
    (--CAT, --SPEC, --POS, --TPT ...: BASELINE_KEYS)."""
    lob, testcd = _var(frame, name, "LOBXFL"), _var(frame, name, "TESTCD")
    if lob is None or testcd is None or "USUBJID" not in frame.columns:
        return
    keys = _natural_keys(frame, name, testcd)
    flagged = as_text(frame[lob]) == "Y"
    dup = duplicated(frame, keys, among=flagged)
    label = ", ".join(keys)
    yield ctx.hits(name, dup, lob, "Y", f"more than one {lob}='Y' for the same {label}")


@check("UMSC-FN0003")
def orres_present(ctx: Context, name: str, frame: pd.DataFrame, meta: Dataset | None) -> Hits:
    """SDTMIG 3.4 4.5.1: --ORRES null only when --STAT = 'NOT DONE' or --DRVFL = 'Y'."""
    orres = _var(frame, name, "ORRES")
    if orres is None:
        return
    stat, drvfl = _var(frame, name, "STAT"), _var(frame, name, "DRVFL")
    excused = pd.Series(False, index=frame.index)
    if stat:
        excused |= as_text(frame[stat]) == "NOT DONE"
    if drvfl:
        excused |= as_text(frame[drvfl]) == "Y"
    yield ctx.hits(
        name,
        blank(frame[orres]) & ~excused,
        orres,
        "",
        f"{orres} is null but "
        + (stat or "--STAT")
        + " is not 'NOT DONE' and "
        + (drvfl or "--DRVFL")
        + " is not 'Y'",
    )


#: Units that mark a dimensionless result: a test recorded with these needs no unit.
DIMENSIONLESS = frozenset({"ratio", "score"})


def _test_keys(frame: pd.DataFrame, name: str, testcd: str) -> list[str]:
    """The variables naming a test: --TESTCD, and --CAT when present."""
    return [testcd] + [c for c in (_var(frame, name, "CAT"),) if c]


#: Qualifiers that tell apart measurements of one test (SDTMIG 3.4 4.5: category, specimen,
#: method, body position and location, evaluator, planned time point); CORE-000914 names
#: --TESTCD, --CAT, --SCAT, --SPEC, --METHOD.
BASELINE_KEYS = (
    "CAT", "SCAT", "SPEC", "METHOD", "POS", "LOC", "LAT", "DIR", "EVAL", "EVALID",
    "TPTREF", "TPTNUM", "TPT",
)  # fmt: skip


def _natural_keys(frame: pd.DataFrame, name: str, testcd: str) -> list[str]:
    """USUBJID, --TESTCD and the BASELINE_KEYS present: one baseline per combination."""
    return ["USUBJID", testcd] + [c for c in (_var(frame, name, k) for k in BASELINE_KEYS) if c]


def _unit_kind(unit: pd.Series) -> pd.Series:
    """0 for a blank unit, 1 for a dimensionless one (DIMENSIONLESS), 2 for a unit."""
    text = unit.str.strip()
    return pd.Series(
        np.where(text == "", 0, np.where(text.str.casefold().isin(DIMENSIONLESS), 1, 2)),
        index=unit.index,
    )


@check("UMSC-FN0004")
def stresu_present(ctx: Context, name: str, frame: pd.DataFrame, meta: Dataset | None) -> Hits:
    """SDTMIG 3.4 4.5.1: a numeric result of a test that has units carries --STRESU.

    A test "has units" when another of its records (same --TESTCD and --CAT) has a --STRESU
    other than RATIO / SCORE; a test never recorded with a unit is a score or ratio."""
    stresn, stresu, testcd = (_var(frame, name, s) for s in ("STRESN", "STRESU", "TESTCD"))
    if stresn is None or stresu is None or testcd is None:
        return
    unit = as_text(frame[stresu])
    kind = by_value(unit, _unit_kind)  # 0 blank, 1 dimensionless, 2 a unit
    test = np.zeros(len(frame), dtype=np.int64)
    for key in _test_keys(frame, name, testcd):
        codes, uniques = pd.factorize(as_text(frame[key]), use_na_sentinel=False)
        test = test * max(len(uniques), 1) + codes
    test = np.unique(test, return_inverse=True)[1].ravel()
    has_units = (np.bincount(test, weights=(kind == 2).to_numpy(dtype="float64")) > 0)[test]
    bad = frame[stresn].notna().to_numpy() & (kind == 0).to_numpy() & has_units
    yield ctx.hits(
        name,
        bad,
        stresu,
        "",
        lambda: (
            f"{stresu} is null but {stresn} is "
            + as_text(frame[stresn])
            + f" and other {testcd} '"
            + as_text(frame[testcd])
            + "' records have units"
        ),
    )


@check("UMSC-FN0005")
def one_blfl(ctx: Context, name: str, frame: pd.DataFrame, meta: Dataset | None) -> Hits:
    """At most one --BLFL = 'Y' per USUBJID, --TESTCD and the natural keys present
    (--CAT, --SPEC, --POS, --TPT ...: BASELINE_KEYS)."""
    blfl, testcd = _var(frame, name, "BLFL"), _var(frame, name, "TESTCD")
    if blfl is None or testcd is None or "USUBJID" not in frame.columns:
        return
    keys = _natural_keys(frame, name, testcd)
    flagged = as_text(frame[blfl]) == "Y"
    dup = duplicated(frame, keys, among=flagged)
    yield ctx.hits(name, dup, blfl, "Y", f"more than one {blfl}='Y' for the same {', '.join(keys)}")
