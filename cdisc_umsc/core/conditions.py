"""The condition language: one grammar, one parser, one evaluator for every spec condition.

SDTM (``where:``, ``when:``, ``unless:``), ADaM (``where:``, ``when:``, ``select:``), lineage
and the define writer all read conditions through this module, so a condition means the same
everywhere. A condition is a mapping; all of its clauses must hold::

    VAR: value              equal (compared as numbers when the variable or the value is one)
    VAR: [v1, v2]           one of (same comparison as equal)
    VAR: null               blank (missing number or empty text)
    VAR: {not: test}        the test does not hold (a test is any of these right-hand sides)
    VAR: {eq|ne|gt|ge|lt|le: value}   compare: numerically for a number, else as text
                            (ISO 8601 dates order correctly as text); blanks never compare;
                            several operators all hold: {ge: 2, le: 24}
    VAR: {in: [v1, v2]}     one of
    any: [cond, cond]       at least one condition holds
    all: [cond, cond]       every condition holds
    not: cond               the condition does not hold
    has_records: DOMAIN     the subject has a record in DOMAIN
    has_records: {domain: DOMAIN, where: cond}   ... a record meeting ``cond``

Numbers in a spec are written as YAML numbers (``VISITNUM: 7``); a text value against a
numeric variable must be a number (``VISITNUM: seven`` is an error, not a silent no-match).
Conditions are parsed once, when the spec loads, into the objects below; a mistake is a
``file:line`` error then, not a surprise at run time. ``describe()`` gives the condition in
words for a reviewer (define.xml methods, lineage).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

from cdisc_umsc.core.errors import InputError
from cdisc_umsc.core.values import blank, distinct_texts

Scalar = str | int | float
_COMPARE: dict[str, Callable[[pd.Series, float | str], pd.Series]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gt": operator.gt,
    "ge": operator.ge,
    "lt": operator.lt,
    "le": operator.le,
}
_WORDS = {"eq": "=", "ne": "is not", "gt": ">", "ge": ">=", "lt": "<", "le": "<="}
KEYWORDS = frozenset({"any", "all", "not", "has_records"})


class ConditionError(InputError):
    """A condition that does not follow the grammar (reported with its spec ``file:line``)."""


class Source(Protocol):
    """What a condition is evaluated on: records with named values."""

    @property
    def index(self) -> pd.Index: ...

    def column(self, name: str) -> pd.Series:
        """The values of variable ``name`` for every record."""
        ...

    def has_records(self, domain: str, where: Condition | None) -> pd.Series:
        """Per record: whether its subject has a record in ``domain`` meeting ``where``."""
        ...


# ------------------------------------------------------------------------------- the model


@dataclass(frozen=True)
class Test:
    """``name`` compared with ``value`` by ``op`` (eq, ne, gt, ge, lt, le, in, null)."""

    name: str
    op: str
    value: Scalar | tuple[Scalar | None, ...] | None = None
    negate: bool = False

    def names(self) -> set[str]:
        return {self.name}


@dataclass(frozen=True)
class HasRecords:
    domain: str
    where: Condition | None = None

    def names(self) -> set[str]:
        return set() if self.where is None else self.where.names()


@dataclass(frozen=True)
class Condition:
    """``kind`` all / any / not of ``parts`` (tests, has_records, nested conditions)."""

    kind: str
    parts: tuple[Test | HasRecords | Condition, ...]
    where: str = ""

    def names(self) -> set[str]:
        """The variables the condition reads (not those inside has_records)."""
        found: set[str] = set()
        for part in self.parts:
            if not isinstance(part, HasRecords):
                found |= part.names()
        return found

    def domains(self) -> set[str]:
        """Domains read by has_records clauses."""
        found: set[str] = set()
        for part in self.parts:
            if isinstance(part, HasRecords):
                found.add(part.domain)
            elif isinstance(part, Condition):
                found |= part.domains()
        return found

    def evaluate(self, source: Source) -> pd.Series:
        """One boolean per record of ``source``."""
        return _evaluate(self, _columns(source))

    def describe(self) -> str:
        """The condition in words, e.g. ``VISITNUM = 7 and AEOUT is one of 'A', 'B'``."""
        return _describe(self)


def always(where: str = "") -> Condition:
    """The empty condition: every record."""
    return Condition("all", (), where)


# ------------------------------------------------------------------------------- parsing


def _where(obj: object, key: str | None = None, fallback: str = "") -> str:
    fn = getattr(obj, "where", None)
    if callable(fn):
        try:
            return str(fn(key)) if key is not None else str(fn())
        except TypeError:
            return str(fn())
    return fallback


def _scalar(value: object, where: str, what: str) -> Scalar:
    if isinstance(value, bool):
        raise ConditionError(
            f"{where}: {what}: true/false is ambiguous in a condition; write the value the data "
            "holds (Y, N, ...)"
        )
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise ConditionError(f"{where}: {what}: {value} is not a finite number")
        return value
    if isinstance(value, str):
        return value
    raise ConditionError(f"{where}: {what}: expected a single value, got {type(value).__name__}")


def _values(value: object, where: str, what: str) -> tuple[Scalar | None, ...]:
    """A list of values; null in it stands for blank."""
    if not isinstance(value, list | tuple) or not value:
        raise ConditionError(f"{where}: {what}: expected a non-empty list of values")
    return tuple(None if v is None else _scalar(v, where, what) for v in value)


def _test(name: str, rhs: object, where: str) -> Test | Condition:
    what = f"condition on {name}"
    if rhs is None:
        return Test(name, "null")
    if isinstance(rhs, list | tuple):
        return Test(name, "in", _values(rhs, where, what))
    if isinstance(rhs, Mapping):
        if not rhs:
            raise ConditionError(f"{where}: {what}: an empty mapping tests nothing")
        tests = [
            _operator(name, str(op), arg, _where(rhs, str(op), where)) for op, arg in rhs.items()
        ]
        return tests[0] if len(tests) == 1 else Condition("all", tuple(tests), where)
    return Test(name, "eq", _scalar(rhs, where, what))


def _operator(name: str, op: str, arg: object, where: str) -> Test | Condition:
    what = f"condition on {name}"
    if op == "not":
        inner = _test(name, arg, where)
        if isinstance(inner, Condition):
            return Condition("not", (inner,), where)
        return Test(inner.name, inner.op, inner.value, not inner.negate)
    if op == "in":
        return Test(name, "in", _values(arg, where, what))
    if op in _COMPARE:
        if arg is None:
            raise ConditionError(f"{where}: {what}: {op} needs a value (use null for blank)")
        return Test(name, op, _scalar(arg, where, what))
    raise ConditionError(
        f"{where}: {what}: unknown operator '{op}' (expected not, in, eq, ne, gt, ge, lt, le)"
    )


def parse_condition(obj: object, where: str = "") -> Condition:
    """Parse a spec condition (a mapping); ``where`` names it in errors (``file:line``).

    SpecMap positions are used for each clause when the spec loader provides them.
    """
    where = _where(obj, None, where) or where
    if obj is None:
        return always(where)
    if not isinstance(obj, Mapping):
        raise ConditionError(
            f"{where}: a condition is a mapping such as {{VAR: value}}, not a "
            f"{type(obj).__name__} (for alternatives use any: [{{...}}, {{...}}])"
        )
    parts: list[Test | HasRecords | Condition] = []
    for key, rhs in obj.items():
        name = str(key)
        at = _where(obj, name, where)
        if name in ("any", "all"):
            if not isinstance(rhs, list | tuple) or not rhs:
                raise ConditionError(f"{at}: {name}: expects a non-empty list of conditions")
            parts.append(Condition(name, tuple(parse_condition(c, at) for c in rhs), at))
        elif name == "not":
            parts.append(Condition("not", (parse_condition(rhs, at),), at))
        elif name == "has_records":
            parts.append(_has_records(rhs, at))
        elif not name or not name.isidentifier() and "." not in name:
            raise ConditionError(f"{at}: '{name}' is not a variable name")
        else:
            parts.append(_test(name, rhs, at))
    return Condition("all", tuple(parts), where)


def _has_records(rhs: object, where: str) -> HasRecords:
    if isinstance(rhs, str):
        return HasRecords(rhs)
    if isinstance(rhs, Mapping):
        unknown = set(map(str, rhs)) - {"domain", "where"}
        if unknown or "domain" not in rhs:
            raise ConditionError(
                f"{where}: has_records: expected DOMAIN or {{domain: DOMAIN, where: {{...}}}}"
            )
        inner = rhs.get("where")
        parsed = parse_condition(inner, _where(rhs, "where", where)) if inner else None
        return HasRecords(str(rhs["domain"]), parsed)
    raise ConditionError(f"{where}: has_records: expected a domain name")


# ------------------------------------------------------------------------------- evaluation


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _as_number(value: Scalar, name: str, where: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConditionError(
            f"{where}: condition on {name}: {name} is numeric, {value!r} is not a number"
        ) from None
    if not math.isfinite(number):
        raise ConditionError(f"{where}: condition on {name}: {value!r} is not a finite number")
    return number


def _numeric(values: pd.Series) -> pd.Series:
    if values.dtype.kind in "fiu":
        return values.astype("float64")
    return pd.to_numeric(values.astype(object).where(values.notna(), None), errors="coerce")


def _text(values: pd.Series) -> pd.Series:
    return values.astype(object).where(values.notna(), "").astype(str)


def _equal(values: pd.Series, value: Scalar, name: str, where: str) -> np.ndarray:
    if values.dtype.kind in "fiu" or _is_number(value):
        number = _as_number(value, name, where) if values.dtype.kind in "fiu" else float(value)
        return (_numeric(values) == number).fillna(False).to_numpy(dtype=bool)
    return (_text(values) == str(value)).to_numpy(dtype=bool)


def _compare(values: pd.Series, op: str, value: Scalar, name: str, where: str) -> np.ndarray:
    fn = _COMPARE[op]
    if values.dtype.kind in "fiu" or _is_number(value):
        number = _as_number(value, name, where)
        num = _numeric(values)
        hit = pd.Series(fn(num, number), index=values.index).fillna(False).to_numpy(dtype=bool)
        if op == "ne":  # blank is "not equal" to any value, as {not: value} is
            hit = hit | num.isna().to_numpy()
        return hit.astype(bool)
    text = _text(values)
    hit = pd.Series(fn(text, str(value)), index=values.index).to_numpy(dtype=bool)
    if op != "ne":
        hit = hit & (text != "").to_numpy()
    return hit


class _Distinct:
    """A text column as its distinct texts: ``texts[codes]`` is the column, blank as "".

    A test of a text column is worked out once per distinct text and spread back by code
    (data repeat few values). The last text is "" and stands for missing values (code -1):
    every test treats a missing text as it treats "" (equal, compare, blank)."""

    __slots__ = ("codes", "texts")

    def __init__(self, codes: np.ndarray, texts: pd.Series) -> None:
        self.codes, self.texts = codes, texts

    def spread(self, hit: np.ndarray) -> np.ndarray:
        """Per record, from one result per distinct text."""
        found = np.flatnonzero(hit)
        if len(found) in (0, len(hit)):
            return np.full(len(self.codes), len(found) > 0)
        if len(found) == 1 and found[0] != len(hit) - 1:  # one text (not blank): a compare
            return self.codes == found[0]
        if len(found) == len(hit) - 1 and hit[-1]:  # all texts but one (not blank)
            return self.codes != np.flatnonzero(~hit)[0]
        return hit[self.codes]


def _distinct(values: pd.Series) -> _Distinct | None:
    """The distinct texts of a text column (pandas ``str`` or objects that are all text);
    None for any other column (numbers, flags, mixed values), which is tested as it is."""
    found = distinct_texts(values)
    if found is None:
        return None
    codes, texts = found
    return _Distinct(codes, pd.Series(texts, dtype=object))


class _Columns:
    """The columns a condition reads from ``source``, each read (and its distinct texts
    found) once however many tests read it."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self._values: dict[str, pd.Series] = {}
        self._distinct: dict[str, _Distinct | None] = {}

    def values(self, name: str) -> pd.Series:
        if name not in self._values:
            self._values[name] = self.source.column(name)
        return self._values[name]

    def distinct(self, name: str) -> _Distinct | None:
        if name not in self._distinct:
            self._distinct[name] = _distinct(self.values(name))
        return self._distinct[name]


def _hit(test: Test, values: pd.Series, where: str) -> np.ndarray:
    if test.op == "null":
        return blank(values).to_numpy(dtype=bool)
    if test.op == "in":
        assert isinstance(test.value, tuple)
        hit = np.zeros(len(values), dtype=bool)
        for item in test.value:
            if item is None:
                hit |= blank(values).to_numpy(dtype=bool)
            else:
                hit |= _equal(values, item, test.name, where)
        return hit
    assert test.value is not None and not isinstance(test.value, tuple)
    if test.op == "eq":
        return _equal(values, test.value, test.name, where)
    return _compare(values, test.op, test.value, test.name, where)


def _test_mask(test: Test, columns: _Columns, where: str) -> np.ndarray:
    distinct = columns.distinct(test.name)
    if distinct is None:
        hit = _hit(test, columns.values(test.name), where)
    else:
        hit = distinct.spread(_hit(test, distinct.texts, where))
    return ~hit if test.negate else hit


def _mask(part: Test | HasRecords | Condition, columns: _Columns, where: str) -> np.ndarray:
    if isinstance(part, Condition):
        return _evaluate(part, columns).to_numpy(dtype=bool)
    if isinstance(part, HasRecords):
        return columns.source.has_records(part.domain, part.where).to_numpy(dtype=bool)
    return _test_mask(part, columns, where)


def _evaluate(cond: Condition, columns: _Columns) -> pd.Series:
    index = columns.source.index
    n = len(index)
    if cond.kind == "not":
        return pd.Series(~_mask(cond.parts[0], columns, cond.where), index=index)
    if cond.kind == "any":
        hit = np.zeros(n, dtype=bool)
        for part in cond.parts:
            hit |= _mask(part, columns, cond.where)
    else:
        hit = np.ones(n, dtype=bool)
        for part in cond.parts:
            hit &= _mask(part, columns, cond.where)
    return pd.Series(hit, index=index)


def _columns(source: Source) -> _Columns:
    """A FrameSource's own column cache (kept between conditions), else one for this call."""
    return source.columns if isinstance(source, FrameSource) else _Columns(source)


class FrameSource:
    """A condition source over one DataFrame (ADaM datasets, SDTM datasets read back).

    The columns conditions read are kept (with their distinct texts) for every condition
    evaluated on the source, so several conditions on one frame read each column once; the
    frame must not change while the source is used."""

    def __init__(
        self,
        frame: pd.DataFrame,
        what: str = "condition",
        records: Callable[[str, Condition | None], pd.Series] | None = None,
    ) -> None:
        self.frame, self.what, self._records = frame, what, records
        self.columns = _Columns(self)

    @property
    def index(self) -> pd.Index:
        return self.frame.index

    def column(self, name: str) -> pd.Series:
        if name not in self.frame.columns:
            raise ConditionError(f"{self.what}: no variable {name}")
        return self.frame[name]

    def has_records(self, domain: str, where: Condition | None) -> pd.Series:
        if self._records is None:
            raise ConditionError(f"{self.what}: has_records is not available here")
        return self._records(domain, where)


def match(frame: pd.DataFrame, cond: object, what: str = "condition") -> pd.Series:
    """Records of ``frame`` meeting ``cond`` (a parsed Condition or a spec mapping)."""
    parsed = cond if isinstance(cond, Condition) else parse_condition(cond, what)
    return parsed.evaluate(FrameSource(frame, what))


# ------------------------------------------------------------------------------- words


def _show(value: Scalar) -> str:
    if _is_number(value):
        return f"{value:g}" if isinstance(value, float) else str(value)
    return f"'{value}'"


def _describe_test(t: Test) -> str:
    if t.op == "null":
        return f"{t.name} is {'not ' if t.negate else ''}blank"
    if t.op == "in":
        assert isinstance(t.value, tuple)
        items = ", ".join("blank" if v is None else _show(v) for v in t.value)
        return f"{t.name} is {'not ' if t.negate else ''}one of {items}"
    assert t.value is not None and not isinstance(t.value, tuple)
    if t.op == "eq" and t.value == "":  # equal to empty text: blank
        return f"{t.name} is {'not ' if t.negate else ''}blank"
    if t.op == "eq":
        return f"{t.name} {'is not' if t.negate else '='} {_show(t.value)}"
    text = f"{t.name} {_WORDS[t.op]} {_show(t.value)}"
    return f"not ({text})" if t.negate else text


def _describe(part: Test | HasRecords | Condition, nested: bool = False) -> str:
    if isinstance(part, Test):
        return _describe_test(part)
    if isinstance(part, HasRecords):
        text = f"the subject has a record in {part.domain}"
        return text + (f" with {_describe(part.where, True)}" if part.where else "")
    if part.kind == "not":
        return f"not ({_describe(part.parts[0])})"
    if not part.parts:
        return "every record"
    joiner = " or " if part.kind == "any" else " and "
    words = joiner.join(_describe(p, True) for p in part.parts)
    return f"({words})" if nested and len(part.parts) > 1 else words


def describe(cond: Condition | None) -> str:
    """Words for an optional condition ('' for none)."""
    return "" if cond is None or not cond.parts else cond.describe()


__all__: Sequence[str] = (
    "Condition",
    "ConditionError",
    "FrameSource",
    "HasRecords",
    "KEYWORDS",
    "Source",
    "Test",
    "always",
    "describe",
    "match",
    "parse_condition",
)
