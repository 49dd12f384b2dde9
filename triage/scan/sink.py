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
import re
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


def read_done(path: str | os.PathLike[str], retry_failed: bool = False) -> DoneSet:
    """Reports already in ``path`` (missing file: none). Torn or foreign lines are ignored;
    with ``retry_failed``, so are reports with errors (their files are analyzed again)."""
    done = DoneSet()
    if not os.path.exists(path):
        return done
    for text, obj in iter_reports(path):
        file = obj.get("file") if obj else None
        if not isinstance(file, dict) or "path" not in file:
            done.bad_lines += 1
            continue
        if retry_failed and obj and obj.get("errors"):
            continue
        key = (str(file["path"]), file.get("sha256"))
        done.lines[key] = text if text.endswith("\n") else text + "\n"
        done.sizes.setdefault(key[0], set()).add(file.get("bytes"))
    return done


@dataclass
class Superseded:
    """What :func:`supersede` took out of an earlier output."""

    stale: int = 0  # reports of files whose content changed (or failed, retried)
    invalid: list[tuple[int, str | None]] = field(default_factory=list)  # (line, path)


_PATH_IN_LINE = re.compile(r'"file"\s*:\s*\{[^{}]*?"path"\s*:\s*"((?:[^"\\]|\\.)*)"')


def supersede(path: str | os.PathLike[str], walked: set[str], kept: dict[str, str]) -> Superseded:
    """Rewrite the output of an earlier run (atomically) without the lines a resume
    replaces, so that every file has one report in it.

    ``walked``: the paths this run covers; ``kept``: path -> the earlier line that
    still stands for it (content unchanged). A line for a walked path that is not the
    kept one (content changed, a duplicate, a failure being retried) and a line that
    is not a report (a damaged line in the middle) are dropped; lines for paths this
    run does not cover stay. A torn last line is left for :class:`JsonlSink` to cut.
    """
    out = Superseded()
    if not os.path.exists(path):
        return out
    with open(path, "rb") as fh:
        raw_lines = fh.read().split(b"\n")
    tail = raw_lines.pop()  # b"" after a final newline, else a torn line
    keep: list[bytes] = []
    used: set[str] = set()
    for number, raw in enumerate(raw_lines, 1):
        if not raw.strip():
            continue
        text = raw.decode("utf-8", "replace")
        try:
            obj = json.loads(text)
        except ValueError:
            obj = None
        file = obj.get("file") if isinstance(obj, dict) else None
        if not isinstance(file, dict) or not isinstance(file.get("path"), str):
            m = _PATH_IN_LINE.search(text)
            named = None
            if m:
                with contextlib.suppress(ValueError):
                    named = json.loads(f'"{m.group(1)}"')
            out.invalid.append((number, named))
            continue
        name = file["path"]
        if name in walked:
            if name in used or kept.get(name) != text + "\n":
                out.stale += 1
                continue
            used.add(name)
        keep.append(raw + b"\n")
    if out.stale or out.invalid:
        _replace_bytes(Path(path), b"".join(keep) + tail)
    return out


def _replace_bytes(target: Path, data: bytes) -> None:
    """``data`` into ``target`` through a temp file and a rename (a kill leaves either
    the old file or the new one), keeping the file's mode."""
    import tempfile

    mode = target.stat().st_mode & 0o777
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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
