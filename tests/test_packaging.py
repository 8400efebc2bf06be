"""The wheel: it carries the bundled trials (byte-identical to mappings/ and fixtures/), the
sdist builds the same wheel, and the installed tool runs from an empty folder."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest

from cdisc_umsc.core.bundled import table_from_pyproject
from tests.conftest import ROOT

setuptools = pytest.importorskip("setuptools", minversion="77")  # builds bdist_wheel itself
_SKIP = {".git", "build", "dist", "out", "__pycache__", ".pytest_cache", ".ruff_cache"}


def _backend(hook: str, source: Path, dist: Path) -> Path:
    """Run a PEP 517 hook of the project's backend in ``source``; the file it built."""
    dist.mkdir(exist_ok=True)
    code = f"import setuptools.build_meta as b; print(b.{hook}({str(dist)!r}))"
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=source, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return dist / proc.stdout.strip().splitlines()[-1]


def _ignore(folder: str, names: list[str]) -> set[str]:
    return {n for n in names if n in _SKIP or n.startswith(".venv") or n.endswith(".egg-info")}


def _digest(wheel: Path) -> dict[str, str]:
    with zipfile.ZipFile(wheel) as z:
        return {
            i.filename: hashlib.sha256(z.read(i)).hexdigest()
            for i in z.infolist()
            if not i.filename.endswith("/")
        }


@pytest.fixture(scope="module")
def wheels(tmp_path_factory) -> tuple[Path, Path]:
    """(wheel built from the source tree, wheel built from the sdist)."""
    base = tmp_path_factory.mktemp("pkg")
    tree = base / "tree"
    shutil.copytree(ROOT, tree, ignore=_ignore)
    direct = _backend("build_wheel", tree, base / "direct")
    sdist = _backend("build_sdist", tree, base / "sdist")
    with tarfile.open(sdist) as tar:
        tar.extractall(base / "unpacked", filter="data")
    (unpacked,) = (base / "unpacked").iterdir()
    return direct, _backend("build_wheel", unpacked, base / "from-sdist")


def test_the_wheel_carries_the_bundled_trials_as_they_are_in_the_repository(wheels) -> None:
    wheel = wheels[0]
    files = _digest(wheel)
    table = table_from_pyproject(ROOT / "pyproject.toml")
    with zipfile.ZipFile(wheel) as z:
        assert json.loads(z.read("cdisc_umsc/bundled/trials.json")) == table
    folders = {e[k] for e in table["trials"].values() for k in ("spec", "raw")}
    expected = {}
    for rel in folders:
        for path in (ROOT / rel).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                name = f"cdisc_umsc/bundled/{rel}/{path.relative_to(ROOT / rel).as_posix()}"
                expected[name] = hashlib.sha256(path.read_bytes()).hexdigest()
    shipped = {k: v for k, v in files.items() if k.startswith("cdisc_umsc/bundled/")}
    shipped.pop("cdisc_umsc/bundled/trials.json")
    assert shipped == expected
    assert "cdisc_umsc/py.typed" in files
    tops = {name.split("/")[0] for name in files}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"cdisc_umsc"}


def test_the_sdist_builds_the_same_wheel(wheels) -> None:
    direct, from_sdist = wheels
    assert direct.name == from_sdist.name
    a, b = _digest(direct), _digest(from_sdist)
    record = next(k for k in a if k.endswith(".dist-info/RECORD"))
    a.pop(record), b.pop(record)  # RECORD lists the same hashes; its own order may differ
    assert a == b


def test_the_installed_wheel_runs_from_an_empty_folder(wheels, tmp_path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index",
         "--target", str(target), str(wheels[0])],
        check=True, capture_output=True,
    )  # fmt: skip
    # -S: no site hooks, so the source checkout (an editable install) cannot answer instead
    paths = os.pathsep.join([str(target), sysconfig.get_paths()["purelib"]])
    env = {**os.environ, "PYTHONPATH": paths, "PYTHONIOENCODING": "utf-8"}
    empty = tmp_path / "empty"
    empty.mkdir()

    def tool(*args: str) -> subprocess.CompletedProcess:
        code = "import sys; from cdisc_umsc.cli import main; sys.argv[0] = 'cdisc-umsc'; main()"
        return subprocess.run(
            [sys.executable, "-S", "-c", code, *args],
            cwd=empty, env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip

    where = tool("init", "--list")
    assert where.returncode == 0 and "(default)" in where.stdout, where.stderr
    run = tool("run", "--quiet")
    assert run.returncode == 0, run.stderr
    assert "PASI40     Overall                         8/17   47.1%" in run.stdout
    assert tool("init", "study").returncode == 0
    mine = tool("run", "--spec", "study/spec", "--raw", "study/raw", "--out", "study/out", "-q")
    assert mine.returncode == 0, mine.stderr
    assert "PASI40     Overall                         8/17   47.1%" in mine.stdout
    located = subprocess.run(
        [sys.executable, "-S", "-c", "import cdisc_umsc; print(cdisc_umsc.__file__)"],
        cwd=empty, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert located.stdout.startswith(str(target))
