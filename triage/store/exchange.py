"""Import and export of reference hashes as JSON Lines or CSV (hashes only, never pixels).

Export writes one row per line with the columns of ``EXPORT_FIELDS``. Import reads:

* JSON Lines: one object per line with at least ``hash`` (and ``algorithm``, or a
  hash length that names it: 64 hex digits = PDQ);
* delimited lists (CSV or TSV) read by :mod:`triage.store.hashlists`: with a header
  naming some of ``EXPORT_FIELDS`` (or ``pdq_hash``, ``md5`` ...), or headerless in the
  ThreatExchange form ``hash,quality[,anything...]``; MD5 lists beside PDQ.

Export also writes the plain ThreatExchange form (``pdq-csv``: ``hash,quality``).

Bad rows are reported with their line numbers and skipped; the good ones go in
one transaction.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from triage.store.db import HashRow, HashStore, validate_row
from triage.store.hashlists import (
    MAX_LINE_CHARS,
    ListNotes,
    algorithm_for_length,
    bounded_lines,
    delimited_records,
)

EXPORT_FIELDS = (
    "algorithm",
    "hash",
    "quality",
    "label",
    "source",
    "first_seen",
    "note",
    "sha256",
    "time",
    "added_at",
    "derived",
)


@dataclass
class ImportResult:
    added: int = 0
    read: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line number, reason)
    ignored_columns: list[str] = field(default_factory=list)  # header names not stored
    by_algorithm: dict[str, int] = field(default_factory=dict)  # rows read per algorithm

    @property
    def duplicates(self) -> int:
        return self.read - self.added


IMPORT_FORMATS = ("jsonl", "csv", "tsv")
EXPORT_FORMATS = ("jsonl", "csv", "pdq-csv")


def guess_format(path: Path, explicit: str | None = None) -> str:
    if explicit:
        return explicit.lower()
    return "jsonl" if path.suffix.lower() in (".jsonl", ".ndjson", ".json") else "csv"


# --------------------------------------------------------------------- export
def export_rows(store: HashStore, out: TextIO, fmt: str, algorithm: str | None = None) -> int:
    if fmt == "pdq-csv":
        return export_pdq_csv(store, out)
    n = 0
    if fmt == "jsonl":
        for row in store.rows(algorithm):
            out.write(json.dumps(_export_dict(row), ensure_ascii=False) + "\n")
            n += 1
        return n
    writer = csv.DictWriter(out, fieldnames=list(EXPORT_FIELDS), lineterminator="\n")
    writer.writeheader()
    for row in store.rows(algorithm):
        d = _export_dict(row)
        writer.writerow({k: "" if v is None else v for k, v in d.items()})
        n += 1
    return n


def export_pdq_csv(store: HashStore, out: TextIO) -> int:
    """The plain ThreatExchange PDQ list: ``hash,quality`` lines, no header, each hash
    once. Only hashes of the pictures as they are (not the derived crops); a hash
    stored without a quality gets an empty quality cell."""
    seen: set[str] = set()
    for row in store.rows("pdq"):
        if row.derived or row.hash in seen:
            continue
        seen.add(row.hash)
        out.write(f"{row.hash},{'' if row.quality is None else row.quality}\n")
    return len(seen)


def _export_dict(row: HashRow) -> dict[str, Any]:
    d = row.as_dict()
    d.pop("id", None)
    return {k: d.get(k) for k in EXPORT_FIELDS}


# --------------------------------------------------------------------- import
def read_rows(
    text: TextIO,
    fmt: str,
    default_label: str = "",
    default_source: str = "",
    default_algorithm: str | None = None,
    notes: ListNotes | None = None,
) -> tuple[list[HashRow], list[tuple[int, str]]]:
    """Parse rows; returns (valid rows, [(line number, reason), ...])."""
    errors: list[tuple[int, str]] = []
    rows = list(
        iter_rows(text, fmt, errors, default_label, default_source, default_algorithm, notes)
    )
    return rows, errors


def iter_rows(
    text: TextIO,
    fmt: str,
    errors: list[tuple[int, str]],
    default_label: str = "",
    default_source: str = "",
    default_algorithm: str | None = None,
    notes: ListNotes | None = None,
) -> Iterator[HashRow]:
    """Parse rows one by one (a list of millions is never held); each bad line is
    appended to ``errors`` as (line number, reason) as it is met."""
    records = _jsonl_records(text) if fmt == "jsonl" else delimited_records(text, notes)
    for line_no, rec in records:
        if isinstance(rec, str):
            errors.append((line_no, rec))
            continue
        try:
            row = _to_row(rec, default_label, default_source, default_algorithm)
        except (ValueError, TypeError) as exc:
            errors.append((line_no, str(exc)))
            continue
        yield row


def import_file(
    store: HashStore,
    path: Path,
    fmt: str | None = None,
    default_label: str = "",
    default_source: str = "",
    default_algorithm: str | None = None,
) -> ImportResult:
    """Parse ``path`` and add its rows to ``store`` in one transaction, streamed:
    parsing feeds the store's batched insert, so memory stays flat for lists of
    millions of hashes."""
    notes = ListNotes()
    errors: list[tuple[int, str]] = []
    by_algorithm: dict[str, int] = {}

    def counted(rows: Iterator[HashRow]) -> Iterator[HashRow]:
        for r in rows:
            by_algorithm[r.algorithm] = by_algorithm.get(r.algorithm, 0) + 1
            yield r

    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = iter_rows(
            fh,
            guess_format(path, fmt),
            errors,
            default_label,
            default_source,
            default_algorithm,
            notes,
        )
        added = store.add(counted(rows), validated=True)  # _to_row validated each
    return ImportResult(
        added=added,
        read=sum(by_algorithm.values()),
        errors=errors,
        ignored_columns=notes.ignored_columns,
        by_algorithm=by_algorithm,
    )


def _jsonl_records(text: TextIO) -> Iterator[tuple[int, dict[str, Any] | str]]:
    overlong: set[int] = set()
    for line_no, line in enumerate(bounded_lines(text, overlong), start=1):
        if line_no in overlong:
            yield line_no, f"line longer than {MAX_LINE_CHARS:,} characters: not a hash row"
            continue
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            yield line_no, f"not valid JSON ({exc.msg})"
            continue
        if not isinstance(obj, dict):
            yield line_no, "expected a JSON object"
            continue
        yield line_no, obj


def _to_row(
    rec: dict[str, Any], default_label: str, default_source: str, default_algorithm: str | None
) -> HashRow:
    value = rec.get("hash")
    if not isinstance(value, str) or not value.strip():
        raise ValueError("missing hash")
    algo = rec.get("algorithm") or default_algorithm
    if not algo:
        digits = len(value.strip().removeprefix("0x"))
        algo = algorithm_for_length(digits)
        if algo is None:
            raise ValueError(
                f"no algorithm given and {digits} hex digits do not name one "
                "(64 = PDQ, 32 = MD5; or use --algorithm)"
            )
    quality = rec.get("quality")
    t = rec.get("time")
    row = HashRow(
        algorithm=str(algo),
        hash=value,
        quality=int(quality) if quality not in (None, "") else None,
        label=str(rec.get("label") or default_label),
        source=str(rec.get("source") or default_source),
        first_seen=str(rec["first_seen"]) if rec.get("first_seen") else None,
        note=str(rec.get("note") or ""),
        sha256=str(rec["sha256"]) if rec.get("sha256") else None,
        time=float(t) if t not in (None, "") else None,
        added_at=str(rec["added_at"]) if rec.get("added_at") else None,
        derived=str(rec.get("derived") or ""),
    )
    return validate_row(row)
