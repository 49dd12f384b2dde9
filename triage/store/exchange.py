"""Import and export of reference hashes as JSON Lines or CSV (hashes only, never pixels).

Export writes one row per line with the columns of ``EXPORT_FIELDS``. Import reads:

* JSON Lines: one object per line with at least ``hash`` (and ``algorithm``, or a
  hash length that names it: 64 hex digits = PDQ);
* CSV with a header row naming some of ``EXPORT_FIELDS``;
* headerless CSV in the common PDQ list form ``hash,quality`` (or ``hash`` alone).

Bad rows are reported with their line numbers and skipped; the good ones go in
one transaction.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from triage.store.db import HashRow, HashStore, validate_row

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

    @property
    def duplicates(self) -> int:
        return self.read - self.added


def guess_format(path: Path, explicit: str | None = None) -> str:
    if explicit:
        return explicit.lower()
    return "jsonl" if path.suffix.lower() in (".jsonl", ".ndjson", ".json") else "csv"


# --------------------------------------------------------------------- export
def export_rows(store: HashStore, out: TextIO, fmt: str, algorithm: str | None = None) -> int:
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
) -> tuple[list[HashRow], list[tuple[int, str]]]:
    """Parse rows; returns (valid rows, [(line number, reason), ...])."""
    rows: list[HashRow] = []
    errors: list[tuple[int, str]] = []
    records = _jsonl_records(text) if fmt == "jsonl" else _csv_records(text)
    for line_no, rec in records:
        if isinstance(rec, str):
            errors.append((line_no, rec))
            continue
        try:
            rows.append(_to_row(rec, default_label, default_source, default_algorithm))
        except (ValueError, TypeError) as exc:
            errors.append((line_no, str(exc)))
    return rows, errors


def import_file(
    store: HashStore,
    path: Path,
    fmt: str | None = None,
    default_label: str = "",
    default_source: str = "",
    default_algorithm: str | None = None,
) -> ImportResult:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows, errors = read_rows(
            fh, guess_format(path, fmt), default_label, default_source, default_algorithm
        )
    added = store.add(rows)
    return ImportResult(added=added, read=len(rows), errors=errors)


def _jsonl_records(text: TextIO) -> Iterator[tuple[int, dict[str, Any] | str]]:
    for line_no, line in enumerate(text, start=1):
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


def _csv_records(text: TextIO) -> Iterator[tuple[int, dict[str, Any] | str]]:
    content = text.read()
    reader = csv.reader(io.StringIO(content))
    header: list[str] | None = None
    for row in reader:
        line_no = reader.line_num
        if not row or all(not c.strip() for c in row) or row[0].lstrip().startswith("#"):
            continue
        if header is None:
            names = [c.strip().lower() for c in row]
            if "hash" in names:
                header = names
                continue
            header = ["hash", "quality"]  # headerless: the common PDQ list form
        if len(row) > len(header):
            yield line_no, f"{len(row)} columns, expected at most {len(header)}"
            continue
        yield line_no, {k: v for k, v in zip(header, row, strict=False) if v.strip() != ""}


def _to_row(
    rec: dict[str, Any], default_label: str, default_source: str, default_algorithm: str | None
) -> HashRow:
    value = rec.get("hash")
    if not isinstance(value, str) or not value.strip():
        raise ValueError("missing hash")
    algo = rec.get("algorithm") or default_algorithm
    if not algo:
        digits = len(value.strip().removeprefix("0x"))
        if digits == 64:
            algo = "pdq"
        else:
            raise ValueError(f"no algorithm given and {digits} hex digits do not name one")
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
