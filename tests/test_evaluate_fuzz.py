"""Bounded fuzzing of the metadata readers and of the whole pipeline on mutated files.

Hypothesis, about a hundred examples per target and no deadline, so it stays a few
seconds in CI. The contract: ``read_xmp`` never raises on any bytes; ``Media.open``
either opens a file or raises ``MediaError``; ``analyze_path`` always returns a report
(bad input becomes an error entry, never an exception).
"""

from __future__ import annotations

import contextlib
import io
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from triage.errors import MediaError
from triage.media import Media
from triage.pipeline import analyze_path
from triage.report import Report
from triage.xmp import find_xmp_packets, namespaces, read_xmp, xmp_properties

FUZZ = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    derandomize=True,  # the same examples on every run: CI failures reproduce
    database=None,  # nothing written to .hypothesis/
)
PIPELINE_FUZZ = settings(FUZZ, max_examples=40)

XMP = (
    b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/" '
    b'xmlns:stEvt="http://ns.adobe.com/xap/1.0/sType/ResourceEvent#" '
    b'xmp:CreatorTool="Adobe Photoshop 25.0" xmpMM:DocumentID="xmp.did:1">'
    b'<xmpMM:History><rdf:Seq><rdf:li stEvt:action="saved" stEvt:softwareAgent="Adobe Photoshop"/>'
    b"<rdf:li>plain &amp; text</rdf:li></rdf:Seq></xmpMM:History>"
    b"<Iptc4xmpExt:DigitalSourceType>http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
    b"</Iptc4xmpExt:DigitalSourceType>"
    b'</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
)


def _mutate(data: bytes, edits: list[tuple[int, int, int]], cut: int | None) -> bytes:
    """Apply (position, kind, value) edits: 0 overwrite a byte, 1 insert, 2 delete a run."""
    buf = bytearray(data)
    for pos, kind, value in edits:
        if not buf:
            break
        i = pos % len(buf)
        if kind == 0:
            buf[i] = value
        elif kind == 1:
            buf[i:i] = bytes([value]) * (1 + value % 7)
        else:
            del buf[i : i + 1 + value % 32]
    if cut is not None and buf:
        del buf[cut % len(buf) :]
    return bytes(buf)


EDITS = st.lists(
    st.tuples(st.integers(0, 1 << 20), st.integers(0, 2), st.integers(0, 255)), max_size=12
)


def _check_xmp(data: bytes) -> None:
    props = read_xmp(data)
    assert isinstance(props, dict)
    for packet in find_xmp_packets(data):
        assert isinstance(xmp_properties(packet), dict)
        assert isinstance(namespaces(packet), dict)


@FUZZ
@given(st.binary(max_size=4096))
def test_read_xmp_never_raises_on_arbitrary_bytes(data: bytes) -> None:
    _check_xmp(data)
    _check_xmp(b"junk" + XMP[:60] + data + XMP[-40:])


@FUZZ
@given(EDITS, st.one_of(st.none(), st.integers(0, 1 << 20)))
def test_read_xmp_never_raises_on_mutated_packets(
    edits: list[tuple[int, int, int]], cut: int | None
) -> None:
    _check_xmp(
        b"\xff\xd8\xff\xe1\x00\x10http://ns.adobe.com/xap/1.0/\x00" + _mutate(XMP, edits, cut)
    )


def _seed_files() -> dict[str, bytes]:
    rng = np.random.default_rng(11)
    yy, xx = np.mgrid[0:72, 0:96]
    arr = np.stack([xx * 2, yy * 3, (xx + yy)], -1).astype(np.uint8)
    arr = (arr + rng.integers(0, 12, arr.shape)).astype(np.uint8)
    img = Image.fromarray(arr)
    exif = Image.Exif()
    exif[0x010F] = "Canon"  # Make
    exif[0x0110] = "Canon EOS 40D"  # Model
    exif[0x0131] = "Adobe Photoshop 25.0"  # Software
    exif[0x0132] = "2024:01:02 03:04:05"  # DateTime
    out = {}
    jpeg = io.BytesIO()
    img.save(jpeg, "JPEG", quality=85, exif=exif, xmp=XMP)
    out["jpg"] = jpeg.getvalue()
    png = io.BytesIO()
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text(
        "parameters", "a cat, Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Model: sd15"
    )
    info.add_itxt("XML:com.adobe.xmp", XMP.decode())
    img.save(png, "PNG", pnginfo=info, exif=exif)
    out["png"] = png.getvalue()
    return out


SEEDS = _seed_files()


@pytest.mark.parametrize("kind", ["jpg", "png"])
def test_seed_files_analyze_cleanly(kind: str, tmp_path: Path) -> None:
    path = tmp_path / f"seed.{kind}"
    path.write_bytes(SEEDS[kind])
    report = analyze_path(path)
    assert not report.errors, report.errors
    assert not [a for a in report.analyzers if a.status == "error"]


@PIPELINE_FUZZ
@given(st.sampled_from(["jpg", "png"]), EDITS, st.one_of(st.none(), st.integers(0, 1 << 20)))
def test_pipeline_returns_a_report_on_mutated_files(
    kind: str, edits: list[tuple[int, int, int]], cut: int | None
) -> None:
    data = _mutate(SEEDS[kind], edits, cut)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"fuzz.{kind}"
        path.write_bytes(data)
        with contextlib.suppress(MediaError):
            Media.open(path)
        report = analyze_path(path)
        assert isinstance(report, Report)
        assert set(report.questions) == {"manipulation", "synthetic", "provenance"}
        Report.model_validate_json(report.model_dump_json())
