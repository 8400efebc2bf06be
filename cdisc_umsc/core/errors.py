"""Errors that reach the user as one line, with an exit code, never a traceback.

Every error the tool raises derives from :class:`UmscError`; a command ends with :func:`fail`,
which writes the one line to stderr (escaping what the console cannot encode) and exits with
the error's code: 2 bad input or usage, 3 records that do not reconcile, 4 a direct identifier
in an output.
"""

from __future__ import annotations

import re
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import NoReturn, TextIO


class UmscError(Exception):
    """Base error: its message is a single line naming what was wrong and where."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))


class InputError(UmscError):
    """Bad raw input, spec or file (exit code 2)."""


class WriteError(UmscError):
    """A value or name that the output format cannot hold, or a file that cannot be written
    (exit code 2)."""


class StandardsError(UmscError):
    """A standard, version, dataset class or codelist that the bundle does not hold (exit 2)."""


class ReconciliationError(UmscError):
    """Records in do not equal records mapped plus records rejected (exit code 3)."""

    exit_code = 3


@contextmanager
def located(where: str = "") -> Iterator[None]:
    """Report a ValueError or KeyError raised inside the block (a library function's argument
    check, or a missing name) as an InputError prefixed by ``where`` (a spec ``file:line``)."""
    try:
        yield
    except (ValueError, KeyError) as exc:
        text = _missing(exc) if isinstance(exc, KeyError) else str(exc)
        raise InputError(f"{where}: {text}" if where else text) from exc


def _missing(exc: KeyError) -> str:
    """A KeyError as a reader's sentence: the names that were looked for and not found (a
    pandas column selection says "['A', 'B'] not in index"; a look-up, the key alone)."""
    key = exc.args[0] if exc.args else ""
    if isinstance(key, str) and " " in key and not key.endswith("not in index"):
        return key.strip("'\"")  # raised with a sentence of its own: as written
    if isinstance(key, str):
        listed = re.fullmatch(r"\[(.*)\] not in index", key.strip("'\""))
        names = re.findall(r"'([^']*)'", listed.group(1)) if listed else [key.strip("'\"")]
    elif hasattr(key, "tolist") or isinstance(key, list | tuple | set):
        names = [str(k) for k in (key.tolist() if hasattr(key, "tolist") else key)]
    else:
        names = [str(key)]
    shown = ", ".join(names) or "a name"
    return f"{shown}: not found (no such variable, dataset or name in what the step reads)"


def echo_safe(text: str, stream: TextIO | None = None) -> None:
    """Write ``text`` and a newline to ``stream`` (default stdout); characters the stream's
    encoding cannot hold are written as escapes, never an error."""
    out = stream if stream is not None else sys.stdout
    encoding = getattr(out, "encoding", None) or "utf-8"
    data = text.encode(encoding, errors="backslashreplace").decode(encoding, errors="replace")
    out.write(data + "\n")


def safe_console() -> None:
    """Make stdout and stderr write what their encoding cannot hold as escapes (``\\u5426``)
    instead of raising, for every later print (a cp1252 console, a log redirected as ASCII)."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is None:
            continue
        try:
            reconfigure(errors="backslashreplace")
        except (ValueError, OSError):  # a stream that cannot change (already written, closed)
            pass


def fail(exc: UmscError) -> NoReturn:
    """End a command: the error's one line on stderr and its exit code."""
    echo_safe(f"error: {exc}", sys.stderr)
    sys.stderr.flush()
    sys.exit(exc.exit_code)


def _on_signal(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def exit_on_signals() -> None:
    """Turn SIGTERM and SIGHUP into a normal exit, so that temporary files and staging folders
    are removed on the way out (SIGKILL cannot be caught: the next run removes those)."""
    for name in ("SIGTERM", "SIGHUP"):
        sig = getattr(signal, name, None)
        if sig is not None:
            try:
                signal.signal(sig, _on_signal)
            except (ValueError, OSError):  # not the main thread, or not allowed here
                pass
