"""`triage scan DIR...`: analyze every media file under folders, isolated per file,
streamed to JSONL, resumable, on this machine or a Dask cluster."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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
    TRUST_ANCHORS_OPTION,
    VIDEO_FRAMES_OPTION,
    build_options,
    memory_cap,
    usage_error,
)

EXAMPLES = """Examples:

\b
  triage scan inbox/ -o inbox.jsonl --csv inbox.csv
  triage scan inbox/ -o inbox.jsonl --resume        # after a crash or Ctrl-C
  triage scan archive/ -j 8 --timeout 300 --exclude '.*' --include '*.jpg'
  triage scan inbox/ > inbox.jsonl                  # JSONL on stdout, summary on stderr
  triage scan /mnt/shared/archive --scheduler tcp://10.0.0.5:8786 -o archive.jsonl
  triage scan inbox/ --html inbox.html --no-pixels  # visual page without pixels
  triage scan photos/ --group-distance 4 -o p.jsonl  # stricter near-duplicate groups

Non-media files are listed as skipped, not failed. Exit code 0 when every media
file was analyzed, 1 when some failed (reasons in the summary and the JSONL),
2 usage error. Scaling to a cluster: docs/scaling.md.
"""


def register(app: typer.Typer) -> None:
    app.command("scan", epilog=EXAMPLES)(scan_command)


def scan_command(
    roots: list[Path] = typer.Argument(
        ...,
        help="Folders (or files) to scan, recursively.",
        show_default=False,
        readable=False,  # the walker reports an unreadable one with its reason
    ),
    jobs: int | None = typer.Option(
        None,
        "--jobs",
        "-j",
        help="Cores the scan uses in total (default: all): one worker process per core, "
        "each running one file's analyzers on one thread, so --jobs 1 is a one-core scan. "
        "Ignored with --scheduler.",
        min=1,
    ),
    output: Path | None = typer.Option(
        None,
        "--output",
        "-o",
        help="JSONL file, one report per line, written as each file finishes. Default: stdout "
        "when it is not a terminal, otherwise none.",
    ),
    csv: Path | None = typer.Option(
        None, "--csv", help="Also write a CSV summary, one row per file."
    ),
    html: Path | None = typer.Option(
        None, "--html", help="Also write an HTML report of the batch."
    ),
    resume: bool = typer.Option(
        False,
        "--resume",
        help="Keep --output and skip files whose path and sha256 are already in it (a torn "
        "last line from a kill is cut off). A file changed since is analyzed again and its "
        "old report replaced; a damaged line is reported, removed, and its file analyzed again.",
    ),
    retry_failed: bool = typer.Option(
        False,
        "--retry-failed",
        help="With --resume: analyze again the files whose earlier report has errors "
        "(a crashed or timed-out worker, memory, a file unreadable then); their old "
        "reports are replaced.",
    ),
    include: list[str] | None = typer.Option(
        None, "--include", help="Only files matching this glob (name or relative path); repeatable."
    ),
    exclude: list[str] | None = typer.Option(
        None,
        "--exclude",
        help="Leave out files and folders matching this glob; repeatable. "
        "'.*' leaves out hidden ones.",
    ),
    follow_symlinks: bool = typer.Option(
        False,
        "--follow-symlinks",
        help="Follow links that point outside the scanned folders (links inside are always followed; loops are cut).",
    ),
    max_bytes: int | None = typer.Option(
        None,
        "--max-bytes",
        help="Skip files larger than this many bytes (listed as skipped).",
        min=1,
    ),
    timeout: float = typer.Option(
        120.0,
        "--timeout",
        help="Seconds per file, counted from when its worker is ready (start-up is not "
        "counted); a file over it gets an error entry and its worker is replaced. 0 = none.",
        min=0,
    ),
    db: Path | None = DB_OPTION,
    scheduler: str | None = typer.Option(
        None,
        "--scheduler",
        help="Dask scheduler address (tcp://host:8786): run on a cluster. Files must be "
        "readable by the workers at the same paths. Needs `pip install 'triage[dask]'`.",
    ),
    only: list[str] | None = ONLY_OPTION,
    skip: list[str] | None = SKIP_OPTION,
    prior: list[str] | None = PRIOR_OPTION,
    calibration: Path | None = CALIBRATION_OPTION,
    max_pixels: int = MAX_PIXELS_OPTION,
    max_decoded_mb: int = MAX_DECODED_OPTION,
    max_memory: int | None = MAX_MEMORY_OPTION,
    no_pixels: bool = NO_PIXELS_OPTION,
    video_frames: int | None = VIDEO_FRAMES_OPTION,
    trust_anchors: Path | None = TRUST_ANCHORS_OPTION,
    top: int = typer.Option(
        25, "--top", help="Rows of the summary table (highest attention first)."
    ),
    group_distance: int = typer.Option(
        8,
        "--group-distance",
        min=0,
        max=64,
        help="Near-duplicate groups: files whose 64-bit pHashes differ in at most this many "
        "bits (an explicit threshold, as imagededup's). 0 = same picture after re-encoding "
        "only; higher groups more loosely (crops, edits) with more false groupings.",
    ),
    debug: bool = DEBUG_OPTION,
) -> None:
    """Scan folders: every media file analyzed in an isolated worker, streamed to JSONL.

    Files are chosen by their sniffed type, not their extension. Each file runs in a
    worker process with a timeout; a file that hangs or crashes its worker gets an error
    entry and the scan goes on. Killing the scan loses nothing already written, and
    --resume continues where it stopped. At the end: files by attention, counts per
    band, near-duplicate groups, failures with reasons.
    """
    _scan(**locals())


def _scan(
    *,
    roots: list[Path],
    jobs: int | None,
    output: Path | None,
    csv: Path | None,
    html: Path | None,
    resume: bool,
    retry_failed: bool,
    include: list[str] | None,
    exclude: list[str] | None,
    follow_symlinks: bool,
    max_bytes: int | None,
    timeout: float,
    db: Path | None,
    scheduler: str | None,
    only: list[str] | None,
    skip: list[str] | None,
    prior: list[str] | None,
    calibration: Path | None,
    max_pixels: int,
    max_decoded_mb: int,
    max_memory: int | None,
    no_pixels: bool,
    video_frames: int | None,
    trust_anchors: Path | None,
    top: int,
    group_distance: int,
    debug: bool,
) -> None:
    """The scan behind ``scan_command``, with its options parsed."""
    import sys

    from triage.scan import scan
    from triage.scan.core import LineProgress, RichProgress
    from triage.scan.runner import default_jobs
    from triage.scan.walker import WalkError

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
        max_decoded_bytes=max_decoded_mb * 2**20,
        max_memory_mb=memory_cap(max_memory, jobs or default_jobs()),
        calibration=calibration,
    )
    if resume and output is None:
        raise usage_error("--resume needs --output FILE.jsonl (the file to resume)")
    if retry_failed and not resume:
        raise usage_error("--retry-failed goes with --resume (it retries the failures in --output)")
    if scheduler is not None:
        try:
            import distributed  # noqa: F401
        except ImportError:
            raise usage_error(
                "--scheduler needs dask.distributed: pip install 'triage[dask]'"
            ) from None
    jsonl_to_stdout = output is None and not sys.stdout.isatty()
    target: str | Path | None = output if output is not None else ("-" if jsonl_to_stdout else None)
    progress = RichProgress() if sys.stderr.isatty() else LineProgress()
    try:
        result = scan(
            [str(r) for r in roots],
            options,
            jobs=jobs,
            output=target,
            resume=resume,
            retry_failed=retry_failed,
            include=include or (),
            exclude=exclude or (),
            follow_symlinks=follow_symlinks,
            max_bytes=max_bytes,
            timeout=timeout or None,
            scheduler=scheduler,
            keep_reports=html is not None,
            progress=progress,
        )
    except WalkError as exc:
        raise usage_error(str(exc)) from None
    except BrokenPipeError:  # e.g. `triage scan DIR | head`: the reader left
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(code=1) from None
    except KeyboardInterrupt:
        typer.echo(
            "triage: interrupted; reports written so far are complete"
            + (f"; continue with --resume --output {output}" if output else ""),
            err=True,
        )
        raise typer.Exit(code=130) from None

    from rich.console import Console

    console = Console(stderr=jsonl_to_stdout, highlight=False)
    if result.torn_bytes:
        console.print(f"resume: cut a torn last line ({result.torn_bytes} bytes) off {output}")
    from triage.render.scansummary import render_summary

    result.summary.group_distance = group_distance
    render_summary(result.summary, console, top=top)
    if csv is not None:
        from triage.render.csv import write_csv

        write_csv(result.summary.rows, csv, result.summary.skipped)
    if html is not None:
        _write_html(result.reports, html, console, no_pixels, group_distance)
    raise typer.Exit(code=result.exit_code)


def _write_html(
    reports: list[Any], html: Path, console: Any, no_pixels: bool, group_distance: int
) -> None:
    try:
        from triage.render.html import write_html
    except ImportError:
        console.print("[yellow]--html: the HTML renderer is not installed in this build[/yellow]")
        return
    from triage.render.scansummary import printable

    for analysis in reports:  # a non-UTF-8 file name, shown with \xNN escapes
        analysis.report.file.path = printable(analysis.report.file.path)
    write_html(reports, html, no_pixels=no_pixels, group_distance=group_distance)
