"""`cdisc-umsc init`: a new study folder from a bundled trial, which `run` accepts as it is."""

from __future__ import annotations

from click.testing import CliRunner

from cdisc_umsc.cli import main
from cdisc_umsc.core.bundled import bundle


def _cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_list_names_every_bundled_trial_and_the_default() -> None:
    res = _cli("init", "--list")
    assert res.exit_code == 0
    found = bundle()
    lines = res.output.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        f"{n} (default)" if n == found.default else n for n in found.trials
    ]


def test_init_then_run_the_copy(tmp_path) -> None:
    res = _cli("init", tmp_path / "study")
    assert res.exit_code == 0, res.output
    spec, raw, out = tmp_path / "study/spec", tmp_path / "study/raw", tmp_path / "study/out"
    assert res.output.splitlines()[-1] == (
        f"next: cdisc-umsc run --spec {spec} --raw {raw} --out {out}"
    )
    run = _cli("run", "--spec", spec, "--raw", raw, "--out", out, "--quiet")
    assert run.exit_code == 0, run.output
    assert "PASI40     Overall                         8/17   47.1%" in run.output
    assert (out / "manifest.json").is_file()


def test_init_errors_are_one_line(tmp_path) -> None:
    res = _cli("init")
    assert res.exit_code == 2 and res.output == "error: give the new study's FOLDER (or --list)\n"
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "notes.txt").write_text("mine")
    res = _cli("init", tmp_path / "full")
    assert res.exit_code == 2
    assert (
        res.output == f"error: {tmp_path / 'full'}: is not empty; name a new folder for the study\n"
    )
    assert (tmp_path / "full" / "notes.txt").read_text() == "mine"
    res = _cli("init", tmp_path / "x", "--trial", "nope")
    assert res.exit_code == 2 and res.output.startswith("error: no bundled trial 'nope'")
    assert not (tmp_path / "x").exists()
