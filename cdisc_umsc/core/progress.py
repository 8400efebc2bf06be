"""Progress of a long run: the stage it is in and the records it handles, on stderr.

Shown only when stderr is a terminal (quiet when piped, redirected or asked to be quiet), so
that logs and captured output stay clean. Every stage's wall time and record count are kept
either way, for benchmarks and for the caller's summary.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO


@dataclass
class StageTime:
    """One finished stage: name, records handled (None when not counted) and wall seconds."""

    name: str
    records: int | None
    seconds: float


@dataclass
class Progress:
    """Stage reporter: ``stage(name, records)`` starts a stage and ends the previous one."""

    stream: TextIO | None = None
    enabled: bool | None = None  # None: show when the stream is a terminal
    stages: list[StageTime] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.stream = self.stream or sys.stderr
        if self.enabled is None:
            isatty = getattr(self.stream, "isatty", None)
            self.enabled = bool(isatty and isatty())
        self._start = self._t = time.perf_counter()
        self._current: tuple[str, int | None] | None = None

    def stage(self, name: str, records: int | None = None) -> None:
        """End the current stage (if any) and start ``name`` over ``records`` records."""
        self._finish()
        self._current = (name, records)
        self._t = time.perf_counter()
        self.on_start(name)
        if self.enabled:
            count = _count(records)
            self._write(f"[{self._t - self._start:7.1f} s] {name}{count}")

    def step(self, name: str, records: int | None = None) -> None:
        """Report one step inside the current stage (a form read, a dataset built), so that
        a long stage shows it is moving; steps are printed, not timed as stages."""
        if self.enabled:
            count = _count(records)
            self._write(f"[{time.perf_counter() - self._start:7.1f} s]   {name}{count}")

    def done(self) -> None:
        """End the last stage and print the total."""
        self._finish()
        if self.enabled:
            self._write(f"[{time.perf_counter() - self._start:7.1f} s] done")

    def on_start(self, name: str) -> None:
        """Hook called as a stage starts (benchmarks sample memory per stage)."""

    def on_end(self, stage: StageTime) -> None:
        """Hook called as a stage ends."""

    def _finish(self) -> None:
        if self._current is None:
            return
        name, records = self._current
        finished = StageTime(name, records, time.perf_counter() - self._t)
        self.stages.append(finished)
        self._current = None
        self.on_end(finished)

    def _write(self, line: str) -> None:
        assert self.stream is not None
        self.stream.write(line + "\n")
        self.stream.flush()


def _count(records: int | None) -> str:
    if records is None:
        return ""
    return f" ({records:,} record{'' if records == 1 else 's'})"


#: what a long stage calls after each step: ``step(name, records)`` (:meth:`Progress.step`)
StepHook = Callable[[str, int | None], None]


def no_steps(_name: str, _records: int | None = None) -> None:
    """A step hook that reports nothing."""


def quiet() -> Progress:
    """A reporter that prints nothing (still times the stages)."""
    return Progress(enabled=False)
