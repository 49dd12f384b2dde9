"""`triage db ...`: the local reference store of perceptual hashes (add, lookup,
import, export, stats, remove). Only hashes and your own words are stored."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from triage.cli.common import usage_error

EXAMPLES = """Examples:

\b
  triage db add originals/ --label original --source "my camera roll"
  triage db add debunked.jpg --label debunked --source https://example.org/factcheck/123
  triage db lookup inbox/photo.jpg
  triage db export refs.csv                  # hashes only: safe to share
  triage db import partner_pdq.csv --label circulating --source partner
  triage db stats
  TRIAGE_DB=team.sqlite triage check photo.jpg   # the provenance analyzer uses the store

Suggested labels: original, debunked, manipulated, synthetic, circulating (free text).
The store is one SQLite file; default in your user data folder, or --db / TRIAGE_DB.
"""

db_app = typer.Typer(
    name="db",
    help="Reference store of perceptual hashes: has this picture been seen before?",
    epilog=EXAMPLES,
    no_args_is_help=True,
    rich_markup_mode="rich",
)

DbOption = typer.Option(
    None,
    "--db",
    envvar="TRIAGE_DB",
    help="Store file (SQLite). Default: references.sqlite in your user data folder.",
)


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
    app.add_typer(db_app, name="hashdb", hidden=True)  # the name in the issue


# ------------------------------------------------------------------ helpers
def _not_media(path: Path) -> bool:
    """True for a file whose first bytes match no image or video format."""
    from triage.sniff import sniff

    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    return bool(head) and sniff(head).kind == "unknown"


def _media_files(paths: list[Path]) -> tuple[list[Path], list[str]]:
    """Files given, and media files under folders given (hidden ones skipped), sorted.

    Inside folders, files that are not images or videos (notes, sidecars) are
    left out silently; a file named explicitly is always tried.
    """
    files: list[Path] = []
    problems: list[str] = []
    for p in paths:
        if p.is_dir():
            files.extend(
                sorted(
                    f
                    for f in p.rglob("*")
                    if f.is_file()
                    and not any(part.startswith(".") for part in f.relative_to(p).parts)
                    and not _not_media(f)
                )
            )
        elif p.exists():
            files.append(p)
        else:
            problems.append(f"{p}: no such file or folder")
    return files, problems


def _progress(total: int):  # type: ignore[no-untyped-def]
    import sys

    if total < 2 or not sys.stderr.isatty():
        return None
    from rich.console import Console
    from rich.progress import Progress

    return Progress(console=Console(stderr=True), transient=True)


def _open(db: Path | None, create: bool):  # type: ignore[no-untyped-def]
    from triage.store import HashStore, StoreError, resolve_db_path

    path = resolve_db_path(db)
    try:
        return HashStore.open(path, create=create)
    except StoreError as exc:
        hint = "" if create else "; add references first with `triage db add FILES --label L`"
        raise usage_error(f"{exc}{hint}") from None


def _echo_err(text: str) -> None:
    typer.echo(text, err=True)


# --------------------------------------------------------------------- add
@db_app.command("add")
def add_command(
    paths: list[Path] = typer.Argument(
        ..., help="Files or folders (walked recursively).", show_default=False
    ),
    label: str = typer.Option(
        "",
        "--label",
        "-l",
        help="What the material is: original, debunked, manipulated, synthetic, circulating...",
    ),
    source: str = typer.Option("", "--source", "-s", help="Where it comes from (URL or words)."),
    note: str = typer.Option("", "--note", "-n", help="Free note stored with each hash."),
    first_seen: str | None = typer.Option(
        None, "--first-seen", help="When it was first seen (ISO date). Default: today."
    ),
    max_keyframes: int = typer.Option(
        24, "--max-keyframes", help="Keyframes hashed per video.", min=1
    ),
    db: Path | None = DbOption,
) -> None:
    """Hash pictures and videos (keyframes) and add the hashes to the store."""
    from triage.analyzers.provenance import media_hashes, reference_rows
    from triage.errors import MediaError
    from triage.media import Media

    files, problems = _media_files(paths)
    if not files and problems:
        raise usage_error("; ".join(problems))
    store = _open(db, create=True)
    added = hashed = 0
    progress = _progress(len(files))
    task = progress.add_task("hashing", total=len(files)) if progress else None
    if progress:
        progress.start()
    try:
        for f in files:
            if progress and task is not None:
                progress.update(task, description=f"hashing {f.name}")
            try:
                media = Media.open(f)
                frames = media_hashes(media, max_keyframes, reference=True)
            except MediaError as exc:
                problems.append(f"{f}: {exc}")
                continue
            finally:
                if progress and task is not None:
                    progress.advance(task)
            rows = reference_rows(media, frames, label, source, note, first_seen)
            added += store.add(rows)
            hashed += 1
    finally:
        if progress:
            progress.stop()
        store.close()
    for p in problems:
        _echo_err(f"skipped {p}")
    _echo_err(f"{hashed} file(s) hashed, {added} new hash row(s) in {store.path}")
    if problems:
        raise typer.Exit(code=1)


# ------------------------------------------------------------------ lookup
@db_app.command("lookup")
def lookup_command(
    paths: list[Path] = typer.Argument(
        ..., help="Files or folders to look up.", show_default=False
    ),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per file (JSON Lines)."),
    db: Path | None = DbOption,
) -> None:
    """Is a picture (or a video's keyframes) already in the store? Nearest matches first."""
    import json

    from triage.analyzers.provenance import lookup_frames, media_hashes
    from triage.errors import MediaError
    from triage.media import Media

    files, problems = _media_files(paths)
    if not files and problems:
        raise usage_error("; ".join(problems))
    store = _open(db, create=False)
    try:
        for f in files:
            try:
                media = Media.open(f)
                frames = media_hashes(media)
            except MediaError as exc:
                problems.append(f"{f}: {exc}")
                continue
            finding = lookup_frames(store, frames, media.kind == "video")
            result: dict[str, Any] = {"path": str(f), "sha256": media.sha256, "match": None}
            result.update({k: v for k, v in frames[0].metrics().items() if k != "time"})
            if finding is not None:
                ev = finding.evidence
                result["match"] = {k: v for k, v in ev.items() if k != "other_matches"}
                result["other_matches"] = ev.get("other_matches", [])
                result["detail"] = finding.detail
            if as_json:
                typer.echo(json.dumps(result, ensure_ascii=False))
            elif finding is None:
                typer.echo(f"{f}: no match in {store.count()} stored hash rows")
            else:
                typer.echo(f"{f}: MATCH - {finding.detail}")
    finally:
        store.close()
    for p in problems:
        _echo_err(f"skipped {p}")
    if problems:
        raise typer.Exit(code=1)


# ------------------------------------------------------------ import/export
@db_app.command("import")
def import_command(
    file: Path = typer.Argument(..., help="JSONL or CSV (with a header, or PDQ `hash,quality`)."),
    fmt: str | None = typer.Option(
        None, "--format", "-f", help="jsonl or csv (default: by extension)."
    ),
    label: str = typer.Option("", "--label", "-l", help="Label for rows that have none."),
    source: str = typer.Option("", "--source", "-s", help="Source for rows that have none."),
    algorithm: str | None = typer.Option(
        None, "--algorithm", help="Algorithm for rows that name none (pdq, phash, dhash)."
    ),
    db: Path | None = DbOption,
) -> None:
    """Import hashes; bad rows are reported with line numbers and skipped, the rest
    are added in one transaction."""
    from triage.store.exchange import import_file

    if fmt and fmt.lower() not in ("jsonl", "csv"):
        raise usage_error("--format must be jsonl or csv")
    if not file.is_file():
        raise usage_error(f"{file}: no such file")
    store = _open(db, create=True)
    try:
        res = import_file(store, file, fmt, label, source, algorithm)
    except UnicodeDecodeError:
        raise usage_error(f"{file}: not UTF-8 text") from None
    finally:
        store.close()
    for line, reason in res.errors:
        _echo_err(f"{file}:{line}: skipped: {reason}")
    _echo_err(
        f"{res.added} row(s) added, {res.duplicates} already present, {len(res.errors)} bad "
        f"row(s) skipped ({store.path})"
    )
    if res.errors:
        raise typer.Exit(code=1)


@db_app.command("export")
def export_command(
    file: Path = typer.Argument(..., help="Output file (.jsonl or .csv), or - for stdout."),
    fmt: str | None = typer.Option(
        None, "--format", "-f", help="jsonl or csv (default: by extension)."
    ),
    algorithm: str | None = typer.Option(None, "--algorithm", help="Only this algorithm."),
    db: Path | None = DbOption,
) -> None:
    """Export the stored hashes with their labels (never any pixels)."""
    import io

    from triage.cli.common import write_atomic
    from triage.store.exchange import export_rows, guess_format

    form = guess_format(file, fmt) if str(file) != "-" else (fmt or "jsonl").lower()
    if form not in ("jsonl", "csv"):
        raise usage_error("--format must be jsonl or csv")
    store = _open(db, create=False)
    buf = io.StringIO()
    try:
        n = export_rows(store, buf, form, algorithm)
    finally:
        store.close()
    if str(file) == "-":
        typer.echo(buf.getvalue(), nl=False)
    else:
        write_atomic(file, buf.getvalue())
    _echo_err(f"{n} row(s) exported")


# ------------------------------------------------------------ stats/remove
@db_app.command("stats")
def stats_command(
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
    db: Path | None = DbOption,
) -> None:
    """Rows per algorithm and label, schema version, file size."""
    import json

    store = _open(db, create=False)
    try:
        stats = store.stats()
    finally:
        store.close()
    if as_json:
        typer.echo(json.dumps(stats, indent=2))
        return
    typer.echo(
        f"store:          {stats['path']} (schema v{stats['schema_version']}, {stats['bytes']:,} bytes)"
    )
    typer.echo(f"hash rows:      {stats['rows']:,}")
    for algo, n in stats["by_algorithm"].items():
        typer.echo(f"  {algo:12s}  {n:,}")
    typer.echo(f"files (sha256): {stats['files_with_sha256']:,}")
    typer.echo("by label (pictures):")
    for lab, n in stats["by_label"].items():
        typer.echo(f"  {lab:12s}  {n:,}")
    typer.echo(f"added:          {stats['first_added']} .. {stats['last_added']}")


@db_app.command("remove")
def remove_command(
    paths: list[Path] = typer.Argument(None, help="Remove the hashes of these files (by SHA-256)."),
    row_id: list[int] = typer.Option(None, "--id", help="Row id (see `export`)."),
    sha256: list[str] = typer.Option(None, "--sha256", help="Remove rows of this file digest."),
    label: str | None = typer.Option(None, "--label", help="Only rows with this label."),
    source: str | None = typer.Option(None, "--source", help="Only rows with this source."),
    db: Path | None = DbOption,
) -> None:
    """Remove rows matching ALL given filters (files, --id, --sha256, --label, --source)."""
    import hashlib

    digests = list(sha256 or [])
    files, problems = _media_files(list(paths or []))
    if problems:
        raise usage_error("; ".join(problems))
    for f in files:
        h = hashlib.sha256()
        with open(f, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        digests.append(h.hexdigest())
    if not (digests or row_id or label is not None or source is not None):
        raise usage_error("give files, --id, --sha256, --label or --source to choose rows")
    store = _open(db, create=False)
    try:
        n = store.remove(ids=list(row_id or []), sha256=digests, label=label, source=source)
    finally:
        store.close()
    _echo_err(f"{n} row(s) removed")
