"""Camera-likeness statistics of pixels: coding cost, noise-level function, CFA traces.

Pure functions over a window of pixels. Each statistic is something camera photos
have by construction (a sensor that adds signal-dependent noise behind a colour
filter array, then an image pipeline) and that images made by a generator's decoder
have no reason to reproduce. Nothing here knows about generators: the coding model
and every expected value are fitted on real photos only (``triage/train/camera.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

# Causal neighbours of the lossless predictor (dy, dx): W, N, NW, NE, WW, NN.
NEIGHBOURS: tuple[tuple[int, int], ...] = ((0, -1), (-1, 0), (-1, -1), (-1, 1), (0, -2), (-2, 0))
CLASSES = 16  # context classes by local activity
RMAX = 48  # residuals are clipped to [-RMAX, RMAX] (one escape bin each side)
WINDOW = 512  # statistics are read on at most a WINDOW x WINDOW native-resolution window


@dataclass
class CodingModel:
    """A context-classed linear predictor with residual histograms, fitted on real photos.

    ``coef`` is (levels, CLASSES, len(NEIGHBOURS) + 1); ``logp`` holds -log2 of the
    smoothed residual probabilities, (levels, CLASSES, 2 * RMAX + 1); ``entropy`` the
    expected cost per class in bits, (levels, CLASSES).
    """

    coef: np.ndarray
    logp: np.ndarray
    entropy: np.ndarray

    @property
    def levels(self) -> int:
        return int(self.coef.shape[0])


def luma_u8(rgb: np.ndarray) -> np.ndarray:
    """BT.601 luma of an RGB uint8 array, as float32 rounded to integers (a lossless
    coder sees integer samples).

    Parameters
    ----------
    rgb : H x W x 3 uint8.

    Returns
    -------
    H x W float32 with integer values 0..255.
    """
    import cv2

    g = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
    return g.astype(np.float32)


def centre_window(h: int, w: int, side: int = WINDOW) -> tuple[int, int, int, int]:
    """A centred window of at most ``side`` x ``side``.

    Parameters
    ----------
    h, w : image height and width.
    side : largest window side.

    Returns
    -------
    (x0, y0, x1, y1)
    """
    ww, hh = min(w, side), min(h, side)
    x0, y0 = (w - ww) // 2, (h - hh) // 2
    return x0, y0, x0 + ww, y0 + hh


def half(gray: np.ndarray) -> np.ndarray:
    """2x2 box average (the next pyramid level), rounded like stored pixels.

    Parameters
    ----------
    gray : H x W luma.

    Returns
    -------
    (H // 2) x (W // 2) array.
    """
    h, w = gray.shape[0] // 2 * 2, gray.shape[1] // 2 * 2
    g = gray[:h, :w]
    return np.round((g[0::2, 0::2] + g[1::2, 0::2] + g[0::2, 1::2] + g[1::2, 1::2]) / 4.0)


def context(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Causal neighbour matrix, context class and target of every interior pixel.

    Returns
    -------
    x : (n, len(NEIGHBOURS) + 1) float32 neighbour values with a constant column.
    cls : (n,) int class from the local activity (sum of causal gradients, log scale).
    y : (n,) float32 pixel values.
    """
    g = np.asarray(gray, dtype=np.float32)
    h, w = g.shape
    core = (slice(2, h), slice(2, w - 1))
    y = g[core]
    cols = [g[2 + dy : h + dy, 2 + dx : w - 1 + dx] for dy, dx in NEIGHBOURS]
    wv, nv, nw, ne, ww, nn = cols
    act = np.abs(wv - nw) + np.abs(nv - nw) + np.abs(nv - ne) + np.abs(wv - ww) + np.abs(nv - nn)
    cls = np.clip((np.log2(1.0 + act) * 2.0).astype(np.int32), 0, CLASSES - 1)
    x = np.stack([c.ravel() for c in cols] + [np.ones(y.size, np.float32)], axis=1)
    return x, cls.ravel(), y.ravel()


def residuals(model: CodingModel, level: int, gray: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Integer prediction residuals (clipped to +-RMAX) and context classes of ``gray``.

    Parameters
    ----------
    model : the fitted coding model.
    level : pyramid level whose predictor is used.
    gray : luma, integer-valued floats.

    Returns
    -------
    residuals : (n,) int32, row-major over the interior pixels of :func:`context`.
    cls : (n,) int32 context classes.

    References
    ----------
    Cozzolino et al., ECCV 2024 (ZED); the context classes follow the activity contexts
    of lossless coders such as CALIC (Wu & Memon, IEEE Trans. Comm. 45(4), 1997).
    """
    g = np.asarray(gray, dtype=np.float32)
    h, w = g.shape
    y = g[2:h, 2 : w - 1]
    cols = [g[2 + dy : h + dy, 2 + dx : w - 1 + dx] for dy, dx in NEIGHBOURS]
    wv, nv, nw, ne, ww, nn = cols
    act = np.abs(wv - nw) + np.abs(nv - nw) + np.abs(nv - ne) + np.abs(wv - ww) + np.abs(nv - nn)
    cls = np.clip((np.log2(1.0 + act) * 2.0).astype(np.int32), 0, CLASSES - 1)
    coef = model.coef[level].astype(np.float32)
    # One gathered coefficient map per neighbour: no n x 7 matrix (memory, time).
    pred = coef[cls, len(NEIGHBOURS)]
    for k, c in enumerate(cols):
        pred += coef[cls, k] * c
    r = np.clip(np.rint(y - pred), -RMAX, RMAX).astype(np.int32)
    return r.ravel(), cls.ravel()


@dataclass
class CodingCost:
    bits: float  # actual coding cost, bits per pixel
    expected: float  # the cost real photos of this content have (entropy of each context)
    excess_low: float  # actual - expected over flat contexts (classes < CLASSES // 3)
    excess_high: float  # actual - expected over the busier contexts
    share_low: float  # share of pixels in flat contexts

    @property
    def excess(self) -> float:
        return self.bits - self.expected


def coding_cost(model: CodingModel, level: int, gray: np.ndarray) -> CodingCost:
    """Cost of coding ``gray`` with the real-photo model, against the cost expected.

    The expected cost is the entropy of the model's residual distribution in each
    pixel's context: for content like the real photos the model was fitted on, the
    actual cost matches it on average. A generator's decoder leaves pixels that are
    more predictable (too smooth) or predictable in other ways than a sensor and
    camera pipeline do, and the gap (``excess``) moves away from zero.

    Parameters
    ----------
    model : the fitted :class:`CodingModel`.
    level : pyramid level (0 native, 1 after one 2x2 average, ...).
    gray : luma, integer-valued floats, at least 8 x 8.

    Returns
    -------
    CodingCost

    References
    ----------
    Cozzolino, Poggi, Nießner, Verdoliva, "Zero-Shot Detection of AI-Generated Images",
    ECCV 2024 (ZED): the coding cost of a lossless model trained on real images, against
    its expected value, as a zero-shot detector.
    """
    r, cls = residuals(model, level, gray)
    cost = model.logp[level][cls, r + RMAX]
    exp = model.entropy[level][cls]
    low = cls < CLASSES // 3
    n_low = int(low.sum())
    n_high = cls.size - n_low
    d = cost - exp
    return CodingCost(
        bits=float(cost.mean()),
        expected=float(exp.mean()),
        excess_low=float(d[low].mean()) if n_low else 0.0,
        excess_high=float(d[~low].mean()) if n_high else 0.0,
        share_low=n_low / max(cls.size, 1),
    )


# ------------------------------------------------------------- noise-level function
_IMMERKAER = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], dtype=np.float32)
BLOCK = 8
BRIGHT_BINS = np.array([16, 48, 80, 112, 144, 176, 208, 240], dtype=np.float64)


@dataclass
class NoiseLevel:
    level: float  # log of the median lower-envelope noise sigma (flat blocks), 8-bit units
    slope: float  # d log(sigma) / d log(brightness) of the lower envelope
    flat_share: float  # share of blocks whose noise sigma is below 0.5 (noise-free)
    channel_corr: float  # correlation of R and B noise residuals in flat blocks
    bins_used: int


def noise_level_function(rgb: np.ndarray, with_correlation: bool = True) -> NoiseLevel:
    """Noise sigma against brightness from the flattest blocks of each brightness bin.

    Per 8x8 block and channel, sigma is Immerkær's estimate (a Laplacian-difference
    mask, insensitive to linear content); the lower 10th percentile per brightness bin
    is the noise-level function's lower envelope. Sensor shot noise makes it rise with
    brightness until clipping; a decoder's output has no reason to.

    Parameters
    ----------
    rgb : H x W x 3 uint8 (or float) pixels, at least 32 x 32.
    with_correlation : also measure the R-B correlation of the residual (slower).

    Returns
    -------
    NoiseLevel

    References
    ----------
    Liu, Freeman, Szeliski, Kang, "Noise Estimation from a Single Image", CVPR 2006.
    Immerkær, "Fast Noise Variance Estimation", CVIU 64(2), 1996.
    """
    import cv2

    f = np.asarray(rgb, dtype=np.float32)
    h, w = f.shape[0] // BLOCK * BLOCK, f.shape[1] // BLOCK * BLOCK
    f = f[:h, :w]
    res = np.stack(
        [cv2.filter2D(f[..., c], -1, _IMMERKAER, borderType=cv2.BORDER_REFLECT) for c in range(3)],
        axis=-1,
    )
    bh, bw = h // BLOCK, w // BLOCK

    def blocks(a: np.ndarray) -> np.ndarray:
        return a.reshape(bh, BLOCK, bw, BLOCK, 3).mean(axis=(1, 3)).reshape(-1, 3)

    sigma = blocks(np.abs(res)) * (np.sqrt(np.pi / 2.0) / 6.0)
    mean = blocks(f)
    # Clipped blocks carry no noise whatever the source.
    ok = ((mean > 6) & (mean < 249)).all(axis=1)
    sig, mu = sigma[ok], mean[ok]
    env_b, env_s = [], []
    edges = np.concatenate([[0.0], (BRIGHT_BINS[:-1] + BRIGHT_BINS[1:]) / 2, [256.0]])
    for c in range(3):
        idx = np.digitize(mu[:, c], edges) - 1
        for b in range(len(BRIGHT_BINS)):
            s = sig[idx == b, c]
            if s.size >= 12:
                env_b.append(np.log(BRIGHT_BINS[b]))
                env_s.append(np.log(max(float(np.percentile(s, 10)), 0.05)))
    if len(env_b) >= 3 and np.ptp(env_b) > 0:
        slope = float(np.polyfit(env_b, env_s, 1)[0])
        level = float(np.median(env_s))
    else:
        slope, level = 0.0, float(np.median(env_s)) if env_s else 0.0
    flat_share = float((sig.mean(axis=1) < 0.5).mean()) if sig.size else 0.0
    # Channel correlation of the residual in the flattest quarter of the blocks.
    corr = 0.0
    if with_correlation and sig.shape[0] >= 16:
        rb = res.reshape(bh, BLOCK, bw, BLOCK, 3).transpose(0, 2, 1, 3, 4).reshape(-1, BLOCK**2, 3)
        rb = rb[ok]
        flat = np.argsort(sig.mean(axis=1))[: max(4, sig.shape[0] // 4)]
        r_, b_ = rb[flat, :, 0].ravel(), rb[flat, :, 2].ravel()
        if r_.std() > 0 and b_.std() > 0:
            corr = float(np.corrcoef(r_, b_)[0, 1])
    return NoiseLevel(level, slope, flat_share, corr, len(env_b))


# --------------------------------------------------------------------------- CFA
def cfa_trace(rgb: np.ndarray, block: int = 32) -> float:
    """Strength of the 2x2 periodic pattern a Bayer demosaicer leaves in the green channel.

    A demosaicer interpolates green at half the pixels (a quincunx): there the residual
    of a 4-neighbour linear prediction is smaller than at the measured half. Per block,
    the log ratio of residual energy of one quincunx to the other; the statistic is the
    absolute median over blocks (a camera keeps the same phase everywhere).

    Parameters
    ----------
    rgb : H x W x 3 pixels at native resolution (resizing erases the pattern).
    block : block side in pixels (even).

    Returns
    -------
    float, 0 for no consistent pattern; camera originals reach 0.1-1.

    References
    ----------
    Popescu, Farid, "Exposing Digital Forgeries in Color Filter Array Interpolated
    Images", IEEE Trans. Signal Processing 53(10), 2005.
    """
    g = np.asarray(rgb[..., 1], dtype=np.float32)
    e = g[1:-1, 1:-1] - 0.25 * (g[:-2, 1:-1] + g[2:, 1:-1] + g[1:-1, :-2] + g[1:-1, 2:])
    h, w = e.shape[0] // block * block, e.shape[1] // block * block
    if h == 0 or w == 0:
        return 0.0
    e2 = e[:h, :w] ** 2
    yy, xx = np.mgrid[0:h, 0:w]
    q = ((yy + xx) % 2).astype(bool)
    a = np.where(q, 0.0, e2).reshape(h // block, block, w // block, block).sum(axis=(1, 3))
    b = np.where(q, e2, 0.0).reshape(h // block, block, w // block, block).sum(axis=(1, 3))
    ratio = np.log((a + 1.0) / (b + 1.0))
    return float(abs(np.median(ratio)))


# ---------------------------------------------------------------------- features
FEATURE_NAMES: tuple[str, ...] = (
    "cc0_excess",
    "cc0_excess_low",
    "cc0_excess_high",
    "cc0_bits",
    "cc1_excess",
    "cc1_excess_low",
    "cc1_excess_high",
    "cc1_bits",
    "nlf_level",
    "nlf_slope",
    "nlf_flat",
)


@dataclass
class CameraFeatures:
    values: dict[str, float]

    def vector(self) -> np.ndarray:
        return np.array([self.values[n] for n in FEATURE_NAMES], dtype=np.float64)


def features(model: CodingModel, rgb: np.ndarray) -> CameraFeatures:
    """Every camera-likeness statistic of an RGB window (at most WINDOW px a side).

    Parameters
    ----------
    model : the fitted coding model.
    rgb : H x W x 3 uint8, native resolution, at least 32 x 32.

    Returns
    -------
    CameraFeatures, named as in ``FEATURE_NAMES``.

    References
    ----------
    See :func:`coding_cost`, :func:`noise_level_function` and :func:`cfa_trace`.
    """
    gray = luma_u8(rgb)
    vals: dict[str, float] = {}
    g = gray
    for lv in range(model.levels):
        if lv:
            g = half(g)
        small = min(g.shape) < 8
        cc = CodingCost(0.0, 0.0, 0.0, 0.0, 0.0) if small else coding_cost(model, lv, g)
        vals[f"cc{lv}_excess"] = cc.excess
        vals[f"cc{lv}_excess_low"] = cc.excess_low
        vals[f"cc{lv}_excess_high"] = cc.excess_high
        vals[f"cc{lv}_bits"] = cc.bits
    nl = noise_level_function(rgb, with_correlation=False)
    vals["nlf_level"] = nl.level
    vals["nlf_slope"] = nl.slope
    vals["nlf_flat"] = nl.flat_share
    return CameraFeatures(vals)


# ------------------------------------------------------------------------ model
@dataclass
class Fusion:
    """One-class Gaussian of real-photo features: mean, inverse covariance, and the
    quantiles ``QUANTILES`` of the squared Mahalanobis distance on the fit photos."""

    mean: np.ndarray
    cov_inv: np.ndarray
    d2_quantiles: np.ndarray
    scale: np.ndarray  # per-feature standard deviation on the fit photos

    def distance2(self, v: np.ndarray) -> float:
        d = v - self.mean
        return float(d @ self.cov_inv @ d)

    def z(self, v: np.ndarray) -> np.ndarray:
        return (v - self.mean) / self.scale


QUANTILES = (0.5, 0.9, 0.95, 0.99, 0.995)


def load_model(folder: object = None) -> tuple[CodingModel, Fusion]:
    """The coding model and the one-class fusion from ``camera.npz``.

    Parameters
    ----------
    folder : folder holding ``camera.npz``; None for the packaged model.

    Returns
    -------
    (CodingModel, Fusion)
    """
    from importlib import resources
    from pathlib import Path

    if folder is None:
        blob = resources.files("triage.data").joinpath("models", "camera.npz").read_bytes()
    else:
        blob = (Path(str(folder)) / "camera.npz").read_bytes()
    import io

    with np.load(io.BytesIO(blob)) as z:
        model = CodingModel(z["coef"], z["logp"], z["entropy"])
        fusion = Fusion(z["mean"], z["cov_inv"], z["d2_quantiles"], z["scale"])
    return model, fusion


@dataclass
class Score:
    score: float


def synthetic_score(values: dict[str, object], folder: object = None) -> Score:
    """Squared one-class distance of named feature values (bench helper).

    Parameters
    ----------
    values : feature values by the names of ``FEATURE_NAMES``.
    folder : model folder; None for the packaged model.

    Returns
    -------
    Score
    """
    _, fusion = _cached(str(folder))
    v = np.array([float(values[n]) for n in FEATURE_NAMES])  # type: ignore[arg-type]
    return Score(fusion.distance2(v))


_CACHE: dict[str, tuple[CodingModel, Fusion]] = {}


def _cached(folder: str) -> tuple[CodingModel, Fusion]:
    if folder not in _CACHE:
        _CACHE[folder] = load_model(None if folder == "None" else folder)
    return _CACHE[folder]


def shipped_model() -> tuple[CodingModel, Fusion]:
    """The packaged model, loaded once per process.

    Returns
    -------
    (CodingModel, Fusion)
    """
    return _cached("None")


# ------------------------------------------------------------------ region maps
@dataclass
class RegionMaps:
    """Per-tile statistics of one window: tile side, coding-cost excess of the tile's
    pixels (bits/pixel, level 0) and the log noise sigma of its flattest 8x8 blocks."""

    tile: int
    excess: np.ndarray  # (rows, cols)
    noise: np.ndarray  # (rows, cols)
    weight: np.ndarray  # (rows, cols) share of the tile that is not clipped


def region_planes(model: CodingModel, gray: np.ndarray) -> np.ndarray:
    """The per-pixel planes :func:`region_maps` sums per tile, for any tile size.

    Parameters
    ----------
    model : the fitted coding model.
    gray : H x W luma, integer-valued (as :func:`luma_u8` gives).

    Returns
    -------
    (3, H, W) float32: the coding-cost excess of each pixel (bits, level 0) where it
    counts, else 0; 1 where it counts (interior, not clipped), else 0; the absolute
    Immerkær residual.

    References
    ----------
    As :func:`region_maps`.
    """
    import cv2

    gray = np.asarray(gray, dtype=np.float32)
    h, w = gray.shape
    out = np.zeros((3, h, w), dtype=np.float32)
    r, cls = residuals(model, 0, gray)
    d = model.logp[0][cls, r + RMAX] - model.entropy[0][cls]
    full = np.zeros((h, w), dtype=np.float32)
    full[2:h, 2 : w - 1] = d.reshape(h - 2, w - 3)
    valid = out[1]
    valid[2:h, 2 : w - 1] = 1.0
    valid[(gray <= 4) | (gray >= 251)] = 0.0
    np.multiply(full, valid, out=out[0])
    out[2] = np.abs(cv2.filter2D(gray, -1, _IMMERKAER, borderType=cv2.BORDER_REFLECT))
    return out


def region_maps(
    model: CodingModel, rgb: np.ndarray, tile: int = 64, planes: np.ndarray | None = None
) -> RegionMaps:
    """Camera-likeness statistics per ``tile`` x ``tile`` tile of ``rgb``.

    Parameters
    ----------
    model : the fitted coding model.
    rgb : H x W x 3 uint8 window (native resolution), or its H x W luma
        (:func:`luma_u8`).
    tile : tile side (a multiple of 8).
    planes : :func:`region_planes` of the window, when already computed (the same
        planes serve every tile size).

    Returns
    -------
    RegionMaps

    References
    ----------
    As :func:`coding_cost` (Cozzolino et al. 2024) and :func:`noise_level_function`
    (Liu et al. 2006; Immerkær 1996), read locally.
    """
    if planes is None:
        gray = luma_u8(rgb) if rgb.ndim == 3 else rgb
        planes = region_planes(model, gray)
    cost, valid, res = planes
    h, w = valid.shape
    rows, cols = h // tile, w // tile

    def tiles(a: np.ndarray) -> np.ndarray:
        return a[: rows * tile, : cols * tile].reshape(rows, tile, cols, tile).sum(axis=(1, 3))

    n = tiles(valid)
    excess = tiles(cost) / np.maximum(n, 1.0)
    bs = BLOCK
    bh, bw = rows * tile // bs, cols * tile // bs
    sig = res[: bh * bs, : bw * bs].reshape(bh, bs, bw, bs).mean(axis=(1, 3))
    sig *= np.sqrt(np.pi / 2.0) / 6.0
    k = tile // bs
    per = sig.reshape(rows, k, cols, k).transpose(0, 2, 1, 3).reshape(rows, cols, k * k)
    noise = np.log(np.maximum(np.percentile(per, 25, axis=2), 0.05))
    return RegionMaps(tile, excess, noise, n / float(tile * tile))


@dataclass
class RegionComparison:
    """How a box's tiles differ from the tiles around it, in units of the spread of
    the surrounding tiles (robust z; negative = smoother / more predictable)."""

    excess_z: float
    noise_z: float
    inside_tiles: int
    outside_tiles: int

    @property
    def smoother_z(self) -> float:
        """How much smoother than its surroundings (>= 0): the mean of the two z scores
        when both point that way by at least one MAD, else 0 (one statistic alone is
        too easily moved by content: flat paint has low noise, texture low cost)."""
        if self.excess_z > -1.0 or self.noise_z > -1.0:
            return 0.0
        return -(self.excess_z + self.noise_z) / 2.0


def compare_region(maps: RegionMaps, box: tuple[int, int, int, int]) -> RegionComparison:
    """Compare the tiles mostly inside ``box`` (x0, y0, x1, y1, window pixels) with
    the others.

    A region made by a generator or pasted from a smoothed source lacks the sensor
    noise around it: its coding-cost excess and noise level both fall below those of
    the rest of the same photo. The z scores use the median and MAD of the outside
    tiles, so the photo's own variability is the yardstick.

    Parameters
    ----------
    maps : per-tile statistics from :func:`region_maps`.
    box : region in the window's pixel coordinates.

    Returns
    -------
    RegionComparison

    References
    ----------
    Cozzolino et al., ECCV 2024 (coding cost); Liu et al., CVPR 2006 (noise level).
    """
    t = maps.tile
    rows, cols = maps.excess.shape
    x0, y0, x1, y1 = box
    yy, xx = np.mgrid[0:rows, 0:cols]
    # Overlap of every tile with the box, as a share of the tile.
    ox = np.clip(np.minimum((xx + 1) * t, x1) - np.maximum(xx * t, x0), 0, t)
    oy = np.clip(np.minimum((yy + 1) * t, y1) - np.maximum(yy * t, y0), 0, t)
    share = ox * oy / float(t * t)
    good = maps.weight >= 0.5
    inside = good & (share >= 0.6)
    outside = good & (share == 0)
    if inside.sum() < 1 or outside.sum() < 4:
        return RegionComparison(0.0, 0.0, int(inside.sum()), int(outside.sum()))

    def z(a: np.ndarray) -> float:
        ref = a[outside]
        med = float(np.median(ref))
        mad = 1.4826 * float(np.median(np.abs(ref - med)))
        return (float(np.median(a[inside])) - med) / max(mad, 1e-3)

    return RegionComparison(z(maps.excess), z(maps.noise), int(inside.sum()), int(outside.sum()))


def find_faces(gray_u8: np.ndarray, min_side: int = 24) -> list[tuple[int, int, int, int]]:
    """Frontal faces (x0, y0, x1, y1) found by OpenCV's Haar cascade, largest first.

    Returns an empty list where the OpenCV build ships no cascades.

    Parameters
    ----------
    gray_u8 : H x W uint8 luma (a reduced copy is fine; boxes are in its pixels).
    min_side : smallest face side in pixels.

    Returns
    -------
    list of boxes.

    References
    ----------
    Viola, Jones, "Rapid Object Detection using a Boosted Cascade of Simple Features",
    CVPR 2001 (OpenCV's ``haarcascade_frontalface_default.xml``).
    """
    det = _face_cascade()
    if det is None:
        return []
    found = det.detectMultiScale(
        np.ascontiguousarray(gray_u8), scaleFactor=1.1, minNeighbors=5, minSize=(min_side, min_side)
    )
    boxes = [(int(x), int(y), int(x + w), int(y + h)) for x, y, w, h in found]
    return sorted(boxes, key=lambda b: -(b[2] - b[0]) * (b[3] - b[1]))


_CASCADE: list[Any] = []


def _face_cascade() -> Any:
    import cv2

    if not _CASCADE:
        root = getattr(getattr(cv2, "data", None), "haarcascades", None)
        det = cv2.CascadeClassifier(root + "haarcascade_frontalface_default.xml") if root else None
        _CASCADE.append(det if det is not None and not det.empty() else None)
    return _CASCADE[0]
