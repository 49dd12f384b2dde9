"""``scan()``: walk, skip what an earlier run finished, analyze the rest in isolated
workers (local pool or Dask), stream JSONL, and summarize."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from triage.scan.runner import DEFAULT_TIMEOUT, Outcome, default_jobs, run_local
from triage.scan.sink import JsonlSink, already_done, read_done
from triage.scan.summary import ScanSummary, row_from_report
from triage.scan.walker import WalkStats, discover

if TYPE_CHECKING:
    from triage.pipeline import Analysis, Options


HASH_THREADS = 4


class ProgressSink(Protocol):
    def note(self, text: str) -> None: ...
    def start(self, total: int) -> None: ...
    def advance(self, path: str, failed: bool) -> None: ...
    def stop(self) -> None: ...


class NoProgress:
    def note(self, text: str) -> None:
        pass

    def start(self, total: int) -> None:
        pass

    def advance(self, path: str, failed: bool) -> None:
        pass

    def stop(self) -> None:
        pass


class LineProgress:
    """Quiet progress for logs: one line every ``every`` seconds, and at the end."""

    def __init__(self, stream: TextIO | None = None, every: float = 10.0) -> None:
        self.stream = stream or sys.stderr
        self.every = every
        self.total = self.done = self.errors = 0
        self.t0 = self.last = 0.0

    def note(self, text: str) -> None:
        print(f"scan: {text}", file=self.stream, flush=True)

    def start(self, total: int) -> None:
        self.total, self.t0 = total, time.monotonic()
        self.last = self.t0

    def advance(self, path: str, failed: bool) -> None:
        self.done += 1
        self.errors += int(failed)
        now = time.monotonic()
        if now - self.last >= self.every:
            self.last = now
            self._line(now)

    def _line(self, now: float) -> None:
        rate = self.done / max(now - self.t0, 1e-9)
        eta = (self.total - self.done) / rate if rate > 0 else 0.0
        print(
            f"scan: {self.done}/{self.total} files, {rate:.1f} files/s, "
            f"{self.errors} errors, ETA {_hms(eta)}",
            file=self.stream,
            flush=True,
        )

    def stop(self) -> None:
        if self.total:
            self._line(time.monotonic())


class RichProgress:
    """A rich bar on a terminal: done/total, files/s, ETA, errors so far."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        self._console = Console(stderr=True)
        self._progress = Progress(
            TextColumn("[bold]scan"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]} files/s"),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            TextColumn("[red]{task.fields[errors]} errors"),
            console=self._console,
            transient=True,
        )
        self._task: Any = None
        self.errors = 0
        self.t0 = 0.0
        self.done = 0

    def note(self, text: str) -> None:
        self._console.print(f"scan: {text}", highlight=False)

    def start(self, total: int) -> None:
        self.t0 = time.monotonic()
        self._progress.start()
        self._task = self._progress.add_task("scan", total=total, rate="-", errors=0)

    def advance(self, path: str, failed: bool) -> None:
        self.done += 1
        self.errors += int(failed)
        rate = self.done / max(time.monotonic() - self.t0, 1e-9)
        self._progress.update(self._task, advance=1, rate=f"{rate:.1f}", errors=self.errors)

    def stop(self) -> None:
        self._progress.stop()


def _hms(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


@dataclass
class ScanResult:
    summary: ScanSummary
    # Reports with their pictures, only with keep_reports (the HTML page).
    reports: list[Analysis] = field(default_factory=list)
    torn_bytes: int = 0  # cut off a torn last line of the output on --resume
    replaced_workers: int = 0
    superseded: int = 0  # earlier reports replaced on --resume (changed file, retried)
    invalid_lines: int = 0  # damaged lines taken out of the output on --resume

    @property
    def exit_code(self) -> int:
        return 1 if self.summary.failures else 0


def _supersede(
    output: str | Path,
    entries: list[Any],
    earlier: list[str | None],
    progress: ProgressSink,
    result: ScanResult,
) -> None:
    """Take out of the earlier output the lines this run replaces (content changed,
    retried failures, damaged lines), and say what went."""
    from triage.scan.sink import supersede

    walked = {e.path for e in entries if e.status == "media"}
    kept = {e.path: line for e, line in zip(entries, earlier, strict=True) if line is not None}
    gone = supersede(output, walked, kept)
    result.superseded = gone.stale
    result.invalid_lines = len(gone.invalid)
    from triage.render.scansummary import printable

    for number, named in gone.invalid:
        again = (
            f"; {printable(named)} is analyzed again"
            if named is not None and named in walked and named not in kept
            else (f" (it named {printable(named)})" if named else "")
        )
        progress.note(f"resume: line {number} of {output} is not a valid report, removed{again}")
    if gone.stale:
        progress.note(
            f"resume: {gone.stale} earlier report(s) replaced (file changed since, "
            "or a failure retried)"
        )


def scan(
    roots: Sequence[str | Path],
    options: Options | None = None,
    *,
    jobs: int | None = None,
    output: str | Path | None = None,
    resume: bool = False,
    retry_failed: bool = False,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    follow_symlinks: bool = False,
    max_bytes: int | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
    scheduler: Any = None,
    keep_reports: bool = False,
    progress: ProgressSink | None = None,
    threads: int | None = None,
) -> ScanResult:
    """Scan folders (or files). ``output``: a JSONL path, ``"-"`` for stdout, None for none.

    ``scheduler``: a Dask scheduler address (or ``Client``) to run on a cluster;
    None runs a local pool on ``jobs`` cores in total (default: all; ``jobs=1`` is one
    core): a worker per core, OpenCV/BLAS pools of ``threads`` each (default 1).
    Raises :class:`~triage.scan.walker.WalkError` for a missing root and
    ``ValueError`` for ``resume`` without an output file.
    """
    import dataclasses

    from triage.pipeline import Analysis, Options

    opts = (
        dataclasses.replace(options) if options is not None else Options()
    )  # caller's stays as is
    if max_bytes is not None:
        opts.max_bytes = max_bytes
    if keep_reports:
        opts.keep_artifacts = True
    if resume and (output is None or str(output) == "-"):
        raise ValueError("--resume needs --output FILE.jsonl (the file to resume)")
    progress = progress or NoProgress()
    t0 = time.monotonic()
    summary = ScanSummary()
    result = ScanResult(summary)

    stats = WalkStats()
    todo: list[str] = []
    progress.note("listing and sniffing files…")
    entries = list(discover(roots, include, exclude, follow_symlinks, max_bytes, stats))
    summary.excluded = stats.excluded
    done = read_done(output, retry_failed) if resume and output is not None else None
    earlier: list[str | None] = [None] * len(entries)
    if done:
        # Hash the files an earlier run finished (hashlib releases the GIL: threads help).
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=HASH_THREADS) as pool:
            earlier = list(
                pool.map(
                    lambda e: already_done(done, e.path, e.size) if e.status == "media" else None,
                    entries,
                )
            )
    if resume and output is not None:
        _supersede(output, entries, earlier, progress, result)
    for entry, line in zip(entries, earlier, strict=True):
        if entry.status == "skipped":
            summary.add_skipped(entry)
            continue
        if line is None:
            todo.append(entry.path)
            continue
        data = json.loads(line)
        summary.rows.append(row_from_report(data))
        summary.resumed += 1
        if keep_reports:  # taken from the earlier output: no pictures
            from triage.pipeline import Analysis
            from triage.report import Report

            result.reports.append(Analysis(Report.model_validate(data)))

    sink = (
        JsonlSink(None if str(output) == "-" else output, resume=resume)
        if output is not None
        else None
    )
    if sink is not None:
        result.torn_bytes = sink.torn_bytes

    def on_outcome(index: int, outcome: Outcome) -> None:
        if sink is not None:
            sink.write(outcome.line)
        summary.rows.append(outcome.row)
        if keep_reports:
            result.reports.append(outcome.analysis())
        progress.advance(outcome.path, outcome.row.failed)

    media = len(entries) - len(summary.skipped)
    progress.note(
        f"{media} media files ({summary.resumed} already in the output), "
        f"{len(summary.skipped)} skipped, {summary.excluded} excluded; {len(todo)} to analyze"
        + (f" on {scheduler}" if isinstance(scheduler, str) else "")
    )
    progress.start(len(todo))
    try:
        if not todo:
            pass
        elif scheduler is not None:
            from triage.scan.dask import run_dask

            result.replaced_workers = run_dask(todo, opts, scheduler, timeout, on_outcome)
        else:
            result.replaced_workers = run_local(
                todo, opts, jobs or default_jobs(), timeout, on_outcome, threads
            )
    finally:
        progress.stop()
        if sink is not None:
            sink.close()
        summary.seconds = time.monotonic() - t0
    return result
