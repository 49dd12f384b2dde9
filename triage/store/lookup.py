"""Plain lookups a trust-and-safety desk expects beside the provenance rules:
PDQ within an explicit Hamming distance (ThreatExchange's match threshold) and
exact file digests (MD5 lists)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from triage.store.db import _COLUMNS, HashRow, HashStore, Match, _row


def file_md5(path: str | Path) -> str:
    """Hex MD5 of a file's bytes, read in chunks (the file is opened read-only)."""
    from triage.fileio import file_digest

    return file_digest(path, algorithm="md5")[0]


def digest_rows(store: HashStore, algorithm: str, digest: str) -> list[HashRow]:
    """Stored rows whose hash equals ``digest`` exactly (a lookup in the key table,
    whose key starts with the algorithm and the hash)."""
    recs = store.conn.execute(
        f"SELECT {_COLUMNS} FROM hashes WHERE id IN (SELECT id FROM hash_keys "
        "WHERE algorithm = ? AND hash = ?) ORDER BY id",
        (algorithm, bytes.fromhex(digest)),
    )
    return [_row(r) for r in recs]


def pdq_within(
    store: HashStore, variant_sets: Iterable[list[str]], max_distance: int
) -> list[Match]:
    """Stored PDQ rows within ``max_distance`` bits of any query variant of any
    frame; each row once with its smallest distance, nearest first."""
    best: dict[int, Match] = {}
    for variants in variant_sets:
        for m in store.lookup("pdq", variants, max_distance):
            key = int(m.row.id or 0)
            if key not in best or m.distance < best[key].distance:
                best[key] = m
    return sorted(best.values(), key=lambda m: (m.distance, m.variant, m.row.id or 0))


def row_summary(row: HashRow, distance: int | None = None) -> dict[str, Any]:
    """The fields of a matched row a report shows (never a path: the store has none)."""
    out: dict[str, Any] = {
        "id": row.id,
        "algorithm": row.algorithm,
        "hash": row.hash,
        "label": row.label,
        "source": row.source,
        "first_seen": row.first_seen,
    }
    if row.quality is not None:
        out["quality"] = row.quality
    if row.note:
        out["note"] = row.note
    if row.derived:
        out["derived"] = row.derived
    if distance is not None:
        out["distance"] = distance
    return out
