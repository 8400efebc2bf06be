"""Steps that share no output, run in turn or at the same time, with the same result either way.

``run_steps(jobs, steps)`` returns each step's value in step order and raises the first
failure in step order. With ``jobs`` > 1 on Linux each step runs in a forked child process: it
sees the parent's frames without a copy (copy-on-write) and, unlike a thread, does not wait for
the interpreter lock, so pandas text work of two steps really runs on two cores. Elsewhere
(no ``fork``, or a platform where forking a threaded process is unsafe) the steps run on
threads. A child's value or error comes back pickled; the files a step writes are the same
bytes whichever way it runs.
"""

from __future__ import annotations

import os
import pickle
import selectors
import signal
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any

from cdisc_umsc.core.errors import UmscError

Step = Callable[[], Any]


def cpu_count() -> int:
    """The CPUs this process may run on (its affinity mask where the system has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def can_fork() -> bool:
    """True where steps run in forked processes (Linux)."""
    return hasattr(os, "fork") and sys.platform.startswith("linux")


def run_steps(jobs: int, steps: Sequence[Step]) -> list[Any]:
    """Each step's value, in step order; ``jobs`` at most at once (1: in turn, here)."""
    if jobs <= 1 or len(steps) <= 1:
        return [step() for step in steps]
    if can_fork():
        return _forked(min(jobs, len(steps)), steps)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(step) for step in steps]
        wait(futures)
    return [f.result() for f in futures]


def _child(step: Step, fd: int) -> None:
    """In the forked child: run the step, send (ok, value) through ``fd``, exit at once (no
    clean-up of the parent's: its staging folder and temporary files are the parent's)."""
    code = 0
    try:
        for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            signal.signal(sig, _exit_child)
        try:
            payload = pickle.dumps((True, step()), protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException as exc:  # sent to the parent, which raises it
            payload = _error_payload(exc)
            code = 1
        with os.fdopen(fd, "wb") as out:
            out.write(payload)
    except BaseException:
        code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):  # progress lines the step printed
            try:
                stream.flush()
            except BaseException:
                pass
        os._exit(code)


def _exit_child(signum: int, _frame: object) -> None:
    os._exit(128 + signum)


def _error_payload(exc: BaseException) -> bytes:
    """The error pickled so that the parent can raise it; one that does not survive pickling
    is sent as a :class:`UmscError` with its message (and exit code)."""
    try:
        data = pickle.dumps((False, exc), protocol=pickle.HIGHEST_PROTOCOL)
        pickle.loads(data)
        return data
    except BaseException:
        stand_in = UmscError(f"{type(exc).__name__}: {exc}")
        stand_in.exit_code = getattr(exc, "exit_code", 2)
        return pickle.dumps((False, stand_in), protocol=pickle.HIGHEST_PROTOCOL)


def _forked(jobs: int, steps: Sequence[Step]) -> list[Any]:
    """Run the steps in up to ``jobs`` forked children; collect their pickled results."""
    pending = list(range(len(steps)))
    running: dict[int, tuple[int, int]] = {}  # read fd -> (step index, pid)
    chunks: dict[int, list[bytes]] = {}
    results: dict[int, tuple[bool, Any]] = {}
    sel = selectors.DefaultSelector()
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        while pending or running:
            while pending and len(running) < jobs:
                index = pending.pop(0)
                read_fd, write_fd = os.pipe()
                pid = os.fork()
                if pid == 0:  # pragma: no cover - the child never returns (coverage is lost)
                    os.close(read_fd)
                    _child(steps[index], write_fd)
                os.close(write_fd)
                running[read_fd] = (index, pid)
                chunks[read_fd] = []
                sel.register(read_fd, selectors.EVENT_READ)
            for key, _ in sel.select():
                fd = int(key.fd)
                data = os.read(fd, 1 << 20)
                if data:
                    chunks[fd].append(data)
                    continue
                sel.unregister(fd)
                os.close(fd)
                index, pid = running.pop(fd)
                _, status = os.waitpid(pid, 0)
                results[index] = _result(b"".join(chunks.pop(fd)), status)
    finally:  # an error or a signal in the parent: stop the children before it cleans up
        for fd, (_, pid) in running.items():
            try:
                os.kill(pid, signal.SIGTERM)
                os.waitpid(pid, 0)
            except OSError:
                pass
            try:
                sel.unregister(fd)
            except (KeyError, ValueError):
                pass
            os.close(fd)
        sel.close()
    values = []
    for index in range(len(steps)):
        ok, value = results[index]
        if not ok:
            raise value
        values.append(value)
    return values


def _result(payload: bytes, status: int) -> tuple[bool, Any]:
    """A child's (ok, value) from what it sent; a child that died sent nothing."""
    if payload:
        try:
            return pickle.loads(payload)
        except Exception:  # a truncated payload: the child was cut short
            pass
    how = os.waitstatus_to_exitcode(status)
    cause = f"signal {-how}" if how < 0 else f"exit code {how}"
    return False, UmscError(f"a parallel step ended without a result ({cause})")
