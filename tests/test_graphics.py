"""Charts and slides are not photographs: photo forensics declines them.

Every image is made by code: charts (fixtures/generators/graphics.py) and a
camera-like photo (fixtures/generators/camera.py).
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "fixtures"))

from generators.camera import camera_like
from generators.graphics import KINDS, chart

import triage
from triage.forensics.layout import DARK_LEVEL, GRAPHIC_SHARE, flat_colour_share

REGION_ANALYZERS = ("noise", "copymove", "resampling", "tamper")


def _save(rgb: np.ndarray, path: Path, fmt: str) -> Path:
    Image.fromarray(rgb).save(path, fmt, **({"quality": 80} if fmt == "JPEG" else {}))
    return path


def _jpeg_decoded(rgb: np.ndarray, quality: int) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


@pytest.mark.parametrize("kind", KINDS)
def test_charts_are_flat_colour_and_photos_are_not(kind: str) -> None:
    img = chart(seed=KINDS.index(kind), kind=kind)
    assert flat_colour_share(img) >= GRAPHIC_SHARE
    assert flat_colour_share(_jpeg_decoded(img, 75)) >= GRAPHIC_SHARE
    # The same chart photographed (sensor noise) is no longer flat.
    rng = np.random.default_rng(0)
    noisy = np.clip(img + rng.normal(0, 2.5, img.shape), 0, 255).astype(np.uint8)
    assert flat_colour_share(noisy) < 0.05
    assert flat_colour_share(camera_like(480, 640, seed=1)) < 0.05


@settings(max_examples=30, deadline=None)
@given(
    level=st.integers(0, 255),
    h=st.integers(0, 64),
    w=st.integers(0, 64),
)
def test_flat_colour_share_of_one_colour(level: int, h: int, w: int) -> None:
    share = flat_colour_share(np.full((h, w, 3), level, np.uint8))
    assert 0.0 <= share <= 1.0
    if h >= 8 and w >= 8:
        # Dark flat areas are a night sky as often as a drawing: never counted.
        assert share == (1.0 if level > DARK_LEVEL else 0.0)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_a_chart_is_not_read_as_edited(tmp_path: Path, fmt: str) -> None:
    path = _save(chart(seed=5, kind="bars"), tmp_path / f"chart.{fmt.lower()}", fmt)
    report = triage.analyze(path)
    by_name = {a.name: a for a in report.analyzers}
    for name in REGION_ANALYZERS:
        assert by_name[name].status == "skipped", name
        assert (by_name[name].message or "").startswith("a graphic, not a photograph"), name
    assert report.questions["manipulation"].band == "insufficient-evidence"
    compression = by_name["compression"]
    assert not [f for f in report.findings if f.analyzer == "compression" and "region" in f.id]
    if fmt == "JPEG":
        assert compression.metrics["graphic_share"] >= GRAPHIC_SHARE


def test_a_photo_is_examined_by_every_region_analyzer(tmp_path: Path) -> None:
    path = _save(camera_like(600, 800, seed=2), tmp_path / "photo.jpg", "JPEG")
    report = triage.analyze(path)
    for a in report.analyzers:
        assert not (a.message or "").startswith("a graphic"), a.name


def test_a_mask_or_line_art_is_not_read_as_a_photo(tmp_path: Path) -> None:
    """A binary mask is mostly black, which the flat-colour share leaves out (dark flat
    blocks are a photo's clipped shadows), and the tamper model read one as 'higher than
    on most unedited files'; the spectrum read its hard edges as a lossless file's. A
    few grey levels say graphic whatever the colour."""
    yy, xx = np.mgrid[:480, :640]
    mask = (((yy - 200) ** 2 + (xx - 300) ** 2) < 90**2) | ((xx // 40) % 7 == 0)
    report = triage.analyze(
        _save(np.repeat(mask[..., None] * 255, 3, 2).astype(np.uint8), tmp_path / "mask.png", "PNG")
    )
    by_name = {a.name: a for a in report.analyzers}
    for name in (*REGION_ANALYZERS, "spectral"):
        assert by_name[name].status == "skipped", name
        assert (by_name[name].message or "").startswith("a graphic with only 2 grey levels"), name
    assert report.questions["manipulation"].band == "insufficient-evidence"
    # A dark photo, under-exposed to a few dozen levels, is still a photo.
    dark = (camera_like(480, 640, seed=3).astype(np.float32) * 0.12).astype(np.uint8)
    dim = triage.analyze(_save(dark, tmp_path / "dark.png", "PNG"))
    assert not any((a.message or "").startswith("a graphic") for a in dim.analyzers)


PALETTE_ANALYZERS = ("noise", "resampling", "tamper", "spectral", "synthpix", "camera")


@pytest.mark.parametrize("dither", [Image.Dither.NONE, Image.Dither.FLOYDSTEINBERG])
def test_a_palette_copy_of_a_photo_is_not_read_for_pixel_traces(
    tmp_path: Path, dither: Image.Dither
) -> None:
    """A photo as a 256-colour GIF: the corpus's camera photos so saved read 'notable' or
    'strong' on the synthetic question one time in three (bench/palette.py), the palette's
    steps taken for a generator's decoder. Copy-move reads keypoints, which survive."""
    photo = Image.fromarray(camera_like(480, 640, seed=4))
    flat = photo.quantize(256)
    gif = flat if dither == Image.Dither.NONE else photo.quantize(palette=flat, dither=dither)
    path = tmp_path / "photo.gif"
    gif.save(path, "GIF")
    report = triage.analyze(path)
    by_name = {a.name: a for a in report.analyzers}
    for name in PALETTE_ANALYZERS:
        assert by_name[name].status == "skipped", name
        assert (by_name[name].message or "").startswith("a palette image of "), name
    assert by_name["copymove"].status == "ok"
    for question in ("manipulation", "synthetic"):
        assert report.questions[question].band == "insufficient-evidence"
    # The same photo with all its colours is examined.
    png = triage.analyze(_save(np.asarray(photo), tmp_path / "photo.png", "PNG"))
    assert not any((a.message or "").startswith("a palette") for a in png.analyzers)


@settings(max_examples=40, deadline=None)
@given(
    colours=st.integers(1, 400),
    grey=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_count_palette_colours(colours: int, grey: bool, seed: int) -> None:
    from triage.analyzers.common import MAX_PALETTE_COLOURS, count_palette_colours

    rng = np.random.default_rng(seed)
    if grey:
        palette = np.repeat(rng.permutation(256)[: min(colours, 256), None], 3, 1)
    else:
        # Distinct colours, none of them grey.
        palette = rng.choice(2**24, size=colours, replace=False)
        palette = np.stack([palette >> 16, (palette >> 8) & 255, palette & 255], 1)
        palette[:, 0] = np.where(palette[:, 0] == palette[:, 1], palette[:, 0] ^ 1, palette[:, 0])
        palette = np.unique(palette, axis=0)
    index = np.concatenate([np.arange(len(palette)), rng.integers(0, len(palette), 200 * 300)])
    rgb = palette[index[: 200 * 300]].reshape(200, 300, 3).astype(np.uint8)
    found = count_palette_colours(rgb)
    if grey or len(palette) > MAX_PALETTE_COLOURS:
        assert found is None
    else:
        assert found == len(palette)
