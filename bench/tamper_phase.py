#!/usr/bin/env python3
"""Benchmark: a pasted donor's own 8x8 grid, read per tile (local non-aligned double
compression), as tile features beside the block features, against the same recipe
without them.

    python bench/tamper_phase.py [--jobs 2] [--rounds 1 11] [--seed 0] [--donor-share 0.5]

A splice whose donor was a JPEG pasted at its own size keeps the donor's block grid,
at the offset the paste put it (63 times in 64 not the host's), through a later save
at a high enough quality (Bianchi & Piva 2012 read it in the DCT domain: non-aligned
double quantization). Here it is read in the pixel domain, from the blocks the tamper
analyzer already samples: in every sampled 8x8 block, the mean absolute step across
each of its 7 inner column boundaries and 7 inner row boundaries; pooled per tile and
divided by the photo's own profile (the host's blocks are not flat inside either),
the tile's strongest boundary is where a foreign grid stands (:func:`phase_planes`).

The generator's splices always resize the donor (0.5-2x), which leaves no grid at
8 px; here ``--donor-share`` of the splices paste the donor at its own size, shifted
by a random offset (:func:`patched_splice`), in the training and the held-out files
alike, for both arms. Both ensembles are 4.3's recipe (three members, seeds
``--seed`` + 0..2, 4.3's chains; out-of-fold image models); held out: the 34
validation sources, generator seeds ``--rounds``. Printed as ``bench/tamper_cfa.py``
prints. Features cached in ``--cache``. Skips cleanly when ../shared/training is absent.
Results: docs/analyzers/tamper.md, "A donor's own grid".
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import tamper_cfa  # noqa: E402  (its training, reading and printing)

PHASE_FEATURE_NAMES = ("phase", "phase_ring", "phase_median")
DONOR_SHARE = 0.5


def phase_planes(blocks: np.ndarray, per_tile: int) -> np.ndarray:
    """Per tile, how strongly one inner block boundary stands out against the photo.

    Parameters
    ----------
    blocks : ndarray, shape (R, C, 8, 8)
        Luma of the sampled blocks (:func:`triage.forensics.blockfeatures._sampled_blocks`),
        R and C multiples of ``per_tile``.
    per_tile : int
        Blocks per tile side.

    Returns
    -------
    ndarray, shape (R / per_tile, C / per_tile, 3), float32
        The tile's log peak ratio (columns plus rows), that of its 3x3 neighbourhood,
        both minus the photo's median, and the median. The log peak ratio of a
        profile: the largest of its 7 boundary means divided by the photo's mean at
        the same boundary, over the mean of those ratios.

    References
    ----------
    .. [1] T. Bianchi and A. Piva, "Detection of nonaligned double JPEG compression
       based on integer periodicity maps", IEEE TIFS 7(2), 2012.
    .. [2] W. Li, Y. Yuan and N. Yu, "Passive detection of doctored JPEG image via
       block artifact grid extraction", Signal Processing 89(9), 2009.
    """
    b = blocks.astype(np.float32)
    rows, cols = b.shape[0] // per_tile, b.shape[1] // per_tile
    across = np.abs(np.diff(b, axis=3)).mean(axis=2)  # (R, C, 7): column boundaries
    down = np.abs(np.diff(b, axis=2)).mean(axis=3)  # (R, C, 7): row boundaries

    def tiles(profile: np.ndarray) -> np.ndarray:
        return profile.reshape(rows, per_tile, cols, per_tile, 7).sum(axis=(1, 3))

    def ring(t: np.ndarray) -> np.ndarray:
        p = np.pad(t, ((1, 1), (1, 1), (0, 0)), mode="edge")
        return sum(p[i : i + rows, j : j + cols] for i in range(3) for j in range(3))

    def peak(t: np.ndarray, photo: np.ndarray) -> np.ndarray:
        rel = t / np.maximum(photo, 1e-6)
        return np.log(rel.max(axis=-1) / np.maximum(rel.mean(axis=-1), 1e-6) + 1e-6)

    out = []
    for reading in (lambda t: t, ring):
        value = np.zeros((rows, cols), np.float32)
        for profile in (across, down):
            t = reading(tiles(profile)) + 1e-3
            value += peak(t, t.sum(axis=(0, 1)))
        out.append(value)
    median = float(np.median(out[0]))
    planes = [out[0] - median, out[1] - float(np.median(out[1])), np.full_like(out[0], median)]
    return np.stack(planes, axis=-1).astype(np.float32)


def patched_splice(share: float) -> Any:
    """``triage.train.edits._splice``, except that ``share`` of the splices paste the
    donor at its own size (after its JPEG), shifted by a random offset of 0-7 px down
    and across (not both 0), so its grid is not the host's."""
    import cv2

    from triage.train import edits

    def splice(rgb: np.ndarray, donor_path: Path, rng: np.random.Generator) -> Any:
        if rng.random() >= share:
            return original(rgb, donor_path, rng)
        h, w = rgb.shape[:2]
        donor = edits.decode(donor_path, rng)
        if donor is None:
            return rgb, np.zeros((h, w), bool)
        donor = edits._jpeg_roundtrip(donor, int(rng.integers(50, 96)))
        dy, dx = divmod(int(rng.integers(1, 64)), 8)
        donor = np.pad(donor, ((dy, 0), (dx, 0), (0, 0)), mode="edge")
        reps = (int(np.ceil(h / donor.shape[0])), int(np.ceil(w / donor.shape[1])), 1)
        donor = np.tile(donor, reps)[:h, :w]
        mask = edits.random_mask(h, w, rng)
        if rng.random() < 0.3:
            ys, xs = np.nonzero(mask)
            try:
                m8 = (mask * 255).astype(np.uint8)
                center = (int(xs.mean()), int(ys.mean()))
                return cv2.seamlessClone(donor, rgb, m8, center, cv2.NORMAL_CLONE), mask
            except cv2.error:
                pass
        return edits._blend(rgb, donor, mask, rng), mask

    original = edits._splice
    return splice


def features_with_phase(data: bytes) -> tuple[np.ndarray, int]:
    """The analyzer's tile features of a served file, then the phase features of the
    same sampled blocks; and the tile side in pixels."""
    import cv2
    from PIL import Image

    from triage.forensics import blockfeatures as bf

    with Image.open(io.BytesIO(data)) as im:
        tables = getattr(im, "quantization", None) or {}
        rgb = np.asarray(im.convert("RGB"))
    tf = bf.rgb_tile_features(rgb, tables.get(0))
    rows, cols = tf.shape
    n = len(PHASE_FEATURE_NAMES)
    if rows == 0 or cols == 0:
        return np.zeros((rows, cols, tf.values.shape[-1] + n), np.float32), tf.tile
    luma = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
    blocks = bf._sampled_blocks(luma, rows, cols, tf.step)
    return np.concatenate([tf.values, phase_planes(blocks, bf.BLOCKS)], axis=-1), tf.tile


def _featurize_source(args: tuple[list[Path], int, int, int, int, bool]) -> list[Any]:
    from triage.train import edits
    from triage.train.edits import PLATFORM_CHAINS, examples_of

    if not getattr(edits._splice, "patched", False):
        edits._splice = patched_splice(DONOR_SHARE)
        edits._splice.patched = True  # type: ignore[attr-defined]
    sources, i, seed, n_edits, unedited, original = args
    examples = examples_of(sources, i, seed, n_edits, unedited, original, PLATFORM_CHAINS)
    return tamper_cfa.samples_of(examples, features_with_phase)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--rounds", type=int, nargs="+", default=[1, 11])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/triage-tamper-phase"))
    args = parser.parse_args(argv)
    if not tamper_cfa.TRAINING.is_dir():
        print(f"skipped: {tamper_cfa.TRAINING} not found")
        return 0
    from triage.train import tamper as train

    sets, val = tamper_cfa.experiment_data(
        args.seed, args.rounds, args.jobs, args.cache, worker=_featurize_source
    )
    n_block = len(train.FEATURE_NAMES)
    print(f"{sum(map(len, sets))} training files, {len(val)} held-out files", flush=True)
    readings = tamper_cfa.read_arms(
        sets,
        val,
        args.seed,
        {"control": n_block, "phase": n_block + len(PHASE_FEATURE_NAMES)},
        PHASE_FEATURE_NAMES,
    )
    tamper_cfa.print_comparison(readings, val)
    return 0


if __name__ == "__main__":
    sys.exit(main())
