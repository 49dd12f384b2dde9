"""Exact Hamming-radius search over many binary hashes: multi-index hashing.

Every hash (64 or 256 bits) is cut into 16-bit bands. For each band the rows are
sorted by the band's value and an offsets table (65,537 entries) says where each
value's rows start, so the rows holding a given band value are one slice.

Pigeonhole: if two hashes differ in at most ``r`` bits over ``m`` bands, at least
one band differs in at most ``floor(r / m)`` bits. A query therefore probes, in
every band, all values within ``s = floor(r / m)`` bits of its own band value
(1 probe for s = 0, 17 for s = 1, 137 for s = 2), collects the rows found, and
verifies each candidate with a full popcount. The answer is exact: the same rows
a full scan finds. For PDQ at radius 31 (16 bands, s = 1) a query on random
hashes touches about 272 slices and ~4,000 candidates out of 1,000,000; for
pHash at radius 4 (4 bands, s = 1) about 1,000. When ``s`` would exceed 2 the
probing costs more than it saves and the search falls back to a vectorised scan.

Reference: M. Norouzi, A. Punjani, D. J. Fleet, "Fast Search in Hamming Space
with Multi-Index Hashing", CVPR 2012.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from itertools import combinations
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

BAND_BITS = 16
MAX_PROBE_RADIUS = 2
QUERY_CHUNK = 16
# Below this many rows a scan is as fast as probing and needs no tables (and no
# multi-megabyte cache file for a store of a few hundred pictures).
MIN_INDEXED_ROWS = 20_000  # for 256-bit hashes; 64-bit ones need 4x as many

_NVALUES = 1 << BAND_BITS


def popcount_rows(x: np.ndarray) -> np.ndarray:
    """Row-wise popcount of an N x W uint64 array (int64 result)."""
    import numpy as np

    if hasattr(np, "bitwise_count"):
        counts = np.bitwise_count(x)
        return counts.sum(axis=1, dtype=np.int64) if counts.ndim == 2 else counts.astype(np.int64)
    table = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)  # numpy < 2
    as_bytes = np.ascontiguousarray(x).view(np.uint8).reshape(x.shape[0], -1)
    out: np.ndarray = table[as_bytes].sum(axis=1, dtype=np.int64)
    return out


@cache
def probe_masks(radius: int) -> np.ndarray:
    """All 16-bit masks with at most ``radius`` bits set (0 first)."""
    import numpy as np

    masks = [0]
    for r in range(1, radius + 1):
        for bits in combinations(range(BAND_BITS), r):
            m = 0
            for b in bits:
                m |= 1 << b
            masks.append(m)
    arr = np.array(masks, dtype=np.int64)
    arr.flags.writeable = False
    return arr


def band_values(words: np.ndarray) -> np.ndarray:
    """N x W uint64 -> (W*4) x N int64 band values (16 bits each)."""
    import numpy as np

    n, w = words.shape
    out = np.empty((w * 4, n), dtype=np.int64)
    for b in range(w * 4):
        shift = np.uint64(48 - BAND_BITS * (b % 4))
        out[b] = ((words[:, b // 4] >> shift) & np.uint64(0xFFFF)).astype(np.int64)
    return out


@dataclass
class SearchResult:
    """Matches of one query: positions in the index and their distances, nearest first."""

    positions: np.ndarray
    distances: np.ndarray


class BandIndex:
    """Multi-index hashing over 16-bit bands of N hashes of ``bits`` bits."""

    def __init__(
        self, words: np.ndarray, ids: np.ndarray, order: np.ndarray, offsets: np.ndarray
    ) -> None:
        self.words = words  # N x W uint64
        self.ids = ids  # N row ids (int64)
        self.order = order  # bands x N int32: row positions sorted by band value
        self.offsets = offsets  # bands x 65537 int32: slice starts per band value
        # (both empty for a small index, which is searched by scanning)
        self.bits = int(words.shape[1]) * 64
        self.nbands = self.bits // BAND_BITS

    def __len__(self) -> int:
        return int(self.words.shape[0])

    # ---------------------------------------------------------------- build
    @classmethod
    def build(cls, words: np.ndarray, ids: np.ndarray, min_rows: int | None = None) -> BandIndex:
        import numpy as np

        words = np.ascontiguousarray(words, dtype=np.uint64)
        ids = np.asarray(ids, dtype=np.int64)
        if min_rows is None:  # a scan's cost grows with the hash length (measured crossover)
            min_rows = MIN_INDEXED_ROWS * 4 // max(1, words.shape[1])
        if words.shape[0] < min_rows:
            none = np.zeros((0, 0), dtype=np.int32)
            return cls(words, ids, none, none)
        bands = band_values(words)
        order = np.empty(bands.shape, dtype=np.int32)
        offsets = np.empty((bands.shape[0], _NVALUES + 1), dtype=np.int32)
        for b in range(bands.shape[0]):
            vals = bands[b].astype(np.uint16)
            order[b] = np.argsort(vals, kind="stable")  # radix sort for uint16
            counts = np.bincount(vals, minlength=_NVALUES)
            offsets[b, 0] = 0
            np.cumsum(counts, out=offsets[b, 1:])
        return cls(words, ids, order, offsets)

    @property
    def banded(self) -> bool:
        return self.order.size > 0

    _PARTS = ("words", "ids", "order", "offsets")

    def save(self, folder: Path, name: str, key: str) -> None:
        """Write the index as ``<name>-<key>.<part>.npy`` files in ``folder``.

        Each part is written to a temporary file and renamed; a ``.ok`` marker
        written last says the set is complete. Files of other keys are removed
        afterwards (a process still reading them keeps its open copy).
        """
        import numpy as np

        from triage.fileio import atomic_file

        folder.mkdir(parents=True, exist_ok=True)
        stem = f"{name}-{key}"
        for part in self._PARTS:
            with atomic_file(folder / f"{stem}.{part}.npy") as fh:
                np.save(fh, np.ascontiguousarray(getattr(self, part)))
        (folder / f"{stem}.ok").write_text(key)
        for old in folder.glob(f"{name}-*"):
            if not old.name.startswith(stem + "."):
                old.unlink(missing_ok=True)

    @classmethod
    def load(cls, folder: Path, name: str, key: str) -> BandIndex | None:
        """The cached index built for ``key``, memory-mapped (shared between the
        processes of a batch scan), or None."""
        import numpy as np

        stem = f"{name}-{key}"
        if not (folder / f"{stem}.ok").is_file():
            return None
        try:
            parts = [
                np.load(folder / f"{stem}.{part}.npy", mmap_mode="r", allow_pickle=False)
                for part in cls._PARTS
            ]
        except (OSError, ValueError):
            return None
        return cls(*parts)

    # --------------------------------------------------------------- search
    def search_many(self, queries: np.ndarray, radius: int) -> list[SearchResult]:
        """Exact radius search for Q x W uint64 queries; one result per query.

        Queries go through in chunks of ``QUERY_CHUNK`` so that the candidate
        arrays stay in cache.
        """
        import numpy as np

        queries = np.ascontiguousarray(queries, dtype=np.uint64).reshape(-1, self.words.shape[1])
        if queries.shape[0] > QUERY_CHUNK:
            out: list[SearchResult] = []
            for start in range(0, queries.shape[0], QUERY_CHUNK):
                out.extend(self._search_chunk(queries[start : start + QUERY_CHUNK], radius))
            return out
        return self._search_chunk(queries, radius)

    def _search_chunk(self, queries: np.ndarray, radius: int) -> list[SearchResult]:
        import numpy as np

        nq = queries.shape[0]
        n = len(self)
        if n == 0 or nq == 0:
            empty = np.zeros(0, dtype=np.int64)
            return [SearchResult(empty, empty) for _ in range(nq)]
        s = radius // self.nbands
        if radius < 0:
            empty = np.zeros(0, dtype=np.int64)
            return [SearchResult(empty, empty) for _ in range(nq)]
        if s > MAX_PROBE_RADIUS or not self.banded:
            return [self._scan(q, radius) for q in queries]
        masks = probe_masks(s)
        qb = band_values(queries)  # bands x Q
        keys = qb[:, :, None] ^ masks[None, None, :]  # bands x Q x P
        band_idx = np.arange(self.nbands)[:, None, None]
        starts = self.offsets[band_idx, keys].astype(np.int64)
        ends = self.offsets[band_idx, keys + 1].astype(np.int64)
        lens = (ends - starts).ravel()
        total = int(lens.sum())
        if total == 0:
            empty = np.zeros(0, dtype=np.int64)
            return [SearchResult(empty, empty) for _ in range(nq)]
        flat_starts = (starts + band_idx * n).ravel()  # into order.ravel()
        qids_per_range = np.broadcast_to(np.arange(nq)[None, :, None], keys.shape).ravel()
        nonzero = lens > 0
        lens = lens[nonzero]
        flat_starts = flat_starts[nonzero]
        qids_per_range = qids_per_range[nonzero]
        # Concatenate the slices: position = start of its range + offset inside it.
        range_first = np.cumsum(lens) - lens
        within = np.arange(total, dtype=np.int64) - np.repeat(range_first, lens)
        pos = np.repeat(flat_starts, lens) + within
        cand = self.order.ravel()[pos].astype(np.int64)
        qid = np.repeat(qids_per_range, lens)
        dist = popcount_rows(self.words[cand] ^ queries[qid])
        keep = dist <= radius
        cand, qid, dist = cand[keep], qid[keep], dist[keep]
        pair = np.unique(qid * n + cand)  # a row found through several bands once
        qid_u, cand_u = pair // n, pair % n
        dist_u = popcount_rows(self.words[cand_u] ^ queries[qid_u])
        out = []
        bounds = np.searchsorted(qid_u, np.arange(nq + 1))
        for i in range(nq):
            c = cand_u[bounds[i] : bounds[i + 1]]
            d = dist_u[bounds[i] : bounds[i + 1]]
            o = np.argsort(d, kind="stable")
            out.append(SearchResult(c[o], d[o]))
        return out

    def search(self, query: np.ndarray, radius: int) -> SearchResult:
        return self.search_many(query.reshape(1, -1), radius)[0]

    def _scan(self, query: np.ndarray, radius: int) -> SearchResult:
        return scan(self.words, query, radius)


def scan(words: np.ndarray, query: np.ndarray, radius: int) -> SearchResult:
    """Reference answer: XOR and popcount every row (vectorised, single thread)."""
    import numpy as np

    dist = popcount_rows(words ^ query.reshape(1, -1))
    hit = np.nonzero(dist <= radius)[0]
    d = dist[hit]
    o = np.argsort(d, kind="stable")
    return SearchResult(hit[o].astype(np.int64), d[o])
