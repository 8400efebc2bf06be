"""Shared fixtures: one pipeline run on the bundled trial, reused by the tests that read it."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "mappings" / "umsc"
RAW = ROOT / "fixtures" / "umsc" / "raw"
SHARED = ROOT.parent / "shared"


def load_script(relative: str) -> ModuleType:
    """A script or benchmark of the repository (not a package module), imported by path."""
    path = ROOT / relative
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being created
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def bundled_run(tmp_path_factory):
    """The pipeline's result and output folder for the bundled trial."""
    from cdisc_umsc.run import run

    out = tmp_path_factory.mktemp("run") / "out"
    result = run(SPEC, RAW, out)
    return result, out


@pytest.fixture()
def raw_copy(tmp_path) -> Path:
    """A writable copy of the bundled raw forms."""
    dest = tmp_path / "raw"
    shutil.copytree(RAW, dest)
    return dest


@pytest.fixture()
def spec_copy(tmp_path) -> Path:
    """A writable copy of the bundled spec."""
    dest = tmp_path / "spec"
    shutil.copytree(SPEC, dest)
    return dest


def write_trial(
    root: Path, spec_files: dict[str, str], raw_files: dict[str, str]
) -> tuple[Path, Path]:
    """A spec folder and a raw folder under ``root`` from {relative path: text}."""
    spec, raw = root / "spec", root / "raw"
    for base, files in ((spec, spec_files), (raw, raw_files)):
        base.mkdir(parents=True, exist_ok=True)
        for rel, text in files.items():
            (base / rel).parent.mkdir(parents=True, exist_ok=True)
            (base / rel).write_text(text, encoding="utf-8")
    return spec, raw
