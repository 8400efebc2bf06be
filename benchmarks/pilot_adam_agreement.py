"""Agreement of the ADaM engine with the CDISC pilot's own ADaM (CDISCPILOT01).

Builds an SDTM folder from the pilot's sdtm/*.xpt plus csv_safetyData/sdtm_lb.csv.gz (written as
lb.xpt), runs ``cdisc-umsc derive`` with mappings/cdiscpilot01, reads the written ADSL and ADLBC
back and compares them, variable by variable, with adam/adsl.xpt and adam_adlbc.csv.gz.
ADLBC is compared on every record: the standardized values (PARAMN < 100) and the change from
the previous visit relative to the normal range (PARAMCD _xx, PARAMN > 100).

Usage: python benchmarks/pilot_adam_agreement.py [--details N]
The last line is ``pilot_adam_min_agreement=<lowest per-variable share, 0-1>``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import datetime
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
PILOT = ROOT.parent / "shared" / "reference" / "cdiscpilot01"
SPEC = ROOT / "mappings" / "cdiscpilot01"
ADSL_VARS = ["TRTSDT", "TRTEDT", "SAFFL", "ITTFL", "AGEGR1"]
ADLBC_VARS = [
    "AVISIT",
    "ADY",
    "AVAL",
    "BASE",
    "CHG",
    "ABLFL",
    "ANRIND",
    "BNRIND",
    "A1LO",
    "A1HI",
    "R2A1LO",
    "R2A1HI",
]
ADLBC_KEYS = ["USUBJID", "PARAMCD", "AVISITN", "LBSEQ"]
SAS_EPOCH = pd.Timestamp("1960-01-01")


def sdtm_folder(pilot: Path, dest: Path) -> Path:
    """The pilot's SDTM as one folder: its XPT files and LB from the CSV, as lb.xpt."""
    from cdisc_umsc.validate.igmeta import study_from_ig
    from cdisc_umsc.write.xpt import write_xpt

    dest.mkdir(parents=True, exist_ok=True)
    for xpt in sorted((pilot / "sdtm").glob("*.xpt")):
        (dest / xpt.name).symlink_to(xpt)
    lb = pd.read_csv(
        pilot / "csv_safetyData" / "sdtm_lb.csv.gz",
        keep_default_na=False,
        na_values={
            c: [""]
            for c in ("LBSEQ", "LBSTRESN", "LBSTNRLO", "LBSTNRHI", "VISITNUM", "VISITDY", "LBDY")
        },
    )
    text = [c for c in lb.columns if lb[c].dtype.kind not in "fiu"]
    lb[text] = lb[text].astype(object)
    meta = study_from_ig({"LB": lb}).datasets["LB"]
    write_xpt(dest / "lb.xpt", lb, meta, created=datetime(2013, 6, 14))
    return dest


def _dates(values: pd.Series) -> pd.Series:
    """ISO dates (the CSV) as SAS day numbers."""
    return (pd.to_datetime(values, errors="coerce") - SAS_EPOCH).dt.days.astype("float64")


def measure(pilot: Path = PILOT, work: Path | None = None) -> tuple[pd.DataFrame, dict]:
    """Per-variable agreement table and the merged frames (for listing differences)."""
    from cdisc_umsc.adam.compare import agreement
    from cdisc_umsc.commands.derive import derive
    from cdisc_umsc.read.xpt import read_xpt

    tmp = Path(work or tempfile.mkdtemp(prefix="pilot-adam-"))
    derive(SPEC, sdtm_folder(pilot, tmp / "sdtm"), tmp / "adam")
    adsl = read_xpt(tmp / "adam" / "adsl.xpt")[0]
    adlbc = read_xpt(tmp / "adam" / "adlbc.xpt")[0]
    ref_adsl = read_xpt(pilot / "adam" / "adsl.xpt")[0]
    ref_lb = pd.read_csv(pilot / "csv_safetyData" / "adam_adlbc.csv.gz")
    ref_lb["ADT"] = _dates(ref_lb["ADT"])
    t1, m1 = agreement(adsl, ref_adsl, ["USUBJID"], ADSL_VARS)
    t2, m2 = agreement(adlbc, ref_lb, ADLBC_KEYS, ADLBC_VARS)
    table = pd.concat([t1.assign(dataset="ADSL"), t2.assign(dataset="ADLBC")], ignore_index=True)
    return table[["dataset", "variable", "records", "equal", "share"]], {"ADSL": m1, "ADLBC": m2}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--details", type=int, default=0, help="list N differences per variable")
    args = parser.parse_args(argv)
    if not PILOT.is_dir():
        print(f"{PILOT} not found: the pilot data are needed", file=sys.stderr)
        return 2
    table, merged = measure()
    print(table.to_string(index=False, formatters={"share": "{:.4f}".format}))
    for name, frame in merged.items():
        print(
            f"{name}: records only in the pilot: {int((frame['_in'] == 'reference_only').sum())}"
            f", only derived: {int((frame['_in'] == 'derived_only').sum())}"
        )
    if args.details:
        for row in table.itertuples():
            frame = merged[row.dataset]
            bad = frame[~frame[f"{row.variable}_ok"] & (frame["_in"] != "derived_only")]
            if len(bad):
                cols = [c for c in frame.columns if c.startswith("_k")]
                print(f"\n{row.dataset}.{row.variable}: {len(bad)} differences")
                print(
                    bad[[*cols, "_in", f"{row.variable}_ref", f"{row.variable}_der"]]
                    .head(args.details)
                    .to_string(index=False)
                )
    print(f"pilot_adam_min_agreement={table['share'].min():.4f}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
