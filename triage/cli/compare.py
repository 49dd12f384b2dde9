"""`triage compare A B`: two copies of one picture, how they relate and where they differ."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path

import typer

from triage.cli.common import stdout_is_terminal

EXAMPLES = """Examples:

\b
  triage compare viral.jpg found_original.jpg            # read on the terminal
  triage compare viral.jpg original.jpg --artifacts out/ # also a side-by-side PNG
  triage compare a.jpg b.jpg -f json | jq '.regions[0].box_a'
  triage compare viral.jpg original.jpg --html compare.html  # one page to share
  triage compare clip.mp4 still.jpg                      # which frame the still shows

Exit codes: 0 the two were aligned and compared, 3 no alignment was found (different
pictures, or changed too much to align), 1 a file could not be read, 2 usage error.
"""

# As `triage db lookup`: 3 says "nothing matched" to a script.
EXIT_NOT_ALIGNED = 3


class CompareFormat(StrEnum):
    text = "text"
    json = "json"


def register(app: typer.Typer) -> None:
    app.command("compare", epilog=EXAMPLES)(compare_command)


def compare_command(
    a: Path = typer.Argument(..., help="One copy (e.g. the one circulating).", show_default=False),
    b: Path = typer.Argument(
        ...,
        help="The other (e.g. an earlier or larger copy found). One of A and B may be a "
        "video: the frame the still shows is found and compared.",
        show_default=False,
    ),
    fmt: CompareFormat | None = typer.Option(
        None,
        "--format",
        "-f",
        help="text (default on a terminal) or json (default otherwise).",
        case_sensitive=False,
    ),
    output: Path | None = typer.Option(
        None,
        "--output",
        "-o",
        help="Write the result here (atomically) instead of stdout; JSON unless -f text.",
    ),
    artifacts: Path | None = typer.Option(
        None,
        "--artifacts",
        help="Folder for a PNG: A, B aligned onto A, and where they differ (boxed).",
    ),
    html: Path | None = typer.Option(
        None,
        "--html",
        help="Also write a self-contained HTML page (the picture embedded; share it as is).",
    ),
    no_pixels: bool = typer.Option(
        False,
        "--no-pixels",
        envvar="TRIAGE_NO_PIXELS",
        help="Put no picture in the HTML page (sensitive material).",
    ),
) -> None:
    """Compare two copies of one picture: whether one is a crop, resize, turn or mirror
    of the other, whether the tone changed, and which regions differ beyond what
    resizing and recompression explain, with their boxes in both files (as viewers show
    them). It lists the signs usual of an earlier copy that each file has (wider
    framing, more pixels, lighter compression, camera metadata) and never says which
    one is earlier: a difference can be an edit in either file. With a video and a
    still, it first finds the frame the still shows (its time is reported)."""
    from triage.comparison import compare_paths

    if fmt is None:
        terminal = output is None and stdout_is_terminal()
        fmt = CompareFormat.text if terminal else CompareFormat.json
    with _frame_progress() as progress:
        result = compare_paths(
            a,
            b,
            artifacts_dir=artifacts,
            keep_panel=html is not None and not no_pixels,
            progress=progress,
        )
    if html is not None:
        from triage.fileio import write_atomic
        from triage.render.comparehtml import render_compare_html

        write_atomic(html, render_compare_html(result, no_pixels=no_pixels))
    if fmt is CompareFormat.json:
        text = result.model_dump_json(indent=2) + "\n"
    else:
        from triage.render.comparetext import render_comparison

        text = render_comparison(result, to_terminal=output is None and stdout_is_terminal())
    if output is not None:
        from triage.fileio import write_atomic

        write_atomic(output, text)
    else:
        typer.echo(text, nl=False)
    if result.failed:
        raise typer.Exit(code=1)
    if not result.aligned:
        raise typer.Exit(code=EXIT_NOT_ALIGNED)


@contextmanager
def _frame_progress() -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on a terminal's stderr while a video's frames are searched."""
    import sys

    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = None

        def advance(done: int, planned: int) -> None:
            nonlocal task
            if task is None:
                task = bar.add_task("searching the video's frames", total=planned)
            bar.update(task, completed=done)

        yield advance
