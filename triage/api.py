"""The Python API: :func:`analyze` one file (a path, bytes or a binary stream) and
:func:`analyze_many` files in worker processes, yielding reports as they finish.

Bad input never raises: the report carries an error entry, as on the command line.
Only misuse (an unknown analyzer name, an unknown option) raises ``ValueError`` or
``TypeError``.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from triage.pipeline import Options
    from triage.report import Report

Source = str | os.PathLike[str] | bytes | bytearray | memoryview | IO[bytes]


def _options(options: dict[str, Any]) -> Options:
    from triage.analyzers import select
    from triage.pipeline import Options

    options = dict(options)
    anchors = options.pop("trust_anchors", None)
    opts = Options(**options)
    if anchors is not None:  # PEM text or a path, for the credentials analyzer
        import dataclasses

        creds = dataclasses.replace(
            opts.analyzer_options.credentials,
            trust_anchors=os.fspath(anchors) if isinstance(anchors, Path) else anchors,
        )
        opts.analyzer_options = dataclasses.replace(opts.analyzer_options, credentials=creds)
    select(opts.only, opts.skip)  # unknown analyzer names: ValueError now, not per file
    return opts


def analyze(source: Source, *, name: str | None = None, **options: Any) -> Report:
    """Analyze one image or video and return its :class:`~triage.report.Report`.

    Parameters
    ----------
    source
        A path; or the file's bytes; or a binary stream (``open(p, "rb")``, an HTTP
        response body, ``io.BytesIO``) read to its end. Bytes and streams are copied
        to a private temporary file (mode 0600, removed afterwards) because video
        decoders need a seekable file; at most ``max_bytes`` are copied.
    name
        For bytes and streams: the name the report shows as ``file.path`` (its
        extension is compared with the content like a real file's). Default
        ``<bytes>`` / ``<stream>``, or the stream's own ``name``.
    **options
        Fields of :class:`triage.pipeline.Options`: ``only``, ``skip``,
        ``artifacts_dir``, ``max_pixels``, ``max_bytes``, ``prior``, ``db_path``,
        ``no_pixels``, ``threads``, ``with_metadata`` ...; and ``trust_anchors``
        (PEM text or a PEM file of C2PA trust anchors).

    Returns
    -------
    Report
        Scores, intervals and bands per question, findings, analyzer runs, errors.
    """
    from triage.pipeline import analyze_path, failed_report

    opts = _options(options)
    if isinstance(source, (str, os.PathLike)):
        return analyze_path(os.fspath(source), opts)
    if isinstance(source, (bytes, bytearray, memoryview)):
        label = name or "<bytes>"
        data = bytes(source)
        if len(data) > opts.max_bytes:
            return _too_large(label, opts)
        with _spilled(label) as (fh, path):
            fh.write(data)
            fh.close()
            return relabel(analyze_path(path, opts), label)
    if hasattr(source, "read"):
        stream_name = getattr(source, "name", None)
        label = name or (stream_name if isinstance(stream_name, str) else "<stream>")
        with _spilled(label) as (fh, path):
            try:
                copied = _copy_bounded(source, fh, opts.max_bytes)
            except OSError as exc:
                import time

                return failed_report(
                    label, f"cannot read the stream: {exc}", time.perf_counter(), opts
                )
            fh.close()
            if copied is None:
                return _too_large(label, opts)
            return relabel(analyze_path(path, opts), label)
    raise TypeError(
        f"analyze() takes a path, bytes or a binary stream, not {type(source).__name__}"
    )


def analyze_many(
    paths: Iterable[str | os.PathLike[str]],
    *,
    jobs: int | None = None,
    timeout: float | None = 120.0,
    ordered: bool = True,
    **options: Any,
) -> Iterator[Report]:
    """Analyze files and yield one report per path.

    Parameters
    ----------
    paths
        Files to analyze (folders: use :func:`triage.scan.scan`, which walks them).
    jobs
        Worker processes; default one per core. ``jobs=1`` runs in this process
        (no timeout then). Each file runs in its own worker with a ``timeout``;
        a worker that hangs or crashes is replaced and the file gets an error entry.
    ordered
        Yield in the order of ``paths`` (default); ``False`` yields each report as
        soon as its file is done.
    **options
        As for :func:`analyze`.

    Yields
    ------
    Report
        One per path, never an exception for bad input.

    Notes
    -----
    Workers come from a ``forkserver`` (``spawn`` off Linux). They never import the
    caller's main module, so a script without an ``if __name__ == "__main__":``
    guard, a script piped on standard input and a notebook all work as they are.
    """
    from triage.scan.runner import IsolatedPool, default_jobs

    opts = _options(options)
    items = [os.fspath(p) for p in paths]
    n_jobs = default_jobs() if jobs is None else max(1, int(jobs))
    if n_jobs == 1 or len(items) < 2:
        from triage.pipeline import analyze_path

        for p in items:
            yield analyze_path(p, opts)
        return
    waiting: dict[int, Report] = {}
    next_index = 0
    with IsolatedPool(min(n_jobs, len(items)), opts, timeout) as pool:
        for index, outcome in pool.run(items):
            report = outcome.analysis().report
            if not ordered:
                yield report
                continue
            waiting[index] = report
            while next_index in waiting:
                yield waiting.pop(next_index)
                next_index += 1


# ------------------------------------------------------------------ helpers
class _spilled:
    """A private temporary file named like ``label`` (same extension), removed on exit."""

    def __init__(self, label: str) -> None:
        self.suffix = Path(label).suffix if Path(label).suffix.isascii() else ""

    def __enter__(self) -> tuple[IO[bytes], str]:
        fd, self.path = tempfile.mkstemp(prefix="triage-", suffix=self.suffix[:16])
        self.fh = os.fdopen(fd, "wb")
        return self.fh, self.path

    def __exit__(self, *exc: object) -> None:
        self.fh.close()
        Path(self.path).unlink(missing_ok=True)


def _copy_bounded(src: IO[bytes], dst: IO[bytes], limit: int) -> int | None:
    """Copy at most ``limit`` bytes; None when the stream holds more."""
    total = 0
    while chunk := src.read(1 << 20):
        total += len(chunk)
        if total > limit:
            return None
        dst.write(chunk)
    return total


@contextlib.contextmanager
def spooled(stream: IO[bytes], max_bytes: int) -> Iterator[str | None]:
    """A private temporary copy of ``stream``, read to its end, for a caller that needs
    a path (the command line's ``-``, standard input): its path, or None when the
    stream holds more than ``max_bytes``; removed on exit. Name the reports of that
    path with :func:`relabel`."""
    with _spilled("") as (fh, path):
        copied = _copy_bounded(stream, fh, max_bytes)
        fh.close()
        yield None if copied is None else path


def relabel(report: Report, label: str) -> Report:
    """The report of a temporary copy, named as the caller named the content."""
    report.file.path = label
    report.file.extension = Path(label).suffix.lower() or None
    report.file.mtime = None  # the temporary copy's time says nothing about the content
    return report


def _too_large(label: str, opts: Options) -> Report:
    import time

    from triage.pipeline import failed_report

    return failed_report(
        label,
        f"the content is over the {opts.max_bytes:,}-byte limit (max_bytes)",
        time.perf_counter(),
        opts,
    )


__all__ = ["analyze", "analyze_many", "relabel", "spooled"]
