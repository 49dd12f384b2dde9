"""The local tamper detector: training code on generated images, the shipped model,
and the analyzer on spliced files against their untouched twins."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from triage.analyzers.base import Context
from triage.analyzers.tamper import TamperAnalyzer, load_model
from triage.forensics.blockfeatures import (
    FEATURE_NAMES,
    TILE,
    WHOLE_WEB_COPY,
    _flat_blocks,
    _mosaic,
    block_dct,
    double_quantization,
    image_score,
    lattice_start,
    probability_regions,
    rgb_tile_features,
    stride_for,
    zigzag_dct,
)
from triage.forensics.dct import block_dct as shared_block_dct
from triage.forensics.tampermap import (
    MAP_STATISTICS,
    image_probability,
    map_statistics,
    peak_region,
    refined_region,
    relative_threshold,
)
from triage.media import Media

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "fixtures"))

from generators.scenes import scene  # noqa: E402
from generators.trainingfolder import write_training_folder  # noqa: E402


def _jpeg(rgb: np.ndarray, quality: int) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def _decode(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def _splice_pair(seed: int, w: int = 768, h: int = 576) -> tuple[bytes, bytes, tuple[int, ...]]:
    """A host photo-like scene saved at q92, then re-saved at q85 untouched and with a
    box pasted from another scene that had its own history (stronger noise, q60,
    resized 1.5x)."""
    host = _decode(_jpeg(scene(w, h, seed, noise_sigma=2.0), 92))
    donor = _decode(_jpeg(scene(w, h, seed + 1, noise_sigma=7.0), 60))
    donor = cv2.resize(donor, None, fx=1.5, fy=1.5, interpolation=cv2.INTER_LINEAR)[:h, :w]
    box = (w // 2, h // 4, w // 2 + 224, h // 4 + 192)
    edited = host.copy()
    x0, y0, x1, y1 = box
    edited[y0:y1, x0:x1] = donor[y0:y1, x0:x1]
    return _jpeg(edited, 85), _jpeg(host, 85), box


def test_block_dct_matches_opencv() -> None:
    rng = np.random.default_rng(0)
    g = rng.uniform(0, 255, (16, 24)).astype(np.float32)
    ours = block_dct(g)
    ref = cv2.dct(g[8:16, 8:16] - 128.0)
    assert np.allclose(ours[1, 1], ref, atol=1e-3)


def test_zigzag_dct_matches_the_shared_block_dct() -> None:
    rng = np.random.default_rng(1)
    g = rng.uniform(0, 255, (64, 64)).astype(np.float32)
    ref = shared_block_dct(g, terms=64)  # (64 terms, 8, 8) in zig-zag order
    ours = zigzag_dct(
        _flat_blocks(_mosaic(g, 2, 2, 1))
    )  # blocks in (tile row, i, tile col, j) order
    assert np.allclose(ours.T.reshape(64, 8, 8), ref, atol=1e-2)


def test_zigzag_dct_in_runs_and_fewer_terms_is_the_same_transform() -> None:
    """More blocks than one run of the transform, and its first 28 terms alone, give
    the same bits as one product of every block with the whole basis."""
    import cv2

    from triage.forensics import blockfeatures

    rng = np.random.default_rng(2)
    blocks = rng.integers(0, 256, (2 * blockfeatures._DCT_RUN + 37, 64)).astype(np.float32)
    whole = cv2.gemm(blocks.astype(np.float64), blockfeatures._dct_basis(), 1.0, None, 0.0)
    whole = whole.astype(np.float32)
    whole[:, 0] -= np.float32(1024.0)
    ours = zigzag_dct(blocks)
    assert np.array_equal(ours, whole)
    assert np.array_equal(zigzag_dct(blocks.astype(np.uint8), terms=28), whole[:, :28])


def test_stride_bounds_the_work_on_large_images() -> None:
    assert stride_for(1200, 1600) == 1
    assert stride_for(1536, 2048) == 2
    assert stride_for(2736, 3648) == 2
    # the measured alternative (not the analyzer's): every 2048-px copy read whole
    assert stride_for(1536, 2048, WHOLE_WEB_COPY) == 1
    assert stride_for(2048, 2048, WHOLE_WEB_COPY) == 1
    assert stride_for(2048, 2056, WHOLE_WEB_COPY) == 2
    assert stride_for(3000, 4000, WHOLE_WEB_COPY) == 3
    assert stride_for(3000, 4000) == 3
    rgb = scene(768, 512, 4)
    tf = rgb_tile_features(rgb, step=2)
    assert tf.tile == 2 * TILE and tf.values.shape[:2] == (512 // 64, 768 // 64)


def _padded_mosaic(plane: np.ndarray, rows: int, cols: int, step: int, offset: int) -> np.ndarray:
    """The mosaic as first written: the cropped plane padded by edge to the full span,
    then every step-th block taken."""
    span, wspan = rows * 4 * step * 8, cols * 4 * step * 8
    p = plane[offset : offset + span, offset : offset + wspan]
    pad = [(0, span - p.shape[0]), (0, wspan - p.shape[1])] + [(0, 0)] * (p.ndim - 2)
    p = np.pad(p, pad, mode="edge")
    b = p.reshape(rows * 4, step, 8, cols * 4, step, 8, *p.shape[2:])[:, 0, :, :, 0]
    return b.reshape(rows * 32, cols * 32, *p.shape[2:])


@pytest.mark.parametrize("step", [1, 2, 3, 4])
@pytest.mark.parametrize("offset", [0, 4])
def test_mosaic_reads_the_same_blocks_without_padding_the_plane(step: int, offset: int) -> None:
    rng = np.random.default_rng(step)
    tile = 32 * step
    # Sides that are exact multiples of the tile (the shifted grid runs 4 pixels past
    # the edge) and sides with a remainder, in colour and in grey.
    for h, w in [(3 * tile, 2 * tile), (3 * tile + 5, 2 * tile + 13), (2 * tile + 4, 3 * tile)]:
        rgb = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        for plane in (rgb, rgb[:, :, 1]):
            got = _mosaic(plane, h // tile, w // tile, step, offset)
            assert got.flags.c_contiguous
            assert np.array_equal(got, _padded_mosaic(plane, h // tile, w // tile, step, offset))


def _dq_image(seed: int, patch: bool) -> tuple[np.ndarray, list[int]]:
    """A scene saved at q60 then re-saved at q80 on the same grid; with ``patch``, a
    box is replaced (before the second save) by content with no earlier JPEG."""
    clean = scene(512, 512, seed, noise_sigma=3.0)
    first = _decode(_jpeg(clean, 60))
    if patch:
        first = first.copy()
        first[128:320, 192:384] = scene(512, 512, seed + 5, noise_sigma=3.0)[128:320, 192:384]
    data = _jpeg(first, 80)
    with Image.open(io.BytesIO(data)) as im:
        table = list(im.quantization[0])
    return _decode(data), table


def test_double_quantization_marks_the_region_without_the_first_compression() -> None:
    from triage.forensics.dct import to_zigzag

    rgb, table = _dq_image(21, patch=True)
    luma = cv2.cvtColor(rgb, cv2.COLOR_RGB2YCrCb)[:, :, 0]
    blocks = _flat_blocks(_mosaic(luma, 16, 16, 1))
    shifted = _flat_blocks(_mosaic(luma, 16, 16, 1, offset=4))
    llr, gain = double_quantization(zigzag_dct(blocks), to_zigzag(table), zigzag_dct(shifted))
    assert gain > 0.5
    # blocks are ordered (tile row, i, tile col, j): back to a 64 x 64 block map
    bmap = llr.reshape(64, 64)
    inside = bmap[17:39, 25:47].mean()
    outside = np.concatenate([bmap[:14].ravel(), bmap[44:].ravel()]).mean()
    assert outside > 0.5 > 0 > inside
    # A single compression at the same quality fits the calibrated histogram: no gain.
    single = _decode(_jpeg(scene(512, 512, 21, noise_sigma=3.0), 80))
    luma1 = cv2.cvtColor(single, cv2.COLOR_RGB2YCrCb)[:, :, 0]
    _, gain1 = double_quantization(
        zigzag_dct(_flat_blocks(_mosaic(luma1, 16, 16, 1))),
        to_zigzag(table),
        zigzag_dct(_flat_blocks(_mosaic(luma1, 16, 16, 1, offset=4))),
    )
    assert gain1 < 0.05


def _loop_double_quantization(
    c: np.ndarray, qz: np.ndarray, calibrated: np.ndarray
) -> tuple[np.ndarray, float]:
    """double_quantization as first written: one term and one candidate q1 at a time."""
    from triage.forensics.blockfeatures import DQ_KMAX, DQ_TERMS, _multiplicity

    llr = np.zeros(c.shape[0], np.float32)
    total, bins = 0.0, DQ_KMAX + 1
    for t in range(1, DQ_TERMS + 1):
        q2 = float(qz[t])
        if q2 < 2:
            continue
        k = np.abs(np.rint(c[:, t] / q2)).astype(np.int64)
        live = (k > 0) & (k <= DQ_KMAX)
        h = np.bincount(k[live], minlength=bins)[:bins].astype(np.float64)
        if h.sum() < 300:
            continue
        kc = np.abs(np.rint(calibrated[:, t] / q2)).astype(np.int64)
        env = np.bincount(kc[(kc > 0) & (kc <= DQ_KMAX)], minlength=bins)[:bins] + 0.5
        env[0] = 0.0
        base = env / env.sum()
        best, best_n = 0.0, None
        for q1 in range(1, min(int(2 * q2) + 3, 64)):
            if q1 == int(q2):
                continue
            n = _multiplicity(q1, int(q2), DQ_KMAX)
            n[0] = 0.0
            z = float((env * n).sum())
            if z <= 0:
                continue
            ratio = np.log(np.maximum((env * n / z)[1:], 1e-6)) - np.log(base[1:])
            gain = float((h[1:] * ratio).sum() / h.sum())
            if gain > best:
                best, best_n = gain, n / (z / env.sum())
        if best_n is None or best < 0.01:
            continue
        total += best
        per_bin = np.clip(np.log(np.maximum(best_n, 0.05)), -3.0, 3.0).astype(np.float32)
        per_bin[0] = 0.0
        llr += np.where(live, per_bin[np.minimum(k, DQ_KMAX)], np.float32(0.0))
    return llr, total


def _loop_block_statistics(
    luma: np.ndarray, shifted: np.ndarray, cr: np.ndarray, qz: np.ndarray
) -> tuple[np.ndarray, float]:
    """block_statistics as first written (every plane transformed first, each statistic
    on its own copy of the coefficients)."""
    from triage.forensics.blockfeatures import _EPS, _ela_table

    def log_mean_abs(x: np.ndarray, lo: int, hi: int) -> np.ndarray:
        return np.log(np.abs(x[:, lo:hi]).mean(axis=1) + _EPS)

    def zeros(x: np.ndarray) -> np.ndarray:
        return (np.abs(x[:, 1:16]) < 0.5 * qz[1:16]).mean(axis=1)

    c, cs, cc = (zigzag_dct(np.asarray(b, np.float32)) for b in (luma, shifted, cr))
    out = np.zeros((10, c.shape[0]), np.float32)
    out[0], out[1], out[2] = (log_mean_abs(c, lo, hi) for lo, hi in ((28, 64), (6, 28), (1, 6)))
    out[3] = zeros(c)
    ratio = c[:, 1:16] / qz[1:16]
    dist = np.abs(ratio - np.rint(ratio))
    out[4] = np.where(np.abs(ratio) >= 0.5, dist, 0.0).mean(axis=1)
    out[5], gain = _loop_double_quantization(c, qz, cs)
    t = _ela_table()
    err = c[:, 1:28] - t[1:28] * np.rint(c[:, 1:28] / t[1:28])
    out[6] = np.log(np.abs(err).mean(axis=1) + _EPS)
    out[7] = out[3] - zeros(cs)
    out[8] = out[0] - log_mean_abs(cs, 28, 64)
    out[9] = log_mean_abs(cc, 1, 28)
    return out, gain


@pytest.mark.parametrize(("q1", "q2", "patch"), [(60, 80, True), (90, 75, False), (80, 80, False)])
def test_block_statistics_equal_their_first_form_bit_for_bit(q1: int, q2: int, patch: bool) -> None:
    """The vectorised double-quantization test and the reordered statistics give the
    same numbers, to the last bit, as the loops they replaced (the tamper model was
    trained on those)."""
    from triage.forensics.blockfeatures import _block_ycrcb, block_statistics
    from triage.forensics.dct import to_zigzag

    first = _decode(_jpeg(scene(512, 384, q1, noise_sigma=3.0), q1))
    if patch:
        first = first.copy()
        first[96:288, 160:352] = scene(512, 384, 7, noise_sigma=3.0)[96:288, 160:352]
    data = _jpeg(first, q2)
    with Image.open(io.BytesIO(data)) as im:
        qz = to_zigzag(list(im.quantization[0]))
    rgb = _decode(data)
    ycc = _block_ycrcb(rgb, 12, 16, 1)
    luma = ycc[:, :, :, 0].reshape(-1, 64)
    cr = ycc[:, :, :, 1].reshape(-1, 64)
    shifted = _block_ycrcb(rgb, 12, 16, 1, offset=4)[:, :, :, 0].reshape(-1, 64)
    want, want_gain = _loop_block_statistics(luma, shifted, cr, qz)
    got, gain = block_statistics(luma.astype(np.float32), shifted, cr, qz)
    assert gain == want_gain and np.array_equal(got, want)
    c, cs = zigzag_dct(luma.astype(np.float32)), zigzag_dct(shifted.astype(np.float32))
    llr, dq_gain = double_quantization(c, qz, cs)
    want_llr, want_dq = _loop_double_quantization(c, qz, cs)
    assert dq_gain == want_dq and np.array_equal(llr, want_llr)
    if patch:
        assert dq_gain > 0.1  # the test has something to compare


def test_tile_features_shape_and_names() -> None:
    rgb = scene(320, 256, 5)
    tf = rgb_tile_features(rgb)
    assert tf.values.shape == (256 // TILE, 320 // TILE, len(FEATURE_NAMES))
    assert np.isfinite(tf.values).all()


def test_probability_regions_and_score() -> None:
    prob = np.zeros((10, 12), np.float32)
    prob[2:5, 3:7] = 0.9
    regions = probability_regions(prob, 0.5)
    assert regions[0][0] == (3, 2, 7, 5) and regions[0][1] == 12
    assert image_score(prob) > 0.8 > image_score(np.full((10, 12), 0.1, np.float32))


def test_map_statistics_and_relative_threshold() -> None:
    prob = np.full((10, 12), 0.1, np.float32)
    prob[2:5, 3:7] = 0.7
    stats = dict(zip(MAP_STATISTICS, map_statistics(prob), strict=True))
    assert stats["max1"] == pytest.approx(0.7) and stats["median"] == pytest.approx(0.1)
    assert stats["comp_area"] == pytest.approx(12 / 120, abs=0.05)
    assert not map_statistics(np.zeros((0, 0), np.float32)).any()
    # Half-way from the photo's median to its top: the same hot block is found on a
    # map that sits higher overall, where one fixed threshold would take everything.
    for base in (0.1, 0.45):
        shifted = prob - 0.1 + base
        t = relative_threshold(shifted, 0.5)
        assert base < t < shifted.max()
        assert probability_regions(shifted, t)[0][0] == (3, 2, 7, 5)


def test_peak_region_keeps_the_component_that_holds_the_peak() -> None:
    prob = np.full((12, 12), 0.1, np.float32)
    prob[1:3, 1:3] = 0.5  # a weaker component (4 tiles)
    prob[6:10, 5:9] = 0.8  # the peak's component (16 tiles)
    prob[11, 11] = 0.9  # a single hot tile: below the component minimum
    region = peak_region(prob, 0.4)
    assert region.sum() == 16 and region[6:10, 5:9].all()
    assert not peak_region(prob, 0.95).any()


def test_refined_region_draws_the_border_between_tile_centres() -> None:
    prob = np.full((12, 12), 0.1, np.float32)
    prob[4:8, 4:8] = 0.9  # the edit
    prob[4:8, 8] = 0.5  # a column of tiles half inside it
    prob[0, 0] = 0.95  # a hot tile far off: not connected to the region
    region = peak_region(prob, 0.5)
    assert region[4:8, 4:9].all() and region.sum() == 20
    fine = refined_region(prob, region, 0.5)  # 4 x 4 cells per tile (8 px at 32-px tiles)
    assert fine.shape == (48, 48)
    # The edit's own tiles stay, but for their outer corner cells (the corners of a
    # region are rounded: a corner cell is interpolated with the cold tiles beside it).
    assert fine[17:31, 16:32].all() and fine[16:32, 16:32].mean() > 0.95
    # The half tile: from its centre outwards the map falls below 0.5, so about half
    # of its cells stay (the tile grid keeps all of them).
    assert 0.3 <= fine[16:32, 32:36].mean() <= 0.7
    assert not fine[:, 36:].any() and not fine[:4, :4].any()
    assert not refined_region(prob, np.zeros_like(region), 0.5).any()
    assert refined_region(prob, region, 0.5, cells=2).shape == (24, 24)


def _iou(a: tuple[int, ...] | list[int], b: tuple[int, ...]) -> float:
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union else 0.0


def test_tiny_model_trained_here_finds_a_planted_splice(tmp_path: Path) -> None:
    # The training code end to end on generated "photos": edits with masks, the
    # platform chain, tile features, the fit; then the fitted booster on a new file.
    from triage.train import tamper as train
    from triage.train.edits import generate

    sources = []
    for i in range(8):
        p = tmp_path / f"src{i}.jpg"
        p.write_bytes(_jpeg(scene(640, 480, 900 + i, noise_sigma=2.0 + i % 3), 90))
        sources.append(p)
    examples = list(generate(sources, seed=1, edits_per_source=5))
    assert {e.kind for e in examples} >= {"none", "splice", "retouch"}
    assert all(e.mask.shape == _decode(e.jpeg).shape[:2] for e in examples)
    samples = train.featurize(examples)
    booster = train.fit(samples, seed=0, rounds=60)
    # The second stage: fitted on out-of-fold maps of the same sources.
    maps = train.out_of_fold_maps(samples, seed=0, folds=2, rounds=30)
    assert all(m.shape == sm.share.shape for m, sm in zip(maps, samples, strict=True))
    image_model = train.fit_image_model(samples, maps)
    spliced, twin, box = _splice_pair(77, 640, 480)
    feats = train.jpeg_features(spliced)
    assert feats.tile == TILE
    prob = train.predict_map(booster, feats.values)
    # Regions as the analyzer reads them: relative to the photo's own map.
    (c0, r0, c1, r1), _, _ = probability_regions(prob, relative_threshold(prob, 0.5))[0]
    found = (c0 * TILE, r0 * TILE, c1 * TILE, r1 * TILE)
    assert _iou(found, box) >= 0.5
    # The analyzer's region: the peak region, its border refined on 8-px cells.
    t = relative_threshold(prob, 0.5)
    fine = refined_region(prob, peak_region(prob, t), t)
    ys, xs = np.nonzero(fine)
    cell = TILE // (fine.shape[0] // prob.shape[0])
    refined = (xs.min() * cell, ys.min() * cell, (xs.max() + 1) * cell, (ys.max() + 1) * cell)
    assert _iou(refined, box) >= 0.5
    twin_prob = train.predict_map(booster, train.jpeg_features(twin).values)
    assert 0 <= image_probability(twin_prob, image_model) <= 1
    assert 0 <= image_probability(prob, image_model) <= 1


def test_shipped_model_loads_with_its_manifest() -> None:
    boosters, manifest, image_models = load_model()
    assert len(boosters) == len(manifest["members"]) >= 1
    assert all(b.num_feature() == len(FEATURE_NAMES) for b in boosters)
    assert image_models is not None and len(image_models) == len(boosters)
    assert all(m.num_feature() == len(MAP_STATISTICS) for m in image_models)
    assert manifest["image_model"]["features"] == list(MAP_STATISTICS)
    assert manifest["features"] == list(FEATURE_NAMES)
    for key in ("version", "seed", "data", "held_out", "command"):
        assert key in manifest
    on_disk = ROOT / "triage" / "data" / "models" / "tamper.manifest.json"
    assert json.loads(on_disk.read_text())["name"] == "tamper"


@pytest.mark.parametrize("seed", [311, 523])
def test_splice_scores_above_its_untouched_twin(tmp_path: Path, seed: int) -> None:
    spliced, twin, _ = _splice_pair(seed)
    scores = {}
    for name, data in (("spliced", spliced), ("twin", twin)):
        path = tmp_path / f"{name}.jpg"
        path.write_bytes(data)
        result = TamperAnalyzer().run(Media.open(path), Context(want_artifacts=True))
        scores[name] = result.metrics["image_score"]
        assert result.examined == {"manipulation": 1.0}
    assert scores["spliced"] > scores["twin"]


def _png(rgb: np.ndarray, path: Path) -> Path:
    Image.fromarray(np.ascontiguousarray(rgb)).save(path)
    return path


def test_a_png_of_a_cropped_jpeg_is_read_on_the_jpeg_s_grid(tmp_path: Path) -> None:
    """A JPEG cropped by a few pixels and saved as PNG keeps its grid, off the PNG's
    corner: the model reads it there, and the paste still scores above its twin."""
    spliced, twin, _ = _splice_pair(311)
    scores = {}
    for name, data in (("spliced", spliced), ("twin", twin)):
        path = _png(_decode(data)[3:, 5:], tmp_path / f"{name}.png")
        result = TamperAnalyzer().run(Media.open(path), Context())
        x, y = result.metrics["read_from"]
        assert (x % 8, y % 8) == (3, 5)  # the JPEG's column 8 is the PNG's column 3
        scores[name] = result.metrics["image_score"]
    assert scores["spliced"] > scores["twin"] + 0.1


def test_training_reads_a_png_where_the_analyzer_does(tmp_path: Path) -> None:
    """The training featurizes a lossless copy as the analyzer reads it: same first
    tile, same tiles (no skew between what is learned and what is read)."""
    from triage.train import tamper as train

    spliced, _, _ = _splice_pair(7)
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(_decode(spliced)[3:, 5:])).save(buf, "PNG")
    feats = train.jpeg_features(buf.getvalue())
    path = tmp_path / "copy.png"
    path.write_bytes(buf.getvalue())
    result = TamperAnalyzer().run(Media.open(path), Context())
    assert list(feats.origin[::-1]) == result.metrics["read_from"]
    assert feats.values.shape[0] * feats.values.shape[1] == result.metrics["tiles"]


@settings(max_examples=300, deadline=None)
@given(st.integers(8, 3000), st.sampled_from([32, 64, 96]), st.integers(0, 7))
def test_lattice_start_is_mirrored_with_the_picture(length: int, tile: int, phase: int) -> None:
    """Mirrored, the picture's earlier grid starts at the other end's remainder; the
    tiles read then cover the same pixels, mirrored, whenever the spare blocks are even."""
    start = lattice_start(length, tile, phase)
    assert 0 <= start - phase < tile and (start - phase) % 8 == 0
    blocks = (length - phase) // 8
    used = tile * (blocks // (tile // 8))
    assert start + used <= length
    mirrored_phase = (length - phase) % 8
    if (blocks % (tile // 8)) % 2 == 0:
        assert length - (start + used) == lattice_start(length, tile, mirrored_phase)


def test_a_mirrored_png_reads_alike(tmp_path: Path) -> None:
    """The same lossless pixels mirrored give the same image score (the spare blocks
    are even: 94 whole blocks across, two more than 23 tiles hold)."""
    spliced, _, _ = _splice_pair(523)
    rgb = _decode(spliced)[3:, 5:-8]
    scores = []
    for name, pixels in (("upright", rgb), ("mirrored", rgb[:, ::-1])):
        result = TamperAnalyzer().run(Media.open(_png(pixels, tmp_path / f"{name}.png")), Context())
        scores.append(result.metrics["image_score"])
    assert scores[0] == pytest.approx(scores[1], abs=0.02)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(0, 2**16),
    st.sampled_from([1, 2, 3, 4]),
    st.sampled_from([60, 85, 95]),
    st.sampled_from(["mirror", "flip", "transpose", "quarter", "half"]),
)
def test_form_2_reads_a_turned_or_mirrored_picture_alike(
    seed: int, step: int, quality: int, turn: str
) -> None:
    """Block form 2: every tile of the same pixels turned or mirrored has the same
    features, to float rounding (the table turns with the picture); form 1 does not."""
    from triage.forensics.blockfeatures import tile_block_offsets

    rows, cols = 3, 4
    rgb = _decode(_jpeg(scene(cols * TILE * step, rows * TILE * step, seed), quality))
    table = Image.open(io.BytesIO(_jpeg(rgb, quality))).quantization[0]
    transposed = [table[(i % 8) * 8 + i // 8] for i in range(64)]
    ops = {
        "mirror": (lambda a: a[:, ::-1], table),
        "flip": (lambda a: a[::-1], table),
        "transpose": (lambda a: a.transpose(1, 0, *range(2, a.ndim)), transposed),
        "quarter": (lambda a: np.rot90(a), transposed),
        "half": (lambda a: np.rot90(a, 2), table),
    }
    op, turned_table = ops[turn]
    upright = rgb_tile_features(rgb, table, step=step, form=2).values
    turned = rgb_tile_features(np.ascontiguousarray(op(rgb)), turned_table, step=step, form=2)
    assert np.allclose(op(upright), turned.values, atol=1e-4)
    # The blocks read in a tile are placed symmetrically about its middle.
    offsets = tile_block_offsets(step)
    assert list(offsets) == sorted(4 * step - 1 - offsets)
    if turn == "mirror":
        old = rgb_tile_features(np.ascontiguousarray(rgb[:, ::-1]), table, step=step).values
        assert not np.allclose(rgb_tile_features(rgb, table, step=step).values[:, ::-1], old)


def test_a_form_2_model_is_read_in_form_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The manifest's block_features picks the form the analyzer reads: a tiny model
    trained in form 2 is read in form 2 (its features as the training computed them)."""
    from triage.train import tamper as train
    from triage.train.edits import generate

    sources = []
    for i in range(4):
        p = tmp_path / f"src{i}.jpg"
        p.write_bytes(_jpeg(scene(512, 384, 700 + i, noise_sigma=2.0 + i % 3), 90))
        sources.append(p)
    samples = train.featurize(generate(sources, seed=2, edits_per_source=3), form=2)
    booster = train.fit(samples, seed=0, rounds=20)
    spliced, _, _ = _splice_pair(311)
    path = tmp_path / "spliced.jpg"
    path.write_bytes(spliced)
    manifest = {"block_features": 2, "version": "tiny", "held_out": {}}
    expected = train.predict_map(booster, train.jpeg_features(spliced, form=2).values)
    other = train.predict_map(booster, train.jpeg_features(spliced, form=1).values)
    assert not np.allclose(expected, other)
    import triage.analyzers.tamper as tamper_module

    monkeypatch.setattr(tamper_module, "load_model", lambda: ([booster], manifest, None))
    result = TamperAnalyzer().run(Media.open(path), Context())
    assert result.metrics["max_prob"] == pytest.approx(float(expected.max()), abs=1e-4)


def test_small_image_is_skipped_with_a_reason(tmp_path: Path) -> None:
    path = tmp_path / "small.jpg"
    path.write_bytes(_jpeg(scene(200, 150, 3), 90))
    result = TamperAnalyzer().run(Media.open(path), Context())
    assert result.skipped_reason and "too small" in result.skipped_reason


@pytest.mark.parametrize(
    ("row", "plain"),
    [
        (
            {
                "category": "camera",
                "path": "camera/a/jpg_Nikon_D70.jpg",
                "make": "NIKON",
                "model": "D70",
                "software": "Ver.1.00",
            },
            True,
        ),
        # an editor in Software (matched on editors.tsv's kind column, not its name)
        (
            {
                "category": "camera",
                "path": "camera/a/x.jpg",
                "make": "Canon",
                "model": "EOS 7D",
                "software": "Adobe Photoshop Lightroom",
            },
            False,
        ),
        (
            {
                "category": "camera",
                "path": "camera/a/x.jpg",
                "make": "Canon",
                "model": "EOS 5D",
                "software": "Digital Photo Professional",
            },
            False,
        ),
        # an editor in the file name, or no make/model (a library's test image)
        (
            {
                "category": "camera",
                "path": "camera/a/jpg_Photoshop_(1).jpg",
                "make": "Canon",
                "model": "EOS",
                "software": "",
            },
            False,
        ),
        (
            {
                "category": "camera",
                "path": "camera/a/jpg_Issue_1.jpg",
                "make": "",
                "model": "",
                "software": "",
            },
            False,
        ),
        (
            {"category": "generator", "path": "g/x.png", "make": "A", "model": "B", "software": ""},
            False,
        ),
    ],
)
def test_training_sources_leave_out_edited_and_unknown_photos(
    row: dict[str, str], plain: bool
) -> None:
    from triage.train.edits import is_plain_camera_photo

    assert is_plain_camera_photo(row) is plain


def test_an_ensemble_validates_and_writes_every_member(tmp_path: Path) -> None:
    """Training code for model 4.3: members fitted with their own seeds, validated as
    the mean of their maps and image scores, written with a manifest naming each."""
    from triage.train import tamper as train
    from triage.train.edits import generate

    sources = []
    for i in range(6):
        p = tmp_path / f"src{i}.jpg"
        p.write_bytes(_jpeg(scene(640, 480, 700 + i), 90))
        sources.append(p)
    samples = train.featurize(generate(sources, seed=2, edits_per_source=4))
    members = []
    for k in range(2):
        maps = train.out_of_fold_maps(samples, seed=k, folds=2, rounds=20)
        members.append(
            (train.fit(samples, seed=k, rounds=20), train.fit_image_model(samples, maps, k))
        )
    figures = train.validate(members, samples)
    assert figures["members"] == 2 and 0 <= figures["image_auc_all"] <= 1
    # the regions reports draw: only where the finding is given
    assert figures["finding_files"] <= figures["files"]
    assert figures["finding_files"] == 0 or 0 <= figures["finding_pixel_iou"] <= 1
    manifest = train.write_model(members, figures, {}, tmp_path / "out", 0, 1.0)
    names = {m["tile_model"] for m in manifest["members"]} | {
        m["image_model"] for m in manifest["members"]
    }
    assert names == {"tamper.txt", "tamper.m1.txt", "tamper.image.txt", "tamper.image.m1.txt"}
    assert all((tmp_path / "out" / n).is_file() for n in names)


def test_tile_weights_cap_what_one_image_s_edited_tiles_weigh() -> None:
    """With a cap, a large edit's tiles together weigh as much as the cap, a small
    edit's tiles 1 each, clean tiles always 1; without one (model 4.3), every tile 1."""
    from triage.train import tamper as train

    large = np.array([1] * 40 + [0] * 300, np.int8)
    w = train.tile_weights(large, 10.0)
    assert w[large == 1].sum() == pytest.approx(10.0)
    assert (w[large == 0] == 1).all()
    assert (train.tile_weights(np.array([1] * 4 + [0] * 10, np.int8), 10.0) == 1).all()
    assert train.POSITIVE_WEIGHT_CAP is None
    assert (train.tile_weights(large) == 1).all()


def test_manifest_names_a_listed_source_that_gives_no_file(tmp_path: Path) -> None:
    """A truncated camera JPEG among the sources gives no example; the manifest's data
    section names it instead of counting it as seen."""
    from triage.train import tamper as train
    from triage.train.edits import generate

    whole = _jpeg(scene(512, 384, 610), 90)
    sources = []
    for name, data in (("a", whole), ("b", _jpeg(scene(512, 384, 611), 90)), ("cut", whole[:-40])):
        sources.append(tmp_path / f"{name}.jpg")
        sources[-1].write_bytes(data)
    samples = train.featurize(generate(sources, seed=0, edits_per_source=1))
    info = train.data_info(tmp_path, sources[:2], sources[2:], samples, [], 1)
    assert {sm.source_id for sm in samples} == {"a", "b"}
    assert info["sources_without_files"] == ["cut"]


def test_fold_models_never_see_their_fold(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``python -m triage.train tamper --folds K --out DIR``: the training sources split
    into K folds by source, one model per fold trained without that fold's photos (not
    even as splice donors), written under DIR with the fold of every source."""

    from triage.train import tamper as train
    from triage.train.__main__ import main

    training = tmp_path / "training"
    photos = [
        (f"camera/gen{i}.jpg", _jpeg(scene(640, 480, 500 + i), 90), 640, 480) for i in range(6)
    ]
    write_training_folder(training, photos)
    paths = [training / rel for rel, *_ in photos]
    fast = train.fit
    monkeypatch.setattr(train, "fit", lambda s, seed=0, rounds=0, params=None: fast(s, seed, 15))
    monkeypatch.setattr(train, "MEMBERS", 1)
    seen: list[set[str]] = []
    sets = train.member_sets

    def member_sets(src: list[Path], *args: object, **kwargs: object) -> object:
        seen.append({p.stem for p in src})
        return sets(src, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(train, "member_sets", member_sets)
    with pytest.raises(SystemExit):  # never into the package's model folder
        main(["tamper", "--training", str(training), "--folds", "2"])
    out = tmp_path / "folds"
    args = ["--training", str(training), "--folds", "2", "--edits", "2", "--out", str(out)]
    assert main(["tamper", *args]) == 0
    fold_of = json.loads((out / train.FOLDS_FILE).read_text())["fold_of"]
    assert sorted(fold_of.values()) == sorted(
        [0, 1] * (len(fold_of) // 2) + [0] * (len(fold_of) % 2)
    )
    for k in (0, 1):
        manifest = json.loads((out / f"fold-{k}" / train.MANIFEST_FILE).read_text())
        left_out = {s for s, f in fold_of.items() if f == k}
        assert set(manifest["data"]["fold"]["left_out"]) == left_out
        assert seen[k] == set(fold_of) - left_out
        assert (out / f"fold-{k}" / "tamper.txt").is_file()
    assert train.source_folds(paths, 2) == train.source_folds(paths[::-1], 2)


def test_mixed_chains_are_deterministic_and_alike_for_both_classes(tmp_path: Path) -> None:
    # The mixed routes (small copies, PNG saves, edits on a web copy) are drawn the same
    # way for unedited and edited copies, and the same seed makes the same files.
    from triage.train.edits import MIXED_CHAINS, NEW_CHAINS, examples_of
    from triage.train.tamper import _chain_groups

    sources = []
    for i in range(3):
        p = tmp_path / f"src{i}.jpg"
        p.write_bytes(_jpeg(scene(1200, 900, 300 + i, noise_sigma=2.0), 92))
        sources.append(p)
    runs = [
        [ex for i in range(3) for ex in examples_of(sources, i, 5, 6, 6, False, MIXED_CHAINS)]
        for _ in range(2)
    ]
    assert [e.jpeg for e in runs[0]] == [e.jpeg for e in runs[1]]
    routes = {(e.kind == "none", _chain_groups(e.chain)[0]) for e in runs[0]}
    assert {g for _, g in routes} >= {"4.3's chains", "new: edited on a web copy"}
    for ex in runs[0]:
        with Image.open(io.BytesIO(ex.jpeg)) as im:
            assert ex.mask.shape == (im.height, im.width)
            assert (im.format == "PNG") == ex.chain.endswith("png")
            if ex.chain.startswith("small"):
                assert min(im.size) >= 256 and max(im.size) <= 1000
    new_only = [ex for i in range(3) for ex in examples_of(sources, i, 6, 4, 2, False, NEW_CHAINS)]
    assert all(_chain_groups(e.chain)[0].startswith("new: ") for e in new_only)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    height=st.integers(1, 400),
    width=st.integers(1, 400),
    content=st.sampled_from(["flat", "noise", "stripes", "clipped"]),
    table=st.one_of(st.none(), st.lists(st.integers(1, 255), min_size=64, max_size=64)),
    step=st.sampled_from([None, 1, 2]),
    seed=st.integers(0, 2**16),
)
def test_tile_features_are_finite_and_shaped_on_any_image(
    height: int, width: int, content: str, table: list[int] | None, step: int | None, seed: int
) -> None:
    """Whatever the size (smaller than a tile included), content (flat, clipped, pure
    noise) and quantization table, every tile feature is a finite number and the map has
    one row per whole tile: the trees never see a NaN a real file could provoke."""
    rng = np.random.default_rng(seed)
    if content == "flat":
        rgb = np.full((height, width, 3), rng.integers(0, 256), np.uint8)
    elif content == "noise":
        rgb = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    elif content == "stripes":
        rgb = np.zeros((height, width, 3), np.uint8)
        rgb[:, ::3] = 255
    else:
        rgb = np.where(rng.random((height, width, 1)) < 0.5, 0, 255).astype(np.uint8)
        rgb = np.repeat(rgb, 3, axis=2)
    tf = rgb_tile_features(rgb, table, step=step)
    tile = TILE * (step or stride_for(height, width))
    assert tf.tile == tile
    assert tf.values.shape == (height // tile, width // tile, len(FEATURE_NAMES))
    assert np.isfinite(tf.values).all()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    height=st.integers(256, 700),
    width=st.integers(256, 700),
    quality=st.integers(30, 100),
    seed=st.integers(0, 2**16),
    noise=st.sampled_from([0.0, 3.0, 40.0]),
)
def test_shipped_model_reads_any_photo_like_jpeg_within_bounds(
    height: int, width: int, quality: int, seed: int, noise: float
) -> None:
    """The shipped model on JPEGs of any size and quality: a probability for the image,
    finite metrics, and a region (when reported) inside the picture."""
    import tempfile

    rgb = scene(width, height, seed, noise_sigma=noise)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "photo.jpg"
        path.write_bytes(_jpeg(rgb, quality))
        result = TamperAnalyzer().run(Media.open(path), Context())
    if result.skipped_reason:  # a flat generated scene can read as a graphic
        return
    assert 0.0 <= result.metrics["image_score"] <= 1.0
    assert all(np.isfinite(v) for v in result.metrics.values() if isinstance(v, float | int))
    for finding in result.findings:
        assert 0.0 < finding.evidence["area_fraction"] <= 1.0
        for x0, y0, x1, y1 in finding.evidence["boxes"]:
            assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height
