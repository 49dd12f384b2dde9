"""The reference store's SQL schema and its migrations.

``PRAGMA user_version`` holds the schema version. ``MIGRATIONS[i]`` takes a store
from version ``i`` to ``i + 1``; opening a store applies the missing ones in one
transaction, so an old file is upgraded in place and a newer file is refused.
"""

from __future__ import annotations

ALGORITHMS = ("pdq", "phash", "dhash", "md5")
HASH_BITS = {"pdq": 256, "phash": 64, "dhash": 64, "md5": 128}
# Perceptual hashes match within a Hamming radius; file digests (MD5 lists as
# StopNCII-style programmes share them) match only exactly.
PERCEPTUAL = ("pdq", "phash", "dhash")

_V1 = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS hashes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    algorithm  TEXT NOT NULL CHECK (algorithm IN ('pdq', 'phash', 'dhash')),
    hash       BLOB NOT NULL,
    quality    INTEGER,
    label      TEXT NOT NULL DEFAULT '',
    source     TEXT NOT NULL DEFAULT '',
    first_seen TEXT,
    note       TEXT NOT NULL DEFAULT '',
    sha256     TEXT,
    media_time REAL,
    added_at   TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS hashes_unique ON hashes (
    algorithm, hash, IFNULL(sha256, ''), IFNULL(media_time, -1.0), label, source
);
INSERT OR IGNORE INTO meta (key, value) VALUES ('generation', '0');
"""

# v2: lookups by file digest (remove FILE, "is this exact file known?").
_V2 = """
CREATE INDEX IF NOT EXISTS hashes_sha256 ON hashes (sha256) WHERE sha256 IS NOT NULL;
"""

# v3: hashes derived from the reference picture (central crops, so that a cropped
# copy still matches); '' for the picture as it is.
_V3 = """
ALTER TABLE hashes ADD COLUMN derived TEXT NOT NULL DEFAULT '';
DROP INDEX IF EXISTS hashes_unique;
CREATE UNIQUE INDEX hashes_unique ON hashes (
    algorithm, hash, IFNULL(sha256, ''), IFNULL(media_time, -1.0), derived, label, source
);
"""

# v4: MD5 digests of files beside the perceptual hashes. SQLite cannot change a CHECK
# constraint in place, so the table is rebuilt (ids kept, so the AUTOINCREMENT counter
# and exported row ids stay valid).
_V4 = """
CREATE TABLE hashes_v4 (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    algorithm  TEXT NOT NULL CHECK (algorithm IN ('pdq', 'phash', 'dhash', 'md5')),
    hash       BLOB NOT NULL,
    quality    INTEGER,
    label      TEXT NOT NULL DEFAULT '',
    source     TEXT NOT NULL DEFAULT '',
    first_seen TEXT,
    note       TEXT NOT NULL DEFAULT '',
    sha256     TEXT,
    media_time REAL,
    added_at   TEXT NOT NULL,
    derived    TEXT NOT NULL DEFAULT ''
);
INSERT INTO hashes_v4 (id, algorithm, hash, quality, label, source, first_seen, note, sha256,
    media_time, added_at, derived)
    SELECT id, algorithm, hash, quality, label, source, first_seen, note, sha256, media_time,
    added_at, derived FROM hashes;
UPDATE sqlite_sequence SET seq = MAX(seq, IFNULL((SELECT seq FROM sqlite_sequence
    WHERE name = 'hashes'), 0)) WHERE name = 'hashes_v4';
DROP TABLE hashes;
ALTER TABLE hashes_v4 RENAME TO hashes;
CREATE UNIQUE INDEX hashes_unique ON hashes (
    algorithm, hash, IFNULL(sha256, ''), IFNULL(media_time, -1.0), derived, label, source
);
CREATE INDEX hashes_sha256 ON hashes (sha256) WHERE sha256 IS NOT NULL;
"""

# v5: the unique key of a row moves from an index on ``hashes`` into its own table,
# ``hash_keys`` (the key's columns in the old index's order, then the row id), so that
# a bulk import can add the keys of its new rows in key order, one sort of the new
# rows only, instead of rebuilding an index over every stored row (issue 20: a
# second list of 10M rows into 10M re-sorted all 20M). The same columns are unique
# as before, so the same rows are refused, and (algorithm, hash) still leads, so an
# exact digest is one key lookup (lookup.py). Triggers keep the table and its keys
# together for every writer (triage or not): an insert whose key is stored already
# is skipped (what INSERT OR IGNORE did with the index), a deleted or changed row
# takes its key along. ``HashStore.add`` drops the two insert triggers for a bulk
# import and adds the keys itself (db.py), in the same transaction.
KEY_COLUMNS = "algorithm, hash, sha256, media_time, derived, label, source"


def _key_of(prefix: str) -> str:
    """The key of a row of ``hashes`` (``prefix``: "" for the table's own columns,
    "NEW." in a trigger); NULL sha256 and media_time are stored as '' and -1.0 (the
    old unique index held the same expressions)."""
    p = prefix
    return (
        f"{p}algorithm, {p}hash, IFNULL({p}sha256, ''), IFNULL({p}media_time, -1.0), "
        f"{p}derived, {p}label, {p}source"
    )


KEY_OF_ROW = _key_of("")
_NEW_KEY = _key_of("NEW.")
KEY_MATCHES = (
    "algorithm = {r}.algorithm AND hash = {r}.hash AND sha256 = IFNULL({r}.sha256, '') "
    "AND media_time = IFNULL({r}.media_time, -1.0) AND derived = {r}.derived "
    "AND label = {r}.label AND source = {r}.source"
)
# The triggers an insert fires; a bulk add drops them and adds the keys itself.
INSERT_TRIGGERS = (
    (
        "hashes_key_check",
        f"""CREATE TRIGGER hashes_key_check BEFORE INSERT ON hashes
WHEN EXISTS (SELECT 1 FROM hash_keys WHERE {KEY_MATCHES.format(r="NEW")})
BEGIN SELECT RAISE(IGNORE); END""",
    ),
    (
        "hashes_key_add",
        f"""CREATE TRIGGER hashes_key_add AFTER INSERT ON hashes
BEGIN INSERT INTO hash_keys ({KEY_COLUMNS}, id) VALUES ({_NEW_KEY}, NEW.id); END""",
    ),
)
# The trigger a delete fires; a bulk add drops it while it removes the duplicates it
# appended (their keys are stored under other ids, so it would find nothing).
DELETE_TRIGGER = (
    "hashes_key_drop",
    f"""CREATE TRIGGER hashes_key_drop AFTER DELETE ON hashes
BEGIN DELETE FROM hash_keys WHERE {KEY_MATCHES.format(r="OLD")} AND id = OLD.id; END""",
)
_V5 = f"""
CREATE TABLE hash_keys (
    algorithm  TEXT NOT NULL,
    hash       BLOB NOT NULL,
    sha256     TEXT NOT NULL,
    media_time REAL NOT NULL,
    derived    TEXT NOT NULL,
    label      TEXT NOT NULL,
    source     TEXT NOT NULL,
    id         INTEGER NOT NULL,
    PRIMARY KEY ({KEY_COLUMNS})
) WITHOUT ROWID;
INSERT INTO hash_keys ({KEY_COLUMNS}, id)
    SELECT {KEY_OF_ROW}, id FROM hashes ORDER BY 1, 2, 3, 4, 5, 6, 7;
DROP INDEX hashes_unique;
{INSERT_TRIGGERS[0][1]};
{INSERT_TRIGGERS[1][1]};
{DELETE_TRIGGER[1]};
CREATE TRIGGER hashes_key_change AFTER UPDATE OF id, {KEY_COLUMNS} ON hashes
BEGIN
    DELETE FROM hash_keys WHERE {KEY_MATCHES.format(r="OLD")} AND id = OLD.id;
    INSERT INTO hash_keys ({KEY_COLUMNS}, id) VALUES ({_NEW_KEY}, NEW.id);
END;
"""

MIGRATIONS: list[str] = [_V1, _V2, _V3, _V4, _V5]
SCHEMA_VERSION = len(MIGRATIONS)
