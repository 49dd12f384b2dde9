"""dwtDct watermark: fixtures marked by the reference encoder decode bit for bit.

The fixtures in fixtures/watermark/ were made once with invisible-watermark (see
make_watermark_fixtures.py there); ``reference.json`` holds what its decoder read.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from triage.analyzers.base import Context
from triage.analyzers.watermark import WatermarkAnalyzer
from triage.forensics.watermark import (
    KNOWN_PAYLOADS,
    binomial_tail,
    block_votes,
    decode_bits,
    match_payloads,
)
from triage.media import Media
from triage.pipeline import Options, analyze_path

MARKED = ["sd1_marked.png", "sd2_marked.png", "sdxl_marked.png"]


@pytest.fixture(scope="module")
def wm(fixtures_dir: Path) -> Path:
    return fixtures_dir / "watermark"


def _rgb(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


@pytest.mark.parametrize("name", MARKED)
def test_decoder_matches_reference_bit_for_bit(wm: Path, name: str) -> None:
    ref = json.loads((wm / "reference.json").read_text())[name]
    rgb = _rgb(wm / name)
    img = rgb[..., ::-1] if ref["channel_order"] == "bgr" else rgb
    n = len(KNOWN_PAYLOADS[ref["payload"]][1])
    bits = decode_bits(block_votes(np.ascontiguousarray(img)), n)
    assert bits.tolist() == ref["reference_bits"]


@pytest.mark.parametrize("name", MARKED)
def test_payload_found_with_chance(wm: Path, name: str) -> None:
    ref = json.loads((wm / "reference.json").read_text())[name]
    best = match_payloads(_rgb(wm / name))[0]
    assert best.payload == ref["payload"]
    assert best.chance_any < 1e-12
    assert 0.0 <= best.bit_error_rate < 0.5
    assert best.chance_bits == binomial_tail(best.matching, best.n_bits)


def test_analyzer_finding_and_report(wm: Path) -> None:
    result = WatermarkAnalyzer().run(Media.open(wm / "sd2_marked.png"), Context())
    (finding,) = result.findings
    assert finding.id == "watermark.dwtdct_payload"
    assert finding.evidence["payload"] == "SDV2"
    assert finding.evidence["bits"] == 32
    report = analyze_path(wm / "sd2_marked.png", Options(only=["watermark"]))
    ids = [f.id for f in report.findings]
    assert "watermark.dwtdct_payload" in ids
    assert report.questions["synthetic"].score > 0.5


@pytest.mark.parametrize("name", [*MARKED, "unmarked.png"])
def test_resized_or_unmarked_makes_no_claim(wm: Path, name: str, tmp_path: Path) -> None:
    img = Image.open(wm / name).convert("RGB")
    if name != "unmarked.png":
        img = img.resize((img.width * 9 // 10, img.height * 9 // 10), Image.Resampling.BICUBIC)
    path = tmp_path / "x.png"
    img.save(path)
    result = WatermarkAnalyzer().run(Media.open(path), Context())
    assert result.findings == []
    assert any("does not survive resizing" in s for s in result.not_checked)


def test_binomial_tail() -> None:
    assert binomial_tail(0, 10) == 1.0
    assert binomial_tail(10, 10) == pytest.approx(2**-10)
    assert binomial_tail(5, 10) == pytest.approx(638 / 1024)


def test_small_image_skipped(tmp_path: Path) -> None:
    buf = io.BytesIO()
    Image.new("RGB", (32, 32), (9, 9, 9)).save(buf, "PNG")
    path = tmp_path / "s.png"
    path.write_bytes(buf.getvalue())
    result = WatermarkAnalyzer().run(Media.open(path), Context())
    assert result.skipped_reason


def test_haar_approximation_matches_pywavelets_bit_for_bit():
    pywt = pytest.importorskip("pywt")
    from triage.forensics.watermark import haar_approximation

    rng = np.random.default_rng(3)
    for dtype in (np.uint8, np.float32):
        u = rng.integers(0, 256, (96, 132)).astype(dtype)
        if dtype == np.float32:
            u = u / np.float32(255.0) + np.float32(0.5)
        assert np.array_equal(haar_approximation(u), pywt.dwt2(u, "haar")[0])


def test_the_shifted_schedule_null_is_one_for_independent_votes_and_wider_for_content() -> None:
    """Independent votes spread z by about 1 at every shift. Votes of content that is
    smooth down the image, in rows as long as the payload, agree with the schedule
    by chance (|z| up to 6 here, a chance of 1e-9 under independence) and spread z as
    widely at every shift: read against that spread they are nothing; a mark is."""
    import cv2

    from triage.forensics.watermark import KNOWN_PAYLOADS, block_agreement, shifted_null

    bits = np.asarray(KNOWN_PAYLOADS["StableDiffusionV1"][1], np.uint8)
    rng = np.random.default_rng(0)
    independent = rng.integers(0, 2, 20_000).astype(np.uint8)
    assert 0.7 < shifted_null(independent, bits) < 1.4
    for seed in range(6):
        noise = np.random.default_rng(seed).normal(size=(150, bits.size)).astype(np.float32)
        smooth = cv2.GaussianBlur(noise, (0, 0), 1.0, sigmaY=12)
        votes = (smooth > 0).astype(np.uint8).ravel()
        spread = shifted_null(votes, bits)
        assert spread > 3.0, seed
        assert abs(block_agreement(votes, bits)[0]) / spread < 2.0, seed
    # A mark aligned with the schedule stands out of its own spread.
    marked = np.where(rng.random(20_000) < 0.3, bits[np.arange(20_000) % bits.size], independent)
    z, _ = block_agreement(marked, bits)
    assert z / max(1.0, shifted_null(marked, bits)) > 4.0


def test_the_marked_fixtures_stand_out_of_their_own_spread(wm: Path) -> None:
    from triage.analyzers.watermark import MIN_ALIGNED_Z

    for name in ("sd1_marked.png", "sd2_marked.png", "sdxl_marked.png"):
        media = Media.open(wm / name)
        result = WatermarkAnalyzer().run(media, Context())
        assert result.metrics["aligned_z"] >= MIN_ALIGNED_Z + 2, name
        assert [f.id for f in result.findings] == ["watermark.dwtdct_payload"], name


CAMERA = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "camera"


@pytest.mark.skipif(not CAMERA.is_dir(), reason="../shared/corpus not here")
def test_a_camera_photo_served_as_webp_carries_no_watermark(tmp_path: Path) -> None:
    """Measured: this corpus photo, as a 1080-px WebP at quality 80, passed the
    independence-based bar (z 7.5, chance 4e-13) and read 'Stable Diffusion invisible
    watermark', synthetic 0.997, strong indicators."""
    path = CAMERA / "metadata-extractor-images" / "Nikon_D3100.jpg"
    if not path.is_file():
        pytest.skip("the photo is not in this corpus")
    with Image.open(path) as im:
        rgb = im.convert("RGB")
    scale = 1080 / max(rgb.size)
    rgb = rgb.resize(
        (round(rgb.width * scale), round(rgb.height * scale)), Image.Resampling.LANCZOS
    )
    rgb.save(tmp_path / "copy.webp", "WEBP", quality=80)
    result = WatermarkAnalyzer().run(Media.open(tmp_path / "copy.webp"), Context())
    assert result.findings == []
    assert result.metrics["aligned_z"] < 4.0


TURNS = {
    "turned a quarter counter-clockwise": Image.Transpose.ROTATE_90,
    "turned half a turn": Image.Transpose.ROTATE_180,
    "turned a quarter clockwise": Image.Transpose.ROTATE_270,
    "mirrored": Image.Transpose.FLIP_LEFT_RIGHT,
    "mirrored and turned half a turn": Image.Transpose.FLIP_TOP_BOTTOM,
    "mirrored and turned a quarter counter-clockwise": Image.Transpose.TRANSPOSE,
    "mirrored and turned a quarter clockwise": Image.Transpose.TRANSVERSE,
}


@pytest.mark.parametrize("name", MARKED)
@pytest.mark.parametrize("orientation", list(TURNS))
def test_a_mark_turned_or_mirrored_without_loss_is_still_read(
    wm: Path, name: str, orientation: str, tmp_path: Path
) -> None:
    """A marked picture turned or mirrored losslessly keeps every block of its mark on
    another schedule (analyzer 1.1; before, the corpus's marked SD upscaler output read
    strong upright and insufficient evidence turned or mirrored)."""
    path = tmp_path / "turned.png"
    Image.open(wm / name).convert("RGB").transpose(TURNS[orientation]).save(path)
    result = WatermarkAnalyzer().run(Media.open(path), Context())
    assert [f.id for f in result.findings] == ["watermark.dwtdct_payload"]
    assert result.metrics["aligned_z"] >= 6.0
    # A schedule that a turn maps onto itself (rows of whole payloads) reads as stored.
    assert result.metrics.get("orientation", "as stored") in (orientation, "as stored")


def test_a_picture_as_stored_reports_no_orientation(wm: Path) -> None:
    result = WatermarkAnalyzer().run(Media.open(wm / "sd1_marked.png"), Context())
    assert "orientation" not in result.metrics
    assert "orientation" not in result.findings[0].evidence


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**31 - 1), st.sampled_from(list(TURNS)))
def test_votes_read_through_a_turn_are_the_originals(seed: int, orientation: str) -> None:
    """Each block of a turned picture, read with the corner its first coefficient went
    to and placed by the original's schedule, votes as the original's block did."""
    from triage.forensics.watermark import block_values, oriented_votes

    rng = np.random.default_rng(seed)
    h, w = 8 * int(rng.integers(2, 12)), 8 * int(rng.integers(2, 12))
    original = rng.integers(0, 256, (h, w, 3), np.uint8)
    votes = block_votes(original)
    turned = np.asarray(Image.fromarray(original).transpose(TURNS[orientation]))
    read, index = oriented_votes(np.ascontiguousarray(turned), False, orientation)
    assert sorted(index.tolist()) == list(range(votes.size))
    # Exact but where a block's value sits on a boundary of the vote (|v| mod 36 at 0 or
    # 18: a few blocks in a hundred of random pixels; a mark puts its values a quarter
    # step away): the Haar band of a turned picture sums the same pixels in another order.
    flat = np.abs(block_values(original).reshape(votes.size, 16))[:, 1:].max(axis=1)
    phase = np.mod(flat, 18.0)
    clear = (np.minimum(phase, 18.0 - phase) > 1e-6)[index]
    np.testing.assert_array_equal(read[clear], votes[index][clear])


def _reference_votes(blocks: np.ndarray) -> np.ndarray:
    """The reference decoder's rule written plainly: per block, the first
    largest-magnitude coefficient after the first, and |v| mod 36 > 18."""
    flat = blocks.reshape(-1, 16)
    out = []
    for row in flat:
        rest = np.abs(row[1:])
        out.append(int(rest[int(np.argmax(rest))] % 36 > 18))
    return np.array(out, np.uint8)


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 2**31 - 1))
def test_corner_votes_leave_out_one_corner(seed: int) -> None:
    from triage.forensics.watermark import corner_votes

    rng = np.random.default_rng(seed)
    # Few levels, so that ties for the largest value are common.
    blocks = rng.integers(-3, 4, (5, 7, 4, 4)).astype(np.float64) * 18.5
    table = corner_votes(blocks)
    np.testing.assert_array_equal(table[0], _reference_votes(blocks))
    for corner, turned in ((3, np.rot90(blocks, 1, axes=(2, 3))), (15, blocks[..., ::-1, ::-1])):
        np.testing.assert_array_equal(table[corner], _reference_votes(turned))
