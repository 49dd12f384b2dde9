"""The JSONL stream of a scan: one complete report per line, written as each file
finishes, and read back for ``--resume``.

Durability: each line goes to the kernel with one ``write`` on an unbuffered file
descriptor as soon as its file is done, so killing the scan (even ``kill -9``)
loses nothing already written. ``fdatasync`` (against power loss, not process death)
runs at most once a second and on close, so it costs nothing per file.

Resume: :func:`read_done` reads the existing output, ignores lines that do not parse
(a torn last line from a kill), and returns the ``(path, sha256)`` of every report
in it. :class:`JsonlSink` opened with ``resume=True`` first cuts a torn last line
off the file, so the next report starts on a line of its own.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

SYNC_INTERVAL = 1.0  # seconds between fdatasync calls


class JsonlSink:
    """Append-only JSONL writer; ``write(line)`` takes one newline-terminated line."""

    def __init__(self, path: str | os.PathLike[str] | None, resume: bool = False) -> None:
        self.path = Path(path) if path is not None else None
        self.torn_bytes = 0
        self._stream: TextIO | None = None
        self._fd: int | None = None
        self._last_sync = time.monotonic()
        self._dirty = False
        if self.path is None:
            self._stream = sys.stdout
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        flags = (os.O_RDWR if resume else os.O_WRONLY) | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
        if not resume:
            flags |= os.O_TRUNC
        self._fd = os.open(self.path, flags, 0o666)  # less the umask, like open()
        if resume:
            self.torn_bytes = _cut_torn_tail(self._fd)
        os.lseek(self._fd, 0, os.SEEK_END)

    def write(self, line: str) -> None:
        if not line.endswith("\n"):
            line += "\n"
        if self._fd is None:
            assert self._stream is not None
            self._stream.write(line)
            self._stream.flush()
            return
        data = line.encode("utf-8")
        view = memoryview(data)
        while view:
            n = os.write(self._fd, view)
            view = view[n:]
        self._dirty = True
        now = time.monotonic()
        if now - self._last_sync >= SYNC_INTERVAL:
            self._sync(now)

    def _sync(self, now: float) -> None:
        if self._fd is not None and self._dirty:
            sync = getattr(os, "fdatasync", os.fsync)
            # OSError: e.g. a file system without sync; the write itself is done
            with contextlib.suppress(OSError):
                sync(self._fd)
            self._dirty = False
        self._last_sync = now

    def close(self) -> None:
        if self._fd is not None:
            self._sync(time.monotonic())
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> JsonlSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _cut_torn_tail(fd: int) -> int:
    """Truncate after the last newline; return how many bytes were cut."""
    size = os.lseek(fd, 0, os.SEEK_END)
    if size == 0:
        return 0
    pos = size
    block = 1 << 16
    while pos > 0:
        start = max(0, pos - block)
        chunk = os.pread(fd, pos - start, start)
        nl = chunk.rfind(b"\n")
        if nl >= 0:
            keep = start + nl + 1
            if keep < size:
                os.ftruncate(fd, keep)
            return size - keep
        pos = start
    os.ftruncate(fd, 0)
    return size


@dataclass
class DoneSet:
    """What an earlier run already wrote: ``(path, sha256)`` -> the report's line."""

    lines: dict[tuple[str, str | None], str] = field(default_factory=dict)
    sizes: dict[str, set[int | None]] = field(default_factory=dict)
    bad_lines: int = 0

    def has_path(self, path: str) -> bool:
        return path in self.sizes

    def __len__(self) -> int:
        return len(self.lines)


def iter_reports(path: str | os.PathLike[str]) -> Iterator[tuple[str, dict[str, Any] | None]]:
    """Each line of a JSONL file with its parsed object (None when it does not parse)."""
    with open(path, "rb") as fh:
        for raw in fh:
            text = raw.decode("utf-8", "replace")
            if not text.strip():
                continue
            try:
                obj = json.loads(text)
            except ValueError:
                yield text, None
                continue
            yield text, obj if isinstance(obj, dict) else None


def read_done(path: str | os.PathLike[str]) -> DoneSet:
    """Reports already in ``path`` (missing file: none). Torn or foreign lines are ignored."""
    done = DoneSet()
    if not os.path.exists(path):
        return done
    for text, obj in iter_reports(path):
        file = obj.get("file") if obj else None
        if not isinstance(file, dict) or "path" not in file:
            done.bad_lines += 1
            continue
        key = (str(file["path"]), file.get("sha256"))
        done.lines[key] = text if text.endswith("\n") else text + "\n"
        done.sizes.setdefault(key[0], set()).add(file.get("bytes"))
    return done


def already_done(done: DoneSet, path: str, size: int | None) -> str | None:
    """The earlier line for this file if its path and current sha256 are in ``done``.

    Hashes only files whose path is already there (and whose size matches one
    recorded for it), so a resume costs a hash of the finished files, never an
    analysis.
    """
    if not done.has_path(path):
        return None
    sizes = done.sizes[path]
    if size is not None and None not in sizes and size not in sizes:
        return None
    from triage.fileio import sha256_of

    return done.lines.get((path, sha256_of(path)))
