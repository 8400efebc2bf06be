"""Fixed cost of a run, run by hand: `.venv/bin/python benchmarks/bench_fixed_cost.py`.

In fresh subprocesses it times the start-up of a run (the interpreter plus every module a
run imports, :mod:`startup`), ``cdisc-umsc --version`` and ``cdisc-umsc run -q --out <tmp>``
on the bundled 17-subject trial (every output: XPT, define.xml and define.html, validation,
lineage, the review page index.html), each ``--repeats`` times (default 5), in alternation so
that machine load falls on all alike. It prints the package versions it ran with, every
timing, each median, ``bundled_vs_version=<r>`` (the run over ``--version``, which imports
almost nothing) and as its last line ``bundled_vs_startup=<r>``: the run median divided by
the start-up median (target <= 3).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

from startup import imports_command

PACKAGES = ("pandas", "numpy", "lxml", "pyreadstat", "matplotlib")


def _command() -> list[str]:
    """The console script of the interpreter running this file (its venv's cdisc-umsc)."""
    script = Path(sys.executable).with_name("cdisc-umsc")
    if script.exists():
        return [str(script)]
    found = shutil.which("cdisc-umsc")
    if found is None:
        raise SystemExit("cdisc-umsc is not installed in this environment")
    return [found]


def _timed(args: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(args, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    versions = {"python": sys.version.split()[0]}
    versions |= {name: metadata.version(name) for name in PACKAGES}
    print(" ".join(f"{k}={v}" for k, v in versions.items()))
    command = _command()
    startup: list[float] = []
    imports: list[float] = []
    bundled: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for i in range(args.repeats):
            startup.append(_timed([*command, "--version"], work))
            imports.append(_timed(imports_command(), work))
            out = work / f"out{i}"
            bundled.append(_timed([*command, "run", "-q", "--out", str(out)], work))
            shutil.rmtree(out)
            print(
                f"repeat {i + 1}: --version {startup[-1]:.3f} s, run imports "
                f"{imports[-1]:.3f} s, run {bundled[-1]:.3f} s"
            )
    version_median, run_median = statistics.median(startup), statistics.median(bundled)
    imports_median = statistics.median(imports)
    print(f"version_median_seconds={version_median:.3f}")
    print(f"startup_median_seconds={imports_median:.3f}")
    print(f"bundled_median_seconds={run_median:.3f}")
    print(f"bundled_vs_version={run_median / version_median:.2f}")
    print(f"bundled_vs_startup={run_median / imports_median:.2f}")


if __name__ == "__main__":
    main()
