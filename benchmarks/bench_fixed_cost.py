"""Fixed cost of a run, run by hand: `.venv/bin/python benchmarks/bench_fixed_cost.py`.

In fresh subprocesses it times ``cdisc-umsc --version`` (interpreter start plus the imports
every command pays) and ``cdisc-umsc run -q --out <tmp>`` on the bundled 17-subject trial (every
output: XPT, define.xml and define.html, validation, lineage, the review page index.html), each
``--repeats`` times (default 5), in alternation so that machine load falls on both alike. It
prints the package versions it ran with, every timing, each median, and as its last line
``bundled_vs_startup=<r>``: the run median divided by the ``--version`` median (target <= 3).
For scale it also times ``python -c "import cdisc_umsc.run"`` (the imports a run needs before
any work; not part of the ratio).
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
            imports.append(_timed([sys.executable, "-c", "import cdisc_umsc.run"], work))
            out = work / f"out{i}"
            bundled.append(_timed([*command, "run", "-q", "--out", str(out)], work))
            shutil.rmtree(out)
            print(
                f"repeat {i + 1}: --version {startup[-1]:.3f} s, run imports "
                f"{imports[-1]:.3f} s, run {bundled[-1]:.3f} s"
            )
    start_median, run_median = statistics.median(startup), statistics.median(bundled)
    print(f"startup_median_seconds={start_median:.3f}")
    print(f"run_imports_median_seconds={statistics.median(imports):.3f}")
    print(f"bundled_median_seconds={run_median:.3f}")
    print(f"bundled_vs_startup={run_median / start_median:.2f}")


if __name__ == "__main__":
    main()
