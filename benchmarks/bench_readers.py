"""Raw-form reading speed by export kind, run by hand:
`.venv/bin/python benchmarks/bench_readers.py [subjects]` (default 300).

Writes a synthetic trial of that many subjects (`fixtures/umsc/synth.py`, CSV forms), then the same
data as one ODM-XML 1.3.2 file, SAS7BDAT and SAS XPORT datasets (the bundled fixture's
exporter) and one Excel workbook, and times reading every form of each with its reader
(`read_raw_forms`: reading and all checks). Prints records, seconds and the ratio of each to
the CSV read measured in the same run, and the package versions.
"""

from __future__ import annotations

import importlib.metadata as md
import sys
import tempfile
import time
from pathlib import Path

import openpyxl
import pandas as pd

from cdisc_umsc.metadata.model import FormSpec
from cdisc_umsc.metadata.spec import _forms, load_study_spec
from cdisc_umsc.metadata.specfile import load_spec_file
from cdisc_umsc.read.raw import read_raw_forms

ROOT = Path(__file__).resolve().parents[1]


def _write_trial(raw: Path, subjects: int, seed: int) -> dict[str, int]:
    """The bundled trial's scale generator (fixtures/umsc/synth.py), loaded by path."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("synth", ROOT / "fixtures" / "umsc" / "synth.py")
    synth = importlib.util.module_from_spec(spec)
    sys.modules["synth"] = synth
    spec.loader.exec_module(synth)
    return synth.write_trial(raw, subjects, seed)


sys.path.insert(0, str(ROOT / "fixtures" / "umsc"))
import exports  # noqa: E402


def _best(fn, repeat: int = 3) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main(subjects: int) -> None:
    spec = load_study_spec(ROOT / "mappings" / "umsc")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        raw = tmp / "raw"
        _write_trial(raw, subjects, 1)
        exports.write_exports(raw, spec, tmp)
        book = openpyxl.Workbook(write_only=True)
        for name, form in spec.forms.items():
            ws = book.create_sheet(name)
            frame = pd.read_csv(raw / form.file, dtype=str, keep_default_na=False)
            ws.append(list(frame.columns))
            for row in frame.itertuples(index=False):
                ws.append(list(row))
        book.save(tmp / "trial.xlsx")
        kinds = {"csv": (raw, spec.forms)}
        for kind in ("odm", "sas7bdat", "xpt"):
            forms = _forms(load_spec_file(tmp / kind / "forms.yaml", "forms.yaml"))
            kinds[kind] = (tmp / kind, forms)
        kinds["xlsx"] = (
            tmp,
            {
                n: FormSpec(f.name, "trial.xlsx", f.label, f.key, f.fields, "xlsx", n)
                for n, f in spec.forms.items()
            },
        )
        records = sum(len(f) for f in read_raw_forms(raw, spec.forms).values())
        seconds = {k: _best(lambda d=d, f=f: read_raw_forms(d, f)) for k, (d, f) in kinds.items()}
    print(f"{subjects} subjects, {records} records in 10 forms")
    for kind, s in seconds.items():
        print(f"  {kind:<9} {s:8.3f} s   {s / seconds['csv']:6.2f} x csv")
    versions = ", ".join(
        f"{p} {md.version(p)}"
        for p in ("pandas", "pyreadstat", "lxml", "python-calamine", "openpyxl")
    )
    print(f"python {sys.version.split()[0]}, {versions}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
