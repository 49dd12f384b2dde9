"""Image evidence on sampled video frames, computed inside the one streaming pass.

Which frames: every keyframe (up to a quarter of the budget) plus frames spread
evenly over the clip, ``budget`` in all; when the length is unknown the spacing
doubles whenever the budget fills, so memory stays flat in duration. Each sampled
frame is reduced at once to small block maps (:data:`FRAME_MAPS`), face boxes, a
thumbnail and, with the next decoded frame, one temporal noise correlation; no
picture is kept beyond that.

Adding a per-frame evidence is one line in :data:`FRAME_MAPS`: a name and a pure
function ``(rgb, gray, block) -> (H // block, W // block) float array`` (NaN where
it cannot speak) from :mod:`triage.forensics`.
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


def _cb(rgb: np.ndarray, gray: np.ndarray, block: int) -> np.ndarray:
    from triage.forensics.blockstats import chroma_map

    return chroma_map(rgb, block)[..., 0]


def _cr(rgb: np.ndarray, gray: np.ndarray, block: int) -> np.ndarray:
    from triage.forensics.blockstats import chroma_map

    return chroma_map(rgb, block)[..., 1]


MapFn = Callable[[np.ndarray, np.ndarray, int], np.ndarray]
# name -> per-frame block map. One line per evidence.
FRAME_MAPS: dict[str, MapFn] = {
    "noise": _noise,  # log noise sigma over the frame's own brightness curve
    "sharpness": _sharp,  # log10 Laplacian variance
    "blocking": _blocking,  # log strength of a block grid at its own phase
    "cb": _cb,  # mean blue-difference chroma
    "cr": _cr,  # mean red-difference chroma
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


class FrameSampler:
    """Decides which decoded frames to sample and reduces them to evidence."""

    def __init__(self, budget: int, expected_frames: int | None, width: int, height: int) -> None:
        self.budget = max(4, budget)
        self.key_budget = self.budget // 4
        spread = self.budget - self.key_budget
        self.step = max(1, math.ceil((expected_frames or 0) / spread)) if expected_frames else 1
        s = min(1.0, WORK_SIDE / max(width, height, 1))
        self.size = (max(1, round(width * s)), max(1, round(height * s)))
        self.samples = Samples(self.budget, BLOCK, s, self.size)
        self.samples.step = self.step
        self._keys = 0
        self._pending: tuple[SampledFrame, np.ndarray] | None = None
        self._faces: Any = None

    def wants(self, i: int, key: bool) -> bool:
        return (
            i % self.step == 0
            or (key and self._keys < self.key_budget)
            or self._pending is not None
        )

    def push(
        self, i: int, t: float, key: bool, rgb: Callable[[tuple[int, int]], np.ndarray]
    ) -> None:
        """Frame ``i`` (presentation order); ``rgb(size)`` gives it as RGB at ``size``."""
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
        if not (i % self.step == 0 or (key and self._keys < self.key_budget)):
            return
        self._keys += 1 if key and i % self.step else 0
        try:
            sf = self._evidence(i, t, key, img, gray)
        except Exception as exc:  # one unreadable frame should not end the pass
            if len(self.samples.errors) < 3:
                self.samples.errors.append(f"frame {i}: {exc}")
            return
        self.samples.frames.append(sf)
        self._pending = (sf, _crop(gray))
        if len(self.samples.frames) > self.budget:
            self._thin()

    def _thin(self) -> None:
        self.step *= 2
        self.samples.step = self.step
        self.samples.frames = [f for f in self.samples.frames if f.index % self.step == 0 or f.key]
        while len(self.samples.frames) > self.budget:  # too many keyframes: drop every other
            self.samples.frames = self.samples.frames[::2]

    def _evidence(
        self, i: int, t: float, key: bool, img: np.ndarray, gray: np.ndarray
    ) -> SampledFrame:
        maps = {
            name: np.asarray(fn(img, gray, BLOCK), np.float32) for name, fn in FRAME_MAPS.items()
        }
        faces = self._detect_faces(gray)
        from triage.forensics.blockstats import box_contrast

        stats = [box_contrast(gray, b) for b in faces]
        return SampledFrame(i, t, key, maps, faces, stats, _thumb(img))

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
