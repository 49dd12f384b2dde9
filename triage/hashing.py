"""Perceptual hashes (pHash, dHash, PDQ), their dihedral variants, and Hamming helpers.

Pure functions over numpy arrays; no I/O. Every hash is computed from one small
decode of the picture (``Media.reduced(512)``): PDQ's reference tools hash at
most 512 px, and pHash/dHash shrink to 32 x 32 / 9 x 8 anyway, so hashing the
reduced image gives the same (pHash) or nearly the same (PDQ) bits as the full
image at a fraction of the cost.

Hashes travel as lower-case hex strings (16 hex digits for the 64-bit pHash and
dHash, 64 for the 256-bit PDQ).

References
----------
* pHash: C. Zauner, "Implementation and Benchmarking of Perceptual Image Hash
  Functions", 2010; bit layout as in the ``imagehash`` package (DCT of a 32 x 32
  grey image, 8 x 8 lowest frequencies compared with their median).
* dHash: N. Krawetz, "Kind of like that", 2013 (horizontal gradient signs of a
  9 x 8 grey image); bit layout as ``imagehash.dhash``.
* PDQ: Meta, "The TMK+PDQF and PDQ hashing algorithms" (hashing.pdf, 2019):
  luminance, two passes of a Jarosz box filter, 64 x 64 decimation, 16 x 16 DCT
  without the DC row/column, threshold at the median; quality = gradient energy
  of the 64 x 64 image. Bits and hex layout as the reference ``Hash256::format``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

# Match lines. PDQ <= 31 is the industry's usual threshold (Meta's documentation;
# ThreatExchange uses it). pHash <= 4: the closest measured unrelated pair was 8
# bits apart (statistics below), so 4 keeps a margin; see
# docs/analyzers/provenance.md.
PDQ_RADIUS = 31
PHASH_RADIUS = 4
# pHash of a nearly flat picture (PDQ quality < 50 on either side) is less stable.
PHASH_RADIUS_LOW_DETAIL = 2
# A pHash-only match is refused when the same reference's PDQ is farther than this:
# unrelated pictures measured 84+ bits apart; copies after the six everyday
# changes at most 72 (a 5% crop, before the reference crops were stored).
PDQ_CONTRADICTS = 96
# Below this PDQ quality the picture is nearly flat and its bits are mostly noise;
# Meta's reference matcher ignores such hashes.
PDQ_MIN_QUALITY = 50

# Looser pair of lines used together: a reference whose pHash is within 8 bits AND
# whose PDQ is within 50 bits matches (catches crops, which move PDQ most).
PHASH_PAIR_RADIUS = 8
PDQ_PAIR_RADIUS = 50
# Near-duplicates within a batch (scan summary, HTML report): pHash within 8 bits.
NEAR_DUPLICATE_RADIUS = 8

# Distances between unrelated pictures, measured: all pairs of 155 corpus images
# (../shared/corpus: camera, c2pa, generator, manipulated; pairs within PDQ 80 or
# pHash 4 of each other dropped as copies of one picture, PDQ pairs with a quality
# under 50 dropped) and 200 unrelated generated scenes. (pairs, distances <= the
# listed bound that occurred). See docs/analyzers/provenance.md.
UNRELATED_PAIRS: dict[str, tuple[int, tuple[int, ...]]] = {
    "pdq": (53_903, (84, 84, 86, 88, 88, 88, 88, 90, 90, 90, 90)),  # all <= 90
    "phash": (62_681, (8, 12, 14, 14, 14, 14, 14)),  # all <= 14
    "dhash": (62_681, (8, 12, 14, 14, 14, 14, 14)),  # not measured: pHash's figures
}

WORKING_SIZE = 512  # long side of the shared decode every hash is computed from


@dataclass(frozen=True)
class ImageHashes:
    """All hashes of one picture, as hex, plus PDQ's quality (0..100)."""

    phash: str
    dhash: str
    pdq: str
    pdq_quality: int

    def as_metrics(self) -> dict[str, str | int]:
        return {
            "phash": self.phash,
            "dhash": self.dhash,
            "pdq": self.pdq,
            "pdq_quality": self.pdq_quality,
        }


# ---------------------------------------------------------------- hex helpers
def bits_to_hex(bits: np.ndarray) -> str:
    """A flat boolean array (first element = most significant bit) as hex."""
    import numpy as np

    flat = np.asarray(bits, dtype=bool).ravel()
    return np.packbits(flat).tobytes().hex()


def hex_to_bits(value: str) -> np.ndarray:
    """Hex string -> flat boolean array, most significant bit first."""
    import numpy as np

    return np.unpackbits(np.frombuffer(bytes.fromhex(value), dtype=np.uint8)).astype(bool)


def normalize_hex(value: str, bits: int) -> str:
    """Validate and lower-case a hex hash of ``bits`` bits; raises ``ValueError``."""
    text = value.strip().lower()
    if text.startswith("0x"):
        text = text[2:]
    if len(text) != bits // 4:
        raise ValueError(f"expected {bits // 4} hex digits for a {bits}-bit hash, got {len(text)}")
    try:
        bytes.fromhex(text)
    except ValueError:
        raise ValueError("not a hexadecimal string") from None
    return text


def hamming(a: str, b: str) -> int:
    """Hamming distance between two hex hashes of the same length."""
    if len(a) != len(b):
        raise ValueError("hashes of different lengths")
    return (int(a, 16) ^ int(b, 16)).bit_count()


# ---------------------------------------------------------------- grey images
def _to_gray_pil(rgb: np.ndarray):  # type: ignore[no-untyped-def]
    from PIL import Image

    arr = rgb
    if arr.ndim == 2:
        return Image.fromarray(arr, "L")
    return Image.fromarray(arr[..., :3], "RGB").convert("L")


@cache
def _dct_matrix(n_out: int, n_in: int, skip_dc: bool) -> np.ndarray:
    """Rows k of the (unnormalised) DCT-II basis: cos(pi * k * (2x + 1) / (2 n_in))."""
    import numpy as np

    k = np.arange(n_out, dtype=np.float64)[:, None] + (1.0 if skip_dc else 0.0)
    x = np.arange(n_in, dtype=np.float64)[None, :]
    m = np.cos(np.pi * k * (2 * x + 1) / (2 * n_in))
    m.flags.writeable = False
    return m


# ----------------------------------------------------------------- pHash/dHash
def phash_dct(rgb: np.ndarray) -> np.ndarray:
    """The 8 x 8 low-frequency DCT of the 32 x 32 grey picture (imagehash's pHash input)."""
    import numpy as np
    from PIL import Image

    small = _to_gray_pil(rgb).resize((32, 32), Image.Resampling.LANCZOS)
    px = np.asarray(small, dtype=np.float64)
    d = _dct_matrix(8, 32, False)
    out: np.ndarray = np.einsum("ai,ij,bj->ab", d, px, d, optimize=False)
    return out


def _phash_bits(coeffs: np.ndarray) -> np.ndarray:
    import numpy as np

    return np.asarray(coeffs > np.median(coeffs))


def phash(rgb: np.ndarray) -> str:
    """64-bit pHash as 16 hex digits (bit-identical to ``imagehash.phash``)."""
    return bits_to_hex(_phash_bits(phash_dct(rgb)))


def dhash(rgb: np.ndarray) -> str:
    """64-bit dHash as 16 hex digits (bit-identical to ``imagehash.dhash``)."""
    import numpy as np
    from PIL import Image

    small = _to_gray_pil(rgb).resize((9, 8), Image.Resampling.LANCZOS)
    px = np.asarray(small, dtype=np.int16)
    return bits_to_hex(px[:, 1:] > px[:, :-1])


# ------------------------------------------------------------------------ PDQ
_TAPS_LIMIT = 4096


def _jarosz_window(old: int, new: int = 64) -> int:
    return (old + 2 * new - 1) // (2 * new)


def _box_mean(a: np.ndarray, window: int, axis: int) -> np.ndarray:
    """PDQ's one-dimensional box filter: a mean over a window clipped at the edges.

    Output ``o`` averages inputs ``o - (window - half) .. o + half - 1`` that exist,
    with ``half = (window + 2) // 2`` (the reference ``box1DFloat``).
    """
    import numpy as np

    n = a.shape[axis]
    half = (window + 2) // 2
    o = np.arange(n)
    lo = np.clip(o - (window - half), 0, n)
    hi = np.clip(o + half, 0, n)
    cs = np.cumsum(a, axis=axis, dtype=np.float64)
    zero_shape = list(a.shape)
    zero_shape[axis] = 1
    cs = np.concatenate([np.zeros(zero_shape), cs], axis=axis)
    sums = np.take(cs, hi, axis=axis) - np.take(cs, lo, axis=axis)
    shape = [1] * a.ndim
    shape[axis] = n
    out: np.ndarray = sums / (hi - lo).reshape(shape)
    return out


@cache
def _pdq_taps(n: int) -> tuple[np.ndarray, np.ndarray]:
    """PDQ's two box-filter passes then decimation to 64 samples, as sparse taps.

    Both steps are linear, so output ``i`` is ``sum_k weight[i, k] * x[index[i, k]]``
    over a few inputs (a tent about twice the box window wide). Gathering those
    taps avoids filtering the whole picture and any BLAS call (whose threads
    thrash on a busy machine).
    """
    import numpy as np

    window = _jarosz_window(n)
    half = (window + 2) // 2
    pick = (((np.arange(64) + 0.5) * n) / 64).astype(np.int64)
    rows: list[dict[int, float]] = []
    for p in pick.tolist():
        taps: dict[int, float] = {}
        lo, hi = max(0, p - (window - half)), min(n, p + half)
        for j in range(lo, hi):  # second pass: mean of first-pass outputs lo..hi-1
            lo2, hi2 = max(0, j - (window - half)), min(n, j + half)
            for k in range(lo2, hi2):  # first pass: mean of inputs lo2..hi2-1
                taps[k] = taps.get(k, 0.0) + 1.0 / ((hi - lo) * (hi2 - lo2))
        rows.append(taps)
    width = max(len(t) for t in rows)
    index = np.zeros((64, width), dtype=np.int64)
    weight = np.zeros((64, width), dtype=np.float64)
    for i, taps in enumerate(rows):
        for k, (col, wgt) in enumerate(sorted(taps.items())):
            index[i, k], weight[i, k] = col, wgt
    index.flags.writeable = False
    weight.flags.writeable = False
    return index, weight


def pdq_dct(rgb: np.ndarray) -> tuple[np.ndarray, int]:
    """PDQ's 16 x 16 DCT matrix and quality (0..100) of an RGB or grey picture."""
    import numpy as np

    arr = np.asarray(rgb)
    if arr.ndim == 3:  # float32, as the reference implementation
        luma = arr[..., 0] * np.float32(0.299)
        luma += arr[..., 1] * np.float32(0.587)
        luma += arr[..., 2] * np.float32(0.114)
    else:
        luma = arr.astype(np.float32)
    rows, cols = luma.shape
    if max(rows, cols) <= _TAPS_LIMIT:
        ri, rw = _pdq_taps(rows)
        ci, cw = _pdq_taps(cols)
        tmp = np.einsum("ik,ikj->ij", rw, luma[ri])  # 64 x cols
        small = np.einsum("jk,ijk->ij", cw, tmp[:, ci])  # 64 x 64
    else:
        win_rows = _jarosz_window(cols)  # along each row: depends on the number of columns
        win_cols = _jarosz_window(rows)
        buf = luma
        for _ in range(2):  # two passes of the box filter = a tent filter
            buf = _box_mean(buf, win_rows, axis=1)
            buf = _box_mean(buf, win_cols, axis=0)
        ri = (((np.arange(64) + 0.5) * rows) / 64).astype(np.int64)
        ci = (((np.arange(64) + 0.5) * cols) / 64).astype(np.int64)
        small = buf[np.ix_(ri, ci)]
    quality = _pdq_quality(small)
    d = _dct_matrix(16, 64, True) * math.sqrt(2.0 / 64)
    out: np.ndarray = np.einsum("ai,ij,bj->ab", d, small, d, optimize=False)
    return out, quality


def _pdq_quality(small: np.ndarray) -> int:
    import numpy as np

    dv = np.trunc((small[:-1, :] - small[1:, :]) * 100 / 255)
    dh = np.trunc((small[:, :-1] - small[:, 1:]) * 100 / 255)
    total = int(np.abs(dv).sum() + np.abs(dh).sum())
    return min(100, total // 90)


def _pdq_bits(coeffs: np.ndarray) -> np.ndarray:
    """Reference layout: bit i*16+j set when C[i, j] > median; hex prints word 15 first."""
    import numpy as np

    flat = coeffs.ravel()
    median = np.partition(flat, 127)[127]
    bits = (coeffs > median)[::-1, ::-1]  # row 15 first, bit 15 of each word first
    return np.asarray(bits)


def pdq(rgb: np.ndarray) -> tuple[str, int]:
    """PDQ hash (64 hex digits) and quality of a picture (give it the 512 px decode)."""
    coeffs, quality = pdq_dct(rgb)
    return bits_to_hex(_pdq_bits(coeffs)), quality


# -------------------------------------------------------------- dihedral sets
def _dihedral_coeffs(c: np.ndarray, odd_first: bool) -> list[np.ndarray]:
    """The 8 mirror/rotation variants of a DCT matrix, original first.

    Mirroring the picture left-right negates the coefficients of odd horizontal
    frequency (cosine symmetry); transposing the picture transposes the matrix.
    ``odd_first``: index 0 is frequency 1 (PDQ drops the DC term) rather than 0.
    """
    import numpy as np

    n = c.shape[0]
    freq = np.arange(n) + (1 if odd_first else 0)
    sign = np.where(freq % 2 == 1, -1.0, 1.0)
    flip_x = sign[None, :]  # left-right mirror
    flip_y = sign[:, None]  # top-bottom mirror
    out = []
    for m in (c, c.T):
        out.extend([m, m * flip_x, m * flip_y, m * flip_x * flip_y])
    return out


def phash_dihedral(rgb: np.ndarray) -> list[str]:
    """pHash of the picture and of its 7 mirrors/rotations (original first)."""
    return [bits_to_hex(_phash_bits(m)) for m in _dihedral_coeffs(phash_dct(rgb), False)]


def pdq_dihedral(rgb: np.ndarray) -> tuple[list[str], int]:
    """PDQ of the picture and of its 7 mirrors/rotations (original first), and quality."""
    coeffs, quality = pdq_dct(rgb)
    return [bits_to_hex(_pdq_bits(m)) for m in _dihedral_coeffs(coeffs, True)], quality


def image_hashes(rgb: np.ndarray) -> ImageHashes:
    """pHash, dHash and PDQ (with quality) of an RGB uint8 picture."""
    p, q = pdq(rgb)
    return ImageHashes(phash=phash(rgb), dhash=dhash(rgb), pdq=p, pdq_quality=q)


def trim_uniform_border(rgb: np.ndarray, tolerance: float = 6.0, min_fraction: float = 0.02):
    """The picture without a flat frame around it (screenshot bars, letterboxing).

    Returns the cropped view, or None when no side has a uniform band covering at
    least ``min_fraction`` of the picture. A row/column belongs to the frame when
    its pixels stay within ``tolerance`` grey levels of the frame colour on average
    (and within 6 x ``tolerance`` everywhere: JPEG noise on small pictures).
    """
    import numpy as np

    arr = np.asarray(rgb)
    g = arr.astype(np.float32).mean(axis=2) if arr.ndim == 3 else arr.astype(np.float32)
    h, w = g.shape
    if h < 16 or w < 16:
        return None

    def run(lines: np.ndarray, ref: float) -> int:
        """Leading lines close to the frame colour ``ref`` (JPEG ringing tolerated)."""
        lines = lines[: max(1, int(lines.shape[0] * 0.4))]  # frames wider than 40% are refused
        dev = np.abs(lines - ref)
        mean_dev = dev.mean(axis=1)
        bad = (mean_dev > tolerance) | (dev.max(axis=1) > tolerance * 6)
        first = np.nonzero(bad)[0]
        if not first.size:
            return lines.shape[0]
        n = int(first[0])
        # A frame ends in a step to the content; a smooth sky or wall that slowly
        # drifts away from its edge colour is content, not a frame.
        if n and mean_dev[n : n + 3].max() < tolerance * 4:
            return 0
        return n

    # Each side's frame colour is fixed by the side's first line; passes repeat so
    # that side margins are found once the bars above and below are gone (a
    # margin column crosses the bars), but a side never changes colour, so
    # uniform content (sky, paper) next to a frame is not eaten.
    cut = {"top": 0, "bottom": 0, "left": 0, "right": 0}
    colour: dict[str, float] = {}
    for _ in range(3):
        inner = g[cut["top"] : h - cut["bottom"], cut["left"] : w - cut["right"]]
        if inner.shape[0] < 8 or inner.shape[1] < 8:
            return None
        views = {"top": inner, "bottom": inner[::-1], "left": inner.T, "right": inner.T[::-1]}
        moved = False
        for side, lines in views.items():
            ref = colour.get(side, float(np.median(lines[0])))
            n = run(lines, ref)
            if n and side not in colour:
                colour[side] = ref
            if n:
                cut[side] += n + 1  # and the blurred seam line next to the frame
                moved = True
        if not moved:
            break
    top, bottom, left, right = cut["top"], cut["bottom"], cut["left"], cut["right"]
    if top + bottom >= h * 0.8 or left + right >= w * 0.8:
        return None
    if max(top / h, bottom / h, left / w, right / w) < min_fraction:
        return None
    return arr[top : h - bottom, left : w - right]


# --------------------------------------------------------------- chance match
def chance_match_probability(algorithm: str, distance: int) -> float:
    """Measured rate at which two unrelated pictures come within ``distance`` bits.

    The share of the measured unrelated pairs (``UNRELATED_PAIRS``) at or below
    ``distance``; when none was, the 95% upper bound 3 / pairs ("rule of three").
    It is a per-reference rate: a store of N references multiplies it by N.
    """
    pairs, low = UNRELATED_PAIRS[algorithm]
    k = sum(1 for d in low if d <= distance)
    return (k if k else 3) / pairs


# ---------------------------------------------------------- batch grouping
def informative(phash: str, pdq_quality: object = None) -> bool:
    """False for flat images (a 1x1 pixel, a blank frame): their hashes all collide.

    A nearly constant pHash (<= 1/16 or >= 15/16 of its bits set) or a PDQ quality
    under 10 (of 100) marks an image with too little structure to group on.
    """
    try:
        ones = int(phash, 16).bit_count()
    except ValueError:
        return False
    bits = 4 * len(phash)
    if ones <= bits // 16 or ones >= bits - bits // 16:
        return False
    return not (isinstance(pdq_quality, int | float) and pdq_quality < 10)


def batch_phash(metrics: Mapping[str, Any] | None) -> str | None:
    """The pHash a batch groups a file on, from the provenance analyzer's metrics.

    None when there is none or it is not :func:`informative` (a flat picture's hash
    collides with every other flat picture's).
    """
    value = (metrics or {}).get("phash")
    if isinstance(value, str) and value and informative(value, (metrics or {}).get("pdq_quality")):
        return value.lower()
    return None


def near_duplicate_groups(
    phashes: Sequence[str | None],
    radius: int = NEAR_DUPLICATE_RADIUS,
    sha256: Sequence[str | None] | None = None,
) -> list[list[int]]:
    """Connected components of items whose hashes lie within ``radius`` bits.

    ``phashes`` are hex hashes (None or empty: not grouped by hash); only hashes of
    the same length are compared. With ``sha256``, items with identical bytes are
    grouped too, whatever their hashes. Returns index groups of at least two
    members, each in input order, ordered by their first member.
    """
    import numpy as np

    n = len(phashes)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(a: int, b: int) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    first_of: dict[str, int] = {}
    for i, digest in enumerate(sha256 or []):
        if digest:
            union(first_of.setdefault(digest, i), i)
    by_len: dict[int, list[int]] = {}
    for i, h in enumerate(phashes):
        if h:
            by_len.setdefault(len(h), []).append(i)
    for members in by_len.values():
        words = hex_to_words([str(phashes[i]) for i in members])
        for k in range(len(members) - 1):
            dist = np.bitwise_count(words[k + 1 :] ^ words[k]).sum(axis=1)
            for j in np.nonzero(dist <= radius)[0]:
                union(members[k], members[k + 1 + int(j)])
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(find(i), []).append(i)
    return [g for _, g in sorted(groups.items()) if len(g) > 1]


def hex_to_words(hashes: list[str]) -> np.ndarray:
    """Hex hashes (same length, multiple of 16 digits) -> N x words uint64 (big-endian)."""
    import numpy as np

    if not hashes:
        return np.zeros((0, 1), dtype=np.uint64)
    nbytes = len(hashes[0]) // 2
    raw = bytes.fromhex("".join(hashes))
    if len(raw) != nbytes * len(hashes):
        raise ValueError("hashes of different lengths")
    return np.frombuffer(raw, dtype=">u8").astype(np.uint64).reshape(len(hashes), nbytes // 8)
