"""Aligning two copies of one picture: the similarity transform from one to the other."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Alignment", "NoAlignment", "align_similarity"]

# Matches that must agree with one transform before two pictures count as aligned:
# unrelated photos reach 5-8 by chance under RANSAC at this tolerance.
MIN_INLIERS = 15
# Lowe's ratio test: a match is kept when its nearest descriptor is clearly nearer
# than the second nearest.
RATIO = 0.8


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
    import cv2

    sift = cv2.SIFT_create(nfeatures=max_features)  # type: ignore[attr-defined]
    kp_a, desc_a = sift.detectAndCompute(a_gray, None)
    counts = [len(kp_a), 0]
    most = 0
    if desc_a is None or len(kp_a) < MIN_INLIERS:
        return NoAlignment(len(kp_a), len(sift.detect(b_gray, None)), 0)
    pts_a = np.array([k.pt for k in kp_a], np.float32)
    best: Alignment | None = None
    for mirrored in (False, True):
        b = b_gray[:, ::-1].copy() if mirrored else b_gray
        kp_b, desc_b = sift.detectAndCompute(b, None)
        counts[1] = len(kp_b)
        if desc_b is None or len(kp_b) < MIN_INLIERS:
            continue
        pts_b = np.array([k.pt for k in kp_b], np.float32)
        pairs = cv2.BFMatcher(cv2.NORM_L2).knnMatch(desc_b, desc_a, k=2)
        good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < RATIO * p[1].distance]
        if len(good) < MIN_INLIERS:
            continue
        src = pts_b[[m.queryIdx for m in good]]
        dst = pts_a[[m.trainIdx for m in good]]
        matrix, inlier_mask = cv2.estimateAffinePartial2D(
            src, dst, method=cv2.RANSAC, ransacReprojThreshold=3.0, maxIters=4000, confidence=0.999
        )
        if matrix is None or inlier_mask is None:
            continue
        inliers = int(inlier_mask.sum())
        most = max(most, inliers)
        if mirrored:  # put the flip into the matrix: it maps b's own grid to a's
            width = b_gray.shape[1]
            flip = np.array([[-1.0, 0.0, width - 1.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
            matrix = (np.vstack([matrix, [0.0, 0.0, 1.0]]) @ flip)[:2]
        found = Alignment(np.asarray(matrix, np.float64), mirrored, inliers, len(good))
        if inliers >= MIN_INLIERS and (best is None or inliers > best.inliers):
            best = found
    return best if best is not None else NoAlignment(counts[0], counts[1], most)
