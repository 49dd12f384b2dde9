"""The reference store's key table (schema v5): bulk imports into a store that holds
rows already, duplicates, stores made by older versions, and lookups against a scan."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np

from triage.hashing import hamming
from triage.store import HashRow, HashStore
from triage.store.db import _statements
from triage.store.schema import MIGRATIONS, SCHEMA_VERSION


def _pdq_list(rng: np.random.Generator, n: int, label: str, source: str) -> list[HashRow]:
    raw = rng.integers(0, 256, (n, 32), dtype=np.uint8)
    return [HashRow("pdq", bytes(r).hex(), 90, label, source) for r in raw]


def _keys_match_rows(store: HashStore) -> bool:
    """Every row has its key in ``hash_keys`` under its own id, and nothing else is there."""
    stored = store.conn.execute(
        "SELECT COUNT(*) FROM hashes h JOIN hash_keys k ON k.id = h.id AND k.label = h.label "
        "AND k.source = h.source AND k.algorithm = h.algorithm AND k.hash = h.hash "
        "AND k.sha256 = IFNULL(h.sha256, '') AND k.media_time = IFNULL(h.media_time, -1.0) "
        "AND k.derived = h.derived"
    ).fetchone()[0]
    keys = store.conn.execute("SELECT COUNT(*) FROM hash_keys").fetchone()[0]
    return bool(stored == keys == store.count())


def test_duplicates_within_a_bulk_list_are_stored_once_in_input_order(tmp_path: Path) -> None:
    """A list whose rows repeat (and repeat stored rows) keeps each key's first row,
    in input order, as one INSERT OR IGNORE a row would."""
    rng = np.random.default_rng(1)
    stored = _pdq_list(rng, 40, "known", "desk")
    rows = _pdq_list(rng, 300, "list", "tx")
    rows += [HashRow(r.algorithm, r.hash, 10, r.label, r.source) for r in rows[::7]]  # repeats
    rows.insert(5, HashRow("pdq", stored[3].hash, 1, "known", "desk"))  # a stored row's key
    rows.insert(9, HashRow("pdq", stored[3].hash, 1, "other", "desk"))  # same hash, new key
    results = []
    for name, batch in (("rows", 1_000_000), ("bulk", 16)):
        with HashStore.open(tmp_path / f"{name}.sqlite") as store:
            assert store.add(stored) == 40
            assert store.add(rows, batch=batch) == 301
            assert store.add(rows[:50], batch=batch) == 0  # the same list again
            assert _keys_match_rows(store)
            results.append([(r.label, r.hash, r.quality) for r in store.rows()])
    assert results[0] == results[1]
    firsts = [(r.label, r.hash, r.quality) for r in rows[:302] if r.label != "known"]
    assert results[1][40:] == firsts  # ids follow the input order


def test_bulk_rows_of_mixed_fields_keep_their_order(tmp_path: Path) -> None:
    """Runs of rows that share their fields go 64 at a time with the shared values bound
    once; short runs between them (rows with a sha256 each) go as usual: the ids still
    follow the input order and every field is stored."""
    rng = np.random.default_rng(2)
    rows = _pdq_list(rng, 200, "a", "s")
    for i, r in enumerate(rows[70:90]):
        r.sha256, r.time, r.note = f"{i:064x}", float(i), "frame"
    rows[150].label = "b"
    with HashStore.open(tmp_path / "s.sqlite") as store:
        assert store.add(rows, batch=64) == 200
        got = list(store.rows())
        assert [(r.hash, r.label, r.sha256, r.time, r.note) for r in got] == [
            (r.hash, r.label, r.sha256, r.time, r.note) for r in rows
        ]
        assert [r.id for r in got] == list(range(1, 201))
        assert _keys_match_rows(store)
        assert (
            store.conn.execute(
                "SELECT COUNT(*) FROM hashes INDEXED BY hashes_sha256 WHERE sha256 IS NOT NULL"
            ).fetchone()[0]
            == 20
        )


def test_remove_then_add_again(tmp_path: Path) -> None:
    """A removed row takes its key along (trigger), so the same row can be added again;
    a row changed by another tool keeps the key table in step."""
    rows = _pdq_list(np.random.default_rng(3), 30, "l", "s")
    with HashStore.open(tmp_path / "s.sqlite") as store:
        assert store.add(rows, batch=8) == 30
        assert store.remove(ids=[3, 4]) == 2
        assert store.add(rows[2:4]) == 2
        store.conn.execute("UPDATE hashes SET label = 'moved' WHERE id = 10")
        assert store.add([rows[9]]) == 1
        assert _keys_match_rows(store)


def _v4_store(path: Path, rows: list[HashRow]) -> None:
    """A store as triage wrote it before schema v5 (unique index on ``hashes``)."""
    conn = sqlite3.connect(path, isolation_level=None)
    for script in MIGRATIONS[:4]:
        for statement in _statements(script):
            conn.execute(statement)
    conn.execute("PRAGMA user_version = 4")
    conn.executemany(
        "INSERT OR IGNORE INTO hashes (algorithm, hash, quality, label, source, sha256, "
        "media_time, added_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'x')",
        [
            (r.algorithm, bytes.fromhex(r.hash), r.quality, r.label, r.source, r.sha256, r.time)
            for r in rows
        ],
    )
    conn.close()


def test_a_v4_store_opens_answers_and_still_refuses_duplicates(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    rows = _pdq_list(rng, 500, "old", "desk")
    rows[7].sha256, rows[8].time = "a" * 64, 2.5
    db = tmp_path / "v4.sqlite"
    _v4_store(db, rows + rows[:3])  # the old unique index skipped the repeats
    query = rows[11].hash[:-1] + ("0" if rows[11].hash[-1] != "0" else "1")
    with HashStore.open(db) as store:
        assert store.stats()["schema_version"] == SCHEMA_VERSION == 5
        assert store.count() == 500 and _keys_match_rows(store)
        assert [m.row.id for m in store.lookup("pdq", [query], 4)] == [12]
        assert store.add(rows[:20]) == 0  # known rows, row by row
        assert store.add(rows[:20] + _pdq_list(rng, 30, "old", "desk"), batch=10) == 30  # bulk
        assert store.count() == 530 and _keys_match_rows(store)
    names = {r[0] for r in sqlite3.connect(db).execute("SELECT name FROM sqlite_master")}
    assert "hashes_unique" not in names and {"hash_keys", "hashes_sha256"} <= names


def test_lookup_after_bulk_lists_equals_a_scan(tmp_path: Path) -> None:
    """Two bulk lists and a small add into a small store: every lookup returns exactly
    the rows a scan of the stored hashes finds within the radius."""
    rng = np.random.default_rng(5)
    first = _pdq_list(rng, 3000, "one", "tx")
    second = _pdq_list(rng, 3000, "two", "tx")
    for i in range(0, 3000, 100):  # near copies of the first list's rows
        flipped = bytearray(bytes.fromhex(first[i].hash))
        flipped[i % 32] ^= 0x0F
        second[i].hash = flipped.hex()
    with HashStore.open(tmp_path / "s.sqlite") as store:
        assert store.add(first, batch=500) == 3000
        assert store.add(second + first[:10], batch=500) == 3000
        assert store.add([HashRow("pdq", first[5].hash, 1, "three", "desk")]) == 1
        stored = [(r.id, r.hash) for r in store.rows("pdq")]
        for q in [first[i].hash for i in range(0, 3000, 250)] + [second[7].hash]:
            want = {i for i, h in stored if hamming(h, q) <= 31}
            assert {m.row.id for m in store.lookup("pdq", [q], 31)} == want
            assert want


def test_exact_digest_lookup_is_a_key_lookup(tmp_path: Path) -> None:
    """An MD5 list's exact match reads the key table by (algorithm, hash), never a
    scan of the whole store."""
    from triage.store.lookup import digest_rows

    rows = [HashRow("md5", f"{i:032x}", None, "ncii", "list") for i in range(40)]
    with HashStore.open(tmp_path / "s.sqlite") as store:
        assert store.add(rows, batch=16) == 40
        statements: list[str] = []
        store.conn.set_trace_callback(statements.append)
        assert [r.id for r in digest_rows(store, "md5", f"{7:032x}")] == [8]
        store.conn.set_trace_callback(None)
        plan = store.conn.execute("EXPLAIN QUERY PLAN " + statements[-1]).fetchall()
        steps = " | ".join(step[3] for step in plan)
        assert "hash_keys USING PRIMARY KEY (algorithm=? AND hash=?)" in steps
        assert "SCAN" not in steps


def test_bulk_rows_with_digests_rebuild_the_digest_index(tmp_path: Path) -> None:
    """More than a batch of appended rows with a sha256: the digest index is dropped
    for the rest of the import and built again before the commit."""
    rows = _pdq_list(np.random.default_rng(6), 40, "pics", "desk")
    for i, r in enumerate(rows):
        r.sha256 = f"{i % 30:064x}"
    with HashStore.open(tmp_path / "s.sqlite") as store:
        statements: list[str] = []
        store.conn.set_trace_callback(statements.append)
        assert store.add(rows, batch=8) == 40
        store.conn.set_trace_callback(None)
        assert any(s.startswith("DROP INDEX IF EXISTS hashes_sha256") for s in statements)
        plan = store.conn.execute(
            "EXPLAIN QUERY PLAN SELECT id FROM hashes WHERE sha256 = ?", ("0" * 64,)
        ).fetchall()
        assert "hashes_sha256" in plan[0][3]
        got = store.conn.execute("SELECT id FROM hashes WHERE sha256 = ?", (f"{3:064x}",))
        assert [r[0] for r in got] == [4, 34]
        assert _keys_match_rows(store)
