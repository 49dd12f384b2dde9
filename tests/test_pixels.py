"""Pixel analyzers: noise, copy-move, resampling, spectral (issue 4).

Pure functions are tested on arrays built here; analyzers on the committed fixtures
(fixtures/pixels, ground-truth masks beside them) through the real pipeline.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from triage.analyzers import get
from triage.analyzers.base import Context
from triage.media import Media
from triage.pipeline import Options, analyze_path

PIXELS = ["noise", "copymove", "resampling", "spectral"]


def _mask(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("L")) > 127


def _iou(boxes: list[list[int]], mask: np.ndarray) -> float:
    pred = np.zeros_like(mask)
    for x0, y0, x1, y1 in boxes:
        pred[y0:y1, x0:x1] = True
    return float((pred & mask).sum() / max(1, (pred | mask).sum()))


@pytest.fixture(scope="module")
def reports(fixtures_dir: Path) -> dict[str, object]:
    names = [
        "clean.jpg",
        "clean.png",
        "copymove.jpg",
        "copymove_affine.jpg",
        "noise_splice.jpg",
        "resampled.png",
        "synthetic_upsampled.png",
    ]
    return {n: analyze_path(fixtures_dir / "pixels" / n, Options(only=PIXELS)) for n in names}


def _findings(report, prefix: str):  # type: ignore[no-untyped-def]
    return [f for f in report.findings if f.id.startswith(prefix)]


# ------------------------------------------------------------------ fixtures


@pytest.mark.parametrize(
    ("name", "finding", "masks"),
    [
        (
            "copymove.jpg",
            "copymove.cloned_region",
            ["copymove_mask.png", "copymove_source_mask.png"],
        ),
        (
            "copymove_affine.jpg",
            "copymove.cloned_region",
            ["copymove_affine_mask.png", "copymove_affine_source_mask.png"],
        ),
        ("noise_splice.jpg", "noise.inconsistent_region", ["noise_splice_mask.png"]),
        ("resampled.png", "resampling.region", ["resampled_mask.png"]),
    ],
)
def test_fixture_raises_its_finding_where_the_edit_is(
    reports, fixtures_dir: Path, name: str, finding: str, masks: list[str]
) -> None:
    report = reports[name]
    hits = [f for f in report.findings if f.id == finding]
    assert hits, f"{name}: no {finding}; got {[f.id for f in report.findings]}"
    ev = hits[0].evidence
    assert ev["boxes"] and 0 < ev["area_fraction"] < 1
    mask = np.zeros_like(_mask(fixtures_dir / "pixels" / masks[0]))
    for m in masks:
        mask |= _mask(fixtures_dir / "pixels" / m)
    assert _iou(ev["boxes"], mask) >= 0.3
    assert hits[0].llr > 0


def test_copymove_reports_the_transform(reports) -> None:
    f = _findings(reports["copymove_affine.jpg"], "copymove.")[0]
    clone = f.evidence["clones"][0]
    # Cloned with scale 1.1 and a 6 degree rotation (either direction may be reported).
    scale, rot = clone["scale"], abs(clone["rotation_deg"])
    assert min(abs(scale - 1.1), abs(scale - 1 / 1.1)) < 0.05
    assert abs(rot - 6.0) < 1.5
    assert clone["residual_corr"] >= 0.25
    assert len(clone["transform"]) == 2 and len(clone["transform"][0]) == 3


def test_spectral_flags_the_upsampled_image_weakly(reports) -> None:
    report = reports["synthetic_upsampled.png"]
    hits = _findings(report, "spectral.")
    assert [f.id for f in hits] == ["spectral.upsampling_peaks"]
    assert hits[0].question == "synthetic"
    assert hits[0].llr > 0  # its fitted term (the calibration gives its range)
    assert report.questions["synthetic"].band not in ("notable-indicators", "strong-indicators")


@pytest.mark.parametrize("name", ["clean.jpg", "clean.png"])
def test_untouched_fixtures_stay_quiet(reports, name: str) -> None:
    report = reports[name]
    mine = [f for f in report.findings if f.analyzer in PIXELS and f.llr > 0]
    assert mine == []
    assert report.questions["manipulation"].band not in ("notable-indicators", "strong-indicators")
    assert report.questions["synthetic"].band not in ("notable-indicators", "strong-indicators")
    statuses = {a.name: a.status for a in report.analyzers if a.name in PIXELS}
    assert statuses["noise"] == statuses["copymove"] == statuses["resampling"] == "ok"


def test_repeated_text_is_not_a_clone(reports) -> None:
    # The scenes print "TRIAGE nnnn-i" three times: geometric matches, different noise.
    for name in ("clean.jpg", "noise_splice.jpg", "synthetic_upsampled.png"):
        assert not _findings(reports[name], "copymove."), name


def test_spectral_reads_a_turned_or_mirrored_picture_alike(
    fixtures_dir: Path, tmp_path: Path
) -> None:
    """The same pixels turned or mirrored are read on the same tiles, turned: a picture
    that is not square and larger than the tile budget gives the same peaks."""
    from triage.analyzers.spectral import SpectralAnalyzer

    rgb = np.asarray(Image.open(fixtures_dir / "pixels" / "synthetic_upsampled.png").convert("RGB"))
    # Larger than 8 x 8 tiles along one side, so a subset is read.
    big = np.tile(rgb, (4, 5, 1))[:, :-40]
    readings = []
    for name, pixels in (
        ("upright", big),
        ("quarter", np.rot90(big)),
        ("mirrored", big[:, ::-1]),
    ):
        path = tmp_path / f"{name}.png"
        Image.fromarray(np.ascontiguousarray(pixels)).save(path)
        result = SpectralAnalyzer().run(Media.open(path), Context())
        readings.append(
            (result.metrics["tiles"], result.metrics["up2_ratio"], result.metrics["up4_ratio"])
        )
        assert [f.id for f in result.findings] == ["spectral.upsampling_peaks"], name
    assert readings[0][0] == 64
    assert readings[1] == readings[0] and readings[2] == readings[0]


def test_spectral_does_not_judge_jpeg(reports) -> None:
    run = next(a for a in reports["clean.jpg"].analyzers if a.name == "spectral")
    assert run.status == "skipped" and "JPEG" in (run.message or "")


def test_metrics_record_the_working_scale(reports) -> None:
    runs = {a.name: a for a in reports["copymove.jpg"].analyzers}
    assert runs["noise"].metrics["working_scale"] == 1.0
    assert runs["copymove"].metrics["working_size"] == [640, 480]
    assert runs["resampling"].metrics["scale"] == 1.0


# -------------------------------------------------------- size policy, inputs


def test_large_image_boxes_are_in_full_resolution(tmp_path: Path, fixtures_dir: Path) -> None:
    src = np.asarray(Image.open(fixtures_dir / "pixels" / "copymove.jpg").convert("RGB"))
    big = cv2.resize(src, (2400, 1800), interpolation=cv2.INTER_NEAREST)
    mask = cv2.resize(
        (
            _mask(fixtures_dir / "pixels" / "copymove_mask.png")
            | _mask(fixtures_dir / "pixels" / "copymove_source_mask.png")
        ).astype(np.uint8),
        (2400, 1800),
        interpolation=cv2.INTER_NEAREST,
    ).astype(bool)
    path = tmp_path / "big.jpg"
    Image.fromarray(big).save(path, quality=95)
    report = analyze_path(path, Options(only=["copymove", "noise"]))
    runs = {a.name: a for a in report.analyzers}
    assert runs["copymove"].metrics["working_size"] == [800, 600]
    assert runs["noise"].metrics["working_scale"] == pytest.approx(800 / 2400, abs=1e-3)
    f = _findings(report, "copymove.")[0]
    assert max(b[2] for b in f.evidence["boxes"]) > 800  # mapped back, not working pixels
    assert _iou(f.evidence["boxes"], mask) >= 0.3


def test_tiny_and_odd_images_are_handled(tmp_path: Path) -> None:
    tiny = tmp_path / "tiny.png"
    Image.fromarray(np.full((20, 30, 3), 128, np.uint8)).save(tiny)
    flat = tmp_path / "flat16.png"
    Image.fromarray(np.full((300, 300), 40000, np.uint16)).save(flat)
    grey = tmp_path / "grey.png"
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (200, 260), dtype=np.uint8)).save(grey)
    for path in (tiny, flat, grey):
        report = analyze_path(path, Options(only=PIXELS))
        statuses = {a.name: a.status for a in report.analyzers if a.name in PIXELS}
        assert "error" not in statuses.values(), (path.name, report.analyzers)
    runs = {a.name: a for a in analyze_path(tiny, Options(only=PIXELS)).analyzers}
    assert runs["noise"].status == "skipped" and "small" in (runs["noise"].message or "")


def test_artifacts_only_on_request(fixtures_dir: Path) -> None:
    media = Media.open(fixtures_dir / "pixels" / "copymove.jpg")
    quiet = get("copymove").run(media, Context())
    assert quiet.artifacts == []
    loud = get("copymove").run(media, Context(want_artifacts=True))
    assert [a.kind for a in loud.artifacts] == ["copymove_overlay"]
    assert loud.artifacts[0].png.startswith(b"\x89PNG")
    noise = get("noise").run(
        Media.open(fixtures_dir / "pixels" / "noise_splice.jpg"), Context(want_artifacts=True)
    )
    assert [a.kind for a in noise.artifacts] == ["noise_map"]


# ------------------------------------------------------------ pure functions


def test_noise_map_finds_a_noisier_patch() -> None:
    from triage.forensics.noise import block_noise_map, outlier_regions

    rng = np.random.default_rng(1)
    img = 120 + rng.normal(0, 2.0, (384, 384))
    img[128:256, 192:320] = 120 + rng.normal(0, 8.0, (128, 128))
    nm = block_noise_map(img.astype(np.float32), 32)
    assert nm.median_sigma == pytest.approx(2.0, rel=0.15)
    regions = outlier_regions(nm)
    assert regions and regions[0].direction == "higher"
    x0, y0, x1, y1 = regions[0].box
    assert (x0, y0) == (192, 128) and (x1, y1) == (320, 256)


def test_resampling_region_on_a_resized_patch() -> None:
    from triage.forensics.resampling import block_spectra, odd_regions

    rng = np.random.default_rng(2)
    img = rng.normal(128, 3, (640, 640))
    patch = cv2.resize(
        img[:128, :128].astype(np.float32), (192, 192), interpolation=cv2.INTER_LINEAR
    )
    img[256:448, 256:448] = patch  # 1.5x up-scaled, pasted
    regions = odd_regions(block_spectra(np.round(img).astype(np.float32), 64))
    assert len(regions) == 1
    assert regions[0].box == (256, 256, 448, 448)
    assert regions[0].period == pytest.approx(3.0, abs=0.2)  # 1.5x -> period 3


def test_spectral_peaks_of_a_checkerboard() -> None:
    from triage.forensics.cellgrid import symmetric_cells
    from triage.forensics.spectral import grid_peaks, tile_power_spectra

    rng = np.random.default_rng(3)
    noise = rng.normal(128, 4, (512, 512)).astype(np.float32)
    quiet = grid_peaks(tile_power_spectra(noise, symmetric_cells(512, 512, 4, 128), 128))
    checker = noise + 1.5 * ((np.indices((512, 512)).sum(axis=0) % 2) * 2 - 1)
    loud = grid_peaks(tile_power_spectra(checker, symmetric_cells(512, 512, 4, 128), 128))
    assert max(quiet.up2, quiet.up4) < 4
    assert loud.up2 > 10 and loud.ratios["-4/8,4/8"] == pytest.approx(loud.up2, rel=0.01)


def test_copymove_pure_function_recovers_a_translation() -> None:
    from triage.forensics.copymove import find_clones

    rng = np.random.default_rng(4)
    img = cv2.GaussianBlur(rng.normal(128, 30, (300, 400)), (0, 0), 2.0) + rng.normal(
        0, 2, (300, 400)
    )
    img[180:260, 250:350] = img[40:120, 30:130]
    clones, stats = find_clones(np.clip(img, 0, 255).astype(np.float32))
    assert stats["keypoints"] > 50 and clones
    c = clones[0]
    assert abs(abs(c.transform[0, 2]) - 220) < 3 and abs(abs(c.transform[1, 2]) - 140) < 3
    assert c.residual_corr > 0.5


# ----------------------------------------------------------------- corpus


@pytest.mark.corpus
def test_comofod_clone_found_and_original_quiet(corpus_dir: Path) -> None:
    forged = analyze_path(
        corpus_dir / "manipulated/comofod/040_forged.png", Options(only=["copymove"])
    )
    hits = _findings(forged, "copymove.")
    assert hits
    mask = _mask(corpus_dir / "manipulated/comofod/040_mask.png")
    assert _iou(hits[0].evidence["boxes"], mask) >= 0.3
    orig = analyze_path(corpus_dir / "manipulated/comofod/040_orig.png", Options(only=["copymove"]))
    assert not _findings(orig, "copymove.")


def test_a_binary_mask_is_not_read_as_resampled(tmp_path: Path) -> None:
    """Line art and masks: flat areas and hard edges give sharp spectral peaks with no
    interpolation behind them; resampling says it did not examine them, and the file
    does not reach a manipulation claim on that."""
    mask = np.zeros((512, 640), np.uint8)
    cv2.ellipse(mask, (300, 250), (140, 90), 25, 0, 360, 255, -1)
    cv2.rectangle(mask, (40, 380), (200, 470), 255, -1)
    path = tmp_path / "mask.png"
    Image.fromarray(mask).convert("RGB").save(path)
    rep = analyze_path(path, Options(only=["metadata", "resampling"]))
    run = next(a for a in rep.analyzers if a.name == "resampling")
    assert run.status == "skipped" and "2 grey levels" in (run.message or "")
    assert not [f for f in rep.findings if f.id.startswith("resampling.")]
    assert rep.questions["manipulation"].band in ("insufficient-evidence", "no-indicators")
