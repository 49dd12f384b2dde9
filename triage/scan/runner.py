"""The per-file function of a scan and the local process pool that runs it.

:func:`analyze_file` analyzes one path and returns an :class:`Outcome` that crosses
process boundaries cheaply: the JSONL line (built in the worker), a compact
:class:`~triage.scan.summary.FileRow`, and the artifact PNG bytes when an HTML
report was asked for. The Dask path runs the very same function.

Why not ``concurrent.futures.ProcessPoolExecutor``: when one of its workers dies
(a decoder segfault, an out-of-memory kill) the whole executor is marked broken
and every pending future fails. :class:`IsolatedPool` instead keeps N worker
processes, each with its own pipe and exactly one file at a time, so the parent
knows which file each worker is on:

* a worker that exceeds ``timeout`` seconds on a file is killed (SIGKILL) and
  replaced; the file gets an error entry with stage ``timeout``;
* a worker that dies on a file is replaced; the file gets an error entry with
  stage ``crash`` naming the signal;
* workers are recycled after ``max_tasks`` files to bound slow leaks.

Workers come from a ``forkserver`` that has already imported the pipeline and the
analyzers, so replacing one costs a fork (milliseconds), not an interpreter start.
Workers ignore SIGINT; the parent handles Ctrl-C and stops them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import sys
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.context import BaseContext
    from multiprocessing.process import BaseProcess

    from triage.pipeline import Analysis, Options
    from triage.report import Report
    from triage.scan.summary import FileRow

DEFAULT_TIMEOUT = 120.0
MAX_TASKS_PER_WORKER = 500
READY = "ready"  # a worker's first message: set up, the clock of its file may start
# A worker that is not ready after this long is stuck starting, not slow on its file.
STARTUP_TIMEOUT = 300.0


@dataclass
class Outcome:
    """One file's result, as sent back by a worker."""

    path: str
    line: str  # the report as one JSONL line
    row: FileRow
    artifacts: list[bytes] = field(default_factory=list)  # PNG per report artifact
    thumbnail: bytes | None = None

    def analysis(self) -> Analysis:
        """The full report (parsed from the line) with its pictures."""
        import json

        from triage.pipeline import Analysis
        from triage.report import Report

        # json.loads, not model_validate_json: a path that is not valid UTF-8 is
        # carried as lone surrogate escapes, which pydantic's JSON parser refuses.
        rep = Report.model_validate(json.loads(self.line))
        return Analysis(rep, list(self.artifacts), self.thumbnail)


def analyze_file(path: str, options: Options) -> Outcome:
    """Analyze one file; never raises (a bug in the pipeline becomes an error entry)."""
    from triage.pipeline import analyze_path_with_pictures

    try:
        analysis = analyze_path_with_pictures(path, options)
    except Exception as exc:  # a pipeline bug must not stop a batch
        from triage.limits import out_of_memory

        if (oom := out_of_memory(exc)) is not None:
            return failure_outcome(path, oom, "memory", options)
        detail = traceback.format_exc().replace("\n", " | ") if options.debug else ""
        return failure_outcome(
            path, f"internal error: {type(exc).__name__}: {exc} {detail}".strip(), "scan", options
        )
    report = analysis.report
    if report.file.sha256 is None:
        _fill_identity(report, path)  # so that --resume recognizes a failed file
    out = _outcome(path, report)
    out.artifacts, out.thumbnail = analysis.artifacts, analysis.thumbnail
    return out


def _outcome(path: str, report: Report) -> Outcome:
    from triage.render.jsonout import report_dict, to_jsonl_line
    from triage.scan.summary import row_from_report

    data = report_dict(report)
    return Outcome(path, to_jsonl_line(data), row_from_report(data))


def failure_outcome(path: str, message: str, stage: str, options: Options) -> Outcome:
    """The outcome of a file whose worker timed out or died (built in the parent).

    The file is hashed and sniffed here so that ``--resume`` recognizes it.
    """
    from triage.pipeline import failed_report

    report = failed_report(path, message, time.perf_counter(), options, stage=stage)
    _fill_identity(report, path)
    return _outcome(path, report)


def _fill_identity(report: Report, path: str) -> None:
    """Hash and sniff a file whose analysis stopped before it did (None if unreadable)."""
    from triage.fileio import open_input, sha256_of
    from triage.sniff import sniff

    report.file.sha256 = sha256_of(path)
    try:
        with open_input(path) as fh:
            sniffed = sniff(fh.read(64))
    except OSError:
        return
    if report.file.format is None and sniffed.kind != "unknown":
        report.file.format, report.file.kind = sniffed.format, sniffed.kind  # type: ignore[assignment]


# ----------------------------------------------------------------- worker side
def _worker_main(conn: Connection, options: Options, threads: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from triage.allocator import keep_freed_memory
    from triage.limits import limit_memory

    limit_memory(options.max_memory_mb)
    limit_threads(threads)
    keep_freed_memory()  # a forkserver or spawned worker does not inherit the CLI's
    if options.threads is None:
        # The analyzers of one file share this worker's cores, not the machine's.
        options = dataclasses.replace(options, threads=threads)
    if not options.debug:
        # Decoder warnings about odd inputs ("Tag data larger than file") would
        # interleave with the progress bar; the report carries what matters.
        import warnings

        warnings.simplefilter("ignore")
    warm_up()  # no-op after the forkserver's preload; the imports of a spawned worker
    _prime(options)
    limit_threads(threads)  # again: priming loads libraries with pools of their own
    try:
        conn.send(READY)  # the parent starts a file's clock only now (--timeout)
    except (BrokenPipeError, OSError):
        return
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return  # the parent is gone
        if task is None:
            return
        index, path = task
        outcome = analyze_file(path, options)
        try:
            conn.send((index, outcome))
        except (BrokenPipeError, OSError):
            return


def _prime(options: Options) -> None:
    """Analyze a small generated JPEG once, before the worker says it is ready.

    Analyzers import their heavy libraries (scipy, lightgbm, c2pa ...) on first use:
    about a second and a half that would otherwise be charged to the worker's first
    file, so that ``--timeout 2`` failed every file a fresh worker started with. Run
    here, after the fork (C2PA's reader state does not survive one), and with
    nothing written anywhere.
    """
    import io
    import shutil
    import tempfile

    try:
        import numpy as np
        from PIL import Image

        from triage.pipeline import analyze_path

        folder = tempfile.mkdtemp(prefix="triage-prime-")
        try:
            rng = np.random.default_rng(0)
            buf = io.BytesIO()
            Image.fromarray(rng.integers(0, 255, (64, 96, 3), dtype=np.uint8)).save(buf, "JPEG")
            path = os.path.join(folder, "prime.jpg")
            with open(path, "wb") as fh:
                fh.write(buf.getvalue())
            quiet = dataclasses.replace(
                options, artifacts_dir=None, keep_artifacts=False, db_path=None, debug=False
            )
            analyze_path(path, quiet)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    except Exception:
        pass  # a failure here shows again, with its reason, on the files themselves


def limit_threads(threads: int) -> None:
    """Cap the native thread pools (OpenCV's, and numpy's BLAS and OpenMP's where
    threadpoolctl is installed) at ``threads``: a worker uses its share of the
    cores, so N workers x all-core pools do not oversubscribe the machine.

    OpenCV's own OpenBLAS keeps its threads: a report must not depend on how a file
    was run, and the tamper analyzer's image score moves with that pool's size.
    """
    try:
        import cv2

        cv2.setNumThreads(threads)
    except Exception:
        pass
    try:
        from threadpoolctl import ThreadpoolController

        from triage.pipeline import NUMPY_BLAS

        # Applies to the libraries loaded so far (numpy's OpenBLAS, lightgbm's OpenMP).
        pools = ThreadpoolController()
        pools.select(prefix=NUMPY_BLAS).limit(limits=threads)
        pools.select(user_api="openmp").limit(limits=threads)
    except Exception:
        pass


def warm_up() -> None:
    """Import the pipeline, every analyzer and the forensics modules, and load the
    analyzers' models and the calibration (run in the forkserver, before any fork).

    Workers forked afterwards share all of it: measured on a quiet machine, a worker's
    priming file (:func:`_prime`) fell from 0.54 s to about 0.1 s of wall clock.
    """
    try:
        import importlib
        import pkgutil

        import triage.forensics
        from triage.analyzers import all_analyzers
        from triage.calibration import load as load_calibration
        from triage.pipeline import analyze_path  # noqa: F401

        usable = [a for a in all_analyzers() if a.available() is None]  # optional imports
        # Loads, not analyses: running an analysis here would start library state that
        # does not survive a fork (measured: the C2PA reader then fails in every worker).
        # One thread per pool while loading (lightgbm parses its trees with OpenMP).
        limit_threads(1)
        for module in pkgutil.iter_modules(triage.forensics.__path__):
            importlib.import_module(f"triage.forensics.{module.name}")
        for analyzer in usable:
            with contextlib.suppress(Exception):
                analyzer.preload()
        import cv2  # noqa: F401
        import numpy  # noqa: F401
        import scipy.special  # noqa: F401  (the calibration's intervals)
        from PIL import Image

        import triage.xmp  # the XMP reader (metadata), imported on first use otherwise

        Image.init()  # every format plugin, not only the ones the first file needs

        load_calibration(None)
    except Exception:
        pass  # a broken analyzer fails per file, with its reason, not here


def _context(fork: bool = False) -> BaseContext:
    import multiprocessing as mp

    if fork and sys.platform.startswith("linux"):
        from triage import pipeline

        if not pipeline.analyzed_here:  # else its library state would not survive
            return mp.get_context("fork")
    if sys.platform.startswith("linux") and "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["triage.scan._preload"])
        return ctx
    return mp.get_context("spawn")


@contextlib.contextmanager
def _caller_main_hidden() -> Iterator[None]:
    """A blank ``__main__`` while a forkserver or spawned worker is started.

    Such a child imports its parent's main module before it runs (multiprocessing's
    "safe importing of the main module"): a caller's script without an ``if __name__
    == "__main__":`` guard then ran again in every worker and failed there, and a
    script piped on standard input could not be found at all; every file got "the
    worker process exited (code 1)". The worker runs triage's own code only (extra
    analyzers come by module name, TRIAGE_EXTRA_ANALYZERS), so it needs nothing of
    the caller's main module.
    """
    import types

    main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if main is not None:
            sys.modules["__main__"] = main


# ----------------------------------------------------------------- parent side
@dataclass
class _Worker:
    process: BaseProcess
    conn: Connection
    tasks: int = 0
    index: int | None = None  # the task it is on
    path: str | None = None
    deadline: float = 0.0
    ready: bool = False  # sent READY: set up, its file's clock is running


class IsolatedPool:
    """N single-file-at-a-time worker processes with a per-file timeout.

    ``run(paths)`` yields ``(index, Outcome)`` in completion order; every path
    yields exactly one outcome, including those whose worker hung or died.
    """

    def __init__(
        self,
        jobs: int,
        options: Options,
        timeout: float | None = DEFAULT_TIMEOUT,
        max_tasks: int = MAX_TASKS_PER_WORKER,
        threads: int | None = None,
        fork: bool = False,
    ) -> None:
        """``fork``: fork workers from this process instead of a forkserver. For a
        caller that has imported the pipeline already and runs no threads or
        analyses of its own (``triage check``): no second interpreter start-up."""
        self.jobs = max(1, jobs)
        self.options = options
        self.timeout = timeout if timeout and timeout > 0 else None
        self.max_tasks = max_tasks
        # ``jobs`` is the cores the pool uses in total: one worker per core, each with
        # one analyzer thread and single-threaded native pools; with fewer files than
        # cores, the workers share the spare cores out (see :meth:`run`).
        self._threads = threads
        self.threads = threads or 1
        self._ctx = _context(fork)
        self._workers: list[_Worker] = []
        self.replaced = 0

    def _spawn(self) -> _Worker:
        parent_conn, child_conn = self._ctx.Pipe(duplex=True)
        proc = self._ctx.Process(  # type: ignore[attr-defined]
            target=_worker_main,
            args=(child_conn, self.options, self.threads),
            daemon=True,
            name="triage-scan-worker",
        )
        if self._ctx.get_start_method() == "fork":
            proc.start()
        else:
            with _caller_main_hidden():
                proc.start()
        child_conn.close()
        return _Worker(proc, parent_conn)

    def _deadline(self, w: _Worker) -> float:
        now = time.monotonic()
        if not w.ready:
            return now + STARTUP_TIMEOUT
        return now + self.timeout if self.timeout else float("inf")

    def _retire(self, worker: _Worker, kill: bool) -> None:
        if kill and worker.process.is_alive():
            worker.process.kill()
        elif not kill:
            with contextlib.suppress(OSError):
                worker.conn.send(None)
        worker.process.join(timeout=None if kill else 5)
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join()
        worker.conn.close()

    def close(self) -> None:
        for w in self._workers:
            self._retire(w, kill=w.index is not None)
        self._workers = []

    def __enter__(self) -> IsolatedPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def run(self, paths: Iterable[str]) -> Iterator[tuple[int, Outcome]]:
        from multiprocessing.connection import wait

        pending: deque[tuple[int, str]] = deque(enumerate(paths))
        total = len(pending)
        done = 0
        if self._threads is None and not self._workers and total:
            self.threads = max(1, self.jobs // min(self.jobs, total))
        while len(self._workers) < min(self.jobs, total):
            self._workers.append(self._spawn())
        while done < total:
            for i, w in enumerate(self._workers):
                if w.index is None and pending:
                    if w.tasks >= self.max_tasks or not w.process.is_alive():
                        # Recycle (bounded leaks), or replace one that died between files
                        # so that its death is not blamed on the next file.
                        self._retire(w, kill=False)
                        w = self._workers[i] = self._spawn()
                    index, path = pending.popleft()
                    try:
                        w.conn.send((index, path))
                    except OSError:  # died while idle: replace and retry this file
                        pending.appendleft((index, path))
                        self._retire(w, kill=True)
                        self._workers[i] = self._spawn()
                        continue
                    w.index, w.path, w.tasks = index, path, w.tasks + 1
                    w.deadline = self._deadline(w)
            busy = [w for w in self._workers if w.index is not None]
            now = time.monotonic()
            wait_for = max(0.0, min(w.deadline for w in busy) - now) if busy else 0.0
            handles: list[Any] = [w.conn for w in busy] + [w.process.sentinel for w in busy]
            ready = set(wait(handles, timeout=None if wait_for == float("inf") else wait_for))
            gone: list[int] = []
            for i, w in enumerate(self._workers):
                if w.index is None:
                    continue
                index, path = w.index, w.path or ""
                result: Outcome | None = None
                if w.conn in ready:
                    try:
                        message = w.conn.recv()
                        if message == READY:
                            # Start-up is not the file's time: its clock starts now.
                            w.ready = True
                            w.deadline = self._deadline(w)
                            continue
                        got_index, result = message
                        assert got_index == index
                    except (EOFError, OSError):
                        result = None
                if result is not None:
                    w.index = w.path = None
                    done += 1
                    yield index, result
                    continue
                died = w.process.sentinel in ready or w.conn in ready
                if not died and time.monotonic() < w.deadline:
                    continue
                if died:
                    w.process.join(timeout=1)
                    stage, message = "crash", _death_message(w.process.exitcode)
                elif not w.ready:
                    stage, message = (
                        "timeout",
                        f"the worker did not start within {STARTUP_TIMEOUT:g} s; it was "
                        "stopped and the file was not analyzed",
                    )
                else:
                    stage, message = (
                        "timeout",
                        (
                            f"analysis took longer than the {self.timeout:g} s timeout; the worker "
                            "was stopped (raise --timeout for very large files)"
                        ),
                    )
                self._retire(w, kill=True)
                self.replaced += 1
                if pending:
                    self._workers[i] = self._spawn()
                else:
                    gone.append(i)
                done += 1
                yield index, failure_outcome(path, message, stage, self.options)
            if gone:
                self._workers = [w for i, w in enumerate(self._workers) if i not in gone]


def _death_message(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        return (
            f"the worker process died with {name} while analyzing this file (a decoder "
            "crash or the out-of-memory killer); the other files went on in a new worker"
        )
    return (
        f"the worker process exited (code {exitcode}) while analyzing this file; "
        "the other files went on in a new worker"
    )


def run_local(
    paths: list[str],
    options: Options,
    jobs: int,
    timeout: float | None,
    on_outcome: Callable[[int, Outcome], None],
    threads: int | None = None,
) -> int:
    """Run ``paths`` on an :class:`IsolatedPool`; returns how many workers were replaced.

    ``on_outcome`` gets each path's index in ``paths``. With more than one worker the
    files are started largest first, so that the scan does not end with one worker
    on a large file while the others have nothing left to do.
    """
    order = largest_first(paths) if jobs > 1 else list(range(len(paths)))
    with IsolatedPool(jobs, options, timeout, threads=threads) as pool:
        for k, outcome in pool.run([paths[i] for i in order]):
            on_outcome(order[k], outcome)
        return pool.replaced


def largest_first(paths: list[str]) -> list[int]:
    """Indices of ``paths`` by file size, largest first (ties and unreadable files in
    their given order, unreadable last).

    File size stands in for analysis time (it grows with the pixels and the length of
    a video). Starting the longest jobs first bounds the idle tail of a pool of N
    workers by about one of the shortest jobs instead of one of the longest (Graham,
    "Bounds on multiprocessing timing anomalies", SIAM J. Appl. Math. 1969).
    """

    def size(path: str) -> int:
        try:
            return os.stat(path).st_size
        except OSError:
            return -1

    sizes = [size(p) for p in paths]
    return sorted(range(len(paths)), key=lambda i: -sizes[i])


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)
