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
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "fixtures"))

from generators.camera import camera_like

from triage.analyzers.base import Context
from triage.analyzers.compression import CompressionAnalyzer
from triage.analyzers.copymove import CopyMoveAnalyzer
from triage.analyzers.noise import NoiseAnalyzer
from triage.analyzers.resampling import ResamplingAnalyzer
from triage.analyzers.tamper import TamperAnalyzer
from triage.forensics.layout import DARK_LEVEL, framed_photo_box
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


def _assert_inside(box: tuple[int, int, int, int] | None, truth: tuple[int, int, int, int]) -> None:
    """The box was found, covers the photo (IoU >= 0.9) and holds no frame pixel."""
    assert box is not None
    assert _iou(box, truth) >= 0.9
    assert box[0] >= truth[0] and box[1] >= truth[1]
    assert box[2] <= truth[2] and box[3] <= truth[3]


@pytest.mark.parametrize("ground", [(255, 255, 255), (21, 32, 43)])
def test_the_photo_of_a_screenshot_is_found(ground: tuple[int, int, int]) -> None:
    photo = _photo()
    shot = _screenshot(photo, ground)
    box = framed_photo_box(shot)
    x, y = PHOTO_AT
    _assert_inside(box, (x, y, x + photo.shape[1], y + photo.shape[0]))


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


def _chat(photo: np.ndarray) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """A messaging app's screen: a title bar of its own colour, a text bubble, and the
    photo in a bubble of a third colour; returns the screen and the photo's box."""
    h, w = photo.shape[:2]
    canvas = np.empty((h + 520, w + 220, 3), np.uint8)
    canvas[:] = (236, 229, 221)
    canvas[:120] = (7, 94, 84)
    cv2.putText(canvas, "Family group", (90, 75), cv2.FONT_HERSHEY_SIMPLEX, 1.3, (255,) * 3, 3)
    canvas[150:260, 30:600] = 255
    cv2.putText(canvas, "look what we saw", (50, 220), cv2.FONT_HERSHEY_SIMPLEX, 1.3, (20,) * 3, 3)
    x, y = 180, 300
    canvas[y - 15 : y + h + 60, x - 15 : x + w + 15] = (220, 248, 198)
    canvas[y : y + h, x : x + w] = photo
    return canvas, (x, y, x + w, y + h)


@pytest.mark.parametrize("quality", [None, 75, 60])
def test_the_photo_of_a_chat_screen_is_found(quality: int | None) -> None:
    # The title bar is not the ground colour, so the frame's sides are not all ground;
    # the text bubble's letters must not read as a second photo. Saved as a JPEG, the
    # title bar's edge rings, and the box must grow over the photo's own flat parts,
    # not into the bubble's margin below it (drawn in the bubble's colour).
    shot, truth = _chat(_photo())
    _assert_inside(framed_photo_box(shot if quality is None else _jpeg(shot, quality)), truth)


def test_the_photo_under_a_black_status_bar_is_found() -> None:
    # A phone screenshot of a post: a black status bar, a white header, the photo
    # across the whole width, a white bar of icons. The frame's ground (white) covers
    # too little of the border to count alone: the status bar's row counts with it.
    photo = cv2.resize(_photo(), (540, 405), interpolation=cv2.INTER_AREA)
    shot = np.full((45 + 70 + 405 + 110, 540, 3), 255, np.uint8)
    shot[:45] = 0
    cv2.putText(shot, "12:41", (15, 30), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (255,) * 3, 2)
    cv2.putText(shot, "someaccount", (15, 95), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (20,) * 3, 2)
    shot[115:520] = photo
    for j in range(5):
        cv2.rectangle(shot, (30 + 105 * j, 560), (55 + 105 * j, 585), (30,) * 3, 2)
    box = framed_photo_box(shot)
    assert box is not None
    truth = (0, 115, 540, 520)
    assert _iou(box, truth) >= 0.9
    assert box[1] >= truth[1] and box[3] <= truth[3]


def test_a_photo_clipped_at_both_ends_is_not_a_frame() -> None:
    # A clipped white sky across the top and crushed black across the bottom: both
    # outer rows are one flat colour, like an interface's bars, but the photo between
    # them has no straight, clean edge.
    photo = _photo()
    rows = np.arange(photo.shape[0])[:, None]
    horizon = (120 + 30 * np.sin(np.arange(photo.shape[1]) / 40.0)).astype(int)[None, :]
    ground_line = (400 + 25 * np.cos(np.arange(photo.shape[1]) / 55.0)).astype(int)[None, :]
    photo[rows < horizon] = 255
    photo[rows > ground_line] = 0
    assert framed_photo_box(photo) is None


def test_an_object_on_a_studio_gradient_is_not_a_frame() -> None:
    # A product shot: a smooth backdrop, darker at the top and lighter at the bottom
    # (each outer row one colour, but not the same one), with the object across the
    # middle. The bottom row is not a bar: no sharp edge ends it.
    h, w = 1024, 1024
    shot = np.repeat(np.linspace(114, 180, h).round().astype(np.uint8)[:, None], w, axis=1)
    shot = np.repeat(shot[:, :, None], 3, axis=2)
    band = cv2.resize(_photo(7), (w, 160), interpolation=cv2.INTER_AREA)
    shot[230:390] = band
    assert framed_photo_box(shot) is None


def _meme(photo: np.ndarray, band: int = 180) -> np.ndarray:
    """A caption band of white with a line of black text above the photo."""
    h, w = photo.shape[:2]
    meme = np.full((band + h, w, 3), 255, np.uint8)
    cv2.putText(
        meme,
        "when the weekend arrives",
        (20, band // 2 + 15),
        cv2.FONT_HERSHEY_SIMPLEX,
        1.4,
        (0, 0, 0),
        3,
        cv2.LINE_AA,
    )
    meme[band:] = photo
    return meme


def test_the_photo_under_a_meme_caption_is_found() -> None:
    # One side only is framed: the caption band, a bar holding a line of text.
    photo = _photo()
    box = framed_photo_box(_meme(photo))
    assert box is not None
    truth = (0, 180, photo.shape[1], 180 + photo.shape[0])
    assert _iou(box, truth) >= 0.9
    assert box[1] >= truth[1]


def test_a_clipped_sky_over_a_straight_horizon_is_not_a_caption() -> None:
    # White sky down to a straight sea horizon: a bar with a sharp step, but no text.
    photo = _photo()
    photo[:150] = 255
    assert framed_photo_box(photo) is None
    # ... and a few birds in it are not a line of text either.
    for x in range(60, 600, 90):
        cv2.line(photo, (x, 60), (x + 12, 54), (40, 40, 40), 2)
        cv2.line(photo, (x + 12, 54), (x + 24, 60), (40, 40, 40), 2)
    assert framed_photo_box(photo) is None


def _jpeg_meme(photo: np.ndarray, path: Path) -> Path:
    """A meme as shared: a white caption band in Pillow's default font over the photo,
    saved as JPEG q90."""
    from PIL import ImageDraw, ImageFont

    im = Image.new("RGB", (photo.shape[1], photo.shape[0] + 180), "white")
    ImageDraw.Draw(im).text(
        (40, 50), "when the weekend finally arrives", fill="black", font=ImageFont.load_default(52)
    )
    im.paste(Image.fromarray(photo), (0, 180))
    im.save(path, quality=90)
    return path


def test_repeated_letters_of_a_caption_are_not_clones(tmp_path: Path) -> None:
    # Letters repeat, and at offsets on the JPEG grid they are coded alike, noise
    # included: read over the whole meme, "e ... e" matched as a clone (residual
    # correlation 0.71). Only clones in the photo count.
    photo = camera_like(600, 800, seed=4)
    found = CopyMoveAnalyzer().run(Media.open(_jpeg_meme(photo, tmp_path / "m.jpg")), Context())
    assert found.metrics["framed_photo"][1] >= 180
    assert not found.findings
    cloned = photo.copy()
    cloned[300:420, 500:660] = cloned[60:180, 80:240]
    found = CopyMoveAnalyzer().run(Media.open(_jpeg_meme(cloned, tmp_path / "c.jpg")), Context())
    assert [f.id for f in found.findings] == ["copymove.cloned_region"]
    for b in found.findings[0].evidence["boxes"]:
        assert b[1] >= 180  # in the photo, below the caption


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
    for analyzer in (TamperAnalyzer(), ResamplingAnalyzer(), NoiseAnalyzer(), CopyMoveAnalyzer()):
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


def _post_with_jpeg_photo(photo: np.ndarray) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """A white post holding ``photo`` at (43, 261): off the 8-pixel grid, so the
    photo's own earlier JPEG grid sits at phase (5, 3) of the screenshot's."""
    canvas = np.full((1000, 800, 3), 255, np.uint8)
    cv2.putText(canvas, "Some Account @account 2h", (110, 70), cv2.FONT_HERSHEY_SIMPLEX, 0.7, 20)
    h, w = photo.shape[:2]
    canvas[261 : 261 + h, 43 : 43 + w] = photo
    return canvas, (43, 261, 43 + w, 261 + h)


def _encoded(rgb: np.ndarray, tmp_path: Path, fmt: str) -> Media:
    path = tmp_path / f"shot.{fmt.lower()}"
    Image.fromarray(rgb).save(path, fmt, **({"quality": 92} if fmt == "JPEG" else {}))
    return Media.open(path)


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_a_pasted_photos_own_grid_is_not_a_shifted_grid(seed: int, tmp_path: Path) -> None:
    # The photo was a JPEG before it was pasted; the screenshot is a JPEG too. Its
    # earlier grid covers the whole photo: that is the photo's, not a pasted piece of
    # it. (Before the check read the photo alone, these three read as "a region on a
    # shifted 8x8 grid" covering the photo.)
    photo = _jpeg(camera_like(360, 480, seed=seed), 60 if seed != 4 else 40)
    shot, truth = _post_with_jpeg_photo(photo)
    result = CompressionAnalyzer().run(_encoded(shot, tmp_path, "JPEG"), Context())
    assert not any(f.id == "compression.grid_shift_region" for f in result.findings)
    _assert_inside(tuple(result.metrics["framed_photo"]), truth)


@pytest.mark.parametrize("seed", [6, 7])
def test_a_splice_inside_a_framed_photo_still_shows_its_grid(seed: int, tmp_path: Path) -> None:
    photo = _jpeg(camera_like(360, 480, seed=seed), 80).copy()
    donor = _jpeg(camera_like(200, 200, seed=seed + 50), 40)
    photo[102:262, 203:363] = donor[:160, :160]  # its grid at another phase again
    shot, _ = _post_with_jpeg_photo(photo)
    result = CompressionAnalyzer().run(_encoded(shot, tmp_path, "PNG"), Context())
    found = [f for f in result.findings if f.id == "compression.grid_shift_region"]
    assert found
    splice = (43 + 203, 261 + 102, 43 + 363, 261 + 262)
    assert max(_iou(tuple(b), splice) for b in found[0].evidence["boxes"]) >= 0.5


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


_TEXTURE = camera_like(480, 640, seed=11)
# Interface colours above the dark level: a flat black strip next to a photo reads as
# the photo's own night sky, by design (test_a_dark_photo_with_flat_areas_...).
_colours = st.tuples(*(st.integers(0, 255),) * 3).filter(lambda c: max(c) > 2 * DARK_LEVEL)


@settings(max_examples=40, deadline=None)
@given(
    ground=_colours,
    top_bar=st.one_of(st.none(), st.tuples(_colours, st.integers(10, 80))),
    bottom_bar=st.one_of(st.none(), st.tuples(_colours, st.integers(10, 80))),
    bubble=st.one_of(st.none(), st.tuples(_colours, st.integers(4, 24))),
    photo=st.tuples(st.integers(160, 480), st.integers(160, 640)),
    margins=st.tuples(st.integers(0, 120), st.integers(20, 160), st.integers(0, 120)),
)
def test_a_found_box_never_holds_frame(
    ground: tuple[int, int, int],
    top_bar: tuple[tuple[int, int, int], int] | None,
    bottom_bar: tuple[tuple[int, int, int], int] | None,
    bubble: tuple[tuple[int, int, int], int] | None,
    photo: tuple[int, int],
    margins: tuple[int, int, int],
) -> None:
    # Any interface drawn around a photo (bars, a bubble of another colour, any
    # colours but black): when a box is found, it is the photo's, not the frame's.
    ph, pw = photo
    left, top, right = margins
    pad = bubble[1] if bubble else 0
    y0 = top + (top_bar[1] if top_bar else 0) + pad
    x0 = left + pad
    h = y0 + ph + pad + 60 + (bottom_bar[1] if bottom_bar else 0)
    w = x0 + pw + pad + right
    shot = np.empty((h, w, 3), np.uint8)
    shot[:] = ground
    if top_bar:
        shot[: top_bar[1]] = top_bar[0]
    if bottom_bar:
        shot[h - bottom_bar[1] :] = bottom_bar[0]
    if bubble:
        shot[y0 - pad : y0 + ph + pad, x0 - pad : x0 + pw + pad] = bubble[0]
    shot[y0 : y0 + ph, x0 : x0 + pw] = _TEXTURE[:ph, :pw]
    box = framed_photo_box(shot)
    if box is not None:
        # The classification works in whole 8-px blocks, so a box can hold a few
        # pixels of a frame thinner than a block, but never more than a sliver.
        ix = max(0, min(box[2], x0 + pw) - max(box[0], x0))
        iy = max(0, min(box[3], y0 + ph) - max(box[1], y0))
        assert ix * iy >= 0.9 * (box[2] - box[0]) * (box[3] - box[1])


@settings(max_examples=60, deadline=None)
@given(
    h=st.integers(1, 200),
    w=st.integers(1, 200),
    seed=st.integers(0, 2**16),
    levels=st.integers(1, 256),
)
def test_any_image_gives_a_box_inside_it_or_none(h: int, w: int, seed: int, levels: int) -> None:
    # Noise quantized to few levels makes flat colours, bars and grounds by chance.
    rng = np.random.default_rng(seed)
    step = 256 // levels
    rgb = (rng.integers(0, levels, (h, w, 3)) * step).astype(np.uint8)
    box = framed_photo_box(rgb)
    if box is not None:
        assert 0 <= box[0] < box[2] <= w and 0 <= box[1] < box[3] <= h


def _jpeg(rgb: np.ndarray, quality: int) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=quality)
    return np.asarray(Image.open(buf).convert("RGB"))


# Photos (seeds) whose edges the frame check missed in these JPEGs before it took a
# line of blocks that the photo's edge crosses as that edge.
JPEG_CASES = [(seed, quality) for seed in (4, 6) for quality in (60, 75)]


@pytest.mark.parametrize(("seed", "quality"), JPEG_CASES)
def test_the_photo_of_a_meme_saved_as_a_jpeg_is_found(seed: int, quality: int) -> None:
    # The photo's edge (row 180) crosses a block of the 8-pixel grid, and the JPEG's
    # ringing along it makes that block's white part noisy: the block is the photo's
    # edge, not texture outside the photo.
    photo = _photo(seed)
    box = framed_photo_box(_jpeg(_meme(photo), quality))
    assert box is not None
    truth = (0, 180, photo.shape[1], 180 + photo.shape[0])
    assert _iou(box, truth) >= 0.9
    assert box[1] >= truth[1]


@pytest.mark.parametrize(("seed", "quality"), JPEG_CASES)
def test_the_photo_of_a_screenshot_saved_as_a_jpeg_is_found(seed: int, quality: int) -> None:
    photo = _photo(seed)[:477, :629]  # edges off the block grid on every side
    shot = _jpeg(_screenshot(photo), quality)
    box = framed_photo_box(shot)
    x, y = PHOTO_AT
    _assert_inside(box, (x, y, x + photo.shape[1], y + photo.shape[0]))


def test_on_ground_is_the_largest_channel_difference_within_the_tolerance() -> None:
    """The pairwise channel maximum gives what ``max(axis=-1)`` gave, in any dtype."""
    import numpy as np

    from triage.forensics.layout import GROUND_TOLERANCE, _on_ground

    rng = np.random.default_rng(0)
    for dtype in (np.float32, np.int16, np.float64):
        pixels = rng.integers(0, 256, (40, 60, 3)).astype(np.uint8)
        colour = rng.integers(0, 256, 3).astype(dtype)
        pixels[:10] = np.clip(colour + rng.integers(-20, 21, (10, 60, 3)), 0, 255)
        want = np.abs(np.asarray(pixels, dtype) - colour).max(axis=-1) <= GROUND_TOLERANCE
        got = _on_ground(pixels, colour)
        assert got.dtype == bool and (got == want).all() and want.any()
