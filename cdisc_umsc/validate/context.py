"""What every check sees: the datasets, their metadata, the IG / CT look-ups, and hit builders."""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cached_property
from typing import TypeVar, cast

import numpy as np
import pandas as pd
from pandas._libs import hashtable  # type: ignore[attr-defined]  # (no stubs; see _text_codes)

from cdisc_umsc.core import values
from cdisc_umsc.core.errors import InputError
from cdisc_umsc.core.values import (  # noqa: F401  (checks use them)
    DISTINCT_FROM,
    NUMBER,
    number_text,
)
from cdisc_umsc.metadata import standards as S
from cdisc_umsc.metadata.model import Dataset, Study

HIT_COLUMNS = ("dataset", "row", "variable", "value", "message")
#: A hit's variable, value or message: one text, one per record, or built only on a hit.
HitPart = str | pd.Series | Callable[[], pd.Series]
_T = TypeVar("_T")
_TEMPLATE = re.compile(r"[a-z*]")  # ADaMIG names with placeholders (TRTxxP, CRITy, *DT)


@dataclass(frozen=True)
class Allowed:
    """The permissible values of one codelist, as the CT check needs them."""

    id: str
    name: str
    extensible: bool
    sponsor: bool
    values: frozenset[str]


#: From this many records on, element-wise text work is done per distinct value (by_value):
#: the same threshold as core/values.
BY_VALUE_ROWS = DISTINCT_FROM
#: Within one validation run: id(column array) -> (weak reference, whether it has NaN).
_HASNANS: ContextVar[dict[int, tuple[weakref.ref, bool]] | None] = ContextVar(
    "umsc_validate_hasnans", default=None
)
#: Within one validation run: (column key, what) -> (weak references, name, result).
_COLUMNS: ContextVar[dict[tuple, tuple[tuple[weakref.ref, ...], object, object]] | None] = (
    ContextVar("umsc_validate_columns", default=None)
)


@contextmanager
def run_scope() -> Iterator[None]:
    """Remember per-column facts for the length of one run (the data does not change in it)."""
    token = _HASNANS.set({})
    columns = _COLUMNS.set({})
    try:
        yield
    finally:
        _COLUMNS.reset(columns)
        _HASNANS.reset(token)


def _hasnans(series: pd.Series) -> bool:
    """series.hasnans, asked once per column array within a run (many rules read a column)."""
    memo, arr = _HASNANS.get(), series.array
    if memo is None:
        return bool(series.hasnans)
    hit = memo.get(id(arr))
    if hit is not None and hit[0]() is arr:  # the weak reference guards against id reuse
        return hit[1]
    try:
        ref = weakref.ref(arr)
    except TypeError:
        return bool(series.hasnans)
    memo[id(arr)] = (ref, bool(series.hasnans))
    return memo[id(arr)][1]


def _storage(series: pd.Series) -> tuple[tuple, tuple[object, ...]] | None:
    """What identifies a column's values within a run: the memory it reads and its index
    (None when that cannot be told, e.g. memory that a numpy array does not own)."""
    index = series.index
    owners: tuple[object, ...]
    if isinstance(index, pd.RangeIndex):  # a new object on each frame[column]: by value
        where: tuple = ("range", index.start, index.stop, index.step)
        owners = ()
    else:
        where, owners = ("index", id(index)), (index,)
    values = series._values  # the array itself: .array wraps numpy data anew on each call
    if isinstance(values, np.ndarray):
        root = values
        while isinstance(root.base, np.ndarray):
            root = root.base
        if root.base is not None:
            return None
        place = (values.__array_interface__["data"][0], values.shape, values.strides)
        return ("np", id(root), values.dtype.str, *place, *where), (root, *owners)
    return ("ea", id(values), *where), (values, *owners)


def _memo(series: pd.Series, what: str, compute: Callable[[], _T]) -> _T:
    """`compute()` once per column and `what` within a run (computed anew outside one)."""
    memo = _COLUMNS.get()
    found = _storage(series) if memo is not None else None
    if memo is None or found is None:
        return compute()
    key, owners = found
    hit = memo.get((key, what))
    if hit is not None and all(r() is o for r, o in zip(hit[0], owners, strict=True)):
        if hit[1] == series.name or (hit[1] is None and series.name is None):
            return cast(_T, hit[2])  # what compute() gave for this column
    try:
        refs = tuple(weakref.ref(o) for o in owners)
    except TypeError:
        return compute()
    value = compute()
    memo[(key, what)] = (refs, series.name, value)
    return value


def per_column(series: pd.Series, what: str, compute: Callable[[], pd.Series]) -> pd.Series:
    """`compute()` (a Series aligned to `series`) once per column and `what` within a run.

    Many rules read the same columns; their text, blanks and byte lengths are computed once.
    The result is shared: it is handed out as a shallow copy (copy-on-write keeps it)."""
    return _memo(series, what, compute).copy(deep=False)


def factorized(series: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """``pandas.factorize(series, use_na_sentinel=False)``, once per column within a run."""
    return _memo(series, "factorize", lambda: _factorize(series))


def _factorize(series: pd.Series) -> tuple[np.ndarray, pd.Index]:
    if _plain_text(series):  # its text's codes are its codes: one hash pass for both
        text_codes_, distinct = text_codes(as_text(series))
        return text_codes_, pd.Index(distinct, dtype=series.dtype)
    codes, uniques = pd.factorize(series, use_na_sentinel=False)
    return codes, pd.Index(uniques)


def _plain_text(series: pd.Series) -> bool:
    """Every value is text and none is missing: the column is its own :func:`as_text`."""
    if isinstance(series.dtype, pd.StringDtype):
        return not _hasnans(series)
    return series.dtype == object and _all_text(series)


def _all_text(series: pd.Series) -> bool:
    """An object column of str only (no missing value), asked once per column in a run."""
    return _memo(series, "all text", lambda: values.all_text(series))


def row_keys(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """One int64 code per record for the combination of the columns' values (a missing
    value is a value), from each column's :func:`factorized` codes."""
    key, size = np.zeros(len(frame), dtype=np.int64), 1
    for name in columns:
        codes, uniques = factorized(frame[name])
        n = max(len(uniques), 1)
        if size * n >= 2**62:  # renumber the combinations so far before they overflow
            compact, distinct = pd.factorize(key)
            key, size = compact.astype(np.int64), max(len(distinct), 1)
        key, size = key * n + codes, size * n
    return key


def duplicated(
    frame: pd.DataFrame, columns: list[str], among: np.ndarray | pd.Series | None = None
) -> np.ndarray:
    """``frame[columns].duplicated(keep=False)`` (among the records where ``among`` is
    True, False elsewhere), from the run's per-column codes."""
    if frame.columns.has_duplicates:
        sub = frame[columns]
        mask = np.ones(len(frame), bool) if among is None else np.asarray(among, dtype=bool)
        return mask & sub.where(mask).duplicated(keep=False).to_numpy(dtype=bool)
    key = row_keys(frame, columns)
    if among is None:
        return pd.Series(key).duplicated(keep=False).to_numpy(dtype=bool)
    out = np.zeros(len(key), dtype=bool)
    pos = np.flatnonzero(np.asarray(among, dtype=bool))
    out[pos] = pd.Series(key[pos]).duplicated(keep=False).to_numpy(dtype=bool)
    return out


def text_codes(text: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(codes, distinct values) of a column of text (as_text), once per column in a run."""
    return _memo(text, "text codes", lambda: _text_codes(text))


def _text_codes(text: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    arr = text.to_numpy(dtype=object)
    # pandas' string hash table: what pandas.factorize gives for text, without its NaN scan
    uniques, codes = hashtable.StringHashTable(max(len(arr) // 8, 16)).factorize(arr)
    if len(codes) and codes.min() < 0:  # something that is not text: the general way
        codes, index = pd.factorize(text, use_na_sentinel=False)
        return codes, np.asarray(index, dtype=object)
    return codes, uniques


def as_text(series: pd.Series) -> pd.Series:
    """Values as text (core/values.as_text), computed once per column within a run."""
    return per_column(series, "text", lambda: _as_text(series))


def _as_text(series: pd.Series) -> pd.Series:
    if series.dtype == object and _all_text(series):
        return series  # all text, none missing: already its own text (one C pass to know)
    if isinstance(series.dtype, pd.StringDtype):
        return values.as_text(series, _hasnans(series))
    return values.as_text(series)


def blank(series: pd.Series) -> pd.Series:
    """True where a value is blank (core/values.blank), computed once per column in a run."""
    return per_column(series, "blank", lambda: _blank(series))


def _blank(series: pd.Series) -> pd.Series:
    if not isinstance(series.dtype, pd.StringDtype) and not (
        series.dtype == object and _all_text(series)
    ):
        return values.blank(series)
    codes, uniques = text_codes(as_text(series))  # missing reads as "": blank
    flags = (pd.Series(uniques, dtype=object).str.strip() == "").to_numpy(dtype=bool)
    return pd.Series(flags[codes], index=series.index)


def stripped(series: pd.Series) -> pd.Series:
    """Values as text without leading and trailing blanks, once per column in a run."""
    return per_column(series, "stripped", lambda: _stripped(series))


def _stripped(series: pd.Series) -> pd.Series:
    text = as_text(series)
    codes, uniques = text_codes(text)
    distinct = pd.Series(uniques, dtype=object).str.strip().to_numpy(dtype=object)
    return pd.Series(distinct[codes], index=text.index, dtype=object)


def numbers(series: pd.Series) -> pd.Series:
    """``pandas.to_numeric`` of the stripped text (NaN where not a number), once per column
    in a run; a numeric column as float64."""
    return per_column(series, "numbers", lambda: _numbers(series))


def _numbers(series: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(series.dtype):
        return series.astype("float64")
    text = as_text(series)
    codes, uniques = text_codes(text)
    distinct = pd.to_numeric(pd.Series(uniques, dtype=object).str.strip(), errors="coerce")
    return pd.Series(distinct.to_numpy()[codes], index=text.index, dtype=distinct.dtype)


def by_value(series: pd.Series, fn: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """`fn` computed once per distinct value and spread back to every row (same index).

    SDTM columns repeat few values (dates, units, test codes), so element-wise text work on
    the distinct values instead of every record is what keeps a 1,000,000-row LB fast."""
    return by_values(lambda frame: fn(frame.iloc[:, 0]), series)


def by_values(fn: Callable[[pd.DataFrame], pd.Series], *columns: pd.Series) -> pd.Series:
    """`fn` of a frame of the columns, computed once per distinct row of them."""
    if len(columns) == 1:
        codes, uniques = factorized(columns[0])
        if len(uniques) * 2 <= len(codes):
            out = pd.Series(fn(pd.DataFrame({0: pd.Series(uniques)}))).iloc[codes]
            out.index = columns[0].index
            return out
    key = np.zeros(len(columns[0]), dtype=np.int64)
    for col in columns:
        codes, uniques = factorized(col)
        key = key * max(len(uniques), 1) + codes
    distinct, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    if len(distinct) * 2 > len(key):  # mostly distinct: no gain
        res = fn(pd.DataFrame(dict(enumerate(columns))))
        return res if isinstance(res, pd.Series) else pd.Series(res, index=columns[0].index)
    firsts = pd.DataFrame({i: c.iloc[first].reset_index(drop=True) for i, c in enumerate(columns)})
    out = pd.Series(fn(firsts)).iloc[inverse.ravel()]
    out.index = columns[0].index
    return out


def nbytes(series: pd.Series) -> pd.Series:
    """UTF-8 byte length of each value as text (0 for missing)."""
    text = as_text(series)
    codes, uniques = text_codes(text)
    size = _nbytes(pd.Series(uniques, dtype=object)).to_numpy(dtype="int64")
    return pd.Series(size[codes], index=text.index)


def _nbytes(text: pd.Series) -> pd.Series:
    size = text.str.len().fillna(0).astype("int64")
    wide = ~text.str.isascii().fillna(True).astype(bool)  # only these need encoding
    if wide.any():
        encoded = text[wide].str.encode("utf-8")
        # The ignore: pandas-stubs type .str.len() for text only; pandas measures bytes too.
        size[wide] = encoded.str.len().astype("int64")  # type: ignore[misc]
    return size


class Context:
    """One validation run: datasets keyed by upper-case name, the Study, and the profile."""

    def __init__(
        self,
        datasets: dict[str, pd.DataFrame],
        study: Study,
        profile: str,
        read_issues: pd.DataFrame | None = None,
    ) -> None:
        self.study, self.profile = study, profile
        #: Problems met reading the files (validate/folder.py): rule plus HIT_COLUMNS.
        self.read_issues = read_issues
        self.datasets: dict[str, pd.DataFrame] = {}
        for name, frame in datasets.items():
            if not isinstance(frame, pd.DataFrame):
                raise InputError(
                    f"dataset {name}: expected a pandas DataFrame, got {type(frame).__name__}"
                )
            odd = [c for c in frame.columns if not isinstance(c, str)]
            if odd:
                raise InputError(
                    f"dataset {name}: column {odd[0]!r} is not a variable name "
                    f"(expected text column names)"
                )
            key = name.upper()
            if key in self.datasets:
                raise InputError(f"dataset {name}: given twice (names are case-insensitive)")
            self.datasets[key] = frame.reset_index(drop=True)
        self._meta = {k.upper(): v for k, v in study.datasets.items()}
        self._memo: dict[tuple, object] = {}
        #: Rule id -> datasets on which the check found the rule not applicable (see skip).
        self.skipped: dict[str, int] = {}

    def skip(self, rule: str) -> None:
        """Record that ``rule`` does not apply to the dataset being checked (variables it
        reads are absent), so the Rules report says 'not applicable', not 'pass'."""
        self.skipped[rule] = self.skipped.get(rule, 0) + 1

    def rule_applies(self, rule: str, name: str) -> bool:
        """Whether ``rule`` is to run on dataset ``name`` (hook for version- and
        domain-scoped rules; see the declared rule modules)."""
        scope = self.rule_scopes.get(rule)
        return scope is None or scope(self, name)

    #: Rule id -> predicate (ctx, dataset) deciding whether the rule runs there.
    rule_scopes: dict[str, Callable[[Context, str], bool]] = {}

    def memo(self, key: tuple, compute: Callable[[], _T]) -> _T:
        """`compute()` once per run for `key` (work several rules share, e.g. study days)."""
        if key not in self._memo:
            self._memo[key] = compute()
        return cast(_T, self._memo[key])  # what compute() gave for this key

    # ------------------------------------------------------------------ metadata / IG

    def meta(self, name: str) -> Dataset | None:
        """The study metadata of dataset `name`, or None."""
        return self._meta.get(name)

    def is_adam(self, name: str) -> bool:
        """Whether `name` is an analysis (ADaM) dataset."""
        meta = self.meta(name)
        if meta is not None and (
            meta.standard.upper().startswith("ADAM") or meta.purpose.casefold() == "analysis"
        ):
            return True
        return meta is None and name.startswith("AD")

    @cached_property
    def sdtmig_version(self) -> str:
        """SDTMIG version checked against: the study's when bundled, else the bundled one."""
        have = S.versions()["SDTMIG"]
        return (
            self.study.standard_version
            if self.study.standard.upper() == "SDTMIG" and self.study.standard_version == have
            else have
        )

    def ig_dataset(self, name: str) -> tuple[str, str, str] | None:
        """(standard, version, IG table name) that describes dataset `name`, or None."""
        if self.is_adam(name):
            meta = self.meta(name)
            cls = meta.cls.upper() if meta else ""
            frame = self.datasets.get(name)
            if name == "ADSL" or "SUBJECT LEVEL" in cls:
                return "ADaMIG", S.versions()["ADaMIG"], "ADSL"
            if "BASIC DATA STRUCTURE" in cls or (frame is not None and "PARAMCD" in frame):
                return "ADaMIG", S.versions()["ADaMIG"], "BDS"
            return None
        names = set(S.ig_datasets("SDTMIG", self.sdtmig_version)["dataset"])
        for cand in (name, "SUPPQUAL" if name.startswith("SUPP") else "", name[:2]):
            if cand in names:
                return "SDTMIG", self.sdtmig_version, cand
        return None

    def judged_by(self, name: str, terminology: bool = False) -> str:
        """The standard version(s) a finding on dataset ``name`` was judged by, e.g.
        'SDTMIG 3.4' or 'SDTMIG 3.4; SDTM CT 2025-03-28' for a terminology rule."""
        adam = self.is_adam(name) if name else self.study.standard.upper().startswith("ADAM")
        if adam:
            text = f"ADaMIG {S.versions()['ADaMIG']}"
            return text + (f"; ADaM CT {S.versions()['ADaM CT']}" if terminology else "")
        text = f"SDTMIG {self.sdtmig_version}"
        return text + (f"; SDTM CT {self.sdtm_ct_version}" if terminology else "")

    def ig_rows(self, name: str) -> pd.DataFrame:
        """IG variable rows of dataset `name` (empty when the IG has no such dataset)."""
        where = self.ig_dataset(name)
        if where is None:
            return S.ig_variables("SDTMIG", self.sdtmig_version).iloc[0:0]
        table = S.ig_variables(where[0], where[1])
        return table[table["dataset"] == where[2]]

    def ig_var(self, name: str, variable: str) -> dict | None:
        """The IG row for one concrete variable (ADaM templates resolved), or None."""
        where = self.ig_dataset(name)
        if where is None:
            return None
        return S.ig_variable(where[0], where[1], where[2], variable)

    @staticmethod
    def is_template(variable: str) -> bool:
        """Whether an IG variable name holds an ADaMIG placeholder (xx, y, zz, w, *)."""
        return bool(_TEMPLATE.search(variable))

    def domain_class(self, name: str) -> str:
        """Observation class from the metadata, else from the IG ("" when unknown)."""
        meta = self.meta(name)
        if meta is not None and meta.cls:
            return meta.cls
        where = self.ig_dataset(name)
        if where is None or where[0] != "SDTMIG":
            return ""
        table = S.ig_datasets("SDTMIG", where[1])
        hit = table.loc[table["dataset"] == where[2], "cls"]
        return str(hit.iloc[0]) if len(hit) else ""

    @staticmethod
    def prefix(name: str) -> str:
        """The two-letter variable prefix of an SDTM dataset (QSCG -> QS)."""
        return name[:2]

    def domain_datasets(self, domain: str) -> list[str]:
        """Datasets holding records of ``domain``: the dataset of that name and its splits
        (SDTMIG 3.4 4.1.7: the domain code plus up to two characters, e.g. LBCH, QSNI)."""
        found = []
        for name in sorted(self.datasets):
            if name == domain:
                found.append(name)
            elif (
                not name.startswith("SUPP")
                and len(domain) == 2
                and 2 < len(name) <= 4
                and name[:2] == domain
                and name not in self._ig_names
            ):
                found.append(name)
        return found

    @cached_property
    def _ig_names(self) -> frozenset[str]:
        return frozenset(S.ig_datasets("SDTMIG", self.sdtmig_version)["dataset"])

    def supp_parents(self, supp: str, rdomain: str) -> list[str]:
        """The datasets SUPP-- dataset ``supp`` qualifies for RDOMAIN ``rdomain``: its named
        parent (SUPPLBCH -> LBCH, SDTMIG 4.1.7) when present, else every dataset of the
        domain."""
        own = supp[4:]
        if own in self.datasets and own[:2] == rdomain[:2] and own != rdomain:
            return [own]
        return self.domain_datasets(rdomain)

    def seq_var(self, name: str) -> str | None:
        """The sequence-number variable of dataset `name` present in the data, if any."""
        frame = self.datasets[name]
        for cand in (f"{self.prefix(name)}SEQ", "ASEQ"):
            if cand in frame.columns:
                return cand
        return None

    # ------------------------------------------------------------------ controlled terminology

    @cached_property
    def sdtm_ct_version(self) -> str:
        """SDTM CT version used: the study's when bundled, else the bundled one."""
        bundled = S.bundled_versions("ct", "SDTM CT")
        declared = self.study.ct_version
        return declared if declared in bundled else S.versions()["SDTM CT"]

    @property
    def ct_substituted(self) -> bool:
        """Whether the study declares an SDTM CT release the bundle lacks (another judges)."""
        declared = self.study.ct_version
        return bool(declared) and declared not in S.bundled_versions("ct", "SDTM CT")

    def codelist(self, cid: str) -> Allowed | None:
        """A codelist by id: the study's own (sponsor or extended copy) first, then CDISC CT.
        None for an external dictionary (``EXT:<name>:<version>``, e.g. MedDRA, WHODrug): its
        terms are not bundled, so values are not checked against it."""
        if self.is_external(cid):
            return None
        own = self.study.codelists.get(cid)
        if own is not None:
            return Allowed(own.id, own.name, own.extensible, own.sponsor, own.values)
        for package, version in (("SDTM", self.sdtm_ct_version), ("ADaM", S.versions()["ADaM CT"])):
            found = S.controlled_terminology(package, version).codelist(cid)
            if found is not None:
                return Allowed(
                    found.code,
                    found.submission_value,
                    found.extensible,
                    False,
                    frozenset(found.terms),
                )
        return None

    def cdisc_codelist(self, allowed: Allowed) -> Allowed:
        """The CDISC CT codelist a study codelist copies (same C-code), else ``allowed``."""
        if allowed.sponsor:
            return allowed
        for package, version in (("SDTM", self.sdtm_ct_version), ("ADaM", S.versions()["ADaM CT"])):
            found = S.controlled_terminology(package, version).codelist(allowed.id)
            if found is not None:
                return Allowed(
                    found.code,
                    found.submission_value,
                    found.extensible,
                    False,
                    frozenset(found.terms),
                )
        return allowed

    def nbytes(self, name: str, variable: str) -> pd.Series:
        """UTF-8 byte lengths of one column (computed once per run; three rules use them)."""
        return self.memo(
            ("nbytes", name, variable),
            lambda: nbytes(self.datasets[name][variable]),
        )

    @staticmethod
    def is_external(cid: str) -> bool:
        """Whether a codelist id names an external dictionary (Define-XML ExternalCodeList)."""
        return cid.startswith("EXT:")

    # ------------------------------------------------------------------ hit builders

    @staticmethod
    def hits(
        name: str,
        mask: pd.Series | np.ndarray,
        variable: HitPart,
        value: HitPart,
        message: HitPart,
    ) -> pd.DataFrame:
        """One hit per True position of `mask` (Series arguments are aligned to the rows;
        a callable message is built only when there is a hit)."""
        pos = np.flatnonzero(np.asarray(mask, dtype=bool))
        if not len(pos):
            return pd.DataFrame({c: [] for c in HIT_COLUMNS})

        def pick(arg: HitPart) -> object:
            arg = arg() if callable(arg) else arg
            return as_text(arg).to_numpy()[pos] if isinstance(arg, pd.Series) else arg

        return pd.DataFrame(
            {
                "dataset": name,
                "row": pos,
                "variable": pick(variable),
                "value": pick(value),
                "message": pick(message),
            },
            index=pd.RangeIndex(len(pos)),
        )

    @staticmethod
    def note(name: str, variable: str, value: str, message: str, row: int = -1) -> pd.DataFrame:
        """One hit not tied to a record (row -1), or tied to record position `row`."""
        return pd.DataFrame(
            {
                "dataset": [name],
                "row": [row],
                "variable": [variable],
                "value": [value],
                "message": [message],
            }
        )
