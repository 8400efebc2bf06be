"""Writing one file atomically: the whole new file, or the old one untouched.

Every file the tool writes goes through :func:`atomic_file`: the bytes go to a temporary file
beside the target, created with mode 0666 so that the user's umask applies as it does to any
ordinary file, and the temporary file is renamed over the target only when it is complete. A
failure (a full disk, a file-size limit, a signal) removes the temporary file and leaves the
target as it was. The target's folder must exist: nothing here creates folders silently.
"""

from __future__ import annotations

import errno
import os
import secrets
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from cdisc_umsc.core.errors import WriteError

if TYPE_CHECKING:  # numpy arrays are written, never made, here: no import for the CLI start
    import numpy as np

#: Marks the tool's temporary files and folders (so they can be recognised and cleaned).
TEMP_TAG = "cdisc-umsc-tmp"


def reason(exc: OSError) -> str:
    """A one-line reason for an operating-system error: its text, else its errno name."""
    if exc.strerror:
        return exc.strerror
    if exc.errno is not None:
        return errno.errorcode.get(exc.errno, str(exc.errno))
    return str(exc) or type(exc).__name__


def make_folder(path: Path) -> Path:
    """Create ``path`` and missing parents with mode 0777 less the umask; an error if a part of
    the path exists and is not a folder."""
    path = Path(path)
    try:
        path.mkdir(mode=0o777, parents=True, exist_ok=True)
    except FileExistsError:
        raise WriteError(f"{path}: exists and is not a folder") from None
    except NotADirectoryError:
        raise WriteError(f"{path}: a part of the path is a file, not a folder") from None
    except OSError as exc:
        raise WriteError(f"{path}: cannot create the folder ({reason(exc)})") from None
    return path


def check_parent(path: Path) -> None:
    """Raise WriteError (one line) unless the folder ``path`` is to be written in exists."""
    path = Path(path)
    parent = path.parent
    if not parent.exists():
        raise WriteError(f"{path}: folder {parent} does not exist")
    if not parent.is_dir():
        raise WriteError(f"{path}: {parent} is not a folder")


def file_starts_with(*heads: bytes) -> Callable[[Path], bool]:
    """A test for :func:`check_replaceable`: the file begins with one of ``heads``."""
    longest = max(len(h) for h in heads)

    def test(path: Path) -> bool:
        with path.open("rb") as handle:
            head = handle.read(longest)
        return head.startswith(heads)

    return test


def check_replaceable(
    path: Path, is_ours: Callable[[Path], bool], what: str, label: str | None = None
) -> None:
    """Raise WriteError (one line, naming ``label``, default the path) unless ``path`` is missing
    or a regular file that ``is_ours`` recognises as a ``what`` this tool wrote before: a file
    of the user's is never replaced by a report."""
    path = Path(path)
    shown = label or str(path)
    if not os.path.lexists(path):
        return
    if path.is_symlink() or not path.is_file():
        raise WriteError(f"{shown}: exists and is not a regular file; it is left untouched")
    try:
        ours = is_ours(path)
    except (OSError, ValueError, KeyError):  # unreadable, or not the container it should be
        ours = False
    if not ours:
        raise WriteError(
            f"{shown}: exists and is no cdisc-umsc {what}; it is left untouched "
            "(remove it, or name another file)"
        )


@contextmanager
def atomic_file(path: Path) -> Iterator[BinaryIO]:
    """A binary handle whose bytes replace ``path`` when the block ends without an error."""
    path = Path(path)
    check_parent(path)
    if path.is_dir():
        raise WriteError(f"{path}: is a folder, expected a file name")
    if path.is_symlink() or (path.exists() and not path.is_file()):
        # a device, a FIFO or a link: replacing it would replace the node, not write to it
        raise WriteError(f"{path}: exists and is not a regular file; it is left untouched")
    tmp = path.with_name(f".{path.name}.{TEMP_TAG}-{os.getpid()}-{secrets.token_hex(4)}")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as exc:
        raise WriteError(f"{path}: cannot write ({reason(exc)})") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise WriteError(f"{path}: cannot write ({reason(exc)})") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_bytes(path: Path, data: bytes | Iterable[bytes | np.ndarray]) -> None:
    """Write ``data`` (bytes, or parts: bytes or numpy byte arrays) to ``path`` atomically."""
    parts = [data] if isinstance(data, bytes | bytearray) else data
    with atomic_file(path) as handle:
        for part in parts:
            if len(part):
                if isinstance(part, bytes | bytearray | memoryview):
                    handle.write(part)
                else:  # a numpy byte array, through its buffer
                    handle.write(part.data.cast("B"))


def write_text(path: Path, text: str, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``path`` atomically; line ends are written as given (``\\n``)."""
    write_bytes(path, text.encode(encoding))
