"""The trials shipped with the tool: a spec folder and a raw-form folder each, found at call time.

The repository's ``mappings/`` and ``fixtures/`` folders are the one source of truth. The
``[tool.cdisc-umsc]`` table of ``pyproject.toml`` names which of their folders are bundled;
building the wheel copies exactly those into the package (``cdisc_umsc/bundled/``) together with
``trials.json``, the same table as JSON. An installed tool reads that copy; a source checkout
(or an editable install) reads the repository folders themselves. Nothing here depends on the
working directory.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from pathlib import Path

from cdisc_umsc.core.errors import InputError

#: The bundled copy inside the installed package.
PACKAGE_COPY = Path(__file__).resolve().parent.parent / "bundled"
#: The repository root of a source checkout (mappings/, fixtures/, pyproject.toml).
SOURCE_ROOT = Path(__file__).resolve().parent.parent.parent
INDEX = "trials.json"


@dataclass(frozen=True)
class Trial:
    """One bundled trial: its name, spec folder and raw-form folder."""

    name: str
    spec: Path
    raw: Path
    title: str = ""


@dataclass(frozen=True)
class Bundle:
    """Every bundled trial and the one ``cdisc-umsc run`` uses by default."""

    default: str
    trials: dict[str, Trial]

    def trial(self, name: str | None = None) -> Trial:
        """The named trial (default: the bundle's default); a one-line InputError otherwise."""
        key = name or self.default
        if key not in self.trials:
            raise InputError(
                f"no bundled trial {key!r} (bundled: {', '.join(sorted(self.trials)) or 'none'})"
            )
        return self.trials[key]


def table_from_pyproject(path: Path) -> dict:
    """The ``[tool.cdisc-umsc]`` table of a pyproject.toml (what the build copies)."""
    with path.open("rb") as fh:
        return dict((tomllib.load(fh).get("tool") or {}).get("cdisc-umsc") or {})


def _bundle(table: dict, base: Path) -> Bundle:
    trials = {
        name: Trial(name, base / entry["spec"], base / entry["raw"], str(entry.get("title", "")))
        for name, entry in (table.get("trials") or {}).items()
    }
    return Bundle(str(table.get("default", "")), trials)


def bundle() -> Bundle:
    """The bundled trials of this installation: the package copy, else the source checkout."""
    index = PACKAGE_COPY / INDEX
    if index.is_file():
        return _bundle(json.loads(index.read_text(encoding="utf-8")), PACKAGE_COPY)
    pyproject = SOURCE_ROOT / "pyproject.toml"
    if pyproject.is_file():
        table = table_from_pyproject(pyproject)
        if table.get("trials"):
            return _bundle(table, SOURCE_ROOT)
    raise InputError("this installation holds no bundled trial; give --spec and --raw")


def default_trial() -> Trial:
    """The trial ``cdisc-umsc run`` uses when no --spec/--raw is given."""
    return bundle().trial()


def _files(folder: Path) -> list[Path]:
    """The files of a bundled folder (no hidden files or caches), as the build copies them."""
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and not any(x.startswith((".", "__")) for x in p.relative_to(folder).parts)
    )


def copy_trial(target: Path | str, name: str | None = None) -> Trial:
    """Copy a bundled trial into a new folder ``target`` as ``spec/`` and ``raw/``: the
    starting point of a user's own study. ``target`` must be missing or empty (a folder of
    files, even an earlier copy the user may have edited, is never replaced). Returns the
    copy's locations."""
    from cdisc_umsc.core.atomic import make_folder, write_bytes
    from cdisc_umsc.core.outdir import OutputFolder

    trial = bundle().trial(name)
    target = Path(target)
    if target.is_dir() and any(target.iterdir()):
        raise InputError(f"{target}: is not empty; name a new folder for the study")
    output = OutputFolder(target, inputs=(trial.spec, trial.raw))
    with output as staging:
        for part, source in (("spec", trial.spec), ("raw", trial.raw)):
            for path in _files(source):
                dest = staging / part / path.relative_to(source)
                make_folder(dest.parent)
                write_bytes(dest, path.read_bytes())
        output.commit()
    return Trial(trial.name, target / "spec", target / "raw", trial.title)
