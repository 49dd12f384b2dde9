#!/usr/bin/env python3
"""Camera-likeness statistics: generator images against camera photos, metadata stripped.

    python bench/camera_likeness.py [--shared DIR] [--cache FILE] [--model DIR]

Positives: the generated samples of ../shared/training/generator and
../shared/corpus/generator (measure only; never fitted on), cut out of their sample
strips and grids by ``GENERATED`` below. Left out, with the reason: inputs of
img2img/depth2img/unCLIP (real photos, sketches, depth maps, masks), diagrams and
plots, the 1x1 placeholder files of sd-parsers, autoencoder reconstructions (their
first panel is the real input) and exact duplicates (md5).

Negatives: held-out camera photos of ../shared/training (the 30% of sources the
model was not fitted on), ../shared/corpus/camera, and the authentic still images of
../shared/corpus (labels.tsv).

Both classes go through the same steps, as pixels: ``png`` (decoded pixels as they
are, what a PNG re-save keeps), ``q90`` (native size, JPEG q90) and ``1024q85``
(long side resized to at most 1024 px with Lanczos, JPEG q85). The analyzer reads a
centred window of at most 512 x 512 native pixels. Prints AUC per statistic and of
the fused score, and a table per generator family.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CONDITIONS = ("png", "q90", "1024q85")

# path (relative to shared/) -> (family, tiles as (x0, y0, x1, y1) or None for the whole)
_LD = [(2 + 258 * i, 2, 258 + 258 * i, 258) for i in range(6)]
GENERATED: dict[str, tuple[str, list[tuple[int, int, int, int]] | None]] = {
    "training/generator/CompVis/assets_a-painting-of-a-fire.png": ("latent-diffusion", _LD),
    "training/generator/CompVis/assets_a-photograph-of-a-fire.png": ("latent-diffusion", _LD),
    "training/generator/CompVis/assets_a-shirt-with-a-fire-printed-on-it.png": (
        "latent-diffusion",
        _LD,
    ),
    "training/generator/CompVis/assets_a-shirt-with-the-inscription-'fire'.png": (
        "latent-diffusion",
        _LD,
    ),
    "training/generator/CompVis/assets_a-watercolor-painting-of-a-fire.png": (
        "latent-diffusion",
        _LD,
    ),
    "training/generator/CompVis/assets_birdhouse.png": ("latent-diffusion", _LD),
    "training/generator/CompVis/assets_fire.png": ("latent-diffusion", _LD),
    "training/generator/CompVis/assets_the-earth-is-on-fire,-oil-on-canvas.png": (
        "latent-diffusion",
        _LD,
    ),
    "corpus/generator/latent-diffusion/the-earth-is-on-fire_-oil-on-canvas.png": (
        "latent-diffusion",
        _LD,
    ),
    "corpus/generator/latent-diffusion/a-watercolor-painting-of-a-fire.png": (
        "latent-diffusion",
        _LD,
    ),
    "training/generator/CompVis/assets_txt2img-convsample.png": ("sd-1", None),
    "training/generator/CompVis/assets_stable-samples_img2img_upscaling-out.png": (
        "sd-x4-upscaler",
        None,
    ),
    "corpus/generator/stability-stablediffusion/upscaling_merged-dog.png": (
        "sd-x4-upscaler",
        [(0, 0, 1024, 1024), (1024, 0, 2048, 1024)],
    ),
    "corpus/generator/compvis-stable-diffusion/merged-0005.png": (
        "sd-1",
        [(512 * i, 0, 512 * i + 512, 512) for i in range(5)],
    ),
    "training/generator/Stability-AI/assets_stable-samples_txt2img_000002025.png": ("sd-2", None),
    "training/generator/Stability-AI/assets_stable-samples_txt2img_000002035.png": ("sd-2", None),
    "corpus/generator/stability-stablediffusion/txt2img_768_merged-0005.png": (
        "sd-2",
        [(0, 0, 768, 768), (768, 0, 1536, 768)],
    ),
    "training/generator/Stability-AI/assets_stable-samples_img2img_mountains-1.png": (
        "sd-2",
        None,
    ),
    "training/generator/Stability-AI/assets_stable-samples_img2img_mountains-2.png": (
        "sd-2",
        None,
    ),
    "training/generator/Stability-AI/assets_stable-samples_img2img_mountains-3.png": (
        "sd-2",
        None,
    ),
    # depth2img strips: the first 768-px panel is the input photo.
    "training/generator/Stability-AI/assets_stable-samples_depth2img_depth2img02.png": (
        "sd-2",
        [(768, 0, 1536, 512), (1536, 0, 2304, 512)],
    ),
    "training/generator/Stability-AI/assets_stable-samples_depth2img_merged-0004.png": (
        "sd-2",
        [(768, 0, 1536, 512), (1536, 0, 2304, 512)],
    ),
    # unCLIP pairs: the left 730-px panel is the input image.
    "training/generator/Stability-AI/assets_stable-samples_stable-unclip_houses_out.jpeg": (
        "sd-2-unclip",
        [(730, 0, 1460, 438)],
    ),
    "training/generator/Stability-AI/assets_stable-samples_stable-unclip_oldcar000.jpeg": (
        "sd-2-unclip",
        [(730, 0, 1460, 730)],
    ),
    "training/generator/Stability-AI/assets_stable-samples_stable-unclip_oldcar500.jpeg": (
        "sd-2-unclip",
        [(730, 0, 1460, 730)],
    ),
    "training/generator/Stability-AI/assets_stable-samples_stable-unclip_oldcar800.jpeg": (
        "sd-2-unclip",
        [(730, 0, 1460, 730)],
    ),
    "training/generator/Stability-AI/assets_stable-samples_stable-unclip_plates_out.jpeg": (
        "sd-2-unclip",
        [(730, 0, 1460, 438)],
    ),
    "training/generator/black-forest-labs/assets_robot.webp": ("flux", None),
    # schnell grid: five panels of uneven size, read 16 px inside their borders.
    "corpus/generator/flux/schnell_grid.jpg": (
        "flux",
        [
            (16, 16, 1564, 707),
            (1597, 16, 3196, 707),
            (16, 740, 1559, 1864),
            (1596, 740, 2469, 1864),
            (2502, 740, 3196, 1864),
        ],
    ),
    "corpus/generator/shovar/prueba.jpg": ("unknown", None),
}


def load(path: Path) -> np.ndarray:
    from triage.train.synthpix import load_rgb

    return load_rgb(path)


def through(rgb: np.ndarray, condition: str) -> np.ndarray:
    """The same steps for both classes."""
    from PIL import Image

    if condition == "png":
        return rgb
    im = Image.fromarray(rgb)
    q = 90
    if condition == "1024q85":
        q = 85
        if max(im.size) > 1024:
            im.thumbnail((1024, 1024), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=q)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def positives(shared: Path) -> list[tuple[str, str, np.ndarray]]:
    from triage.train.synthpix import generated_panels

    return list(generated_panels(shared, GENERATED))


def negatives(shared: Path) -> list[tuple[str, str]]:
    from triage.train.edits import list_sources, split_sources

    _, val = split_sources(list_sources(shared / "training"), holdout=0.3)
    out = [(str(p.relative_to(shared)), "training-camera-held-out") for p in val]
    with (shared / "corpus" / "labels.tsv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            if row["label"] != "authentic" or row["path"].startswith("video/"):
                continue
            group = "corpus-camera" if row["path"].startswith("camera/") else "corpus-authentic"
            out.append(("corpus/" + row["path"], group))
    return out


def window(rgb: np.ndarray) -> np.ndarray:
    from triage.forensics.camera import centre_window

    x0, y0, x1, y1 = centre_window(rgb.shape[0], rgb.shape[1])
    return rgb[y0:y1, x0:x1]


def compute(shared: Path, model_dir: Path) -> list[dict[str, object]]:
    from triage.forensics.camera import features, load_model

    model, _ = load_model(model_dir)
    rows: list[dict[str, object]] = []
    items: list[tuple[str, str, int, np.ndarray | Path]] = [
        (n, f, 1, a) for n, f, a in positives(shared)
    ]
    items += [(n, g, 0, shared / n) for n, g in negatives(shared)]
    for name, group, label, src in items:
        try:
            rgb = load(src) if isinstance(src, Path) else src
        except Exception as exc:
            print(f"skip {name}: {exc}", file=sys.stderr)
            continue
        if min(rgb.shape[:2]) < 64:
            continue
        for cond in CONDITIONS:
            f = features(model, window(through(rgb, cond)))
            rows.append({"name": name, "group": group, "label": label, "cond": cond, **f.values})
        print(name, file=sys.stderr)
    return rows


def auc(pos: np.ndarray, neg: np.ndarray) -> float:
    """Probability that a positive scores above a negative (ties count half)."""
    if pos.size == 0 or neg.size == 0:
        return float("nan")
    allv = np.concatenate([pos, neg])
    ranks = allv.argsort().argsort().astype(np.float64) + 1
    # average ranks of ties
    _, inv, counts = np.unique(allv, return_inverse=True, return_counts=True)
    sums = np.bincount(inv, ranks)
    ranks = (sums / counts)[inv]
    r = ranks[: pos.size].sum()
    return float((r - pos.size * (pos.size + 1) / 2) / (pos.size * neg.size))


def report(rows: list[dict[str, object]], model_dir: Path) -> None:
    from triage.forensics.camera import FEATURE_NAMES, synthetic_score

    by = defaultdict(list)
    for r in rows:
        by[r["cond"]].append(r)
    print("| statistic | " + " | ".join(CONDITIONS) + " |")
    print("|---|" + "---|" * len(CONDITIONS))
    for feat in (*FEATURE_NAMES, "fused"):
        cells = []
        for cond in CONDITIONS:
            rs = by[cond]
            if feat == "fused":
                v = np.array([synthetic_score(r, model_dir).score for r in rs])
            else:
                v = np.array([float(r[feat]) for r in rs])  # type: ignore[arg-type]
            lab = np.array([r["label"] for r in rs])
            cells.append(f"{auc(v[lab == 1], v[lab == 0]):.3f}")
        print(f"| {feat} | " + " | ".join(cells) + " |")
    print()
    fams = sorted({str(r["group"]) for r in rows if r["label"] == 1})
    print("| family | tiles | " + " | ".join(f"AUC {c}" for c in CONDITIONS) + " |")
    print("|---|---|" + "---|" * len(CONDITIONS))
    for fam in fams:
        cells = []
        n = 0
        for cond in CONDITIONS:
            rs = by[cond]
            v = np.array([synthetic_score(r, model_dir).score for r in rs])
            lab = np.array([r["label"] for r in rs])
            grp = np.array([r["group"] for r in rs])
            pos = v[(lab == 1) & (grp == fam)]
            n = pos.size
            cells.append(f"{auc(pos, v[lab == 0]):.3f}")
        print(f"| {fam} | {n} | " + " | ".join(cells) + " |")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/camera_likeness.json"))
    ap.add_argument("--model", type=Path, default=ROOT / "triage" / "data" / "models")
    ap.add_argument("--recompute", action="store_true")
    args = ap.parse_args(argv)
    if args.recompute or not args.cache.is_file():
        rows = compute(args.shared, args.model)
        args.cache.write_text(json.dumps(rows))
    rows = json.loads(args.cache.read_text())
    report(rows, args.model)
    return 0


if __name__ == "__main__":
    sys.exit(main())
