"""`triage evaluate MANIFEST`: measure the tool on your own labeled files."""

from __future__ import annotations

from pathlib import Path

import typer

from triage.cli.common import CALIBRATION_OPTION, split_names, usage_error, write_atomic

EXAMPLES = """Examples:

\b
  triage evaluate labels.tsv                          # tables on stdout
  triage evaluate labels.tsv --jobs 4 --json eval.json --diagram reliability.png
  triage evaluate labels.tsv --markdown evaluation.md --only metadata,compression

\b
Manifest: TSV or CSV with columns path, label and optionally mask (a PNG,
bright = edited), header line optional, paths relative to the manifest's
folder. Labels: authentic, manipulated, synthetic, malformed (must come back
as a report or an error entry), unknown (run, but left out of the scores).
"""


def register(app: typer.Typer) -> None:
    app.command("evaluate", epilog=EXAMPLES)(evaluate_command)


def evaluate_command(
    manifest: Path = typer.Argument(
        ..., help="TSV/CSV of path, label[, mask].", show_default=False
    ),
    jobs: int = typer.Option(2, "--jobs", "-j", min=1, help="Worker processes."),
    timeout: float = typer.Option(
        120.0, "--timeout", min=1.0, help="Seconds per file before its worker is killed (a hang)."
    ),
    max_memory: int = typer.Option(
        4096, "--max-memory", min=0, help="Address-space cap per worker in MB (0 = none)."
    ),
    json_out: Path | None = typer.Option(
        None, "--json", help="Write metrics, targets and per-file records as JSON."
    ),
    diagram: Path | None = typer.Option(
        None, "--diagram", help="Write a reliability diagram (PNG)."
    ),
    markdown: Path | None = typer.Option(None, "--markdown", help="Write the tables as Markdown."),
    only: list[str] | None = typer.Option(None, "--only", help="Run only these analyzers."),
    skip: list[str] | None = typer.Option(None, "--skip", help="Do not run these analyzers."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No tables on stdout."),
    calibration: Path | None = CALIBRATION_OPTION,
) -> None:
    """Run the pipeline over a labeled manifest and report how well its scores and bands
    hold up: ROC AUC, band rates per label, how often a band's claim is right,
    per-finding likelihood ratios, reliability, localization IoU against masks, and
    robustness (every file must give a report or an error entry; none may crash or hang).

    Exit code 1 when a file crashed a worker or timed out.
    """
    import sys

    from triage.evaluate.manifest import ManifestError, read_manifest
    from triage.evaluate.runner import RunOptions, run_manifest

    try:
        items = read_manifest(manifest)
        options = RunOptions(
            jobs=jobs,
            timeout=timeout,
            max_memory_mb=max_memory or None,
            only=split_names(only),
            skip=split_names(skip),
            calibration=str(calibration) if calibration else None,
        )
        from triage.analyzers import select
        from triage.calibration import load as load_calibration

        select(options.only, options.skip)
        load_calibration(options.calibration)
    except (ManifestError, ValueError) as exc:
        raise usage_error(str(exc)) from None
    if not items:
        raise usage_error(f"{manifest}: the manifest lists no files")
    missing = [i.name for i in items if not i.path.exists()]
    if missing:
        typer.echo(
            f"triage: warning: {len(missing)} listed files do not exist (first: {missing[0]})",
            err=True,
        )

    if calibration is not None:
        import os

        # The tables name and read the same calibration as the workers' reports.
        os.environ["TRIAGE_CALIBRATION"] = str(calibration)
    records = _run(items, options, run_manifest, show=sys.stderr.isatty() and not quiet)

    from triage.evaluate import report as rep
    from triage.evaluate.metrics import evaluate

    metrics = evaluate(records)
    meta = _meta(options)
    if diagram is not None and markdown is not None:
        import os

        meta["diagram"] = os.path.relpath(diagram, markdown.parent)
    if json_out is not None:
        write_atomic(json_out, rep.to_json(metrics, records, meta))
    if markdown is not None:
        write_atomic(markdown, rep.render_markdown(metrics, records, meta))
    if diagram is not None:
        write_atomic(diagram, rep.reliability_png(metrics))
    if not quiet:
        typer.echo(rep.render_text(metrics, records), nl=False)
    if metrics["robustness"]["crashes"] or metrics["robustness"]["timeouts"]:
        raise typer.Exit(code=1)


def _run(items, options, run_manifest, show: bool):  # type: ignore[no-untyped-def]
    if not show:
        return run_manifest(items, options)
    from rich.progress import Progress

    with Progress(transient=True) as progress:
        task = progress.add_task("evaluating", total=len(items))

        def tick(done: int, total: int, rec: dict) -> None:  # type: ignore[type-arg]
            progress.update(task, completed=done, description=f"{rec['name'][-40:]}")

        return run_manifest(items, options, progress=tick)


def _meta(options) -> dict[str, str]:  # type: ignore[no-untyped-def]
    import shlex
    import sys
    from datetime import UTC, datetime

    from triage import __version__
    from triage.analyzers import select
    from triage.calibration import load as load_calibration

    cal = load_calibration(options.calibration)
    return {
        "command": "triage " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "triage version": __version__,
        "calibration": _calibration_summary(cal),
        "analyzers": ", ".join(a.name for a in select(options.only, options.skip))
        or "none registered",
        "per-file timeout": f"{options.timeout:g} s",
    }


def _calibration_summary(cal) -> str:  # type: ignore[no-untyped-def]
    fit = cal.data.get("data", {}).get("fit", {})
    return (
        f"{cal.source} ({cal.name} {cal.version}, sha256 {cal.sha256[:12]}): fitted on "
        f"{fit.get('files', '?')} files from {fit.get('sources', '?')} sources "
        "(docs/scoring.md)"
    )
