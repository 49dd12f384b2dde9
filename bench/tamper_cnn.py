#!/usr/bin/env python3
"""Benchmark: the small CNN of the tamper card stacked with model 4.3's trees, over CNN
seeds.

    python bench/tamper_cnn.py [--seeds 0 1] [--members 0 1 2] [--cache DIR] [--cost-only]

The CNN (``bench/tamper_cnn_net.py``; the card's "A small CNN beside the trees": luma
of the served file, 64-px patches on the 32-px grid, SRM + Bayar filters, one logit per
32-px cell) is trained on the pooled training files of 4.3's three members (seeds 0-2,
the 84 training sources, 4.3's chains; never a validation source): two folds by source
give out-of-fold CNN maps of every training file, a fit on all 84 sources the maps of
the held-out files (the 34 validation sources, seeds 1 and 11: 544 files, as
``bench/tamper_cfa.py``). Its map is read on the trees' tile grid.

Stacked, per member: 4.3's image model (4 leaves, 100 rounds) refitted over the 16
``MAP_STATISTICS`` of the member's out-of-fold tree map (the cache of
``bench/tamper_map_content.py``) plus the 16 of the CNN's out-of-fold map; the control,
the 16 trees' statistics alone, must give back the shipped image scores (printed). The
region: a stacked tile map, a logistic model per tile over the trees' logit, the CNN
logit, the CNN logit minus the photo's median and its 3x3 mean minus the median, fitted
on the out-of-fold tiles; the pixel IoU of its refined peak region (fraction 0.4,
``tamper_regions.per_file``) against the shipped ensemble map's; then each region
reading (also each member's map stacked and averaged) at every fraction 0.1-0.9, at its
best on the first half, and the held-out tile AUC of each map. Printed per seed and
for the mean of the seeds' stacked scores: image AUC (all, per kind, per chain group),
pixel IoU, unedited flagged at a threshold chosen on the first half; on all 34 sources
and on the reporting half (``train._half``), each with a 5-95% bootstrap over sources of
stacked minus shipped. ``--members 0`` reads member 0 alone (model 4.2, the prototype's
baseline) in place of the ensemble, the CNN unchanged. Last, the CNN map's cost on a 12 MP JPEG in onnxruntime on one
thread, in decodes of the same file.

torch is not a project dependency: the bench skips without it (and without
../shared/training). One thread (``torch.set_num_threads(1)``, ``OMP_NUM_THREADS=1``);
every expensive step (files, patches, CNN weights, maps) is cached in ``--cache``.
Results: docs/analyzers/tamper.md, "A small CNN beside the trees, over seeds".
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
TRAINING = ROOT.parent / "shared" / "training"
MODELS = ROOT / "triage" / "data" / "models"
CFA_CACHE = Path("/tmp/triage-tamper-cfa")
FRACTION = 0.4
FRACTIONS = tuple(round(0.1 * k, 1) for k in range(1, 10))  # region fractions read
BOOTSTRAP = 1000
CNN_FOLDS = 2
FOLD_RECIPE = (4, 15_000)  # epochs, patches per class and epoch (card: 4 x 30,000)
FINAL_RECIPE = (6, 20_000)  # card: 6 epochs of 20,000 + 20,000


def pooled_patches(sets: list[dict[str, Any]]) -> tuple[np.ndarray, ...]:
    """The training patches of every set, their labels, whether they hold a positive
    cell, and the CNN fold of their source."""
    from triage.train.tamper import _fold

    patches = np.concatenate([s["patches"] for s in sets])
    labels = np.concatenate([s["labels"] for s in sets])
    fold = np.concatenate(
        [np.array([_fold(s["source"][i], CNN_FOLDS) for i in s["owner"]], np.int8) for s in sets]
    )
    positive = (labels == 1).any(axis=(1, 2))
    return patches, labels, positive, fold


def read_maps(read: Any, data: dict[str, Any], files: list[int]) -> dict[int, np.ndarray]:
    """The CNN's logit map on the trees' tile grid of ``files`` of a set (``read``:
    patches to cell logits, ``tamper_cnn_net.onnx_reader``)."""
    from tamper_cnn_net import tile_map

    out = {}
    for i in files:
        patches = np.asarray(data["read"][data["start"][i] : data["start"][i + 1]])
        out[i] = tile_map(data["layout"][i], read(patches))
    return out


def cnn_maps(
    seed: int, sets: list[dict[str, Any]], vals: list[dict[str, Any]], cache: Path
) -> dict[str, Any]:
    """Out-of-fold CNN logit maps of every training file (``train``: one list per set)
    and the all-source CNN's maps of the held-out files (``val``), CNN seed ``seed``."""
    import torch
    from tamper_cnn_net import export_onnx, make_net, onnx_reader, train_net

    from triage.train.tamper import _fold

    path = cache / f"maps-s{seed}.pkl"
    if path.is_file():
        cached: dict[str, Any] = pickle.loads(path.read_bytes())
        return cached
    patches, labels, positive, fold = pooled_patches(sets)
    print(
        f"seed {seed}: {len(patches)} training patches, {int(positive.sum())} holding a "
        "positive cell",
        file=sys.stderr,
        flush=True,
    )

    def fitted(tag: str, keep: np.ndarray, recipe: tuple[int, int]) -> Any:
        """The fitted network's reader (weights and ONNX cached)."""
        weights = cache / f"cnn-s{seed}-{tag}.pt"
        if not weights.is_file():
            t = time.time()
            net = train_net(patches[keep], labels[keep], positive[keep], seed, *recipe, sys.stderr)
            torch.save(net.state_dict(), weights)
            print(f"  {weights.name}: {time.time() - t:.0f} s", file=sys.stderr, flush=True)
        net = make_net(seed)
        net.load_state_dict(torch.load(weights))
        export_onnx(net.eval(), str(weights.with_suffix(".onnx")))
        return onnx_reader(str(weights.with_suffix(".onnx")))

    train_maps: list[list[np.ndarray]] = [[np.zeros(0)] * len(s["kind"]) for s in sets]
    for k in range(CNN_FOLDS):
        read = fitted(f"fold{k}", fold != k, FOLD_RECIPE)
        t = time.time()
        for s, out in zip(sets, train_maps, strict=True):
            mine = [i for i, src in enumerate(s["source"]) if _fold(src, CNN_FOLDS) == k]
            for i, m in read_maps(read, s, mine).items():
                out[i] = m
        print(f"  fold {k} maps: {time.time() - t:.0f} s", file=sys.stderr, flush=True)
    read = fitted("all", np.ones(len(patches), bool), FINAL_RECIPE)
    t = time.time()
    val_maps = [list(read_maps(read, v, list(range(len(v["kind"])))).values()) for v in vals]
    print(f"  held-out maps: {time.time() - t:.0f} s", file=sys.stderr, flush=True)
    result = {"train": train_maps, "val": val_maps}
    path.write_bytes(pickle.dumps(result))
    return result


def region_inputs(tree: np.ndarray, cnn_logit: np.ndarray) -> np.ndarray:
    """Per tile (n, 4): the trees' logit, the CNN's logit, the CNN's logit minus the
    photo's median and its 3x3 mean minus the median (the card's stacked tile map)."""
    import cv2

    p = np.clip(tree.astype(np.float64), 1e-4, 1 - 1e-4)
    med = float(np.median(cnn_logit))
    c = cnn_logit.astype(np.float32)
    m3 = cv2.blur(c, (3, 3), borderType=cv2.BORDER_REFLECT) if min(c.shape) >= 3 else c
    return np.stack([np.log(p / (1 - p)), c, c - med, m3 - med], axis=-1).reshape(-1, 4)


def fit_logistic(x: np.ndarray, y: np.ndarray, ridge: float = 1e-3) -> np.ndarray:
    """Logistic regression (Newton's method, a small ridge), classes weighted alike;
    the coefficients with the intercept last."""
    a = np.hstack([x, np.ones((len(x), 1))])
    w = np.where(y > 0, 0.5 / max(1, int(y.sum())), 0.5 / max(1, int((y == 0).sum())))
    beta = np.zeros(a.shape[1])
    for _ in range(30):
        p = 1 / (1 + np.exp(-(a @ beta)))
        grad = a.T @ (w * (p - y)) + ridge * beta
        hess = (a * (w * p * (1 - p))[:, None]).T @ a + ridge * np.eye(a.shape[1])
        delta = np.linalg.solve(hess, grad)
        beta -= delta
        if np.abs(delta).max() < 1e-8:
            break
    return beta


def stacked_tile_map(beta: np.ndarray, tree: np.ndarray, cnn_logit: np.ndarray) -> np.ndarray:
    z = region_inputs(tree, cnn_logit) @ beta[:-1] + beta[-1]
    return (1 / (1 + np.exp(-z))).reshape(tree.shape).astype(np.float32)


def image_model(x: np.ndarray, y: np.ndarray, seed: int) -> Any:
    """4.3's image model (``train.IMAGE_PARAMS``, one thread) on statistics ``x``."""
    import lightgbm as lgb

    from triage.train import tamper as tr

    data = lgb.Dataset(x, y, free_raw_data=True)
    params = {**tr.IMAGE_PARAMS, "num_threads": 1, "seed": seed}
    return lgb.train(params, data, num_boost_round=tr.IMAGE_ROUNDS)


def held_out(cache: Path) -> dict[str, Any]:
    """The 544 held-out samples' kind, chain, source, tile share and 8-px cell shares,
    and the shipped members' tile maps (from ``bench/tamper_cfa.py``'s feature cache)."""
    path = cache / "val-trees.pkl"
    if path.is_file():
        value: dict[str, Any] = pickle.loads(path.read_bytes())
        return value
    import lightgbm as lgb
    from tamper_cfa import featurize

    from triage.train import tamper as tr
    from triage.train.edits import list_sources, split_sources

    manifest = json.loads((MODELS / tr.MANIFEST_FILE).read_text("utf-8"))
    tiles = [lgb.Booster(model_file=str(MODELS / m["tile_model"])) for m in manifest["members"]]
    _, val_src = split_sources(list_sources(TRAINING))
    out: dict[str, Any] = {"samples": [], "maps": []}
    for r in (1, 11):
        for sm in featurize(val_src, r, 4, tr.VALIDATION_UNEDITED, 1, CFA_CACHE, f"val-{r}"):
            out["maps"].append([tr.predict_map(b, sm.feats) for b in tiles])
            out["samples"].append(
                tr.Sample(np.zeros((0, 0, 0)), sm.share, sm.kind, sm.chain, sm.source_id, sm.cells)
            )
    path.write_bytes(pickle.dumps(out))
    return out


def trees_out_of_fold(cache: Path) -> list[list[tuple[np.ndarray, bool]]]:
    """Per member, the out-of-fold tree map of each training file and whether it is
    edited (``bench/tamper_map_content.py``'s cache, without the features)."""
    path = cache / "oof-trees.pkl"
    if not path.is_file():
        if not (CFA_CACHE / "oof-maps.pkl").is_file():
            sys.exit(
                f"{CFA_CACHE / 'oof-maps.pkl'} not found: run bench/tamper_map_content.py first"
            )
        with (CFA_CACHE / "oof-maps.pkl").open("rb") as fh:
            oof = pickle.load(fh)
        path.write_bytes(pickle.dumps([[(m, bool(e)) for m, _, e in member] for member in oof]))
    value: list[list[tuple[np.ndarray, bool]]] = pickle.loads(path.read_bytes())
    return value


def report(
    readings: dict[str, dict[str, np.ndarray]],
    alone: dict[int, dict[str, np.ndarray]],
    ho: dict[str, Any],
    groups: tuple[str, ...],
    figures: Any,
) -> None:
    """The tables: every reading against the shipped one (``tamper_regions.compare_table``:
    5-95% bootstrap over sources) on the reporting half and on all 34 sources; then
    the CNN alone per seed."""
    from tamper_regions import auc, compare_table

    from triage.train import tamper as tr

    samples = ho["samples"]
    val: dict[str, Any] = {"kind": [sm.kind for sm in samples]}
    val["chain"] = [sm.chain for sm in samples]
    val["groups"] = groups
    sources = np.array([sm.source_id for sm in samples])
    first = np.array([tr._half(s) == 0 for s in sources])
    edited = np.array([k != "none" for k in val["kind"]])
    thresholds = {
        m: float(np.quantile(r["score"][first & ~edited], 0.95)) for m, r in readings.items()
    }
    print(
        "thresholds (5% of the first half's unedited files): "
        + ", ".join(f"{m} {t:.3f}" for m, t in thresholds.items())
    )

    def measure(m: str, idx: np.ndarray) -> dict[str, float]:
        res: dict[str, float] = figures(val, readings[m]["score"], thresholds[m], idx)
        res["pixel IoU (edited)"] = float(np.nanmean(readings[m]["pixel"][idx]))
        return res

    every = np.arange(len(samples))
    for label, idx in (("reporting half", every[~first]), ("all 34 sources", every)):
        compare_table(label, idx, sources[idx], list(readings), measure, "stacked", BOOTSTRAP)
        for seed, r in alone.items():
            print(
                f"  CNN alone, seed {seed}: image AUC (highest 3x3 mean) "
                f"{auc(r['cnn_score'][idx][edited[idx]], r['cnn_score'][idx][~edited[idx]]):.3f}, "
                f"pixel IoU {np.nanmean(r['pixel']['CNN alone'][idx]):.3f}"
            )


def check_alignment(
    name: str, data: dict[str, Any], maps: list[np.ndarray], edited: list[bool]
) -> None:
    """File i of a regenerated set must be sample i of the tree caches."""
    assert len(data["kind"]) == len(maps), (name, len(data["kind"]), len(maps))
    for i, (m, e) in enumerate(zip(maps, edited, strict=True)):
        assert data["layout"][i][1:] == m.shape and (data["kind"][i] != "none") == e, (name, i)


def stacked_reading(
    seed: int,
    cm: dict[str, Any],
    sets: list[dict[str, Any]],
    tree_oof: list[list[np.ndarray]],
    ho: dict[str, Any],
    members: list[int],
) -> dict[str, Any]:
    """Image scores and pixel IoU of the trees (``members`` of the shipped model)
    stacked with CNN seed ``seed``'s maps, and of the CNN alone (its highest 3x3 mean;
    its own map's region)."""
    from tamper_cnn_net import sigmoid
    from tamper_regions import auc, per_file

    from triage.forensics.tampermap import ensemble_map, map_statistics

    cnn_val = [m for part in cm["val"] for m in part]
    cnn_val_stats = np.array([map_statistics(sigmoid(m)) for m in cnn_val])
    rng = np.random.default_rng(seed)
    score = np.zeros(len(cnn_val))
    xs, ys = [], []
    for k in members:
        data, trees = sets[k], tree_oof[k]
        x = np.array(
            [
                np.concatenate([map_statistics(t), map_statistics(sigmoid(c))])
                for t, c in zip(trees, cm["train"][k], strict=True)
            ]
        )
        y = np.array([kind != "none" for kind in data["kind"]], np.float64)
        model = image_model(x, y, k)
        val_x = np.hstack([np.array([map_statistics(m[k]) for m in ho["maps"]]), cnn_val_stats])
        score += model.predict(val_x) / len(members)
        for t, c, share in zip(trees, cm["train"][k], data["share"], strict=True):
            s = share.ravel()
            pos, neg = np.nonzero(s >= 0.5)[0], np.nonzero(s == 0)[0]
            if len(neg) > 300:
                neg = rng.choice(neg, 300, replace=False)
            idx = np.concatenate([pos, neg])
            xs.append(region_inputs(t, c)[idx])
            ys.append((s[idx] >= 0.5).astype(np.float64))
    beta = fit_logistic(np.concatenate(xs), np.concatenate(ys))
    print(f"seed {seed}: region logistic {np.round(beta, 3).tolist()}", flush=True)
    pixel: dict[str, list[float]] = defaultdict(list)
    tiles: dict[str, list[np.ndarray]] = defaultdict(list)
    for all_maps, c, sm in zip(ho["maps"], cnn_val, ho["samples"], strict=True):
        maps = [all_maps[k] for k in members]
        trees = ensemble_map(maps)
        stacked = stacked_tile_map(beta, trees, c)
        # The analyzer's way for an ensemble: each member's map stacked, then their mean.
        by_member = ensemble_map([stacked_tile_map(beta, m, c) for m in maps])
        share = sm.share.ravel()
        known = (share >= 0.5) | (share == 0)
        tiles["label"].append(share[known] >= 0.5)
        for name, m in (("trees", trees), ("CNN", c), ("stacked", stacked), ("members", by_member)):
            tiles[name].append(m.ravel()[known])
        if sm.kind == "none":
            continue
        for name, m in (("stacked", stacked), ("members", by_member), ("CNN alone", sigmoid(c))):
            for f in FRACTIONS:
                pixel[f"{name} {f}"].append(per_file(m, sm, f)["refined_pixel"])
            pixel[name] = pixel[f"{name} {FRACTION}"]
    label = np.concatenate(tiles.pop("label"))
    edited = np.array([sm.kind != "none" for sm in ho["samples"]])

    def on_all(values: list[float]) -> np.ndarray:
        out = np.full(len(edited), np.nan)
        out[edited] = values
        return out

    return {
        "score": score,
        "cnn_score": cnn_val_stats[:, 0],
        "pixel": {k: on_all(v) for k, v in pixel.items()},
        "tile_auc": {
            k: auc(np.concatenate(v)[label], np.concatenate(v)[~label]) for k, v in tiles.items()
        },
    }


def shipped_pixel(ho: dict[str, Any], members: list[int]) -> dict[float, np.ndarray]:
    """Pixel IoU of the refined peak region of the shipped ``members``' ensemble map at
    each of :data:`FRACTIONS` (NaN on unedited files)."""
    from tamper_regions import per_file

    from triage.forensics.tampermap import ensemble_map

    return {
        f: np.array(
            [
                per_file(ensemble_map([m[k] for k in members]), sm, f)["refined_pixel"]
                if sm.kind != "none"
                else np.nan
                for m, sm in zip(ho["maps"], ho["samples"], strict=True)
            ]
        )
        for f in FRACTIONS
    }


def region_report(
    shipped: dict[float, np.ndarray], alone: dict[int, dict[str, Any]], ho: dict[str, Any]
) -> None:
    """Per seed: held-out tile AUC of each map, and the pixel IoU of each stacked
    region reading against the shipped region (5-95% bootstrap over sources): both at
    the shipped fraction, and each at its best fraction on the first half."""
    from tamper_regions import bootstrap

    from triage.train import tamper as tr

    sources = np.array([sm.source_id for sm in ho["samples"]])
    half = np.array([tr._half(s) for s in sources])
    edited = np.isfinite(shipped[FRACTION])
    first = (half == 0) & edited

    def best(values: dict[float, np.ndarray]) -> float:
        return max(FRACTIONS, key=lambda f: float(np.mean(values[f][first])))

    fs = best(shipped)
    print(
        "\nregions: pixel IoU of the refined peak region (edited files) minus the shipped "
        f"map's (5-95%); shipped at {FRACTION} and at its first-half best {fs}"
    )
    for seed, r in alone.items():
        tile = ", ".join(f"{k} {v:.3f}" for k, v in r["tile_auc"].items())
        print(f"seed {seed}: held-out tile AUC {tile}")
        for name in ("stacked", "members", "CNN alone"):
            values = {f: r["pixel"][f"{name} {f}"] for f in FRACTIONS}
            pairs = [(FRACTION, shipped[FRACTION]), (best(values), shipped[fs])]
            for f, base in pairs[: 1 if pairs[1][0] == FRACTION else 2]:
                for label, sel in (("all 34", edited), ("reporting half", edited & (half == 1))):
                    new, old = values[f][sel], base[sel]
                    lo, hi = bootstrap(new - old, sources[sel], BOOTSTRAP)
                    print(
                        f"  {name:9s} at {f} {label:14s}: {new.mean():.3f} against "
                        f"{old.mean():.3f} ({new.mean() - old.mean():+.3f}, {lo:+.3f}..{hi:+.3f})"
                    )


def cost(net: Any, repeat: int) -> None:
    """The CNN map of a 12 MP JPEG (``bench/compression.make_jpeg``'s scene) in
    onnxruntime on one thread, against a plain Pillow decode of the same file."""
    import tempfile

    import torch
    from compression import make_jpeg, pillow_decode
    from PIL import Image
    from tamper_cnn_net import export_onnx, luma_from_rgb, onnx_reader, reading_patches, tile_map

    with tempfile.TemporaryDirectory() as tmp:
        path, model = Path(tmp) / "12mp.jpg", Path(tmp) / "cnn.onnx"
        make_jpeg(path)
        export_onnx(net, str(model))
        read = onnx_reader(str(model))
        size = model.stat().st_size
        with Image.open(path) as im:
            rgb = np.asarray(im.convert("RGB"))
        probe = np.random.default_rng(0).integers(0, 256, (64, 64, 64)).astype(np.uint8)
        with torch.inference_mode():
            ref = net(torch.from_numpy(probe[:, None].astype(np.float32))).numpy()
        gap = float(np.abs(read(probe) - ref).max())
        decode, cnn = [], []
        for _ in range(repeat):  # interleaved, so load drift hits both alike
            decode.append(pillow_decode(path))
            t = time.perf_counter()
            layout, patches = reading_patches(luma_from_rgb(rgb))
            tile_map(layout, read(patches))
            cnn.append(time.perf_counter() - t)
    d, c = float(np.median(decode)), float(np.median(cnn))
    print(
        f"\n12 MP JPEG ({rgb.shape[1]} x {rgb.shape[0]}, step {layout[0]}, {len(patches)} "
        f"patches): decode {d * 1000:.0f} ms, CNN map from the decoded pixels (onnxruntime, "
        f"1 thread) {c * 1000:.0f} ms = {c / d:.2f} decodes (medians of {repeat}); ONNX "
        f"{size / 1000:.0f} kB, max |onnxruntime - torch| {gap:.1e}; load average "
        f"{os.getloadavg()[0]:.1f}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--cache", type=Path, default=Path("/tmp/tamper-cnn"))
    parser.add_argument("--repeat", type=int, default=7, help="rounds of the cost reading")
    parser.add_argument("--cost-only", action="store_true")
    parser.add_argument("--no-cost", action="store_true", help="skip the cost reading")
    parser.add_argument(
        "--members",
        type=int,
        nargs="+",
        default=[0, 1, 2],
        help="the shipped members read (--members 0: model 4.2 alone, the prototype's baseline)",
    )
    args = parser.parse_args(argv)
    if not (TRAINING / "MANIFEST.tsv").is_file():
        print(f"skipped: {TRAINING} not found")
        return 0
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    try:
        import torch
    except ImportError:
        print("skipped: torch is not installed (a bench-only requirement)")
        return 0
    torch.set_num_threads(1)
    from tamper_cnn_data import make_set
    from tamper_cnn_net import make_net

    if args.cost_only:
        cost(make_net(args.seeds[0]).eval(), args.repeat)
        return 0
    import lightgbm as lgb
    from tamper_image_data import GROUPS, figures

    from triage.forensics.tampermap import ensemble_probability, map_statistics
    from triage.train import tamper as tr
    from triage.train.edits import list_sources, split_sources

    args.cache.mkdir(parents=True, exist_ok=True)
    train_src, val_src = split_sources(list_sources(TRAINING))
    sets = [make_set(train_src, k, 1, True, args.cache, f"train-{k}") for k in range(tr.MEMBERS)]
    vals = [
        make_set(val_src, r, tr.VALIDATION_UNEDITED, False, args.cache, f"val-{r}") for r in (1, 11)
    ]
    tree_oof = trees_out_of_fold(args.cache)
    for k, s in enumerate(sets):
        check_alignment(f"train-{k}", s, [m for m, _ in tree_oof[k]], [e for _, e in tree_oof[k]])
    trees = [[m for m, _ in member] for member in tree_oof]
    ho = held_out(args.cache)
    joined = {key: [x for v in vals for x in v[key]] for key in ("kind", "layout")}
    check_alignment(
        "held-out",
        {**joined},
        [m[0] for m in ho["maps"]],
        [sm.kind != "none" for sm in ho["samples"]],
    )
    manifest = json.loads((MODELS / tr.MANIFEST_FILE).read_text("utf-8"))
    shipped_models = [
        lgb.Booster(model_file=str(MODELS / m["image_model"])) for m in manifest["members"]
    ]
    chosen = args.members
    shipped = np.array(
        [
            ensemble_probability([m[k] for k in chosen], [shipped_models[k] for k in chosen])
            for m in ho["maps"]
        ]
    )
    control = np.zeros(len(shipped))
    for k in chosen:
        y = np.array([kind != "none" for kind in sets[k]["kind"]], np.float64)
        model = image_model(np.array([map_statistics(t) for t in trees[k]]), y, k)
        control += model.predict(np.array([map_statistics(m[k]) for m in ho["maps"]])) / len(chosen)
    print(
        f"control (16 trees' statistics refitted) against shipped: max |diff| {np.abs(control - shipped).max():.2e}"
    )

    by_fraction = shipped_pixel(ho, chosen)
    readings = {"shipped": {"score": shipped, "pixel": by_fraction[FRACTION]}}
    alone = {}
    for seed in args.seeds:
        cm = cnn_maps(seed, sets, vals, args.cache)
        r = stacked_reading(seed, cm, sets, trees, ho, chosen)
        readings[f"stacked s{seed}"] = {"score": r["score"], "pixel": r["pixel"]["stacked"]}
        alone[seed] = r
    if len(args.seeds) > 1:
        readings["mean of seeds"] = {
            "score": np.mean([readings[f"stacked s{s}"]["score"] for s in args.seeds], axis=0),
            "pixel": np.mean([readings[f"stacked s{s}"]["pixel"] for s in args.seeds], axis=0),
        }
    report(readings, alone, ho, GROUPS, figures)
    region_report(by_fraction, alone, ho)
    if args.no_cost:
        return 0
    net = make_net(args.seeds[0])
    net.load_state_dict(torch.load(args.cache / f"cnn-s{args.seeds[0]}-all.pt"))
    cost(net.eval(), args.repeat)
    print(f"load average at the end: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
