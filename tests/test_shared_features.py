"""Speed work must not change what a report says: the shared per-file features
(``Media.luma``, ``Media.block_dct``, reduced copies) give the same report whichever
analyzer computes them first, alone or side by side in threads.

The fixture test runs in the main suite; the corpus test (real camera JPEGs) runs
when ../shared/corpus is present.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from triage.pipeline import Options, analyze_path

PIXEL_ANALYZERS = ("compression", "noise", "copymove", "resampling", "watermark")
VOLATILE = {"seconds", "timings_ms", "analyzed_at"}


def _stable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _stable(v) for k, v in obj.items() if k not in VOLATILE}
    if isinstance(obj, list):
        return [_stable(v) for v in obj]
    return obj


def _report(path: Path, **kw: Any) -> dict[str, Any]:
    out: dict[str, Any] = _stable(analyze_path(str(path), Options(**kw)).model_dump(mode="json"))
    return out


def _runs(report: dict[str, Any]) -> dict[str, Any]:
    return {a["name"]: a for a in report["analyzers"]}


def _check_same(path: Path) -> None:
    serial = _report(path, threads=1)
    threaded = _report(path, threads=4)
    assert threaded == serial, path.name
    runs = _runs(serial)
    for name in PIXEL_ANALYZERS:
        alone = _runs(_report(path, threads=1, only=[name]))[name]
        assert alone == runs[name], f"{path.name}: {name} differs when run alone"


@pytest.mark.parametrize(
    "name",
    [
        "compression/paste_q55_into_q90.jpg",
        "compression/png_from_jpeg_q80.png",
        "pixels/copymove.jpg",
        "pixels/resampled.png",
        "watermark/sd1_marked.png",
    ],
)
def test_reports_do_not_depend_on_analyzer_order_or_threads(fixtures_dir: Path, name: str) -> None:
    _check_same(fixtures_dir / name)


@pytest.mark.corpus
def test_camera_reports_do_not_depend_on_analyzer_order_or_threads(corpus_dir: Path) -> None:
    from PIL import Image

    sized = []
    for p in sorted((corpus_dir / "camera").rglob("*.jp*g")):
        with Image.open(p) as im:
            sized.append((im.size[0] * im.size[1], p))
    sized.sort()
    picks = {sized[int(q * (len(sized) - 1))][1] for q in (0.0, 0.5, 0.8, 1.0)} if sized else set()
    for path in sorted(picks):
        _check_same(path)


def _knn_reference(desc: Any, k: int) -> tuple[Any, Any]:
    """The previous matcher: one argpartition over each full row of distances."""
    import numpy as np

    d = desc.astype(np.float64)
    d2 = ((d[:, None, :] - d[None, :, :]) ** 2).sum(axis=2).astype(np.float32)
    part = np.argpartition(d2, k - 1, axis=1)[:, :k]
    pd = np.take_along_axis(d2, part, axis=1)
    order = np.lexsort((part, pd), axis=1)
    return np.take_along_axis(part, order, axis=1), np.sqrt(np.take_along_axis(pd, order, axis=1))


@pytest.mark.parametrize("levels", [3, 40])
def test_knn_matches_the_full_partition_including_ties(levels: int) -> None:
    import numpy as np

    from triage.forensics.copymove import knn_l2

    rng = np.random.default_rng(levels)
    desc = rng.integers(0, levels, (300, 16)).astype(np.float32)  # few levels: many ties
    desc[10] = desc[20]
    idx, dist = knn_l2(desc, 6, block=128)
    ref_idx, ref_dist = _knn_reference(desc, 6)
    assert np.array_equal(idx, ref_idx)
    assert np.allclose(dist, ref_dist)


@pytest.mark.parametrize("levels", [2, 5, 1000])
def test_k_smallest_on_wide_rows_is_the_partitions_set(levels: int) -> None:
    """Rows wide enough for the grouped candidate bound: the same k columns as
    ``argpartition`` (ties at the k-th value included: those rows use it)."""
    import numpy as np

    from triage.forensics.copymove import _k_smallest

    rng = np.random.default_rng(levels)
    d2 = rng.integers(0, levels, (300, 1500)).astype(np.float32)
    d2[7, :] = 3.0  # a row that is all ties
    for k in (2, 6):
        got = np.sort(_k_smallest(d2, k), axis=1)
        ref = np.sort(np.argpartition(d2, k - 1, axis=1)[:, :k], axis=1)
        assert np.array_equal(got, ref)


def test_knn_on_many_descriptors_matches_the_full_partition() -> None:
    import numpy as np

    from triage.forensics.copymove import knn_l2

    rng = np.random.default_rng(3)
    desc = rng.integers(0, 4, (1000, 8)).astype(np.float32)  # many ties
    desc[100:110] = desc[5]
    idx, dist = knn_l2(desc, 6, block=256)
    ref_idx, ref_dist = _knn_reference(desc, 6)
    assert np.array_equal(idx, ref_idx)
    assert np.allclose(dist, ref_dist)


_DCT_DIGEST = """
import hashlib, sys
import numpy as np
from triage.forensics.blockfeatures import zigzag_dct
rng = np.random.default_rng(7)
blocks = rng.integers(0, 256, (60000, 64)).astype(np.float32)
sys.stdout.write(hashlib.sha256(zigzag_dct(blocks).tobytes()).hexdigest())
"""


def test_tile_dct_does_not_depend_on_blas_threads() -> None:
    """The tamper tiles' DCT (cv2.gemm, OpenCV's OpenBLAS) is bit-identical whatever
    thread count OpenBLAS is started with, so a report does not depend on the core
    count of the machine that made it."""
    import os
    import subprocess
    import sys

    digests = set()
    for threads in ("1", "2", "4"):
        env = {**os.environ, "OPENBLAS_NUM_THREADS": threads}
        out = subprocess.run(
            [sys.executable, "-c", _DCT_DIGEST], env=env, capture_output=True, text=True
        )
        assert out.returncode == 0, out.stderr[-500:]
        digests.add(out.stdout)
    assert len(digests) == 1


def test_compression_transform_holds_opencv_blas_to_one_thread() -> None:
    """The compression analyzer's block transform puts OpenCV's OpenBLAS on one
    thread, as the tamper tiles' does: the grid-phase scan's many small products
    spent most of their time waking a second thread (264 -> 36 ms on a 12 MP photo),
    and one thread keeps every report's sums in one order."""
    import numpy as np

    from triage import blas
    from triage.forensics.dct import block_dct

    pools = blas._opencv_blas_pools()
    if not pools:
        pytest.skip("OpenCV's bundled OpenBLAS is not visible to threadpoolctl here")
    for pool in pools:
        pool.set_num_threads(2)
    rng = np.random.default_rng(4)
    block_dct(rng.uniform(0, 255, (64, 64)).astype(np.float32), terms=6)
    assert all(pool.num_threads == 1 for pool in pools)
