"""Bundled trials: found at call time from the package copy or the source checkout, copied
whole into a new folder (umask honoured), never over someone's files."""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import pytest

from cdisc_umsc.core import bundled
from cdisc_umsc.core.errors import InputError, WriteError
from tests.conftest import RAW, ROOT, SPEC


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_the_checkout_bundle_is_the_pyproject_table() -> None:
    table = bundled.table_from_pyproject(ROOT / "pyproject.toml")
    found = bundled.bundle()
    assert found.default == table["default"]
    assert set(found.trials) == set(table["trials"])
    default = bundled.default_trial()
    assert default.spec == SPEC and default.raw == RAW  # the repository folders themselves
    for trial in found.trials.values():
        assert (trial.spec / "study.yaml").is_file() and any(trial.raw.glob("*.csv"))


def test_the_package_copy_wins_and_does_not_depend_on_the_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "bundled"
    shutil.copytree(SPEC, copy / "specs" / "one")
    shutil.copytree(RAW, copy / "raw" / "one")
    index = {"default": "one", "trials": {"one": {"spec": "specs/one", "raw": "raw/one"}}}
    (copy / bundled.INDEX).write_text(json.dumps(index))
    monkeypatch.setattr(bundled, "PACKAGE_COPY", copy)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    trial = bundled.default_trial()
    assert (trial.name, trial.spec, trial.raw) == ("one", copy / "specs/one", copy / "raw/one")


def test_no_bundle_is_a_one_line_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bundled, "PACKAGE_COPY", tmp_path / "none")
    monkeypatch.setattr(bundled, "SOURCE_ROOT", tmp_path)
    with pytest.raises(InputError, match="holds no bundled trial; give --spec and --raw"):
        bundled.default_trial()


def test_an_unknown_trial_names_the_bundled_ones() -> None:
    names = ", ".join(sorted(bundled.bundle().trials))
    with pytest.raises(InputError, match=rf"no bundled trial 'nope' \(bundled: {names}\)"):
        bundled.bundle().trial("nope")


@pytest.mark.parametrize(
    ("umask", "file_mode", "dir_mode"), [(0o022, 0o644, 0o755), (0o027, 0o640, 0o750)]
)
def test_copy_is_whole_and_honours_the_umask(
    tmp_path: Path, umask: int, file_mode: int, dir_mode: int
) -> None:
    old = os.umask(umask)
    try:
        trial = bundled.copy_trial(tmp_path / "study")
    finally:
        os.umask(old)
    assert (trial.spec, trial.raw) == (tmp_path / "study/spec", tmp_path / "study/raw")
    assert _tree(trial.spec) == _tree(SPEC)
    assert _tree(trial.raw) == _tree(RAW)
    assert sorted(p.name for p in (tmp_path / "study").iterdir()) == ["raw", "spec"]
    for path in (tmp_path / "study").rglob("*"):
        want = dir_mode if path.is_dir() else file_mode
        assert stat.S_IMODE(path.stat().st_mode) == want, path
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left


def test_copy_never_replaces_files(tmp_path: Path) -> None:
    target = tmp_path / "study"
    bundled.copy_trial(target)
    (target / "spec" / "study.yaml").write_text("edited by the user\n")
    with pytest.raises(InputError, match="is not empty; name a new folder"):
        bundled.copy_trial(target)
    assert (target / "spec" / "study.yaml").read_text() == "edited by the user\n"
    afile = tmp_path / "afile"
    afile.write_text("x")
    with pytest.raises(WriteError, match="exists and is not a folder"):
        bundled.copy_trial(afile)
    assert afile.read_text() == "x"


def test_an_empty_folder_is_filled(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    trial = bundled.copy_trial(tmp_path / "empty", "umsc-ig34")
    assert _tree(trial.spec) == _tree(ROOT / "mappings" / "umsc-ig34")
