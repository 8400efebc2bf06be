"""Progress on stderr only on a terminal (quiet when piped or asked), and --jobs N giving the
same output files as one job."""

from __future__ import annotations

import io
from pathlib import Path

from click.testing import CliRunner

from cdisc_umsc.cli import main
from cdisc_umsc.core.progress import Progress, quiet

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "mappings" / "umsc"


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_shown_on_a_terminal_with_stage_and_records():
    out = Tty()
    p = Progress(stream=out)
    p.stage("map SDTM", 1234567)
    p.stage("write")
    p.done()
    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    assert lines[0].endswith("map SDTM (1,234,567 records)") and lines[0].startswith("[")
    assert lines[1].endswith("] write") and lines[2].endswith("] done")
    assert [(s.name, s.records) for s in p.stages] == [("map SDTM", 1234567), ("write", None)]
    assert all(s.seconds >= 0 for s in p.stages)


def test_silent_when_piped_or_quiet_but_still_timed():
    piped = io.StringIO()  # isatty() is False, as for a pipe or a file
    p = Progress(stream=piped)
    p.stage("a", 1)
    p.done()
    assert piped.getvalue() == "" and [s.name for s in p.stages] == ["a"]
    forced = Progress(stream=Tty(), enabled=False)
    forced.stage("b")
    forced.done()
    assert forced.stream.getvalue() == ""
    q = quiet()
    q.stage("c")
    q.done()
    assert q.enabled is False and len(q.stages) == 1


def test_run_reports_every_stage_in_order(tmp_path):
    from cdisc_umsc.run import run

    p = quiet()
    run(SPEC, None, tmp_path / "out", progress=p)
    names = [s.name for s in p.stages]
    assert names[:4] == ["read spec", "read raw forms + map SDTM", "derive ADaM", "PHI scan"]
    assert {"write SDTM", "write ADaM", "validate", "lineage"} <= set(names)
    mapped = dict((s.name, s.records) for s in p.stages)["derive ADaM"]
    assert mapped > 0


def _digests(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_cli_quiet_when_piped_and_jobs_give_identical_files(tmp_path):
    runner = CliRunner()
    one = runner.invoke(main, ["run", "--out", str(tmp_path / "one")])
    assert one.exit_code == 0, one.output
    assert "[" not in one.stderr and "read spec" not in one.stderr  # CliRunner is not a tty
    two = runner.invoke(main, ["run", "--out", str(tmp_path / "two"), "--jobs", "2", "--quiet"])
    assert two.exit_code == 0, two.output
    a, b = _digests(tmp_path / "one"), _digests(tmp_path / "two")
    assert a.keys() == b.keys() and len(a) > 10
    assert [k for k in a if a[k] != b[k]] == []
    bad = runner.invoke(main, ["run", "--out", str(tmp_path / "x"), "--jobs", "0"])
    assert bad.exit_code == 2
