"""`triage meta FILE...`: every metadata tag, grouped by family as ExifTool's -j -G."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

from triage.cli.common import stdout_is_terminal

EXAMPLES = """Examples:

\b
  triage meta photo.jpg                       # grouped table on the terminal
  triage meta photo.jpg -f json | jq '.[0]["GPS:GPSPosition"]'
  triage meta *.jpg -f json > tags.json       # one object per file, as exiftool -j -G
  triage check photo.jpg -f json --with-metadata | jq .metadata
"""


class MetaFormat(StrEnum):
    text = "text"
    json = "json"


def register(app: typer.Typer) -> None:
    app.command("meta", epilog=EXAMPLES)(meta_command)


def meta_command(
    paths: list[Path] = typer.Argument(..., help="Image or video files.", show_default=False),
    fmt: MetaFormat | None = typer.Option(
        None,
        "--format",
        "-f",
        help="text (default on a terminal) or json (an array of objects with keys such as "
        "'EXIF:Make', as exiftool -j -G writes them).",
        case_sensitive=False,
    ),
) -> None:
    """Print every metadata tag: File, EXIF, GPS (decimal coordinates), MakerNotes (where
    exifread decodes them), XMP, IPTC, ICC_Profile, PNG text, QuickTime tags of videos
    and a C2PA summary. Nothing is judged here; `triage check` does that."""
    import json

    from triage.errors import MediaError
    from triage.metadump import dump_path

    fmt = fmt or (MetaFormat.text if stdout_is_terminal() else MetaFormat.json)
    results: list[dict[str, Any]] = []
    failed = 0
    for p in paths:
        try:
            tags = dump_path(p)
        except MediaError as exc:
            from triage.render.escape import escape_control

            typer.echo(f"triage: {escape_control(str(p))}: {exc}", err=True)
            failed += 1
            if fmt is MetaFormat.json:
                results.append({"SourceFile": str(p), "ExifTool:Error": str(exc)})
            continue
        if fmt is MetaFormat.json:
            results.append(tags)
        else:
            _print_text(tags)
    if fmt is MetaFormat.json:
        typer.echo(json.dumps(results, indent=2, ensure_ascii=False, default=str))
    if failed:
        raise typer.Exit(code=1)


def _print_text(tags: dict[str, Any]) -> None:
    from triage.metadump import grouped
    from triage.render.escape import escape_control

    typer.echo(f"======== {escape_control(str(tags.get('SourceFile', '')))}")
    for group, items in grouped(tags).items():
        for name, value in items.items():
            text = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
            text = escape_control(text.replace("\n", " "))
            typer.echo(f"[{group}]".ljust(14) + f" {name:<32} : {text[:300]}")
