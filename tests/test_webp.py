"""A lossy WebP carries a block grid (VP8), as a JPEG does; a lossless one (VP8L) none."""

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

from triage.analyzers.base import Context
from triage.analyzers.spectral import SpectralAnalyzer
from triage.forensics.webp import webp_is_lossy
from triage.media import Media


def _webp(img: Image.Image, **options: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "WEBP", **options)
    return buf.getvalue()


def test_lossy_and_lossless_webp_are_told_apart_in_every_container_layout() -> None:
    rgb = Image.fromarray((np.random.default_rng(0).random((64, 80, 3)) * 255).astype("uint8"))
    rgba = np.asarray(rgb.convert("RGBA")).copy()
    rgba[..., 3] = np.arange(80)[None, :] * 3
    alpha = Image.fromarray(rgba)
    exif = b"Exif\x00\x00" + b"\x00" * 10
    assert webp_is_lossy(_webp(rgb, quality=80))  # simple: VP8
    assert webp_is_lossy(_webp(rgb, quality=80, exif=exif))  # extended: VP8X, then VP8
    assert webp_is_lossy(_webp(alpha, quality=80))  # VP8X, ALPH, VP8
    assert webp_is_lossy(_webp(alpha, save_all=True, append_images=[alpha], quality=70))
    assert not webp_is_lossy(_webp(rgb, lossless=True))
    assert not webp_is_lossy(_webp(alpha, lossless=True))
    assert not webp_is_lossy(_webp(rgb, save_all=True, append_images=[rgb], lossless=True))
    for junk in (b"", b"RIFF", b"RIFF\x00\x00\x00\x00WEBPANMF\xff\xff\xff\xff", b"\x89PNG\r\n"):
        assert not webp_is_lossy(junk)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=256))
def test_any_bytes_after_a_webp_header_give_an_answer(tail: bytes) -> None:
    assert webp_is_lossy(b"RIFF\x00\x01\x00\x00WEBP" + tail) in (True, False)


def test_the_spectrum_skips_a_lossy_webp_and_reads_a_lossless_one(tmp_path: Path) -> None:
    """A platform's WebP copy of a camera photo: its macroblock grid is not a decoder's
    up-sampling (the spectrum read such copies as 'not a JPEG', +0.73 toward
    generated, and found 'up-sampling peaks' in 4 of 11 corpus photos)."""
    photo = Image.fromarray(camera_like(600, 800, seed=4))
    lossy, lossless = tmp_path / "lossy.webp", tmp_path / "lossless.webp"
    lossy.write_bytes(_webp(photo, quality=80))
    lossless.write_bytes(_webp(photo, lossless=True))
    skipped = SpectralAnalyzer().run(Media.open(lossy), Context())
    assert (skipped.skipped_reason or "").startswith("lossy WebP")
    assert skipped.examined == {}
    read = SpectralAnalyzer().run(Media.open(lossless), Context())
    assert read.skipped_reason is None and read.examined == {"synthetic": 0.5}


@pytest.mark.parametrize("lossless", [False, True])
def test_the_tamper_model_declines_lossy_webp_and_reads_lossless(
    tmp_path: Path, lossless: bool
) -> None:
    """Lossy WebP smooths and quantizes each macroblock by its own rule; unedited photos
    served so read as edited 2-4 times as often as JPEG copies (bench/tamper_codecs.py).
    A lossless WebP holds the pixels as they were, like a PNG."""
    import triage

    path = tmp_path / "photo.webp"
    Image.fromarray(camera_like(480, 640, seed=5)).save(path, "WEBP", quality=80, lossless=lossless)
    tamper = {a.name: a for a in triage.analyze(path, only=["tamper"]).analyzers}["tamper"]
    if lossless:
        assert tamper.status == "ok"
    else:
        assert tamper.status == "skipped"
        assert (tamper.message or "").startswith("lossy WebP (VP8): its codec")
