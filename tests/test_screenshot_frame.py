"""A photo set in a flat frame (a screenshot of a post) is found and analyzed alone.

Every image is made by code: a camera-like photo (fixtures/generators/camera.py)
pasted into a flat interface with text and icons drawn by OpenCV.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "fixtures"))

from generators.camera import camera_like

from triage.analyzers.base import Context
from triage.analyzers.resampling import ResamplingAnalyzer
from triage.analyzers.tamper import TamperAnalyzer
from triage.forensics.layout import framed_photo_box
from triage.media import Media

PHOTO_AT = (40, 260)  # (x, y) of the photo's corner in the screenshot


def _photo(seed: int = 3) -> np.ndarray:
    return camera_like(480, 640, seed=seed)


def _screenshot(photo: np.ndarray, ground: tuple[int, int, int] = (255, 255, 255)) -> np.ndarray:
    h, w = photo.shape[:2]
    x, y = PHOTO_AT
    canvas = np.empty((y + h + 160, w + 2 * x, 3), np.uint8)
    canvas[:] = ground
    ink = (20, 20, 20) if sum(ground) > 300 else (230, 230, 230)
    cv2.circle(canvas, (60, 60), 30, (120, 140, 200), -1)
    cv2.putText(canvas, "Some Account @account 2h", (110, 70), cv2.FONT_HERSHEY_SIMPLEX, 0.7, ink)
    for i, line in enumerate(["crowds gathered near the station", "officials have not said"]):
        cv2.putText(canvas, line, (20, 140 + 40 * i), cv2.FONT_HERSHEY_SIMPLEX, 0.8, ink, 2)
    canvas[y : y + h, x : x + w] = photo
    for j in range(4):  # the same icon on every post
        cx = 60 + j * 160
        cv2.rectangle(canvas, (cx, y + h + 40), (cx + 22, y + h + 58), (100, 100, 100), 2)
    return canvas


def _iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    area = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / area


@pytest.mark.parametrize("ground", [(255, 255, 255), (21, 32, 43)])
def test_the_photo_of_a_screenshot_is_found(ground: tuple[int, int, int]) -> None:
    photo = _photo()
    shot = _screenshot(photo, ground)
    box = framed_photo_box(shot)
    assert box is not None
    x, y = PHOTO_AT
    truth = (x, y, x + photo.shape[1], y + photo.shape[0])
    assert _iou(box, truth) >= 0.9
    # Never a frame pixel inside the box.
    assert box[0] >= truth[0] and box[1] >= truth[1]
    assert box[2] <= truth[2] and box[3] <= truth[3]


def test_a_dark_photo_with_flat_areas_is_found_inside_its_frame() -> None:
    photo = _photo()
    photo[:200] = (5, 5, 8)  # a black night sky, flat after the downscale
    shot = _screenshot(photo)
    box = framed_photo_box(shot)
    assert box is not None
    x, y = PHOTO_AT
    truth = (x, y, x + photo.shape[1], y + photo.shape[0])
    assert box[0] >= truth[0] and box[1] >= truth[1]
    assert box[2] <= truth[2] and box[3] <= truth[3]
    textured = (x, y + 200, x + photo.shape[1], y + photo.shape[0])
    assert _iou(box, textured) >= 0.85


def test_ordinary_images_have_no_frame() -> None:
    photo = _photo()
    assert framed_photo_box(photo) is None
    # A flat, clipped sky reaches one edge only: not a frame.
    sky = photo.copy()
    sky[:200] = 255
    assert framed_photo_box(sky) is None
    # An object on its own flat background is not a rectangle: not a frame.
    planet = np.zeros((600, 800, 3), np.uint8)
    disc = np.hypot(*np.mgrid[-300:300, -400:400]) < 220
    texture = cv2.resize(_photo(5), (800, 600))
    planet[disc] = texture[disc]
    assert framed_photo_box(planet) is None


def _media(rgb: np.ndarray, tmp_path: Path, name: str) -> Media:
    path = tmp_path / name
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "PNG")
    path.write_bytes(buf.getvalue())
    return Media.open(path)


def test_region_analyzers_compare_the_photo_with_itself(tmp_path: Path) -> None:
    photo = _photo()
    shot = _screenshot(photo)
    x, y = PHOTO_AT
    truth = (x, y, x + photo.shape[1], y + photo.shape[0])
    for analyzer in (TamperAnalyzer(), ResamplingAnalyzer()):
        framed = analyzer.run(_media(shot, tmp_path, "shot.png"), Context())
        box = framed.metrics["framed_photo"]
        assert _iou(tuple(box), truth) >= 0.9
        assert all(v % 8 == 0 for v in box)  # the JPEG grid keeps its phase
        assert any("flat surround" in note for note in framed.not_checked)
        for finding in framed.findings:  # regions lie in the photo
            for b in finding.evidence.get("boxes", []):
                assert truth[0] <= b[0] and b[2] <= truth[2]
                assert truth[1] <= b[1] and b[3] <= truth[3]
        alone = analyzer.run(_media(photo, tmp_path, "photo.png"), Context())
        assert "framed_photo" not in alone.metrics


@pytest.mark.parametrize("size", [(517, 389), (1031, 517), (2100, 1501), (3073, 2050)])
def test_layout_copy_is_every_kth_pixel(tmp_path: Path, size: tuple[int, int]) -> None:
    """The one subsampled copy the frame and graphic checks read is rgb[::k, ::k]."""
    from triage.analyzers.common import _layout_copy, _layout_step

    w, h = size
    rgb = np.random.default_rng(w).integers(0, 256, (h, w, 3), dtype=np.uint8)
    path = tmp_path / "noise.png"
    Image.fromarray(rgb).save(path)
    media = Media.open(path)
    k = _layout_step(media)
    got = _layout_copy(media)
    assert got.flags.c_contiguous
    assert np.array_equal(got, rgb[::k, ::k])
