"""Validation benchmark, run by hand: `.venv/bin/python benchmarks/bench_validate.py [rows]`.

1. The whole CDISC pilot SDTM: the XPT folder (../shared/reference/cdiscpilot01/sdtm) plus
   LB, QS, VS and SUPPLB from csv_safetyData (written as XPT into a temporary folder, about
   250,000 records in all). CORE (``$CORE_HOME/run_core.sh DIR``, default ``$HOME/.cache/core``)
   and ``cdisc-umsc validate DIR`` each run once on that folder, in a fresh process, CORE
   first. Wall-clock time includes start-up, reading the files and loading the standards for
   both; ours runs its whole catalogue. Skipped with a message when ../shared or the harness
   is absent.
2. A synthetic LB of 1,000,000 records (plus its DM), validated in this process against the
   bundled IG (the time of ``validate_study`` alone; the frames are built beforehand).

Prints both engines' rules (executed / in the catalogue), findings and package versions, then,
last, exactly: ``validate_vs_core=<ratio> lb_1m_seconds=<s>`` (ratio "skipped" without the
pilot or CORE).
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
PILOT = ROOT.parent / "shared" / "reference" / "cdiscpilot01"
CSV_DOMAINS = ("lb", "qs", "vs", "supplb")
TESTS = {  # LBTESTCD: (LBTEST, unit, low, high, mean)
    "ALT": ("Alanine Aminotransferase", "U/L", 7.0, 55.0, 30.0),
    "AST": ("Aspartate Aminotransferase", "U/L", 8.0, 48.0, 28.0),
    "ALB": ("Albumin", "g/L", 35.0, 50.0, 42.0),
    "BILI": ("Bilirubin", "umol/L", 3.0, 21.0, 10.0),
    "CREAT": ("Creatinine", "umol/L", 60.0, 110.0, 85.0),
    "GLUC": ("Glucose", "mmol/L", 3.9, 5.6, 5.0),
    "HGB": ("Hemoglobin", "g/L", 120.0, 170.0, 140.0),
    "PLAT": ("Platelets", "10^9/L", 150.0, 400.0, 250.0),
}
VISITS = [
    "SCREENING",
    "BASELINE",
    "WEEK 2",
    "WEEK 4",
    "WEEK 8",
    "WEEK 12",
    "WEEK 16",
    "WEEK 24",
    "WEEK 36",
    "WEEK 48",
    "END OF STUDY",
]


def core_home() -> Path:
    return Path(os.environ.get("CORE_HOME") or Path.home() / ".cache" / "core")


def _wall(cmd: list[str]) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=14400)
    return time.perf_counter() - start, done


def whole_pilot(folder: Path) -> int:
    """Write the pilot's XPT datasets and its csv.gz LB / QS / VS / SUPPLB as XPT files into
    ``folder`` (typed by the bundled IG); the number of records."""
    from cdisc_umsc.read.xpt import read_xpt
    from cdisc_umsc.validate.igmeta import dataset_from_ig
    from cdisc_umsc.write.xpt import write_xpt

    records = 0
    for path in sorted((PILOT / "sdtm").glob("*.xpt")):
        shutil.copy(path, folder / path.name)
        records += len(read_xpt(path, encoding="cp1252")[0])
    shutil.copy(PILOT / "sdtm" / "define.xml", folder / "define.xml")
    for name in CSV_DOMAINS:
        with gzip.open(PILOT / "csv_safetyData" / f"sdtm_{name}.csv.gz", "rt") as fh:
            frame = pd.read_csv(fh, dtype=str, keep_default_na=False)
        meta = dataset_from_ig(name.upper(), frame)
        for var in meta.variables:
            if _ig_type(name.upper(), var.name) == "Num":
                frame[var.name] = pd.to_numeric(frame[var.name], errors="coerce")
        meta = dataset_from_ig(name.upper(), frame)
        write_xpt(folder / f"{name}.xpt", frame, meta, created=datetime(2024, 1, 1))
        records += len(frame)
    return records


def _ig_type(dataset: str, variable: str) -> str:
    from cdisc_umsc.metadata import standards as S

    table = "SUPPQUAL" if dataset.startswith("SUPP") else dataset
    row = S.ig_variable("SDTMIG", "3.4", table, variable)
    return row["type"] if row else "Char"


def pilot() -> float | None:
    """ours / CORE wall-clock ratio on the whole pilot, or None when it cannot be measured."""
    if not (PILOT / "sdtm").is_dir():
        print(f"pilot: skipped ({PILOT} absent)")
        return None
    script = core_home() / "run_core.sh"
    if not script.is_file():
        print(
            f"pilot: skipped (CORE harness not set up: {script} missing; see "
            "../shared/tools/core/scripts/setup.sh)"
        )
        return None
    from cdisc_umsc.validate import catalogue
    from cdisc_umsc.validate.checks import checks

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "sdtm"
        folder.mkdir()
        records = whole_pilot(folder)
        ours_json, core_json = Path(tmp) / "ours.json", Path(tmp) / "core.json"
        t_core, done = _wall(
            ["bash", str(script), str(folder), "sdtmig", "3-4", "--json", str(core_json)]
        )
        if done.returncode != 0:
            sys.exit(f"CORE failed: {done.stderr.strip()[-300:]}")
        exe = Path(sys.executable).with_name("cdisc-umsc")
        t_ours, done = _wall(
            [str(exe), "validate", str(folder), "--encoding", "cp1252", "--out", str(ours_json)]
        )
        if done.returncode not in (0, 1):
            sys.exit(f"cdisc-umsc validate failed: {done.stderr.strip()}")
        ours = json.loads(ours_json.read_text(encoding="utf-8"))
        core = json.loads(core_json.read_text(encoding="utf-8"))
    checks()
    status = core["status_count"]
    completed = status.get("success", 0) + status.get("issue reported", 0)
    core_findings = sum(r["issues"] for r in core["rules"])
    files = len(list((PILOT / "sdtm").glob("*.xpt"))) + len(CSV_DOMAINS)
    print(f"whole pilot SDTM: {files} datasets, {records:,} records")
    print(
        f"  cdisc-umsc {metadata.version('cdisc-umsc')}: {t_ours:7.2f} s wall, "
        f"{len(catalogue.rules())} rules in the catalogue (all run), "
        f"{len(ours['findings'])} findings"
    )
    print(
        f"  CORE (cdisc-rules-engine): {t_core:7.2f} s wall ({core['elapsed_s']:.1f} s in rules),"
        f" {len(core['rules'])} rules, {sum(status.values())} rule/dataset runs ({completed} "
        "completed: "
        + ", ".join(f"{k} {v}" for k, v in sorted(status.items()))
        + f"), {core_findings} findings"
    )
    return t_ours / t_core


def synthetic_lb(rows: int, seed: int = 20240501) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(DM, LB) with `rows` LB records: 8 tests x 11 visits per subject, numeric results."""
    rng = np.random.default_rng(seed)
    per_subject = len(TESTS) * len(VISITS)
    subjects = -(-rows // per_subject)
    subj = np.array([f"SYN-{i:06d}" for i in range(subjects)], dtype=object)
    i = np.arange(rows)
    s, k = i // per_subject, i % per_subject
    t, v = k % len(TESTS), k // len(TESTS)
    codes = np.array(list(TESTS), dtype=object)
    info = pd.DataFrame.from_dict(
        TESTS, orient="index", columns=["test", "unit", "lo", "hi", "mean"]
    )
    mean, lo, hi = (info[c].to_numpy()[t] for c in ("mean", "lo", "hi"))
    value = np.round(mean * rng.lognormal(0.0, 0.25, rows), 1)
    result = pd.Series(value).map("{:.1f}".format).to_numpy(dtype=object)
    rfst = pd.Timestamp("2024-01-08") + pd.to_timedelta(np.arange(subjects) % 200, unit="D")
    day = np.array([-7, 1, 15, 29, 57, 85, 113, 169, 253, 337, 365])[v]
    dates = rfst[s] + pd.to_timedelta(np.where(day > 0, day - 1, day), unit="D")
    dtc = dates.strftime("%Y-%m-%d").to_numpy(dtype=object)
    nrind = np.where(value < lo, "LOW", np.where(value > hi, "HIGH", "NORMAL")).astype(object)
    lb = pd.DataFrame(
        {
            "STUDYID": "SYN",
            "DOMAIN": "LB",
            "USUBJID": subj[s],
            "LBSEQ": (k + 1).astype("float64"),
            "LBTESTCD": codes[t],
            "LBTEST": info["test"].to_numpy()[t],
            "LBCAT": "CHEMISTRY",
            "LBORRES": result,
            "LBORRESU": info["unit"].to_numpy()[t],
            "LBORNRLO": lo.astype(str).astype(object),
            "LBORNRHI": hi.astype(str).astype(object),
            "LBSTRESC": result,
            "LBSTRESN": value,
            "LBSTRESU": info["unit"].to_numpy()[t],
            "LBSTNRLO": lo,
            "LBSTNRHI": hi,
            "LBNRIND": nrind,
            "LBLOBXFL": np.where(v == 1, "Y", "").astype(object),
            "VISITNUM": (v + 1).astype("float64"),
            "VISIT": np.array(VISITS, dtype=object)[v],
            "LBDTC": dtc,
            "LBDY": day.astype("float64"),
        }
    )
    dm_dates = rfst.strftime("%Y-%m-%d").to_numpy(dtype=object)
    dm = pd.DataFrame(
        {
            "STUDYID": "SYN",
            "DOMAIN": "DM",
            "USUBJID": subj,
            "SUBJID": [u[-6:] for u in subj],
            "RFSTDTC": dm_dates,
            "RFENDTC": dm_dates,
            "SITEID": "01",
            "AGE": 40.0,
            "AGEU": "YEARS",
            "SEX": np.where(np.arange(subjects) % 2, "F", "M").astype(object),
            "RACE": "WHITE",
            "ARMCD": "A",
            "ARM": "Drug A",
            "ACTARMCD": "A",
            "ACTARM": "Drug A",
            "COUNTRY": "USA",
        }
    )
    return _as_read(dm), _as_read(lb)


def _as_read(frame: pd.DataFrame) -> pd.DataFrame:
    """Text columns in the dtype the XPT / Dataset-JSON readers give (pandas "str")."""
    text = [c for c in frame.columns if frame[c].dtype == object]
    return frame.astype(dict.fromkeys(text, "str"))


def lb_seconds(rows: int) -> float:
    from cdisc_umsc.validate import study_from_ig, validate_study

    dm, lb = synthetic_lb(rows)
    frames = {"DM": dm, "LB": lb}
    study = study_from_ig(frames, study_id="SYN")
    validate_study({"DM": dm.head(2), "LB": lb.head(100)}, study)  # load the standards once
    start = time.perf_counter()
    found = validate_study(frames, study)
    seconds = time.perf_counter() - start
    print(
        f"synthetic LB: {len(lb):,} records ({len(dm):,} subjects): {seconds:.2f} s, "
        f"{len(found)} findings"
    )
    print("  " + found.summary().replace("\n", "\n  "))
    return seconds


def versions() -> str:
    names = ("pandas", "numpy", "pandera", "pyreadstat")
    core = core_home() / "venv"
    found = [f"{n} {metadata.version(n)}" for n in names]
    engine = sorted(core.glob("lib/python*/site-packages/cdisc_rules_engine-*.dist-info"))
    if engine:
        version = engine[-1].name.removesuffix(".dist-info").split("-")[1]
        found.append(f"cdisc-rules-engine {version}")
    return ", ".join(found)


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    print(f"python {sys.version.split()[0]}; {versions()}")
    ratio = pilot()
    seconds = lb_seconds(rows)
    shown = "skipped" if ratio is None else f"{ratio:.4f}"
    print(f"validate_vs_core={shown} lb_1m_seconds={seconds:.2f}")


if __name__ == "__main__":
    main()
