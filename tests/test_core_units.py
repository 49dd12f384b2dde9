"""Sniffing, Media limits, scoring arithmetic and the weights file."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from triage.analyzers import REGISTRY, all_analyzers
from triage.analyzers.base import RawFinding
from triage.errors import MediaError
from triage.media import Media
from triage.report import Finding
from triage.scoring import AnalyzerOutcome, load_weights, score_question, sigmoid, to_finding
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
    Image.new("RGB", (1600, 1200), (10, 200, 30)).save(p, quality=90)
    media = Media.open(p)
    small = media.reduced(256)
    assert max(small.shape[:2]) <= 256
    assert "_rgb_image" not in media.__dict__  # no full decode was needed


def _finding(
    analyzer: str, fid: str, llr: float, lo: float, hi: float, q: str = "manipulation"
) -> Finding:
    return Finding(
        id=fid, analyzer=analyzer, question=q, llr=llr, llr_range=(lo, hi), title=fid, detail=""
    )  # type: ignore[arg-type]


def test_scoring_combines_within_analyzer_by_strongest_and_sums_across() -> None:
    outcomes = [
        AnalyzerOutcome("metadata", "ok", {"manipulation": 1.0}),
    ]
    one = score_question("manipulation", [_finding("metadata", "a", 1.0, 0.5, 1.5)], outcomes)
    two = score_question(
        "manipulation",
        [_finding("metadata", "a", 1.0, 0.5, 1.5), _finding("metadata", "b", 0.8, 0.2, 1.2)],
        outcomes,
    )
    assert two.score == pytest.approx(one.score)  # same analyzer: strongest, not sum
    assert one.score == pytest.approx(sigmoid(1.0), abs=1e-3)


def test_scoring_empty_is_insufficient() -> None:
    res = score_question("manipulation", [], [])
    assert res.band == "insufficient-evidence" and res.coverage == 0


def test_scoring_unobserved_widens_interval() -> None:
    seen = score_question(
        "manipulation", [], [AnalyzerOutcome("metadata", "ok", {"manipulation": 1.0})]
    )
    unseen = score_question("manipulation", [], [AnalyzerOutcome("metadata", "ok", {})])
    assert (unseen.interval[1] - unseen.interval[0]) > (seen.interval[1] - seen.interval[0])
    assert unseen.band == "insufficient-evidence"


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(-3, 3), st.floats(0, 2), st.floats(0, 2)),
        max_size=6,
    ),
    st.floats(0.01, 0.99),
)
def test_scoring_interval_contains_score(
    items: list[tuple[float, float, float]], prior: float
) -> None:
    findings = [_finding("metadata", f"f{i}", v, v - a, v + b) for i, (v, a, b) in enumerate(items)]
    res = score_question(
        "manipulation", findings, [AnalyzerOutcome("metadata", "ok", {"manipulation": 0.5})], prior
    )
    assert 0 <= res.interval[0] <= res.score <= res.interval[1] <= 1
    assert not math.isnan(res.score)


def test_every_registered_analyzer_has_weights_and_cards() -> None:
    weights = load_weights()
    for analyzer in all_analyzers():
        section = weights["analyzers"].get(analyzer.name)
        assert section is not None, analyzer.name
        for q in analyzer.questions:
            assert q in section["coverage_weight"], (analyzer.name, q)
        assert (ROOT / "docs" / "analyzers" / f"{analyzer.name}.md").is_file(), analyzer.name
    assert set(REGISTRY) <= set(weights["analyzers"])


def test_weights_file_is_well_formed() -> None:
    data = json.loads((ROOT / "triage" / "data" / "weights.json").read_text())
    for name, section in data["analyzers"].items():
        for fid, entry in section.get("findings", {}).items():
            assert fid.startswith(name + "."), fid
            lo, hi = entry["range"]
            assert lo <= entry["llr"] <= hi, fid
            assert entry.get("source"), fid


def test_unknown_finding_id_gets_neutral_llr() -> None:
    f = to_finding("metadata", RawFinding("metadata.nope", "manipulation", "t", "d"))
    assert f.llr == 0.0
