#!/usr/bin/env python3
"""Held-out measure of the synthpix patch model: generated panels against camera photos.

    python bench/synthpix.py [--shared DIR] [--cache DIR] [--recompute] [--no-smooth] [--denoise]

1. Leave one generator FAMILY out: for each family of ../shared/training/generator,
   fit on the other families' panels and the 70% camera split (the chains of
   triage.train.synthpix), then score that family's panels and the held-out camera
   photos (30% of training sources by name, corpus/camera, corpus authentic stills).
2. Pure measurement set: the model fitted on every training family scores the
   generated panels of ../shared/corpus/generator (never fitted on) against the same
   camera photos.

Both classes go through the same steps as in bench/camera_likeness.py: ``png``
(decoded pixels), ``q90`` (native size JPEG q90), ``1024q85`` (long side to 1024 px,
JPEG q85), and four screenshot-like steps (``SCREEN_STEPS``, :func:`screen`): the
long side to 1080 px (Lanczos) or 720 px (area average) kept lossless, halved with
bicubic kept lossless, and ``post``: the long side to at most 1080 px pasted into a
drawn interface with text (triage.train.screens.post_canvas, its own seed per image),
the whole composite scored. Held-out graphics drawn by code (``held_out_graphics``,
seeds the training never draws) go through the same steps; they are never in an AUC,
only counted above the finding's threshold. An image's score is the mean log-odds of the
informative 128-px patches of the analyzer's grid (genresidual.patch_grid). Prints AUC per family and
step, and the share of camera photos above the finding's threshold at each step (on
the screenshot steps: the false-positive rate a downscaled lossless copy gets).
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

# Held-out graphics (triage.train.graphics): the training draws seeds 0..GRAPHICS-1.
GRAPHICS_SEED = 2_000_000
GRAPHICS = 42
SCREEN_STEPS = ("1080png", "720area", "x0.5bicubic", "post")


def screen(rgb: np.ndarray, step: str, name: str) -> np.ndarray:
    """``rgb`` through one of ``SCREEN_STEPS`` (never below 128 px on the short side)."""
    import zlib

    from triage.train.screens import downscale, post_canvas

    h, w = rgb.shape[:2]
    if step == "x0.5bicubic":
        return downscale(rgb, max(0.5, min(1.0, 128 / min(h, w))), "bicubic")
    target = 720 if step == "720area" else 1080
    scale = max(min(1.0, target / max(h, w)), min(1.0, 128 / min(h, w)))
    out = rgb if scale >= 1.0 else downscale(rgb, scale, "area" if step == "720area" else "lanczos")
    if step == "post":
        out = post_canvas(out, np.random.default_rng(zlib.crc32(name.encode())))
    return out


def eval_items(shared: Path) -> list[tuple[str, str, int, np.ndarray | Path]]:
    """(name, group, label, pixels or path): training panels, corpus panels, negatives."""
    from camera_likeness import negatives, positives

    from triage.train.synthpix import generated_panels

    items: list[tuple[str, str, int, np.ndarray | Path]] = []
    for name, fam, rgb in generated_panels(shared / "training"):
        items.append(("training/" + name, fam, 1, rgb))
    train_names = {n.split("#")[0] for n, _, _, _ in items}
    for name, fam, rgb in positives(shared):
        if name.startswith("corpus/") and name.split("#")[0] not in train_names:
            items.append((name, "corpus:" + fam, 1, rgb))
    for name, group in negatives(shared):
        items.append((name, group, 0, shared / name))
    items += held_out_graphics()
    return items


def held_out_graphics(count: int = GRAPHICS) -> list[tuple[str, str, int, np.ndarray | Path]]:
    """Graphics drawn by code with seeds the training never draws (from
    ``GRAPHICS_SEED``), the kinds in turn: scored through every step, never counted
    as camera photos in an AUC (group ``graphics``)."""
    from triage.train.graphics import KINDS, graphic

    return [
        (f"graphics/{GRAPHICS_SEED + i}", "graphics", 0, graphic(GRAPHICS_SEED + i, KINDS[i % 7]))
        for i in range(count)
    ]


def eval_features(shared: Path, steps: tuple[str, ...]) -> list[dict[str, object]]:
    """Patch features of every evaluation image through each of ``steps``."""
    from camera_likeness import load, through

    from triage.train.synthpix import grid_patches

    out = []
    for name, group, label, src in eval_items(shared):
        try:
            rgb = load(src) if isinstance(src, Path) else src
        except Exception as exc:
            print(f"skip {name}: {exc}", file=sys.stderr)
            continue
        if min(rgb.shape[:2]) < 128:
            continue
        for cond in steps:
            v = screen(rgb, cond, name) if cond in SCREEN_STEPS else through(rgb, cond)
            f = grid_patches(v)
            out.append({"name": name, "group": group, "label": label, "cond": cond, "x": f})
    return out


def score(model: dict[str, np.ndarray], x: np.ndarray) -> float:
    from triage.analyzers.synthpix import patch_log_odds

    if len(x) == 0:
        return 0.0
    return float(np.mean(patch_log_odds(model, x)))


def main(argv: list[str] | None = None) -> int:
    from camera_likeness import CONDITIONS as STEPS

    from triage.train.synthpix import Rows, build_rows, camera_split, fit, save

    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/synthpix_cache"))
    ap.add_argument("--recompute", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--write-model",
        type=Path,
        default=None,
        help="also write the model fitted on every family (what triage.train writes) here",
    )
    ap.add_argument(
        "--no-smooth",
        dest="smooth",
        action="store_false",
        help="leave out the smoothed chains (model 3's rows instead of the shipped 5s's)",
    )
    ap.add_argument(
        "--denoise",
        action="store_true",
        help="add the denoised chains of every class (candidate 3sd, not shipped)",
    )
    args = ap.parse_args(argv)
    args.cache.mkdir(parents=True, exist_ok=True)
    rows_file = args.cache / (
        ("rows-smooth" if args.smooth else "rows") + ("-denoise" if args.denoise else "") + ".pkl"
    )
    eval_file = args.cache / "eval.pkl"
    if args.recompute or not rows_file.is_file():
        t0 = time.time()
        fit_src, held = camera_split(args.shared / "training")
        rows = build_rows(
            args.shared / "training",
            fit_src,
            args.seed,
            smooth_rows=args.smooth,
            denoise_rows=args.denoise,
        )
        rows_file.write_bytes(pickle.dumps((rows, held, time.time() - t0)))
        print(f"rows {rows.x.shape} in {time.time() - t0:.0f} s", file=sys.stderr)
    conditions = (*STEPS, *SCREEN_STEPS)
    ev = [] if args.recompute or not eval_file.is_file() else pickle.loads(eval_file.read_bytes())
    # The cache keeps the steps computed before: only missing steps are computed, and
    # images no longer in the evaluation set (a source list changed) are dropped.
    names = {n for n, _, _, _ in eval_items(args.shared)}
    ev = [e for e in ev if e["name"] in names]
    missing = tuple(c for c in conditions if not any(e["cond"] == c for e in ev))
    if missing:
        t0 = time.time()
        ev += eval_features(args.shared, missing)
        eval_file.write_bytes(pickle.dumps(ev))
        print(f"eval features {missing} in {time.time() - t0:.0f} s", file=sys.stderr)
    rows, held, seconds = pickle.loads(rows_file.read_bytes())
    families = sorted({g for g in rows.group if g not in ("camera", "graphics")})
    group = np.array(rows.group)
    neg = [e for e in ev if e["label"] == 0 and e["group"] != "graphics"]
    drawn = [e for e in ev if e["group"] == "graphics"]

    def below(p: float, n: np.ndarray) -> float:
        """Share of negatives a positive scores above (ties half)."""
        return float(np.mean(n < p) + 0.5 * np.mean(n == p))

    figures: dict[str, object] = {"steps": list(conditions)}

    def table(title: str, fams: dict[str, dict[str, np.ndarray]], key: str) -> None:
        """Per family and step: AUC of its panels against the negatives scored by the
        same model; the pooled row compares each panel with negatives under its model."""
        print(title)
        print("| family | panels | " + " | ".join(conditions) + " |")
        print("|---|---|" + "---|" * len(conditions))
        pooled: dict[str, list[float]] = {c: [] for c in conditions}
        out: dict[str, object] = {}
        for fam, model in fams.items():
            pos = [e for e in ev if e["group"] == fam]
            cells = {}
            for cond in conditions:
                n = np.array([score(model, e["x"]) for e in neg if e["cond"] == cond])
                ps = [score(model, e["x"]) for e in pos if e["cond"] == cond]
                shares = [below(p, n) for p in ps]
                pooled[cond].extend(shares)
                cells[cond] = round(float(np.mean(shares)), 3) if shares else None
            k = sum(1 for e in pos if e["cond"] == conditions[0])
            out[fam] = {"panels": k, **cells}
            print(f"| {fam} | {k} | " + " | ".join(f"{cells[c]}" for c in conditions) + " |")
        allc = {c: round(float(np.mean(pooled[c])), 3) for c in conditions}
        k = len(pooled[conditions[0]])
        out["all"] = {"panels": k, **allc}
        print(f"| all | {k} | " + " | ".join(f"{allc[c]}" for c in conditions) + " |")
        print()
        figures[key] = out

    lofo = {}
    for fam in families:
        keep = group != fam
        lofo[fam] = fit(Rows(rows.x[keep], rows.y[keep], list(group[keep]), []))
    table("Leave one generator family out (AUC against held-out camera photos)", lofo, "lofo_auc")
    full = fit(rows)
    cfams = sorted({str(e["group"]) for e in ev if str(e["group"]).startswith("corpus:")})
    table(
        "Measurement set: ../shared/corpus generator panels, model fitted on every family",
        dict.fromkeys(cfams, full),
        "corpus_auc",
    )
    from triage.analyzers.synthpix import THRESHOLD

    rates: dict[str, object] = {}
    for cond in conditions:
        n = np.array([score(full, e["x"]) for e in neg if e["cond"] == cond])
        qs = np.quantile(n, [0.5, 0.9, 0.98])
        above = int(np.sum(n >= THRESHOLD))
        rates[cond] = {"camera": int(n.size), "above_threshold": above, "p98": round(qs[2], 3)}
        print(
            f"camera {cond}: n={n.size} median {qs[0]:.2f} p90 {qs[1]:.2f} p98 {qs[2]:.2f}; "
            f"at or above {THRESHOLD}: {above}/{n.size}"
        )
    figures["camera_above_threshold"] = rates
    grates: dict[str, object] = {}
    for cond in conditions:
        n = np.array([score(full, e["x"]) for e in drawn if e["cond"] == cond and len(e["x"])])
        if not n.size:
            continue
        above = int(np.sum(n >= THRESHOLD))
        grates[cond] = {"graphics": int(n.size), "above_threshold": above}
        print(
            f"held-out graphics {cond}: n={n.size} median {np.median(n):.2f}; "
            f"at or above {THRESHOLD}: {above}/{n.size}"
        )
    figures["graphics_above_threshold"] = grates
    figures["threshold"] = THRESHOLD
    if args.write_model:
        save(
            rows,
            full,
            args.write_model,
            args.seed,
            held,
            seconds,
            heldout=figures,
            smooth_rows=args.smooth,
            denoise_rows=args.denoise,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
