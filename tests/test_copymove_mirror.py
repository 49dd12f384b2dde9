"""Copy-move of MIRRORED (flipped) clones (issue 13, copymove 1.5): every keypoint's
SIFT descriptor, its bins permuted into its mirror image's (``mirror_permutation``), is
matched against the descriptors as they are, and those pairs go through the same RANSAC
and noise check as ordinary ones.

The scenes are made here (``fixtures/generators/scenes.py``: gradient, shapes, text,
noise), a block pasted flipped left-right or up-down, saved as JPEG q90. Without the
mirrored matching (``MIRRORS = False``, the analyzer before 1.5) the clone is missed;
the untouched twin stays quiet (its text lines and shapes have mirror-like keypoints
too, which the noise check rejects). Measured on real photos: bench/copymove_mirror.py.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

import triage
import triage.analyzers.copymove as copymove
from triage.forensics.copymove import _decompose, knn_l2, mirror_permutation

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "fixtures"))

from generators.scenes import scene

W, H = 640, 480
BLOCK = 128
SOURCE = (50, 160)  # x, y of the copied block's top-left corner
TARGET = (320, 80)


def _textured(seed: int) -> np.ndarray:
    """A grey 320 x 240 picture with texture at several scales (many keypoints)."""
    import cv2

    rng = np.random.default_rng(seed)
    coarse = cv2.resize(
        rng.normal(0, 1, (30, 40)).astype(np.float32), (320, 240), interpolation=cv2.INTER_CUBIC
    )
    gray = cv2.cvtColor(scene(320, 240, seed), cv2.COLOR_RGB2GRAY).astype(np.float32)
    return np.clip(0.6 * gray + 40 * coarse + 60, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("flip", [1, 0])  # cv2.flip: 1 left-right, 0 up-down
def test_permuted_descriptor_is_the_mirror_images_descriptor(flip: int) -> None:
    """SIFT on a picture and on its flip: a keypoint's descriptor, permuted, is close to
    the descriptor at the mirrored position; unpermuted, it is not (OpenCV's layout)."""
    import cv2

    img = _textured(7)
    flipped = cv2.flip(img, flip)
    sift = cv2.SIFT_create(contrastThreshold=0.01)  # type: ignore[attr-defined]
    k1, d1 = sift.detectAndCompute(img, None)
    k2, d2 = sift.detectAndCompute(flipped, None)
    p1 = np.array([k.pt for k in k1])
    p2 = np.array([k.pt for k in k2])
    s1 = np.array([k.size for k in k1])
    s2 = np.array([k.size for k in k2])
    expected = p1.copy()
    axis = 0 if flip == 1 else 1
    expected[:, axis] = img.shape[1 - axis] - 1 - expected[:, axis]
    perm = mirror_permutation()
    permuted, plain = [], []
    for i in range(len(k1)):
        near = np.hypot(*(p2 - expected[i]).T) < 0.5
        same = near & (np.abs(s2 - s1[i]) < 0.05 * s1[i])
        if not same.any():
            continue
        permuted.append(np.linalg.norm(d2[same] - d1[i][perm], axis=1).min())
        plain.append(np.linalg.norm(d2[same] - d1[i], axis=1).min())
    assert len(permuted) > 100
    # Descriptors have a norm of ~512; corresponding ones measured ~37 apart permuted.
    assert np.median(permuted) < 80
    assert np.median(plain) > 4 * np.median(permuted)


def test_mirror_permutation_is_an_involution() -> None:
    perm = mirror_permutation()
    assert sorted(perm.tolist()) == list(range(128))
    assert np.array_equal(perm[perm], np.arange(128))


def test_knn_of_a_query_set_is_brute_force() -> None:
    rng = np.random.default_rng(5)
    desc = rng.integers(0, 40, (500, 128)).astype(np.float32)
    query = rng.integers(0, 40, (300, 128)).astype(np.float32)
    idx, dist = knn_l2(desc, 4, block=128, query=query)
    full = np.sqrt(((query[:, None, :] - desc[None, :, :]) ** 2).sum(axis=2))
    ref = np.argsort(full, axis=1, kind="stable")[:, :4]
    assert np.array_equal(idx, ref)
    assert np.allclose(dist, np.take_along_axis(full, ref, axis=1))


def test_mirrored_transform_reads_scale_and_rotation_after_a_flip() -> None:
    lr = np.array([[-1.0, 0.0, 300.0], [0.0, 1.0, 0.0]])
    ud = np.array([[1.0, 0.0, 0.0], [0.0, -1.0, 200.0]])
    assert _decompose(lr) == pytest.approx((1.0, 0.0))
    assert abs(_decompose(ud)[1]) == pytest.approx(180.0)


def _picture(seed: int, flip: str | None) -> bytes:
    """JPEG q90 of a generated scene with a block pasted flipped (``"lr"`` or ``"ud"``)
    elsewhere; ``None``: the untouched twin."""
    img = scene(W, H, seed)
    if flip is not None:
        x0, y0 = SOURCE
        tx, ty = TARGET
        patch = img[y0 : y0 + BLOCK, x0 : x0 + BLOCK]
        img[ty : ty + BLOCK, tx : tx + BLOCK] = patch[:, ::-1] if flip == "lr" else patch[::-1]
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def _clones(data: bytes) -> list[dict[str, Any]]:
    report = triage.analyze(data, only=["copymove"])
    out: list[dict[str, Any]] = []
    for f in report.findings:
        if f.id == "copymove.cloned_region":
            out += f.evidence["clones"]
    return out


def _overlaps(a: list[int], x: int, y: int) -> bool:
    return a[0] < x + BLOCK and x < a[2] and a[1] < y + BLOCK and y < a[3]


@pytest.mark.parametrize(("seed", "flip"), [(13000, "lr"), (13002, "ud")])
def test_flipped_clone_found_only_with_mirrored_matching(
    seed: int, flip: str, monkeypatch: Any
) -> None:
    clones = _clones(_picture(seed, flip))
    assert clones, "the flipped clone is found"
    top = clones[0]
    assert top["mirrored"] is True
    boxes = [top["region_a"], top["region_b"]]
    assert any(_overlaps(b, *TARGET) for b in boxes)
    assert any(_overlaps(b, *SOURCE) for b in boxes)
    # The linear part flips: a negative determinant, scale ~1.
    (a, b, _), (c, d, _) = top["transform"]
    assert a * d - b * c == pytest.approx(-1.0, abs=0.1)
    assert not _clones(_picture(seed, None)), "its untouched twin stays quiet"
    monkeypatch.setattr(copymove, "MIRRORS", False)
    assert not _clones(_picture(seed, flip)), "without mirrored matching it is missed"


def test_mirrored_candidate_seen_in_perspective_needs_more_noise_agreement() -> None:
    """Natural symmetry (wings, faces, facades) is seen in perspective: a mirrored
    candidate whose points a similarity misses needs a net residual >= 0.85; the same
    misfit on an ordinary candidate, or a mirrored one that obeys a similarity, keeps
    the ordinary bar."""
    from triage.analyzers.copymove import accept
    from triage.forensics.copymove import CloneMatch

    def cand(mirrored: bool, misfit: float, p: float, res: float) -> CloneMatch:
        box = (0, 0, 10, 10)
        pts = np.zeros((20, 2))
        m = np.eye(2, 3)
        return CloneMatch(box, box, m, 20, pts, pts, res, 0.9, 1.0, 0.0, 100.0, misfit, p, mirrored)

    assert not accept(cand(True, 1.4, 1e-20, 0.5))[0]
    assert accept(cand(True, 1.4, 1e-20, 0.9))[0]
    assert accept(cand(True, 0.1, 0.5, 0.5))[0]
    assert accept(cand(False, 1.4, 1e-20, 0.5))[0]


def test_half_mirrored_picture_is_found(monkeypatch: Any) -> None:
    """The right half replaced by the left half flipped (as the corpus's CASIA2
    ``ind00091`` files): a flip about a line undoes itself, so both directions of every
    pair fit it; each pair is kept once and the clone is still found."""
    img = scene(W, H, 13001)
    img[:, W // 2 :] = img[:, : W // 2][:, ::-1]
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "JPEG", quality=90)
    clones = _clones(buf.getvalue())
    assert clones and clones[0]["mirrored"] is True
    assert clones[0]["shift_px"] > W / 4  # the two halves' centres, not one point
    monkeypatch.setattr(copymove, "MIRRORS", False)
    assert not _clones(buf.getvalue())
