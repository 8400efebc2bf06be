"""Atomic files: the whole new file or the old one; the umask applies; no folder is invented."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pytest

from cdisc_umsc.core.atomic import (
    atomic_file,
    check_replaceable,
    file_starts_with,
    make_folder,
    write_bytes,
    write_text,
)
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


def test_check_replaceable_allows_only_a_missing_path_or_its_own_file(tmp_path: Path) -> None:
    ours = file_starts_with(b"#ours\n", b"#also\n")
    check_replaceable(tmp_path / "new.txt", ours, "note")  # missing: fine
    own = tmp_path / "own.txt"
    own.write_bytes(b"#also\nrest")
    check_replaceable(own, ours, "note")
    other = tmp_path / "other.txt"
    other.write_bytes(b"#our")  # shorter than the mark
    with pytest.raises(WriteError) as caught:
        check_replaceable(other, ours, "note", "--out x")
    assert str(caught.value) == (
        "--out x: exists and is no cdisc-umsc note; it is left untouched "
        "(remove it, or name another file)"
    )
    for node in (tmp_path, Path("/dev/null")):
        with pytest.raises(WriteError, match="exists and is not a regular file; it is left"):
            check_replaceable(node, ours, "note")
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "nowhere")
    with pytest.raises(WriteError, match="^" + str(dangling) + ": exists and is not a regular"):
        check_replaceable(dangling, ours, "note")

    def broken(_path: Path) -> bool:
        raise ValueError("not a zip")

    with pytest.raises(WriteError, match="is no cdisc-umsc note"):
        check_replaceable(own, broken, "note")
