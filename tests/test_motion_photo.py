"""A video inside a still's file, after the picture (a phone's motion photo): found
from the bytes, named in the report with the way to extract it, and never a reason
to read the picture differently."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

import triage
from triage.forensics.embedded import embedded_video

CORE = Path(__file__).resolve().parent.parent / "fixtures" / "core"
GOOGLE_XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/'
    b'02/22-rdf-syntax-ns#"><rdf:Description xmlns:GCamera="http://ns.google.com/photos/'
    b'1.0/camera/" GCamera:MotionPhoto="1" GCamera:MotionPhotoVersion="1"/></rdf:RDF>'
    b"</x:xmpmeta>"
)


@pytest.fixture(scope="module")
def clip() -> bytes:
    """A 1.5 s MP4, as a phone appends it."""
    import av

    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        for i in range(45):
            frame = np.full((120, 160, 3), i * 5, np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buf.getvalue()


def metadata_run(path: Path) -> tuple[triage.Report, dict, list[str]]:  # type: ignore[type-arg]
    report = triage.analyze(str(path))
    run = next(r for r in report.analyzers if r.name == "metadata")
    assert isinstance(run.metrics, dict)
    return report, run.metrics, run.not_checked


def test_a_motion_photo_names_its_video_and_how_to_extract_it(tmp_path: Path, clip: bytes) -> None:
    still = (CORE / "camera_original.jpg").read_bytes()
    with Image.open(CORE / "camera_original.jpg") as image:
        exif = image.info["exif"]
        buf = io.BytesIO()
        image.save(buf, "JPEG", quality=92, exif=exif, xmp=GOOGLE_XMP)
    google = buf.getvalue()
    (tmp_path / "plain.jpg").write_bytes(still)
    (tmp_path / "motion.jpg").write_bytes(google + clip)
    (tmp_path / "samsung.jpg").write_bytes(still + b"MotionPhoto_Data" + clip)
    (tmp_path / "padded.jpg").write_bytes(still + bytes(4096))

    plain, plain_metrics, plain_gaps = metadata_run(tmp_path / "plain.jpg")
    assert "embedded_video" not in plain_metrics
    assert not any("video" in gap for gap in plain_gaps)
    _, padded_metrics, _ = metadata_run(tmp_path / "padded.jpg")
    assert "embedded_video" not in padded_metrics

    _, metrics, gaps = metadata_run(tmp_path / "motion.jpg")
    found = metrics["embedded_video"]
    assert found["kind"] == "a Google motion photo" and found["duration_s"] == 1.5
    assert found["offset"] == len(google) and found["bytes"] == len(clip)
    gap = next(g for g in gaps if "video follows the picture" in g)
    assert f"tail -c +{len(google) + 1} FILE" in gap and "1.5-s video" in gap
    # The command the report gives extracts exactly the clip.
    assert (tmp_path / "motion.jpg").read_bytes()[found["offset"] :] == clip

    samsung, samsung_metrics, _ = metadata_run(tmp_path / "samsung.jpg")
    assert samsung_metrics["embedded_video"]["kind"] == "a Samsung motion photo"
    # Evidence of neither question: the picture reads as it does alone.
    for question in ("manipulation", "synthetic"):
        assert samsung.questions[question].score == plain.questions[question].score


def mvhd(version: int, timescale: int, duration: int) -> bytes:
    if version == 1:
        body = struct.pack(">B3xQQIQ", 1, 0, 0, timescale, duration)
    else:
        body = struct.pack(">B3xIIII", 0, 0, 0, timescale, duration)
    return struct.pack(">I", 8 + len(body) + 80) + b"mvhd" + body + bytes(80)


@pytest.mark.parametrize("version", [0, 1])
def test_the_movie_header_gives_the_duration_in_either_version(version: int) -> None:
    picture = b"\xff\xd8" + bytes(100) + b"\xff\xd9"
    ftyp = struct.pack(">I", 24) + b"ftypmp42" + bytes(4) + b"isommp42"
    moov = struct.pack(">I", 8) + b"moov" + mvhd(version, 600, 1260)
    found = embedded_video(picture + ftyp + moov, len(picture))
    assert found is not None and found.brand == "mp42" and found.duration == 2.1
    assert found.offset == len(picture) and found.size == len(ftyp) + len(moov)


def test_padding_text_and_a_stray_ftyp_are_not_a_video() -> None:
    picture = b"\xff\xd8" + bytes(100) + b"\xff\xd9"
    assert embedded_video(picture + bytes(5000), len(picture)) is None
    assert embedded_video(picture + b"a note that says ftyp in it", len(picture)) is None
    huge = struct.pack(">I", 1 << 30) + b"ftypisom"
    assert embedded_video(picture + huge, len(picture)) is None
    # an ftyp inside the picture itself is not after it
    assert embedded_video(struct.pack(">I", 24) + b"ftypisom" + picture, 30) is None


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600), st.integers(min_value=0, max_value=700))
def test_any_bytes_give_a_video_or_none_never_an_error(data: bytes, end: int) -> None:
    found = embedded_video(data, end)
    if found is not None:
        assert found.offset >= end and found.size == len(data) - found.offset
        assert found.duration is None or found.duration > 0
