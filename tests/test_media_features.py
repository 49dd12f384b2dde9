"""Shared per-file features of ``Media``: computed once, identical to computing them
directly, read-only, and shared between analyzer threads."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from triage.forensics.dct import block_dct
from triage.media import Media

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture()
def photo(tmp_path: Path) -> Path:
    rng = np.random.default_rng(5)
    base = rng.integers(0, 256, (12, 16, 3), dtype=np.uint8)
    img = np.asarray(Image.fromarray(base).resize((400, 300), Image.BICUBIC))
    noisy = np.clip(img.astype(np.int16) + rng.integers(-6, 7, img.shape), 0, 255)
    path = tmp_path / "p.jpg"
    Image.fromarray(noisy.astype(np.uint8)).save(path, quality=88)
    return path


def test_luma_is_pillow_l_and_read_only(photo: Path) -> None:
    media = Media.open(photo)
    with Image.open(photo) as im:
        expected = np.asarray(im.convert("RGB").convert("L"))
    assert media.luma.dtype == np.uint8
    assert np.array_equal(media.luma, expected)
    assert not media.luma.flags.writeable
    assert media.luma is media.luma


def test_block_dct_cached_per_request_and_equal_to_direct(photo: Path) -> None:
    media = Media.open(photo)
    a = media.block_dct(terms=21, row_step=2, col_step=2)
    assert a is media.block_dct(terms=21, row_step=2, col_step=2)
    assert np.array_equal(a, block_dct(media.luma, terms=21, row_step=2, col_step=2))
    b = media.block_dct(4, 4, terms=13)
    assert np.array_equal(b, block_dct(media.luma, 4, 4, terms=13))
    assert not a.flags.writeable and not b.flags.writeable


def test_reduced_gray_matches_opencv_conversion(photo: Path) -> None:
    import cv2

    media = Media.open(photo)
    g = media.reduced_gray(200)
    assert g.dtype == np.float32 and max(g.shape) == 200
    rgb = np.ascontiguousarray(media.reduced(200))
    assert np.array_equal(g, cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32))
    assert media.noise_residual(200) is media.noise_residual(200)


def test_threads_share_one_computation(photo: Path) -> None:
    media = Media.open(photo)
    calls = []
    gate = threading.Barrier(4)
    results: list[np.ndarray] = []

    def make() -> np.ndarray:
        calls.append(1)
        return np.zeros(3)

    def ask() -> None:
        gate.wait()
        results.append(media._memo(("test",), make))

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert all(r is results[0] for r in results)


def test_a_failing_feature_raises_in_every_thread_that_asks(photo: Path) -> None:
    media = Media.open(photo)

    def make() -> np.ndarray:
        raise ValueError("boom")

    for _ in range(2):
        with pytest.raises(ValueError):
            media._memo(("bad",), make)


def test_exif_reads_the_same_in_threads_asking_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pillow's getexif() marks its cache loaded before parsing: a second thread asking
    meanwhile got an empty EXIF (a PNG's: a JPEG's is parsed when Pillow opens it).
    Media parses it once when the header is read."""
    import time

    from PIL import Image as PILImage

    exif = PILImage.Exif()
    exif[0x010F] = "Maker"  # Make
    exif[0x0131] = "GIMP 2.10.14"  # Software
    path = tmp_path / "with_exif.png"
    PILImage.new("RGB", (96, 64), (90, 120, 30)).save(path, exif=exif.tobytes())
    expected = dict(PILImage.open(path).getexif())
    assert expected
    load = PILImage.Exif.load

    def slow_load(self: PILImage.Exif, data: bytes) -> None:
        time.sleep(0.05)  # widens the window the race needs
        load(self, data)

    monkeypatch.setattr(PILImage.Exif, "load", slow_load)
    media = Media.open(path)
    seen: list[dict[int, object]] = []
    threads = [
        threading.Thread(target=lambda: seen.append(dict(media.pil_header.getexif())))
        for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == [expected, expected]


@settings(max_examples=60, deadline=None)
@given(
    width=st.integers(1, 97),
    height=st.integers(1, 61),
    mode=st.sampled_from(["RGB", "L", "RGBA", "I;16", "P"]),
    seed=st.integers(0, 2**16),
    chunk=st.sampled_from([1, 50, 300, 256 * 1024]),
)
def test_pixel_array_equals_numpys_view_of_the_image(
    width: int, height: int, mode: str, seed: int, chunk: int
) -> None:
    from triage.media import pixel_array

    rng = np.random.default_rng(seed)
    rgb = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    img = Image.fromarray(rgb).convert(mode)
    # Bands of one row, of a few rows and the whole image at once.
    got, want = pixel_array(img, chunk_bytes=chunk), np.asarray(img)
    assert got.shape == want.shape and got.dtype == want.dtype
    assert np.array_equal(got, want)
    assert not got.flags.writeable


def test_media_pixels_equal_pillows_on_the_fixtures() -> None:
    for path in sorted((ROOT / "fixtures" / "core").glob("*")):
        media = Media.open(path)
        try:
            img = media.image()
        except Exception:
            continue  # not an image the fixture set decodes
        assert np.array_equal(media.rgb, np.asarray(img))
        assert np.array_equal(media.luma, np.asarray(img.convert("L")))
