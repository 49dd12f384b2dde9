"""Image evidence on sampled video frames, computed inside the one streaming pass.

Which frames: every keyframe (up to a quarter of the budget) plus frames spread
evenly over the clip, ``budget`` in all; when the length is unknown the spacing
doubles whenever the budget fills, so memory stays flat in duration. Each sampled
frame is reduced at once to small block maps (:data:`FRAME_MAPS`), face boxes, a
thumbnail and, with the next decoded frame, one temporal noise correlation; no
picture is kept beyond that.

Adding a per-frame evidence is one line in :data:`FRAME_MAPS`: a name and a pure
function ``(rgb, gray, block) -> (H // block, W // block) float array`` (NaN where
it cannot speak) from :mod:`triage.forensics`, or a dict of such maps by name when
one computation gives several (the two chroma maps).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

DEFAULT_FRAMES = 48
WORK_SIDE = 960  # sampled frames are analysed with the long side at most this
BLOCK = 24
THUMB_SIDE = 160
CROP = 256  # side of the luma crop used for the temporal noise correlation
FACE_SIDE = 480
# The tamper model needs the codec's block grid, so it reads frames at native size:
# on the intra-coded samples and every TAMPER_EVERY-th spread sample, at most
# TAMPER_PIXELS (a centred window of larger frames).
TAMPER_EVERY = 3
TAMPER_PIXELS = 2_100_000
TAMPER_MIN_SIDE = 128
MAX_KEYFRAMES = 100_000  # keyframe indices remembered (a few bytes each)
# Noise-residual correlations measured across a keyframe boundary (the frame before
# an intra-coded frame against it, native-size centre crops): at most this many.
KEY_PAIRS = 32


def _noise(rgb: np.ndarray, gray: np.ndarray, block: int) -> np.ndarray:
    from triage.forensics.noise import block_noise_map

    nm = block_noise_map(gray, block)
    return np.where(nm.valid, nm.log_ratio, np.nan).astype(np.float32)


def _sharp(rgb: np.ndarray, gray: np.ndarray, block: int) -> np.ndarray:
    from triage.forensics.blockstats import sharpness_map

    return sharpness_map(gray, block)


def _blocking(rgb: np.ndarray, gray: np.ndarray, block: int) -> np.ndarray:
    from triage.forensics.blockstats import blockiness_map

    return np.log(blockiness_map(gray, block))


def _chroma(rgb: np.ndarray, gray: np.ndarray, block: int) -> dict[str, np.ndarray]:
    from triage.forensics.blockstats import chroma_map

    c = chroma_map(rgb, block)  # one colour conversion for both maps
    return {"cb": c[..., 0], "cr": c[..., 1]}


def _camera(rgb: np.ndarray) -> dict[str, float]:
    """Camera-likeness of a frame's centre window (the ``camera`` analyzer's
    statistics, learned from real photos): the one-class distance over its
    reference quantile, and the coding-cost and noise-level z-scores."""
    from triage.forensics.camera import FEATURE_NAMES, centre_window, features, shipped_model

    model, fusion = shipped_model()
    h, w = rgb.shape[:2]
    if min(h, w) < 128:
        return {}
    x0, y0, x1, y1 = centre_window(h, w)
    v = features(model, np.ascontiguousarray(rgb[y0:y1, x0:x1])).vector()
    z = fusion.z(v)
    return {
        "distance_ratio": fusion.distance2(v) / max(float(fusion.d2_quantiles[-1]), 1e-9),
        "coding_cost_z": float(z[FEATURE_NAMES.index("cc0_excess")]),
        "noise_level_z": float(z[FEATURE_NAMES.index("nlf_level")]),
    }


StatFn = Callable[[np.ndarray], dict[str, float]]
# name -> whole-picture statistics of a frame read at native size (the frames the
# tamper model reads), aggregated over the clip by the frames analyzer (median and
# spread per statistic, in its metrics; not evidence: the camera analyzer's card
# measures the whole-picture distance near chance once pictures are re-compressed).
FRAME_STATS: dict[str, StatFn] = {"camera": _camera}

MapFn = Callable[[np.ndarray, np.ndarray, int], np.ndarray | dict[str, np.ndarray]]
# name -> per-frame block map (or several, by name, from one computation). One line
# per evidence.
FRAME_MAPS: dict[str, MapFn] = {
    "noise": _noise,  # log noise sigma over the frame's own brightness curve
    "sharpness": _sharp,  # log10 Laplacian variance
    "blocking": _blocking,  # log strength of a block grid at its own phase
    "chroma": _chroma,  # "cb", "cr": mean blue- and red-difference chroma
}


@dataclass
class SampledFrame:
    index: int
    time: float
    key: bool
    maps: dict[str, np.ndarray]
    faces: list[tuple[int, int, int, int]]  # working-image boxes
    face_stats: list[dict[str, float]]
    thumb: np.ndarray
    next_corr: float = float("nan")  # residual correlation with the next frame
    tamper: np.ndarray | None = None  # tamper-model probability per tile, or None
    stats: dict[str, float] = field(default_factory=dict)  # FRAME_STATS at native size


@dataclass
class Samples:
    budget: int
    block: int
    scale: float  # working image / original frame
    work_size: tuple[int, int]  # (w, h) of the working image
    frames: list[SampledFrame] = field(default_factory=list)
    step: int = 1
    errors: list[str] = field(default_factory=list)
    no_faces: str | None = None  # why faces were not looked for
    tamper_origin: tuple[int, int] = (0, 0)  # native-pixel offset of the tamper window
    tamper_size: tuple[int, int] = (0, 0)  # (w, h) of the tamper window
    tamper_note: str | None = None  # why the tamper model was not run, or what it skipped
    keyframes: list[int] = field(default_factory=list)  # every keyframe index seen
    # Residual correlation of the frame before each keyframe with the keyframe
    # (native-size centre crops), up to KEY_PAIRS of them.
    key_pair_corr: list[float] = field(default_factory=list)

    def gop_of(self) -> list[int]:
        """For each sampled frame, the index of the keyframe that opens its group of
        pictures (-1 before the first keyframe)."""
        import bisect

        return [
            self.keyframes[k - 1] if (k := bisect.bisect_right(self.keyframes, f.index)) else -1
            for f in self.frames
        ]


class FrameSampler:
    """Decides which decoded frames to sample and reduces them to evidence."""

    def __init__(self, budget: int, expected_frames: int | None, width: int, height: int) -> None:
        self.budget = max(4, budget)
        self.key_budget = self.budget // 4
        spread = self.budget - self.key_budget
        self.step = max(1, math.ceil((expected_frames or 0) / spread)) if expected_frames else 1
        # Keyframes spread over the clip, not the first few: the region tracks use
        # them as the intra-coded reference of every span (tracks.events).
        self.key_gap = (
            max(1, (expected_frames or 0) // max(1, self.key_budget)) if expected_frames else 1
        )
        self._last_key = -(10**9)
        s = min(1.0, WORK_SIDE / max(width, height, 1))
        self.size = (max(1, round(width * s)), max(1, round(height * s)))
        self.samples = Samples(self.budget, BLOCK, s, self.size)
        self.samples.step = self.step
        self._keys = 0
        self._pending: tuple[SampledFrame, np.ndarray] | None = None
        self._faces: Any = None
        self.native = (width, height)
        self._frame_stats: dict[str, float] = {}
        self._tamper = _tamper_window(width, height, self.samples)
        self._prev_crop: tuple[int, np.ndarray] | None = None

    def wants(self, i: int, key: bool) -> bool:
        return i % self.step == 0 or self._key_wanted(i, key) or self._pending is not None

    def _key_wanted(self, i: int, key: bool) -> bool:
        return key and self._keys < self.key_budget and i - self._last_key >= self.key_gap

    def push(
        self,
        i: int,
        t: float,
        key: bool,
        rgb: Callable[[tuple[int, int]], np.ndarray],
        luma: Callable[[], np.ndarray] | None = None,
    ) -> None:
        """Frame ``i`` (presentation order); ``rgb(size)`` gives it as RGB at ``size``;
        ``luma()``, when given, its native 8-bit luma cheaply (a view), for the
        correlation across keyframe boundaries."""
        if key and len(self.samples.keyframes) < MAX_KEYFRAMES:
            self.samples.keyframes.append(i)
        if luma is not None:
            self._key_pair(i, key, luma)
        if not self.wants(i, key):
            return
        img = rgb(self.size)
        gray = _gray(img)
        if self._pending is not None:
            prev, crop = self._pending
            self._pending = None
            if prev.index == i - 1:
                from triage.forensics.blockstats import residual_correlation

                prev.next_corr = residual_correlation(crop, _crop(gray))
        extra_key = self._key_wanted(i, key) and i % self.step != 0
        if not (i % self.step == 0 or extra_key):
            return
        self._keys += 1 if extra_key else 0
        self._last_key = i if key else self._last_key
        try:
            sf = self._evidence(i, t, key, img, gray)
            if self._tamper is not None and (key or i % (TAMPER_EVERY * self.step) == 0):
                self._frame_stats = sf.stats
                sf.tamper = self._tamper_map(rgb)
        except Exception as exc:  # one unreadable frame should not end the pass
            if len(self.samples.errors) < 3:
                self.samples.errors.append(f"frame {i}: {exc}")
            return
        self.samples.frames.append(sf)
        self._pending = (sf, _crop(gray))
        if len(self.samples.frames) > self.budget:
            self._thin()

    def _key_pair(self, i: int, key: bool, luma: Callable[[], np.ndarray]) -> None:
        """Correlate the noise residual of the frame before a keyframe with the
        keyframe's. An intra-coded frame is coded from the picture alone, so no
        block can be copied into it from the frame before: at a low bitrate a codec
        makes consecutive predicted frames' residuals correlate (skipped and copied
        blocks), but not across this boundary, while noise that belongs to the
        content (generated texture moving with it) stays correlated there too."""
        if len(self.samples.key_pair_corr) >= KEY_PAIRS:
            self._prev_crop = None
            return
        crop = _crop(luma())
        prev = self._prev_crop
        if key and prev is not None and prev[0] == i - 1 and prev[1].shape == crop.shape:
            from triage.forensics.blockstats import residual_correlation

            r = residual_correlation(prev[1], crop)
            if math.isfinite(r):
                self.samples.key_pair_corr.append(r)
        self._prev_crop = (i, crop)

    def _thin(self) -> None:
        self.step *= 2
        self.samples.step = self.step
        self.samples.frames = [f for f in self.samples.frames if f.index % self.step == 0 or f.key]
        while len(self.samples.frames) > self.budget:  # too many keyframes: drop every other
            self.samples.frames = self.samples.frames[::2]

    def _evidence(
        self, i: int, t: float, key: bool, img: np.ndarray, gray: np.ndarray
    ) -> SampledFrame:
        maps: dict[str, np.ndarray] = {}
        for name, fn in FRAME_MAPS.items():
            out = fn(img, gray, BLOCK)
            parts = out if isinstance(out, dict) else {name: out}
            maps.update({k: np.asarray(v, np.float32) for k, v in parts.items()})
        faces = self._detect_faces(gray)
        from triage.forensics.blockstats import box_contrast

        stats = [box_contrast(gray, b) for b in faces]
        return SampledFrame(i, t, key, maps, faces, stats, _thumb(img))

    def _tamper_map(self, rgb: Callable[[tuple[int, int]], np.ndarray]) -> np.ndarray:
        from triage.models import tamper_tiles

        (ox, oy), (w, h) = self.samples.tamper_origin, self.samples.tamper_size
        native = np.ascontiguousarray(rgb(self.native)[oy : oy + h, ox : ox + w])
        for name, fn in FRAME_STATS.items():
            try:
                values = fn(native)
            except Exception as exc:  # a statistic that cannot read this frame
                if len(self.samples.errors) < 3:
                    self.samples.errors.append(f"{name} statistics: {exc}")
                continue
            self._frame_stats.update({f"{name}.{k}": float(v) for k, v in values.items()})
        return tamper_tiles(native)

    def _detect_faces(self, gray: np.ndarray) -> list[tuple[int, int, int, int]]:
        import cv2

        if self._faces is None:
            self._faces = _face_detector()
            if self._faces is False:
                self.samples.no_faces = (
                    "faces: this OpenCV build has no Haar face cascades (OpenCV 5 dropped "
                    "them); flagged regions are still tracked"
                )
        if self._faces is False:
            return []
        h, w = gray.shape
        s = min(1.0, FACE_SIDE / max(h, w))
        small = (
            cv2.resize(gray, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
            if s < 1
            else gray
        )
        # The cascade takes 8-bit images only; the frame maps work on float luma.
        small8 = np.clip(small, 0, 255).astype(np.uint8)
        found = self._faces.detectMultiScale(
            small8, scaleFactor=1.15, minNeighbors=5, minSize=(24, 24)
        )
        return [
            (int(x / s), int(y / s), int((x + fw) / s), int((y + fh) / s)) for x, y, fw, fh in found
        ][:5]


def _tamper_window(width: int, height: int, samples: Samples) -> tuple[int, int] | None:
    """Set the native-pixel window the tamper model reads; None when it cannot run."""
    try:
        import lightgbm  # noqa: F401
    except ImportError:
        samples.tamper_note = "tamper model on frames: lightgbm is not installed"
        return None
    if min(width, height) < TAMPER_MIN_SIDE:
        samples.tamper_note = f"tamper model on frames: frames too small ({width}x{height})"
        return None
    w, h = width, height
    if w * h > TAMPER_PIXELS:
        s = (TAMPER_PIXELS / float(w * h)) ** 0.5
        w, h = int(w * s) // 16 * 16, int(h * s) // 16 * 16
        samples.tamper_note = (
            f"tamper model on frames: only a centred {w}x{h} window of each "
            f"{width}x{height} frame was read"
        )
    # Offsets on the 16-px macroblock grid keep the codec's block grid aligned.
    samples.tamper_origin = ((width - w) // 2 // 16 * 16, (height - h) // 2 // 16 * 16)
    samples.tamper_size = (w, h)
    return (w, h)


def _face_detector() -> Any:
    """OpenCV's frontal-face Haar cascade, or False where the build lacks it."""
    import cv2

    root = getattr(getattr(cv2, "data", None), "haarcascades", None)
    if root is None or not hasattr(cv2, "CascadeClassifier"):
        return False
    det = cv2.CascadeClassifier(root + "haarcascade_frontalface_default.xml")
    return False if det.empty() else det


def _gray(rgb: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)


def _crop(gray: np.ndarray) -> np.ndarray:
    h, w = gray.shape
    c = min(CROP, h, w)
    y, x = (h - c) // 2, (w - c) // 2
    return np.ascontiguousarray(gray[y : y + c, x : x + c])


def _thumb(rgb: np.ndarray) -> np.ndarray:
    import cv2

    h, w = rgb.shape[:2]
    s = min(1.0, THUMB_SIDE / max(h, w))
    return cv2.resize(
        rgb, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA
    )
