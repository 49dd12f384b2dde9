"""Console rendering of `triage compare`: the two files, then what was found, in words."""

from __future__ import annotations

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from triage.comparison import Comparison, CopyFacts, clock


def _file_line(label: str, facts: CopyFacts) -> Text:
    from triage.render.escape import escape_control

    size = f"{facts.width}x{facts.height}" if facts.width and facts.height else None
    quality = f"JPEG q{facts.jpeg_quality}" if facts.jpeg_quality else None
    details = [
        x
        for x in (
            facts.format,
            f"frame at {clock(facts.frame_seconds)}" if facts.frame_seconds is not None else None,
            size,
            quality,
            f"{facts.bytes:,} bytes" if facts.bytes else None,
            facts.camera,
            f"taken {facts.taken}" if facts.taken else None,
            f"software {facts.software}" if facts.software else None,
        )
        if x
    ]
    line = Text(f"{label}  ", style="bold")
    line.append(escape_control(facts.path), style="bold")
    if details:
        line.append("  " + escape_control(" · ".join(details)), style="dim")
    if facts.error:
        line.append(f"\n   error: {escape_control(facts.error)}", style="bold red")
    return line


def _bullets(items: list[str], mark: str) -> Table:
    from triage.render.escape import escape_control

    grid = Table.grid()
    grid.add_column(no_wrap=True)
    grid.add_column()
    for item in items:
        grid.add_row(f"{mark} ", Text(escape_control(item)))  # wraps beside its mark
    return grid


def render_comparison(result: Comparison, to_terminal: bool = False, width: int = 100) -> str:
    """The text rendering as a string: with colour on a terminal, plain otherwise."""
    import io

    buf = io.StringIO()
    if to_terminal:
        import shutil

        columns = shutil.get_terminal_size((width, 24)).columns
        console = Console(file=buf, force_terminal=True, width=columns, highlight=False)
    else:
        console = Console(file=buf, width=width, no_color=True, highlight=False)
    print_comparison(result, console)
    return buf.getvalue()


def print_comparison(result: Comparison, console: Console) -> None:
    parts: list[object] = [_file_line("A", result.a), _file_line("B", result.b), Text("")]
    parts.append(_bullets(result.statements, "•"))
    if result.regions:
        regions = Table(show_header=True, header_style="bold", expand=False, pad_edge=False)
        for column in ("#", "box in A (x y w h)", "box in B (x y w h)", "share", "strength"):
            regions.add_column(column, justify="left" if column == "#" else "right", no_wrap=True)
        for i, r in enumerate(result.regions, start=1):
            regions.add_row(
                str(i),
                " ".join(map(str, r.box_a)),
                " ".join(map(str, r.box_b)),
                f"{100 * r.share:.1f}%",
                f"{r.strength:.2f}",
            )
        parts.append(regions)
    if result.artifact:
        from triage.render.escape import escape_control

        parts.append(Text(f"side by side: {escape_control(result.artifact)}"))
    if result.caveats:
        parts.append(Text("\nNot shown by this", style="bold underline"))
        parts.append(_bullets(result.caveats, "  -"))
    parts.append(Text(f"\ncompared in {result.seconds:.2f} s", style="dim"))
    console.print(Panel(Group(*parts), title="compare", title_align="left", expand=True))  # type: ignore[arg-type]
