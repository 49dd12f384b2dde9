"""Local reference store of perceptual hashes: "has this picture been seen before?"

* :mod:`triage.store.db` — the SQLite store of record (WAL, versioned schema);
* :mod:`triage.store.schema` — the schema and its migrations;
* :mod:`triage.store.index` — exact Hamming-radius search (multi-index hashing);
* :mod:`triage.store.exchange` — import/export as JSON Lines or CSV;
* :mod:`triage.store.hashlists` — reading hash lists as exchanged (ThreatExchange PDQ
  CSV/TSV, MD5 lists);
* :mod:`triage.store.lookup` — plain PDQ-within-distance and exact MD5 lookups.

Only hashes (perceptual hashes, and MD5 digests of files from imported lists) and the
user's own words (label, source, note) are stored; never pixels, never file paths.
"""

from __future__ import annotations

from triage.store.db import (
    HashRow,
    HashStore,
    Match,
    StoreError,
    default_db_path,
    resolve_db_path,
    store_has_rows,
)

__all__ = [
    "HashRow",
    "HashStore",
    "Match",
    "StoreError",
    "default_db_path",
    "resolve_db_path",
    "store_has_rows",
]
