"""A file cut short in a download or a copy: the error says so, and what to do."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from triage.forensics.truncation import ends_early
from triage.pipeline import Options, analyze_path

FORMATS = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP", "bmp": "BMP", "gif": "GIF"}


def _encoded(fmt: str, progressive: bool = False) -> bytes:
    rng = np.random.default_rng(7)
    pixels = (rng.random((96, 128, 3)) * 60 + np.linspace(0, 180, 128)[None, :, None]).astype(
        np.uint8
    )
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, FORMATS[fmt], progressive=progressive)
    return out.getvalue()


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_a_whole_file_is_not_called_truncated(fmt: str) -> None:
    assert ends_early(_encoded(fmt), fmt) is None


@settings(max_examples=60, deadline=None)
@given(fmt=st.sampled_from(sorted(FORMATS)), keep=st.floats(0.3, 0.97))
def test_a_file_cut_after_its_header_is_called_truncated(fmt: str, keep: float) -> None:
    data = _encoded(fmt)
    said = ends_early(data[: int(len(data) * keep)], fmt)
    assert said is not None and said.split()[0] in ("it", "its"), said


@pytest.mark.parametrize(
    ("fmt", "progressive"),
    [("jpeg", False), ("jpeg", True), ("png", False), ("webp", False), ("bmp", False)],
)
def test_a_cut_short_file_gets_one_error_that_says_to_get_the_complete_file(
    tmp_path: Path, fmt: str, progressive: bool
) -> None:
    data = _encoded(fmt, progressive)
    path = tmp_path / f"cut.{fmt}"
    path.write_bytes(data[: len(data) // 2])
    report = analyze_path(path, Options(threads=1))
    assert report.failed
    messages = [e.message for e in report.errors]
    assert any(
        m.startswith("the file is truncated: it") and "get the complete file" in m for m in messages
    ), messages


def _faststart_mp4(path: Path, frames: int = 60) -> None:
    """An H.264 MP4 with its index (moov) first, as a platform serves it for streaming."""
    import av

    with av.open(str(path), "w", options={"movflags": "faststart"}) as out:
        stream = out.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        stream.options = {"g": "15", "threads": "1"}
        rng = np.random.default_rng(3)
        for i in range(frames):
            rgb = np.full((120, 160, 3), 40 + 2 * i, np.uint8)
            rgb[:, (i * 2) % 160 :] += rng.integers(0, 30, (120, 1, 3), dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def test_a_video_cut_short_says_so_and_what_can_be_read_is_still_examined(tmp_path: Path) -> None:
    whole = tmp_path / "whole.mp4"
    _faststart_mp4(whole)
    data = whole.read_bytes()
    assert data[4:8] == b"ftyp" and b"moov" in data[:4096]  # the index comes first
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    report = analyze_path(cut, Options(threads=1))
    messages = [e.message for e in report.errors]
    assert messages[0].startswith("the file is truncated: its mdat box declares"), messages
    assert "what could be read of it is examined below" in messages[0]
    runs = {r.name: r for r in report.analyzers}
    # The keyframes before the cut still answer "seen before?", and the video is read.
    assert runs["provenance"].status == "ok", runs["provenance"].message
    assert runs["video"].status == "ok"
    assert not analyze_path(whole, Options(threads=1)).errors


def test_a_video_whose_index_was_never_reached_says_it_is_truncated(tmp_path: Path) -> None:
    clean = Path(__file__).resolve().parent.parent / "fixtures" / "video" / "clean.mp4"
    data = clean.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])  # the moov, written last, is gone
    report = analyze_path(cut, Options(threads=1))
    first = report.errors[0].message
    assert first.startswith("the file is truncated: its mdat box declares"), first
    assert "get the complete file" in first and "could not be read" in first
