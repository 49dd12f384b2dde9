"""The served files of the tamper benches' generated sets, reduced to what the small
CNN needs (``bench/tamper_cnn.py``): per file its kind, chain, source, the trees'
tile grid and edited share per tile, the patches the CNN map reads and (training
sets) the labelled training patches. Made from the generator seeds as
``bench/tamper_cfa.py``'s feature caches were, in the same order, so file ``i`` of a
set is sample ``i`` of those caches (checked by the caller on the tile grids)."""

from __future__ import annotations

import pickle
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

POS_CAP = 50  # training patches holding a positive cell, per file
NEG_CAP = 100  # all-negative training patches, per file


def make_set(
    sources: list[Path], seed: int, unedited: int, training: bool, cache: Path, name: str
) -> dict[str, Any]:
    """The files ``edits.examples_of(sources, i, seed, 4, unedited, True, PLATFORM_CHAINS)``
    for every source ``i``, cached in ``cache/name.pkl`` (reading patches in
    ``name-read.npy``, training patches in ``name-train.npz``)."""
    meta_path = cache / f"{name}.pkl"
    if meta_path.is_file():
        meta: dict[str, Any] = pickle.loads(meta_path.read_bytes())
        meta["read"] = np.load(cache / f"{name}-read.npy", mmap_mode="r")
        if training:
            with np.load(cache / f"{name}-train.npz") as z:
                meta.update({k: z[k] for k in z.files})
        return meta
    from tamper_cnn_net import luma_of, reading_patches, training_patches

    from triage.train import tamper as train
    from triage.train.edits import PLATFORM_CHAINS, examples_of

    t0 = time.time()
    rng = np.random.default_rng([seed, 7])
    meta = {"kind": [], "chain": [], "source": [], "layout": [], "share": [], "start": [0]}
    reads, tp, tl, tf = [], [], [], []
    for i in range(len(sources)):
        for ex in examples_of(sources, i, seed, 4, unedited, True, PLATFORM_CHAINS):
            luma = luma_of(ex.jpeg)
            layout, patches = reading_patches(luma)
            step, rows, cols = layout
            share, _ = train.mask_shares(ex.mask, rows, cols, 32 * step)
            meta["kind"].append(ex.kind)
            meta["chain"].append(ex.chain)
            meta["source"].append(ex.source_id)
            meta["layout"].append(layout)
            meta["share"].append(share)
            meta["start"].append(meta["start"][-1] + len(patches))
            reads.append(patches)
            if training:
                p, lab = training_patches(luma, ex.mask, rng, POS_CAP, NEG_CAP)
                tp.append(p)
                tl.append(lab)
                tf.append(np.full(len(p), len(meta["kind"]) - 1, np.int32))
        if i % 10 == 9:
            print(
                f"  {name}: {i + 1}/{len(sources)} sources, {time.time() - t0:.0f} s",
                file=sys.stderr,
                flush=True,
            )
    np.save(cache / f"{name}-read.npy", np.concatenate(reads))
    if training:
        np.savez(
            cache / f"{name}-train.npz",
            patches=np.concatenate(tp),
            labels=np.concatenate(tl),
            owner=np.concatenate(tf),
        )
    meta_path.write_bytes(pickle.dumps(meta))
    return make_set(sources, seed, unedited, training, cache, name)
