"""Agreement tables (cdisc_umsc/adam/compare.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cdisc_umsc.adam.compare import agreement, equal_values


def test_equal_values_numbers_and_text() -> None:
    a = pd.Series([1.0, np.nan, 1.0370370370, 2.0])
    b = pd.Series([1.0, np.nan, 1.037037, 2.1])
    assert equal_values(a, b).tolist() == [True, True, True, False]
    assert equal_values(
        pd.Series(["N", "", None, "H "]), pd.Series(["N", None, "", "L"])
    ).tolist() == [True, True, True, False]


def test_agreement_counts_missing_records_as_differences() -> None:
    ref = pd.DataFrame({"K": ["a", "b", "c", "d"], "V": [1.0, 2.0, 3.0, 4.0]})
    der = pd.DataFrame({"K": ["a", "b", "c", "e"], "V": [1.0, 2.5, 3.0, 9.0]})
    table, merged = agreement(der, ref, ["K"], ["V"])
    assert table.to_dict("records") == [{"variable": "V", "records": 4, "equal": 2, "share": 0.5}]
    assert sorted(merged["_in"]) == ["both", "both", "both", "derived_only", "reference_only"]
    with pytest.raises(ValueError, match="derived is not unique by K"):
        agreement(pd.concat([der, der]), ref, ["K"], ["V"])
