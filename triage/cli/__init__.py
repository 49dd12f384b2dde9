"""Command-line interface. Each command lives in its own module and only parses
options and calls the library; heavy imports happen inside the commands."""

from __future__ import annotations

import typer

from triage import __version__

app = typer.Typer(
    name="triage",
    help=(
        "Triage images and videos for signs of editing, AI generation and earlier known "
        "copies. Reports what each analyzer found, a score with an interval per question, "
        "and why it is not more certain. It never says 'fake' or 'real'. Nothing leaves "
        "this machine.\n\n"
        "Start with: triage check FILE (one file), triage scan DIR (a folder), "
        "triage compare A B (two copies of one picture), triage analyzers (what is "
        "checked).\n\n"
        "Exit codes: 0 every file analyzed, 1 some file could not be analyzed, 2 usage error."
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"triage {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """triage: evidence, not verdicts."""


# One line per command module; each module adds its commands to ``app``.
from triage.cli import calibrate as _calibrate  # noqa: E402
from triage.cli import check as _check  # noqa: E402
from triage.cli import compare as _compare  # noqa: E402
from triage.cli import db as _db  # noqa: E402
from triage.cli import evaluate as _evaluate  # noqa: E402
from triage.cli import info as _info  # noqa: E402
from triage.cli import meta as _meta  # noqa: E402
from triage.cli import scan as _scan  # noqa: E402

for _module in (_check, _compare, _calibrate, _db, _evaluate, _info, _meta, _scan):
    _module.register(app)


def main() -> None:
    app()
