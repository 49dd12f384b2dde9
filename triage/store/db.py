"""``HashStore``: the SQLite file of reference hashes (the store of record).

One file, WAL journal, so that readers (a running scan) and a writer (``triage db
add``) do not block each other and two writers queue instead of failing. Only
hashes and the words the user attached are stored, never pixels or paths.

Searching runs on a :class:`~triage.store.index.BandIndex` per algorithm built from
the table, cached beside the store (``<store>.index/<algorithm>-<key>.*.npy``,
memory-mapped, so the processes of a batch scan share one copy) and rebuilt
when the store has changed since (its key: a generation counter that every write
through this class bumps, the highest row id ever given). Rows deleted by other tools
than triage are not noticed until the next write through triage.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

from triage.store.schema import (
    ALGORITHMS,
    DELETE_TRIGGER,
    HASH_BITS,
    INSERT_TRIGGERS,
    KEY_COLUMNS,
    KEY_OF_ROW,
    MIGRATIONS,
    SCHEMA_VERSION,
)

if TYPE_CHECKING:
    from triage.store.index import BandIndex


class StoreError(Exception):
    """The store cannot be opened or used (message is one line, for the user)."""


@dataclass
class HashRow:
    """One reference hash and what the user knows about its picture."""

    algorithm: str
    hash: str  # hex
    quality: int | None = None
    label: str = ""
    source: str = ""
    first_seen: str | None = None
    note: str = ""
    sha256: str | None = None
    time: float | None = None  # keyframe offset in seconds (video)
    added_at: str | None = None
    derived: str = ""  # "" = the picture as is; "crop95" = its central 95% (see provenance)
    id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Match:
    """A stored row within the search radius of a query hash."""

    row: HashRow
    distance: int
    variant: int = 0  # index of the dihedral variant of the query that matched (0 = as is)


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


_HEX_DIGITS = frozenset("0123456789abcdef")


def validate_row(row: HashRow) -> HashRow:
    """Normalise a row's fields; raises ``ValueError`` with a short reason.

    Rows that are normal already (the common case of a list of millions) take the
    short path: each field is checked, and only copied when it must change.
    """
    algo = row.algorithm
    if algo not in HASH_BITS:
        algo = algo.strip().lower()
        if algo not in ALGORITHMS:
            raise ValueError(f"unknown algorithm {row.algorithm!r} (use {', '.join(ALGORITHMS)})")
        row.algorithm = algo
    bits = HASH_BITS[algo]
    if len(row.hash) != bits // 4 or not _LOWER_HEX(row.hash):
        from triage.hashing import normalize_hex

        row.hash = normalize_hex(row.hash, bits)
    if row.quality is not None:
        q = int(row.quality)
        if not 0 <= q <= 100:
            raise ValueError(f"quality {q} is outside 0..100")
        row.quality = q
    if row.sha256:
        s = row.sha256.strip().lower()
        if len(s) != 64 or not set(s) <= _HEX_DIGITS:
            raise ValueError("sha256 must be 64 hex digits")
        row.sha256 = s
    else:
        row.sha256 = None
    if row.time is not None:
        row.time = float(row.time)
    if row.derived:
        row.derived = row.derived.strip().lower()
        if len(row.derived) > 16 or (row.derived and not row.derived.isalnum()):
            raise ValueError("derived must be a short word (e.g. crop95)")
    else:
        row.derived = ""
    row.label = row.label.strip() if row.label else ""
    row.source = row.source.strip() if row.source else ""
    row.note = row.note.strip() if row.note else ""
    row.first_seen = (row.first_seen.strip() or None) if row.first_seen else None
    return row


# Lower-case hex digits only (a normalised hash): the short path of validate_row.
_LOWER_HEX = re.compile("[0-9a-f]*").fullmatch


class HashStore:
    """The reference store. Use as a context manager or call :meth:`close`."""

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self.conn = conn
        self._indexes: dict[str, tuple[str, BandIndex]] = {}

    # ------------------------------------------------------------------ open
    @classmethod
    def open(cls, path: str | os.PathLike[str], create: bool = True) -> HashStore:
        """Open (and with ``create``, create) the store; apply pending migrations."""
        p = Path(path).expanduser()
        if not create and not p.is_file():
            raise StoreError(f"no reference store at {p}")
        if create:
            p.parent.mkdir(parents=True, exist_ok=True)
        mode = "rwc" if create else "rw"
        try:
            conn = sqlite3.connect(
                f"file:{p}?mode={mode}", uri=True, timeout=60.0, isolation_level=None
            )
            conn.execute("PRAGMA busy_timeout = 60000")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            store = cls(p, conn)
            store._migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open the reference store {p}: {exc}") from None
        return store

    def _migrate(self) -> None:
        version = self._user_version()
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} has schema version {version}; this triage knows up to "
                f"{SCHEMA_VERSION} (upgrade triage)"
            )
        if version == SCHEMA_VERSION:
            return
        with self._write():
            version = self._user_version()  # another process may have migrated meanwhile
            for step in range(version, SCHEMA_VERSION):
                for statement in _statements(MIGRATIONS[step]):
                    self.conn.execute(statement)
            self.conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _user_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> HashStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---------------------------------------------------------- transactions
    class _Tx:
        def __init__(self, conn: sqlite3.Connection) -> None:
            self.conn = conn

        def __enter__(self) -> sqlite3.Connection:
            self.conn.execute("BEGIN IMMEDIATE")
            return self.conn

        def __exit__(self, exc_type: object, *rest: object) -> None:
            if exc_type is None:
                self.conn.execute("COMMIT")
            else:
                self.conn.execute("ROLLBACK")

    def _write(self) -> HashStore._Tx:
        return HashStore._Tx(self.conn)

    def _bump(self) -> None:
        self.conn.execute(
            "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'"
        )

    # ----------------------------------------------------------------- write
    def add(self, rows: Iterable[HashRow], batch: int = 100_000, validated: bool = False) -> int:
        """Insert rows in one transaction (duplicates ignored); returns rows added.

        Each row goes through :func:`validate_row` unless ``validated`` says the caller
        already did (the list parser of ``db import`` validates every row it yields).

        ``rows`` is consumed in batches of ``batch`` (``executemany`` each), so an
        iterator of millions of rows is never held as parameters at once. An add of
        at most one batch inserts row by row through the store's triggers, which skip
        a row whose key is stored already. A longer one is a bulk import: the rows are
        appended without the triggers, then the keys of the new rows only are added
        to ``hash_keys`` in key order (one sort of the new rows, and a merge into the
        stored keys that walks them once; no stored row is sorted again), and the
        appended rows whose key was stored already, or met earlier in the import, are
        removed, as ``INSERT OR IGNORE`` would have skipped them (the first occurrence
        is kept). Either way the store ends with the same rows in input order (ids may
        skip the removed duplicates). Readers see the old store until the commit.
        """
        stamp = now_iso()
        day = stamp[:10]
        it = iter(rows)
        added = 0
        with self._write() as conn:
            bulk: _Bulk | None = None
            while chunk := list(islice(it, batch)):
                if not validated:
                    chunk = [validate_row(r) for r in chunk]
                if bulk is None and len(chunk) == batch:  # more may follow: a bulk import
                    bulk = _Bulk(conn, batch)
                if bulk is None:
                    added += _insert(conn, [_params(r, stamp, day) for r in chunk])
                else:
                    added += bulk.append(chunk, stamp, day)
            if bulk is not None:
                added -= bulk.finish()
            if added:
                self._bump()
        return added

    def remove(
        self,
        ids: list[int] | None = None,
        sha256: list[str] | None = None,
        label: str | None = None,
        source: str | None = None,
    ) -> int:
        """Delete rows matching every given filter; at least one filter is required."""
        where: list[str] = []
        args: list[Any] = []
        if ids:
            where.append(f"id IN ({','.join('?' * len(ids))})")
            args.extend(ids)
        if sha256:
            where.append(f"sha256 IN ({','.join('?' * len(sha256))})")
            args.extend(s.lower() for s in sha256)
        if label is not None:
            where.append("label = ?")
            args.append(label)
        if source is not None:
            where.append("source = ?")
            args.append(source)
        if not where:
            raise ValueError("remove needs at least one filter")
        with self._write() as conn:
            cur = conn.execute("DELETE FROM hashes WHERE " + " AND ".join(where), args)
            removed = cur.rowcount
            if removed:
                self._bump()
        return int(removed)

    # ------------------------------------------------------------------ read
    def count(self, algorithm: str | None = None) -> int:
        if algorithm is None:
            return int(self.conn.execute("SELECT COUNT(*) FROM hashes").fetchone()[0])
        q = "SELECT COUNT(*) FROM hashes WHERE algorithm = ?"
        return int(self.conn.execute(q, (algorithm,)).fetchone()[0])

    def rows(self, algorithm: str | None = None) -> Iterator[HashRow]:
        """Every row (id order), optionally of one algorithm."""
        sql = "SELECT " + _COLUMNS + " FROM hashes"
        args: tuple[Any, ...] = ()
        if algorithm:
            sql += " WHERE algorithm = ?"
            args = (algorithm,)
        for rec in self.conn.execute(sql + " ORDER BY id", args):
            yield _row(rec)

    def get(self, ids: list[int]) -> dict[int, HashRow]:
        out: dict[int, HashRow] = {}
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            sql = f"SELECT {_COLUMNS} FROM hashes WHERE id IN ({','.join('?' * len(chunk))})"
            for rec in self.conn.execute(sql, chunk):
                row = _row(rec)
                out[int(row.id or 0)] = row
        return out

    def stats(self) -> dict[str, Any]:
        per_algo = {
            a: n
            for a, n in self.conn.execute(
                "SELECT algorithm, COUNT(*) FROM hashes GROUP BY algorithm ORDER BY algorithm"
            )
        }
        labels = {
            (lab or "(none)"): n
            for lab, n in self.conn.execute(
                "SELECT label, COUNT(DISTINCT IFNULL(sha256, hash)) FROM hashes "
                "GROUP BY label ORDER BY 2 DESC"
            )
        }
        files = self.conn.execute(
            "SELECT COUNT(DISTINCT sha256) FROM hashes WHERE sha256 IS NOT NULL"
        ).fetchone()[0]
        span = self.conn.execute("SELECT MIN(added_at), MAX(added_at) FROM hashes").fetchone()
        size = sum(f.stat().st_size for f in (self.path, Path(f"{self.path}-wal")) if f.exists())
        return {
            "path": str(self.path),
            "schema_version": self._user_version(),
            "rows": self.count(),
            "by_algorithm": per_algo,
            "files_with_sha256": int(files),
            "by_label": labels,
            "first_added": span[0],
            "last_added": span[1],
            "bytes": size,
        }

    # ---------------------------------------------------------------- search
    def state_key(self) -> str:
        """Changes whenever rows are added (any writer: the AUTOINCREMENT counter
        moves) or removed or changed through this API (the generation counter).
        Cheap: two one-row reads, no count over the table."""
        gen = self.conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        seq = self.conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'hashes'").fetchone()
        return f"v{SCHEMA_VERSION}-g{gen[0] if gen else 0}-s{seq[0] if seq else 0}"

    @property
    def index_dir(self) -> Path:
        return self.path.with_name(self.path.name + ".index")

    def index(self, algorithm: str) -> BandIndex:
        """The search index of one algorithm: cached in memory, on disk, or rebuilt."""
        from triage.store.index import BandIndex

        key = self.state_key()
        cached = self._indexes.get(algorithm)
        if cached and cached[0] == key:
            return cached[1]
        idx = BandIndex.load(self.index_dir, algorithm, key)
        if idx is None:
            idx = self._build_index(algorithm)
            if not idx.banded:  # small: rebuilding from SQLite is quicker than a cache
                self._indexes[algorithm] = (key, idx)
                return idx
            with contextlib.suppress(OSError):  # read-only folder: keep it in memory only
                idx.save(self.index_dir, algorithm, key)
        self._indexes[algorithm] = (key, idx)
        return idx

    def _build_index(self, algorithm: str) -> BandIndex:
        import numpy as np

        from triage.store.index import BandIndex

        nbytes = HASH_BITS[algorithm] // 8
        ids: list[int] = []
        chunks: list[bytes] = []
        cur = self.conn.execute(
            "SELECT id, hash FROM hashes WHERE algorithm = ? ORDER BY id", (algorithm,)
        )
        while batch := cur.fetchmany(100_000):
            ids.extend(r[0] for r in batch)
            chunks.append(b"".join(r[1] for r in batch))
        raw = b"".join(chunks)
        if len(raw) != nbytes * len(ids):
            raise StoreError(f"{self.path}: a {algorithm} row has a hash of the wrong length")
        words = np.frombuffer(raw, dtype=">u8").astype(np.uint64).reshape(len(ids), nbytes // 8)
        return BandIndex.build(words, np.array(ids, dtype=np.int64))

    def lookup(self, algorithm: str, queries: list[str], radius: int) -> list[Match]:
        """Rows within ``radius`` of any of ``queries`` (e.g. the 8 dihedral variants).

        Each row appears once, with its smallest distance and the variant that
        reached it; nearest first.
        """
        from triage.hashing import hex_to_words

        if not queries:
            return []
        idx = self.index(algorithm)
        if len(idx) == 0:
            return []
        results = idx.search_many(hex_to_words(queries), radius)
        best: dict[int, tuple[int, int]] = {}
        for variant, res in enumerate(results):
            for pos, dist in zip(res.positions.tolist(), res.distances.tolist(), strict=True):
                row_id = int(idx.ids[pos])
                if row_id not in best or dist < best[row_id][0]:
                    best[row_id] = (int(dist), variant)
        rows = self.get(list(best))
        matches = [Match(rows[i], d, v) for i, (d, v) in best.items() if i in rows]
        matches.sort(key=lambda m: (m.distance, m.variant, m.row.id or 0))
        return matches


_FIELDS = (
    "algorithm, hash, quality, label, source, first_seen, note, sha256, media_time, "
    "added_at, derived"
)
_INSERT = f"INSERT OR IGNORE INTO hashes ({_FIELDS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)"

# Rows per INSERT statement in a bulk add. SQLite runs a statement's fixed work
# (preparing the step, updating the AUTOINCREMENT counter) once per statement, so
# many rows a statement cost about half the CPU of one row a statement; 64 rows of
# 11 values stay under the 999 variables older SQLite builds allow.
_ROWS_PER_STATEMENT = 64
_INSERT_MANY = _INSERT.replace(
    "VALUES (?,?,?,?,?,?,?,?,?,?,?)", "VALUES " + ",".join(["(?,?,?,?,?,?,?,?,?,?,?)"] * 64)
)
# 64 rows that share every field but the hash and the quality (the rows of one list):
# the nine shared values are bound once a statement, two values a row. Binding is
# most of a row's cost in the driver, so this halves the insert's CPU. A single
# VALUES list is read in order, so the rows get their ids in input order (a test).
_INSERT_RUN = (
    f"INSERT OR IGNORE INTO hashes ({_FIELDS}) "
    "SELECT ?1, column1, column2, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9 FROM (VALUES "
    + ",".join(["(?,?)"] * _ROWS_PER_STATEMENT)
    + ")"
)


def _insert(conn: sqlite3.Connection, params: list[tuple[Any, ...]]) -> int:
    """Insert ``params`` (rows of :data:`_INSERT`) in order, 64 rows a statement;
    returns the rows inserted.

    ``INSERT OR IGNORE`` (or the store's key trigger) skips a conflicting row of a
    multi-row statement alone, as it would one row at a time, and rows get their ids
    in the same order. The count is the statements' own changes (``rowcount``): the
    triggers' inserts into ``hash_keys`` are not rows of the store."""
    added = 0
    full = len(params) - len(params) % _ROWS_PER_STATEMENT
    if full:
        flat = [value for row in params[:full] for value in row]
        width = len(flat) // (full // _ROWS_PER_STATEMENT)
        cur = conn.executemany(
            _INSERT_MANY, (flat[i : i + width] for i in range(0, len(flat), width))
        )
        added += cur.rowcount
    if full < len(params):
        added += conn.executemany(_INSERT, params[full:]).rowcount
    return added


def _params(r: HashRow, stamp: str, day: str) -> tuple[Any, ...]:
    """A row's values in :data:`_INSERT`'s column order."""
    shared = _shared(r, stamp, day)
    return (shared[0], bytes.fromhex(r.hash), r.quality, *shared[1:])


def _shared(r: HashRow, stamp: str, day: str) -> tuple[Any, ...]:
    """A row's fields other than the hash and the quality, in :data:`_INSERT_RUN`'s
    order (the rows of one list share them)."""
    return (
        r.algorithm,
        r.label,
        r.source,
        r.first_seen or day,
        r.note,
        r.sha256,
        r.time,
        r.added_at or stamp,
        r.derived,
    )


class _Bulk:
    """A bulk import inside the caller's transaction: rows appended without the key
    triggers, the keys of the new rows merged into ``hash_keys`` at the end.

    The file-digest index (``hashes_sha256``, rows with a sha256 only) is kept up to
    date row by row, which costs nothing for the lists of millions (they carry no
    digest); once more than a batch of appended rows carry one, it is dropped and
    built again at the end (one pass over the table instead of a random insertion
    per row)."""

    def __init__(self, conn: sqlite3.Connection, batch: int) -> None:
        self.conn = conn
        self.batch = batch
        self.first = _next_id(conn)  # ids from here on are this import's
        self.appended = 0
        self.with_sha256 = 0
        self.sha256_dropped = False
        for name, _ in INSERT_TRIGGERS:
            conn.execute(f"DROP TRIGGER {name}")

    def append(self, rows: list[HashRow], stamp: str, day: str) -> int:
        """Append ``rows`` in order; runs of 64 or more rows that share all fields but
        the hash and quality go through :data:`_INSERT_RUN`, the rest as usual."""
        self.with_sha256 += sum(1 for r in rows if r.sha256)
        if self.with_sha256 > self.batch and not self.sha256_dropped:
            self.conn.execute(f"DROP INDEX IF EXISTS {_SHA256_INDEX[0]}")
            self.sha256_dropped = True
        added = 0
        pending: list[HashRow] = []  # rows of short runs, kept in input order
        width = 2 * _ROWS_PER_STATEMENT
        for shared, run in _runs(rows, stamp, day):
            full = len(run) - len(run) % _ROWS_PER_STATEMENT
            if full:
                if pending:
                    added += _insert(self.conn, [_params(r, stamp, day) for r in pending])
                    pending = []
                values = [v for r in run[:full] for v in (bytes.fromhex(r.hash), r.quality)]
                cur = self.conn.executemany(
                    _INSERT_RUN,
                    (list(shared) + values[i : i + width] for i in range(0, len(values), width)),
                )
                added += cur.rowcount
            pending.extend(run[full:])
        if pending:
            added += _insert(self.conn, [_params(r, stamp, day) for r in pending])
        self.appended += added
        return added

    def finish(self) -> int:
        """Add the new rows' keys, remove the duplicates, restore the triggers and
        the digest index; returns the duplicates removed."""
        conn = self.conn
        # Sorted by the hash first: within one algorithm that is the key's own
        # order, and the sort compares the random hash before the equal algorithm
        # (1M rows into an empty key table: a tenth less CPU). Rows of one key stay
        # together in id order, so the first occurrence is the one kept.
        cur = conn.execute(
            f"INSERT OR IGNORE INTO hash_keys ({KEY_COLUMNS}, id) "
            f"SELECT {KEY_OF_ROW}, id FROM hashes WHERE id >= ? ORDER BY 2, 1, 3, 4, 5, 6, 7, id",
            (self.first,),
        )
        removed = 0
        if cur.rowcount < self.appended:
            removed = self._drop_duplicates()
        for _, create in INSERT_TRIGGERS:
            conn.execute(create)
        if self.sha256_dropped:
            conn.execute(_SHA256_INDEX[1])
        return int(removed)

    def _drop_duplicates(self) -> int:
        """Delete the appended rows whose key went into ``hash_keys`` under another
        id (stored before, or met earlier in this import): what INSERT OR IGNORE
        would have skipped. Returns how many.

        The appended ids and the kept ones are read in one pass each (the rows from
        ``first`` on; the whole key table, which has no index on id) and the rest
        deleted by id in order. (Probing the key table for each appended row instead
        costs a random lookup per row: a re-import of a list of 2M known rows took
        30 s that way, against 18 s before schema v5 and 16 s this way.)"""
        import numpy as np

        def ids(sql: str) -> np.ndarray:
            cur = self.conn.execute(sql, (self.first,))
            batches = iter(lambda: cur.fetchmany(100_000), [])
            parts = [np.array(b, dtype=np.int64).ravel() for b in batches]
            return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

        conn = self.conn
        appended = ids("SELECT id FROM hashes WHERE id >= ?")
        kept = ids("SELECT id FROM hash_keys WHERE id >= ?")
        duplicates = np.setdiff1d(appended, kept, assume_unique=True).tolist()
        conn.execute(f"DROP TRIGGER {DELETE_TRIGGER[0]}")
        conn.executemany("DELETE FROM hashes WHERE id = ?", ((i,) for i in duplicates))
        conn.execute(DELETE_TRIGGER[1])
        return len(duplicates)


def _runs(
    rows: list[HashRow], stamp: str, day: str
) -> Iterator[tuple[tuple[Any, ...], list[HashRow]]]:
    """Consecutive rows that share every field but the hash and the quality, as
    (the shared fields in :data:`_INSERT_RUN`'s order, the rows)."""
    shared: tuple[Any, ...] | None = None
    run: list[HashRow] = []
    for r in rows:
        key = _shared(r, stamp, day)
        if key != shared:
            if run and shared is not None:
                yield shared, run
            shared, run = key, []
        run.append(r)
    if run and shared is not None:
        yield shared, run


_SHA256_INDEX = (
    "hashes_sha256",
    "CREATE INDEX hashes_sha256 ON hashes (sha256) WHERE sha256 IS NOT NULL",
)


def _next_id(conn: sqlite3.Connection) -> int:
    seq = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'hashes'").fetchone()
    return int(seq[0]) + 1 if seq else 1


_COLUMNS = "id, " + _FIELDS


def _row(rec: tuple[Any, ...]) -> HashRow:
    return HashRow(
        id=rec[0],
        algorithm=rec[1],
        hash=bytes(rec[2]).hex(),
        quality=rec[3],
        label=rec[4],
        source=rec[5],
        first_seen=rec[6],
        note=rec[7],
        sha256=rec[8],
        time=rec[9],
        added_at=rec[10],
        derived=rec[11],
    )


def _statements(script: str) -> list[str]:
    """Split a migration into statements (executescript() would commit mid-way); a
    trigger's body holds semicolons of its own, so pieces are joined until SQLite
    says the statement is complete."""
    out: list[str] = []
    part = ""
    for piece in script.split(";"):
        part += piece + ";"
        if sqlite3.complete_statement(part):
            if part.strip(" \n;"):
                out.append(part.strip())
            part = ""
    if part.strip(" \n;"):
        out.append(part.strip())
    return out


def default_db_path() -> Path:
    """The per-user default store: ``<user data dir>/triage/references.sqlite``."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("triage", appauthor=False)) / "references.sqlite"


def resolve_db_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """``--db`` if given, else ``$TRIAGE_DB``, else the per-user default."""
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get("TRIAGE_DB")
    if env:
        return Path(env).expanduser()
    return default_db_path()


def store_has_rows(path: Path) -> bool:
    """True when ``path`` is a store with at least one row (never creates anything)."""
    if not path.is_file() or path.stat().st_size == 0:
        return False
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10.0)
        try:
            row = conn.execute("SELECT 1 FROM hashes LIMIT 1").fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return False
    return row is not None
