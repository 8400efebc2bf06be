"""Build step: the trials named in pyproject.toml's ``[tool.cdisc-umsc]`` table are copied from
``mappings/`` and ``fixtures/`` (their one source) into the package as ``cdisc_umsc/bundled/``, so
that an installed tool runs them from any folder. Everything else is declared in pyproject.toml.
"""

from __future__ import annotations

import json
import shutil
import tomllib
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


def _files(folder: Path) -> list[Path]:
    """The files of a bundled folder (no hidden files, no caches), in a stable order."""
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file()
        and not any(part.startswith((".", "__")) for part in p.relative_to(folder).parts)
    )


class BuildWithTrials(build_py):
    """build_py, then the bundled trials and their index (trials.json) into the build."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads mappings/ and fixtures/ in place
        with (ROOT / "pyproject.toml").open("rb") as fh:
            table = tomllib.load(fh)["tool"]["cdisc-umsc"]
        target = Path(self.build_lib) / "cdisc_umsc" / "bundled"
        shutil.rmtree(target, ignore_errors=True)  # never a stale copy from an earlier build
        folders = sorted({e[k] for e in table["trials"].values() for k in ("spec", "raw")})
        for rel in folders:
            source = ROOT / rel
            if not (source.is_dir() and _files(source)):
                raise SystemExit(
                    f"pyproject.toml [tool.cdisc-umsc]: {rel} is not a folder of files"
                )
            for path in _files(source):
                dest = target / rel / path.relative_to(source)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, dest)
        text = json.dumps(table, indent=2, sort_keys=True) + "\n"
        (target / "trials.json").write_text(text, encoding="utf-8")


setup(cmdclass={"build_py": BuildWithTrials})
