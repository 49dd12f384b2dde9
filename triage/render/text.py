"""Console rendering: the three questions with interval bars, findings grouped by
analyzer, then what could not be checked and why."""

from __future__ import annotations

import io
from collections.abc import Sequence

from rich.console import Console, Group
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

    table = Table(show_header=True, header_style="bold", expand=False, pad_edge=False)
    table.add_column("question")
    table.add_column("band")
    table.add_column("score", justify="right")
    table.add_column("interval", justify="center")
    table.add_column("0 ······ 0.5 ······ 1", no_wrap=True)
    table.add_column("coverage", justify="right")
    for q in QUESTIONS:
        r = report.questions[q]
        table.add_row(
            q,
            Text(r.band, style=BAND_STYLE[r.band]),
            f"{r.score:.2f}",
            f"[{r.interval[0]:.2f}, {r.interval[1]:.2f}]",
            interval_bar(r.interval[0], r.score, r.interval[1]),
            f"{r.coverage:.0%}",
        )
    parts.append(table)
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
