"""Identifier patterns in their common spellings, and the folding they are matched on.

The PHI guard (``cdisc_umsc/phi.py``) looks for them in every output; error messages use
them too, so that a message never repeats a value that holds one (a phone number typed into
an AE term is reported without the term). Only the standard library: any layer may ask.
"""

from __future__ import annotations

import re
import unicodedata

#: Identifier patterns, matched on folded text (see :func:`fold`). Digit patterns are
#: tried only on runs of digits, spaces, dashes and parentheses (:data:`DIGIT_RUN`) with their
#: neighbours, e-mail patterns only around "@" or "at", so that a scan stays linear.
_SEP = r"[ \-]?"
_BEFORE = r"(?<![0-9])(?<![0-9]\.)"  # not inside a longer number, nor its decimals
_AFTER = r"(?![0-9]|\.[0-9])"
PATTERNS = {
    "a PRC resident ID number": (
        _BEFORE + r"[0-9]{6}" + _SEP + r"(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])"
        r"(?:0[1-9]|[12][0-9]|3[01])" + _SEP + r"[0-9]{3}[0-9x](?![0-9a-z]|\.[0-9])"
    ),
    "a 15-digit PRC resident ID number": (
        _BEFORE + r"[0-9]{8}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}" + _AFTER
    ),
    "a mobile phone number": (
        _BEFORE
        + r"(?:(?:\+|00)86"
        + _SEP
        + r")?1[3-9][0-9]"
        + _SEP
        + r"[0-9]{4}"
        + _SEP
        + r"[0-9]{4}"
        + _AFTER
    ),
    "a landline phone number": (
        _BEFORE
        + r"(?:(?:\+|00)86"
        + _SEP
        + r")?(?:\(0[1-9][0-9]{1,2}\)|0[1-9][0-9]{1,2})"
        + r"[ \-]?[2-9][0-9]{2,3}"
        + _SEP
        + r"[0-9]{4}"
        + _AFTER
    ),
    "an international phone number": (
        # E.164 with its country code: +1 555 010 1002, +44 (20) 7946-0958; a digit run of
        # at least 9 digits (_DIGIT_RUN) that starts with "+" and a country code
        r"(?<![0-9a-z+])\+[1-9][0-9]{0,2}(?:[ \-]?\(?[0-9]{1,4}\)?){2,6}" + _AFTER
    ),
    "a passport number": (
        r"(?<![0-9a-z])[eg](?:[0-9]{8}|[a-hj-np-z][0-9]{7})(?![0-9a-z])"
        r"|(?:passport|护照)(?: ?(?:no\.?|number|号码?))? ?[:#]? ?[a-z]{0,2}[0-9]{6,9}"
    ),
    "an e-mail address": (
        r"[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}"
        r"|[a-z0-9._%+-]+ ?[\[(] ?at ?[\])] ?[a-z0-9-]+(?: ?(?:[\[(] ?dot ?[\])]|\.) ?[a-z]{2,})+"
        r"|[a-z0-9._%+-]+ at [a-z0-9-]+(?: dot [a-z0-9-]+)* dot "
        r"(?:com|cn|net|org|edu|gov|info|io|uk|de|jp|hk)(?![a-z])"
    ),
}
COMPILED = {label: re.compile(p) for label, p in PATTERNS.items()}
DIGITAL = ("a PRC resident ID number", "a 15-digit PRC resident ID number",
           "a mobile phone number", "a landline phone number",
           "an international phone number")  # fmt: skip
#: where digit patterns may match: 9 or more digits among spaces, dashes, parentheses, +
DIGIT_PATTERN = 9
DIGIT_RUN = re.compile(r"[0-9+(][0-9 ()\-]{" + str(DIGIT_PATTERN - 2) + r",}[0-9x]")
ANCHORS = {
    "a passport number": re.compile(r"[eg][0-9a-z][0-9]{7}|passport|护照"),
    "an e-mail address": re.compile(r"@|at\b"),
}

#: a word of at least this many hexadecimal digits, one of them a letter, is a checksum or
#: its prefix (the review page shows sha256's first 12): its digits are no phone or ID
_HEX_WORD = 12
_WORD_BEFORE = re.compile(r"[0-9a-z]{0,64}\Z")
_WORD_AFTER = re.compile(r"[0-9a-z]{0,64}")
_HEX = re.compile(r"[0-9a-f]*[a-f][0-9a-f]*")

_DIGITS: dict[int, str] | None = None
_OTHER_DIGIT = re.compile(r"(?![0-9])\d")  # any script's digits, on purpose


def _digit_table() -> dict[int, str]:
    """Every Unicode decimal digit -> its ASCII digit (built once, on first need)."""
    global _DIGITS
    if _DIGITS is None:
        _DIGITS = {
            cp: str(unicodedata.digit(chr(cp)))
            for cp in range(0x80, 0x110000)
            if chr(cp).isdecimal()
        }
    return _DIGITS


def fold(text: str) -> str:
    """Compatibility form (full-width is ASCII), case folded, every decimal digit as 0-9."""
    text = unicodedata.normalize("NFKC", text).casefold()
    if text.isascii() or not _OTHER_DIGIT.search(text):
        return text
    return text.translate(_digit_table())


def pattern_hits(folded: str) -> list[tuple[str, int]]:
    """(kind, position) of identifier patterns in folded text: each pattern is tried only
    around its anchors, so the scan is linear in the text."""
    found: list[tuple[str, int]] = []
    for run in DIGIT_RUN.finditer(folded):
        if sum(c.isdigit() for c in run.group()) < DIGIT_PATTERN:
            continue
        lo, hi = max(0, run.start() - 5), run.end() + 2
        piece = folded[lo:hi]
        for label in DIGITAL:
            start = next(
                (
                    lo + hit.start()
                    for hit in COMPILED[label].finditer(piece)
                    if not in_hex_word(folded, lo + hit.start(), lo + hit.end())
                ),
                None,
            )
            if start is not None:
                found.append((label, start))
                break
    for label, anchor in ANCHORS.items():
        for at in anchor.finditer(folded):
            lo = max(0, at.start() - 80)
            hit = COMPILED[label].search(folded, lo, at.end() + 80)
            if hit:
                found.append((label, hit.start()))
                break
    return found


def in_hex_word(folded: str, start: int, end: int) -> bool:
    """Whether ``folded[start:end]`` lies in a word of hexadecimal digits (a checksum)."""
    before = _WORD_BEFORE.search(folded, max(0, start - 64), start)
    after = _WORD_AFTER.match(folded, end)
    word = (before.group() if before else "") + folded[start:end] + (after.group() if after else "")
    return len(word) >= _HEX_WORD and _HEX.fullmatch(word) is not None


def pattern_in(text: str) -> str | None:
    """The kind of the first identifier pattern in ``text`` ("a mobile phone number"), or
    None."""
    found = pattern_hits(fold(text))
    return min(found, key=lambda hit: hit[1])[0] if found else None
