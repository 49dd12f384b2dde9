"""Copy-move on small pictures (issue 13): a picture whose long side is below
``MIN_WORK_SIDE`` is enlarged before the analysis, so that a clone in a 384 x 256 copy
(the size of an image-board or CASIA picture) gathers enough matching keypoints.

The scenes are made here (``fixtures/generators/scenes.py``: gradient, shapes, text,
noise), a block cloned by translation, saved as JPEG q90. The same scenes without the
enlargement (``MIN_WORK_SIDE = 0``, the analyzer before version 1.4) show what it adds;
their untouched twins must stay quiet (the scenes' text lines repeat letters, which
match in keypoints but not in noise). Measured on real photos: bench/copymove_small.py.
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
from triage.analyzers.copymove import MIN_ENLARGE_SIDE, MIN_WORK_SIDE, enlarged

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "fixtures"))

from generators.scenes import scene

W, H = 384, 256
SOURCE = (20, 120)  # x, y of the cloned block's top-left corner
SHIFT = (260, -100)


def _picture(seed: int, block: int, clone: bool) -> tuple[bytes, tuple[int, int, int, int]]:
    """JPEG q90 of a generated scene, with a ``block``-px square copied by ``SHIFT``
    when ``clone``; and the copy's box (x0, y0, x1, y1)."""
    img = scene(W, H, seed)
    x0, y0 = SOURCE
    tx, ty = x0 + SHIFT[0], y0 + SHIFT[1]
    if clone:
        img[ty : ty + block, tx : tx + block] = img[y0 : y0 + block, x0 : x0 + block].copy()
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "JPEG", quality=90)
    return buf.getvalue(), (tx, ty, tx + block, ty + block)


def _clone_boxes(data: bytes) -> list[list[int]]:
    report = triage.analyze(data, only=["copymove"])
    boxes: list[list[int]] = []
    for f in report.findings:
        if f.id == "copymove.cloned_region":
            boxes += f.evidence["boxes"]
    return boxes


def _overlaps(a: list[int], b: tuple[int, int, int, int]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.mark.parametrize(("seed", "block"), [(13000, 48), (13003, 64)])
def test_small_clone_found_only_with_enlargement(seed: int, block: int, monkeypatch: Any) -> None:
    edited, target = _picture(seed, block, clone=True)
    twin, _ = _picture(seed, block, clone=False)
    assert max(W, H) < MIN_WORK_SIDE
    boxes = _clone_boxes(edited)
    assert boxes, "the clone in the small picture is found"
    # Boxes are in the picture's own pixels (mapped back from the enlargement).
    assert any(_overlaps(b, target) for b in boxes)
    assert all(0 <= b[0] < b[2] <= W and 0 <= b[1] < b[3] <= H for b in boxes)
    assert not _clone_boxes(twin), "its untouched twin stays quiet"
    monkeypatch.setattr(copymove, "MIN_WORK_SIDE", 0)
    assert not _clone_boxes(edited), "without the enlargement the clone is missed"


def test_enlarged_leaves_large_pictures_and_thumbnails_alone() -> None:
    big = np.zeros((400, MIN_WORK_SIDE), np.float32)
    out, factor = enlarged(big, MIN_WORK_SIDE, MIN_ENLARGE_SIDE)
    assert out is big and factor == 1.0
    small = np.arange(256 * 384, dtype=np.float32).reshape(256, 384) % 251
    out, factor = enlarged(small, MIN_WORK_SIDE, MIN_ENLARGE_SIDE)
    assert out.shape == (341, MIN_WORK_SIDE)
    assert factor == pytest.approx(MIN_WORK_SIDE / 384)
    # A thumbnail is not enlarged: its residual would be interpolated content.
    tiny = small[:64, : MIN_ENLARGE_SIDE - 1]
    out, factor = enlarged(tiny, MIN_WORK_SIDE, MIN_ENLARGE_SIDE)
    assert out is tiny and factor == 1.0
