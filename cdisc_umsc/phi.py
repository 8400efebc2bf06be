"""PHI guard: direct identifiers never reach an output dataset.

Before anything is written, every character value of every output dataset is scanned for the
values of the raw fields the spec declares as identifiers and for identifier patterns: 18-character
PRC resident ID numbers, mainland mobile numbers and e-mail addresses. A hit stops the run with one
line naming dataset, variable and row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdisc_umsc.core.errors import UmscError

PATTERNS = {
    "a PRC resident ID number": (
        r"(?<!\d)\d{6}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])\d{2}\d{3}[\dXx](?!\d)"
    ),
    "a mobile phone number": r"(?<!\d)1[3-9]\d{9}(?!\d)",
    "an e-mail address": r"[\w.+-]+@[\w-]+\.[\w.-]+",
}


class IdentifierLeak(UmscError):
    """A direct identifier found in an output dataset (exit code 4)."""

    exit_code = 4


def scan(datasets: dict[str, pd.DataFrame], identifier_values: set[str]) -> None:
    """Raise IdentifierLeak for the first identifier found in any character value."""
    known = {v for v in identifier_values if len(v) >= 2}
    for name in sorted(datasets):
        frame = datasets[name]
        for col in frame.columns:
            values = frame[col]
            if values.dtype != object and not pd.api.types.is_string_dtype(values):
                continue
            # each distinct value is checked once: codes map the verdicts back to rows
            codes, uniq = pd.factorize(values.astype(str))
            text = pd.Series(uniq, dtype=object)
            hit = text.isin(known)
            what = "the value of a raw identifier field"
            if not hit.any():
                for label, pattern in PATTERNS.items():
                    hit = text.str.contains(pattern, regex=True)
                    what = label
                    if hit.any():
                        break
            if hit.any():
                row = int(np.flatnonzero(hit.to_numpy()[codes])[0]) + 1
                raise IdentifierLeak(
                    f"{name}: variable {col}, row {row}: holds {what}; direct "
                    "identifiers must not reach an output dataset"
                )
