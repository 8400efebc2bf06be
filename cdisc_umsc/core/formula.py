"""Spec formulas: arithmetic over named values, parsed and evaluated within fixed bounds.

A formula (a derived record's total, an ADaM check's recomputation) is an arithmetic
expression: numbers, names, ``+ - * / **``, unary signs and parentheses, e.g.
``0.1 * (PASI0201 + PASI0202) * PASI0204``. Nothing else is accepted (no calls, attributes,
comparisons or text), the text is at most :data:`MAX_LENGTH` characters and nests at most
:data:`MAX_DEPTH` operations deep, and every operation is done on float64 arrays, so that no
formula can run long or grow a number without bound (``9**9**9`` overflows to a non-finite
value, which is an error, instead of computing a 370-million-digit integer).
"""

from __future__ import annotations

import ast
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

MAX_LENGTH = 4_000
MAX_DEPTH = 200

_BINARY = {
    ast.Add: np.add,
    ast.Sub: np.subtract,
    ast.Mult: np.multiply,
    ast.Div: np.divide,
    ast.Pow: np.power,
}
_UNARY = {ast.UAdd: np.positive, ast.USub: np.negative}
_WORDS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}


@dataclass(frozen=True)
class Formula:
    """A checked formula: its text, the names it reads (in order of first use), its tree."""

    text: str
    names: tuple[str, ...]
    tree: ast.expr

    def evaluate(self, columns: Mapping[str, object]) -> np.ndarray:
        """The formula over equal-length columns (one per name), as float64: NaN where an
        input is missing; a ValueError when a name has no column or a value is not finite
        (overflow, division by zero)."""
        absent = [n for n in self.names if n not in columns]
        if absent:
            raise ValueError(f"formula names {absent[0]}, which has no values here")
        arrays = {n: np.asarray(columns[n], dtype=np.float64) for n in self.names}
        with np.errstate(all="ignore"):
            result = np.asarray(_eval(self.tree, arrays), dtype=np.float64)
        bad = np.isinf(result) | (np.isnan(result) & ~_any_missing(arrays, result.shape))
        if bad.any():
            raise ValueError(
                f"formula gives no finite number (overflow, or division by zero) "
                f"for {int(bad.sum())} of {bad.size} value(s)"
            )
        return result


def _any_missing(arrays: dict[str, np.ndarray], shape: tuple[int, ...]) -> np.ndarray:
    """Where any input is missing (a NaN result there is a missing value, not an error)."""
    missing = np.zeros(shape, dtype=bool)
    for values in arrays.values():
        missing = missing | np.isnan(values)
    return missing


def _eval(node: ast.expr, arrays: dict[str, np.ndarray]) -> np.ndarray | np.float64:
    if isinstance(node, ast.BinOp):
        return _BINARY[type(node.op)](_eval(node.left, arrays), _eval(node.right, arrays))
    if isinstance(node, ast.UnaryOp):
        return _UNARY[type(node.op)](_eval(node.operand, arrays))
    if isinstance(node, ast.Name):
        return arrays[node.id]
    assert isinstance(node, ast.Constant) and isinstance(node.value, int | float)
    return np.float64(node.value)


def parse_formula(text: object) -> Formula:
    """Parse and check a formula; a ValueError says what is not allowed."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("formula must be an arithmetic expression such as 'A + B'")
    flat = " ".join(text.split())
    if len(flat) > MAX_LENGTH:
        raise ValueError(f"formula is {len(flat)} characters long; at most {MAX_LENGTH}")
    try:
        tree = ast.parse(flat, mode="eval").body
    except (SyntaxError, RecursionError, MemoryError) as exc:
        detail = exc.msg if isinstance(exc, SyntaxError) else "it nests too deeply"
        raise ValueError(f"formula is not an arithmetic expression ({detail})") from None
    names: list[str] = []
    stack: list[tuple[ast.expr, int]] = [(tree, 1)]
    while stack:  # iterative: the depth is checked before anything recurses
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ValueError(f"formula nests more than {MAX_DEPTH} operations deep")
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            stack += [(node.right, depth + 1), (node.left, depth + 1)]
        elif isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
            stack.append((node.operand, depth + 1))
        elif isinstance(node, ast.Name):
            if node.id not in names:
                names.append(node.id)
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, int | float)
            and not isinstance(node.value, bool)
        ):
            if isinstance(node.value, int) and abs(node.value) >= 2**53:
                raise ValueError(f"formula: the number {node.value} cannot be held exactly")
            if isinstance(node.value, float) and not math.isfinite(node.value):
                raise ValueError("formula: a number in it is not finite")
        else:
            raise ValueError(f"formula may use numbers, names, {_allowed()} and parentheses only")
    return Formula(text, tuple(names), tree)


def _allowed() -> str:
    return " ".join(_WORDS.values())
