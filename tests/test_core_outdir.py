"""Output folders: only the tool's own previous output is ever replaced; nothing is left behind."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from cdisc_umsc.core.errors import WriteError
from cdisc_umsc.core.outdir import (
    MANIFEST,
    TEMP_TAG,
    OutputFolder,
    check_target,
    clean_leftovers,
    is_own_output,
)


def _ours(folder: Path, *names: str) -> Path:
    folder.mkdir(parents=True)
    (folder / MANIFEST).write_text(json.dumps({"tool": {"name": "cdisc-umsc"}}))
    for name in names:
        (folder / name).write_text(name)
    return folder


def _write(target: Path, files: dict[str, str], **kw: object) -> None:
    out = OutputFolder(target, **kw)  # type: ignore[arg-type]
    with out as staging:
        for name, text in files.items():
            (staging / name).write_text(text)
        (staging / MANIFEST).write_text(json.dumps({"tool": {"name": "cdisc-umsc"}}))
        out.commit()


def _siblings(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.parent.iterdir())


def test_new_folder_is_created_with_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        _write(tmp_path / "a" / "out", {"x.txt": "1"})
    finally:
        os.umask(old)
    out = tmp_path / "a" / "out"
    assert stat.S_IMODE(out.stat().st_mode) == 0o755
    assert (out / "x.txt").read_text() == "1"
    assert _siblings(out) == ["out"]


def test_previous_output_is_replaced_whole(tmp_path: Path) -> None:
    target = _ours(tmp_path / "out", "old.txt")
    _write(target, {"new.txt": "2"})
    assert sorted(p.name for p in target.iterdir()) == [MANIFEST, "new.txt"]
    assert _siblings(target) == ["out"]


def test_empty_folder_is_replaced(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    _write(tmp_path / "out", {"n.txt": "3"})
    assert (tmp_path / "out" / "n.txt").read_text() == "3"


def test_foreign_folder_is_refused_and_kept(tmp_path: Path) -> None:
    target = tmp_path / "precious"
    target.mkdir()
    (target / "adsl.sas").write_text("data adsl; run;")
    with pytest.raises(WriteError, match=r"precious: holds files that are not a previous output"):
        _write(target, {"x": "1"})
    assert (target / "adsl.sas").read_text() == "data adsl; run;"
    assert _siblings(target) == ["precious"]


def test_force_replaces_a_foreign_folder_only(tmp_path: Path) -> None:
    target = tmp_path / "precious"
    target.mkdir()
    (target / "adsl.sas").write_text("x")
    _write(target, {"y": "1"}, force=True)
    assert sorted(p.name for p in target.iterdir()) == [MANIFEST, "y"]
    file_target = tmp_path / "f.xpt"
    file_target.write_bytes(b"data")
    with pytest.raises(WriteError, match=r"f.xpt: exists and is not a folder"):
        _write(file_target, {"y": "1"}, force=True)
    assert file_target.read_bytes() == b"data"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.xpt", "precious"]


def test_a_manifest_of_another_tool_is_not_ours(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.mkdir()
    (target / MANIFEST).write_text(json.dumps({"tool": {"name": "other"}}))
    assert not is_own_output(target)
    (target / MANIFEST).write_text("not json")
    assert not is_own_output(target)
    with pytest.raises(WriteError, match="not a previous output"):
        check_target(target)


@pytest.mark.parametrize("name", [".", ".."])
def test_dot_and_dotdot_are_refused(name: str) -> None:
    with pytest.raises(WriteError, match=r"not '\.' or '\.\.'"):
        check_target(Path(name))


def test_the_current_folder_and_its_parents_are_refused(tmp_path: Path, monkeypatch) -> None:
    inner = tmp_path / "work" / "here"
    inner.mkdir(parents=True)
    monkeypatch.chdir(inner)
    for target in (inner, tmp_path / "work", Path("../../work")):
        with pytest.raises(WriteError, match="holds the current folder"):
            check_target(target)


def test_a_device_is_never_replaced() -> None:
    with pytest.raises(WriteError, match="/dev/null: exists and is not a folder"):
        check_target(Path("/dev/null"), force=True)
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_inputs_are_never_an_output(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "DM.csv").write_text("SUBJID\n1\n")
    for target in (raw, tmp_path, raw / "out"):
        with pytest.raises(WriteError, match="overlaps the input folder"):
            check_target(target, (raw,), force=True)
    assert (raw / "DM.csv").read_text() == "SUBJID\n1\n"


def test_symlink_is_refused(tmp_path: Path) -> None:
    real = _ours(tmp_path / "real")
    link = tmp_path / "link"
    link.symlink_to(real)
    with pytest.raises(WriteError, match="symbolic link"):
        check_target(link)


def test_failure_inside_leaves_target_and_no_staging(tmp_path: Path) -> None:
    target = _ours(tmp_path / "out", "old.txt")
    out = OutputFolder(target)
    with pytest.raises(RuntimeError), out as staging:
        (staging / "half.txt").write_text("half")
        raise RuntimeError("boom")
    assert sorted(p.name for p in target.iterdir()) == [MANIFEST, "old.txt"]
    assert _siblings(target) == ["out"]


def test_leftovers_of_a_dead_process_are_removed_or_restored(tmp_path: Path) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    pid = int(dead.stdout)
    target = tmp_path / "out"
    stage = tmp_path / f".out.{TEMP_TAG}-stage-{pid}-abcd1234"
    stage.mkdir()
    (stage / "x").write_text("partial")
    old = _ours(tmp_path / f".out.{TEMP_TAG}-old-{pid}-abcd1234", "kept.txt")
    clean_leftovers(target)  # a swap cut between its two renames: the old output comes back
    assert _siblings(target) == ["out"]
    assert sorted(p.name for p in target.iterdir()) == ["kept.txt", MANIFEST]
    assert not old.exists() and not stage.exists()


def test_leftovers_of_a_live_process_are_kept(tmp_path: Path) -> None:
    stage = tmp_path / f".out.{TEMP_TAG}-stage-{os.getpid()}-abcd1234"
    stage.mkdir()
    clean_leftovers(tmp_path / "out")
    assert stage.exists()


def test_sigterm_removes_the_staging_folder(tmp_path: Path) -> None:
    target = _ours(tmp_path / "out", "old.txt")
    code = f"""
import os, signal, time
from pathlib import Path
from cdisc_umsc.core.errors import exit_on_signals
from cdisc_umsc.core.outdir import OutputFolder
exit_on_signals()
with OutputFolder(Path({str(target)!r})) as staging:
    (staging / "half.txt").write_text("x")
    print("ready", flush=True)
    time.sleep(30)
"""
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    proc.terminate()
    assert proc.wait(timeout=20) == 128 + 15
    assert _siblings(target) == ["out"]
    assert sorted(p.name for p in target.iterdir()) == [MANIFEST, "old.txt"]


@pytest.mark.parametrize("target", ["/proc", "/sys", "/proc/cdisc-out", "/sys/cdisc-out"])
def test_proc_and_sys_are_refused_in_one_line(target: str) -> None:
    if not os.path.isdir(target.rsplit("/", 1)[0] or target):
        pytest.skip("no /proc or /sys here")
    with pytest.raises(WriteError) as info, OutputFolder(Path(target), force=True):
        pass  # pragma: no cover - the target is refused on entry
    assert "\n" not in str(info.value) and str(info.value).startswith(f"--out {target}")
    assert not os.path.lexists(target) or target in ("/proc", "/sys")


def test_a_folder_under_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("mine")
    with pytest.raises(WriteError) as info, OutputFolder(tmp_path / "file" / "out"):
        pass  # pragma: no cover
    assert str(info.value) == f"{tmp_path / 'file'}: exists and is not a folder"
    assert (tmp_path / "file").read_text() == "mine"


def test_a_full_disk_keeps_the_previous_output(tmp_path: Path, monkeypatch) -> None:
    import cdisc_umsc.core.atomic as atomic
    from cdisc_umsc.core.atomic import write_text

    target = _ours(tmp_path / "out", "old.txt")

    def full(fd: int, mode: str):  # every byte written goes to a device that is full
        os.close(fd)
        return open("/dev/full", "wb", buffering=0)  # noqa: SIM115

    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    monkeypatch.setattr(atomic.os, "fdopen", full)
    out = OutputFolder(target)
    with pytest.raises(WriteError) as info, out as staging:
        write_text(staging / "dm.xpt", "x" * 1000)
    assert str(info.value) == f"{staging / 'dm.xpt'}: cannot write (No space left on device)"
    assert sorted(p.name for p in target.iterdir()) == [MANIFEST, "old.txt"]
    assert _siblings(target) == ["out"]


def test_a_file_size_limit_keeps_the_previous_output(tmp_path: Path) -> None:
    target = _ours(tmp_path / "out", "old.txt")
    code = f"""
import resource, signal, sys
from pathlib import Path
from cdisc_umsc.core.atomic import write_bytes
from cdisc_umsc.core.errors import WriteError
from cdisc_umsc.core.outdir import OutputFolder
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of a signal
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, resource.RLIM_INFINITY))
out = OutputFolder(Path({str(target)!r}))
try:
    with out as staging:
        write_bytes(staging / "lb.xpt", b"x" * 100_000)
        out.commit()
except WriteError as exc:
    print(exc)
    sys.exit(2)
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout.strip().endswith("lb.xpt: cannot write (File too large)")
    assert sorted(p.name for p in target.iterdir()) == [MANIFEST, "old.txt"]
    assert _siblings(target) == ["out"]


def test_sigkill_leaves_only_a_staging_folder_the_next_run_removes(tmp_path: Path) -> None:
    target = _ours(tmp_path / "out", "old.txt")
    code = f"""
import time
from pathlib import Path
from cdisc_umsc.core.outdir import OutputFolder
with OutputFolder(Path({str(target)!r})) as staging:
    (staging / "half.txt").write_text("x")
    print("ready", flush=True)
    time.sleep(30)
"""
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    proc.kill()
    assert proc.wait(timeout=20) == -9
    assert sorted(p.name for p in target.iterdir()) == [MANIFEST, "old.txt"]
    assert len(_siblings(target)) == 2  # SIGKILL cannot be caught: the staging folder stays
    _write(target, {"new.txt": "new"})  # ... until the next command writing the same target
    assert _siblings(target) == ["out"]
    assert sorted(p.name for p in target.iterdir()) == [MANIFEST, "new.txt"]


def _listed(folder: Path, *names: str) -> Path:
    """A previous output whose manifest lists the files it wrote (as run and derive write it)."""
    folder.mkdir(parents=True)
    for name in names:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(name)
    manifest = {"tool": {"name": "cdisc-umsc"}, "files": {n: "0" * 64 for n in names}}
    (folder / MANIFEST).write_text(json.dumps(manifest))
    return folder


def test_a_previous_output_with_only_its_own_files_is_replaced(tmp_path: Path) -> None:
    target = _listed(tmp_path / "out", "sdtm/dm.xpt", "index.html")
    check_target(target)
    _write(target, {"new.txt": "2"})
    assert sorted(p.name for p in target.iterdir()) == [MANIFEST, "new.txt"]


def test_files_added_to_a_previous_output_are_never_replaced(tmp_path: Path) -> None:
    target = _listed(tmp_path / "out", "sdtm/dm.xpt", "index.html")
    (target / "NOTES.txt").write_text("mine")
    (target / "mytables").mkdir()
    (target / "mytables" / "t1.csv").write_text("a,b")
    (target / "sdtm" / "extra.sas").write_text("data x; run;")
    with pytest.raises(WriteError) as exc:
        check_target(target)
    assert str(exc.value) == (
        f"--out {target}: a previous output of cdisc-umsc, but it also holds what cdisc-umsc "
        "did not write (NOTES.txt, mytables/, sdtm/extra.sas); they are left untouched (move "
        "them out, or use --force to replace the folder)"
    )
    with pytest.raises(WriteError, match="also holds what cdisc-umsc did not write"):
        _write(target, {"new.txt": "2"})
    assert (target / "NOTES.txt").read_text() == "mine"
    assert (target / "mytables" / "t1.csv").read_text() == "a,b"
    check_target(target, force=True)  # --force: the user says the folder may go


def test_the_root_folder_is_named_as_such() -> None:
    with pytest.raises(WriteError, match="^--out /: the root folder cannot be an output folder$"):
        check_target(Path("/"))
