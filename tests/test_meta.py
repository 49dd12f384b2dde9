"""`triage meta` and `check --with-metadata` (issue 17): tags grouped by family as
exiftool -j -G, GPS in decimal degrees, IPTC, ICC, XMP, PNG text, C2PA summary. The
test files are generated here."""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms, PngImagePlugin

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "fixtures"))

from generators.exifwriter import build_exif  # noqa: E402

XMP = (
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    '<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" '
    'xmp:CreatorTool="DeskTest 1.0"/></rdf:RDF></x:xmpmeta>'
)


def _segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload


def _iptc(fields: dict[int, bytes]) -> bytes:
    iim = b"".join(struct.pack(">BBBH", 0x1C, 2, num, len(v)) + v for num, v in fields.items())
    if len(iim) % 2:
        iim += b"\x00"
    resource = b"8BIM" + struct.pack(">H", 0x0404) + b"\x00\x00" + struct.pack(">I", len(iim))
    return b"Photoshop 3.0\x00" + resource + iim


def _desk_jpeg(path: Path) -> None:
    rgb = (np.random.default_rng(3).random((64, 96, 3)) * 255).astype(np.uint8)
    gps = {
        1: "S",
        2: [Fraction(33), Fraction(51), Fraction(5424, 100)],
        3: "E",
        4: [Fraction(151), Fraction(12), Fraction(3600, 100)],
        5: b"\x00",
        6: Fraction(5800, 100),
    }
    exif = build_exif({0x010F: "DeskCam", 0x0110: "DC-2"}, {0x829A: Fraction(1, 125)}, gps)
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=90, exif=exif, icc_profile=icc)
    data = buf.getvalue()
    extra = _segment(0xED, _iptc({5: b"Harbour at dusk", 25: b"harbour", 80: b"A. Reporter"}))
    extra += _segment(0xE1, b"http://ns.adobe.com/xap/1.0/\x00" + XMP.encode())
    path.write_bytes(data[:2] + extra + data[2:])


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "triage", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "NO_COLOR": "1", "TRIAGE_DB": str(ROOT / "no-such-store.sqlite")},
        timeout=300,
    )


def test_meta_groups_tags_by_family(tmp_path: Path) -> None:
    photo = tmp_path / "desk.jpg"
    _desk_jpeg(photo)
    out = run_cli("meta", str(photo), "-f", "json")
    assert out.returncode == 0, out.stderr
    [tags] = json.loads(out.stdout)
    assert tags["SourceFile"] == str(photo)
    assert tags["File:FileType"] == "JPEG" and tags["File:ImageWidth"] == 96
    assert tags["EXIF:Make"] == "DeskCam" and tags["EXIF:Model"] == "DC-2"
    assert tags["GPS:GPSLatitude"] == pytest.approx(-(33 + 51 / 60 + 54.24 / 3600), abs=1e-6)
    assert tags["GPS:GPSLongitude"] == pytest.approx(151 + 12 / 60 + 36 / 3600, abs=1e-6)
    assert tags["GPS:GPSAltitude"] == pytest.approx(58.0)
    assert tags["IPTC:ObjectName"] == "Harbour at dusk"
    assert tags["IPTC:By-line"] == "A. Reporter" and tags["IPTC:Keywords"] == "harbour"
    assert tags["ICC_Profile:ColorSpaceData"] == "RGB"
    assert "sRGB" in tags["ICC_Profile:ProfileDescription"]
    assert tags["XMP:xmp:CreatorTool"] == "DeskTest 1.0"
    assert tags["C2PA:Present"] is False
    assert all(":" in k for k in tags if k != "SourceFile")

    text = run_cli("meta", str(photo), "-f", "text")
    assert text.returncode == 0
    assert any(ln.startswith("[GPS]") and "GPSPosition" in ln for ln in text.stdout.splitlines())


def test_meta_png_text_and_bad_files(tmp_path: Path) -> None:
    png = tmp_path / "gen.png"
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", "a lighthouse, Steps: 20, Sampler: Euler a")
    Image.new("RGB", (32, 32), (10, 20, 30)).save(png, pnginfo=info)
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not an image at all")
    out = run_cli("meta", str(png), str(bad), "-f", "json")
    assert out.returncode == 1
    good, failed = json.loads(out.stdout)
    assert good["PNG:parameters"].startswith("a lighthouse")
    assert failed["SourceFile"] == str(bad) and "ExifTool:Error" in failed
    assert out.stderr.count("triage: ") == 1 and "Traceback" not in out.stderr


def test_check_with_metadata_adds_the_same_block(tmp_path: Path) -> None:
    photo = tmp_path / "desk.jpg"
    _desk_jpeg(photo)
    plain = json.loads(run_cli("check", str(photo), "--only", "metadata", "-f", "json").stdout)
    assert "metadata" not in plain
    out = run_cli("check", str(photo), "--only", "metadata", "-f", "json", "--with-metadata")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    [tags] = json.loads(run_cli("meta", str(photo), "-f", "json").stdout)
    tags.pop("SourceFile")
    assert report["metadata"] == tags


def test_meta_on_c2pa_samples(corpus_dir: Path) -> None:
    sample = corpus_dir / "c2pa" / "public-testfiles" / "adobe-20220124-CA.jpg"
    if not sample.is_file():
        pytest.skip("C2PA sample absent")
    [tags] = json.loads(run_cli("meta", str(sample), "-f", "json").stdout)
    assert tags["C2PA:Present"] is True and tags["C2PA:ValidationState"]
    assert tags["C2PA:ClaimGenerator"]


def test_unknown_gps_rationals_leave_the_rest_alone() -> None:
    """EXIF writes 0/0 for an unknown value (a thermal camera in the corpus does)."""
    from types import SimpleNamespace

    from triage.metadump import _gps_decimal

    zero = SimpleNamespace(num=0, den=0)
    one = SimpleNamespace(num=1, den=1)
    tags: dict[str, object] = {}
    _gps_decimal(
        {
            "GPSLatitude": SimpleNamespace(values=[zero, zero, zero]),
            "GPSLongitude": SimpleNamespace(values=[one, one, one]),
            "GPSAltitude": SimpleNamespace(values=[zero]),
        },
        tags,
    )
    assert "GPS:GPSLatitude" not in tags and "GPS:GPSAltitude" not in tags
    assert tags["GPS:GPSLongitude"] == pytest.approx(1 + 1 / 60 + 1 / 3600)
