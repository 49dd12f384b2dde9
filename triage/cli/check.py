"""`triage check PATH...`: analyze files and print or write their reports."""

from __future__ import annotations

from contextlib import ExitStack
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from triage.cli.common import (
    CALIBRATION_OPTION,
    DB_OPTION,
    DEBUG_OPTION,
    MAX_DECODED_OPTION,
    MAX_MEMORY_OPTION,
    MAX_PIXELS_OPTION,
    NO_PIXELS_OPTION,
    ONLY_OPTION,
    PRIOR_OPTION,
    SKIP_OPTION,
    TIMEOUT_OPTION,
    TRUST_ANCHORS_OPTION,
    VIDEO_FRAMES_OPTION,
    build_options,
    memory_cap,
    stdout_is_terminal,
    write_atomic,
)

if TYPE_CHECKING:
    from triage.report import Report


class OutputFormat(StrEnum):
    text = "text"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"
    html = "html"


# -o FILE without -f: the format its extension names; anything else gets plain text.
SUFFIX_FORMATS = {
    ".json": OutputFormat.json,
    ".jsonl": OutputFormat.jsonl,
    ".ndjson": OutputFormat.jsonl,
    ".csv": OutputFormat.csv,
    ".html": OutputFormat.html,
    ".htm": OutputFormat.html,
    ".txt": OutputFormat.text,
}


EXAMPLES = """Examples:

\b
  triage check photo.jpg                         # table on the terminal
  triage check photo.jpg -f json | jq .questions.manipulation
  triage check a.jpg b.png clip.mp4 -o reports.jsonl   # format from the extension
  triage check *.jpg -f jsonl | jq -c .attention      # one line as each file finishes
  triage check *.jpg -o reports.json --csv summary.csv
  triage check photo.jpg --artifacts out/ --html photo.html
  triage check photo.jpg --only metadata,compression
  triage check photo.jpg -f json --with-metadata | jq '.metadata["GPS:GPSPosition"]'
  triage check photo.jpg --prior manipulation=0.1   # a desk where edits are rare
  curl -s "$URL" | triage check -                 # a file piped in (named "-")
"""


def register(app: typer.Typer) -> None:
    app.command("check", epilog=EXAMPLES)(check_command)


def check_command(
    paths: list[Path] = typer.Argument(
        ...,
        help="Image or video files to analyze; - reads one piped on standard input "
        "(curl -s URL | triage check -).",
        show_default=False,
        # Not click's check: an unreadable file is a per-file error (exit 1), not a
        # usage error that loses every other file's report.
        readable=False,
    ),
    fmt: OutputFormat | None = typer.Option(
        None,
        "--format",
        "-f",
        help="text (default on a terminal), json (default otherwise: one object for one file, "
        "an array for several), jsonl (one report per line, written as each file finishes), "
        "csv (one row per file) or html. With -o, the default comes from the file's "
        "extension (.json .jsonl .csv .html .txt).",
        case_sensitive=False,
    ),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write the reports here (atomically) instead of stdout."
    ),
    csv: Path | None = typer.Option(
        None, "--csv", help="Also write a CSV summary, one row per file (as scan --csv)."
    ),
    artifacts: Path | None = typer.Option(
        None, "--artifacts", help="Folder for heatmaps and overlays (PNG). Never beside the input."
    ),
    html: Path | None = typer.Option(
        None, "--html", help="Also write a self-contained HTML report."
    ),
    only: list[str] | None = ONLY_OPTION,
    skip: list[str] | None = SKIP_OPTION,
    prior: list[str] | None = PRIOR_OPTION,
    calibration: Path | None = CALIBRATION_OPTION,
    db: Path | None = DB_OPTION,
    max_pixels: int = MAX_PIXELS_OPTION,
    max_decoded_mb: int = MAX_DECODED_OPTION,
    max_memory: int | None = MAX_MEMORY_OPTION,
    timeout: float = TIMEOUT_OPTION,
    no_pixels: bool = NO_PIXELS_OPTION,
    video_frames: int | None = VIDEO_FRAMES_OPTION,
    trust_anchors: Path | None = TRUST_ANCHORS_OPTION,
    debug: bool = DEBUG_OPTION,
    with_metadata: bool = typer.Option(
        False,
        "--with-metadata",
        help="Add every metadata tag (as `triage meta` prints them, keys like 'EXIF:Make') "
        "under `metadata` in the JSON report.",
    ),
    jobs: int | None = typer.Option(
        None,
        "--jobs",
        "-j",
        min=1,
        help="Cores one file's analysis uses: analyzer threads side by side, and OpenCV's "
        "and BLAS's thread pools (default: all cores).",
    ),
) -> None:
    """Analyze files and report findings and scores for each of the three questions.

    Each file gets per question (manipulation, synthetic, provenance) a score, an interval,
    a band (insufficient-evidence, no-, weak-, notable-, strong-indicators; none is a
    verdict), the findings behind them and what was not checked; bad files get an error line.
    """
    if fmt is None:
        if output is not None:
            fmt = SUFFIX_FORMATS.get(output.suffix.lower(), OutputFormat.text)
        else:
            fmt = OutputFormat.text if stdout_is_terminal() else OutputFormat.json

    options = build_options(
        only=only,
        skip=skip,
        prior=prior,
        db=db,
        max_pixels=max_pixels,
        no_pixels=no_pixels,
        video_frames=video_frames,
        debug=debug,
        trust_anchors=trust_anchors,
        calibration=calibration,
        artifacts_dir=artifacts,
        keep_artifacts=html is not None or fmt is OutputFormat.html,
        threads=jobs,
        with_metadata=with_metadata,
        max_decoded_bytes=max_decoded_mb * 2**20,
        max_memory_mb=memory_cap(max_memory, 1),
    )
    # JSONL on stdout streams: each report is written as soon as its file is done.
    stream = fmt is OutputFormat.jsonl and output is None
    with ExitStack() as stack:
        paths, labels = _stdin_as_file(paths, options.max_bytes, stack)
        analyses = _collect(paths, options, timeout or None, stream, labels)
        reports = [a.report for a in analyses]
        _write(analyses, fmt, (output, csv, html), stream, no_pixels)
        failed = [r for r in reports if r.failed]
        if failed and not (fmt is OutputFormat.text and output is None):
            _name_failures(failed)
        if failed:
            raise typer.Exit(code=1)


def _write(analyses, fmt, destinations, stream, no_pixels):  # type: ignore[no-untyped-def]
    """The reports in ``fmt`` on stdout or to ``--output`` (unless JSONL already went to
    stdout as each file finished), and the ``--csv`` and ``--html`` copies:
    ``destinations`` is (``--output``, ``--csv``, ``--html``), each None when not given."""
    output, csv, html = destinations
    reports = [a.report for a in analyses]
    if fmt is OutputFormat.text and output is None:
        from rich.console import Console

        from triage.render.text import print_reports

        print_reports(reports, Console(highlight=False))
    elif not stream:
        text = _render(analyses, fmt, no_pixels=no_pixels)
        if output is not None:
            write_atomic(output, text)
        else:
            # As write_atomic writes it: a non-UTF-8 file name as \udcXX, never a raw
            # byte that makes the page or the JSON invalid UTF-8.
            typer.echo(text.encode("utf-8", "backslashreplace").decode("utf-8"), nl=False)
    if csv is not None:
        from triage.render.csv import csv_text, rows_from_reports

        write_atomic(csv, csv_text(rows_from_reports(reports)))
    if html is not None:
        from triage.render.html import write_html

        write_html(analyses, html, no_pixels=no_pixels)


def _stdin_as_file(
    paths: list[Path], max_bytes: int, stack: ExitStack
) -> tuple[list[Path], dict[str, str]]:
    """``paths`` with ``-`` replaced by a private copy of standard input (a file piped
    in: ``curl -s URL | triage check -``), and the label its report takes."""
    import sys

    from triage.api import spooled

    at = [i for i, p in enumerate(paths) if str(p) == "-"]
    if not at:
        return paths, {}
    if len(at) > 1:
        raise typer.BadParameter("'-' (standard input) can be given once", param_hint="PATHS")
    if sys.stdin is None or sys.stdin.isatty():
        raise typer.BadParameter(
            "'-' reads a file piped on standard input, and nothing is piped in "
            "(e.g. `curl -s URL | triage check -`)",
            param_hint="PATHS",
        )
    copy = stack.enter_context(spooled(sys.stdin.buffer, max_bytes))
    if copy is None:
        raise typer.BadParameter(
            f"standard input holds more than {max_bytes:,} bytes, the limit of one file",
            param_hint="PATHS",
        )
    return [Path(copy) if i in at else p for i, p in enumerate(paths)], {copy: "-"}


def _collect(paths, options, timeout, stream, labels):  # type: ignore[no-untyped-def]
    """Every file's analysis, in input order; with ``stream`` each report goes to
    stdout as a JSONL line as soon as its file is done. A report whose path is in
    ``labels`` (standard input's copy) is named by its label."""
    from triage.api import relabel

    analyses = []
    try:
        for analysis in _iter_reports(paths, options, timeout):
            if analysis.report.file.path in labels:
                relabel(analysis.report, labels[analysis.report.file.path])
            if stream:
                _emit_line(analysis.report)
            analyses.append(analysis)
    except BrokenPipeError:  # e.g. `triage check *.jpg -f jsonl | head -1`: the reader left
        import os
        import sys

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(code=1) from None
    return analyses


def _name_failures(failed: list[Report]) -> None:
    """One line per failed file on stderr: machine output goes to stdout or a file, and
    a script still needs to see which files failed and why (the text table shows it)."""
    from triage.render.escape import escape_control

    for r in failed:
        reason = "; ".join(f"{e.stage}: {e.message}" for e in r.errors)
        typer.echo(f"triage: {escape_control(r.file.path)}: {escape_control(reason)}", err=True)


def _iter_reports(paths, options, timeout):  # type: ignore[no-untyped-def]
    """Analyses in input order, each yielded as soon as its file is analyzed.

    Files run in an isolated worker process (as in scan) when a time or memory limit
    applies, so a file that hangs, crashes a decoder or exhausts memory costs its own
    report only; in this process otherwise (--timeout 0 --max-memory 0).
    """
    import sys
    from contextlib import ExitStack

    with ExitStack() as stack:
        progress = task = None
        if len(paths) > 1 and sys.stderr.isatty():
            from rich.progress import Progress

            progress = stack.enter_context(Progress(transient=True))
            task = progress.add_task("analyzing", total=len(paths))
        for index, analysis in _analyses(paths, options, timeout, stack):
            if progress is not None:
                progress.update(task, description=f"analyzed {_shown(paths[index].name)}")
                progress.advance(task)
            yield analysis


def _analyses(paths, options, timeout, stack):  # type: ignore[no-untyped-def]
    from triage.allocator import keep_freed_memory

    keep_freed_memory()  # freed memory reused between files (this process and its forks)
    if timeout or options.max_memory_mb:
        from triage.scan.runner import IsolatedPool

        threads = options.threads or _cores()
        # Forked from this process, which has imported the pipeline already: no
        # forkserver start-up (~1.5 s) for a one-file check.
        pool = stack.enter_context(IsolatedPool(1, options, timeout, threads=threads, fork=True))
        # One worker, one file at a time: outcomes come back in input order.
        for index, outcome in pool.run([str(p) for p in paths]):
            analysis = outcome.analysis()
            analysis.report.file.path = str(paths[index])
            yield index, analysis
        return
    from triage.pipeline import analyze_path_with_pictures

    if options.threads is not None:
        from triage.scan.runner import limit_threads

        limit_threads(options.threads)  # --jobs: OpenCV's and BLAS's pools too
    for index, p in enumerate(paths):
        yield index, analyze_path_with_pictures(p, options)


def _cores() -> int:
    from triage.scan.runner import default_jobs

    return default_jobs()


def _shown(name: str) -> str:
    """A file name for a rich progress line: control characters and markup escaped."""
    from rich.markup import escape

    from triage.render.escape import escape_control

    return escape(escape_control(name))


def _emit_line(report) -> None:  # type: ignore[no-untyped-def]
    import sys

    from triage.render.jsonout import to_jsonl_line

    sys.stdout.write(to_jsonl_line(report))
    sys.stdout.flush()


def _render(analyses, fmt: OutputFormat, no_pixels: bool = False) -> str:  # type: ignore[no-untyped-def]
    from triage.render import jsonout

    reports = [a.report for a in analyses]
    if fmt is OutputFormat.json:
        return jsonout.to_json(reports)
    if fmt is OutputFormat.jsonl:
        return "".join(jsonout.to_jsonl_line(r) for r in reports)
    if fmt is OutputFormat.csv:
        from triage.render.csv import csv_text, rows_from_reports

        return csv_text(rows_from_reports(reports))
    if fmt is OutputFormat.html:
        from triage.render.html import render_html

        return render_html(analyses, no_pixels=no_pixels)
    from triage.render.text import render_reports

    return render_reports(reports)
