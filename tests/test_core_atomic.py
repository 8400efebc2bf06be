"""Atomic files: the whole new file or the old one; the umask applies; no folder is invented."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pytest

from cdisc_umsc.core.atomic import atomic_file, make_folder, write_bytes, write_text
from cdisc_umsc.core.errors import WriteError


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_mode_follows_the_umask(tmp_path: Path, umask: int, mode: int) -> None:
    old = os.umask(umask)
    try:
        write_text(tmp_path / "a.txt", "x")
        make_folder(tmp_path / "sub" / "deeper")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.txt").stat().st_mode) == mode
    assert stat.S_IMODE((tmp_path / "sub" / "deeper").stat().st_mode) == mode | 0o111 & ~umask


def test_parts_and_arrays_are_written_in_order(tmp_path: Path) -> None:
    write_bytes(tmp_path / "b.bin", [b"ab", np.frombuffer(b"cd", dtype="u1"), b"", b"e"])
    assert (tmp_path / "b.bin").read_bytes() == b"abcde"


def test_failure_keeps_the_old_file_and_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "t.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_file(target) as fh:
        fh.write(b"half")
        raise RuntimeError("stop")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["t.txt"]


def test_missing_folder_is_an_error_not_created(tmp_path: Path) -> None:
    with pytest.raises(WriteError, match=r"v.json: folder .*/no/such does not exist"):
        write_text(tmp_path / "no" / "such" / "v.json", "{}")
    assert list(tmp_path.iterdir()) == []


def test_a_folder_or_file_in_the_way(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    with pytest.raises(WriteError, match="is a folder, expected a file name"):
        write_text(tmp_path / "d", "x")
    (tmp_path / "f").write_text("x")
    with pytest.raises(WriteError, match="is not a folder"):
        write_text(tmp_path / "f" / "g.txt", "x")
    with pytest.raises(WriteError, match="a part of the path is a file"):
        make_folder(tmp_path / "f" / "sub")


def test_unwritable_folder_is_one_line(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root writes anywhere")
    (tmp_path / "ro").mkdir(mode=0o555)
    with pytest.raises(WriteError, match="cannot write .*Permission denied"):
        write_text(tmp_path / "ro" / "x.txt", "x")


def test_a_fifo_or_a_link_is_never_replaced_by_the_file(tmp_path: Path) -> None:
    fifo, link, target = tmp_path / "ff", tmp_path / "link.json", tmp_path / "target.json"
    os.mkfifo(fifo)
    target.write_text("theirs", encoding="utf-8")
    link.symlink_to(target)
    for path in (fifo, link):
        with pytest.raises(WriteError, match="exists and is not a regular file; it is left"):
            write_text(path, "report")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and link.is_symlink()
    assert target.read_text(encoding="utf-8") == "theirs"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ff", "link.json", "target.json"]
