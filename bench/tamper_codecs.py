#!/usr/bin/env python3
"""Benchmark: the tamper model on copies served as lossy WebP and AVIF, beside the same
copies as JPEG: what it would claim on unedited photos and find on edited ones.

    python bench/tamper_codecs.py [--seed 1] [--jobs 2]

The files: the validation sources of ``python -m triage.train tamper`` (never trained
on), each decoded and cropped as the generator does, edited once per edit kind
(``triage.train.edits.apply_edit``) and kept unedited twice, then served at a long side
of 1080 (Lanczos) as JPEG q80, lossy WebP q80 and AVIF q60. The tamper analyzer alone
reads every file with its codec decline switched off (``common.adaptive_codec`` returns
None), so the model's own reading is what is measured. Printed per codec: the share of
unedited files with a finding (the image score at or above the manifest's threshold),
the share of edited files with one, and the image score's AUC per kind against every
unedited file of that codec. Skips cleanly when ../shared/training is absent. Results:
docs/analyzers/tamper.md, "WebP, AVIF and HEIF copies".
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TRAINING = ROOT.parent / "shared" / "training"
SIDE = 1080
CODECS = (("jpeg", "JPEG", 80), ("webp", "WEBP", 80), ("avif", "AVIF", 60))
UNEDITED = 2


def served(rgb: np.ndarray, fmt: str, quality: int) -> bytes:
    """``rgb`` at a long side of at most SIDE, encoded as ``fmt`` at ``quality``."""
    from PIL import Image

    img = Image.fromarray(rgb)
    scale = SIDE / max(img.size)
    if scale < 1:
        img = img.resize(
            (round(img.width * scale), round(img.height * scale)), Image.Resampling.LANCZOS
        )
    buf = io.BytesIO()
    img.save(buf, fmt, quality=quality)
    return buf.getvalue()


def source_files(sources: list[Path], i: int, seed: int, out: Path) -> list[tuple[str, str, Path]]:
    """(codec, kind or "none", path) of every served copy made of ``sources[i]``."""
    from triage.train import edits

    rng = np.random.default_rng([seed, i])
    rgb = edits.decode(sources[i], rng)
    if rgb is None or min(rgb.shape[:2]) < 256:
        return []
    images = [("none", rgb)] * UNEDITED
    for kind in edits.KINDS:
        donor = sources[(i + 1 + int(rng.integers(0, len(sources) - 1))) % len(sources)]
        edited, mask = edits.apply_edit(kind, rgb, donor, rng)
        if mask.sum() >= 64:
            images.append((kind, edited))
    made = []
    for n, (kind, image) in enumerate(images):
        for codec, fmt, quality in CODECS:
            path = out / f"{i:03d}-{n}-{kind}.{codec}"
            path.write_bytes(served(image, fmt, quality))
            made.append((codec, kind, path))
    return made


def auc(pos: list[float], neg: list[float]) -> float:
    """Probability that an edited file scores above an unedited one (ties half)."""
    p, q = np.asarray(pos)[:, None], np.asarray(neg)[None, :]
    return float(((p > q).mean() + 0.5 * (p == q).mean()) if p.size and q.size else np.nan)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if not TRAINING.is_dir():
        print(f"skipped: {TRAINING} not found")
        return 0
    import triage
    import triage.analyzers.common as common
    from triage.train.edits import KINDS, list_sources, split_sources

    common.adaptive_codec = lambda media: None  # the model's own reading, as before
    _, val = split_sources(list_sources(TRAINING))
    scores: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    found: dict[str, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(len(val)):
            for codec, kind, path in source_files(val, i, args.seed, Path(tmp)):
                report = triage.analyze(path, only=["tamper"])
                run = {a.name: a for a in report.analyzers}["tamper"]
                if run.status != "ok":
                    continue
                scores[codec][kind].append(float(run.metrics["image_score"]))
                found[codec][kind].append(any(f.analyzer == "tamper" for f in report.findings))
                path.unlink()
    print(f"{len(val)} validation sources, seed {args.seed}, long side {SIDE}")
    print(
        "| codec | unedited with a finding | edited with a finding | AUC "
        + " / ".join(KINDS)
        + " |"
    )
    print("|---|---|---|---|")
    for codec, _, quality in CODECS:
        neg = scores[codec]["none"]
        edited = [f for k in KINDS for f in found[codec][k]]
        unedited = found[codec]["none"]
        aucs = " / ".join(f"{auc(scores[codec][k], neg):.3f}" for k in KINDS)
        print(
            f"| {codec} q{quality} | {sum(unedited)}/{len(unedited)} "
            f"({np.mean(unedited):.1%}) | {sum(edited)}/{len(edited)} ({np.mean(edited):.1%}) "
            f"| {aucs} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
