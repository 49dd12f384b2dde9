"""The metadata analyzer on the core fixtures, and its pure checks on made-up values."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

import triage
from triage.forensics import metadata as md

CORE = Path(__file__).resolve().parent.parent / "fixtures" / "core"


def ids(path: Path) -> set[str]:
    report = triage.analyze(str(path), only=["metadata"])
    return {f.id for f in report.findings}


@pytest.mark.parametrize(
    ("name", "expected", "absent"),
    [
        ("camera_original.jpg", {"metadata.camera_consistent"}, {"metadata.editing_software"}),
        (
            "camera_edited.jpg",
            {
                "metadata.editing_software",
                "metadata.dates_inconsistent",
                "metadata.xmp_history",
                "metadata.derived_document",
            },
            {"metadata.camera_consistent"},
        ),
        # Cropped after capture with the old preview kept: a crop, not a changed picture.
        ("stale_thumbnail.jpg", {"metadata.thumbnail_cropped"}, {"metadata.thumbnail_mismatch"}),
        (
            "dimensions_mismatch.jpg",
            {"metadata.dimensions_mismatch"},
            {"metadata.thumbnail_mismatch"},
        ),
        ("dates_forged.jpg", {"metadata.dates_impossible", "metadata.dates_inconsistent"}, set()),
        ("stripped.jpg", {"metadata.no_metadata"}, {"metadata.camera_consistent"}),
        ("scene.png", {"metadata.no_metadata"}, {"metadata.extension_mismatch"}),
        ("jpeg_named.png", {"metadata.extension_mismatch"}, set()),
    ],
)
def test_fixture_findings(name: str, expected: set[str], absent: set[str]) -> None:
    found = ids(CORE / name)
    assert expected <= found, found
    assert not (absent & found), found


def test_edited_scores_above_its_untouched_twin() -> None:
    original = triage.analyze(str(CORE / "camera_original.jpg"))
    edited = triage.analyze(str(CORE / "camera_edited.jpg"))
    assert edited.questions["manipulation"].score > original.questions["manipulation"].score
    assert original.questions["manipulation"].band not in (
        "notable-indicators",
        "strong-indicators",
    )


def test_stripped_file_is_insufficient_not_clean() -> None:
    report = triage.analyze(str(CORE / "stripped.jpg"), only=["metadata"])
    q = report.questions["manipulation"]
    assert q.band == "insufficient-evidence"
    assert "not checked" in q.statement.lower() or "could run" in q.statement.lower()


def test_date_checks_on_values() -> None:
    facts = md.DateFacts(
        original=datetime(2020, 1, 1, 10, 0, 0),
        digitized=datetime(2020, 1, 1, 10, 0, 0),
        modified=datetime(2020, 1, 1, 10, 0, 30),
        gps=None,
        offset_known=False,
        raw={},
    )
    assert md.date_problems(facts) == ([], [])
    facts.modified = datetime(2020, 3, 1)
    inconsistent, impossible = md.date_problems(facts)
    assert inconsistent and not impossible
    facts.modified = datetime(1985, 1, 1)
    _, impossible = md.date_problems(facts)
    assert any("1985" in p for p in impossible)
    assert md.parse_exif_date("0000:00:00 00:00:00") is None
    assert md.parse_exif_date("2020:13:45 10:00:00") is None


def test_gps_time_zone_tolerance() -> None:
    from datetime import UTC

    base = dict(
        original=datetime(2020, 6, 1, 14, 0),
        digitized=None,
        modified=None,
        offset_known=False,
        raw={},
    )
    # zone unknown: 2 h 29 min off could be a time zone, 20 h cannot
    ok = md.DateFacts(gps=datetime(2020, 6, 1, 11, 31, tzinfo=UTC), **base)  # type: ignore[arg-type]
    assert md.date_problems(ok)[0] == []
    bad = md.DateFacts(gps=datetime(2020, 5, 31, 18, 0, tzinfo=UTC), **base)  # type: ignore[arg-type]
    assert md.date_problems(bad)[0]
    # zone known (+02:00): capture 14:00 local = 12:00 UTC; GPS 12:31 UTC is 31 min off
    tz = md.parse_exif_date("2020:06:01 14:00:00", "+02:00")
    known = md.DateFacts(
        original=tz,
        digitized=None,
        modified=None,
        gps=datetime(2020, 6, 1, 12, 31, tzinfo=UTC),
        offset_known=True,
        raw={},
    )
    assert md.date_problems(known)[0]
    known.gps = datetime(2020, 6, 1, 12, 3, tzinfo=UTC)
    assert md.date_problems(known)[0] == []


def test_thumbnail_similarity_sees_letterbox_and_content() -> None:
    import io

    from PIL import Image

    rng = np.random.default_rng(0)
    main = (rng.random((60, 90)) * 255).astype(np.uint8)
    main = np.kron(main, np.ones((8, 8), np.uint8))  # 480x720, 3:2
    thumb = np.zeros((120, 160), np.uint8)
    small = np.asarray(Image.fromarray(main).resize((160, 107)))
    thumb[6:113] = small  # letterboxed preview of the same picture
    buf = io.BytesIO()
    Image.fromarray(thumb).save(buf, "JPEG", quality=90)
    sim = md.thumbnail_similarity(buf.getvalue(), main)
    assert sim is not None and sim["correlation"] > 0.9 and sim["aspect_log_diff"] < 0.05
    other = (rng.random((120, 160)) * 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(other).save(buf, "JPEG", quality=90)
    sim = md.thumbnail_similarity(buf.getvalue(), main)
    assert sim is not None and sim["correlation"] < 0.5


def _jpeg_with_thumbnail(path: Path, main: np.ndarray, preview_of: np.ndarray) -> Path:
    from generators.core import _exif, _save_jpeg  # type: ignore[import-not-found]

    _save_jpeg(path, main, exif=_exif(preview_of, (preview_of.shape[1], preview_of.shape[0])))
    return path


def test_crop_is_located_inside_its_preview_and_a_changed_picture_is_not(tmp_path: Path) -> None:
    sys.path.insert(0, str(CORE.parent))
    from generators.scenes import scene  # type: ignore[import-not-found]

    rgb = scene(960, 720, seed=7)
    crop = np.ascontiguousarray(rgb[120:600, 200:840])  # two thirds of each side
    sim = md.thumbnail_similarity(_thumb_of(rgb), crop)
    assert sim is not None and sim["correlation"] < 0.75  # whole pictures differ
    placed = md.locate_crop(_thumb_of(rgb), crop)
    assert placed is not None and placed["crop_correlation"] > 0.9
    assert 0.3 < placed["crop_area"] < 0.6 and placed["crop_local_change"] < 4.0
    found = ids(_jpeg_with_thumbnail(tmp_path / "crop.jpg", crop, rgb))
    assert "metadata.thumbnail_cropped" in found and "metadata.thumbnail_mismatch" not in found

    # The same crop with a third of it painted over: the preview no longer shows it.
    changed = crop.copy()
    changed[:, :220] = (40, 160, 60)
    found = ids(_jpeg_with_thumbnail(tmp_path / "changed.jpg", changed, rgb))
    assert "metadata.thumbnail_mismatch" in found and "metadata.thumbnail_cropped" not in found

    other = scene(960, 720, seed=8)
    found = ids(_jpeg_with_thumbnail(tmp_path / "other.jpg", other, rgb))
    assert "metadata.thumbnail_mismatch" in found


def _thumb_of(rgb: np.ndarray) -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    im = Image.fromarray(rgb)
    im.thumbnail((160, 120))
    im.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def test_editor_table_matches_common_editors() -> None:
    names = {e.name for e in md.editors()}
    assert {"Adobe Photoshop", "GIMP", "Snapseed"} <= names
    meta = md.Metadata(exif={"Image Software": "GIMP 2.10.34"})
    assert md.match_editors(meta)[0][2].name == "GIMP"
    assert md.match_editors(md.Metadata(exif={"Image Software": "Ver.1.00"})) == []


def test_corpus_camera_originals_rarely_notable(corpus_dir: Path) -> None:
    files = sorted((corpus_dir / "camera").rglob("*.jpg"))
    strong = [
        f
        for f in files
        if triage.analyze(str(f), only=["metadata"]).questions["manipulation"].band
        == "strong-indicators"
    ]
    assert len(strong) <= max(1, len(files) // 50), strong


@pytest.mark.parametrize("thumb", [b"", b"\xff\xd8not a jpeg", "tiny", "flat", "thin"])
@pytest.mark.parametrize("main_shape", [(200, 256), (2, 256), (1, 1, 3)])
def test_thumbnail_comparison_survives_odd_previews_and_images(
    thumb: bytes | str, main_shape: tuple[int, ...]
) -> None:
    import io

    from PIL import Image

    rng = np.random.default_rng(0)
    made = {
        "tiny": (rng.random((10, 12)) * 255).astype(np.uint8),
        "flat": np.full((120, 160), 128, np.uint8),
        "thin": (rng.random((8, 160)) * 255).astype(np.uint8),
    }
    if isinstance(thumb, str):
        buf = io.BytesIO()
        Image.fromarray(made[thumb]).save(buf, "JPEG")
        thumb = buf.getvalue()
    main = (rng.random(main_shape) * 255).astype(np.uint8)
    sim = md.thumbnail_similarity(thumb, main)
    placed = md.locate_crop(thumb, main)
    if len(thumb) < 32:  # not decodable: nothing to compare, no exception
        assert sim is None and placed is None
    if placed is not None:  # a flat preview places nothing it could show
        assert 0.0 <= placed["crop_area"] <= 1.0 and placed["crop_correlation"] <= 1.0
