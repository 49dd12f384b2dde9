"""`triage db ...`: the local reference store of perceptual hashes (add, lookup,
import, export, stats, remove). Only hashes and your own words are stored."""

from __future__ import annotations

from pathlib import Path

import typer

from triage.cli.common import usage_error

EXAMPLES = """Examples:

\b
  triage db add originals/ --label original --source "my camera roll"
  triage db add debunked.jpg --label debunked --source https://example.org/factcheck/123
  triage db lookup inbox/photo.jpg           # exit 0: a match, 3: none, 1: unreadable file
  triage db lookup inbox/ --max-distance 31 --json   # plain PDQ threshold, as ThreatExchange
  triage db export refs.csv                  # hashes only: safe to share
  triage db export partner.pdq.csv --format pdq-csv   # plain hash,quality lines
  triage db import partner_pdq.csv --label circulating --source partner
  triage db import stopncii_md5.txt --label ncii    # MD5 digests of files (exact match)
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
    from triage.store.ingest import add_files, media_files

    files, problems = media_files(paths)
    if not files and problems:
        raise usage_error("; ".join(problems))
    store = _open(db, create=True)
    progress = _progress(len(files))
    task = progress.add_task("hashing", total=len(files)) if progress else None

    def advance(f: Path) -> None:
        if progress and task is not None:
            progress.update(task, description=f"hashed {f.name}", advance=1)

    if progress:
        progress.start()
    try:
        done = add_files(store, files, label, source, note, first_seen, max_keyframes, advance)
    finally:
        if progress:
            progress.stop()
        store.close()
    problems += done.problems
    for p in problems:
        _echo_err(f"skipped {p}")
    _echo_err(f"{done.hashed} file(s) hashed, {done.added} new hash row(s) in {store.path}")
    if problems:
        raise typer.Exit(code=1)


# ------------------------------------------------------------------ lookup
@db_app.command("lookup")
def lookup_command(
    paths: list[Path] = typer.Argument(
        ..., help="Files or folders to look up.", show_default=False
    ),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per file (JSON Lines)."),
    max_distance: int | None = typer.Option(
        None,
        "--max-distance",
        min=0,
        max=128,
        help="Match on PDQ alone within this many bits (ThreatExchange uses 31) instead of "
        "the provenance rules (PDQ, pHash and crops combined, quality-aware).",
    ),
    db: Path | None = DbOption,
) -> None:
    """Is a picture (or a video's keyframes) already in the store? Nearest matches first.

    Files are also matched by MD5 against imported MD5 lists (exact). Exit code: 0 when
    some file matched, 3 when none did, 1 when a file could not be read (2 usage error).
    """
    import json

    from triage.errors import MediaError
    from triage.store.ingest import lookup_file, media_files

    files, problems = media_files(paths)
    if not files and problems:
        raise usage_error("; ".join(problems))
    store = _open(db, create=False)
    any_match = False
    try:
        for f in files:
            try:
                result, detail = lookup_file(store, f, max_distance)
            except MediaError as exc:
                problems.append(f"{f}: {exc}")
                continue
            except OSError as exc:
                problems.append(f"{f}: {exc.strerror or exc}")
                continue
            matched = result["match"] is not None or "md5_matches" in result
            any_match = any_match or matched
            if as_json:
                typer.echo(json.dumps(result, ensure_ascii=False))
            elif not matched:
                typer.echo(f"{f}: no match in {store.count()} stored hash rows")
            else:
                typer.echo(f"{f}: MATCH - {detail}")
    finally:
        store.close()
    for p in problems:
        _echo_err(f"skipped {p}")
    if problems:
        raise typer.Exit(code=1)
    if not any_match:
        raise typer.Exit(code=NO_MATCH_EXIT)


NO_MATCH_EXIT = 3  # like grep's 1, but 1 already means "a file could not be read"


# ------------------------------------------------------------ import/export
@db_app.command("import")
def import_command(
    file: Path = typer.Argument(
        ...,
        help="JSONL, or a CSV/TSV hash list: with a header (ours, or pdq_hash,quality / md5 ...) "
        "or ThreatExchange-style hash,quality[,anything...] lines; MD5 lists too.",
    ),
    fmt: str | None = typer.Option(
        None, "--format", "-f", help="jsonl, csv or tsv (default: by extension; tabs are seen)."
    ),
    label: str = typer.Option("", "--label", "-l", help="Label for rows that have none."),
    source: str = typer.Option("", "--source", "-s", help="Source for rows that have none."),
    algorithm: str | None = typer.Option(
        None,
        "--algorithm",
        help="Algorithm for rows that name none (pdq, phash, dhash, md5). Default: from the "
        "header, else from the length (64 hex digits = PDQ, 32 = MD5).",
    ),
    db: Path | None = DbOption,
) -> None:
    """Import hashes; bad rows are reported with line numbers and skipped, the rest
    are added in one transaction. Columns the store does not keep are named once."""
    from triage.store.exchange import IMPORT_FORMATS, import_file
    from triage.store.hashlists import normalize_algorithm

    if fmt and fmt.lower() not in IMPORT_FORMATS:
        raise usage_error(f"--format must be one of {', '.join(IMPORT_FORMATS)}")
    if algorithm:
        algorithm = normalize_algorithm(algorithm)
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
    if res.ignored_columns:
        _echo_err(f"{file}: columns not stored: {', '.join(res.ignored_columns)}")
    kinds = ", ".join(f"{n} {a}" for a, n in sorted(res.by_algorithm.items()))
    _echo_err(
        f"{res.added} row(s) added, {res.duplicates} already present, {len(res.errors)} bad "
        f"row(s) skipped" + (f"; read {kinds}" if kinds else "") + f" ({store.path})"
    )
    if res.errors:
        raise typer.Exit(code=1)


@db_app.command("export")
def export_command(
    file: Path = typer.Argument(..., help="Output file (.jsonl or .csv), or - for stdout."),
    fmt: str | None = typer.Option(
        None,
        "--format",
        "-f",
        help="jsonl, csv (every field) or pdq-csv (plain ThreatExchange `hash,quality` lines, "
        "no header, each PDQ once). Default: by extension.",
    ),
    algorithm: str | None = typer.Option(None, "--algorithm", help="Only this algorithm."),
    db: Path | None = DbOption,
) -> None:
    """Export the stored hashes with their labels (never any pixels)."""
    import io

    from triage.cli.common import write_atomic
    from triage.store.exchange import EXPORT_FORMATS, export_rows, guess_format

    form = guess_format(file, fmt) if str(file) != "-" else (fmt or "jsonl").lower()
    if form not in EXPORT_FORMATS:
        raise usage_error(f"--format must be one of {', '.join(EXPORT_FORMATS)}")
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
    from triage.fileio import file_digest
    from triage.store.ingest import media_files

    digests = list(sha256 or [])
    files, problems = media_files(list(paths or []))
    if problems:
        raise usage_error("; ".join(problems))
    for f in files:
        digests.append(file_digest(f)[0])
    if not (digests or row_id or label is not None or source is not None):
        raise usage_error("give files, --id, --sha256, --label or --source to choose rows")
    store = _open(db, create=False)
    try:
        n = store.remove(ids=list(row_id or []), sha256=digests, label=label, source=source)
    finally:
        store.close()
    _echo_err(f"{n} row(s) removed")
