"""`triage calibrate LABELS -o FILE`: refit the scoring calibration on a desk's own labelled files."""

from __future__ import annotations

from pathlib import Path

import typer

from triage.cli.common import split_names, usage_error, write_atomic

EXAMPLES = """Examples:

\b
  triage calibrate archive/labels.tsv -o desk-calibration.json
  triage check photo.jpg --calibration desk-calibration.json
  TRIAGE_CALIBRATION=desk-calibration.json triage scan inbox/ -o scan.jsonl

\b
Manifest: as for `triage evaluate` (path, label[, mask]; labels authentic,
manipulated, synthetic; others are ignored). Files in the same first folder are
treated as one source and kept on one side of every cross-fitting split, so put
a photo and its edits in one folder. Measure the result on files it was not
fitted on: triage evaluate other.tsv --calibration desk-calibration.json
"""


def register(app: typer.Typer) -> None:
    app.command("calibrate", epilog=EXAMPLES)(calibrate_command)


def calibrate_command(
    manifest: Path = typer.Argument(
        ..., help="TSV/CSV of path, label[, mask].", show_default=False
    ),
    output: Path = typer.Option(..., "--output", "-o", help="Calibration file to write."),
    jobs: int = typer.Option(2, "--jobs", "-j", min=1, help="Worker processes."),
    timeout: float = typer.Option(120.0, "--timeout", min=1.0, help="Seconds per file."),
    name: str = typer.Option("desk", "--name", help="Name recorded in the file and reports."),
    seed: int = typer.Option(0, "--seed", help="Seed of the bootstrap and redraw samples."),
    only: list[str] | None = typer.Option(None, "--only", help="Run only these analyzers."),
    skip: list[str] | None = typer.Option(None, "--skip", help="Do not run these analyzers."),
) -> None:
    """Analyze labelled files and fit the calibration that turns findings into scores.

    Writes one versioned JSON file: per question the fitted log-odds weights of every
    finding, examined share and metric, the cross-fitted scores that calibrate them
    (Venn-Abers), and the data it was fitted on. Use it with --calibration or
    TRIAGE_CALIBRATION; every report names the calibration it used.
    """
    from triage.evaluate.calibrate import FitConfig, dump, fit_calibration, summary
    from triage.evaluate.manifest import ManifestError, read_manifest
    from triage.evaluate.runner import RunOptions, run_manifest

    try:
        items = read_manifest(manifest)
        options = RunOptions(
            jobs=jobs, timeout=timeout, only=split_names(only), skip=split_names(skip)
        )
        from triage.analyzers import select

        select(options.only, options.skip)
    except (ManifestError, ValueError) as exc:
        raise usage_error(str(exc)) from None
    if not items:
        raise usage_error(f"{manifest}: the manifest lists no files")
    records = run_manifest(items, options)
    labels = {r["label"] for r in records}
    if not ({"authentic", "manipulated"} <= labels or {"synthetic"} <= labels):
        raise usage_error(f"{manifest}: needs labelled positives and negatives for a question")
    data = {
        "manifest": str(manifest),
        "files": len(records),
        "fit": {
            "files": len(records),
            "sources": len({r.get("group") for r in records}),
            "labels": {lab: sum(r["label"] == lab for r in records) for lab in sorted(labels)},
        },
    }
    cal = fit_calibration(records, FitConfig(seed=seed), name=name, data=data)
    write_atomic(output, dump(cal))
    typer.echo(summary(cal), nl=False)
    typer.echo(f"wrote {output}")
