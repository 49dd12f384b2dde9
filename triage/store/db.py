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

from triage.store.schema import ALGORITHMS, HASH_BITS, MIGRATIONS, SCHEMA_VERSION

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
        iterator of millions of rows is never held as parameters at once. Once an
        import outgrows a quarter of what the store held before, the key indexes are
        dropped for the rest of it and rebuilt at the end (a sort of the whole table
        instead of one random B-tree insertion per row: at millions of rows each
        random insertion costs several times a row's share of the sort); duplicates
        among the appended rows are then removed the way ``INSERT OR IGNORE`` would
        have (the first occurrence is kept), so the store ends with the same rows in
        the same id order either way (ids may skip the removed duplicates). Readers
        see the old store until the commit.
        """
        stamp = now_iso()
        day = stamp[:10]
        it = iter(rows)
        added = 0
        with self._write() as conn:
            before_rows = int(conn.execute("SELECT COUNT(*) FROM hashes").fetchone()[0])
            first_new: int | None = None  # ids from here on were appended without indexes
            while chunk := list(islice(it, batch)):
                if not validated:
                    chunk = [validate_row(r) for r in chunk]
                params = [_params(r, stamp, day) for r in chunk]
                if first_new is None and added + len(params) > max(before_rows // 4, batch):
                    first_new = _next_id(conn)
                    for name, _ in _KEY_INDEXES:
                        conn.execute(f"DROP INDEX IF EXISTS {name}")
                before = conn.total_changes
                _insert(conn, params)
                added += conn.total_changes - before
            if first_new is not None:
                added -= _rebuild_indexes(conn, first_new)
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


_INSERT = (
    "INSERT OR IGNORE INTO hashes (algorithm, hash, quality, label, source, "
    "first_seen, note, sha256, media_time, added_at, derived) "
    "VALUES (?,?,?,?,?,?,?,?,?,?,?)"
)
# The unique key of a row (schema v3) and the indexes a bulk import rebuilds.
_KEY = "algorithm, hash, IFNULL(sha256, ''), IFNULL(media_time, -1.0), derived, label, source"
_KEY_INDEXES = (
    ("hashes_unique", f"CREATE UNIQUE INDEX hashes_unique ON hashes ({_KEY})"),
    (
        "hashes_sha256",
        "CREATE INDEX hashes_sha256 ON hashes (sha256) WHERE sha256 IS NOT NULL",
    ),
)


# Rows per INSERT statement in a bulk add. SQLite runs a statement's fixed work
# (preparing the step, updating the AUTOINCREMENT counter) once per statement, so
# many rows a statement cost about half the CPU of one row a statement; 64 rows of
# 11 values stay under the 999 variables older SQLite builds allow.
_ROWS_PER_STATEMENT = 64
_INSERT_MANY = _INSERT.replace(
    "VALUES (?,?,?,?,?,?,?,?,?,?,?)", "VALUES " + ",".join(["(?,?,?,?,?,?,?,?,?,?,?)"] * 64)
)


def _insert(conn: sqlite3.Connection, params: list[tuple[Any, ...]]) -> None:
    """Insert ``params`` (rows of :data:`_INSERT`) in order, 64 rows a statement.

    ``INSERT OR IGNORE`` skips a conflicting row of a multi-row statement alone, as
    it would one row at a time, and rows get their ids in the same order."""
    full = len(params) - len(params) % _ROWS_PER_STATEMENT
    if full:
        flat = [value for row in params[:full] for value in row]
        width = len(flat) // (full // _ROWS_PER_STATEMENT)
        conn.executemany(_INSERT_MANY, (flat[i : i + width] for i in range(0, len(flat), width)))
    if full < len(params):
        conn.executemany(_INSERT, params[full:])


def _params(r: HashRow, stamp: str, day: str) -> tuple[Any, ...]:
    return (
        r.algorithm,
        bytes.fromhex(r.hash),
        r.quality,
        r.label,
        r.source,
        r.first_seen or day,
        r.note,
        r.sha256,
        r.time,
        r.added_at or stamp,
        r.derived,
    )


def _next_id(conn: sqlite3.Connection) -> int:
    seq = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'hashes'").fetchone()
    return int(seq[0]) + 1 if seq else 1


def _rebuild_indexes(conn: sqlite3.Connection, first_new: int) -> int:
    """Build the key indexes after an append without them; returns the duplicates
    removed. The unique index is tried first: its build fails only when the appended
    rows hold a key twice (or one already stored), and only then are the duplicates
    looked for (another sort of the whole table) and the build repeated, so a list
    without duplicates costs one sort per index."""
    removed = 0
    for name, create in _KEY_INDEXES:
        try:
            conn.execute(create)
        except sqlite3.IntegrityError:
            if name != "hashes_unique" or removed:
                raise
            removed = _drop_duplicates(conn, first_new)
            conn.execute(create)
    return removed


def _drop_duplicates(conn: sqlite3.Connection, first_new: int) -> int:
    """Delete rows with id >= ``first_new`` whose key an earlier row already has
    (what INSERT OR IGNORE would have skipped); returns how many. One sort of the
    table by key (a window over each key's rows in id order)."""
    cur = conn.execute(
        "DELETE FROM hashes WHERE id IN (SELECT id FROM (SELECT id, "
        f"LAG(id) OVER (PARTITION BY {_KEY} ORDER BY id) AS prev FROM hashes) "
        "WHERE prev IS NOT NULL AND id >= ?)",
        (first_new,),
    )
    return int(cur.rowcount)


_COLUMNS = (
    "id, algorithm, hash, quality, label, source, first_seen, note, sha256, media_time, "
    "added_at, derived"
)


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
    """Split a migration into statements (executescript() would commit mid-way)."""
    return [s.strip() for s in script.split(";") if s.strip()]


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
