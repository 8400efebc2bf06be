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


def test_steps_are_indented_inside_their_stage_and_not_timed():
    out = Tty()
    p = Progress(stream=out)
    p.stage("read raw forms")
    p.step("read LAB.csv", 1864)
    p.step("mapping stage 1 of 5")
    p.done()
    lines = out.getvalue().splitlines()
    assert [line.split("] ", 1)[1] for line in lines] == [
        "read raw forms",
        "  read LAB.csv (1,864 records)",
        "  mapping stage 1 of 5",
        "done",
    ]
    assert [s.name for s in p.stages] == ["read raw forms"]
    piped = Progress(stream=io.StringIO())
    piped.step("read LAB.csv", 1)
    assert piped.stream.getvalue() == ""


def test_run_reports_every_stage_in_order_and_each_form_and_dataset(tmp_path):
    from cdisc_umsc.run import run

    out = Tty()
    p = Progress(stream=out)
    run(SPEC, None, tmp_path / "out", progress=p, jobs=1)  # steps of children reach stderr only
    shown = [line.split("] ", 1)[1] for line in out.getvalue().splitlines()]
    steps = [s.strip() for s in shown if s.startswith("  ")]
    forms = [s for s in steps if s.startswith("read ")]
    assert forms[0] == "read DM.csv (17 records)" and len(forms) == 10
    assert "read LAB.csv (1,864 records)" in forms
    assert [s for s in steps if s.startswith("mapping stage")] == [
        f"mapping stage {n} of 5" for n in range(5)
    ]
    assert "conform LB (1,864 records)" in steps and "conform SUPPDM (34 records)" in steps
    assert "conform SUPPAE (1 record)" in steps
    assert [s for s in steps if s.startswith("derive ")] == [
        "derive ADSL (17 records)",
        "derive ADAE (16 records)",
        "derive ADLB (1,863 records)",
        "derive ADQS (433 records)",
    ]
    assert "wrote sdtm/lb (1,864 records)" in steps and "wrote adam/adsl (17 records)" in steps
    names = [s.name for s in p.stages]
    assert names == [
        "read spec",
        "read raw forms + map SDTM",
        "derive ADaM",
        "PHI scan",
        "validate SDTM",
        "validate ADaM",
        "write SDTM",
        "lineage",
        "write ADaM",
        "review page + manifest",
        "PHI scan of the files",
    ]
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
    one = runner.invoke(main, ["run", "--out", str(tmp_path / "one"), "--jobs", "1"])
    assert one.exit_code == 0, one.output
    assert "[" not in one.stderr and "read spec" not in one.stderr  # CliRunner is not a tty
    two = runner.invoke(main, ["run", "--out", str(tmp_path / "two"), "--jobs", "3", "--quiet"])
    assert two.exit_code == 0, two.output
    a, b = _digests(tmp_path / "one"), _digests(tmp_path / "two")
    assert a.keys() == b.keys() and len(a) > 10
    assert [k for k in a if a[k] != b[k]] == []
    bad = runner.invoke(main, ["run", "--out", str(tmp_path / "x"), "--jobs", "0"])
    assert bad.exit_code == 2
