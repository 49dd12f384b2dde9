"""Warnings that decoding libraries print while a file is read, caught and kept with
that file's report instead of landing on stderr, where a batch would interleave them
with nobody knowing which file they belong to: Python warnings and log records
(Pillow's TIFF reader: "Tag data larger than file", corrupt EXIF) and what C
libraries write to file descriptor 2 (libtiff: "TIFFFetchNormalTag: ...")."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
import tempfile
import threading
import warnings
from collections.abc import Iterator

MAX_WARNINGS = 20
MAX_CAPTURED_BYTES = 64 * 1024
_LOGGERS = ("PIL",)
# One capture at a time: the warnings filter, sys.stderr and fd 2 are process-wide.
# A second thread analyzing at the same moment simply goes uncaptured.
_LOCK = threading.Lock()


class _Collect(logging.Handler):
    def __init__(self, out: list[str]) -> None:
        super().__init__(level=logging.WARNING)
        self.out = out

    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(Exception):  # a malformed log call must not break analysis
            self.out.append(f"{record.name}: {record.getMessage()}")


@contextlib.contextmanager
def captured() -> Iterator[list[str]]:
    """Collect decoder warnings into the yielded list (deduplicated, at most
    ``MAX_WARNINGS``, once the block ends): Python warnings, WARNING+ log records of
    Pillow, and lines C code writes to fd 2 (Python's own ``sys.stderr`` keeps going
    to the real stderr meanwhile, so progress bars and messages are not swallowed).

    Covers the analyzer threads of the file being analyzed; a concurrent second
    capture in another thread is skipped rather than mixed up.
    """
    out: list[str] = []
    if not _LOCK.acquire(blocking=False):
        yield out
        return
    handler = _Collect(out)
    loggers = [logging.getLogger(name) for name in _LOGGERS]
    for lg in loggers:
        lg.addHandler(handler)
    try:
        with _fd2_captured() as native, warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield out
        for w in caught:
            out.append(f"{w.category.__name__}: {w.message}")
        out.extend(native)
    finally:
        for lg in loggers:
            lg.removeHandler(handler)
        _LOCK.release()
        unique = list(dict.fromkeys(" ".join(m.split())[:300] for m in out if m.strip()))
        out[:] = unique[:MAX_WARNINGS] + (
            [f"... and {len(unique) - MAX_WARNINGS} more"] if len(unique) > MAX_WARNINGS else []
        )


@contextlib.contextmanager
def _fd2_captured() -> Iterator[list[str]]:
    """Point fd 2 at a temporary file (C libraries) and ``sys.stderr`` at a duplicate
    of the real stderr (Python); yields the captured lines after the block."""
    lines: list[str] = []
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no fd 2 (embedded, closed): skip
        yield lines
        return
    python_stderr = sys.stderr
    with tempfile.TemporaryFile() as sink:
        replacement: io.TextIOWrapper | None = None
        try:
            os.dup2(sink.fileno(), 2)
            replacement = open(  # noqa: SIM115 - closed in finally
                os.dup(saved),
                "w",
                buffering=1,
                encoding=getattr(python_stderr, "encoding", None) or "utf-8",
                errors="backslashreplace",
            )
            sys.stderr = replacement
            yield lines
        finally:
            sys.stderr = python_stderr
            if replacement is not None:
                replacement.close()
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            data = sink.read(MAX_CAPTURED_BYTES)
            lines.extend(data.decode("utf-8", "replace").splitlines())
