"""core/csvtext: the per-distinct CSV writer gives exactly the bytes of pandas' to_csv."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from cdisc_umsc.core.csvtext import csv_text


def _pandas(frame: pd.DataFrame) -> str:
    return frame.to_csv(index=False, lineterminator="\n")


def test_quoting_nulls_and_whole_numbers_as_pandas_writes_them() -> None:
    frame = pd.DataFrame(
        {
            "record": np.array([1, 2, 3, 10**12, -5], dtype="int64"),
            "text": pd.Series(["a,b", 'say "hi"', "two\nlines", "", None], dtype="str"),
            "obj": pd.Series(["x", np.nan, "cr\rhere", " lead", "ü"], dtype=object),
        }
    )
    got = csv_text(frame)
    assert got == _pandas(frame)
    assert got.splitlines()[1] == '1,"a,b",x'
    assert got.split("\n")[-2] == "-5,,ü"


def test_an_empty_frame_is_its_header() -> None:
    frame = pd.DataFrame({"a": pd.Series([], dtype="int64"), "b": pd.Series([], dtype="str")})
    assert csv_text(frame) == "a,b\n" == _pandas(frame)


def test_other_columns_are_left_to_pandas() -> None:
    frame = pd.DataFrame({"x": [1.5, np.nan], "y": ["a", "b"], "z": pd.array([1, None], "Int64")})
    assert csv_text(frame) == _pandas(frame)
    one = pd.DataFrame({"only": ["", "a"]})  # one field: the csv writer quotes an empty row
    assert csv_text(one) == _pandas(one) == 'only\n""\na\n'


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(min_value=-(2**62), max_value=2**62),
            st.one_of(st.none(), st.text(alphabet=st.sampled_from('ab ,"\n\r\t;é'), max_size=6)),
            st.text(max_size=4),
        ),
        max_size=30,
    )
)
def test_matches_pandas_on_generated_frames(rows: list[tuple[int, str | None, str]]) -> None:
    frame = pd.DataFrame(
        {
            "n": pd.Series([r[0] for r in rows], dtype="int64"),
            "t": pd.Series([r[1] for r in rows], dtype="str"),
            "u,v": pd.Series([r[2] for r in rows], dtype=object),
        }
    )
    assert csv_text(frame) == _pandas(frame)
