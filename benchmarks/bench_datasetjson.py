"""Benchmark: Dataset-JSON writer on a 1,000,000 x 25 LB-like frame against plain json.dumps.

Run by hand: ``.venv/bin/python benchmarks/bench_datasetjson.py [rows]``. Prints wall times,
output sizes and peak resident memory (each run in its own fork, so peaks do not mix); the last
line is ``datasetjson_write_vs_json_dumps=<ratio>``: our JSON writer's time over the baseline
``json.dumps(df.to_dict("split"))`` written to a file, measured in the same run.
"""

from __future__ import annotations

import gc
import json
import multiprocessing as mp
import sys
import tempfile
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path

import numpy as np
import pandas as pd

from cdisc_umsc.metadata.model import Dataset, Study, Variable
from cdisc_umsc.write.datasetjson import write_datasetjson

CHAR = [
    "STUDYID", "DOMAIN", "USUBJID", "LBTESTCD", "LBTEST", "LBCAT", "LBORRES", "LBORRESU",
    "LBORNRLO", "LBORNRHI", "LBSTRESC", "LBSTRESU", "LBNRIND", "VISIT", "LBDTC",
]  # fmt: skip
NUM = [
    "LBSEQ", "LBSTRESN", "LBSTNRLO", "LBSTNRHI", "VISITNUM", "VISITDY", "LBDY", "ADT", "AVAL",
    "BASE",
]  # fmt: skip


def lb_like(rows: int, seed: int = 20240101) -> tuple[pd.DataFrame, Dataset]:
    """A seeded LB-like frame: 15 character and 10 numeric columns, some values missing."""
    rng = np.random.default_rng(seed)
    subj = rng.integers(1000, 1999, rows)
    tests = np.array(["ALB", "ALT", "AST", "BILI", "CREAT", "GLUC", "HGB", "K", "SODIUM", "WBC"])
    t = rng.integers(0, len(tests), rows)
    value = np.round(rng.normal(50, 20, rows), 1)
    visits = rng.integers(1, 12, rows)
    days = rng.integers(19000, 19700, rows)
    iso = np.datetime_as_string(np.datetime64("1960-01-01") + days.astype("timedelta64[D]"))
    char = {
        "STUDYID": np.full(rows, "UMSC-01"),
        "DOMAIN": np.full(rows, "LB"),
        "USUBJID": np.char.add("UMSC-01-", subj.astype(str)),
        "LBTESTCD": tests[t],
        "LBTEST": np.char.add(tests[t], " measurement"),
        "LBCAT": np.where(t < 6, "CHEMISTRY", "HEMATOLOGY"),
        "LBORRES": value.astype(str),
        "LBORRESU": np.full(rows, "g/L"),
        "LBORNRLO": np.full(rows, "10"),
        "LBORNRHI": np.full(rows, "90"),
        "LBSTRESC": value.astype(str),
        "LBSTRESU": np.full(rows, "g/L"),
        "LBNRIND": np.where(value > 90, "HIGH", np.where(value < 10, "LOW", "NORMAL")),
        "VISIT": np.char.add("WEEK ", visits.astype(str)),
        "LBDTC": iso,
    }
    miss = rng.random(rows) < 0.05
    num = {
        "LBSEQ": np.arange(1, rows + 1, dtype=np.float64),
        "LBSTRESN": np.where(miss, np.nan, value),
        "LBSTNRLO": np.full(rows, 10.0),
        "LBSTNRHI": np.full(rows, 90.0),
        "VISITNUM": visits.astype(np.float64),
        "VISITDY": (visits * 7).astype(np.float64),
        "LBDY": rng.integers(-5, 120, rows).astype(np.float64),
        "ADT": np.where(miss, np.nan, days.astype(np.float64)),
        "AVAL": np.where(miss, np.nan, value / 3),
        "BASE": rng.normal(50, 5, rows),
    }
    frame = pd.DataFrame({**{k: pd.Series(v, dtype="str") for k, v in char.items()}, **num})
    integer = {"LBSEQ", "VISITNUM", "VISITDY", "LBDY"}
    variables = [
        Variable(n, f"{n} label", "Char", i, data_type="datetime" if n == "LBDTC" else "text")
        for i, n in enumerate(CHAR, 1)
    ] + [
        Variable(
            n,
            f"{n} label",
            "Num",
            i,
            data_type="integer" if n in integer else "float",
            format="DATE9." if n == "ADT" else None,
        )
        for i, n in enumerate(NUM, len(CHAR) + 1)
    ]
    return frame, Dataset(
        "LB", "Laboratory Test Results", "FINDINGS", "", "SDTMIG", variables=tuple(variables)
    )


def _status_mib(field: str) -> float:
    """A memory figure of this process from /proc/self/status (VmRSS, VmHWM), in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise KeyError(field)


def _child(fn: Callable[[], object], conn: Connection) -> None:
    """Run fn in a forked process; send back wall time and peak RSS (high-water mark reset)."""
    Path("/proc/self/clear_refs").write_text("5")  # Linux: reset VmHWM to the current RSS
    start = time.perf_counter()
    fn()
    elapsed = time.perf_counter() - start
    conn.send((elapsed, _status_mib("VmHWM")))
    conn.close()


def measure(label: str, fn: Callable[[], object]) -> float:
    """Wall time and peak RSS of fn, run in a fresh fork so peaks do not mix; prints one line."""
    gc.collect()
    before = _status_mib("VmRSS")
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(fn, child))
    proc.start()
    elapsed, peak = parent.recv()
    proc.join()
    print(f"{label:<36} {elapsed:7.2f} s   peak RSS {peak:7.0f} MiB (+{peak - before:.0f})")
    return elapsed


def main(rows: int) -> None:
    """Time baseline, JSON and NDJSON writers on the same frame."""
    frame, dataset = lb_like(rows)
    study = Study("UMSC-01", "SDTMIG", "3.4", "2025-03-28")
    print(f"frame {rows:,} rows x {frame.shape[1]} columns")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)

        def baseline() -> None:
            (out / "baseline.json").write_text(json.dumps(frame.to_dict("split")))

        base = measure("baseline json.dumps(to_dict split)", baseline)
        ours = measure(
            "write_datasetjson json",
            lambda: write_datasetjson(
                out / "lb.json", frame, dataset, study, created="2025-01-01T00:00:00"
            ),
        )
        nd = measure(
            "write_datasetjson ndjson",
            lambda: write_datasetjson(
                out / "lb.ndjson",
                frame,
                dataset,
                study,
                created="2025-01-01T00:00:00",
                fmt="ndjson",
            ),
        )
        for name in ("baseline.json", "lb.json", "lb.ndjson"):
            print(f"size {name:<14} {(out / name).stat().st_size / 2**20:8.1f} MiB")
    print(f"ndjson_vs_json_dumps={nd / base:.2f}")
    print(f"datasetjson_write_vs_json_dumps={ours / base:.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
