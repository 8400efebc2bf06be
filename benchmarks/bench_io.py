"""Write-speed benchmark, run by hand: `.venv/bin/python benchmarks/bench_io.py [rows]`.

Builds an LB-like frame (15 text, 10 numeric columns; 1,000,000 rows by default) and times
our `write_xpt`, pyreadstat's `write_xport(..., file_format_version=5)` and a floor: the same
fixed-width packing and IEEE->IBM conversion in bare numpy, with no checks and no file.
Prints each figure, peak traced memory of our writer, and, last, the machine-readable ratios.
"""

from __future__ import annotations

import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat

from cdisc_umsc.metadata.model import Dataset, Variable
from cdisc_umsc.write.xpt import write_xpt

CHAR = {  # name: (length, pool of values)
    "STUDYID": (12, ["UMSC-01"]),
    "DOMAIN": (2, ["LB"]),
    "USUBJID": (16, [f"UMSC-01-{i:04d}" for i in range(600)]),
    "LBTESTCD": (8, ["ALT", "AST", "ALB", "BILI", "CREAT", "GLUC", "HGB", "PLAT", "WBC"]),
    "LBTEST": (40, ["Alanine Aminotransferase", "Albumin", "Bilirubin", "Creatinine", "Glucose"]),
    "LBCAT": (20, ["CHEMISTRY", "HEMATOLOGY", "URINALYSIS"]),
    "LBORRES": (20, [f"{v:.1f}" for v in range(0, 300, 7)] + [""]),
    "LBORRESU": (10, ["U/L", "g/L", "umol/L", "mmol/L", "10^9/L"]),
    "LBORNRLO": (10, ["0", "3.5", "10", "35"]),
    "LBORNRHI": (10, ["40", "5.5", "17", "150"]),
    "LBSTRESC": (20, [f"{v:.1f}" for v in range(0, 300, 7)]),
    "LBSTRESU": (10, ["U/L", "g/L", "umol/L", "mmol/L"]),
    "LBNRIND": (8, ["NORMAL", "LOW", "HIGH", ""]),
    "VISIT": (20, ["SCREENING", "BASELINE", "WEEK 2", "WEEK 4", "WEEK 12", "END OF STUDY"]),
    "LBDTC": (19, ["2024-01-15T08:30", "2024-02-01", "2024-03-10T09:00:00"]),
}
NUMS = ["LBSEQ", "LBSTRESN", "LBSTNRLO", "LBSTNRHI", "VISITNUM", "VISITDY", "LBDY", "LBBLFL_N"]
NUMS += ["LBTOXGRN", "LBFAST_N"]


def make_frame(rows: int) -> tuple[pd.DataFrame, Dataset]:
    """An LB-like frame and its metadata; seeded, so every run sees the same data."""
    rng = np.random.default_rng(7)
    cols: dict[str, object] = {}
    variables = []
    for i, (name, (length, pool)) in enumerate(CHAR.items()):
        picks = np.asarray(pool, dtype=object)[rng.integers(0, len(pool), rows)]
        cols[name] = pd.Series(picks, dtype="str")
        variables.append(Variable(name, name.title(), "Char", i + 1, length=length))
    for j, name in enumerate(NUMS):
        values = rng.standard_normal(rows) * 10.0 ** (j % 5)
        values[rng.random(rows) < 0.05] = np.nan
        cols[name] = values
        variables.append(Variable(name, name.title(), "Num", len(CHAR) + j + 1))
    ds = Dataset("LB", "Laboratory Test Results", "Findings", "", "SDTMIG 3.4")
    return pd.DataFrame(cols), Dataset(
        ds.name, ds.label, ds.cls, ds.structure, ds.standard, variables=tuple(variables)
    )


def floor(df: pd.DataFrame, ds: Dataset) -> np.ndarray:
    """Bare packing: text via numpy S fields, numbers via uint64 IEEE->IBM, no checks."""
    widths = [v.length if v.type == "Char" else 8 for v in ds.variables]
    block = np.empty((len(df), sum(widths)), dtype=np.uint8)
    off = 0
    for v, w in zip(ds.variables, widths, strict=True):
        field = block[:, off : off + w]
        if v.type == "Char":
            packed = df[v.name].to_numpy(dtype=object, na_value="").astype(f"S{w}")
            grid = packed.view(np.uint8).reshape(len(df), w)
            grid[grid == 0] = 0x20
            field[...] = grid
        else:
            x = df[v.name].to_numpy(dtype=np.float64)
            bits = x.view(np.uint64)
            p2 = ((bits >> np.uint64(52)) & np.uint64(0x7FF)).astype(np.int64) - 1022
            p16 = -((-p2) // 4)
            frac = (bits & np.uint64((1 << 52) - 1)) | np.uint64(1 << 52)
            frac <<= (3 - (4 * p16 - p2)).astype(np.uint64)
            ibm = (bits & np.uint64(1 << 63)) | ((p16 + 64).astype(np.uint64) << np.uint64(56))
            ibm |= frac
            ibm[x == 0] = 0
            ibm[np.isnan(x)] = np.uint64(0x2E << 56)
            field.view(">u8")[:, 0] = ibm
        off += w
    return block


def best_of(runs: int, fn: Callable[[], object], output: Path | None = None) -> float:
    """Best wall time of `runs` calls; a previous output file is removed outside the timing
    (freeing a large overwritten file costs the file system, not the writer, a varying time)."""
    best = float("inf")
    for _ in range(runs):
        if output is not None:
            output.unlink(missing_ok=True)
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main(rows: int = 1_000_000) -> None:
    df, ds = make_frame(rows)
    frame_mb = df.memory_usage(deep=True).sum() / 1e6
    created = datetime(2025, 1, 1)
    with tempfile.TemporaryDirectory() as tmp:
        ours_path, theirs_path = Path(tmp) / "ours.xpt", Path(tmp) / "theirs.xpt"
        ours = best_of(5, lambda: write_xpt(ours_path, df, ds, created=created), ours_path)
        bare = best_of(5, lambda: floor(df, ds))
        theirs = best_of(
            1,
            lambda: pyreadstat.write_xport(
                df,
                theirs_path,
                file_format_version=5,
                table_name=ds.name,
                file_label=ds.label,
                column_labels={v.name: v.label for v in ds.variables},
            ),
            theirs_path,
        )
        tracemalloc.start()
        write_xpt(ours_path, df, ds, created=created)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        size_mb = ours_path.stat().st_size / 1e6
    print(f"rows={rows} columns={df.shape[1]} frame_memory_mb={frame_mb:.1f} file_mb={size_mb:.1f}")
    print(f"write_xpt_s={ours:.3f} pyreadstat_write_xport_s={theirs:.3f} floor_s={bare:.3f}")
    print(f"write_xpt_peak_traced_mb={peak / 1e6:.1f} ({peak / 1e6 / frame_mb:.2f}x frame)")
    print(f"xpt_write_vs_pyreadstat={ours / theirs:.3f} xpt_write_vs_floor={ours / bare:.3f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
