"""Sniffing, Media limits and scoring arithmetic."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from triage.analyzers import all_analyzers
from triage.analyzers.base import RawFinding
from triage.calibration import FileEvidence, packaged
from triage.errors import MediaError
from triage.media import Media
from triage.scoring import AnalyzerOutcome, score_question, to_finding
from triage.sniff import sniff

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("head", "fmt"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "jpeg"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "png"),
        (b"GIF89a\x01\x00", "gif"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "webp"),
        (b"RIFF\x00\x00\x00\x00AVI LIST", "avi"),
        (b"II*\x00\x08\x00", "tiff"),
        (b"\x00\x00\x00\x18ftypisom\x00\x00", "mp4"),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00", "mov"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00", "heif"),
        (b"\x1a\x45\xdf\xa3\x01\x00\x00\x00\x42\x82\x84webm", "webm"),
        (b"hello world", "unknown"),
        (b"", "unknown"),
    ],
)
def test_sniff(head: bytes, fmt: str) -> None:
    assert sniff(head).format == fmt


@given(st.binary(max_size=64))
def test_sniff_never_raises(head: bytes) -> None:
    assert sniff(head).kind in ("image", "video", "unknown")


def test_media_pixel_limit(tmp_path: Path) -> None:
    from PIL import Image

    p = tmp_path / "big.png"
    Image.new("RGB", (300, 200)).save(p)
    with pytest.raises(MediaError, match="MP limit"):
        Media.open(p, max_pixels=300 * 200 - 1)
    media = Media.open(p)
    assert (media.width, media.height) == (300, 200)
    assert media.rgb.shape == (200, 300, 3) and not media.rgb.flags.writeable
    assert max(media.reduced(100).shape[:2]) == 100
    assert media.reduced(100) is media.reduced(100)  # cached


def test_media_decodes_jpeg_draft_for_reduced(tmp_path: Path) -> None:
    from PIL import Image

    p = tmp_path / "x.jpg"
    Image.new("RGB", (2400, 2100), (10, 200, 30)).save(p, quality=90)
    media = Media.open(p)
    small = media.reduced(256)
    assert max(small.shape[:2]) <= 256
    assert "_rgb_image" not in media.__dict__  # no full decode was needed


def test_media_reduces_the_full_decode_where_the_draft_would_not(tmp_path: Path) -> None:
    """Pillow's draft keeps both sides at or above the size asked for: for 1600 x 1200
    it would decode every pixel again, so the shared full decode is reduced instead,
    with the same pixels the draft path gave."""
    import numpy as np
    from PIL import Image

    from triage.media import _area_resize

    p = tmp_path / "x.jpg"
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (1200, 1600, 3), dtype=np.uint8)).save(p, quality=90)
    media = Media.open(p)
    assert not media._draft_reduces(1024)
    small = media.reduced(256)
    assert "_rgb_image" in media.__dict__
    assert np.array_equal(media._base, _area_resize(media._draft(1024), 1024))
    assert max(small.shape[:2]) == 256


def test_scoring_empty_is_insufficient() -> None:
    res = score_question("manipulation", [], [], FileEvidence(), packaged())
    assert res.band == "insufficient-evidence" and res.coverage == 0


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(
                [*sorted({f for a in all_analyzers() for f in a.finding_ids}), "metadata.nope"]
            ),
            st.floats(0, 2),
        ),
        max_size=6,
    ),
    st.floats(0, 1),
    st.floats(0.01, 0.99),
)
def test_scoring_interval_contains_score(
    items: list[tuple[str, float]], examined: float, prior: float
) -> None:
    ev = FileEvidence()
    outcomes = []
    for name in ("metadata", "compression", "noise", "credentials", "generator"):
        ev.analyzers[name] = ("ok", {"manipulation": examined, "synthetic": examined})
        outcomes.append(
            AnalyzerOutcome(name, "ok", {"manipulation": examined, "synthetic": examined})
        )
    for fid, strength in items:
        ev.add_finding(fid, "manipulation", strength)
    for q in ("manipulation", "synthetic", "provenance"):
        res = score_question(q, [], outcomes, ev, packaged(), prior)  # type: ignore[arg-type]
        assert 0 <= res.interval[0] <= res.score <= res.interval[1] <= 1
        assert not math.isnan(res.score)


def test_unknown_finding_id_gets_neutral_llr_and_a_range() -> None:
    f = to_finding("metadata", RawFinding("metadata.nope", "manipulation", "t", "d"), packaged())
    assert f.llr == 0.0 and f.llr_range == (-1.0, 1.0)


@pytest.mark.parametrize(
    ("head", "name"),
    [
        (b"\x00\x00\x00\x0cjP  \r\n\x87\n" + bytes(20), "a JPEG 2000 image"),
        (b"\xff\x0a\xfa\x7f" + bytes(20), "a JPEG XL image"),
        (b"\x00\x00\x00\x18ftypcrx \x00\x00\x00\x01" + bytes(20), "a Canon CR3 raw file"),
        (b"8BPS\x00\x01" + bytes(30), "a Photoshop document (PSD)"),
        (b"%PDF-1.7\n" + bytes(20), "a PDF document"),
        (b"P5\n400 300\n255\n" + bytes(20), "a Netpbm image (PBM/PGM/PPM)"),
        (b"hello, this is text", None),
    ],
)
def test_formats_triage_does_not_analyze_are_named(
    tmp_path: Path, head: bytes, name: str | None
) -> None:
    from triage.errors import MediaError
    from triage.media import Media
    from triage.sniff import sniff, unsupported_format

    assert sniff(head).kind == "unknown"  # never analyzed (a CR3 is not an MP4)
    assert unsupported_format(head) == name
    path = tmp_path / "file.bin"
    path.write_bytes(head)
    with pytest.raises(MediaError) as err:
        Media.open(path)
    message = str(err.value)
    assert message.startswith("not a supported image or video")  # scan's "not media" count
    assert (name in message) if name else "match no known format" in message
