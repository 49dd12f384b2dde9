"""The end-of-scan tables on the console: files by attention, files per band,
near-duplicate groups, failures and skipped files, and the counts."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from triage.render.text import BAND_STYLE
from triage.report import BANDS, QUESTIONS
from triage.scan.summary import duplicate_groups

if TYPE_CHECKING:
    from rich.console import Console

    from triage.scan.summary import ScanSummary

TOP_ROWS = 25


def render_summary(summary: ScanSummary, console: Console, top: int = TOP_ROWS) -> None:
    """Print ``summary``'s tables to ``console`` (at most ``top`` rows per list)."""
    from rich.table import Table
    from rich.text import Text

    ok = [r for r in summary.rows if not r.failed]
    ok.sort(key=lambda r: (-r.attention, r.path))
    n_failed = len(summary.rows) - len(ok)
    if ok:
        # The count is of every file examined: a failed one is still one of them.
        failed_note = f"; {n_failed} failed, listed below" if n_failed else ""
        table = Table(
            title=f"Files by attention (top {min(top, len(ok))} of {len(summary.rows)}"
            f"{failed_note}; attention orders review, it is not a verdict)",
            title_justify="left",
            expand=True,
        )
        table.add_column("attn", justify="right", no_wrap=True)
        for q in QUESTIONS:
            table.add_column(
                {"manipulation": "manip.", "synthetic": "synth.", "provenance": "prov."}[q],
                no_wrap=True,
            )
        table.add_column("file", overflow="fold", ratio=3)
        table.add_column("top finding", overflow="fold", ratio=2)
        for r in ok[:top]:
            cells = []
            for q in QUESTIONS:
                band = r.bands.get(q, "")
                cells.append(
                    Text(
                        f"{r.scores.get(q, 0):.2f} {SHORT_BAND.get(band, band)}",
                        BAND_STYLE.get(band, ""),
                    )
                )
            table.add_row(
                f"{r.attention:.2f}",
                *cells,
                Text(_display(r.path)),
                Text(printable(r.top_finding or "-")),
            )
        console.print(table)

    counts = summary.band_counts()
    bands = Table(title="Files per band", title_justify="left")
    bands.add_column("band")
    for q in QUESTIONS:
        bands.add_column(q, justify="right")
    for band in reversed(BANDS):
        bands.add_row(Text(band, BAND_STYLE[band]), *[str(counts[q][band]) for q in QUESTIONS])
    console.print(bands)

    groups = duplicate_groups(summary.rows, summary.group_distance)
    if groups:
        console.print(
            Text(
                f"Near-duplicate groups (pHash within {summary.group_distance} bits): "
                f"{len(groups)}",
                style="bold",
            )
        )
        for i, g in enumerate(groups[:top], 1):
            console.print(f"  {i}. " + "\n     ".join(printable(p) for p in g), markup=False)
        console.print(
            "  How two of them relate, and where they differ: triage compare FILE1 FILE2",
            style="dim",
            markup=False,
        )
    elif any(r.phash for r in summary.rows):
        console.print("Near-duplicate groups: none")

    failures = summary.failures
    if failures:
        console.print(
            Text(f"Failed ({len(failures)}): could not be analyzed fully", style="bold red")
        )
        for r in failures:
            reasons = "; ".join(f"{stage}: {msg}" for stage, msg in r.errors)
            console.print(
                f"  {printable(r.path)}\n      {printable(reasons)}", highlight=False, markup=False
            )
    if summary.skipped:
        by_reason = Counter(_reason_kind(why) for _, why in summary.skipped)
        console.print(
            Text(f"Skipped ({len(summary.skipped)}): ", style="bold")
            + Text(", ".join(f"{n} {k}" for k, n in by_reason.most_common()))
        )
        for p, why in summary.skipped[:top]:
            console.print(
                f"  {printable(p)}: {printable(why)}",
                highlight=False,
                soft_wrap=True,
                markup=False,
            )
        if len(summary.skipped) > top:
            console.print(f"  … and {len(summary.skipped) - top} more (see --csv)")
    console.print(
        f"[bold]{len(summary.rows)}[/bold] files: {summary.analyzed} analyzed, "
        f"{len(failures)} failed, {len(summary.skipped)} skipped (not media or not scanned), "
        f"{summary.excluded} excluded by --include/--exclude"
        + (
            f", {summary.resumed} taken from the earlier output (--resume)"
            if summary.resumed
            else ""
        )
        + f"; {summary.seconds:.1f} s",
        highlight=False,
    )


SHORT_BAND = {
    "insufficient-evidence": "insuff.",
    "no-indicators": "none",
    "weak-indicators": "weak",
    "notable-indicators": "notable",
    "strong-indicators": "strong",
}


def printable(text: str) -> str:
    """A file name that is not valid UTF-8 shown with \\xNN escapes instead of failing,
    and its control characters (ESC sequences, CR, LF) escaped the same way."""
    from triage.render.escape import escape_control

    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return escape_control(text)


def _display(path: str) -> str:
    """A path relative to the working directory when it is under it."""
    import os

    try:
        rel = os.path.relpath(path)
    except ValueError:
        return printable(path)
    return printable(path if rel.startswith("..") else rel)


def _reason_kind(reason: str) -> str:
    for key, label in (
        ("not a supported image", "not media"),
        ("link", "links"),
        ("same file", "duplicates by link"),
        ("empty", "empty"),
        ("max-bytes", "too large"),
    ):
        if key in reason:
            return label
    return "other"
