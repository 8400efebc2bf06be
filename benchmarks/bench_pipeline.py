"""Whole-pipeline scale benchmark, run by hand: `.venv/bin/python benchmarks/bench_pipeline.py`.

For 250, 500, 1,000 and 2,000 subjects (``--sizes`` to change) it writes a synthetic trial with
the dense lab schedule (``cdisc_umsc.synth``, seed 1; ~500 LAB rows per subject) and runs
``cdisc_umsc.run.run`` on it with the bundled spec in a fresh interpreter, so each size's peak
memory is its own. Per stage it prints wall time and peak RSS (sampled every 5 ms); sub-stages
(read, conform, write XPT, define) are timed inside their stage. Then the growth exponent b of
total time against raw rows (least-squares fit of log time on log rows; b = 1 is linear) and,
as times relative to the smallest size measured in the same run, the ratios. The last line is
``pipeline_2000_seconds=<s> pipeline_2000_peak_gb=<GB> growth_exponent=<b>``.
"""

from __future__ import annotations

import argparse
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

PAGE = 4096


def _rss() -> int:
    with open("/proc/self/statm", encoding="ascii") as fh:
        return int(fh.read().split()[1]) * PAGE


def _child(raw: Path, out: Path, jobs: int) -> dict:
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
                time.sleep(0.005)

        def on_start(self, name: str) -> None:
            self._peak, self._cpu = _rss(), time.process_time()

        def on_end(self, stage: StageTime) -> None:
            self.peaks[stage.name] = max(self._peak, _rss())
            self.cpu[stage.name] = time.process_time() - self._cpu

    progress = Sampled(enabled=False)
    t0, c0 = time.perf_counter(), time.process_time()
    result = runner.run(None, raw, out, "xpt", progress=progress, jobs=jobs)
    total, cpu = time.perf_counter() - t0, time.process_time() - c0
    progress._stop = True
    rows = sum(f["read"] for f in result.manifest["raw_forms"])
    return {
        "total": total,
        "cpu": cpu,
        "rows": rows,
        "lb": result.manifest["records"].get("sdtm/LB", 0),
        "peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "stages": [
            (s.name, s.seconds, progress.cpu.get(s.name, 0.0), progress.peaks.get(s.name, 0))
            for s in progress.stages
        ],
        "sub": sub,
    }


def _measure(subjects: int, work: Path, jobs: int) -> dict:
    from cdisc_umsc.synth import write_trial

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
    done = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="250,500,1000,2000", help="subject counts")
    ap.add_argument("--jobs", type=int, default=1, help="passed to run(jobs=)")
    ap.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(_child(args.child, args.out, args.jobs)))
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    figures = {}
    with tempfile.TemporaryDirectory(prefix="bench_pipeline.") as tmp:
        for n in sizes:
            f = figures[n] = _measure(n, Path(tmp), args.jobs)
            print(
                f"\n{n} subjects: {f['rows']:,} raw rows ({f['lb']:,} LB), "
                f"total {f['total']:.1f} s (CPU {f['cpu']:.1f} s), "
                f"peak RSS {f['peak'] / 1e9:.2f} GB"
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
    print(
        f"pipeline_{max(sizes)}_seconds={last['total']:.1f} "
        f"pipeline_{max(sizes)}_peak_gb={last['peak'] / 1e9:.2f} growth_exponent={b:.2f}"
    )


if __name__ == "__main__":
    main()
