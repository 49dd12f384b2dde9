"""Decoder for the ``dwtDct`` invisible watermark of the Stable Diffusion reference scripts.

The scheme (invisible-watermark's ``dwtDct``, as called by CompVis/stable-diffusion,
Stability-AI/stablediffusion and the diffusers SDXL pipeline): convert BGR to YUV,
take one level of the Haar DWT of the U channel, cut its approximation band into 4x4
blocks, and in each block quantise the largest-magnitude coefficient other than the
first to ``(|v| // 36 + 0.25 + 0.5 * bit) * 36``. Block ``k`` (row-major) carries bit
``k mod n``. Reading it back: a block votes 1 when ``|v| mod 36 > 18``; a bit is the
majority of its blocks' votes.

The mark lives in the exact pixel grid: resizing, cropping by an odd offset, or any
re-encoding that moves the U channel by a few levels destroys it. A missing mark
therefore says nothing about an image's origin.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

SCALE = 36.0
BLOCK = 4


def _bytes_bits(text: str) -> tuple[int, ...]:
    return tuple(int(b) for b in np.unpackbits(np.frombuffer(text.encode(), np.uint8)))


def _int_bits(value: int) -> tuple[int, ...]:
    # Written as the reference callers write it: ``bin(x)[2:]`` (no leading zeros).
    return tuple(int(b) for b in bin(value)[2:])


# name -> (who embeds it, bits)
KNOWN_PAYLOADS: dict[str, tuple[str, tuple[int, ...]]] = {
    "StableDiffusionV1": (
        "CompVis/stable-diffusion reference scripts (Stable Diffusion v1)",
        _bytes_bits("StableDiffusionV1"),
    ),
    "SDV2": (
        "Stability-AI/stablediffusion reference scripts (Stable Diffusion 2.x)",
        _bytes_bits("SDV2"),
    ),
    "SDXL": (
        "diffusers Stable Diffusion XL pipelines and Stability generative-models (48-bit pattern)",
        _int_bits(0b101100111110110010010000011110111011000110011110),
    ),
    "SGM-48b": (
        "a second fixed 48-bit pattern in Stability generative-models sampling scripts",
        _int_bits(0b001010101111111010000111100111001111010100101110),
    ),
}


def block_votes(bgr: np.ndarray, scale: float = SCALE, floating: bool = False) -> np.ndarray:
    """Per-block watermark votes (0/1) of a BGR uint8 image, in embedding order.

    Parameters
    ----------
    bgr : ndarray of uint8, shape (H, W, 3)
        The image in the channel order the encoder was given (BGR for the CompVis
        scripts; diffusers passes RGB in that place).
    scale : float
        Quantisation step of the scheme (36 in the reference encoder).
    floating : bool
        Read the U channel as the encoder saw it when handed floats (the diffusers SDXL
        path): OpenCV then centres U on 0.5 instead of 128, which moves every
        coefficient, so a uint8 reading of such a mark is mostly noise.

    Returns
    -------
    votes : ndarray of uint8, shape (n_blocks,)
        One vote per 4x4 block of the U channel's Haar approximation band, row-major.

    References
    ----------
    .. [1] ShieldMnt, invisible-watermark, ``dwtDct`` method (maxDct embedding).
    .. [2] I. Cox, M. Miller, J. Bloom, J. Fridrich, T. Kalker, "Digital Watermarking
       and Steganography", 2nd ed., 2008, ch. 5 (quantisation index modulation).
    """
    return corner_votes(block_values(bgr, floating), scale)[0]


def block_values(bgr: np.ndarray, floating: bool = False) -> np.ndarray:
    """The 4x4 blocks of the U channel's Haar approximation band that carry the mark.

    Parameters
    ----------
    bgr : ndarray of uint8, shape (H, W, 3)
        The image in the channel order the encoder was given.
    floating : bool
        Read U as from float input (:func:`block_votes`).

    Returns
    -------
    ndarray, shape (rows, columns, 4, 4)
        The blocks on their grid (empty when the image is under 8 px a side).

    References
    ----------
    .. [1] ShieldMnt, invisible-watermark, ``dwtDct`` method (maxDct embedding).
    """
    import cv2

    h, w = bgr.shape[:2]
    h4, w4 = h // 4 * 4, w // 4 * 4
    if h4 < 8 or w4 < 8:
        return np.zeros((0, 0, BLOCK, BLOCK))
    # OpenCV's uint8 conversion, so the rounding matches the reference decoder's input.
    img = np.ascontiguousarray(bgr[:h4, :w4])
    if floating:
        img = img.astype(np.float32)
    u = cv2.cvtColor(img, cv2.COLOR_BGR2YUV)[..., 1]
    ll = haar_approximation(u)
    bh, bw = ll.shape[0] // BLOCK, ll.shape[1] // BLOCK
    blocks = ll[: bh * BLOCK, : bw * BLOCK].reshape(bh, BLOCK, bw, BLOCK)
    return blocks.transpose(0, 2, 1, 3)


# The ways a picture can be turned or mirrored without loss: (quarter turns
# counter-clockwise, mirrored left to right first), named by what was done to it.
ORIENTATIONS: dict[str, tuple[int, bool]] = {
    "as stored": (0, False),
    "turned a quarter counter-clockwise": (1, False),
    "turned half a turn": (2, False),
    "turned a quarter clockwise": (3, False),
    "mirrored": (0, True),
    "mirrored and turned a quarter counter-clockwise": (1, True),
    "mirrored and turned half a turn": (2, True),
    "mirrored and turned a quarter clockwise": (3, True),
}
# Side of a block of the mark in pixels: a 4x4 block of the half-size Haar band.
PIXELS_PER_BLOCK = 2 * BLOCK


def oriented_votes(
    bgr: np.ndarray, floating: bool, orientation: str, full_height: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Block votes of a picture read as if ``orientation`` had been done to the marked
    original, with each block's place in the original's schedule.

    A turn or mirror moves every block and every coefficient in it; the vote depends
    only on which coefficient is left out (the original's first, now at one of the
    block's corners), and the embedding order is the original's row-major order. So
    the original's votes are read exactly without turning anything back. ``bgr`` may be
    the top rows of a picture ``full_height`` pixels high.

    Parameters
    ----------
    bgr : ndarray of uint8, shape (H, W, 3)
        The pixels read, in the channel order the encoder was given.
    floating : bool
        Read U as from float input (:func:`block_votes`).
    orientation : str
        A key of ``ORIENTATIONS``; anything but ``"as stored"`` needs both sides of the
        whole picture to be multiples of ``PIXELS_PER_BLOCK`` (the original's block grid
        then maps onto the stored one).
    full_height : int, optional
        Height of the whole picture (default: the rows given).

    Returns
    -------
    votes : ndarray of uint8, shape (n_blocks,)
        In the stored picture's row-major order.
    index : ndarray of int, shape (n_blocks,)
        Each block's position in the original's row-major order: it carries bit
        ``index % n_bits``.

    Raises
    ------
    ValueError
        When the grid does not map (a side not a multiple of ``PIXELS_PER_BLOCK``).
    """
    height = bgr.shape[0] if full_height is None else full_height
    blocks = block_values(bgr, floating)
    index = schedule_index(orientation, blocks.shape[:2], height, bgr.shape[1])
    return corner_votes(blocks)[first_corner(orientation)], index


def first_corner(orientation: str) -> int:
    """Where the original's first coefficient sits in a block of the turned picture.

    Parameters
    ----------
    orientation : str
        A key of ``ORIENTATIONS``: what was done to the marked original.

    Returns
    -------
    int
        Its place in the stored 4x4 block, row-major (0, 3, 12 or 15).
    """
    turns, mirrored = ORIENTATIONS[orientation]
    marker = np.zeros((BLOCK, BLOCK), np.uint8)
    marker[0, 0] = 1
    if mirrored:
        marker = marker[:, ::-1]
    return int(np.argmax(np.rot90(marker, turns)))


def corner_votes(blocks: np.ndarray, scale: float = SCALE) -> dict[int, np.ndarray]:
    """Each block's vote with each corner of the block in turn taken as the coefficient
    the mark never uses: the votes under every turn and mirror.

    A block votes 1 when ``|v| mod scale > scale / 2`` for its largest-magnitude
    coefficient ``v`` other than the first (the reference decoder's rule, corner 0).

    Parameters
    ----------
    blocks : ndarray, shape (rows, columns, 4, 4)
        :func:`block_values`.
    scale : float
        Quantisation step of the scheme.

    Returns
    -------
    dict
        Corner (0, 3, 12 or 15) -> votes (uint8, one per block, row-major).

    References
    ----------
    .. [1] ShieldMnt, invisible-watermark, ``dwtDct`` decoder.
    """
    bh, bw = blocks.shape[:2]
    flat = np.abs(blocks.reshape(bh * bw, BLOCK * BLOCK))
    if flat.shape[0] == 0:
        return {c: np.zeros(0, np.uint8) for c in (0, 3, 12, 15)}
    # The largest value over the other fifteen is the largest unless the corner holds
    # its first occurrence; then it is the second largest, counted with repeats.
    top = np.argmax(flat, axis=1)
    ranked = np.partition(flat, BLOCK * BLOCK - 2, axis=1)
    first, second = ranked[:, -1], ranked[:, -2]
    out = {}
    for corner in (0, BLOCK - 1, BLOCK * (BLOCK - 1), BLOCK * BLOCK - 1):
        val = np.where(top == corner, second, first)
        out[corner] = (np.mod(val, scale) > 0.5 * scale).astype(np.uint8)
    return out


def schedule_index(orientation: str, grid: tuple[int, int], height: int, width: int) -> np.ndarray:
    """Each block's place in the original's embedding order, for the top ``grid`` blocks
    (rows, columns) of a stored picture ``width`` x ``height`` px made by
    ``orientation`` from the marked original.

    Parameters
    ----------
    orientation : str
        A key of ``ORIENTATIONS``.
    grid : (int, int)
        Blocks read (rows from the top, columns).
    height, width : int
        The whole stored picture.

    Returns
    -------
    ndarray of int, shape (rows * columns,)

    Raises
    ------
    ValueError
        When the picture is turned or mirrored and a side is not a multiple of
        ``PIXELS_PER_BLOCK``.
    """
    turns, mirrored = ORIENTATIONS[orientation]
    bh, bw = grid
    if turns == 0 and not mirrored:
        return np.arange(bh * bw)
    if height % PIXELS_PER_BLOCK or width % PIXELS_PER_BLOCK:
        raise ValueError(f"a {width}x{height} picture's block grid does not turn onto itself")
    rows, cols = height // PIXELS_PER_BLOCK, width // PIXELS_PER_BLOCK
    orig_shape = (cols, rows) if turns % 2 else (rows, cols)
    order = np.arange(orig_shape[0] * orig_shape[1]).reshape(orig_shape)
    if mirrored:
        order = order[:, ::-1]
    return np.rot90(order, turns)[:bh, :bw].ravel()


def haar_approximation(u: np.ndarray) -> np.ndarray:
    """Approximation band of one level of the 2-D Haar DWT of an even-sized plane,
    bit for bit as PyWavelets' ``dwt2(u, "haar")[0]`` computes it.

    Not ``(a + b + c + d) / 2``: equal coefficients in a block are told apart by the
    rounding of the reference decoder's transform, which picks its maximum the same
    way. PyWavelets filters along rows first, then columns, each output being
    ``h * x[2i] + h * x[2i + 1]`` with ``h = 1 / sqrt(2)``, in float64 for integer
    input and in float32 for float32 input; these array operations do the same sums
    in the same precision, about 20x faster than the general convolution.

    Parameters
    ----------
    u : ndarray, shape (H, W), H and W even
        uint8 or float32 plane.

    Returns
    -------
    ll : ndarray, shape (H // 2, W // 2)
        float64 (integer input) or float32 (float32 input).

    References
    ----------
    .. [1] G. Lee, R. Gommers, F. Wasilewski, K. Wohlfahrt, A. O'Leary, "PyWavelets: A
       Python package for wavelet analysis", JOSS 4(36), 2019 (the transform matched).
    """
    x = u if u.dtype == np.float32 else u.astype(np.float64)
    h = x.dtype.type(_HAAR)
    a = x[0::2] * h + x[1::2] * h
    return a[:, 0::2] * h + a[:, 1::2] * h  # type: ignore[no-any-return]


_HAAR = 0.7071067811865476  # PyWavelets' Haar filter taps (float64 literal of 1/sqrt(2))


def bit_scores(
    votes: np.ndarray, n_bits: int, index: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Mean vote and number of blocks for each payload position.

    Parameters
    ----------
    votes : ndarray
        Block votes (0/1) in embedding order (:func:`block_votes`).
    n_bits : int
        Payload length; block i carries bit ``index[i] % n_bits``.
    index : ndarray, optional
        Each block's place in the embedding order (default: the order given).

    Returns
    -------
    means : ndarray
        Mean vote per bit position (0 where no block carries it).
    counts : ndarray
        Blocks per bit position.

    References
    ----------
    .. [1] ShieldMnt, invisible-watermark, ``dwtDct`` method (bit schedule over blocks).
    """
    idx = (np.arange(votes.size) if index is None else index) % n_bits
    counts = np.bincount(idx, minlength=n_bits)
    sums = np.bincount(idx, weights=votes.astype(np.float64), minlength=n_bits)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(counts > 0, sums / np.maximum(counts, 1), 0.0)
    return means, counts


def decode_bits(votes: np.ndarray, n_bits: int, index: np.ndarray | None = None) -> np.ndarray:
    """Payload bits as the reference decoder reads them.

    Parameters
    ----------
    votes : ndarray
        Block votes (0/1) in embedding order.
    n_bits : int
        Payload length.
    index : ndarray, optional
        Each block's place in the embedding order (:func:`oriented_votes`).

    Returns
    -------
    ndarray
        uint8 bits: 1 where the mean vote * 255 > 127.

    References
    ----------
    .. [1] ShieldMnt, invisible-watermark, ``dwtDct`` decoder.
    """
    means, _ = bit_scores(votes, n_bits, index)
    return _majority(means)


def _majority(means: np.ndarray) -> np.ndarray:
    """Bits from mean votes, as the reference decoder rounds them."""
    return (means * 255 > 127).astype(np.uint8)


def binomial_tail(k: int, n: int) -> float:
    """The chance of ``k`` or more matching bits out of ``n`` by luck.

    Parameters
    ----------
    k : int
        Matching bits.
    n : int
        Bits compared.

    Returns
    -------
    float
        P(X >= k) for X ~ Binomial(n, 1/2), exact.
    """
    if k <= 0:
        return 1.0
    total = sum(math.comb(n, i) for i in range(k, n + 1))
    return float(total / 2**n)


def block_agreement(
    votes: np.ndarray, bits: np.ndarray, index: np.ndarray | None = None
) -> tuple[float, float]:
    """Correlation of block votes with a payload's bit schedule, and its one-sided chance.

    Content biases the votes (flat blocks vote 0 more often), so the test is of
    association, not of agreement above one half: ``z = r * sqrt(N)`` for the phi
    coefficient ``r`` between vote and scheduled bit over ``N`` blocks.

    Parameters
    ----------
    votes : ndarray
        Block votes (0/1) in embedding order.
    bits : ndarray
        The payload's bits; block i is scheduled bit ``index[i] % len(bits)``.
    index : ndarray, optional
        Each block's place in the embedding order (default: the order given).

    Returns
    -------
    z : float
        The association's z-score (0 when votes or schedule are constant).
    chance : float
        One-sided normal tail of ``z`` (1 when undefined).

    References
    ----------
    A. Agresti, "Categorical Data Analysis", 3rd ed., 2013 (phi coefficient and its
    chi-square test, N r^2 ~ chi^2_1).
    """
    order = np.arange(votes.size) if index is None else index
    sched = bits[order % bits.size].astype(np.float64)
    v = votes.astype(np.float64)
    sv, ss = v.std(), sched.std()
    if votes.size < 2 or sv == 0 or ss == 0:
        return 0.0, 1.0
    r = float(np.mean((v - v.mean()) * (sched - sched.mean())) / (sv * ss))
    z = r * math.sqrt(votes.size)
    return z, 0.5 * math.erfc(z / math.sqrt(2.0))


def _position_agreement(
    means: np.ndarray, counts: np.ndarray, bits: np.ndarray
) -> tuple[float, float]:
    """:func:`block_agreement` from the per-position mean votes and block counts of
    :func:`bit_scores`: the same phi coefficient (votes and schedule are 0/1, so every
    sum it needs is a sum over payload positions), for the many turned readings."""
    n = float(counts.sum())
    if n < 2:
        return 0.0, 1.0
    sums = means * counts
    pv, ps = float(sums.sum()) / n, float((counts * bits).sum()) / n
    sv, ss = math.sqrt(pv * (1 - pv)), math.sqrt(ps * (1 - ps))
    if sv == 0 or ss == 0:
        return 0.0, 1.0
    r = (float((sums * bits).sum()) / n - pv * ps) / (sv * ss)
    z = r * math.sqrt(n)
    return z, 0.5 * math.erfc(z / math.sqrt(2.0))


def shifted_null(
    votes: np.ndarray, bits: np.ndarray, shifts: int = 48, index: np.ndarray | None = None
) -> float:
    """Root mean square of the block association z over the payload's schedule shifted
    by 1..``shifts`` blocks (whole periods of the payload left out): this image's own
    spread of z where no mark is aligned.

    :func:`block_agreement`'s chance assumes independent blocks. Content and a codec's
    block structure make neighbouring votes agree, so a camera photo can reach z = 7.5
    against a payload it never carried (a WebP copy at quality 80) and z of several at
    every shift alike; a mark reaches its z at the aligned schedule only. Dividing z by
    this spread (1 under independence) is a variance-inflation correction, as genomic
    control applies to association statistics.

    Parameters
    ----------
    votes : ndarray
        Block votes (0/1) in embedding order.
    bits : ndarray
        The payload's bits.
    shifts : int
        Schedule shifts to read.
    index : ndarray, optional
        Each block's place in the embedding order (default: the order given).

    Returns
    -------
    float
        The RMS of z over the shifted schedules (0 when none could be read).

    References
    ----------
    B. Devlin & K. Roeder, "Genomic control for association studies", Biometrics
    55(4), 1999 (inflation of an association statistic estimated from the data).
    """
    zs = [
        block_agreement(votes, np.roll(bits, shift), index)[0]
        for shift in range(1, shifts + 1)
        if shift % bits.size
    ]
    return float(np.sqrt(np.mean(np.square(zs)))) if zs else 0.0


def aligned_z(
    rgb: np.ndarray, match: PayloadMatch, full_height: int | None = None
) -> tuple[float, float]:
    """``match``'s block z divided by :func:`shifted_null` on the same reading of
    ``rgb`` (at least 1), and that null's spread.

    Parameters
    ----------
    rgb : ndarray of uint8, shape (H, W, 3)
        The decoded image, RGB, as given to :func:`match_payloads`.
    match : PayloadMatch
        One of its matches.
    full_height : int, optional
        As given to :func:`match_payloads`.

    Returns
    -------
    z : float
        The association z in units of the image's own null spread.
    spread : float
        That spread (the RMS of z over shifted schedules).
    """
    bgr = rgb[..., ::-1] if match.channel_order == "bgr" else rgb
    votes, index = oriented_votes(
        np.ascontiguousarray(bgr), match.floating, match.orientation, full_height
    )
    bits = np.asarray(KNOWN_PAYLOADS[match.payload][1], np.uint8)
    spread = shifted_null(votes, bits, index=index)
    return match.block_z / max(1.0, spread), spread


@dataclass(frozen=True)
class PayloadMatch:
    payload: str
    source: str
    channel_order: str  # "bgr" (file read as BGR) or "rgb" (RGB handed over as BGR)
    floating: bool  # U read as from float input (diffusers path), not uint8
    n_bits: int
    matching: int  # payload bits read right, majority of blocks as the reference reads them
    chance_bits: float  # P(that many or more bits match by chance), Binomial(n, 1/2)
    blocks: int
    block_z: float  # association of every block's vote with the payload schedule
    chance: float  # one-sided chance of that association, one comparison
    chance_any: float  # Bonferroni over every payload and reading tried
    orientation: str = "as stored"  # what was done to the marked picture (ORIENTATIONS)

    @property
    def bit_error_rate(self) -> float:
        return 1.0 - self.matching / self.n_bits


def match_payloads(
    rgb: np.ndarray, full_height: int | None = None, turned: bool = True
) -> list[PayloadMatch]:
    """Compare the decoded watermark with every known payload, in both channel orders
    and, where the block grid allows, as if the picture had been turned or mirrored.

    Parameters
    ----------
    rgb : ndarray of uint8, shape (H, W, 3)
        The decoded image, RGB (or its top rows: see ``full_height``).
    full_height : int, optional
        Height of the whole picture when ``rgb`` holds its top rows only.
    turned : bool
        Also read the seven turns and mirrors of ``ORIENTATIONS`` (when both sides of
        the picture are multiples of ``PIXELS_PER_BLOCK``): a mark survives a lossless
        turn or mirror, which moves its schedule, not its blocks.

    Returns
    -------
    matches : list of PayloadMatch
        One per (payload, channel order, uint8 or float reading, orientation): the
        readings as stored first, then the turned ones, each strongest first. ``chance_any`` is the probability that an unmarked image
        shows an association this strong with any of the payloads tried: as stored,
        over the payloads and readings (as before turns were read, so a picture as
        stored reads exactly as then); turned, over those times every orientation.

    References
    ----------
    .. [1] ShieldMnt, invisible-watermark, ``dwtDct`` method.
    """
    orders = {"bgr": np.ascontiguousarray(rgb[..., ::-1]), "rgb": np.ascontiguousarray(rgb)}
    readings = [(o, f) for o in orders for f in (False, True)]
    tests = len(readings) * len(KNOWN_PAYLOADS)
    height = rgb.shape[0] if full_height is None else full_height
    grid_turns = height % PIXELS_PER_BLOCK == 0 and rgb.shape[1] % PIXELS_PER_BLOCK == 0
    orientations = list(ORIENTATIONS) if turned and grid_turns else ["as stored"]
    out: list[PayloadMatch] = []
    # A turned schedule depends on the orientation only: made once, read by all four
    # readings and every payload.
    schedules: dict[str, np.ndarray] = {}
    for order, floating in readings:
        blocks = block_values(orders[order], floating)
        votes_by_corner = corner_votes(blocks)
        for orientation in orientations:
            votes = votes_by_corner[first_corner(orientation)]
            if votes.size == 0:
                continue
            family = tests if orientation == "as stored" else tests * len(ORIENTATIONS)
            for name, (source, payload) in KNOWN_PAYLOADS.items():
                bits = np.asarray(payload, np.uint8)
                if orientation == "as stored":
                    # Block by block, as before turns were read: the same bits out.
                    k = int(np.sum(decode_bits(votes, bits.size) == bits))
                    z, p = block_agreement(votes, bits)
                else:
                    if orientation not in schedules:
                        schedules[orientation] = schedule_index(
                            orientation, blocks.shape[:2], height, rgb.shape[1]
                        )
                    means, counts = bit_scores(votes, bits.size, schedules[orientation])
                    k = int(np.sum(_majority(means) == bits))
                    z, p = _position_agreement(means, counts, bits.astype(np.float64))
                out.append(
                    PayloadMatch(
                        payload=name,
                        source=source,
                        channel_order=order,
                        floating=floating,
                        n_bits=int(bits.size),
                        matching=k,
                        chance_bits=binomial_tail(k, int(bits.size)),
                        blocks=int(votes.size),
                        block_z=z,
                        chance=p,
                        chance_any=min(1.0, p * family),
                        orientation=orientation,
                    )
                )
    # As stored first, so a picture whose mark (if any) reads as stored reports exactly
    # what it did before turns were read; turned readings after, each strongest first.
    out.sort(key=lambda m: (m.orientation != "as stored", m.chance, m.chance_bits))
    return out
