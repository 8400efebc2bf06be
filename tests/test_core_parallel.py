"""core/parallel: steps run in turn, in forked processes or on threads give the same values in
step order, raise the first failure in step order, and leave no child behind."""

from __future__ import annotations

import os
import signal
import time

import pytest

from cdisc_umsc.core import parallel
from cdisc_umsc.core.errors import InputError, ReconciliationError, UmscError
from cdisc_umsc.core.parallel import can_fork, cpu_count, run_steps

needs_fork = pytest.mark.skipif(not can_fork(), reason="steps run in processes on Linux only")


def _steps(n: int) -> list:
    return [lambda i=i: {"step": i, "square": i * i} for i in range(n)]


@pytest.mark.parametrize("jobs", [1, 2, 3, 8])
def test_values_in_step_order_for_any_jobs(jobs):
    assert run_steps(jobs, _steps(5)) == [{"step": i, "square": i * i} for i in range(5)]


def test_no_steps_and_one_step():
    assert run_steps(4, []) == []
    assert run_steps(4, [lambda: "only"]) == ["only"]


@needs_fork
def test_steps_run_in_other_processes_and_their_files_are_kept(tmp_path):
    def write(name: str) -> int:
        (tmp_path / name).write_text(name, encoding="utf-8")
        return os.getpid()

    pids = run_steps(2, [lambda: write("a"), lambda: write("b"), lambda: write("c")])
    assert os.getpid() not in pids and len(set(pids)) == 3
    assert sorted(p.read_text(encoding="utf-8") for p in tmp_path.iterdir()) == ["a", "b", "c"]


@needs_fork
def test_a_child_does_not_change_the_parents_objects():
    seen: list[int] = []
    assert run_steps(2, [lambda: seen.append(1), lambda: seen.append(2)]) == [None, None]
    assert seen == []  # copy-on-write: what a step must hand back, it returns


@needs_fork
def test_a_large_value_comes_back_whole():
    big = bytes(range(256)) * 40_000  # 10 MB, far past a pipe's buffer
    assert run_steps(2, [lambda: big, lambda: big[::-1]]) == [big, big[::-1]]


def _fail(exc: BaseException, delay: float = 0.0):
    def step():
        time.sleep(delay)
        raise exc

    return step


@pytest.mark.parametrize("jobs", [1, 2])
def test_the_first_failure_in_step_order_is_raised_with_its_class_and_code(jobs):
    steps = [
        lambda: 1,
        _fail(ReconciliationError("LB: 3 records in, 2 out"), delay=0.3),
        _fail(InputError("second"), delay=0.0),  # fails first in time
    ]
    with pytest.raises(ReconciliationError, match="^LB: 3 records in, 2 out$") as caught:
        run_steps(jobs, steps)
    assert caught.value.exit_code == 3


class _Unpicklable(Exception):
    def __init__(self, a: str, b: str) -> None:
        super().__init__(f"{a}/{b}")
        self.handle = lambda: None  # a lambda cannot be pickled


@needs_fork
def test_an_error_that_cannot_be_pickled_arrives_as_its_message():
    with pytest.raises(UmscError, match=r"^_Unpicklable: x/y$") as caught:
        run_steps(2, [lambda: 0, _fail(_Unpicklable("x", "y"))])
    assert caught.value.exit_code == 2


@needs_fork
def test_a_child_killed_by_a_signal_is_an_error_naming_it():
    def die():
        os.kill(os.getpid(), signal.SIGKILL)

    with pytest.raises(UmscError, match=r"^a parallel step ended without a result \(signal 9\)$"):
        run_steps(2, [lambda: 0, die])


@needs_fork
def test_an_error_in_the_parent_stops_the_children(tmp_path):
    marker = tmp_path / "pid"

    def slow():
        marker.write_text(str(os.getpid()), encoding="ascii")
        time.sleep(60)

    def on_alarm(_signum, _frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, 1.0)
    started = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            run_steps(2, [slow, slow])
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert time.monotonic() - started < 30
    pid = int(marker.read_text(encoding="ascii"))
    with pytest.raises(ProcessLookupError):  # ended and reaped, not an orphan or a zombie
        os.kill(pid, 0)


def test_threads_where_processes_cannot_be_used(monkeypatch):
    monkeypatch.setattr(parallel, "can_fork", lambda: False)
    assert run_steps(2, [lambda: os.getpid(), lambda: os.getpid()]) == [os.getpid()] * 2
    with pytest.raises(InputError, match="^bad$"):
        run_steps(2, [_fail(InputError("bad")), lambda: 0])


def test_cpu_count_is_the_affinity_mask():
    expected = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    assert cpu_count() == (expected or max(1, os.cpu_count() or 1))


def test_run_default_jobs(monkeypatch):
    from cdisc_umsc import run as runner

    monkeypatch.setattr(runner, "cpu_count", lambda: 16)
    monkeypatch.setattr(runner, "can_fork", lambda: True)
    assert runner.default_jobs() == 4
    monkeypatch.setattr(runner, "cpu_count", lambda: 2)
    assert runner.default_jobs() == 2
    monkeypatch.setattr(runner, "can_fork", lambda: False)
    assert runner.default_jobs() == 1
