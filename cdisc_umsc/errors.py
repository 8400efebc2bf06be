"""Errors that reach the user as one line, with an exit code, never a traceback."""

from __future__ import annotations

import sys
from typing import NoReturn


class UmscError(Exception):
    """Base error: its message is a single line naming what was wrong and where."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))


class InputError(UmscError):
    """Bad raw input, spec or file (exit code 2)."""


class WriteError(UmscError):
    """A value or name that the output format cannot hold (exit code 2)."""


class ReconciliationError(UmscError):
    """Records in do not equal records mapped plus records rejected (exit code 3)."""

    exit_code = 3


def fail(exc: UmscError) -> NoReturn:
    """End a command: the error's one line on stderr and its exit code."""
    sys.stderr.write(f"error: {exc}\n")
    sys.stderr.flush()
    sys.exit(exc.exit_code)
