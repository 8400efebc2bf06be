"""An output folder that replaces only the tool's own previous output.

A command that writes a folder (``run``, ``derive``) builds it in a staging folder beside the
target and swaps it in whole when it is complete. The target is replaced only if it is missing,
an empty folder, or a folder holding this tool's ``manifest.json``; anything else (a file, a
device, a folder of someone else's files, ``.``, a mount point, a folder that holds the command's
own inputs) is refused with one line before any work is done. ``force=True`` lets a foreign
*folder* be replaced; nothing ever replaces a non-folder.

The swap is an atomic exchange of the two folders where the system offers it (Linux
``renameat2(RENAME_EXCHANGE)``), else two renames. Staging and previous-output folders carry the
process id in their name; one left behind by a killed process is removed (or, if the swap was
cut between its two renames, put back) by the next command that writes the same target.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import hashlib
import json
import os
import re
import shutil
from pathlib import Path
from types import TracebackType

from cdisc_umsc.core.atomic import TEMP_TAG, make_folder, reason
from cdisc_umsc.core.errors import WriteError

TOOL = "cdisc-umsc"
MANIFEST = "manifest.json"
#: The --force option's help, the same for every command that writes a folder.
FORCE_HELP = (
    "Replace the --out folder even if it holds files that are not a previous output of "
    "cdisc-umsc (a file, a device or a folder holding the inputs is never replaced)."
)
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


#: a manifest.json larger than this is not one of this tool's
MANIFEST_MAX_BYTES = 64 * 1024 * 1024


def own_manifest(folder: Path) -> dict | None:
    """The manifest this tool wrote in ``folder``, or None (missing, unreadable, too large,
    or not this tool's)."""
    path = Path(folder) / MANIFEST
    try:
        if not path.is_file() or path.stat().st_size > MANIFEST_MAX_BYTES:
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return None
    tool = data.get("tool") if isinstance(data, dict) else None
    return data if isinstance(tool, dict) and tool.get("name") == TOOL else None


def is_own_output(folder: Path) -> bool:
    """Whether ``folder`` holds a manifest written by this tool."""
    return own_manifest(folder) is not None


def write_own_manifest(folder: Path, extra: dict) -> None:
    """A minimal manifest (tool, version, what the folder is, every file's sha256) for an output
    folder whose command writes no richer one, so that a rerun may replace it."""
    from cdisc_umsc.core.atomic import write_text
    from cdisc_umsc.core.version import __version__

    files = sorted(p for p in Path(folder).rglob("*") if p.is_file() and p.name != MANIFEST)
    doc = {
        "tool": {"name": TOOL, "version": __version__},
        **extra,
        "files": {
            p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in files
        },
    }
    write_text(Path(folder) / MANIFEST, json.dumps(doc, indent=2, sort_keys=True) + "\n")


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def check_target(target: Path, inputs: tuple[Path, ...] = (), force: bool = False) -> None:
    """Raise WriteError (one line) unless ``target`` may be replaced by a new output folder."""
    shown = str(target)
    full = Path(os.path.abspath(target))
    if full == Path(full.anchor):
        raise WriteError(f"--out {shown}: the root folder cannot be an output folder")
    if target.name in ("", ".", "..") or str(target) in (".", ".."):
        raise WriteError(f"--out {shown}: name a folder of its own, not '.' or '..'")
    cwd = Path(os.path.abspath(os.getcwd()))
    if _inside(cwd, full):
        raise WriteError(f"--out {shown}: it holds the current folder; name another folder")
    for given in inputs:
        source = Path(os.path.abspath(given))
        if _inside(source, full) or _inside(full, source):
            raise WriteError(
                f"--out {shown}: it overlaps the input folder {given}; "
                "write the output somewhere else"
            )
    if not os.path.lexists(target):
        return
    if target.is_symlink():
        raise WriteError(f"--out {shown}: is a symbolic link; name a real folder")
    if not target.is_dir():
        raise WriteError(f"--out {shown}: exists and is not a folder; it is left untouched")
    if os.path.ismount(target):
        raise WriteError(f"--out {shown}: is a mount point; name a folder inside it")
    try:
        empty = not any(target.iterdir())
    except OSError as exc:
        raise WriteError(f"--out {shown}: cannot read the folder ({reason(exc)})") from None
    if empty or force:
        return
    manifest = own_manifest(target)
    if manifest is None:
        raise WriteError(
            f"--out {shown}: holds files that are not a previous output of {TOOL} "
            f"(no {TOOL} {MANIFEST}); they are left untouched (use --force to replace the folder)"
        )
    added = foreign_entries(target, manifest)
    if added:
        listed = ", ".join(added[:3]) + (f" and {len(added) - 3} more" if len(added) > 3 else "")
        raise WriteError(
            f"--out {shown}: a previous output of {TOOL}, but it also holds what {TOOL} did not "
            f"write ({listed}); they are left untouched (move them out, or use --force to "
            "replace the folder)"
        )


#: entries of a previous output folder looked at before it may be replaced
MAX_ENTRIES = 100_000


def foreign_entries(folder: Path, manifest: dict) -> list[str]:
    """What ``folder`` holds that its manifest does not list (files, and folders that hold no
    listed file), in sorted order; empty when the manifest lists no files (an older one)."""
    listed = manifest.get("files")
    if not isinstance(listed, dict):
        return []
    files = {str(k) for k in listed} | {MANIFEST}
    parents = {q.as_posix() for f in files for q in Path(f).parents if q.as_posix() != "."}
    found: list[str] = []
    seen = 0
    for root, dirs, names in os.walk(folder):  # symbolic links are not followed
        base = Path(root).relative_to(folder)
        for name in dirs:
            rel = (base / name).as_posix()
            if rel not in parents:
                found.append(rel + "/")
        found += [(base / n).as_posix() for n in names if (base / n).as_posix() not in files]
        dirs[:] = [d for d in dirs if (base / d).as_posix() in parents]  # foreign: named only
        seen += len(dirs) + len(names)
        if seen > MAX_ENTRIES:
            found.append(f"more than {MAX_ENTRIES:,} entries")
            break
    return sorted(found)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _leftovers(target: Path) -> list[tuple[str, Path]]:
    pattern = re.compile(rf"\.{re.escape(target.name)}\.{TEMP_TAG}-(stage|old)-([0-9]+)-[0-9a-f]+")
    found = []
    try:
        entries = list(target.parent.iterdir())
    except OSError:
        return []
    for entry in entries:
        hit = pattern.fullmatch(entry.name)
        if hit and entry.is_dir() and not entry.is_symlink() and not _alive(int(hit[2])):
            found.append((hit[1], entry))
    return found


def clean_leftovers(target: Path) -> None:
    """Remove staging folders of dead processes; put back a previous output whose swap was cut
    between its two renames (the target is missing and the old folder is still there)."""
    for kind, folder in sorted(_leftovers(target), key=lambda x: x[0]):
        if kind == "old" and not os.path.lexists(target) and is_own_output(folder):
            os.replace(folder, target)
        else:
            shutil.rmtree(folder, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2); False where the system cannot."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    done = fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if done == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


class OutputFolder:
    """``with OutputFolder(target) as staging: ...write into staging...; out.commit()``.

    The target is checked on entry (before any work); leaving the block without ``commit()``,
    by an error or a signal, removes the staging folder and leaves the target as it was.
    """

    def __init__(self, target: Path, inputs: tuple[Path, ...] = (), force: bool = False) -> None:
        self.target = Path(target)
        self.inputs = tuple(Path(p) for p in inputs)
        self.force = force
        self.staging: Path | None = None

    def _name(self, kind: str) -> Path:
        token = os.urandom(4).hex()
        return self.target.with_name(f".{self.target.name}.{TEMP_TAG}-{kind}-{os.getpid()}-{token}")

    def __enter__(self) -> Path:
        check_target(self.target, self.inputs, self.force)
        make_folder(Path(os.path.abspath(self.target)).parent)
        clean_leftovers(self.target)
        self.staging = self._name("stage")
        try:
            os.mkdir(self.staging, 0o777)
        except OSError as exc:
            raise WriteError(
                f"--out {self.target}: cannot create a folder there ({reason(exc)})"
            ) from None
        return self.staging

    def commit(self) -> None:
        """Put the staging folder in place of the target (re-checked first)."""
        assert self.staging is not None
        check_target(self.target, self.inputs, self.force)
        try:
            if not os.path.lexists(self.target):
                os.rename(self.staging, self.target)
            elif _exchange(self.staging, self.target):
                shutil.rmtree(self.staging, ignore_errors=True)  # now the previous output
            else:
                old = self._name("old")
                os.rename(self.target, old)
                os.rename(self.staging, self.target)
                shutil.rmtree(old, ignore_errors=True)
        except OSError as exc:
            raise WriteError(f"--out {self.target}: cannot replace it ({reason(exc)})") from None
        self.staging = None

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.staging is not None:
            shutil.rmtree(self.staging, ignore_errors=True)
            self.staging = None
