"""Writing output files safely. Inputs are never written: this is only for reports."""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path

_UMASK_LOCK = threading.Lock()


def current_umask() -> int:
    """The process umask. Reading it means setting it, so the swap is serialized."""
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def write_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` (UTF-8) atomically; see :func:`write_atomic_bytes`.

    A non-UTF-8 file name that reached the text as surrogate escapes is written as
    ``\\udcXX`` rather than failing the whole report.
    """
    write_atomic_bytes(path, text.encode("utf-8", errors="backslashreplace"))


def write_atomic_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` via a temp file in the same folder and rename it into place, so a
    reader never sees half a file and a crash leaves the old one intact.

    The file gets the mode a plain ``open(path, "w")`` would give (0666 less the
    umask): ``mkstemp`` creates 0600, which would hide reports from the group that
    shares a desk folder.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.fchmod(fd, 0o666 & ~current_umask())
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
