"""Aligning two copies of one picture: the similarity transform from one to the other."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "Alignment",
    "Keypoints",
    "NoAlignment",
    "align_keypoints",
    "align_similarity",
    "keypoints",
]

# Matches that must agree with one transform before two pictures count as aligned:
# unrelated photos reach 5-8 by chance under RANSAC at this tolerance.
MIN_INLIERS = 15
# Lowe's ratio test: a match is kept when its nearest descriptor is clearly nearer
# than the second nearest.
RATIO = 0.8
# Pictures smaller than this (long side, px) are enlarged for keypoints, at most
# MAX_ENLARGE times.
ENLARGE_BELOW = 480
MAX_ENLARGE = 2.0
# Scales beyond this (either way) between two copies are a degenerate fit, not a resize.
MIN_SCALE = 1 / 40


@dataclass(frozen=True)
class Alignment:
    """Where ``b``'s pixels land in ``a``: ``a_xy = matrix @ [b_x, b_y, 1]``."""

    matrix: np.ndarray  # 2 x 3, b's pixel grid to a's
    mirrored: bool  # b is a left-right mirror of a (the matrix then maps mirrored b)
    inliers: int
    matches: int

    @property
    def scale(self) -> float:
        """a's pixels per b pixel (2.0: b is half a's size)."""
        return float(math.sqrt(abs(np.linalg.det(self.matrix[:, :2]))))

    @property
    def rotation_degrees(self) -> float:
        """Turn of b's content within a, in degrees (-180, 180], the mirror set aside."""
        linear = self.matrix[:, :2] @ np.diag([-1.0, 1.0]) if self.mirrored else self.matrix[:, :2]
        return float(math.degrees(math.atan2(linear[1, 0], linear[0, 0])))


@dataclass(frozen=True)
class NoAlignment:
    """Why no transform was found: too few keypoints in a picture, or no agreement."""

    keypoints_a: int
    keypoints_b: int
    best_inliers: int

    @property
    def featureless(self) -> bool:
        """One picture has too little distinct detail (blur, fog, a flat graphic)."""
        return min(self.keypoints_a, self.keypoints_b) < FEW_KEYPOINTS


# Under this many keypoints a picture has too little distinct detail to align at all.
FEW_KEYPOINTS = 60


@dataclass(frozen=True)
class Keypoints:
    """SIFT keypoints of one picture, and of its left-right mirror when asked for."""

    points: np.ndarray  # N x 2, float32, (x, y)
    descriptors: np.ndarray | None  # N x 128, float32
    width: int
    mirror: Keypoints | None = None

    @property
    def count(self) -> int:
        return len(self.points)


def keypoints(gray: np.ndarray, max_features: int = 3000, mirror: bool = False) -> Keypoints:
    """SIFT keypoints and descriptors of a grey picture.

    A picture whose long side is under ``ENLARGE_BELOW`` is enlarged (at most
    ``MAX_ENLARGE`` times) before keypoints are found, as Lowe doubles the input: a
    200-px thumbnail has too few keypoints at its own size. Positions are given in
    the picture's own grid.

    Parameters
    ----------
    gray : ndarray
        Grey picture, uint8.
    max_features : int
        Keypoints kept.
    mirror : bool
        Also find those of the picture mirrored left to right (``Keypoints.mirror``).

    Returns
    -------
    Keypoints
        Their positions and descriptors (``descriptors`` None when none were found).

    References
    ----------
    D. G. Lowe, "Distinctive image features from scale-invariant keypoints", IJCV 60,
    91-110, 2004.
    """
    import cv2

    sift = cv2.SIFT_create(nfeatures=max_features)  # type: ignore[attr-defined]
    h, w = gray.shape[:2]
    factor = min(MAX_ENLARGE, ENLARGE_BELOW / max(h, w, 1))
    seen = gray
    if factor > 1.0:
        size = (round(w * factor), round(h * factor))
        seen = cv2.resize(gray, size, interpolation=cv2.INTER_CUBIC)
    found, desc = sift.detectAndCompute(seen, None)
    points = np.array([k.pt for k in found], np.float32).reshape(-1, 2)
    if factor > 1.0:  # back to the picture's own grid (pixel centres)
        points = (points + 0.5) / np.float32(factor) - 0.5
    flipped = keypoints(gray[:, ::-1].copy(), max_features) if mirror else None
    return Keypoints(points, desc, w, flipped)


def align_similarity(
    a_gray: np.ndarray, b_gray: np.ndarray, max_features: int = 3000
) -> Alignment | NoAlignment:
    """Find the similarity transform (scale, rotation, shift) that puts ``b`` on ``a``.

    SIFT keypoints of both pictures are matched (Lowe's ratio test) and a similarity
    transform is fitted to the matches by RANSAC; ``b`` mirrored left to right is
    tried too, as platforms and reposters flip pictures. Crops, resizes, small turns
    and recompression leave enough matching keypoints; a different photo of the same
    scene can align as well (the caller says so).

    Parameters
    ----------
    a_gray, b_gray : ndarray
        Grey pictures, uint8, any sizes (about 1000 px on the long side is enough).
    max_features : int
        Keypoints kept per picture.

    Returns
    -------
    Alignment or NoAlignment
        The transform from ``b``'s grid to ``a``'s, with its inlier count; or, when
        fewer than ``MIN_INLIERS`` matches agree on one transform, the keypoint counts
        and the best inlier count reached.

    References
    ----------
    D. G. Lowe, "Distinctive image features from scale-invariant keypoints", IJCV 60,
    91-110, 2004; M. A. Fischler and R. C. Bolles, "Random sample consensus", CACM 24,
    381-395, 1981.
    """
    found_a = keypoints(a_gray, max_features)
    if found_a.descriptors is None or found_a.count < MIN_INLIERS:
        return NoAlignment(found_a.count, keypoints(b_gray, max_features).count, 0)
    return align_keypoints(found_a, keypoints(b_gray, max_features, mirror=True))


def align_keypoints(a: Keypoints, b: Keypoints) -> Alignment | NoAlignment:
    """The similarity transform that puts ``b`` on ``a``, from their keypoints
    (:func:`align_similarity` once the keypoints are found; ``b.mirror``, when
    present, is tried too).

    Parameters
    ----------
    a, b : Keypoints
        From :func:`keypoints`; ``b`` with ``mirror=True`` to find mirrored copies.

    Returns
    -------
    Alignment or NoAlignment
        As :func:`align_similarity`.

    References
    ----------
    D. G. Lowe, IJCV 60, 2004; M. A. Fischler and R. C. Bolles, CACM 24, 1981.
    """
    import cv2

    most = 0
    if a.descriptors is None or a.count < MIN_INLIERS:
        return NoAlignment(a.count, b.count, 0)
    best: Alignment | None = None
    for side in (b, b.mirror):
        if side is None or side.descriptors is None or side.count < MIN_INLIERS:
            continue
        mirrored = side is b.mirror
        pairs = cv2.BFMatcher(cv2.NORM_L2).knnMatch(side.descriptors, a.descriptors, k=2)
        good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < RATIO * p[1].distance]
        if len(good) < MIN_INLIERS:
            continue
        src = side.points[[m.queryIdx for m in good]]
        dst = a.points[[m.trainIdx for m in good]]
        matrix, inlier_mask = cv2.estimateAffinePartial2D(
            src, dst, method=cv2.RANSAC, ransacReprojThreshold=3.0, maxIters=4000, confidence=0.999
        )
        if matrix is None or inlier_mask is None:
            continue
        inliers = int(inlier_mask.sum())
        most = max(most, inliers)
        if mirrored:  # put the flip into the matrix: it maps b's own grid to a's
            flip = np.array([[-1.0, 0.0, b.width - 1.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
            matrix = (np.vstack([matrix, [0.0, 0.0, 1.0]]) @ flip)[:2]
        found = Alignment(np.asarray(matrix, np.float64), mirrored, inliers, len(good))
        # A collapsed fit (matches piled on a few points) is no alignment of pictures.
        if not MIN_SCALE < found.scale < 1.0 / MIN_SCALE:
            continue
        if inliers >= MIN_INLIERS and (best is None or inliers > best.inliers):
            best = found
    return best if best is not None else NoAlignment(a.count, b.count, most)
