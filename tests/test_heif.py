"""HEIF/HEIC photos (an iPhone's own format): read with the optional decoder, and a clear
error saying how to install it when it is missing."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "fixtures"))

from generators.camera import camera_like

import triage
import triage.media
from triage.media import HEIF_MISSING


def _heic(tmp_path: Path) -> Path:
    """A camera-like picture saved as HEIC with a camera's EXIF (Make and Model)."""
    pillow_heif = pytest.importorskip("pillow_heif")
    pillow_heif.register_heif_opener()
    exif = Image.Exif()
    exif[0x010F] = "Apple"
    exif[0x0110] = "iPhone 15"
    path = tmp_path / "IMG_0001.HEIC"
    Image.fromarray(camera_like(480, 640, seed=7)).save(path, quality=80, exif=exif.tobytes())
    return path


def test_a_heic_photo_is_analyzed_and_its_exif_read(tmp_path: Path) -> None:
    path = _heic(tmp_path)
    before = path.read_bytes()
    report = triage.analyze(path)
    assert not report.errors
    assert report.file.format == "heif" and (report.file.width, report.file.height) == (640, 480)
    metadata = {a.name: a for a in report.analyzers}["metadata"]
    assert (metadata.metrics["make"], metadata.metrics["model"]) == ("Apple", "iPhone 15")
    assert "metadata.no_metadata" not in {f.id for f in report.findings}
    runs = {a.name: a for a in report.analyzers}
    assert runs["noise"].status == "ok"
    # HEVC codes each region by its own rule: the JPEG-trained tamper model declines.
    assert runs["tamper"].status == "skipped"
    assert (runs["tamper"].message or "").startswith("HEIF (HEVC): its codec")
    assert path.read_bytes() == before


def test_without_the_decoder_the_error_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The header is all the check reads: a file that only starts like a HEIC will do.
    path = tmp_path / "IMG_0002.heic"
    path.write_bytes(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(64))
    monkeypatch.setattr(triage.media, "heif_decoder", lambda: False)
    report = triage.analyze(path)
    assert [e.message for e in report.errors] == [HEIF_MISSING]
    assert "pip install pillow-heif" in HEIF_MISSING


def test_the_exif_block_a_plugin_found_is_read_bare_or_headed() -> None:
    import io

    from triage.forensics.metadata import exif_tiff, read_metadata

    exif = Image.Exif()
    exif[0x010F] = "Maker"
    block = exif.tobytes()
    # A PNG's pixels without EXIF, opened by a plugin that found this block.
    png = io.BytesIO()
    Image.new("RGB", (8, 8)).save(png, "PNG")
    for raw in (block, block[6:] if block.startswith(b"Exif") else b"Exif\x00\x00" + block):
        opened = Image.open(io.BytesIO(png.getvalue()))
        opened.info["exif"] = raw
        assert read_metadata(png.getvalue(), opened).exif.get("Image Make") == "Maker"
    for junk in (None, b"", b"Exif\x00\x00", np.arange(40, dtype=np.uint8).tobytes()):
        assert exif_tiff(junk) is None


def test_meta_lists_a_heic_photos_exif(tmp_path: Path) -> None:
    from triage.metadump import dump_path

    tags = dump_path(_heic(tmp_path))
    assert (tags["EXIF:Make"], tags["EXIF:Model"]) == ("Apple", "iPhone 15")
    assert "ExifTool:Warning" not in tags
