"""Run the pipeline over a manifest in worker processes, under a timeout and a memory cap.

Each worker is a separate process that analyzes one file at a time with
:func:`triage.pipeline.analyze_path`. The parent watches the clock: a file that runs
past ``timeout`` seconds has its worker killed (by its pid) and replaced, and is
recorded as ``timeout``; a worker that dies (segfault, out of memory) is recorded as
``crash``. A worker's address space is capped with ``RLIMIT_AS`` so that a hostile
file raises ``MemoryError`` inside that worker instead of exhausting the machine.

Each file yields one *record*, a plain JSON-serializable dict::

    {"name", "path", "label", "mask", "group",
     "outcome": "ok" | "error" | "timeout" | "crash",   # error = report with error entries
     "seconds", "message",
     "questions": {q: {"score", "interval", "band", "coverage"}},
     "findings": [{"id", "analyzer", "question", "llr", "strength", "boxes"}],
     "analyzers": {name: {"status", "examined": {q: share}, "metrics": {key: number}}},
     "size": [width, height] | None}

``analyzers[...]["examined"]`` is what each analyzer reported it could examine; the
report itself does not carry it, so the worker records it as the pipeline runs.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any

from triage.evaluate.manifest import Item

Record = dict[str, Any]
DEFAULT_TIMEOUT = 120.0
DEFAULT_MAX_MEMORY_MB = 4096


@dataclass
class RunOptions:
    """What the workers run: analyzer selection, limits and parallelism."""

    jobs: int = 1
    timeout: float = DEFAULT_TIMEOUT  # seconds per file
    max_memory_mb: int | None = DEFAULT_MAX_MEMORY_MB  # per worker (RLIMIT_AS); None = no cap
    only: list[str] | None = None
    skip: list[str] | None = None
    prior: dict[str, float] = field(default_factory=dict)
    calibration: str | None = None  # calibration file (None: $TRIAGE_CALIBRATION / packaged)
    analyzer_options: dict[str, Any] = field(default_factory=dict)
    quiet_workers: bool = True  # send the workers' stderr (decoder warnings) to /dev/null
    # "module:function" with analyze_record's signature; tests swap in fakes through it.
    record_function: str = "triage.evaluate.runner:analyze_record"


# ----------------------------------------------------------------------- worker side
def analyze_record(path: str, options: RunOptions) -> dict[str, Any]:
    """Analyze one file in this process and summarize it as the result part of a record.

    Never raises for bad input: the pipeline turns it into error entries. An exception
    escaping ``analyze_path`` is a bug and is recorded as a crash by the caller.
    """
    from triage.analyzers.options import AnalyzerOptions
    from triage.pipeline import Options, analyze_path

    captured: dict[str, dict[str, Any]] = {}
    opts = Options(
        only=options.only,
        skip=options.skip,
        prior=dict(options.prior),
        calibration=options.calibration,
        analyzer_options=AnalyzerOptions.of(options.analyzer_options),
    )
    with _capture(captured):
        report = analyze_path(path, opts)
    strengths: dict[str, list[float]] = {}
    for name, entry in captured.items():
        for fid, strength in entry.pop("raw", []):
            strengths.setdefault(f"{name}/{fid}", []).append(strength)
    findings = []
    for f in report.findings:
        queue = strengths.get(f"{f.analyzer}/{f.id}")
        strength = queue.pop(0) if queue else 1.0
        boxes = f.evidence.get("boxes") if isinstance(f.evidence, dict) else None
        findings.append(
            {
                "id": f.id,
                "analyzer": f.analyzer,
                "question": f.question,
                "llr": f.llr,
                "strength": float(strength),
                "boxes": _clean_boxes(boxes),
            }
        )
    analyzers: dict[str, dict[str, Any]] = {}
    for run in report.analyzers:
        entry = captured.get(run.name, {})
        analyzers[run.name] = {
            "status": run.status,
            "examined": entry.get("examined", {}),
            "seconds": run.seconds,
            # Scalar metrics only: the calibration may use them as features.
            "metrics": _scalar_metrics(run.metrics),
        }
    questions = {
        q: {
            "score": r.score,
            "interval": list(r.interval),
            "band": r.band,
            "coverage": r.coverage,
        }
        for q, r in report.questions.items()
    }
    size = (
        [report.file.width, report.file.height]
        if report.file.width and report.file.height
        else None
    )
    return {
        "outcome": "error" if report.errors else "ok",
        "message": "; ".join(f"{e.stage}: {e.message}" for e in report.errors) or None,
        "questions": questions,
        "findings": findings,
        "analyzers": analyzers,
        "size": size,
        "format": report.file.format,
    }


class _capture:
    """Record each analyzer's ``examined`` shares and raw strengths while the pipeline runs.

    Wraps ``triage.pipeline._run_one`` for the duration of one file (in a worker, or
    in-process for tests). If the pipeline no longer has that function, nothing is
    captured and the records fall back to ``examined = 1`` for analyzers that ran ok.
    """

    def __init__(self, sink: dict[str, dict[str, Any]]) -> None:
        self.sink = sink
        self.original: Callable[..., Any] | None = None

    def __enter__(self) -> _capture:
        from triage import pipeline

        original = getattr(pipeline, "_run_one", None)
        if original is None:
            return self
        self.original = original
        sink = self.sink

        def run_one(analyzer: Any, *args: Any, **kwargs: Any) -> Any:
            run, result = original(analyzer, *args, **kwargs)
            entry: dict[str, Any] = {"status": run.status, "examined": {}, "raw": []}
            if result is not None:
                entry["examined"] = {str(q): float(v) for q, v in dict(result.examined).items()}
                entry["raw"] = [(f.id, float(f.strength)) for f in result.findings]
            sink[analyzer.name] = entry
            return run, result

        pipeline._run_one = run_one  # type: ignore[attr-defined]
        return self

    def __exit__(self, *exc: object) -> None:
        if self.original is not None:
            from triage import pipeline

            pipeline._run_one = self.original  # type: ignore[attr-defined]


def _scalar_metrics(metrics: dict[str, Any]) -> dict[str, float]:
    out = {}
    for key, value in metrics.items():
        if isinstance(value, (bool, int, float)):
            v = float(value)
            if v == v and abs(v) != float("inf"):
                out[str(key)] = v
    return out


def _clean_boxes(boxes: Any) -> list[list[float]] | None:
    if not isinstance(boxes, (list, tuple)):
        return None
    out = []
    for b in boxes:
        if isinstance(b, (list, tuple)) and len(b) == 4:
            try:
                out.append([float(v) for v in b])
            except (TypeError, ValueError):
                continue
    return out or None


def _limit_memory(max_memory_mb: int | None) -> None:
    if not max_memory_mb:
        return
    try:
        import resource

        cap = int(max_memory_mb) * 1024 * 1024
        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            cap = min(cap, hard)
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    except (ImportError, ValueError, OSError):  # not on this platform
        pass


def _silence_stderr() -> None:
    """Decoders (libtiff, libjpeg) and Pillow warn on stderr about every odd file; in a
    worker that is noise over the progress display. Errors still reach the record."""
    import warnings

    warnings.simplefilter("ignore")
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
    except OSError:
        pass


def _worker_main(conn: Connection, options: RunOptions) -> None:
    _limit_memory(options.max_memory_mb)
    if options.quiet_workers:
        _silence_stderr()
    try:
        import cv2

        cv2.setNumThreads(1)  # one file per core; no oversubscription
    except Exception:
        pass
    try:
        from triage.analyzers import select

        select(options.only, options.skip)  # import analyzer modules once per worker
    except Exception:
        pass
    import importlib

    module_name, func_name = options.record_function.split(":")
    record = getattr(importlib.import_module(module_name), func_name)
    conn.send(READY)  # the parent starts a file's clock only once the worker is ready
    while True:
        try:
            task = conn.recv()
        except EOFError:
            return
        if task is None:
            return
        index, path = task
        t0 = time.perf_counter()
        try:
            result = record(path, options)
        except MemoryError:
            result = {"outcome": "crash", "message": "MemoryError escaped the pipeline"}
        except Exception as exc:  # a bug: analyze_path must not raise for bad input
            from triage.errors import one_line

            result = {"outcome": "crash", "message": f"pipeline raised {one_line(exc)}"}
        result["seconds"] = round(time.perf_counter() - t0, 3)
        try:
            conn.send((index, result))
        except Exception as exc:  # unpicklable result: report it, keep going
            conn.send((index, {"outcome": "crash", "message": f"result not sendable: {exc}"}))


# ----------------------------------------------------------------------- parent side
READY = "ready"
STARTUP_TIMEOUT = 300.0  # seconds for a worker to import the analyzers (a loaded machine)


@dataclass
class _Slot:
    process: Any
    conn: Connection
    started: float  # when spawned, or when its current task was sent
    ready: bool = False
    task: int | None = None


def _base_record(item: Item) -> Record:
    return {
        "name": item.name or str(item.path),
        "path": str(item.path),
        "label": item.label,
        "mask": str(item.mask) if item.mask else None,
        "group": item.group,
    }


def _context() -> Any:
    # spawn, not fork: a forked child inherits locks held by the parent's threads
    # (native libraries' thread pools) and can deadlock on its first decode.
    return mp.get_context("spawn")


def run_manifest(
    items: Iterable[Item],
    options: RunOptions | None = None,
    progress: Callable[[int, int, Record], None] | None = None,
) -> list[Record]:
    """Analyze every item; records come back in manifest order.

    ``progress(done, total, record)`` is called as each file finishes. Raises
    ``RuntimeError`` only if a worker cannot start at all (broken installation).
    """
    opts = options or RunOptions()
    todo = list(items)
    records: list[Record | None] = [None] * len(todo)
    if not todo:
        return []
    ctx = _context()
    slots: list[_Slot] = []

    def spawn() -> _Slot:
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_worker_main, args=(child, opts), daemon=True)
        proc.start()
        child.close()
        return _Slot(proc, parent, time.monotonic())

    def finish(index: int, result: dict[str, Any]) -> None:
        rec = _base_record(todo[index])
        rec.update(result)
        records[index] = rec
        if progress is not None:
            progress(sum(r is not None for r in records), len(todo), rec)

    def retire(slot: _Slot) -> None:
        if slot.process.is_alive():
            slot.process.kill()
        slot.process.join(5)
        slot.conn.close()

    def deadline(slot: _Slot) -> float:
        return slot.started + (opts.timeout if slot.ready else STARTUP_TIMEOUT)

    pending = list(range(len(todo)))
    pending.reverse()
    try:
        for _ in range(max(1, min(opts.jobs, len(todo)))):
            slots.append(spawn())
        while pending or any(s.task is not None for s in slots):
            for slot in slots:
                if slot.ready and slot.task is None and pending:
                    index = pending.pop()
                    slot.conn.send((index, str(todo[index].path)))
                    slot.task, slot.started = index, time.monotonic()
            watched = [s for s in slots if s.task is not None or not s.ready]
            now = time.monotonic()
            wait_for = min(max(0.0, deadline(s) - now) for s in watched)
            ready = wait([s.conn for s in watched], timeout=wait_for + 0.01)
            now = time.monotonic()
            for i, slot in enumerate(slots):
                if slot not in watched:
                    continue
                if slot.conn in ready:
                    try:
                        message = slot.conn.recv()
                    except (EOFError, OSError):
                        slot.process.join(5)
                        code = slot.process.exitcode
                        if slot.task is None:
                            raise RuntimeError(
                                f"an evaluation worker could not start (exit code {code})"
                            ) from None
                        finish(
                            slot.task,
                            {
                                "outcome": "crash",
                                "message": f"worker died (exit code {code})",
                                "seconds": round(now - slot.started, 3),
                            },
                        )
                        retire(slot)
                        slots[i] = spawn()
                        continue
                    if message == READY:
                        slot.ready = True
                        continue
                    index, result = message
                    finish(index, result)
                    slot.task = None
                elif now >= deadline(slot):
                    if slot.task is None:
                        raise RuntimeError(
                            f"an evaluation worker did not start within {STARTUP_TIMEOUT:g} s"
                        )
                    finish(
                        slot.task,
                        {
                            "outcome": "timeout",
                            "message": f"no result after {opts.timeout:g} s; worker killed",
                            "seconds": round(now - slot.started, 3),
                        },
                    )
                    retire(slot)
                    slots[i] = spawn()
    finally:
        for slot in slots:
            try:
                if slot.task is None and slot.process.is_alive():
                    slot.conn.send(None)
                    slot.process.join(2)
            except (OSError, BrokenPipeError):
                pass
            retire(slot)
    return [r for r in records if r is not None]


def run_in_process(items: Iterable[Item], options: RunOptions | None = None) -> list[Record]:
    """The same records without worker processes (no timeout or memory cap; for tests)."""
    opts = options or RunOptions()
    out = []
    for item in items:
        t0 = time.perf_counter()
        rec = _base_record(item)
        rec.update(analyze_record(str(item.path), opts))
        rec["seconds"] = round(time.perf_counter() - t0, 3)
        out.append(rec)
    return out


def default_jobs() -> int:
    return max(1, min(4, (os.cpu_count() or 1)))
