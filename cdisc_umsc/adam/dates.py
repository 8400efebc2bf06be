"""Dates and date-times for ADaM from ISO 8601 text, with imputation of partial values.

Numeric results follow SAS: dates are days and date-times seconds since 1960-01-01 (ADaMIG 1.3
section 3.1.3: *DT numeric dates, *DTM numeric date-times). Imputation flags follow ADaM CT
DATEFL (C81223: Y, M, D) and TIMEFL (C81226: H, M, S); a flag is the highest component imputed.

Rules (``date_imputation``): ``first`` sets a missing month to 01 and a missing day to 01;
``last`` sets them to 12 and to the last day of the month; ``mid`` sets a missing month and
day to 06-30 and a missing day alone to 15. ``highest_imputation`` limits what may be imputed:
``n`` nothing, ``D`` the day only, ``M`` month and day. A missing year is never imputed.
``min_dates`` / ``max_dates`` keep the imputed value consistent with known dates: when the
range a partial date can span contains the min date (e.g. first dose), the min date is used;
an imputed value never exceeds the max date (e.g. death or data cut-off).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdisc_umsc.core.formats import SAS_EPOCH

_ISO = (
    r"^(?P<y>[0-9]{4})(?:-(?P<m>[0-9]{2}|-)(?:-(?P<d>[0-9]{2}|-)?)?)?"
    r"(?:T(?P<H>[0-9]{2}|-)?(?::(?P<M>[0-9]{2}|-))?(?::(?P<S>[0-9]{2}(?:\.[0-9]+)?))?)?$"
)

_LEVELS = {"n": 0, "D": 1, "M": 2}


def _parts(dtc: pd.Series) -> pd.DataFrame:
    text = dtc.astype(object).where(dtc.notna(), "").astype(str).str.strip()
    parts = text.str.extract(_ISO)
    bad = (text != "") & parts["y"].isna()
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise ValueError(f"record {i + 1}: '{text.iloc[i]}' is not an ISO 8601 date/time")
    return parts.apply(_numeric)


def _numeric(column: pd.Series) -> pd.Series:
    return pd.to_numeric(column, errors="coerce")


def _days_in_month(year: pd.Series, month: pd.Series) -> pd.Series:
    first = pd.to_datetime(pd.DataFrame({"year": year, "month": month, "day": 1}), errors="coerce")
    return (first + pd.offsets.MonthEnd(0)).dt.day.astype("float64")


def _check(highest: str, rule: str, allowed: tuple[str, ...], what: str) -> None:
    if highest not in _LEVELS:
        raise ValueError(f"{what}: highest_imputation must be one of n, D, M (got {highest!r})")
    if rule not in allowed:
        raise ValueError(f"{what}: imputation must be one of {', '.join(allowed)} (got {rule!r})")


def _to_sas_days(stamp: pd.Series) -> pd.Series:
    return ((stamp - SAS_EPOCH).dt.days).astype("float64")


def compute_dt_imputed(
    dtc: pd.Series,
    highest_imputation: str = "n",
    date_imputation: str = "first",
    min_dates: pd.Series | None = None,
    max_dates: pd.Series | None = None,
) -> tuple[pd.Series, pd.Series]:
    """(numeric date, --DTF) from ISO 8601 text, imputing partial dates as the rules say.

    The rules are those of this module: ``date_imputation`` chooses the day and month put
    in, ``highest_imputation`` how much may be put in (a date that needs more stays
    missing), ``min_dates`` and ``max_dates`` keep an imputed date consistent with known
    dates. Only imputed dates are moved; a complete date is never changed. Text that is not
    ISO 8601 raises ValueError naming the record.

    Args:
        dtc: ISO 8601 date or date-time text (e.g. --STDTC); blank or missing gives missing.
        highest_imputation: the highest component that may be imputed: ``"n"`` none,
            ``"D"`` the day, ``"M"`` month and day. Default ``"n"``.
        date_imputation: ``"first"``, ``"last"`` or ``"mid"``. Default ``"first"``.
        min_dates: SAS dates (aligned with ``dtc``) used when inside the range of a partial
            date (e.g. TRTSDT). Default ``None``.
        max_dates: SAS dates (aligned with ``dtc``) an imputed date may not exceed (e.g.
            death or data cut-off) when inside the range of the partial date. Default
            ``None``.

    Returns:
        A pair: the date as a float64 series of SAS days, and the date imputation flag
        (``"M"``, ``"D"`` or ``""``) as a text series.

    Example:
        >>> import pandas as pd
        >>> from cdisc_umsc.adam.dates import compute_dt_imputed
        >>> dtc = pd.Series(["2020-02-15", "2020-02", "2020", ""])
        >>> dt, dtf = compute_dt_imputed(dtc, highest_imputation="M", date_imputation="last")
        >>> dt.tolist()
        [21960.0, 21974.0, 22280.0, nan]
        >>> dtf.tolist()
        ['', 'D', 'M', '']
    """
    _check(highest_imputation, date_imputation, ("first", "last", "mid"), "compute_dt_imputed")
    p = _parts(dtc)
    y, m, d = p["y"], p["m"], p["d"]
    level = _LEVELS[highest_imputation]
    m_missing, d_missing = m.isna(), d.isna()
    allowed = y.notna() & ~(m_missing & (level < 2)) & ~(d_missing & (level < 1))
    if date_imputation == "first":
        mi, di = m.fillna(1), d.fillna(1)
    elif date_imputation == "last":
        mi = m.fillna(12)
        di = d.fillna(_days_in_month(y, mi))
    else:
        mi = m.fillna(6)
        di = d.fillna(pd.Series(np.where(m_missing, 30, 15), index=d.index))
    stamp = pd.to_datetime(pd.DataFrame({"year": y, "month": mi, "day": di}), errors="coerce")
    stamp = stamp.where(allowed)
    imputed = allowed & (m_missing | d_missing)
    if min_dates is not None or max_dates is not None:
        # the range of dates the partial date can be; a known date outside it says nothing
        # about this one (admiral's rule: only dates in the range of possible dates count)
        lo = pd.to_datetime(
            pd.DataFrame({"year": y, "month": m.fillna(1), "day": d.fillna(1)}), errors="coerce"
        )
        hi_m = m.fillna(12)
        hi = pd.to_datetime(
            pd.DataFrame({"year": y, "month": hi_m, "day": d.fillna(_days_in_month(y, hi_m))}),
            errors="coerce",
        )
    if min_dates is not None:
        ref = pd.Series(
            SAS_EPOCH + pd.to_timedelta(min_dates.to_numpy(), unit="D"), index=dtc.index
        )
        inside = imputed & (ref >= lo) & (ref <= hi)
        stamp = stamp.mask(inside, ref)
    if max_dates is not None:
        cap = pd.Series(
            SAS_EPOCH + pd.to_timedelta(max_dates.to_numpy(), unit="D"), index=dtc.index
        )
        stamp = stamp.mask(imputed & (stamp > cap) & (cap >= lo), cap)
    flag = np.where(imputed & m_missing, "M", np.where(imputed & d_missing, "D", ""))
    return _to_sas_days(stamp), pd.Series(flag, index=dtc.index, dtype=object)


def compute_dtm_imputed(
    dtc: pd.Series,
    highest_imputation: str = "n",
    date_imputation: str = "first",
    time_imputation: str = "first",
    min_dates: pd.Series | None = None,
    max_dates: pd.Series | None = None,
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(numeric date-time, --DTF, --TMF) from ISO 8601 text, imputing partial values.

    The date is imputed as :func:`compute_dt_imputed` does; a missing hour, minute or second
    is set to 00 (``first``) or to 23/59/59 (``last``) and the highest one missing is
    flagged H/M/S. The date-time is missing (and --TMF blank) where the date is.

    Args:
        dtc: ISO 8601 date or date-time text (e.g. --DTC); blank or missing gives missing.
        highest_imputation: the highest date component that may be imputed (``"n"``,
            ``"D"``, ``"M"``). Default ``"n"``.
        date_imputation: ``"first"``, ``"last"`` or ``"mid"``. Default ``"first"``.
        time_imputation: ``"first"`` (00) or ``"last"`` (23:59:59). Default ``"first"``.
        min_dates: SAS dates, as for :func:`compute_dt_imputed`. Default ``None``.
        max_dates: SAS dates, as for :func:`compute_dt_imputed`. Default ``None``.

    Returns:
        A triple: the date-time as a float64 series of SAS seconds, the date imputation flag
        and the time imputation flag (``"H"``, ``"M"``, ``"S"`` or ``""``) as text series.

    Example:
        >>> import pandas as pd
        >>> from cdisc_umsc.adam.dates import compute_dtm_imputed
        >>> dtc = pd.Series(["2020-01-01T08:30:15", "2020-01-01T08:30", "2020-01"])
        >>> dtm, dtf, tmf = compute_dtm_imputed(dtc, highest_imputation="D")
        >>> dtm.tolist()
        [1893486615.0, 1893486600.0, 1893456000.0]
        >>> dtf.tolist()
        ['', '', 'D']
        >>> tmf.tolist()
        ['', 'S', 'H']
    """
    _check("n", time_imputation, ("first", "last"), "compute_dtm_imputed")
    days, dtf = compute_dt_imputed(dtc, highest_imputation, date_imputation, min_dates, max_dates)
    p = _parts(dtc)
    last = time_imputation == "last"
    hh = p["H"].fillna(23 if last else 0)
    mm = p["M"].fillna(59 if last else 0)
    ss = p["S"].fillna(59 if last else 0)
    seconds = days * 86400 + hh * 3600 + mm * 60 + ss
    flags = np.where(
        p["H"].isna(), "H", np.where(p["M"].isna(), "M", np.where(p["S"].isna(), "S", ""))
    )
    tmf = pd.Series(np.where(days.notna(), flags, ""), index=dtc.index, dtype=object)
    return seconds.astype("float64"), dtf, tmf


def compute_dt_pair(
    start: pd.Series,
    end: pd.Series,
    highest_imputation: str = "M",
    min_dates: pd.Series | None = None,
    max_dates: pd.Series | None = None,
) -> tuple[pd.Series, pd.Series, pd.Series, pd.Series]:
    """(ASTDT, ASTDTF, AENDT, AENDTF): start and end dates imputed consistently.

    The start is imputed to the first possible day (or the min date inside its range), the
    end to the last possible day (capped at the max date), as :func:`compute_dt_imputed`
    does; an imputed start after the (complete or imputed) end is set to the end date.

    Args:
        start: ISO 8601 start date text (e.g. AESTDTC).
        end: ISO 8601 end date text (e.g. AEENDTC), aligned with ``start``.
        highest_imputation: the highest component that may be imputed (``"n"``, ``"D"``,
            ``"M"``), for both. Default ``"M"``.
        min_dates: SAS dates for the start (e.g. TRTSDT). Default ``None``.
        max_dates: SAS dates the end may not exceed (e.g. death). Default ``None``.

    Returns:
        Four series: the start date (SAS days), its flag, the end date, its flag.

    Example:
        >>> import pandas as pd
        >>> from cdisc_umsc.adam.dates import compute_dt_pair
        >>> start = pd.Series(["2020-01", "2020-03"])
        >>> end = pd.Series(["2020-01-05", "2020"])
        >>> trtsdt = pd.Series([21924.0, 21924.0])
        >>> astdt, astdtf, aendt, aendtf = compute_dt_pair(start, end, min_dates=trtsdt)
        >>> astdt.tolist(), astdtf.tolist()
        ([21919.0, 21975.0], ['D', 'D'])
        >>> aendt.tolist(), aendtf.tolist()
        ([21919.0, 22280.0], ['', 'M'])
    """
    endt, endtf = compute_dt_imputed(end, highest_imputation, "last", max_dates=max_dates)
    stdt, stdtf = compute_dt_imputed(start, highest_imputation, "first", min_dates=min_dates)
    late = (stdtf != "") & endt.notna() & (stdt > endt)
    return stdt.mask(late, endt), stdtf, endt, endtf
