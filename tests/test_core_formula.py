"""Spec formulas: arithmetic only, bounded in size, depth and magnitude, NaN for missing."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from cdisc_umsc.core.formula import MAX_DEPTH, MAX_LENGTH, parse_formula


def test_pasi_style_formula_over_columns():
    f = parse_formula("0.1 * (A + B)\n  * C - -D / 2 ** E")
    assert f.names == ("A", "B", "C", "D", "E")
    frame = pd.DataFrame(
        {
            "A": [1.0, 2.0, np.nan],
            "B": [3.0, 0.0, 1.0],
            "C": [2.0, 4.0, 1.0],
            "D": [4.0, 1.0, 1.0],
            "E": [1.0, 0.0, 1.0],
        }
    )
    got = f.evaluate(frame)
    assert got[0] == pytest.approx(0.1 * 4 * 2 + 4 / 2)
    assert got[1] == pytest.approx(0.1 * 2 * 4 + 1)
    assert np.isnan(got[2])  # a missing input gives a missing value, never a partial sum


def test_power_tower_is_bounded_and_an_error():
    f = parse_formula("9**9**9")
    start = time.process_time()
    with pytest.raises(
        ValueError, match=r"no finite number \(overflow, or division by zero\) for 1 of 1"
    ):
        f.evaluate({})
    assert time.process_time() - start < 5  # float64 overflow, not a 370-million-digit integer


def test_division_by_zero_is_an_error_but_missing_is_not():
    f = parse_formula("A / B")
    assert np.isnan(f.evaluate({"A": [np.nan], "B": [0.0]})[0])
    with pytest.raises(ValueError, match="for 1 of 2 value"):
        f.evaluate({"A": [1.0, 1.0], "B": [0.0, 2.0]})
    with pytest.raises(ValueError, match="for 1 of 1"):
        f.evaluate({"A": [0.0], "B": [0.0]})  # 0/0


@pytest.mark.parametrize(
    "text, message",
    [
        ("__import__('os').system('true')", "numbers, names, + - * / ** and parentheses only"),
        ("A.real + 1", "numbers, names"),
        ("A if B else C", "numbers, names"),
        ("A < B", "numbers, names"),
        ("'x' * 3", "numbers, names"),
        ("A // B", "numbers, names"),
        ("True + 1", "numbers, names"),
        ("1e400 * A", "a number in it is not finite"),
        ("123456789012345678901 + A", "cannot be held exactly"),
        ("A +", "not an arithmetic expression (invalid syntax)"),
        ("(" * 300 + "A" + ")" * 300, "not an arithmetic expression (too many nested parentheses)"),
        ("-" * 3000 + "A", "not an arithmetic expression (it nests too deeply)"),
        ("A" + "+A" * (MAX_DEPTH + 1), f"nests more than {MAX_DEPTH} operations deep"),
        ("A+" * 3000 + "A", f"is 6001 characters long; at most {MAX_LENGTH}"),
        ("", "must be an arithmetic expression"),
        (["A"], "must be an arithmetic expression"),
    ],
)
def test_refused(text, message):
    with pytest.raises(ValueError) as info:
        parse_formula(text)
    assert message in str(info.value)


def test_unknown_name_at_evaluation():
    with pytest.raises(ValueError, match="formula names B, which has no values here"):
        parse_formula("A + B").evaluate({"A": [1.0]})


def test_a_long_sum_of_items_is_allowed():
    names = [f"I{i:03d}" for i in range(MAX_DEPTH)]
    f = parse_formula(" + ".join(names))
    assert f.names == tuple(names)
    assert f.evaluate({n: [1.0, 2.0] for n in names}).tolist() == [200.0, 400.0]
