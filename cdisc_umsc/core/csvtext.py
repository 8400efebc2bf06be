"""CSV text of a frame, byte for byte as ``frame.to_csv(index=False, lineterminator="\\n")``
writes it, computed per distinct value.

pandas formats and quotes every cell of every row in Python; the lineage tables repeat few
values per column (subject ids, sources, spec lines) beside whole-number columns, so each
distinct text is quoted once (by the same :mod:`csv` writer pandas uses, where it needs
quoting at all) and the rows are joined from the per-column texts.
"""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd

from cdisc_umsc.core.values import distinct_texts

#: characters that can make the csv module quote a field (delimiter, quote character, line
#: ends); a value without any is written as it is
_SPECIAL = '[,"\r\n]'


def _quoted(values: list[str]) -> list[str]:
    """Each value as the csv writer writes it inside a row of two or more fields."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    out = []
    for value in values:
        buf.seek(0)
        buf.truncate()
        writer.writerow([value, ""])
        out.append(buf.getvalue()[:-2])  # the trailing ',' of the empty field and '\n'
    return out


def _field_texts(values: pd.Series) -> np.ndarray:
    """Object array: each value's CSV field (missing -> empty)."""
    found = distinct_texts(values)
    if found is None:  # pragma: no cover  (called for text columns only)
        raise TypeError("csv_text: a text column holds a value that is not text")
    codes, texts = found  # a missing value's code picks the last text, ""
    distinct = pd.Series(texts, dtype=object)
    special = distinct.str.contains(_SPECIAL, regex=True).to_numpy(dtype=bool)
    if special.any():
        distinct[special] = _quoted(distinct[special].tolist())
    return distinct.to_numpy()[codes]


def _is_text(values: pd.Series) -> bool:
    return isinstance(values.dtype, pd.StringDtype) or (
        values.dtype == object
        and pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty")
    )


def csv_text(frame: pd.DataFrame) -> str:
    """``frame.to_csv(index=False, lineterminator="\\n")``; columns of whole numbers without
    missing values and of text take the per-distinct path, any other frame is left to pandas."""
    columns = [frame.iloc[:, i] for i in range(frame.shape[1])]
    simple = len(columns) > 1 and all(c.dtype == np.dtype("int64") or _is_text(c) for c in columns)
    names = [str(c) for c in frame.columns]
    if not simple or len(set(names)) != len(names):
        return frame.to_csv(index=False, lineterminator="\n")
    fields = [
        c.to_numpy().astype(str).astype(object) if c.dtype == np.dtype("int64") else _field_texts(c)
        for c in columns
    ]
    header = ",".join(_field_texts(pd.Series(names, dtype=object)).tolist())
    lines = list(map(",".join, zip(*fields, strict=True)))
    return header + "\n" + ("\n".join(lines) + "\n" if lines else "")
