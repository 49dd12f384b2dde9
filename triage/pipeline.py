"""Runs the applicable analyzers on one file and assembles its report.

Each analyzer is independent: one that raises gets status ``error`` with a
one-line message and the others go on. Nothing here knows what an analyzer does.
"""

from __future__ import annotations

import math
import re
import time
import traceback
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from triage.analyzers import select
from triage.analyzers.base import Analyzer, AnalyzerResult, Artifact, Context
from triage.analyzers.options import AnalyzerOptions
from triage.calibration import Calibration, FileEvidence
from triage.calibration import load as load_calibration
from triage.errors import MediaError, one_line
from triage.fileio import atomic_file
from triage.media import DEFAULT_MAX_BYTES, DEFAULT_MAX_DECODED_BYTES, DEFAULT_MAX_PIXELS, Media
from triage.report import (
    QUESTIONS,
    AnalyzerRun,
    ArtifactRef,
    CalibrationInfo,
    ErrorEntry,
    FileInfo,
    Finding,
    Report,
    ToolInfo,
)
from triage.scoring import AnalyzerOutcome, attention, score_all, to_finding
from triage.version import __version__


@dataclass
class Options:
    only: list[str] | None = None
    skip: list[str] | None = None
    artifacts_dir: str | Path | None = None
    keep_artifacts: bool = False  # keep PNG bytes in memory (HTML report)
    no_pixels: bool = False
    max_pixels: int = DEFAULT_MAX_PIXELS
    max_bytes: int = DEFAULT_MAX_BYTES
    max_decoded_bytes: int = DEFAULT_MAX_DECODED_BYTES  # full-resolution decode budget
    prior: dict[str, float] = field(default_factory=dict)
    # Calibration file (None: $TRIAGE_CALIBRATION, else the packaged one).
    calibration: str | Path | None = None
    db_path: str | Path | None = None
    debug: bool = False
    # Typed per analyzer (AnalyzerOptions); a mapping of dotted keys is parsed.
    analyzer_options: AnalyzerOptions = field(default_factory=AnalyzerOptions)
    # Address-space cap (MB) of the worker process that runs this; None: no cap. Set
    # by the worker itself (triage.limits), so the library API never caps its caller.
    max_memory_mb: int | None = None
    # Threads running one file's analyzers side by side (None: one per core). A scan
    # worker sets its share of --jobs (1 when there are as many files as cores), so
    # N workers x threads never exceed the cores the scan was given.
    threads: int | None = None
    # Add every metadata tag (triage.metadump, exiftool -j -G style) under `metadata`.
    with_metadata: bool = False

    def __post_init__(self) -> None:
        self.analyzer_options = AnalyzerOptions.of(self.analyzer_options)


# Long side of the thumbnail kept with an analysis (the HTML report shows it).
THUMBNAIL_SIDE = 320


@dataclass
class Analysis:
    """A report and the pictures that travel with it in memory (never serialized).

    ``artifacts`` holds the PNG bytes of each ``report.artifacts`` entry, and
    ``thumbnail`` a small JPEG of the picture as analyzed or of a video's poster
    frame (in the stored grid: a display turn is the renderer's), both only with
    ``Options.keep_artifacts`` and never with ``no_pixels``. Renderers take them from here and never open the input again.
    """

    report: Report
    artifacts: list[bytes] = field(default_factory=list)
    thumbnail: bytes | None = None


def analyze_path(path: str | Path, options: Options | None = None) -> Report:
    """Analyze one file; never raises for bad input (the report carries the error)."""
    return analyze_path_with_pictures(path, options).report


def analyze_path_with_pictures(path: str | Path, options: Options | None = None) -> Analysis:
    """:func:`analyze_path`, with the artifact PNGs and the thumbnail kept in memory
    (when ``keep_artifacts``). What decoders warn about meanwhile goes into the report."""
    from triage.libwarnings import captured

    opts = options or Options()
    started = time.perf_counter()
    analyzers = select(opts.only, opts.skip)  # ValueError for unknown names: a usage error
    load_calibration(opts.calibration)  # ValueError for a bad calibration file: a usage error
    with captured() as library_warnings:
        try:
            media = Media.open(
                path,
                max_pixels=opts.max_pixels,
                max_bytes=opts.max_bytes,
                max_decoded_bytes=opts.max_decoded_bytes,
            )
        except MediaError as exc:
            analysis = Analysis(failed_report(str(path), str(exc), started, opts))
        else:
            analysis = analyze_media_with_pictures(
                media, analyzers, opts, started, display_path=str(path)
            )
    analysis.report.warnings = library_warnings
    return analysis


# True once this process has run an analysis: some libraries (the C2PA reader) start
# state then that a forked child cannot use, so worker pools fork only from a process
# that has not (triage.scan.runner).
analyzed_here = False


def analyze_media(
    media: Media,
    analyzers: list[Analyzer],
    opts: Options,
    started: float | None = None,
    display_path: str | None = None,
) -> Report:
    """The report of an opened file (see :func:`analyze_path`)."""
    return analyze_media_with_pictures(media, analyzers, opts, started, display_path).report


def analyze_media_with_pictures(
    media: Media,
    analyzers: list[Analyzer],
    opts: Options,
    started: float | None = None,
    display_path: str | None = None,
) -> Analysis:
    global analyzed_here
    analyzed_here = True
    started = time.perf_counter() if started is None else started
    ctx = Context(
        want_artifacts=bool(opts.artifacts_dir) or opts.keep_artifacts,
        no_pixels=opts.no_pixels,
        db_path=Path(opts.db_path) if opts.db_path else None,
        options=opts.analyzer_options,
    )
    runs: list[AnalyzerRun] = []
    findings: list[Finding] = []
    outcomes: list[AnalyzerOutcome] = []
    evidence = FileEvidence()
    calibration = load_calibration(opts.calibration)
    errors: list[ErrorEntry] = []
    produced: list[tuple[str, Artifact]] = []
    header_error = media.video_header_error
    if header_error:
        errors.append(ErrorEntry(stage="open", message=header_error))
    selected = {a.name for a in analyzers}
    from triage.analyzers import all_analyzers

    applicable = [a for a in all_analyzers() if a.applies_to(media)]
    to_run = [a for a in applicable if a.name in selected]
    done = dict(zip(to_run, _run_all(to_run, media, ctx, opts), strict=True))
    for analyzer in applicable:
        if analyzer not in done:
            outcomes.append(AnalyzerOutcome(analyzer.name, "excluded", {}))
            continue
        run, result, run_errors = done[analyzer]
        # Merged in registry order, whatever order the threads finished in.
        for entry in run_errors:
            if entry.stage != "decode" or not any(e.message == entry.message for e in errors):
                errors.append(entry)
        runs.append(run)
        evidence.analyzers[analyzer.name] = (run.status, dict(result.examined) if result else {})
        if result is None:
            outcomes.append(AnalyzerOutcome(analyzer.name, run.status, {}, run.message))
            continue
        evidence.metrics[analyzer.name] = _scalars(result.metrics)
        for raw in result.findings:
            evidence.add_finding(raw.id, raw.question, raw.strength)
        outcomes.append(
            AnalyzerOutcome(
                analyzer.name,
                run.status,
                result.examined,
                result.skipped_reason or (result.not_checked[0] if result.not_checked else None),
                analyzer.metrics_title,
                dict(analyzer.trait_words),
            )
        )
        findings.extend(to_finding(analyzer.name, raw, calibration) for raw in result.findings)
        produced.extend((analyzer.name, art) for art in result.artifacts)
    _check_decodes(media, errors)
    for a in (a for a in analyzers if not a.applies_to(media)):
        runs.append(
            AnalyzerRun(
                name=a.name,
                version=a.version,
                status="not-applicable",
                seconds=0.0,
                message=f"does not apply to {media.format} files",
            )
        )
    questions = score_all(findings, outcomes, evidence, calibration, opts.prior)
    report = Report(
        tool=ToolInfo(version=__version__),
        file=_file_info(media, display_path),
        analyzed_at=_now(),
        seconds=round(time.perf_counter() - started, 4),
        questions=questions,
        attention=attention(questions),
        findings=findings,
        analyzers=runs,
        artifacts=[],
        errors=errors,
        calibration=calibration_info(calibration),
    )
    if opts.with_metadata:
        from triage.metadump import dump

        report.metadata = dump(media)
    pngs = _attach_artifacts(report, produced, opts)
    if not opts.keep_artifacts:
        return Analysis(report)
    return Analysis(report, pngs, _thumbnail(media, opts))


def _thumbnail(media: Media, opts: Options) -> bytes | None:
    """A small JPEG of the decoded picture or of a video's poster frame, in the stored
    grid; None with --no-pixels or when nothing decodes."""
    if opts.no_pixels:
        return None
    import io

    from PIL import Image

    if media.kind == "video":
        from triage.video.poster import poster_frame

        poster = poster_frame(media.path, THUMBNAIL_SIDE)
        if poster is None:
            return None
        rgb = poster
    else:
        try:
            rgb = media.reduced(THUMBNAIL_SIDE)
        except MediaError:
            return None
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=80, optimize=True)
    return buf.getvalue()


def calibration_info(calibration: Calibration) -> CalibrationInfo:
    return CalibrationInfo(
        name=calibration.name,
        version=calibration.version,
        sha256=calibration.sha256,
        source=calibration.source,
    )


def _scalars(metrics: dict[str, Any]) -> dict[str, float]:
    out = {}
    for key, value in metrics.items():
        if isinstance(value, (bool, int, float)) and math.isfinite(float(value)):
            out[str(key)] = float(value)
    return out


def _check_decodes(media: Media, errors: list[ErrorEntry]) -> None:
    """Make sure a broken image is reported even when no pixel analyzer ran."""
    if media.kind != "image" or media.decoded() or errors:
        return
    try:
        media.image()
    except MediaError as exc:
        errors.append(ErrorEntry(stage="decode", message=str(exc)))


_Done = tuple[AnalyzerRun, AnalyzerResult | None, list[ErrorEntry]]


def _run_all(analyzers: list[Analyzer], media: Media, ctx: Context, opts: Options) -> list[_Done]:
    """Each analyzer's run, its result and its own errors, in the order given.

    With more than one thread the analyzers run side by side: their heavy parts
    (Pillow decode, OpenCV, numpy's BLAS) release the GIL, and ``Media`` computes
    each shared piece once whichever thread asks first.
    """
    threads = opts.threads if opts.threads is not None else _cores()

    def one(analyzer: Analyzer) -> _Done:
        errs: list[ErrorEntry] = []
        run, result = _run_one(analyzer, media, ctx, opts, errs)
        return run, result, errs

    with _single_threaded_pools():
        if threads <= 1 or len(analyzers) < 2:
            return [one(a) for a in analyzers]
        from concurrent.futures import ThreadPoolExecutor

        # Longest first (as measured on this process's earlier files), so that the
        # slowest analyzer is not the last one started while the other threads idle.
        # Only the start order changes; results are returned in the order given.
        order = sorted(analyzers, key=lambda a: -_SECONDS.get(a.name, 0.0))
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="analyzer") as pool:
            futures = {a: pool.submit(one, a) for a in order}
            done = [futures[a].result() for a in analyzers]
    for a, (run, _, _) in zip(analyzers, done, strict=True):
        if run.status == "ok":  # running mean, recent files weighted more
            _SECONDS[a.name] = 0.7 * _SECONDS.get(a.name, run.seconds) + 0.3 * run.seconds
    return done


# Seconds each analyzer took on this process's recent files (start-order hint only).
_SECONDS: dict[str, float] = {}


def _single_threaded_pools() -> Any:
    """numpy's and scipy's BLAS on one thread while a file's analyzers run: the
    analyzers are the parallelism (side by side in threads, or one core when
    ``threads`` is 1), and OpenBLAS's own threads spin while they wait for work. On 10
    camera JPEGs (2 cores) the pipeline spent 14% less CPU time and 16% less wall time.
    Reports do not change (fixtures and corpus compared, timings aside). OpenCV's own
    OpenBLAS is left as it is: the tamper analyzer's image score moves with its thread
    count (0.185 against 0.083 on fixtures/watermark/sd1_marked.png).
    """
    import contextlib

    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # an optional speed-up
        return contextlib.nullcontext()
    return ThreadpoolController().select(prefix=NUMPY_BLAS).limit(limits=1)


# Library prefixes of numpy's and scipy's OpenBLAS builds (threadpoolctl's "prefix").
NUMPY_BLAS = ["libscipy_openblas", "libopenblas64_", "libmkl_rt"]


def _cores() -> int:
    import os

    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _run_one(
    analyzer: Analyzer,
    media: Media,
    ctx: Context,
    opts: Options,
    errors: list[ErrorEntry],
) -> tuple[AnalyzerRun, AnalyzerResult | None]:
    t0 = time.perf_counter()
    unavailable = analyzer.available()
    if unavailable:
        return _run(analyzer, "unavailable", t0, unavailable), None
    try:
        result = analyzer.run(media, ctx)
    except MediaError as exc:
        # The file itself is broken (e.g. truncated pixels): one error for the file.
        msg = str(exc)
        if not any(e.message == msg for e in errors):
            errors.append(ErrorEntry(stage="decode", message=msg))
        return _run(analyzer, "skipped", t0, msg), None
    except Exception as exc:
        from triage.limits import out_of_memory

        if (oom := out_of_memory(exc)) is not None:
            errors.append(ErrorEntry(stage=analyzer.name, message=oom))
            return _run(analyzer, "error", t0, oom), None
        msg = one_line(exc)
        if opts.debug:
            msg += " | " + traceback.format_exc().replace("\n", " | ")
        errors.append(ErrorEntry(stage=analyzer.name, message=f"analyzer failed: {one_line(exc)}"))
        return _run(analyzer, "error", t0, msg), None
    undeclared = sorted({f.id for f in result.findings} - set(analyzer.finding_ids))
    if undeclared:  # a typo would otherwise weigh nothing, silently
        msg = f"emitted undeclared finding id(s) {', '.join(undeclared)} (see finding_ids)"
        errors.append(ErrorEntry(stage=analyzer.name, message=f"analyzer failed: {msg}"))
        return _run(analyzer, "error", t0, msg), None
    status = "skipped" if result.skipped_reason else "ok"
    run = _run(analyzer, status, t0, result.skipped_reason)
    run.not_checked = list(result.not_checked)
    run.metrics = dict(result.metrics)
    return run, result


def _run(analyzer: Analyzer, status: str, t0: float, message: str | None) -> AnalyzerRun:
    return AnalyzerRun(
        name=analyzer.name,
        version=analyzer.version,
        status=status,  # type: ignore[arg-type]
        seconds=round(time.perf_counter() - t0, 4),
        message=message,
    )


def _attach_artifacts(
    report: Report, produced: list[tuple[str, Artifact]], opts: Options
) -> list[bytes]:
    """Write artifacts under --artifacts (never next to the input) and reference them;
    the PNG bytes of each reference, in order."""
    data: list[bytes] = []
    out_dir = Path(opts.artifacts_dir) if opts.artifacts_dir else None
    stem = _safe_stem(report.file)
    for analyzer_name, art in produced:
        if opts.no_pixels and art.contains_pixels:
            continue
        ref = ArtifactRef(
            kind=art.kind,
            analyzer=analyzer_name,
            title=art.title,
            contains_pixels=art.contains_pixels,
        )
        if out_dir is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
            target = out_dir / f"{stem}.{art.kind}.png"
            with atomic_file(target) as fh:
                fh.write(art.png)
            ref.path = str(target)
        report.artifacts.append(ref)
        data.append(art.png)
    return data


def _safe_stem(info: FileInfo) -> str:
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(info.path).stem)[:60] or "file"
    return f"{name}-{(info.sha256 or '0' * 8)[:8]}"


def _file_info(media: Media, display_path: str | None) -> FileInfo:
    return FileInfo(
        path=display_path or str(media.path),
        sha256=media.sha256,
        format=media.format,
        kind=media.kind,  # type: ignore[arg-type]
        extension=media.extension,
        bytes=media.size,
        width=media.width,
        height=media.height,
        duration=media.duration,
        frames=media.frames,
        orientation=media.orientation,
        mtime=media.mtime,
    )


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def failed_report(
    path: str, message: str, started: float, opts: Options, stage: str = "open"
) -> Report:
    """The report of a file that could not be analyzed at all."""
    try:
        calibration = load_calibration(opts.calibration)
    except ValueError:
        from triage.calibration import packaged

        calibration = packaged()
    questions = score_all([], [], FileEvidence(), calibration, opts.prior)
    info = FileInfo(path=path, extension=Path(path).suffix.lower() or None)
    try:
        st = Path(path).stat()
        info.bytes = st.st_size
        info.mtime = st.st_mtime
    except OSError:
        pass
    for q in QUESTIONS:
        questions[q].statement = f"Nothing could be examined: {message}."
    return Report(
        tool=ToolInfo(version=__version__),
        file=info,
        analyzed_at=_now(),
        seconds=round(time.perf_counter() - started, 4),
        questions=questions,
        attention=0.0,
        errors=[ErrorEntry(stage=stage, message=message)],
        calibration=calibration_info(calibration),
    )
