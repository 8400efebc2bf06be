"""Whole-pipeline scale benchmark, run by hand: `.venv/bin/python benchmarks/bench_pipeline.py`.

For 250, 500, 1,000 and 2,000 subjects (``--sizes`` to change) it writes a synthetic trial with
the dense lab schedule (``fixtures/umsc/synth.py``, seed 1; ~500 LAB rows per subject) and runs
``cdisc_umsc.run.run`` on it with the bundled spec in a fresh interpreter, so each size's peak
memory is its own. Per stage it prints wall time, CPU time and peak memory (PSS of the process
and of the children ``--jobs`` forks, sampled every 10 ms); sub-stages (read, conform, write
XPT, define) are timed inside their stage when it runs in the parent (``--jobs 1``). Then
the growth exponent b of total time against raw rows (least-squares fit of log time on log
rows; b = 1 is linear) and, as times relative to the smallest size measured in the same run,
the ratios.

In the same run it measures a floor for the largest size, in a fresh interpreter: every raw form
read with ``pandas.read_csv(dtype=str)`` plus every output dataset (read back from the run's XPT
files) written again with ``cdisc_umsc.write.xpt.write_xpt``; and the fixed cost: ``cdisc-umsc
run -q`` on the bundled trial against the start-up of a run (the interpreter plus the modules a
run imports, benchmarks/startup.py) and against ``cdisc-umsc --version``, each in a fresh
subprocess (best of three). It prints the package versions it ran with first.
``--sizes 250,...,10000`` adds the 10,000-subject size (about 5 M LB rows). The last line is
``bundled_vs_startup=<r> pipeline_2000_seconds=<s> pipeline_2000_peak_gb=<GB>
pipeline_vs_floor=<r> growth_exponent=<b>``.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from startup import imports_command


def _pss(pid: int | str) -> int:
    """Proportional set size of one process (pages shared after a fork counted once)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:  # the process has just ended
        pass
    return 0


def _children(pid: int | str) -> list[str]:
    found = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            found += (task / "children").read_text(encoding="ascii").split()
    except OSError:
        return []
    return found


def _rss() -> int:
    """Memory of this process and its children (``--jobs`` > 1 forks one per step)."""
    return _pss("self") + sum(_pss(c) for c in _children("self"))


def _cpu() -> float:
    """CPU seconds of this process and of its children that have ended."""
    own, ended = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + ended.ru_utime + ended.ru_stime


def _child(raw: Path, out: Path, jobs: int, profile: Path | None = None) -> dict:
    """Run the pipeline once in this process; return per-stage figures."""
    import cdisc_umsc.run as runner
    import cdisc_umsc.sdtm.pipeline as pipeline
    from cdisc_umsc.core.progress import Progress, StageTime

    sub: dict[str, float] = {}

    def timed(module: object, attr: str, label: str) -> None:
        fn: Callable | None = getattr(module, attr, None)
        if fn is None:
            return

        def wrapper(*args, **kwargs):
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                sub[label] = sub.get(label, 0.0) + time.perf_counter() - t

        setattr(module, attr, wrapper)

    timed(pipeline, "read_forms", "read")
    timed(pipeline, "conform", "conform")
    timed(runner, "write_xpt", "write XPT")
    for attr in ("build_define", "validate_define", "write_define"):
        timed(runner, attr, "define")

    class Sampled(Progress):
        """Progress that records the peak RSS of every stage."""

        peaks: dict[str, int]

        def __post_init__(self) -> None:
            super().__post_init__()
            self.peaks, self.cpu, self._peak, self._stop = {}, {}, 0, False
            threading.Thread(target=self._sample, daemon=True).start()

        def _sample(self) -> None:
            while not self._stop:
                self._peak = max(self._peak, _rss())
                time.sleep(0.01)

        def on_start(self, name: str) -> None:
            self._peak, self._cpu = _rss(), _cpu()
            if profile is not None:
                self._prof = cProfile.Profile()
                self._prof.enable()

        def on_end(self, stage: StageTime) -> None:
            if profile is not None:
                self._prof.disable()
                slug = "".join(c if c.isalnum() else "_" for c in stage.name)
                self._prof.dump_stats(profile / f"{raw.name}.{len(self.peaks):02d}.{slug}.prof")
            self.peaks[stage.name] = max(self._peak, _rss())
            self.cpu[stage.name] = _cpu() - self._cpu

    progress = Sampled(enabled=False)
    t0, c0 = time.perf_counter(), _cpu()
    result = runner.run(None, raw, out, "xpt", progress=progress, jobs=jobs or None)
    total, cpu = time.perf_counter() - t0, _cpu() - c0
    progress._stop = True
    rows = sum(f["read"] for f in result.manifest["raw_forms"])
    return {
        "total": total,
        "cpu": cpu,
        "rows": rows,
        "lb": result.manifest["records"].get("sdtm/LB", 0),
        "peak": max(progress.peaks.values(), default=0),
        "jobs": result.jobs,
        "stages": [
            (s.name, s.seconds, progress.cpu.get(s.name, 0.0), progress.peaks.get(s.name, 0))
            for s in progress.stages
        ],
        "sub": sub,
    }


def _versions() -> str:
    import importlib.metadata
    import platform

    parts = [f"python {platform.python_version()}"]
    for name in ("pandas", "numpy", "pyarrow", "pyreadstat", "lxml", "pandera"):
        try:
            parts.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            parts.append(f"{name} absent")
    import pandas as pd

    parts.append(f"string storage {pd.Series(['a']).dtype.storage}")
    return ", ".join(parts)


def _floor_child(raw: Path, out: Path) -> dict:
    """Read every raw form as text and write every output dataset with the XPT writer."""
    from datetime import datetime

    import pandas as pd

    from cdisc_umsc.read.xpt import read_xpt
    from cdisc_umsc.write.xpt import write_xpt

    t = time.perf_counter()
    for form in sorted(raw.glob("*.csv")):
        pd.read_csv(form, dtype=str)
    read = time.perf_counter() - t
    written = 0.0
    stamp = datetime(2026, 1, 1)
    with tempfile.TemporaryDirectory(prefix="bench_floor.") as tmp:
        for path in sorted(out.glob("*/*.xpt")):
            df, dataset = read_xpt(path)
            t = time.perf_counter()
            write_xpt(Path(tmp) / path.name, df, dataset, created=stamp)
            written += time.perf_counter() - t
    return {"read": read, "write": written}


def _fixed_cost() -> tuple[float, float]:
    """Best-of-three wall time of `cdisc-umsc run -q` (bundled trial) over the start-up of a
    run (interpreter + the modules a run imports) and over `--version`."""
    exe = [sys.executable, "-m", "cdisc_umsc.cli"]

    def best(args: list[str]) -> float:
        times = []
        for _ in range(3):
            t = time.perf_counter()
            subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
            times.append(time.perf_counter() - t)
        return min(times)

    with tempfile.TemporaryDirectory(prefix="bench_fixed.") as tmp:
        run = best([*exe, "run", "-q", "--out", str(Path(tmp) / "out")])
    return run / best(imports_command()), run / best([*exe, "--version"])


def _measure(subjects: int, work: Path, jobs: int, profile: Path | None) -> dict:
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "fixtures" / "umsc" / "synth.py"
    spec = importlib.util.spec_from_file_location("synth", path)
    synth = importlib.util.module_from_spec(spec)
    sys.modules["synth"] = synth
    spec.loader.exec_module(synth)
    write_trial = synth.write_trial

    raw = work / f"raw{subjects}"
    write_trial(raw, subjects, seed=1, dense_labs=True)
    cmd = [
        sys.executable,
        __file__,
        "--child",
        str(raw),
        "--out",
        str(work / f"out{subjects}"),
        "--jobs",
        str(jobs),
    ]
    if profile is not None:
        profile.mkdir(parents=True, exist_ok=True)
        cmd += ["--profile", str(profile)]
    done = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True)
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    floor = [sys.executable, __file__, "--floor", str(raw), "--out", str(work / f"out{subjects}")]
    done = subprocess.run(floor, check=True, stdout=subprocess.PIPE, text=True)
    figures["floor"] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="250,500,1000,2000", help="subject counts")
    ap.add_argument("--jobs", type=int, default=0, help="passed to run(jobs=); 0: its default")
    ap.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--floor", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--profile", type=Path, help="write a cProfile of each size's run here")
    args = ap.parse_args()
    if args.floor:
        print(json.dumps(_floor_child(args.floor, args.out)))
        return
    if args.child:
        print(json.dumps(_child(args.child, args.out, args.jobs, args.profile)))
        return
    print(_versions())
    sizes = [int(s) for s in args.sizes.split(",")]
    fixed, over_version = _fixed_cost()
    print(
        "bundled trial run / start-up (interpreter + a run's imports; fresh subprocesses, best "
        f"of 3): {fixed:.2f}; / --version: {over_version:.2f} (bundled_vs_version)"
    )
    figures = {}
    with tempfile.TemporaryDirectory(prefix="bench_pipeline.") as tmp:
        for n in sizes:
            f = figures[n] = _measure(n, Path(tmp), args.jobs, args.profile)
            print(
                f"\n{n} subjects: {f['rows']:,} raw rows ({f['lb']:,} LB), "
                f"total {f['total']:.1f} s (CPU {f['cpu']:.1f} s), "
                f"peak memory (PSS of the process tree) {f['peak'] / 1e9:.2f} GB, "
                f"{f['jobs']} jobs"
            )
            fl = f["floor"]
            f["vs_floor"] = f["total"] / (fl["read"] + fl["write"])
            print(
                f"  floor: read_csv(dtype=str) {fl['read']:.2f} s + write XPT {fl['write']:.2f} s;"
                f" pipeline / floor {f['vs_floor']:.2f}"
            )
            for name, secs, cpu, peak in f["stages"]:
                print(f"  {name:<28} {secs:7.2f} s  CPU {cpu:7.2f} s  peak {peak / 1e9:5.2f} GB")
            for name, secs in sorted(f["sub"].items()):
                print(f"    (within) {name:<17} {secs:7.2f} s")
    rows = np.array([figures[n]["rows"] for n in sizes], dtype=float)
    secs = np.array([figures[n]["total"] for n in sizes])
    b = float(np.polyfit(np.log(rows), np.log(secs), 1)[0]) if len(sizes) > 1 else float("nan")
    base = sizes[0]
    print(f"\nsubjects  rows/rows_{base}  time/time_{base}  cpu/cpu_{base}")
    for n in sizes:
        print(
            f"{n:>8}  {figures[n]['rows'] / figures[base]['rows']:11.2f}  "
            f"{figures[n]['total'] / figures[base]['total']:11.2f}  "
            f"{figures[n]['cpu'] / figures[base]['cpu']:9.2f}"
        )
    cpu = np.array([figures[n]["cpu"] for n in sizes])
    if len(sizes) > 1:  # wall time suffers from other load on the machine; CPU time does not
        print(f"growth exponent of CPU time: {np.polyfit(np.log(rows), np.log(cpu), 1)[0]:.2f}")
    last = figures[max(sizes)]
    ref = figures.get(2000, last)
    ref_n = 2000 if 2000 in figures else max(sizes)
    print(
        f"bundled_vs_startup={fixed:.2f} "
        f"pipeline_{ref_n}_seconds={ref['total']:.1f} "
        f"pipeline_{ref_n}_peak_gb={ref['peak'] / 1e9:.2f} "
        f"pipeline_vs_floor={ref['vs_floor']:.2f} growth_exponent={b:.2f}"
    )


if __name__ == "__main__":
    main()
