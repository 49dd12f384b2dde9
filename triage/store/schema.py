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

MIGRATIONS: list[str] = [_V1, _V2, _V3, _V4]
SCHEMA_VERSION = len(MIGRATIONS)
