"""SUPP-- text splitting (SDTMIG 4.5.3.2): byte limits, word boundaries, bounded work."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pandas as pd
import pytest

from cdisc_umsc.core.errors import InputError
from cdisc_umsc.sdtm.context import Build, Context
from cdisc_umsc.sdtm.supp import LIMIT, max_chunks, qnam, split_long_text, split_text


def _chunks(values: list[str | None], limit: int = LIMIT) -> list[list[str]]:
    return [c.tolist() for c in split_text(pd.Series(values, dtype=object), limit)]


def test_short_values_stay_whole_in_one_chunk():
    assert _chunks(["abc", "", None, "x" * LIMIT]) == [["abc", "", "", "x" * LIMIT]]


def test_cut_at_the_last_space_within_the_limit_and_spaces_at_the_cut_dropped():
    assert _chunks(["aa bb cc", "aaaaaa", "a  bbbbb"], limit=5) == [
        ["aa bb", "aaaaa", "a "],
        ["cc", "a", "bbbbb"],
    ]


def test_a_space_just_past_the_limit_is_a_cut():
    assert _chunks(["aaaaa bbb"], limit=5) == [["aaaaa"], ["bbb"]]
    assert _chunks(["aaaa b"], limit=5) == [["aaaa"], ["b"]]
    assert _chunks(["aaa bbbbbb"], limit=5) == [["aaa"], ["bbbbb"], ["b"]]


def test_a_leading_space_is_not_a_cut():
    assert _chunks([" aaaaaa"], limit=5) == [[" aaaa"], ["aa"]]


def test_trailing_spaces_after_a_cut_give_no_empty_chunk():
    assert _chunks(["aaaaa   "], limit=5) == [["aaaaa"]]


def test_limit_counts_utf8_bytes_and_never_cuts_inside_a_character():
    # "é" is 2 bytes, "中" 3 bytes: 4 + 3 = 7 > 6, so the first chunk stops before "中"
    assert _chunks(["éé中中"], limit=6) == [["éé"], ["中中"]]
    assert _chunks(["éé中中"], limit=7) == [["éé中"], ["中"]]
    assert _chunks(["é中 中é"], limit=6) == [["é中"], ["中é"]]


def test_equal_values_share_their_split_and_rows_keep_their_index():
    got = split_text(pd.Series(["a b", None, "a b"], index=[10, 11, 12], dtype=object), 2)
    assert [c.index.tolist() for c in got] == [[10, 11, 12]] * 2
    assert [c.tolist() for c in got] == [["a", "", "a"], ["b", "", "b"]]


def test_empty_series():
    assert _chunks([]) == [[]]


def test_qnam_numbering_fits_eight_characters():
    assert qnam("AETERM", 1) == "AETERM1"
    assert qnam("AETERM", 99) == "AETERM99"
    assert qnam("CMINDC", 12) == "CMINDC12"
    assert qnam("DSTERMXX", 3) == "DSTERMX3"
    assert (max_chunks("AETERM"), max_chunks("DSTERMXX"), max_chunks("COVAL")) == (100, 10, 1000)


def test_ten_megabytes_split_in_linear_time():
    words = ("word " * 2_000_000).strip()  # 10 MB, 50,000+ chunks
    start = time.process_time()
    got = _chunks([words, "x" * 10_000_000])
    assert time.process_time() - start < 20
    assert len(got) == 50_000
    assert got[0][0] == ("word " * 40).strip()
    assert got[0][1] == "x" * LIMIT
    assert "".join(c[1] for c in got) == "x" * 10_000_000
    assert " ".join(c[0] for c in got if c[0]) == words


def _build(column: str, values: list[str]) -> tuple[SimpleNamespace, Build]:
    spec = SimpleNamespace(name="AE", file="spec/sdtm/ae.yaml")
    out = pd.DataFrame({column: pd.Series(values, dtype=object)})
    ctx = SimpleNamespace(row_error=lambda *a: Context.row_error(None, *a))  # type: ignore[arg-type]
    return ctx, Build(spec=spec, raw=pd.DataFrame(index=out.index), out=out)  # type: ignore[arg-type]


def test_long_values_move_to_numbered_qnams():
    ctx, b = _build("AETERM", ["short", "w " * 150 + "end"])
    overflow = split_long_text(ctx, b)
    assert b.out["AETERM"].tolist() == ["short", ("w " * 100).strip()]
    assert sorted(overflow) == ["AETERM1"]
    parent, chunk = overflow["AETERM1"]
    assert (parent, chunk.tolist()) == ("AETERM", ["", ("w " * 50) + "end"])


def test_the_last_qnam_that_fits_is_used_and_one_more_is_an_error():
    ctx, b = _build("AETERM", ["x" * (100 * LIMIT)])
    overflow = split_long_text(ctx, b)
    assert sorted(overflow)[-1] == "AETERM99" and len(overflow) == 99
    words = " ".join(["y" * 150] * 120)  # 18,119 bytes, but one word per chunk: 120 chunks
    for text in ("x" * (100 * LIMIT + 1), "x" * 10_000_000, words):
        size = len(text)
        ctx, b = _build("AETERM", ["ok", text])
        with pytest.raises(InputError) as info:
            split_long_text(ctx, b)
        assert str(info.value) == (
            f"spec/sdtm/ae.yaml: AE record 2, variable AETERM: text of {size} bytes does not "
            "fit AETERM and SUPPAE QNAM AETERM1 to AETERM99 (100 records of 200 bytes, "
            "SDTMIG 4.5.3.2)"
        )
