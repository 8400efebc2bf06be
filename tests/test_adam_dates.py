"""Date and date-time imputation (cdisc_umsc/adam/dates.py) with --DTF / --TMF flags."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cdisc_umsc.adam.dates import compute_dt_imputed, compute_dt_pair, compute_dtm_imputed

TEXT = pd.Series(["2019-05-09", "2019-05", "2019", "", "2019---15", "2020-02"], dtype=object)


def sas(day: str) -> float:
    return float((pd.Timestamp(day) - pd.Timestamp("1960-01-01")).days)


def test_no_imputation_keeps_partial_dates_missing() -> None:
    dt, flag = compute_dt_imputed(TEXT)
    assert dt.iloc[0] == sas("2019-05-09") and dt.iloc[1:].isna().all()
    assert flag.tolist() == [""] * 6


def test_first_last_mid_and_flags() -> None:
    dt, flag = compute_dt_imputed(TEXT, "M", "first")
    assert dt.tolist()[:3] == [sas("2019-05-09"), sas("2019-05-01"), sas("2019-01-01")]
    assert flag.tolist() == ["", "D", "M", "", "M", "D"]
    assert dt.iloc[4] == sas("2019-01-15")  # month unknown, day known
    dt, _ = compute_dt_imputed(TEXT, "M", "last")
    assert dt.iloc[1] == sas("2019-05-31") and dt.iloc[2] == sas("2019-12-31")
    assert dt.iloc[5] == sas("2020-02-29")  # leap year
    dt, _ = compute_dt_imputed(TEXT, "M", "mid")
    assert dt.iloc[1] == sas("2019-05-15") and dt.iloc[2] == sas("2019-06-30")


def test_highest_imputation_day_only() -> None:
    dt, flag = compute_dt_imputed(TEXT, "D", "first")
    assert dt.iloc[1] == sas("2019-05-01") and np.isnan(dt.iloc[2])
    assert flag.tolist() == ["", "D", "", "", "", "D"]


def test_min_and_max_dates() -> None:
    first_dose = pd.Series([sas("2019-05-20")] * 6)
    dt, _ = compute_dt_imputed(TEXT, "M", "first", min_dates=first_dose)
    assert dt.iloc[1] == sas("2019-05-20")  # May 2019 contains first dose
    assert dt.iloc[2] == sas("2019-05-20")  # so does 2019
    assert dt.iloc[5] == sas("2020-02-01")  # February 2020 does not
    cap = pd.Series([sas("2019-05-10")] * 6)
    dt, _ = compute_dt_imputed(TEXT, "M", "last", max_dates=cap)
    assert dt.iloc[1] == sas("2019-05-10") and dt.iloc[0] == sas("2019-05-09")
    assert dt.iloc[2] == sas("2019-05-10")  # 2019 contains the cap
    # February 2020 cannot end by 2019-05-10: a cap before the partial date's range is
    # not one of its possible dates and moves nothing (it would contradict the data)
    assert dt.iloc[5] == sas("2020-02-29")
    # boundary: a cap on the first possible day is inside the range
    dt, _ = compute_dt_imputed(TEXT, "M", "last", max_dates=pd.Series([sas("2020-02-01")] * 6))
    assert dt.iloc[5] == sas("2020-02-01") and dt.iloc[1] == sas("2019-05-31")
    dt, _ = compute_dt_imputed(TEXT, "M", "last", max_dates=pd.Series([sas("2020-01-31")] * 6))
    assert dt.iloc[5] == sas("2020-02-29")


def test_start_and_end_imputed_consistently() -> None:
    start = pd.Series(["2019-05", "2019-05", "", "2019-06-02"], dtype=object)
    end = pd.Series(["2019-05-03", "2019-05", "2019-07", ""], dtype=object)
    st, stf, en, enf = compute_dt_pair(start, end)
    assert st.tolist()[:2] == [sas("2019-05-01"), sas("2019-05-01")]
    assert en.tolist()[:3] == [sas("2019-05-03"), sas("2019-05-31"), sas("2019-07-31")]
    assert stf.tolist() == ["D", "D", "", ""] and enf.tolist() == ["", "D", "D", ""]
    ref = pd.Series([sas("2019-05-10")] * 4)
    st, _, en, _ = compute_dt_pair(start, end, min_dates=ref)
    assert st.iloc[0] == sas("2019-05-03")  # first dose is after the known end
    assert st.iloc[1] == sas("2019-05-10") and np.isnan(st.iloc[2])


def test_datetime_and_time_flags() -> None:
    text = pd.Series(
        ["2019-05-09T09:30:15", "2019-05-09T09:30", "2019-05-09T09", "2019-05-09", "2019-05"],
        dtype=object,
    )
    dtm, dtf, tmf = compute_dtm_imputed(text, "D", "first", "first")
    day = sas("2019-05-09") * 86400
    assert dtm.tolist()[:4] == [day + 34215, day + 34200, day + 32400, day]
    assert tmf.tolist() == ["", "S", "M", "H", "H"] and dtf.tolist() == ["", "", "", "", "D"]
    dtm, _, _ = compute_dtm_imputed(text, "n", "first", "last")
    assert dtm.iloc[3] == day + 86399 and np.isnan(dtm.iloc[4])


def test_bad_arguments_and_text() -> None:
    with pytest.raises(ValueError, match="highest_imputation must be one of n, D, M"):
        compute_dt_imputed(TEXT, "Y")
    with pytest.raises(ValueError, match="imputation must be one of first, last, mid"):
        compute_dt_imputed(TEXT, "M", "median")
    with pytest.raises(ValueError, match="record 2: '05/09/2019' is not an ISO 8601"):
        compute_dt_imputed(pd.Series(["2019-05-09", "05/09/2019"], dtype=object))


def test_inputs_are_not_modified() -> None:
    before = TEXT.copy()
    compute_dt_pair(TEXT, TEXT, min_dates=pd.Series([1.0] * 6))
    pd.testing.assert_series_equal(TEXT, before)


def test_min_date_on_the_first_or_last_possible_day_is_inside() -> None:
    """A min date on the first or on the last possible day of the partial date is within its
    range and replaces the imputed day (mid imputation would give the 15th)."""
    text = pd.Series(["2019-05", "2019-05", "2019-05"], dtype=object)
    first_dose = pd.Series([sas("2019-05-01"), sas("2019-05-31"), sas("2019-06-01")])
    dt, flag = compute_dt_imputed(text, "M", "mid", min_dates=first_dose)
    assert dt.tolist() == [sas("2019-05-01"), sas("2019-05-31"), sas("2019-05-15")]
    assert flag.tolist() == ["D", "D", "D"]
