#!/usr/bin/env python3
"""Synthpix model "3s" (smoothed chains on every class, shipped) against model 3.

    python bench/synthpix_smooth.py features [--cache DIR] [--denoise]
    python bench/synthpix_smooth.py measure [--cache DIR] [--write-model DIR] [--denoise]
    python bench/synthpix_smooth.py pipeline|graphics --model DIR

Needs ../shared and the caches of ``bench/synthpix.py --no-smooth`` (``rows.pkl``,
``eval.pkl``) and
of bench/synthpix_decoders.py (``innocent.pkl``: the 99 held-out camera photos through
the innocent causes), copied or linked into --cache.

``features`` computes the smoothed rows of triage.train.synthpix (:func:`add_smooth`:
every generated panel, the FIT-side camera photos, the code-drawn graphics, seed 0)
into ``smoothrows.pkl``; with ``rows.pkl`` (model 3's rows, same seed) they are the
rows ``python -m triage.train synthpix`` fits.

``measure`` fits model 3 and model 3s on the same rows (3s: plus the smoothed rows)
and prints: leave one generator family out (the family's smoothed rows left out with
it), the corpus panels, held-out camera photos and graphics over the finding's
threshold, and the innocent causes (downscaled 2-4x and upscaled back, Gaussian blur
sigma 1, non-local-means denoising, a bilateral beauty blur; lossless or JPEG q90).
``--write-model DIR`` also writes the 3s model file there (the shipped one, with its
manifest and held-out figures, is written by ``bench/synthpix.py --write-model``).

``--denoise`` (candidate "3sd", measured, not shipped): ``features --denoise`` computes
the denoised rows (:func:`add_denoise`, the same three classes) into
``denoiserows.pkl``; ``measure --denoise`` compares model 3s (bench/synthpix.py's
``rows-smooth.pkl``, copied into --cache) with 3sd (3s's rows plus the denoised ones)
in the same tables; the innocent causes then include two denoisers 3sd never trains
on (bench/synthpix_decoders.py ``nlmeans10``, ``edgepreserve``).

``pipeline`` and ``graphics`` run bench/synthpix_decoders.py's ``measure pipeline``
(innocent causes, 40 held-out photos as PNG) and bench/synth_graphics.py through the
whole pipeline and the shipped calibration, with the synthpix model of ``--model DIR``
in place of the shipped one (in this process only: one job, nothing written).
"""

from __future__ import annotations

import argparse
import pickle
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def features(
    shared: Path,
    cache: Path,
    seed: int,
    denoise: bool = False,
    per: tuple[int, int, int] | None = None,
) -> None:
    """Smoothed rows of every class (the fit side only), cached; with ``denoise`` the
    denoised rows (:func:`add_denoise`, ``per`` chains per panel/photo/graphic, the
    training's by default) into ``denoiserows.pkl`` instead."""
    from triage.train.synthpix import RowSink, add_denoise, add_smooth, camera_split

    fit_src, _ = camera_split(shared / "training")
    sink = RowSink()
    if denoise:
        kw = {} if per is None else {"per": per}
        add_denoise(sink.add, shared / "training", fit_src, seed, **kw)
    else:
        add_smooth(sink.add, shared / "training", fit_src, seed)
    rows = sink.rows()
    name = "denoiserows.pkl" if denoise else "smoothrows.pkl"
    (cache / name).write_bytes(pickle.dumps(rows))


def measure(cache: Path, write: Path | None, denoise: bool = False) -> int:
    """Model 3 vs 3s tables; with ``denoise`` model 3s (``rows-smooth.pkl`` of
    bench/synthpix.py) vs candidate 3sd (plus ``denoiserows.pkl``)."""
    from camera_likeness import CONDITIONS
    from synthpix import SCREEN_STEPS, score
    from synthpix_decoders import over_threshold_rows

    from triage.analyzers.synthpix import THRESHOLD
    from triage.train.synthpix import Rows, fit

    t0 = time.time()
    steps = (*CONDITIONS, *SCREEN_STEPS)
    base, extra = (
        ("rows-smooth.pkl", "denoiserows.pkl") if denoise else ("rows.pkl", "smoothrows.pkl")
    )
    names = ("model 3s", "model 3sd") if denoise else ("model 3", "model 3s")
    rows, _, _ = pickle.loads((cache / base).read_bytes())
    ev = pickle.loads((cache / "eval.pkl").read_bytes())
    sm = pickle.loads((cache / extra).read_bytes())
    inn = pickle.loads((cache / "innocent.pkl").read_bytes())
    group, sgroup = np.array(rows.group), np.array(sm.group)
    families = sorted({g for g in rows.group if g not in ("camera", "graphics")})
    neg = [e for e in ev if e["label"] == 0 and e["group"] != "graphics"]
    drawn = [e for e in ev if e["group"] == "graphics" and len(e["x"])]
    cfams = sorted({str(e["group"]) for e in ev if str(e["group"]).startswith("corpus:")})
    print(
        f"rows: {len(rows.y)} ({names[0]}) + {len(sm.y)} {extra} "
        f"({int(sm.y.sum())} generated, {int((sgroup == 'camera').sum())} camera, "
        f"{int((sgroup == 'graphics').sum())} graphics)"
    )

    def sub(drop: str | None, smooth: bool) -> Rows:
        keep, skeep = group != drop, sgroup != drop
        x, y, g = rows.x[keep], rows.y[keep], list(group[keep])
        if smooth:
            x = np.vstack([x, sm.x[skeep]])
            y = np.concatenate([y, sm.y[skeep]])
            g += list(sgroup[skeep])
        return Rows(x, y, g, [])

    def auc(model: dict, pos: list, ng: list) -> list[float]:
        n = np.array([score(model, e["x"]) for e in ng])
        return [
            float(np.mean(n < p) + 0.5 * np.mean(n == p))
            for p in (score(model, e["x"]) for e in pos)
        ]

    def table(title: str, models: dict[str, dict], fams: list[str]) -> None:
        print(title)
        print("| family | " + " | ".join(steps) + " |")
        print("|---|" + "---|" * len(steps))
        pooled: dict[str, list[float]] = {c: [] for c in steps}
        for fam in fams:
            cells = []
            for c in steps:
                sh = auc(
                    models[fam],
                    [e for e in ev if e["group"] == fam and e["cond"] == c],
                    [e for e in neg if e["cond"] == c],
                )
                pooled[c] += sh
                cells.append(f"{np.mean(sh):.3f}" if sh else "-")
            print(f"| {fam} | " + " | ".join(cells) + " |")
        print(
            f"| all ({len(pooled[steps[0]])}) | "
            + " | ".join(f"{np.mean(pooled[c]):.3f}" for c in steps)
            + " |\n",
            flush=True,
        )

    for smooth, label in ((False, names[0]), (True, names[1])):
        table(
            f"{label}, leave one family out",
            {f: fit(sub(f, smooth)) for f in families},
            families,
        )
    full3, full3s = fit(sub(None, False)), fit(sub(None, True))
    for m, label in ((full3, names[0]), (full3s, names[1])):
        table(f"{label}, corpus panels", dict.fromkeys(cfams, m), cfams)
    print(f"Over the threshold ({THRESHOLD}) and median log-odds: {names[0]} | {names[1]}")
    print(f"| set | step | n | {names[0]} | {names[1]} |")
    print("|---|---|---|---|---|")

    over_threshold_rows([full3, full3s], neg, drawn, inn, steps)
    print(f"measured in {time.time() - t0:.0f} s")
    if write is not None:
        from triage.forensics.genresidual import feature_names

        write.mkdir(parents=True, exist_ok=True)
        np.savez(write / "synthpix.npz", **full3s, names=np.array(feature_names()))
    return 0


def use_model(folder: Path) -> None:
    """Make this process's synthpix analyzer read the model file in ``folder``."""
    import triage.analyzers.synthpix as sp

    with np.load(folder / "synthpix.npz") as z:
        model = {k: z[k] for k in sp.MODEL_KEYS if k in z}
    manifest = dict(sp.load()[1], version="3s")
    sp.load = lambda: (model, manifest)  # type: ignore[assignment]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=("features", "measure", "pipeline", "graphics"))
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/synthpix_smooth"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--write-model", type=Path, default=None)
    ap.add_argument(
        "--denoise",
        action="store_true",
        help="candidate 3sd: denoised rows (features) / model 3s against 3sd (measure)",
    )
    ap.add_argument(
        "--denoise-chains",
        default=None,
        help="features --denoise: chains per panel,photo,graphic (e.g. 2,1,1; default "
        "the training's 4,2,1)",
    )
    ap.add_argument("--model", type=Path, default=None, help="pipeline/graphics: model folder")
    args = ap.parse_args(argv)
    if args.what in ("pipeline", "graphics"):
        if args.model is not None:
            use_model(args.model)
        if args.what == "graphics":
            import synth_graphics

            return synth_graphics.main(["--jobs", "1"])
        from synthpix_decoders import pipeline

        return pipeline(args.shared, jobs=1)
    args.cache.mkdir(parents=True, exist_ok=True)
    if args.what == "features":
        t0 = time.time()
        per = None
        if args.denoise_chains:
            a, b, c = (int(v) for v in args.denoise_chains.split(","))
            per = (a, b, c)
        features(args.shared, args.cache, args.seed, args.denoise, per)
        print(
            f"{'denoised' if args.denoise else 'smoothed'} rows: {time.time() - t0:.0f} s",
            file=sys.stderr,
        )
        return 0
    return measure(args.cache, args.write_model, args.denoise)


if __name__ == "__main__":
    sys.exit(main())
