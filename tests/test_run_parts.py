"""run.py: the PHI scan of the built datasets in parts at once reports what one scan reports."""

from __future__ import annotations

import pandas as pd
import pytest

from cdisc_umsc import run as runner
from cdisc_umsc.phi import IdentifierLeak, scan


def _frames(sizes: dict[str, int]) -> dict[str, pd.DataFrame]:
    return {n: pd.DataFrame({"X": ["a"] * k}) for n, k in sizes.items()}


SIZES = {"sdtm/QS": 365, "adam/ADLB": 995, "sdtm/LB": 996, "adam/ADSL": 2, "sdtm/DM": 2}


def test_parts_keep_name_order_and_balance_records(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "PARALLEL_SCAN_FROM", 0)
    frames = _frames(SIZES)
    one = runner._parts(frames, 1)
    assert len(one) == 1 and one[0] is frames
    two = runner._parts(frames, 2)
    assert [list(p) for p in two] == [
        ["adam/ADLB", "adam/ADSL", "sdtm/DM"],
        ["sdtm/LB", "sdtm/QS"],
    ]
    four = runner._parts(frames, 4)
    assert [n for p in four for n in p] == sorted(SIZES)  # every dataset once, in order
    assert all(p for p in four) and len(four) <= 4
    lone = _frames({"sdtm/DM": 5})
    assert [list(p) for p in runner._parts(lone, 3)] == [["sdtm/DM"]]


def test_few_records_are_scanned_in_one_part() -> None:
    frames = _frames(SIZES)  # 2,360 records, below PARALLEL_SCAN_FROM
    parts = runner._parts(frames, 2)
    assert len(parts) == 1 and parts[0] is frames


def test_the_parallel_scan_reports_the_first_leak_a_single_scan_reports(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(runner, "PARALLEL_SCAN_FROM", 0)
    frames = _frames(SIZES)
    frames["sdtm/QS"] = pd.DataFrame({"X": ["a", "call 13062918450"]})
    frames["sdtm/LB"] = pd.DataFrame({"X": ["a", "b", "li.wei@example.cn"]})
    with pytest.raises(IdentifierLeak) as single:
        scan(frames, set())
    parts = runner._parts(frames, 2)
    assert len(parts) == 2
    with pytest.raises(IdentifierLeak) as parallel:
        runner.run_steps(2, [lambda p=p: scan(p, set()) for p in parts])
    assert str(parallel.value) == str(single.value)
    assert str(single.value).startswith("sdtm/LB: variable X, row 3: holds an e-mail address")
