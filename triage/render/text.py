"""Console rendering: the three questions with interval bars, findings grouped by
analyzer, then what could not be checked and why."""

from __future__ import annotations

import io
from collections.abc import Sequence

from rich.console import Console, ConsoleOptions, Group, RenderResult
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from triage.report import QUESTIONS, Report

BAND_STYLE = {
    "insufficient-evidence": "dim",
    "no-indicators": "green",
    "weak-indicators": "yellow",
    "notable-indicators": "dark_orange",
    "strong-indicators": "bold red",
}
BAR_WIDTH = 30


def interval_bar(low: float, point: float, high: float, width: int = BAR_WIDTH) -> str:
    """ASCII bar: '-' outside the interval, '=' inside, '|' at the score, ':' at 0.5."""
    cells = []
    lo_i, hi_i = round(low * (width - 1)), round(high * (width - 1))
    pt_i, mid = round(point * (width - 1)), round(0.5 * (width - 1))
    for i in range(width):
        if i == pt_i:
            cells.append("|")
        elif lo_i <= i <= hi_i:
            cells.append("=")
        elif i == mid:
            cells.append(":")
        else:
            cells.append("·")
    return "".join(cells)


def bar_scale(width: int) -> str:
    """Header of a bar `width` cells wide: 0 at the first cell, 0.5 at the middle one
    (where `interval_bar` puts its ':'), 1 at the last."""
    if width < 5:
        return ""
    cells = [" "] * width
    mid = round(0.5 * (width - 1))
    cells[0], cells[-1] = "0", "1"
    cells[mid - 1 : mid + 2] = "0.5"
    return "".join(cells)


# The narrowest bar worth drawing (BAR_WIDTH is the widest): below it the ticks no
# longer say where an interval sits, and the numbers beside it say it better.
MIN_BAR_WIDTH = 12


class ScoreTable:
    """The three questions' table, fitted to the width it is printed at.

    At 80 columns (a default terminal, and any pipe) the bar used to squeeze the other
    columns until the question, band and interval were cut to "manip…", "insuf…" and
    "[0.0… 0.39]": the numbers a reader came for. Now the words and numbers keep their
    full width and the bar takes what is left, or is left out.
    """

    def __init__(self, report: Report) -> None:
        self.report = report

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        rows = []
        for q in QUESTIONS:
            r = self.report.questions[q]
            rows.append(
                (
                    q,
                    r.band,
                    f"{r.score:.2f}",
                    f"[{r.interval[0]:.2f}, {r.interval[1]:.2f}]",
                    f"{r.coverage:.0%}",
                    r,
                )
            )
        headers = ("question", "band", "score", "interval", "coverage")
        widths = [max(len(h), *(len(str(row[i])) for row in rows)) for i, h in enumerate(headers)]
        fixed = sum(widths)
        # Six columns: seven rules and two cells of padding each, less the outer padding.
        bar = min(BAR_WIDTH, options.max_width - fixed - (7 + 12 - 2))
        with_bar = bar >= MIN_BAR_WIDTH
        table = Table(show_header=True, header_style="bold", expand=False, pad_edge=False)
        for h, w in zip(headers[:4], widths, strict=False):
            # Below 80 columns the band, a word the reader can guess from its start,
            # is the one that gives way; the numbers never do.
            table.add_column(
                h,
                no_wrap=h != "band",
                min_width=None if h == "band" else w,
                justify="right" if h == "score" else "left",
            )
        if with_bar:
            table.add_column(bar_scale(bar), no_wrap=True)
        table.add_column("coverage", justify="right", no_wrap=True, min_width=widths[4])
        # Five columns without the bar: six rules, two cells of padding each, less two.
        cramped = options.max_width < fixed + (6 + 10 - 2)
        for q, band, score, interval, coverage, r in rows:
            # Cramped, "insufficient evidence" wraps between its words rather than mid-word.
            shown = Text(band.replace("-", " ") if cramped else band, style=BAND_STYLE[band])
            cells: list[str | Text] = [q, shown, score, interval]
            if with_bar:
                cells.append(interval_bar(r.interval[0], r.score, r.interval[1], bar))
            cells.append(coverage)
            table.add_row(*cells)
        yield table


def _orientation(tag: int | None, kind: str | None) -> str | None:
    from triage.orientation import ORIENTATION_WORDS

    if tag not in ORIENTATION_WORDS:
        return None
    source = "its display matrix" if kind == "video" else f"EXIF orientation {tag}"
    return (
        f"viewers show it {ORIENTATION_WORDS[tag]} ({source}; "
        "coordinates here are in the stored grid)"
    )


def report_renderable(report: Report) -> Group:
    f = report.file
    head = Text()
    head.append(f.path, style="bold")
    facts = [
        x
        for x in (
            f.format,
            f"{f.width}x{f.height}" if f.width and f.height else None,
            f"{f.duration:.1f} s" if f.duration else None,
            f"{f.frames} frames, the first examined" if f.frames else None,
            _orientation(f.orientation, f.kind),
            f"{f.bytes:,} bytes" if f.bytes is not None else None,
            f"sha256 {f.sha256[:16]}…" if f.sha256 else None,
        )
        if x
    ]
    if facts:
        head.append("  " + " · ".join(facts), style="dim")
    parts: list[object] = [head]
    from triage.render.credstate import credential_state

    state = credential_state(report)
    if state and state != "none":
        parts.append(Text.assemble(("content credentials: ", "bold"), state))
    for err in report.errors:
        parts.append(Text(f"error ({err.stage}): {err.message}", style="bold red"))
    for warning in report.warnings:
        parts.append(Text(f"decoder warning: {warning}", style="yellow"))

    parts.append(ScoreTable(report))
    for q in QUESTIONS:
        parts.append(Text.assemble((f"{q}: ", "bold"), report.questions[q].statement))

    by_analyzer: dict[str, list] = {}
    for finding in report.findings:
        by_analyzer.setdefault(finding.analyzer, []).append(finding)
    if by_analyzer:
        parts.append(Text("\nFindings", style="bold underline"))
    for name, items in by_analyzer.items():
        parts.append(Text(name, style="bold cyan"))
        for fd in sorted(items, key=lambda x: -abs(x.llr)):
            sign = "+" if fd.llr > 0 else ("−" if fd.llr < 0 else "·")
            line = Text(f"  {sign} ")
            line.append(fd.title, style="bold")
            line.append(
                f"  [{fd.question}, LLR {fd.llr:+.2f} ({fd.llr_range[0]:+.2f}..{fd.llr_range[1]:+.2f})]  ",
                style="dim",
            )
            line.append(fd.id, style="dim italic")
            parts.append(line)
            # Indented as a block, so that a wrapped detail stays under its finding.
            parts.append(Padding(Text(fd.detail), (0, 0, 0, 6)))

    gaps: list[str] = []
    for run in report.analyzers:
        if run.status in ("error", "skipped", "unavailable"):
            gaps.append(f"{run.name} ({run.status}): {run.message}")
        gaps.extend(f"{run.name}: {nc}" for nc in run.not_checked)
    if gaps:
        parts.append(Text("\nNot checked", style="bold underline"))
        bullets = Table.grid()
        bullets.add_column(no_wrap=True)
        bullets.add_column()
        for g in gaps:
            bullets.add_row("  - ", Text(g))  # a wrapped gap stays beside its dash
        parts.append(bullets)
    if report.artifacts:
        parts.append(Text("\nArtifacts", style="bold underline"))
        parts.extend(Text(f"  {a.title}: {a.path or '(in HTML report)'}") for a in report.artifacts)
    timing = ", ".join(f"{r.name} {r.seconds:.2f}s" for r in report.analyzers if r.status == "ok")
    parts.append(
        Text(
            f"\nanalyzed in {report.seconds:.2f} s ({timing}); attention {report.attention:.2f} (orders a batch; not a verdict)",
            style="dim",
        )
    )
    return Group(*parts)  # type: ignore[arg-type]


def print_reports(reports: Sequence[Report], console: Console) -> None:
    from triage.render.escape import escape_report

    for report in reports:
        # File names and metadata are untrusted: an ESC sequence or CR in them must not
        # reach the terminal (or a text file someone will `cat`).
        console.print(Panel(report_renderable(escape_report(report)), expand=True))


def render_reports(reports: Sequence[Report], to_terminal: bool = False, width: int = 110) -> str:
    """Plain text (no colour codes) of the console rendering, e.g. for --output."""
    buf = io.StringIO()
    console = Console(file=buf, width=width, no_color=True, force_terminal=False, highlight=False)
    print_reports(reports, console)
    return buf.getvalue()
