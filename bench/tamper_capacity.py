#!/usr/bin/env python3
"""Benchmark: the tamper tile model's capacity (lightgbm settings) against 4.3's, on
the same generated files and seeds.

    python bench/tamper_capacity.py [--seed 0] [--set num_leaves=63] [--rounds 300]
                                    [--positive-cap 10] [--jobs 1] [--cache DIR]

Trains 4.3's recipe twice on the block features of the same files (three members, seeds
``--seed`` + 0..2, out-of-fold image models): once with 4.3's settings, once with
``--set`` applied to ``triage.train.tamper.PARAMS`` (and ``--rounds`` trees; with
``--positive-cap``, each image's edited tiles weighing at most that many). A change
of settings also redraws the trees' random feature and row subsets, so one seed says
little: compare several ``--seed`` values (each three members on their own generated
files; 0 is the shipped draw). Held out: the 34 validation sources, 4.3's chains,
generator seeds 1 and 11; printed: image AUC (all, per kind), pixel IoU of the refined
peak region, on all sources and on the reporting half, with a 5-95% bootstrap over
sources of the difference. Features cached in ``--cache`` (shared with
``bench/tamper_cfa.py``). Skips cleanly when ../shared/training is absent. Results:
docs/analyzers/tamper.md, "The tile model's capacity" and "Edited images weighed alike".
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
TRAINING = ROOT.parent / "shared" / "training"
KINDS = ("splice", "copymove", "inpaint", "retouch", "overlay")


def _value(text: str) -> Any:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def read(
    sets: list[list[Any]],
    val: list[Any],
    seed: int,
    params: dict[str, Any],
    rounds: int,
    positive_cap: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Scores and refined-region pixel IoU of the held-out files under one setting."""
    from tamper_cfa import read_held_out, train_members

    from triage.train import tamper as train

    base, base_cap = dict(train.PARAMS), train.POSITIVE_WEIGHT_CAP
    train.PARAMS.update(params)
    train.POSITIVE_WEIGHT_CAP = positive_cap
    n = len(train.FEATURE_NAMES)
    try:
        members = train_members(sets, seed, n, rounds)
    finally:
        train.PARAMS.clear()
        train.PARAMS.update(base)
        train.POSITIVE_WEIGHT_CAP = base_cap
    return read_held_out(members, val, n)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--set", action="append", default=[], help="PARAM=VALUE (repeatable)")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument(
        "--positive-cap",
        type=float,
        default=None,
        help="weigh each image's edited tiles as at most this many (train.POSITIVE_WEIGHT_CAP)",
    )
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/triage-tamper-cfa"))
    args = parser.parse_args(argv)
    if not TRAINING.is_dir():
        print(f"skipped: {TRAINING} not found")
        return 0
    from tamper_cfa import auc, auc_interval, experiment_data
    from tamper_regions import bootstrap

    from triage.train import tamper as train

    sets, val = experiment_data(args.seed, [1, 11], args.jobs, args.cache)
    change = dict(item.split("=", 1) for item in args.set)
    params = {k: _value(v) for k, v in change.items()}
    rounds = args.rounds or train.ROUNDS
    s0, p0 = read(sets, val, args.seed, {}, train.ROUNDS)
    s1, p1 = read(sets, val, args.seed, params, rounds, args.positive_cap)
    kinds = np.array([sm.kind for sm in val])
    sources = np.array([sm.source_id for sm in val])
    half = np.array([train._half(s) for s in sources])
    edited = kinds != "none"
    cap = f", edited tiles capped at {args.positive_cap:g}" if args.positive_cap else ""
    print(f"seed {args.seed}: 4.3's settings against {params}, {rounds} rounds{cap}")
    for label, sel in (("all 34 sources", half >= 0), ("reporting half", half == 1)):
        rows = [("all", edited & sel)] + [(k, (kinds == k) & sel) for k in KINDS]
        for name, pos in rows:
            neg = ~edited & sel
            lo, hi = auc_interval(s1, s0, pos, neg, sources)
            a0, a1 = auc(s0[pos], s0[neg]), auc(s1[pos], s1[neg])
            print(f"  {label}, AUC {name}: {a0:.3f} -> {a1:.3f} ({lo:+.3f}..{hi:+.3f})")
        e = edited & sel
        lo, hi = bootstrap(p1[e] - p0[e], sources[e], 1000)
        print(
            f"  {label}, pixel IoU: {p0[e].mean():.3f} -> {p1[e].mean():.3f} ({lo:+.3f}..{hi:+.3f})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
