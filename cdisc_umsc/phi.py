"""PHI guard: direct identifiers never reach an output.

Every value of every output dataset (text and numbers), and the text of every other file a
command writes (define.xml, lineage, manifest, reports, the review page), is scanned for

- the values of the raw fields the spec declares as identifiers, found anywhere inside a
  value and compared in a normalised form: Unicode compatibility form (full-width letters and
  digits are the ASCII ones), case folded, digits of any script read as 0-9, and in dataset
  values without spaces or separators (``130-6291-8450`` is ``13062918450``); a phone number
  declared with its country code is also looked for without it (``+1 555 010 1002`` as
  ``5550101002`` and ``05550101002``); a date is also
  looked for as ``19620719``, ``19071962``, ``07191962``, ``19JUL1962`` and ``1962年7月19日``;
- identifier patterns in their common spellings: PRC resident ID numbers (18 digits, or the
  old 15), mainland mobile numbers (with spaces, dashes, ``+86`` or ``0086``), landlines
  with an area code, phone numbers written with a country code (``+44 20 7946 0958``), PRC
  passport numbers, and e-mail addresses (also with a full-width
  ``@`` or written "at" / "dot"); the digits of a hexadecimal checksum word are no number.

A hit stops the command with one line naming dataset, variable and row (or the file) and the
kind of identifier, never its value.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from cdisc_umsc.core.errors import UmscError
from cdisc_umsc.core.identifiers import DIGIT_PATTERN as _DIGIT_PATTERN
from cdisc_umsc.core.identifiers import fold as _fold
from cdisc_umsc.core.identifiers import pattern_hits as _pattern_hits
from cdisc_umsc.core.values import as_text, is_numeric

#: pieces of text (one a line) that are numbers too short for any digit pattern
_SHORT_NUMBERS = re.compile(rb"(?m)^[0-9]{1," + str(_DIGIT_PATTERN - 1).encode() + rb"}\n")
#: shortest identifier value looked for: 2 characters of a CJK name, 4 of any other value
#: (shorter Latin text would be found inside ordinary words)
_SHORTEST_CJK, _SHORTEST = 2, 4
_MONTHS = "jan feb mar apr may jun jul aug sep oct nov dec".split()
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
#: checksums (sha256 in the manifest): hexadecimal, never an identifier, often digit runs
_HEX_DIGEST = re.compile(rb"[0-9a-f]{32,}")
#: files whose records are scanned as datasets (their frames), not again as text
_DATASET_SUFFIXES = (".xpt", ".ndjson")
#: a file's text is scanned as its distinct pieces between these bytes (CSV cells, XML and
#: HTML text and attribute values, JSON strings), at most about this many bytes at a time
#: (NUL is read as a space, as in values joined for a scan)
_PIECES = bytes.maketrans(b"\t\r\"'<>=|,;\x00", b"\n" * 10 + b" ")
_CHUNK = 1 << 22
#: separates values joined for one scan: no value holds it (control characters are refused)
_NUL = "\x00"


class IdentifierLeak(UmscError):
    """A direct identifier found in an output (exit code 4)."""

    exit_code = 4


_WORD: np.ndarray | None = None


def _word_table() -> np.ndarray:
    """For each BMP code point: whether it is a letter or digit (kept in compact text)."""
    global _WORD
    if _WORD is None:
        _WORD = np.array([chr(c).isalnum() for c in range(0x10000)], dtype=bool)
        _WORD[0] = True  # the separator of joined values stays
    return _WORD


def _compact(text: str) -> str:
    """:func:`_fold` without spaces, punctuation or symbols: letters and digits only."""
    return re.sub(r"[\W_]+", "", _fold(text))


def _is_cjk(text: str) -> bool:
    return any(unicodedata.name(c, "").startswith("CJK") for c in text)


def _date_forms(iso: str) -> list[str]:
    """Other spellings of an ISO 8601 date, compacted."""
    hit = _ISO_DATE.fullmatch(iso)
    if hit is None:
        return []
    y, m, d = hit.groups()
    if not 1 <= int(m) <= 12:
        return []
    mon = _MONTHS[int(m) - 1]
    return [
        f"{y}{m}{d}",
        f"{d}{m}{y}",
        f"{m}{d}{y}",
        f"{d}{mon}{y}",
        f"{y}年{int(m)}月{int(d)}日",
        f"{y}年{m}月{d}日",
    ]


#: a phone number written with its country code: "+", then digits, spaces, dashes, brackets
_INTERNATIONAL = re.compile(r"\+[0-9][0-9 ()\-]+")
#: digits a national number keeps once its country code (1 to 3 digits) is taken off
_NATIONAL_DIGITS = 9


def _national_forms(value: str) -> list[str]:
    """A phone number declared with its country code as it is also written at home: without
    the code (1 to 3 digits: which is not known), and with a trunk 0 instead."""
    folded = _fold(value)
    if not _INTERNATIONAL.fullmatch(folded):
        return []
    digits = re.sub(r"[^0-9]", "", folded)
    national = [digits[k:] for k in (1, 2, 3) if len(digits) - k >= _NATIONAL_DIGITS]
    return [*national, *("0" + n for n in national)]


def _long_enough(form: str) -> bool:
    return len(form) >= (_SHORTEST_CJK if _is_cjk(form) else _SHORTEST)


def _by_length(forms: set[str]) -> dict[int, frozenset[str]]:
    groups: dict[int, set[str]] = {}
    for form in forms:
        groups.setdefault(len(form), set()).add(form)
    return {n: frozenset(v) for n, v in groups.items()}


class Guard:
    """The identifier values of a study in their normalised forms, and the scans."""

    def __init__(self, identifier_values: Iterable[str] = ()) -> None:
        forms: set[str] = set()
        spelt: set[str] = set()  # as written (folded): what files are searched for
        for value in identifier_values:
            value = str(value).strip()
            others = _date_forms(value) + _national_forms(value)
            forms.update(f for f in (_compact(value), *others) if _long_enough(f))
            spelt.update(f for f in (_fold(value), *others) if _long_enough(f))
        self.secrets = frozenset(forms)
        self._by_length = _by_length(forms)
        self._spelt_by_length = _by_length(spelt)
        self._spelt_digits = frozenset(f.encode() for f in spelt if f.isascii() and f.isdigit())

    # ------------------------------------------------------------------ datasets
    def scan_frames(self, datasets: Mapping[str, pd.DataFrame]) -> None:
        """Raise IdentifierLeak for the first identifier in any value of any dataset: every
        distinct value of every column is scanned, all in one pass."""
        texts: list[str] = []
        owners: list[tuple[str, str, np.ndarray, int]] = []  # (dataset, column, codes, first)
        numbers: list[bool] = []
        for name in sorted(datasets):
            frame = datasets[name]
            for col in frame.columns:
                values = frame[col]
                if pd.api.types.is_bool_dtype(values.dtype):
                    continue
                codes, uniq = pd.factorize(values, use_na_sentinel=True)
                if not len(uniq):
                    continue
                text = as_text(pd.Series(uniq)).astype(str).tolist()
                owners.append((name, str(col), codes, len(texts)))
                texts += text
                # a number holds no pattern (digits of 1.2345678901234567 are no ID), but
                # may hold an identifier's value (a phone number mapped into AGE)
                numbers += [is_numeric(values)] * len(text)
        hits = self._hits(texts, np.array(numbers, dtype=bool))
        if not hits:
            return
        first = min(hits)
        starts = [o[3] for o in owners]
        name, col, codes, start = owners[int(np.searchsorted(starts, first, side="right")) - 1]
        row = int(np.flatnonzero(codes == first - start)[0]) + 1
        raise IdentifierLeak(
            f"{name}: variable {col}, row {row}: holds {hits[first]}; direct identifiers "
            "must not reach an output dataset"
        )

    def _hits(
        self, texts: list[str], numbers: np.ndarray | None = None, spelt: bool = False
    ) -> dict[int, str]:
        """Index of each text holding an identifier -> what it holds. Values are compared
        without separators; ``spelt`` (a file's text, where separators part different values)
        compares them as written instead, and an all-digit value only where no digit adjoins
        it. A text ``numbers`` marks is a number: it holds an identifier only when its digits
        are one (a phone number or birth date mapped into a numeric variable), never by a run
        of digits inside it (the 15 digits of a derived ratio hold every 8-digit date by
        chance on a large study), and no pattern is looked for in it."""
        if numbers is not None and numbers.any() and not spelt:
            return self._number_hits(texts, numbers)
        joined = _NUL.join(texts)
        if joined.count(_NUL) != len(texts) - 1:  # a value holding NUL: as a space
            joined = _NUL.join(t.replace(_NUL, " ") for t in texts)
        folded = _fold(joined)  # NUL is a starter: nothing composes across it
        points = np.frombuffer(folded.encode("utf-32-le"), dtype="<u4")
        ends = np.flatnonzero(points == 0)
        hits: dict[int, str] = {}
        if spelt and self.secrets:
            for i in _values_with(points, self._spelt_by_length, bounded=True):
                hits.setdefault(i, "the value of a declared identifier field")
        elif self.secrets:
            keep = np.ones(len(points), dtype=bool)
            bmp = points < 0x10000
            keep[bmp] = _word_table()[points[bmp]]
            for i in _values_with(points[keep], self._by_length):
                hits.setdefault(i, "the value of a declared identifier field")
        for label, at in _pattern_hits(folded):
            i = int(np.searchsorted(ends, at))
            if numbers is None or not numbers[i]:
                hits.setdefault(i, label)
        return hits

    def _number_hits(self, texts: list[str], numbers: np.ndarray) -> dict[int, str]:
        """:meth:`_hits` of the texts that are no number, plus the numbers whose digits are
        a declared identifier value as a whole (a sign and a fraction of zeros aside)."""
        words, nums = np.flatnonzero(~numbers), np.flatnonzero(numbers)
        found = self._hits([texts[i] for i in words])
        hits = {int(words[i]): what for i, what in found.items()}
        digits = pd.Series([texts[i] for i in nums], dtype=object).str.replace(
            r"^[-+]|\.0*$", "", regex=True
        )
        for k in np.flatnonzero(digits.isin(self.secrets).to_numpy()):
            hits.setdefault(int(nums[k]), "the value of a declared identifier field")
        return hits

    # ------------------------------------------------------------------ files
    def scan_files(self, folder: Path) -> None:
        """Raise IdentifierLeak for the first written file (but dataset files, scanned as
        frames) whose text holds an identifier.

        Whether a piece of text holds an identifier depends on that piece alone (no pattern
        or value spans a separator), so the distinct pieces of all files are scanned once,
        together; only when one holds an identifier are the files scanned one by one, to
        name the first."""
        paths = [
            path
            for path in sorted(p for p in Path(folder).rglob("*") if p.is_file())
            if path.suffix.lower() not in _DATASET_SUFFIXES
        ]
        pieces: set[bytes] = set()
        texts: list[Path] = []
        for path in paths:
            data = path.read_bytes()
            if path.suffix.lower() == ".json" and b'"datasetJSONVersion"' in data[:4000]:
                continue
            texts.append(path)
            pieces.update(data.translate(_PIECES).split(b"\n"))
        if not self._pieces_hold(pieces):
            return
        for path in texts:
            what = self._file_hit(path.read_bytes())
            if what:
                raise IdentifierLeak(
                    f"{path.relative_to(folder).as_posix()}: holds {what}; direct "
                    "identifiers must not reach an output"
                )

    def _pieces_hold(self, pieces: set[bytes]) -> bool:
        """Whether any of the distinct pieces of text holds an identifier. A piece of at most
        8 ASCII digits (a record or row number) can hold no pattern (the shortest takes 9
        digits) and a declared value only as a whole, so it is looked up, not scanned."""
        if not pieces.isdisjoint(self._spelt_digits):  # a declared value, whole, in digits
            return True
        others = _SHORT_NUMBERS.sub(b"", b"\n".join(pieces) + b"\n").split(b"\n")
        rest = [t for t in others if t and not (len(t) >= 32 and _HEX_DIGEST.fullmatch(t))]
        return bool(self._text_hit(rest))  # checksums left out

    def _file_hit(self, data: bytes) -> str:
        """What one file's text holds ("": nothing): its distinct pieces in byte order."""
        pieces = set(data.translate(_PIECES).split(b"\n"))
        pieces.discard(b"")
        digests = {t for t in pieces if len(t) >= 32 and _HEX_DIGEST.fullmatch(t)}
        return self._text_hit(sorted(pieces - digests))

    def _text_hit(self, tokens: list[bytes]) -> str:
        """What UTF-8 pieces of text hold ("": nothing), scanned as written (``spelt``) in
        parts of about ``_CHUNK`` bytes: the least kind found in the first part with one."""
        ends = np.cumsum(np.fromiter(map(len, tokens), dtype=np.int64, count=len(tokens)))
        total = int(ends[-1]) if len(ends) else 0
        cuts = [*np.searchsorted(ends, np.arange(_CHUNK, total, _CHUNK)), None]
        start = 0
        for cut in cuts if tokens else ():
            text = b"\x00".join(tokens[start:cut]).decode("utf-8", errors="replace")
            hits = self._hits(text.split(_NUL), spelt=True)
            if hits:
                return min(hits.values())
            start = cut
        return ""


def _values_with(
    points: np.ndarray, by_length: Mapping[int, frozenset[str]], bounded: bool = False
) -> list[int]:
    """Indexes of the NUL-separated values (code points ``points``) that hold any of the
    strings (grouped by length) anywhere (``bounded``: an all-digit string only where no
    digit adjoins it): all windows of each length are hashed at once (polynomial hash mod
    2**64), and a hash that matches is confirmed by the text itself."""
    if not len(points) or not by_length:
        return []
    codes = points.astype(np.uint64)
    ends = np.flatnonzero(points == 0)
    n = len(codes)
    power, inv_power = _powers(n + 1)
    with np.errstate(over="ignore"):
        prefix = np.concatenate(([np.uint64(0)], np.cumsum(codes * inv_power[:n])))
    found: set[int] = set()
    for length, secrets in by_length.items():
        if length > n:
            continue
        wanted = _hashes(secrets)
        table = np.zeros(_TABLE + 1, dtype=bool)  # a first sieve on the low bits
        table[wanted & np.uint64(_TABLE)] = True
        with np.errstate(over="ignore"):
            window = (prefix[length:] - prefix[: n - length + 1]) * power[: n - length + 1]
        maybe = np.flatnonzero(table[window & np.uint64(_TABLE)])
        for pos in maybe[np.isin(window[maybe], wanted)]:
            text = points[pos : pos + length].astype("<u4").tobytes().decode("utf-32-le")
            if text not in secrets:  # no secret holds NUL: a window inside one value
                continue
            if bounded and text.isdigit() and _digit_at(points, pos - 1, pos + length):
                continue
            found.add(int(np.searchsorted(ends, pos)))
    return sorted(found)


def _digit_at(points: np.ndarray, *positions: int) -> bool:
    """Whether an ASCII digit stands at any of the positions (outside the text: no)."""
    return any(0 <= p < len(points) and 48 <= int(points[p]) <= 57 for p in positions)


_TABLE = (1 << 20) - 1
_BASE = np.uint64(0x100000001B3)
_INVERSE = np.uint64(pow(int(_BASE), -1, 2**64))


_POWERS: list[np.ndarray] = []


def _powers(n: int) -> tuple[np.ndarray, np.ndarray]:
    """BASE ** i and BASE ** -i mod 2**64 for i < n (kept and grown between calls)."""
    if not _POWERS or len(_POWERS[0]) < n:
        size = max(n, 1 << 16)
        one = np.ones(1, dtype=np.uint64)
        with np.errstate(over="ignore"):
            up = np.cumprod(np.full(size - 1, _BASE, dtype=np.uint64))
            down = np.cumprod(np.full(size - 1, _INVERSE, dtype=np.uint64))
        _POWERS[:] = [np.concatenate((one, up)), np.concatenate((one, down))]
    return _POWERS[0], _POWERS[1]


@functools.lru_cache(maxsize=64)
def _hashes(secrets: frozenset[str]) -> np.ndarray:
    return np.array([_hash(s) for s in secrets], dtype=np.uint64)


def _hash(text: str) -> int:
    """The window hash of one string: sum of code point * inverse ** position, mod 2**64."""
    total, factor, mask = 0, 1, 2**64 - 1
    for ch in text:
        total = (total + ord(ch) * factor) & mask
        factor = (factor * int(_INVERSE)) & mask
    return total


def scan(datasets: Mapping[str, pd.DataFrame], identifier_values: Iterable[str]) -> None:
    """Raise IdentifierLeak for the first identifier found in any value of any dataset."""
    Guard(identifier_values).scan_frames(datasets)
