"""The CDISC CORE SDTMIG rules, run by this engine from their published definitions.

scripts/build_standards.py bundles the CORE rules (conditions, scope, IG versions, citations).
Each rule whose check can be evaluated on one dataset's records is registered here as catalogue
rule ``UMSC-CR<number>`` (CORE-000201 -> UMSC-CR000201) and evaluated vectorised with the
semantics of the CORE operators (cdisc-rules-engine ``DataframeType``): ``--`` stands for the
dataset's domain prefix; a comparator that names a variable of the dataset is that variable,
else a literal; equality is false when both sides are blank; a rule whose target variables are
absent is not applicable to that dataset. :func:`unsupported` says why a rule is not run
(operations across datasets, joins, metadata checks); docs/rule-coverage.md lists both.

Severity: CORE rules carry none; they report as warnings (a finding CORE would raise, which a
reviewer judges), so that errors stay with the rules this project words and tests itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import cache, partial
from typing import TypeGuard

import numpy as np
import pandas as pd

from cdisc_umsc.metadata import standards as S
from cdisc_umsc.metadata.model import Dataset
from cdisc_umsc.validate.catalogue import Rule, check, csv_rules, register_rules
from cdisc_umsc.validate.context import (
    Context,
    as_text,
    blank,
    by_value,
    by_values,
    duplicated,
    numbers,
    stripped,
)

Hits = Iterator[pd.DataFrame]
Mask = np.ndarray

#: SDTMIG version whose CORE rules judge a study that declares none of CORE's versions.
DEFAULT_VERSION = "3.4"
_D2 = "[0-9]{2}"  # two ASCII digits (ISO 8601 3.4.1), never another script's digits
_DATE = re.compile(
    rf"[0-9]{{4}}(-{_D2}(-{_D2}(T{_D2}(:{_D2}(:{_D2}(\.[0-9]+)?)?)?)?)?)?(Z|[+-]{_D2}(:?{_D2})?)?"
)
_COMPLETE = re.compile(
    rf"[0-9]{{4}}-{_D2}-{_D2}(T{_D2}(:{_D2}(:{_D2}(\.[0-9]+)?)?)?)?(Z|[+-]{_D2}:{_D2})?"
)


def rule_id(core_id: str) -> str:
    """The catalogue id of a CORE rule: CORE-000201 -> UMSC-CR000201."""
    return "UMSC-CR" + core_id.split("-", 1)[1]


# ----------------------------------------------------------------------------- operators


class _Data:
    """One dataset as the operators see it: columns by resolved name, the '--' prefix, and
    the run's context for the operators that look into other datasets."""

    def __init__(self, frame: pd.DataFrame, prefix: str, ctx: Context | None = None) -> None:
        self.frame, self.prefix, self.n, self.ctx = frame, prefix, len(frame), ctx
        self._text: dict[str, pd.Series] = {}

    def name(self, text: object) -> object:
        """A comparator as a rule writes it: text is a variable name ('--' resolved), any
        other value a literal."""
        return self.var(text) if isinstance(text, str) else text

    def var(self, text: object) -> str:
        """The variable a rule names ('--' resolved); a name that is not text names none."""
        if not isinstance(text, str):
            return ""
        return self.prefix + text[2:] if text.startswith("--") else text

    def has(self, name: object) -> TypeGuard[str]:
        return isinstance(name, str) and name in self.frame.columns

    def column(self, name: str) -> pd.Series:
        """The variable's values; a variable the dataset lacks reads as blank (the rules
        test such variables' presence too, e.g. 'not_exists X or empty X')."""
        if name in self.frame.columns:
            return self.frame[name]
        return pd.Series("", index=self.frame.index, dtype=object)

    def text(self, name: str) -> pd.Series:
        if name not in self._text:
            self._text[name] = as_text(self.column(name))
        return self._text[name]

    def numeric(self, name: str) -> pd.Series:
        return numbers(self.column(name))

    def stripped(self, name: str) -> pd.Series:
        return stripped(self.column(name))

    def is_num(self, name: str) -> bool:
        return pd.api.types.is_numeric_dtype(self.column(name).dtype)

    def blank(self, name: str) -> Mask:
        return blank(self.column(name)).to_numpy(dtype=bool)


def _literal(value: object) -> object:
    return value


def _side(data: _Data, value: dict) -> tuple[str, object, str | None]:
    """(target column, comparator (column name or literal), the comparator's column when
    it names one)."""
    target = data.var(value.get("target"))
    comp = value.get("comparator")
    if value.get("value_is_literal"):
        return target, comp, None
    comp = data.name(comp)
    return target, comp, comp if data.has(comp) else None


def _as_int(value: object) -> int:
    """A literal comparator as the integer ``int()`` reads."""
    if isinstance(value, int | float | str):
        return int(value)
    raise TypeError(f"not an integer: {value!r}")


def _equal(data: _Data, value: dict, negate: bool, fold: bool = False) -> Mask:
    target, comp, col = _side(data, value)
    t_blank = data.blank(target)
    if col is not None:
        c_blank = data.blank(col)
        if data.is_num(target) and data.is_num(col):
            same = (data.numeric(target) == data.numeric(col)).to_numpy(dtype=bool)
        else:
            a, b = data.text(target), data.text(col)
            if fold:
                a, b = a.str.lower(), b.str.lower()
            same = (a == b).to_numpy(dtype=bool)
    else:
        c_blank = np.full(data.n, comp is None or comp == "", dtype=bool)
        if isinstance(comp, int | float) and not isinstance(comp, bool):
            same = (data.numeric(target) == float(comp)).fillna(False).to_numpy(dtype=bool)
        elif data.is_num(target):
            number = pd.to_numeric(pd.Series([comp]), errors="coerce").iloc[0]
            same = (data.numeric(target) == number).fillna(False).to_numpy(dtype=bool)
        else:
            text = data.text(target)
            other = "" if comp is None else str(comp)
            if fold:
                text, other = text.str.lower(), other.lower()
            same = (text == other).to_numpy(dtype=bool)
    both = t_blank & c_blank
    one = t_blank ^ c_blank
    if negate:
        return ~both & (one | ~same)
    return ~both & ~one & same


def _values(comp: object) -> list[str]:
    items = comp if isinstance(comp, list | tuple) else [comp]
    out = []
    for v in items:
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        out.append("" if v is None else str(v))
    return out


def _contained(data: _Data, value: dict, fold: bool = False) -> Mask:
    target, comp, col = _side(data, value)
    if col is not None:
        return (data.text(target) == data.text(col)).to_numpy(dtype=bool) & ~data.blank(target)
    text = data.text(target)
    allowed = _values(comp)
    if fold:
        text, allowed = text.str.lower(), [a.lower() for a in allowed]
    hit = text.isin(set(allowed)).to_numpy(dtype=bool)
    return hit & ~(data.blank(target) & ("" not in allowed))


def _compare(op: Callable) -> Callable[[_Data, dict], Mask]:
    def run(data: _Data, value: dict) -> Mask:
        target, comp, col = _side(data, value)
        left = data.numeric(target)
        right = (
            data.numeric(col)
            if col is not None
            else pd.to_numeric(pd.Series([comp]), errors="coerce").iloc[0]
        )
        return pd.Series(op(left, right), index=left.index).fillna(False).to_numpy(dtype=bool)

    return run


def _regex(negate: bool, part: str = "") -> Callable[[_Data, dict], Mask]:
    def run(data: _Data, value: dict) -> Mask:
        target = data.var(value.get("target"))
        pattern = re.compile(str(value.get("comparator")))
        size = value.get(part) if part else None

        def test(s: pd.Series) -> pd.Series:
            cut = s.str.slice(stop=size) if part == "prefix" else s
            cut = s.str.slice(-_as_int(size)) if part == "suffix" else cut
            if part:
                return cut.map(lambda x: pattern.search(x) is not None)  # per distinct value
            return cut.str.match(pattern).fillna(False).astype(bool)

        hit = by_value(data.text(target), test).to_numpy(dtype=bool)
        present = ~pd.isna(data.column(target)).to_numpy(dtype=bool)
        return present & (~hit if negate else hit)

    return run


def _length(op: Callable) -> Callable[[_Data, dict], Mask]:
    def run(data: _Data, value: dict) -> Mask:
        target, comp, col = _side(data, value)
        size = data.text(target).str.len()
        other = data.text(col).str.len() if col is not None else _as_int(comp)
        hit = pd.Series(op(size, other), index=size.index).fillna(False).to_numpy(dtype=bool)
        return hit & ~pd.isna(data.column(target)).to_numpy(dtype=bool)

    return run


def _date_key(text: pd.Series) -> pd.Series:
    """ISO 8601 text kept when it is a valid (possibly partial) date/time, else ''."""
    return by_value(text, lambda s: s.where(s.str.fullmatch(_DATE).fillna(False), ""))


def _date(op: Callable) -> Callable[[_Data, dict], Mask]:
    """Dates compared at the precision both sides have (CORE compare_dates)."""

    def run(data: _Data, value: dict) -> Mask:
        target, comp, col = _side(data, value)
        left = _date_key(data.stripped(target))
        right = (
            _date_key(data.stripped(col))
            if col is not None
            else pd.Series(str(comp or ""), index=left.index)
        )
        right = right.where(right.str.fullmatch(_DATE).fillna(False), "")
        part = value.get("date_component")
        width = {"year": 4, "month": 7, "day": 10, "hour": 13, "minute": 16, "second": 19}
        n = np.minimum(left.str.len(), right.str.len())
        if part in width:
            n = np.minimum(n, width[part])
        n = np.where(n >= 10, np.minimum(n, 19), np.where(n >= 7, 7, np.where(n >= 4, 4, 0)))
        a = pd.Series("", index=left.index, dtype=object)
        b = pd.Series("", index=left.index, dtype=object)
        for k in np.unique(n):  # a handful of precisions, not rows
            at = n == k
            a[at], b[at] = left[at].str.slice(0, int(k)), right[at].str.slice(0, int(k))
        ok = n > 0
        return ok & pd.Series(op(a, b), index=a.index).to_numpy(dtype=bool)

    return run


def _complete(negate: bool) -> Callable[[_Data, dict], Mask]:
    def run(data: _Data, value: dict) -> Mask:
        target = data.var(value.get("target"))
        text = data.stripped(target)
        full = by_value(text, lambda s: s.str.fullmatch(_COMPLETE).fillna(False).astype(bool))
        hit = full.to_numpy(dtype=bool)
        return ~hit if negate else hit

    return run


def _columns(data: _Data, value: dict) -> list[str]:
    target = data.var(value.get("target"))
    comp = value.get("comparator")
    comps = comp if isinstance(comp, list) else [comp]
    names = (data.name(c) for c in comps)
    return list(dict.fromkeys([target, *(n for n in names if data.has(n))]))


def _not_unique_set(data: _Data, value: dict) -> Mask:
    cols = [c for c in _columns(data, value) if data.has(c)]
    if not cols:
        return np.zeros(data.n, dtype=bool)
    return duplicated(data.frame, cols)


def _not_unique_relationship(data: _Data, value: dict) -> Mask:
    cols = [c for c in _columns(data, value) if data.has(c)]
    if len(cols) < 2 or cols[0] != data.name(value.get("target")):
        return np.zeros(data.n, dtype=bool)
    target, others = cols[0], cols[1:]
    if not others:
        return np.zeros(data.n, dtype=bool)

    def violated(key: list[str], val: list[str]) -> Mask:
        k = pd.MultiIndex.from_frame(pd.DataFrame({c: data.text(c) for c in key}))
        v = pd.DataFrame({c: data.text(c) for c in val})
        k_blank = np.logical_or.reduce([data.blank(c) for c in key])
        v_key = v.astype(str).agg("\x1f".join, axis=1) if len(val) > 1 else v.iloc[:, 0]
        v_blank = np.logical_or.reduce([data.blank(c) for c in val])
        frame = pd.DataFrame({"k": k.codes[0] if len(key) == 1 else pd.factorize(k)[0]})
        frame["v"] = pd.factorize(v_key.where(~v_blank, "\x00"))[0]
        frame = frame[~k_blank]
        many = frame.groupby("k")["v"].nunique()
        bad = set(many.index[many > 1])
        codes = k.codes[0] if len(key) == 1 else pd.factorize(k)[0]
        return np.isin(codes, list(bad)) & ~k_blank

    return violated([target], others) | violated(others, [target])


def _exists(negate: bool) -> Callable[[_Data, dict], Mask]:
    def run(data: _Data, value: dict) -> Mask:
        here = data.has(data.name(value.get("target")))
        return np.full(data.n, here != negate, dtype=bool)

    return run


def _contains(negate: bool) -> Callable[[_Data, dict], Mask]:
    def run(data: _Data, value: dict) -> Mask:
        target, comp, col = _side(data, value)
        text = data.text(target)
        if col is not None:
            pairs = by_values(
                lambda f: pd.Series([b in a for a, b in zip(f[0], f[1], strict=True)]),
                text,
                data.text(col),
            )  # per distinct pair of values
            hit = pairs.to_numpy(dtype=bool)
        else:
            hit = by_value(text, lambda s: s.str.contains(str(comp), regex=False)).to_numpy(
                dtype=bool
            )
        return ~hit if negate else hit

    return run


def _affix(kind: str, negate: bool) -> Callable[[_Data, dict], Mask]:
    def run(data: _Data, value: dict) -> Mask:
        target, comp, col = _side(data, value)
        size = int(value.get(kind) or 0)
        text = data.text(target)
        part = text.str.slice(stop=size) if kind == "prefix" else text.str.slice(-size)
        if value.get("comparator") == "DOMAIN" and kind == "prefix":
            other: object = data.prefix
        else:
            other = data.text(col) if col is not None else str(comp)
        hit = (part == other).to_numpy(dtype=bool) & ~data.blank(target)
        return ~hit if negate else hit

    return run


def _affix_in(kind: str, negate: bool) -> Callable[[_Data, dict], Mask]:
    def run(data: _Data, value: dict) -> Mask:
        target, comp, _ = _side(data, value)
        size = int(value.get(kind) or 0)
        text = data.text(target)
        part = text.str.slice(stop=size) if kind == "prefix" else text.str.slice(-size)
        hit = part.isin(set(_values(comp))).to_numpy(dtype=bool) & ~data.blank(target)
        return ~hit if negate else hit

    return run


def _starts(kind: str) -> Callable[[_Data, dict], Mask]:
    def run(data: _Data, value: dict) -> Mask:
        target, comp, _ = _side(data, value)
        text = data.text(target)
        fn = text.str.startswith if kind == "start" else text.str.endswith
        return fn(str(comp)).fillna(False).to_numpy(dtype=bool)

    return run


def _empty(negate: bool) -> Callable[[_Data, dict], Mask]:
    def run(data: _Data, value: dict) -> Mask:
        hit = data.blank(data.var(value.get("target")))
        return ~hit if negate else hit

    return run


def _maps_to_many(data: _Data, value: dict) -> Mask:
    """Records whose target value goes with more than one value of the comparator variable
    (within the 'within' variables present): P21's 'inconsistent value for B within A'."""
    target, comp = data.var(value.get("target")), data.name(value.get("comparator"))
    if not data.has(comp):
        return np.zeros(data.n, dtype=bool)
    named = (data.name(w) for w in value.get("within") or [])
    within = [w for w in named if data.has(w)]
    key = pd.DataFrame({c: data.text(c) for c in [target, *within]})
    codes = key.groupby(list(key.columns), sort=False).ngroup().to_numpy()
    other = pd.Series(pd.factorize(data.text(comp))[0]).where(~data.blank(comp))
    many = other.groupby(codes).transform("nunique").to_numpy() > 1  # blanks not counted
    return many & ~data.blank(target)


def _other(data: _Data, domain: str, columns: list[str]) -> pd.DataFrame | None:
    """The records of every dataset of ``domain`` (splits joined) with ``columns``."""
    ctx = data.ctx
    if ctx is None:
        return None
    names = ctx.domain_datasets(domain) if len(domain) == 2 else [domain]
    parts = [
        ctx.datasets[n][columns]
        for n in names
        if n in ctx.datasets and set(columns) <= set(ctx.datasets[n].columns)
    ]
    if not parts:
        return None
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


def _not_in_dataset(data: _Data, value: dict) -> Mask:
    """Records whose (non-blank) target values are not found in the named dataset's columns
    (same names unless 'columns' gives them); no such dataset: nothing to judge by."""
    target = value.get("target")
    mine = [data.var(m) for m in (target if isinstance(target, list) else [target])]
    theirs = [data.var(c) for c in value.get("columns") or mine]
    if any(not data.has(m) for m in mine):
        return np.zeros(data.n, dtype=bool)
    other = _other(data, str(value.get("comparator")), theirs)
    if other is None:
        return np.zeros(data.n, dtype=bool)
    here = pd.MultiIndex.from_arrays([data.text(m) for m in mine])
    there = pd.MultiIndex.from_arrays([as_text(other[c]) for c in theirs])
    blank_any = np.logical_or.reduce([data.blank(m) for m in mine])
    return ~here.isin(there) & ~blank_any


def _records_in(negate: bool) -> Callable[[_Data, dict], Mask]:
    def run(data: _Data, value: dict) -> Mask:
        target = data.var(value.get("target"))
        other = _other(data, str(value.get("comparator")), [target])
        if other is None:
            return np.zeros(data.n, dtype=bool)
        has = data.text(target).isin(set(as_text(other[target]))).to_numpy(dtype=bool)
        return ~has & ~data.blank(target) if negate else has

    return run


def _after_latest(data: _Data, value: dict) -> Mask:
    """Records whose complete target date is after the subject's latest complete date of
    'comparator' (DOMAIN.VARIABLE, e.g. DS.DSSTDTC)."""
    target = data.var(value.get("target"))
    domain, var = str(value.get("comparator")).split(".", 1)
    other = _other(data, domain, ["USUBJID", var])
    if other is None or not data.has("USUBJID"):
        return np.zeros(data.n, dtype=bool)
    dates = as_text(other[var]).str.slice(0, 10)
    complete = dates.str.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}").fillna(False).astype(bool)
    latest = dates[complete].groupby(as_text(other["USUBJID"])[complete]).max()
    mine = data.text(target).str.slice(0, 10)
    ok = mine.str.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}").fillna(False).astype(bool)
    ref = data.text("USUBJID").map(latest)
    return (ok & ref.notna() & (mine > ref.fillna(""))).to_numpy(dtype=bool)


OPERATORS: dict[str, Callable[[_Data, dict], Mask]] = {
    "maps_to_many": _maps_to_many,
    "not_in_dataset": _not_in_dataset,
    "has_records_in": _records_in(False),
    "has_no_records_in": _records_in(True),
    "date_after_latest": _after_latest,
    "empty": _empty(False),
    "non_empty": _empty(True),
    "equal_to": lambda d, v: _equal(d, v, False),
    "not_equal_to": lambda d, v: _equal(d, v, True),
    "equal_to_case_insensitive": lambda d, v: _equal(d, v, False, fold=True),
    "not_equal_to_case_insensitive": lambda d, v: _equal(d, v, True, fold=True),
    "is_contained_by": lambda d, v: _contained(d, v),
    "is_not_contained_by": lambda d, v: ~_contained(d, v),
    "is_contained_by_case_insensitive": lambda d, v: _contained(d, v, fold=True),
    "is_not_contained_by_case_insensitive": lambda d, v: ~_contained(d, v, fold=True),
    "less_than": _compare(lambda a, b: a < b),
    "less_than_or_equal_to": _compare(lambda a, b: a <= b),
    "greater_than": _compare(lambda a, b: a > b),
    "greater_than_or_equal_to": _compare(lambda a, b: a >= b),
    "matches_regex": _regex(False),
    "not_matches_regex": _regex(True),
    "prefix_matches_regex": _regex(False, "prefix"),
    "not_prefix_matches_regex": _regex(True, "prefix"),
    "suffix_matches_regex": _regex(False, "suffix"),
    "not_suffix_matches_regex": _regex(True, "suffix"),
    "longer_than": _length(lambda a, b: a > b),
    "longer_than_or_equal_to": _length(lambda a, b: a >= b),
    "shorter_than": _length(lambda a, b: a < b),
    "shorter_than_or_equal_to": _length(lambda a, b: a <= b),
    "date_equal_to": _date(lambda a, b: a == b),
    "date_not_equal_to": _date(lambda a, b: a != b),
    "date_less_than": _date(lambda a, b: a < b),
    "date_less_than_or_equal_to": _date(lambda a, b: a <= b),
    "date_greater_than": _date(lambda a, b: a > b),
    "date_greater_than_or_equal_to": _date(lambda a, b: a >= b),
    "is_complete_date": _complete(False),
    "is_incomplete_date": _complete(True),
    "is_not_unique_set": _not_unique_set,
    "is_unique_set": lambda d, v: ~_not_unique_set(d, v),
    "is_not_unique_relationship": _not_unique_relationship,
    "is_unique_relationship": lambda d, v: ~_not_unique_relationship(d, v),
    "exists": _exists(False),
    "not_exists": _exists(True),
    "contains": _contains(False),
    "does_not_contain": _contains(True),
    "prefix_equal_to": _affix("prefix", False),
    "prefix_not_equal_to": _affix("prefix", True),
    "suffix_equal_to": _affix("suffix", False),
    "suffix_not_equal_to": _affix("suffix", True),
    "prefix_is_contained_by": _affix_in("prefix", False),
    "prefix_is_not_contained_by": _affix_in("prefix", True),
    "suffix_is_contained_by": _affix_in("suffix", False),
    "suffix_is_not_contained_by": _affix_in("suffix", True),
    "starts_with": _starts("start"),
    "ends_with": _starts("end"),
}
#: Operators that read a column's presence, not its values (their target may be absent).
_PRESENCE = frozenset({"exists", "not_exists"})
#: value keys the operators above understand.
_KEYS = frozenset(
    {
        "target", "comparator", "value_is_literal", "prefix", "suffix", "date_component",
        "within", "columns",
    }
)  # fmt: skip


# ----------------------------------------------------------------------------- conditions


def _leaves(cond: object, in_any: bool = False) -> Iterator[dict]:
    yield from (leaf for leaf, _ in _placed(cond, in_any))


def _placed(cond: object, in_any: bool = False) -> Iterator[tuple[dict, bool]]:
    """(leaf, whether an 'any' encloses it) of a condition tree."""
    if isinstance(cond, dict):
        if "operator" in cond:
            yield cond, in_any
        for part in cond.get("all") or []:
            yield from _placed(part, in_any)
        for part in cond.get("any") or []:
            yield from _placed(part, True)
        if "not" in cond:
            yield from _placed(cond["not"], in_any)


def evaluate(cond: dict, data: _Data) -> Mask:
    """One boolean per record: the CORE condition tree holds. A test of a variable the
    dataset lacks (possible only inside 'any', see targets) does not hold, as in CORE."""
    if "operator" in cond:
        value = cond.get("value") or {}
        names = value.get("target")
        names = names if isinstance(names, list) else [names]
        if cond["operator"] not in _PRESENCE and not all(data.has(data.name(n)) for n in names):
            return np.zeros(data.n, dtype=bool)
        return OPERATORS[cond["operator"]](data, value)
    if "all" in cond:
        out = np.ones(data.n, dtype=bool)
        for part in cond["all"]:
            out &= evaluate(part, data)
        return out
    if "any" in cond:
        out = np.zeros(data.n, dtype=bool)
        for part in cond["any"]:
            out |= evaluate(part, data)
        return out
    if "not" in cond:
        return ~evaluate(cond["not"], data)
    raise ValueError(f"CORE condition without all / any / not / operator: {sorted(cond)}")


def targets(rule: dict, prefix: str) -> tuple[set[str], set[str]]:
    """(variables the rule needs, variables it may do without): a dataset lacking a needed
    variable is outside the rule (CORE: 'column not found in data'), a --VAR comparator
    included (without AESOC, 'AEBODSYS equals AESOC' cannot be judged); a variable tested
    only for its presence, or only inside an 'any', may be absent."""
    data = _Data(pd.DataFrame(), prefix)
    needed, optional = set(), set()
    for leaf, in_any in _placed(rule.get("conditions")):
        value = leaf.get("value") or {}
        names = value.get("target")
        names = list(names) if isinstance(names, list) else [names]
        comp = value.get("comparator")
        if isinstance(comp, str) and comp.startswith("--") and not value.get("value_is_literal"):
            names.append(comp)  # a --VAR comparator is a variable the test reads
        for name in map(str, map(data.name, names)):
            if leaf["operator"] in _PRESENCE or in_any:
                optional.add(name)
            else:
                needed.add(name)
    return needed, optional - needed


def unsupported(rule: dict) -> str:
    """Why a CORE rule is not run by this engine ('' when it is)."""
    if rule["core_id"] in own_core_ids():
        return ""  # implemented by a rules.csv rule (see own_core_ids)
    if rule.get("rule_type") != "Record Data":
        return f"rule type '{rule.get('rule_type')}' (not a record-data check)"
    if rule.get("operations"):
        ops = sorted({o.get("operator", "") for o in rule["operations"]})
        return f"needs CORE operations ({', '.join(ops)}) computed across records or datasets"
    if rule.get("datasets"):
        return (
            "joins other datasets (match datasets: "
            + ", ".join(d.get("domain_name", "") for d in rule["datasets"])
            + ")"
        )
    leaves = list(_leaves(rule.get("conditions")))
    if not leaves:
        return "no record-level condition"
    for leaf in leaves:
        op = leaf.get("operator")
        if op not in OPERATORS:
            return f"operator '{op}' is not implemented"
        value = leaf.get("value") or {}
        extra = set(value) - _KEYS - {"type_insensitive", "round_values"}
        if extra:
            return f"operator '{op}' with options {sorted(extra)} is not implemented"
        if str(value.get("target", "")).startswith("$") or not value.get("target"):
            return "reads a value computed by CORE operations"
    return ""


# ----------------------------------------------------------------------------- scope


_CLASSES = {
    "FINDINGS": "FINDINGS",
    "FINDINGS ABOUT": "FINDINGS ABOUT",
    "EVENTS": "EVENTS",
    "INTERVENTIONS": "INTERVENTIONS",
    "SPECIAL PURPOSE": "SPECIAL PURPOSE",
    "TRIAL DESIGN": "TRIAL DESIGN",
    "RELATIONSHIP": "RELATIONSHIP",
}


def _class(ctx: Context, name: str) -> str:
    text = re.sub(r"[\s_-]+", " ", ctx.domain_class(name)).strip().upper()
    if name.startswith("SUPP") or name == "RELREC":
        return "RELATIONSHIP"
    return _CLASSES.get(text, text)


def _domain_names(name: str) -> set[str]:
    names = {name, name[:2]}
    if name.startswith("SUPP"):
        names |= {"SUPP--", "SUPPQUAL"}
    if name.startswith("AP") and len(name) == 4:
        names.add("AP--")
    return names


def in_scope(rule: dict, ctx: Context, name: str) -> bool:
    """Whether the rule's domains, classes and IG versions take in dataset ``name``."""
    declared = ctx.study.standard_version
    version = declared if declared in rule.get("versions", ()) else None
    if version is None and declared in ("3.2", "3.3", "3.4"):
        return False  # the rule does not exist for the IG version the study declares
    if version is None and DEFAULT_VERSION not in rule.get("versions", ()):
        return False
    names = _domain_names(name)
    domains = rule.get("domains") or {}
    include = set(domains.get("Include") or ["ALL"])
    if "ALL" not in include and not names & include:
        return False
    if names & set(domains.get("Exclude") or []):
        return False
    classes = rule.get("classes") or {}
    cls = _class(ctx, name)
    inc = set(classes.get("Include") or ["ALL"])
    if "ALL" not in inc and cls not in inc:
        return False
    return cls not in set(classes.get("Exclude") or [])


def _prefix(ctx: Context, name: str, frame: pd.DataFrame) -> str:
    if name.startswith("SUPP") or name == "RELREC":
        return name[:2]
    if name.startswith("AP") and len(name) == 4:
        return name[2:4]
    return Context.prefix(name)


# ----------------------------------------------------------------------------- registration


def _citation(rule: dict) -> str:
    cites = rule.get("citations") or {}
    text = cites.get(DEFAULT_VERSION) or next(iter(cites.values()), "")
    return f"{rule['core_id']}; {text}" if text else rule["core_id"]


def make_check(rule: dict, rid: str) -> Callable[..., Hits]:
    """The check function of a declared rule (CORE's form: conditions, output_variables,
    sensitivity) registered as catalogue rule ``rid``."""
    message = rule.get("message") or rule.get("description") or rid

    def run(ctx: Context, name: str, frame: pd.DataFrame, meta: Dataset | None) -> Hits:
        prefix = _prefix(ctx, name, frame)
        values, optional = targets(rule, prefix)
        here = set(frame.columns)
        if not values <= here:
            ctx.skip(rid)
            return
        data = _Data(frame, prefix, ctx)
        mask = evaluate(rule["conditions"], data)
        if not mask.any():
            return
        shown = [data.var(v) for v in rule.get("output_variables") or []]
        shown = [v for v in shown if v in here] or sorted(values | optional)
        value = data.text(shown[0])  # an absent variable reads as blank
        detail = f"{shown[0]}='" + value + "'"
        for other in shown[1:]:
            value = value + ", " + data.text(other)
            detail = detail + f", {other}='" + data.text(other) + "'"
        if rule.get("sensitivity") == "Dataset":  # one finding for the dataset, as CORE
            first = int(np.flatnonzero(mask)[0])
            text = f"{int(mask.sum())} record(s) in {name}, first record {first + 1}"
            yield ctx.note(name, ", ".join(shown), str(value.iloc[first]), text)
            return
        yield ctx.hits(name, mask, ", ".join(shown), value, detail)

    run.__name__ = f"declared_{rid.replace('-', '_').lower()}"
    run.__doc__ = f"{rid}: {message}"
    return run


@cache
def own_core_ids() -> frozenset[str]:
    """CORE ids that rules.csv rules implement in this project's own words."""
    return frozenset(i for r in csv_rules() for i in r.core_id.split(";") if i)


@cache
def registered_rules() -> tuple[tuple[dict, Rule], ...]:
    """(CORE rule, catalogue Rule) of every bundled CORE rule this engine runs: those it can
    evaluate and that no rule of rules.csv already implements (its core_id cites them)."""
    out = []
    for rule in S.core_rules():
        if unsupported(rule) or rule["core_id"] in own_core_ids():
            continue
        rid = rule_id(rule["core_id"])
        out.append(
            (
                rule,
                Rule(
                    id=rid,
                    severity="warning",
                    dev_severity="",
                    scope="dataset",
                    applies="sdtm",
                    core_id=rule["core_id"],
                    p21_id="",
                    citation=_citation(rule),
                    message=rule.get("message") or rule.get("description") or rule["core_id"],
                ),
            )
        )
    return tuple(out)


def _register() -> None:
    for rule, entry in registered_rules():
        check(entry.id)(make_check(rule, entry.id))
        Context.rule_scopes[entry.id] = partial(in_scope, rule)
    register_rules(lambda: [entry for _, entry in registered_rules()])


_register()
