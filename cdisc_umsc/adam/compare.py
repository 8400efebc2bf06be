"""Agreement of a derived dataset with a reference one: per variable, the share of reference
records whose value the derived record reproduces (records matched by key)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def _norm_key(values: pd.Series) -> pd.Series:
    if values.dtype.kind in "fiu":
        return values.astype("float64").round(9).fillna(-1e18)
    return values.astype(object).where(values.notna(), "").astype(str).str.strip()


def equal_values(a: pd.Series, b: pd.Series, tolerance: float = 1e-6) -> np.ndarray:
    """Compare two series element by element, numbers within a tolerance and text trimmed.

    Numbers are equal within ``tolerance`` relative to max(1, abs(b)), and two missing
    numbers are equal; text is compared after trimming, a missing value equal to a blank.

    Args:
        a: the first values.
        b: the second values (the reference; same length as ``a``).
        tolerance: the relative tolerance for numbers; default ``1e-6``.

    Returns:
        A boolean numpy array.

    Example:
        >>> import pandas as pd
        >>> equal_values(pd.Series([1.0, None, 2.0]), pd.Series([1.0000001, None, 2.5])).tolist()
        [True, True, False]
        >>> equal_values(pd.Series(["A ", None]), pd.Series(["A", ""])).tolist()
        [True, True]
    """
    if a.dtype.kind in "fiu" or b.dtype.kind in "fiu":
        x = pd.to_numeric(a, errors="coerce").to_numpy(dtype="float64")
        y = pd.to_numeric(b, errors="coerce").to_numpy(dtype="float64")
        both_nan = np.isnan(x) & np.isnan(y)
        close = np.abs(x - y) <= tolerance * np.maximum(1.0, np.abs(y))
        return both_nan | np.nan_to_num(close, nan=0).astype(bool)
    return _norm_key(a).to_numpy() == _norm_key(b).to_numpy()


def agreement(
    derived: pd.DataFrame,
    reference: pd.DataFrame,
    keys: Sequence[str],
    variables: Sequence[str],
    tolerance: float = 1e-6,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Measure how far a derived dataset reproduces a reference one, variable by variable.

    Records are matched by ``keys`` (both frames must be unique by them); a reference record
    without a derived match counts as not reproduced.

    Args:
        derived: the dataset to check.
        reference: the dataset it should reproduce.
        keys: the variables matching records.
        variables: the variables to compare (present in both frames).
        tolerance: the relative tolerance for numbers (see :func:`equal_values`);
            default ``1e-6``.

    Returns:
        A tuple: the per-variable table (variable, records, equal, share, over reference
        records) and the merged frame with ``<var>_ref``, ``<var>_der``, ``<var>_ok`` and an
        ``_in`` column: both, reference_only or derived_only.

    Example:
        >>> import pandas as pd
        >>> derived = pd.DataFrame({"USUBJID": ["1", "2", "4"], "AGE": [30.0, 41.0, 50.0]})
        >>> reference = pd.DataFrame({"USUBJID": ["1", "2", "3"], "AGE": [30.0, 40.0, 60.0]})
        >>> table, merged = agreement(derived, reference, ["USUBJID"], ["AGE"])
        >>> table.values.tolist()
        [['AGE', 3, 1, 0.3333333333333333]]
        >>> merged["_in"].tolist()
        ['both', 'both', 'reference_only', 'derived_only']
    """
    left = derived.assign(**{f"_k{i}": _norm_key(derived[k]) for i, k in enumerate(keys)})
    right = reference.assign(**{f"_k{i}": _norm_key(reference[k]) for i, k in enumerate(keys)})
    kcols = [f"_k{i}" for i in range(len(keys))]
    for name, frame in (("derived", left), ("reference", right)):
        if frame.duplicated(kcols).any():
            raise ValueError(f"agreement: {name} is not unique by {', '.join(keys)}")
    merged = right[[*kcols, *variables]].merge(
        left[[*kcols, *variables]],
        on=kcols,
        how="outer",
        suffixes=("_ref", "_der"),
        indicator="_in",
    )
    merged["_in"] = (
        merged["_in"]
        .astype(str)
        .map({"both": "both", "left_only": "reference_only", "right_only": "derived_only"})
    )
    in_ref = (merged["_in"] != "derived_only").to_numpy()
    rows = []
    for var in variables:
        ok = equal_values(merged[f"{var}_der"], merged[f"{var}_ref"], tolerance)
        ok &= (merged["_in"] == "both").to_numpy()
        merged[f"{var}_ok"] = ok
        n = int(in_ref.sum())
        rows.append(
            {
                "variable": var,
                "records": n,
                "equal": int(ok[in_ref].sum()),
                "share": float(ok[in_ref].sum() / n) if n else 1.0,
            }
        )
    return pd.DataFrame(rows), merged
