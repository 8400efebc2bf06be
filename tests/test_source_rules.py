"""Rules the package's source keeps everywhere, checked over every module."""

from __future__ import annotations

import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "cdisc_umsc"
#: a regular-expression digit class: \d, not the escaped text \\d of a docstring
_UNICODE_DIGIT = re.compile(r"(?<!\\)\\d")


def test_patterns_take_ascii_digits_only() -> None:
    """Data digits are ASCII (ISO 8601 3.4.1; SAS and the CDISC formats read no other), but
    Python's \\d matches any script's digits ('２０１９', '٢٠١٩'), which then pass a pattern
    and fail or vanish later. Every pattern says [0-9]; a line that wants other scripts'
    digits on purpose says so."""
    found = [
        f"{path.relative_to(PACKAGE.parent)}:{n}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if _UNICODE_DIGIT.search(line) and "on purpose" not in line
    ]
    assert found == []
