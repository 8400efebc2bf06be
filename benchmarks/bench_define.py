"""Define-XML benchmark, run by hand: `.venv/bin/python benchmarks/bench_define.py [--subjects N]`.

Builds the bundled trial's SDTM and ADaM once (or a synthetic trial of N subjects with the dense
lab schedule), then times, for each standard, writing its datasets as SAS XPORT (the baseline,
measured in the same run) and building + checking + writing its define.xml (with define.html).
Prints the medians of ``--repeat`` runs, the ratio define / XPT, and package versions; the last
line is ``define_sdtm_ratio=<r> define_adam_ratio=<r>``.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path


def _median(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    import lxml.etree
    import pandas as pd

    from cdisc_umsc.adam.build import build_adam
    from cdisc_umsc.core.bundled import default_trial
    from cdisc_umsc.run import study_metadata
    from cdisc_umsc.sdtm.check_spec import load_checked_spec
    from cdisc_umsc.sdtm.pipeline import build_sdtm
    from cdisc_umsc.write.define import build_define, validate_define, write_define
    from cdisc_umsc.write.submission import analysis_results, value_lists
    from cdisc_umsc.write.xpt import write_xpt

    parser = argparse.ArgumentParser()
    parser.add_argument("--subjects", type=int, default=0, help="synthetic trial size (0: bundled)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        trial = default_trial()
        raw = trial.raw
        if args.subjects:
            from cdisc_umsc.synth import write_trial

            raw = Path(tmp) / "raw"
            write_trial(raw, args.subjects, 1, dense_labs=True)
        spec = load_checked_spec(trial.spec)
        sdtm = build_sdtm(spec, raw)
        adam, adam_meta = build_adam(spec.adam, sdtm.data, spec.sponsor_codelists, spec.standards)
        stamp = datetime.fromisoformat(str(spec.settings["created"]))
        ratios = {}
        for part, data, meta, purpose, arm in (
            ("sdtm", sdtm.data, sdtm.meta, "Tabulation", None),
            ("adam", adam, adam_meta, "Analysis", analysis_results(spec.adam)),
        ):
            folder = Path(tmp) / part
            folder.mkdir()
            study = study_metadata(spec, meta, purpose)

            def xpt(data=data, meta=meta, folder=folder) -> None:
                for name, frame in data.items():
                    write_xpt(folder / f"{name.lower()}.xpt", frame, meta[name], created=stamp)

            def define(
                data=data, meta=meta, study=study, purpose=purpose, arm=arm, folder=folder
            ) -> None:
                tree = build_define(
                    study, data, purpose=purpose, value_lists=value_lists(meta), arm=arm
                )
                assert validate_define(tree) == []
                write_define(folder / "define.xml", tree, html_path=folder / "define.html")

            base, own = _median(xpt, args.repeat), _median(define, args.repeat)
            ratios[part] = own / base
            rows = sum(len(f) for f in data.values())
            print(
                f"{part}: {len(data)} datasets, {rows} records: XPT {base:.3f} s, define "
                f"{own:.3f} s, define / XPT = {ratios[part]:.2f}"
            )
    versions = f"pandas {pd.__version__}, lxml {'.'.join(map(str, lxml.etree.LXML_VERSION))}"
    print(f"python {platform.python_version()}, {versions}")
    print(f"define_sdtm_ratio={ratios['sdtm']:.2f} define_adam_ratio={ratios['adam']:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
