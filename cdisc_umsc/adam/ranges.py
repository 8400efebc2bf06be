"""Reference ranges: ANRIND/BNRIND, SHIFTy and ratios to the range limits (ADaMIG 1.3 section
3.3.7, variables ANRIND, BNRIND, SHIFTy, R2AyLO, R2AyHI)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from cdisc_umsc.adam.derive import _need
from cdisc_umsc.core.values import distinct_texts

TERMS = ("LOW", "NORMAL", "HIGH")  # SDTM CT C78736 Reference Range Indicator


def compute_anrind(
    dataset: pd.DataFrame,
    value: str = "AVAL",
    low: str = "A1LO",
    high: str = "A1HI",
    low_factor: float = 1.0,
    high_factor: float = 1.0,
    terms: Sequence[str] = TERMS,
    missing: str = "",
) -> pd.Series:
    """ANRIND: LOW, NORMAL or HIGH for the value against its reference range.

    LOW when value < low_factor x low, HIGH when value > high_factor x high, else NORMAL
    (a missing limit does not bound); ``missing`` (default blank) when the value is
    missing; blank when both limits are.

    Args:
        dataset: the input dataset, holding ``value``, ``low`` and ``high``.
        value: the analysis value. Default ``"AVAL"``.
        low: the lower limit of the range. Default ``"A1LO"``.
        high: the upper limit of the range. Default ``"A1HI"``.
        low_factor: factor applied to ``low`` (e.g. 0.5 for below half the limit). Default
            ``1.0``.
        high_factor: factor applied to ``high`` (e.g. 3.0 for above 3 x ULN). Default ``1.0``.
        terms: the three terms (low, normal, high). Default :data:`TERMS` (SDTM CT C78736).
        missing: the result for a missing value. Default ``""``.

    Returns:
        A text series aligned with ``dataset``.

    Example:
        >>> import pandas as pd
        >>> from cdisc_umsc.adam.ranges import compute_anrind
        >>> adlb = pd.DataFrame(
        ...     {
        ...         "AVAL": [2.0, 5.0, 12.0, None, 5.0],
        ...         "A1LO": [3.0, 3.0, 3.0, 3.0, None],
        ...         "A1HI": [10.0, 10.0, 10.0, 10.0, None],
        ...     }
        ... )
        >>> compute_anrind(adlb).tolist()
        ['LOW', 'NORMAL', 'HIGH', '', '']
    """
    _need(dataset, [value, low, high], "compute_anrind")
    if len(terms) != 3:
        raise ValueError("compute_anrind: terms must be (low, normal, high)")
    v = dataset[value].astype("float64")
    lo = dataset[low].astype("float64") * float(low_factor)
    hi = dataset[high].astype("float64") * float(high_factor)
    limits = (lo.notna() | hi.notna()).to_numpy()
    out = np.where(
        (v < lo).fillna(False), terms[0], np.where((v > hi).fillna(False), terms[2], terms[1])
    )
    out = np.where(v.notna().to_numpy(), out, missing)
    return pd.Series(np.where(limits, out, ""), index=dataset.index, dtype=object)


def _texts(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """A category column's distinct texts and codes (missing as ""); a column that is not
    text is taken as its values' text."""
    found = distinct_texts(values)
    if found is None:
        found = distinct_texts(values.astype(object).fillna("").astype(str))
    assert found is not None
    return found


def compute_shift(
    dataset: pd.DataFrame,
    source: str = "BNRIND",
    target: str = "ANRIND",
    select: pd.Series | None = None,
) -> pd.Series:
    """SHIFTy: "<source> to <target>" on the selected records where both are known.

    Args:
        dataset: the input dataset, holding ``source`` and ``target``.
        source: the baseline category. Default ``"BNRIND"``.
        target: the post-baseline category. Default ``"ANRIND"``.
        select: a boolean mask (aligned with ``dataset``) of the records to fill. Default
            ``None`` (all records).

    Returns:
        A text series: the shift, or ``""`` where not selected or either side is blank.

    Example:
        >>> import pandas as pd
        >>> from cdisc_umsc.adam.ranges import compute_shift
        >>> adlb = pd.DataFrame(
        ...     {"BNRIND": ["NORMAL", "NORMAL", ""], "ANRIND": ["HIGH", "NORMAL", "LOW"]}
        ... )
        >>> compute_shift(adlb).tolist()
        ['NORMAL to HIGH', 'NORMAL to NORMAL', '']
    """
    _need(dataset, [source, target], "compute_shift")
    s_codes, s_texts = _texts(dataset[source])
    t_codes, t_texts = _texts(dataset[target])
    # each distinct (source, target) pair's text, written once (categories repeat)
    width = len(t_texts)
    pair_codes, pairs = pd.factorize((s_codes % len(s_texts)) * width + t_codes % width)
    s_pair, t_pair = s_texts[pairs // width], t_texts[pairs % width]
    texts = np.array(
        [f"{a} to {b}" if a and b else "" for a, b in zip(s_pair, t_pair, strict=True)],
        dtype=object,
    )
    ok = texts[pair_codes] != ""
    if select is not None:
        ok &= select.to_numpy()
    return pd.Series(np.where(ok, texts[pair_codes], ""), index=dataset.index, dtype=object)


def compute_r2a1(
    dataset: pd.DataFrame, value: str = "AVAL", low: str = "A1LO", high: str = "A1HI"
) -> pd.DataFrame:
    """R2A1LO = value / low and R2A1HI = value / high; null where a limit is missing or 0.

    Args:
        dataset: the input dataset, holding ``value``, ``low`` and ``high``.
        value: the analysis value. Default ``"AVAL"``.
        low: the lower limit of the range. Default ``"A1LO"``.
        high: the upper limit of the range. Default ``"A1HI"``.

    Returns:
        A frame with the float64 columns R2A1LO and R2A1HI, index of ``dataset``.

    Example:
        >>> import pandas as pd
        >>> from cdisc_umsc.adam.ranges import compute_r2a1
        >>> adlb = pd.DataFrame({"AVAL": [6.0, 6.0], "A1LO": [3.0, 0.0], "A1HI": [12.0, None]})
        >>> compute_r2a1(adlb).values.tolist()
        [[2.0, 0.5], [nan, nan]]
    """
    _need(dataset, [value, low, high], "compute_r2a1")
    v = dataset[value].astype("float64")
    lo, hi = dataset[low].astype("float64"), dataset[high].astype("float64")
    return pd.DataFrame(
        {"R2A1LO": (v / lo).where(lo != 0), "R2A1HI": (v / hi).where(hi != 0)}, index=dataset.index
    )
