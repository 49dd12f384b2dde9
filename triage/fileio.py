"""Reading and writing files safely: the one home of file hashing and atomic writes.

Inputs are only ever read (and hashed); writing is only for reports, artifacts and
the reference store's caches.
"""

from __future__ import annotations

import errno
import os
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

_CHUNK = 1 << 20
_UMASK_LOCK = threading.Lock()


def current_umask() -> int:
    """The process umask. Reading it means setting it, so the swap is serialized."""
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def open_input(path: str | os.PathLike[str]) -> BinaryIO:
    """Open an input file for reading: a regular file, never a pipe or a device.

    A path that is checked first and opened afterwards can have become a FIFO, and
    ``open()`` on a FIFO waits for a writer for ever, which no timeout in the process
    that opened it ends. So the open does not block (``O_NONBLOCK``), and the open
    descriptor's own type decides. Raises ``OSError`` (``PermissionError``,
    ``FileNotFoundError``, ``IsADirectoryError``...), "not a regular file" included.
    """
    nonblock = getattr(os, "O_NONBLOCK", 0)  # POSIX; Windows has no FIFOs to open
    fd = os.open(path, os.O_RDONLY | nonblock | getattr(os, "O_BINARY", 0))
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, "is a directory", str(path))
        if not stat.S_ISREG(mode):
            raise OSError(errno.EINVAL, "not a regular file (device, pipe or socket)", str(path))
        if nonblock:
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def file_digest(
    path: str | os.PathLike[str], head_bytes: int = 0, algorithm: str = "sha256"
) -> tuple[str, bytes]:
    """Hex digest (SHA-256, or ``algorithm``) of a file's bytes and its first
    ``head_bytes`` bytes, in one read.

    Raises ``OSError`` (``PermissionError``, ``FileNotFoundError``...) when the file
    cannot be read; the caller words the error for its user.
    """
    import hashlib  # here, not at import: `triage --help` reads no file (bench/startup.py)

    digest = hashlib.new(algorithm, usedforsecurity=False)
    head = b""
    with open_input(path) as fh:
        while chunk := fh.read(_CHUNK):
            if not head and head_bytes:
                head = chunk[:head_bytes]
            digest.update(chunk)
    return digest.hexdigest(), head


def sha256_of(path: str | os.PathLike[str]) -> str | None:
    """Hex SHA-256 of a file, or None when it cannot be read."""
    try:
        return file_digest(path)[0]
    except OSError:
        return None


@contextmanager
def atomic_file(path: str | os.PathLike[str], fsync: bool = False) -> Iterator[BinaryIO]:
    """A binary file handle whose content replaces ``path`` only once it is complete.

    Written to a temp file in the same folder and renamed into place, so a reader
    never sees half a file and a crash leaves the old one intact. With ``fsync`` the
    data reaches the disk before the rename (reports; not worth it for caches). The
    file gets the mode a plain ``open(path, "w")`` would give (0666 less the umask):
    ``mkstemp`` creates 0600, which would hide reports from the group that shares a
    desk folder.
    """
    import tempfile  # here, not at import: `triage --help` writes no file

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.fchmod(fd, 0o666 & ~current_umask())
        with os.fdopen(fd, "wb") as fh:
            yield fh
            if fsync:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_atomic(path: str | os.PathLike[str], data: str | bytes) -> None:
    """Write ``data`` to ``path`` atomically (:func:`atomic_file`, synced to disk).

    Text is UTF-8; a non-UTF-8 file name that reached the text as surrogate escapes
    is written as ``\\udcXX`` rather than failing the whole report.
    """
    raw = data.encode("utf-8", "backslashreplace") if isinstance(data, str) else data
    with atomic_file(path, fsync=True) as fh:
        fh.write(raw)
