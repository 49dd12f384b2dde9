"""Helpers shared by CLI commands: option parsing, atomic output, consoles."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from triage.fileio import write_atomic

if TYPE_CHECKING:
    from triage.pipeline import Options

__all__ = [
    "CALIBRATION_OPTION",
    "DB_OPTION",
    "DEBUG_OPTION",
    "MAX_DECODED_OPTION",
    "MAX_MEMORY_OPTION",
    "MAX_PIXELS_OPTION",
    "NO_PIXELS_OPTION",
    "ONLY_OPTION",
    "PRIOR_OPTION",
    "SKIP_OPTION",
    "TIMEOUT_OPTION",
    "TRUST_ANCHORS_OPTION",
    "VIDEO_FRAMES_OPTION",
    "build_options",
    "memory_cap",
    "parse_priors",
    "read_trust_anchors",
    "split_names",
    "stdout_is_terminal",
    "usage_error",
    "write_atomic",
]

# Options shared by `check` and `scan`, declared once so they mean the same in both.
ONLY_OPTION = typer.Option(
    None, "--only", help="Run only these analyzers (comma-separated; see `triage analyzers`)."
)
SKIP_OPTION = typer.Option(None, "--skip", help="Do not run these analyzers.")
PRIOR_OPTION = typer.Option(
    None,
    "--prior",
    help="Prior probability, QUESTION=P or P for all (default 0.5). Base rates differ "
    "between a newsroom inbox and a moderation queue; the report states the prior used.",
)
CALIBRATION_OPTION = typer.Option(
    None,
    "--calibration",
    envvar="TRIAGE_CALIBRATION",
    help="Calibration file (from `triage calibrate`) instead of the packaged one; "
    "every report names the calibration it used.",
)
DB_OPTION = typer.Option(
    None, "--db", envvar="TRIAGE_DB", help="Reference hash store (SQLite) for provenance."
)
MAX_PIXELS_OPTION = typer.Option(
    200_000_000, "--max-pixels", help="Refuse images declaring more pixels (bomb guard)."
)
MAX_DECODED_OPTION = typer.Option(
    1024,
    "--max-decoded-mb",
    min=1,
    help="Memory budget of one full-resolution decode, estimated from the header (pixels x "
    "bytes per pixel). Over it, only analyzers that work on a reduction see the pixels.",
)
MAX_MEMORY_OPTION = typer.Option(
    None,
    "--max-memory",
    min=0,
    help="Address-space cap per worker process in MB (default: sized to this machine's "
    "memory and --jobs; 0 = none). A file that hits it gets an error, the others go on.",
)
TIMEOUT_OPTION = typer.Option(
    120.0,
    "--timeout",
    min=0,
    help="Seconds per file, counted from when its worker is ready (start-up is not "
    "counted); a file over it gets an error entry and its worker is replaced. 0 = none.",
)
NO_PIXELS_OPTION = typer.Option(
    False,
    "--no-pixels",
    envvar="TRIAGE_NO_PIXELS",
    help="Write no thumbnails, heatmaps or contact sheets (sensitive material). "
    "Hashes, findings and scores never need pixels.",
)
VIDEO_FRAMES_OPTION = typer.Option(
    None,
    "--video-frames",
    min=4,
    help="Video frames sampled for image evidence (default 48: a 1-minute 1080p clip "
    "in under 15 s on 2 cores). More frames: finer time spans, longer runs.",
)
DEBUG_OPTION = typer.Option(False, "--debug", help="Show tracebacks for analyzer failures.")
TRUST_ANCHORS_OPTION = typer.Option(
    None,
    "--trust-anchors",
    envvar="TRIAGE_TRUST_ANCHORS",
    help="PEM file of C2PA trust anchors (root certificates) for content credentials, e.g. "
    "the C2PA trust list or your newsroom's own; a signer chaining to one is 'trusted'. "
    "Without it no signer is trusted (which says nothing bad about a file).",
)


def read_trust_anchors(path: Path | None) -> str | None:
    """The PEM text of ``--trust-anchors``; raises ``typer.BadParameter`` (a usage error)
    for a file that cannot be read or holds no certificate."""
    if path is None:
        return None
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise typer.BadParameter(f"--trust-anchors {path}: {reason}") from None
    if "-----BEGIN CERTIFICATE-----" not in text:
        raise typer.BadParameter(f"--trust-anchors {path}: no PEM certificate in the file")
    return text


def split_names(values: list[str] | None) -> list[str] | None:
    """``--only a,b --only c`` -> ['a', 'b', 'c']; None when not given."""
    if not values:
        return None
    out = [n.strip() for v in values for n in v.split(",") if n.strip()]
    return out or None


def parse_priors(values: list[str] | None) -> dict[str, float]:
    """``--prior manipulation=0.2`` or ``--prior 0.2`` (all questions)."""
    from triage.report import QUESTIONS

    priors: dict[str, float] = {}
    for raw in values or []:
        key, _, val = raw.rpartition("=")
        try:
            p = float(val)
        except ValueError:
            raise typer.BadParameter(
                f"{raw!r}: expected QUESTION=P or P, with P in (0, 1)"
            ) from None
        if not 0 < p < 1:
            raise typer.BadParameter(f"{raw!r}: a prior must be strictly between 0 and 1")
        keys = [key] if key else list(QUESTIONS)
        for k in keys:
            if k not in QUESTIONS:
                raise typer.BadParameter(
                    f"unknown question {k!r}; use one of {', '.join(QUESTIONS)}"
                )
            priors[k] = p
    return priors


def build_options(
    *,
    only: list[str] | None,
    skip: list[str] | None,
    prior: list[str] | None,
    db: Path | None,
    max_pixels: int,
    no_pixels: bool,
    video_frames: int | None,
    debug: bool,
    calibration: Path | None = None,
    analyzer_options: dict[str, Any] | None = None,
    trust_anchors: Path | None = None,
    **more: Any,
) -> Options:
    """The pipeline options of `check` and `scan` from their shared flags.

    ``analyzer_options``: more dotted analyzer options (``{"credentials.trust_anchors":
    ...}``); ``trust_anchors``: the ``--trust-anchors`` PEM file; ``more``: the pipeline
    options only one command has. Unknown analyzers or analyzer options, bad priors and
    an unreadable PEM or calibration file raise the usage error (exit 2)."""
    from triage.analyzers import select
    from triage.analyzers.options import AnalyzerOptions
    from triage.pipeline import Options

    try:
        anchors = read_trust_anchors(trust_anchors)
        if anchors is not None:
            analyzer_options = {**(analyzer_options or {}), "credentials.trust_anchors": anchors}
        options = Options(
            only=split_names(only),
            skip=split_names(skip),
            no_pixels=no_pixels,
            max_pixels=max_pixels,
            prior=parse_priors(prior),
            db_path=db,
            debug=debug,
            calibration=calibration,
            analyzer_options=AnalyzerOptions.of(
                {"video.frames": video_frames, **(analyzer_options or {})}
            ),
            **more,
        )
        select(options.only, options.skip)
        from triage.calibration import load as load_calibration

        load_calibration(options.calibration)  # a missing or malformed file: exit 2
    except (ValueError, typer.BadParameter) as exc:
        raise usage_error(str(exc)) from None
    return options


def memory_cap(max_memory: int | None, jobs: int) -> int | None:
    """--max-memory as given (0: no cap), or the default for ``jobs`` workers."""
    if max_memory is None:
        from triage.limits import default_max_memory_mb

        return default_max_memory_mb(jobs)
    return max_memory or None


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


def usage_error(message: str) -> typer.Exit:
    """Print a one-line usage error on stderr; the caller raises the returned Exit(2)."""
    typer.echo(f"triage: error: {message}", err=True)
    return typer.Exit(code=2)
