#!/usr/bin/env python3
"""Benchmark: the tamper image model (second stage) fitted on more out-of-fold maps.

    python bench/tamper_image_data.py [--extra 10] [--mixed] [--control-tile] [--cache DIR]

Each member of the shipped model fits its image model (4-leaf lightgbm, 100 rounds
over ``tampermap.MAP_STATISTICS``) on the out-of-fold maps of its 497 training files
(84 sources). Here the tile models are left exactly as shipped; only the image model
gets more data: per member, ``--extra`` more rounds of the generator on the same
training sources (4 edits and 1 unedited copy per source, no camera file, generator
seeds :func:`extra_seed` that no member or validation set uses), each file read by the
member's fold model that did not see its source (the folds of
``train.out_of_fold_maps``, the fold models refitted with the shipped seeds). Controls
(printed per member): the image model refitted on the reproduced out-of-fold maps
against the shipped one, and (``--control-tile``) the final tile model refitted against
the shipped one, as the largest difference of their outputs on the validation files.

Variants: the shipped image models; the same 4-leaf/100-round model on the shipped
maps plus 1, 3, 5 and ``--extra`` rounds; an 8-leaf/200-round model with
``min_data_in_leaf`` scaled with the data (10 per 497 files) on the shipped maps alone
and plus 3, 5 and ``--extra`` rounds. The image score is the mean of the members' image
probabilities on their own maps (``tampermap.ensemble_probability``), as the analyzer
computes it; maps and regions are unchanged.

Files: the 34 validation sources of ``python -m triage.train tamper`` (never trained
on), generator seeds ``--rounds`` (1 is the manifest's own validation set): 4.3's
chains (seeds 1 and 11), or with ``--mixed`` the mixed routes (seeds 1, 11, 21). Image
AUC (all, per edit kind, per chain group), unedited/edited flagged at the threshold
chosen on the first half (5% of its unedited files, ``train._half``); each variant
minus shipped with a 5-95% bootstrap over sources, on the reporting half and on all
sources. One process, one thread (``OMP_NUM_THREADS=1``, lightgbm ``num_threads=1``);
everything expensive is cached in ``--cache`` (features of the training sets, fold
models, maps; about 1 minute per extra round and member on one core). Skips cleanly
when ../shared/training is absent. Results: docs/analyzers/tamper.md, "More data for
the image model".
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from tamper_regions import auc as _auc

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TRAINING = ROOT.parent / "shared" / "training"
MODELS = ROOT / "triage" / "data" / "models"
BOOTSTRAP = 1000
KINDS = ("splice", "copymove", "inpaint", "retouch", "overlay")
GROUPS = ("editor export q90-100", "platform chain", "resized", "not resized", "q65-79")
MIXED_GROUPS = (
    "4.3's chains",
    "new: edited on a web copy",
    "new: small copy (400-1000 px)",
    "new: PNG at native size",
    "lossless PNG",
)
T = TypeVar("T")


def extra_seed(member: int, r: int) -> int:
    """Generator seed of extra round ``r`` (1..) of ``member``: far from the members'
    own seeds (0-2), the validation rounds (1, 11, 21) and the mixed-route extras
    (100-102), so no round repeats another's edits."""
    return 300 + 10 * member + r


def cached(path: Path, make: Callable[[], T]) -> T:
    """``make()``, pickled at ``path`` (read back when present)."""
    if path.is_file():
        value: T = pickle.loads(path.read_bytes())
        return value
    t = time.time()
    value = make()
    path.write_bytes(pickle.dumps(value))
    print(f"  {path.name}: {time.time() - t:.0f} s", file=sys.stderr, flush=True)
    return value


def one_thread(params: dict[str, Any]) -> dict[str, Any]:
    return {**params, "num_threads": 1}


def fold_models(train: list[Any], seed: int, cache: Path, tag: str) -> list[Any]:
    """The fold models of ``train.out_of_fold_maps`` (same folds, seed, rounds and
    parameters, one thread), saved as model text in ``cache``."""
    import lightgbm as lgb

    from triage.train import tamper as tr

    boosters = []
    for k in range(tr.FOLDS):
        path = cache / f"{tag}-fold{k}.txt"
        if not path.is_file():
            t = time.time()
            rest = [sm for sm in train if tr._fold(sm.source_id, tr.FOLDS) != k]
            tr.fit(rest, seed, tr.ROUNDS, one_thread(tr.PARAMS)).save_model(str(path))
            print(f"  {path.name}: {time.time() - t:.0f} s", file=sys.stderr, flush=True)
        boosters.append(lgb.Booster(model_file=str(path)))
    return boosters


def oof_maps(boosters: list[Any], samples: list[Any]) -> list[np.ndarray]:
    """Each sample's map from the fold model that did not see its source."""
    from triage.train import tamper as tr

    return [tr.predict_map(boosters[tr._fold(sm.source_id, tr.FOLDS)], sm.feats) for sm in samples]


def member_data(
    member: int, extra: int, cache: Path, control_tile: bool, val_feats: list[np.ndarray]
) -> dict[str, Any]:
    """Per member: statistics and labels of its shipped out-of-fold maps and of each
    extra round's, and the control figures."""
    import lightgbm as lgb

    from triage.forensics.tampermap import map_statistics
    from triage.train import tamper as tr
    from triage.train.edits import list_sources, split_sources

    train_src, _ = split_sources(list_sources(TRAINING))

    def stats(samples: list[Any], maps: list[np.ndarray]) -> dict[str, Any]:
        return {
            "x": np.array([map_statistics(p) for p in maps]),
            "y": np.array([sm.kind != "none" for sm in samples], np.float64),
            "kind": [sm.kind for sm in samples],
        }

    train = cached(
        cache / f"train-m{member}.pkl",
        lambda: tr.featurize_sources(train_src, member, 4, jobs=1, chains=tr.PLATFORM_CHAINS),
    )
    boosters = fold_models(train, member, cache, f"m{member}")
    out: dict[str, Any] = {
        "base": cached(
            cache / f"oof-m{member}.pkl", lambda: stats(train, oof_maps(boosters, train))
        )
    }
    out["control"] = {}
    if control_tile:
        path = cache / f"m{member}-final.txt"
        if not path.is_file():
            tr.fit(train, member, tr.ROUNDS, one_thread(tr.PARAMS)).save_model(str(path))
        mine = lgb.Booster(model_file=str(path))
        shipped = lgb.Booster(model_file=str(MODELS / tr.member_files(member)[0]))
        out["control"]["tile max |diff|"] = max(
            float(np.abs(tr.predict_map(mine, f) - tr.predict_map(shipped, f)).max())
            for f in val_feats
        )
    out["extra"] = []
    for r in range(1, extra + 1):

        def make(r: int = r) -> dict[str, Any]:
            samples = tr.featurize_sources(
                train_src, extra_seed(member, r), 4, 1, original=False, jobs=1
            )
            return stats(samples, oof_maps(boosters, samples))

        out["extra"].append(cached(cache / f"extra-m{member}-r{r}.pkl", make))
    return out


def val_rows(rounds: list[int], chains: str) -> dict[str, Any]:
    """The validation files through ``chains``: kind, chain, source, each shipped
    member's tile map (and a few files' features for the tile control)."""
    import lightgbm as lgb

    from triage.train import tamper as tr
    from triage.train.edits import list_sources, split_sources

    manifest = json.loads((MODELS / tr.MANIFEST_FILE).read_text("utf-8"))
    tiles = [lgb.Booster(model_file=str(MODELS / m["tile_model"])) for m in manifest["members"]]
    _, val_src = split_sources(list_sources(TRAINING))
    rows: dict[str, Any] = {"kind": [], "chain": [], "source": [], "maps": [], "feats": []}
    for seed in rounds:
        for sm in tr.featurize_sources(
            val_src, seed, 4, tr.VALIDATION_UNEDITED, True, jobs=1, chains=chains
        ):
            rows["kind"].append(sm.kind)
            rows["chain"].append(sm.chain)
            rows["source"].append(sm.source_id)
            rows["maps"].append([tr.predict_map(b, sm.feats) for b in tiles])
            if len(rows["feats"]) < 40:
                rows["feats"].append(sm.feats)
    return rows


def fit_image(x: np.ndarray, y: np.ndarray, seed: int, leaves: int, rounds: int) -> Any:
    """The image model of ``train.fit_image_model`` (its parameters, one thread) on
    statistics ``x``; ``leaves`` > 4 scales ``min_data_in_leaf`` with the data (10 per
    497 files, as shipped)."""
    import lightgbm as lgb

    from triage.forensics.tampermap import MAP_STATISTICS
    from triage.train import tamper as tr

    params = one_thread(tr.IMAGE_PARAMS)
    if leaves != params["num_leaves"]:
        params["num_leaves"] = leaves
        params["min_data_in_leaf"] = max(10, round(10 * len(y) / 497))
    data = lgb.Dataset(x, y, feature_name=list(MAP_STATISTICS), free_raw_data=True)
    return lgb.train({**params, "seed": seed}, data, num_boost_round=rounds)


def scores(models: list[Any], val: dict[str, Any]) -> np.ndarray:
    """The ensemble image score of every validation file."""
    from triage.forensics.tampermap import ensemble_probability

    return np.array([ensemble_probability(m, models) for m in val["maps"]])


def figures(
    val: dict[str, Any], score: np.ndarray, threshold: float, idx: np.ndarray
) -> dict[str, float]:
    """Image AUC (all, per kind, per chain group) and flagged shares on ``idx``."""
    from triage.train.tamper import _chain_groups

    kinds = np.array(val["kind"])[idx]
    y = kinds != "none"
    sc = score[idx]
    res = {
        "image AUC": _auc(sc[y], sc[~y]),
        "unedited flagged": float(np.mean(sc[~y] >= threshold)),
        "edited flagged": float(np.mean(sc[y] >= threshold)),
    }
    for k in KINDS:
        res[f"AUC {k}"] = _auc(sc[kinds == k], sc[~y])
    groups = [set(_chain_groups(val["chain"][i])) for i in idx]
    for g in val["groups"]:
        sel = np.array([g in gs for gs in groups])
        res[f"AUC {g}"] = _auc(sc[sel & y], sc[sel & ~y])
    return res


def compare(
    val: dict[str, Any],
    variants: dict[str, np.ndarray],
    thresholds: dict[str, float],
    label: str,
    idx: np.ndarray,
) -> None:
    """A markdown table: each variant on ``idx`` and its difference with the shipped
    image models, with a 5-95% bootstrap over the sources of ``idx``."""
    from tamper_regions import compare_table

    compare_table(
        label,
        idx,
        np.array(val["source"])[idx],
        list(variants),
        lambda m, files: figures(val, variants[m], thresholds[m], files),
        "variant",
        BOOTSTRAP,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extra", type=int, default=10, help="extra rounds per member")
    parser.add_argument("--rounds", type=int, nargs="+", help="default 1 11 (--mixed: 1 11 21)")
    parser.add_argument("--mixed", action="store_true", help="validate on the mixed routes")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/tamper-image-data"))
    parser.add_argument("--control-tile", action="store_true", help="refit the final tile models")
    parser.add_argument("--members", type=int, default=0, help="0: all of the shipped model")
    args = parser.parse_args(argv)
    if not (TRAINING / "MANIFEST.tsv").is_file():
        print(f"skipped: {TRAINING} not found")
        return 0
    # One core: read when lightgbm is first imported, below.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import lightgbm as lgb

    from triage.train import tamper as tr

    args.cache.mkdir(parents=True, exist_ok=True)
    manifest = json.loads((MODELS / tr.MANIFEST_FILE).read_text("utf-8"))
    assert manifest["version"] == "4.3" and manifest["seed"] == 0, "the bench reads model 4.3"
    n_members = args.members or len(manifest["members"])
    shipped = [lgb.Booster(model_file=str(MODELS / m["image_model"])) for m in manifest["members"]]
    from triage.train.edits import MIXED_CHAINS, PLATFORM_CHAINS

    chains = MIXED_CHAINS if args.mixed else PLATFORM_CHAINS
    rounds = args.rounds or ([1, 11, 21] if args.mixed else [1, 11])
    val = cached(
        args.cache / f"val-{chains}-{'-'.join(map(str, rounds))}.pkl",
        lambda: val_rows(rounds, chains),
    )
    val["groups"] = MIXED_GROUPS if args.mixed else GROUPS
    data = [
        member_data(k, args.extra, args.cache, args.control_tile, val["feats"])
        for k in range(n_members)
    ]
    # Members not rerun keep their shipped image model in every variant.
    models: dict[str, list[Any]] = {"shipped": shipped}
    models["refit (control)"] = [
        fit_image(d["base"]["x"], d["base"]["y"], k, 4, tr.IMAGE_ROUNDS) for k, d in enumerate(data)
    ] + shipped[n_members:]
    for k, d in enumerate(data):
        diff = np.abs(
            scores([models["refit (control)"][k]], {"maps": [[m[k]] for m in val["maps"]]})
            - scores([shipped[k]], {"maps": [[m[k]] for m in val["maps"]]})
        ).max()
        print(
            f"member {k}: {len(d['base']['y'])} shipped files + {[len(e['y']) for e in d['extra']]}; "
            f"control {d['control']}, image max |diff| {diff:.2e}"
        )
    # The control equals the shipped models (checked above): not a column.
    del models["refit (control)"]
    # (extra rounds, leaves, boosting rounds): the shipped model on 1, 3, 5 and all extra
    # rounds; the larger one on the shipped maps alone (is it the size or the data?),
    # on 3, 5 and all.
    fits = [(r, 4, tr.IMAGE_ROUNDS) for r in (1, 3, 5, args.extra) if 1 <= r <= args.extra]
    fits += [(r, 8, 200) for r in (0, 3, 5, args.extra) if r <= args.extra]
    for r, leaves, boost in sorted(set(fits), key=lambda f: (f[1], f[0])):
        name = f"+{r} rounds, {leaves} leaves/{boost}"
        models[name] = [
            fit_image(
                np.concatenate([d["base"]["x"], *(e["x"] for e in d["extra"][:r])]),
                np.concatenate([d["base"]["y"], *(e["y"] for e in d["extra"][:r])]),
                k,
                leaves,
                boost,
            )
            for k, d in enumerate(data)
        ] + shipped[n_members:]
    first = np.array([tr._half(s) == 0 for s in val["source"]])
    edited = np.array([k != "none" for k in val["kind"]])
    variants = {m: scores(ms, val) for m, ms in models.items()}
    thresholds = {m: float(np.quantile(s[first & ~edited], 0.95)) for m, s in variants.items()}
    for m, t in thresholds.items():
        print(f"{m}: threshold {t:.3f}")
    every = np.arange(len(val["kind"]))
    compare(val, variants, thresholds, "reporting half", every[~first])
    compare(val, variants, thresholds, "all sources", every)
    return 0


if __name__ == "__main__":
    sys.exit(main())
