#!/usr/bin/env python3
"""Benchmark: camera photos with a region of generated pixels pasted in (a stand-in for
an editor's generative fill), against the same photos unedited: does either question
see it?

    python bench/generated_region.py [--corpus ../shared/corpus] [--jobs 2]

Every camera photo of the corpus (``labels.tsv``, ``camera/`` rows) is brought to a long
side of at most 1600 (Lanczos) and saved as JPEG q85 twice: as it is, and with a crop of
a generator sample of ``../shared/training/generator`` (at least 384 px, its own
resolution) pasted through a feathered ellipse over 8-25% of the photo (seeded). Both
copies are checked with the packaged calibration. Printed per question: the AUC of the
edited copies' scores against the unedited ones, how often an edited copy scores above
its own original, and how many edited copies read notable or stronger; and the same AUC
for the generated-pixel model's mean log-odds and generated share. Nothing is fitted or
chosen here. Skips cleanly when the corpus or the generator samples are absent.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from corpus_photos import arguments, check_copies, long_side, pictures  # noqa: E402

GENERATOR = ROOT.parent / "shared" / "training" / "generator"
SIDE = 1600
CLAIMS = ("notable-indicators", "strong-indicators")


def _generator_samples() -> list[object]:
    from PIL import Image

    samples = []
    for path in sorted(GENERATOR.rglob("*")):
        if path.suffix.lower() not in (".png", ".jpg", ".webp"):
            continue
        try:
            with Image.open(path) as im:
                rgb = im.convert("RGB")
        except Exception:  # not decodable: left out
            continue
        if min(rgb.size) >= 384:
            samples.append(rgb)
    return samples


def pairs(corpus: Path, out: Path, seed: int = 0) -> list[tuple[Path, Path]]:
    """(unedited, edited) JPEG pairs written into ``out``."""
    from PIL import Image, ImageDraw, ImageFilter

    samples = _generator_samples()
    rng = np.random.default_rng(seed)
    made = []
    for n, (_, picture) in enumerate(pictures(corpus, ("camera",))):
        rgb = long_side(picture, SIDE)
        donor = samples[n % len(samples)]
        w, h = rgb.size
        area = rng.uniform(0.08, 0.25) * w * h
        pw = int(np.sqrt(area) * rng.uniform(0.8, 1.25))
        ph = int(area / max(pw, 1))
        pw, ph = min(pw, w - 8, donor.width), min(ph, h - 8, donor.height)
        if min(pw, ph) < 48:
            continue
        gx, gy = (
            int(rng.integers(0, donor.width - pw + 1)),
            int(rng.integers(0, donor.height - ph + 1)),
        )
        x, y = int(rng.integers(0, w - pw)), int(rng.integers(0, h - ph))
        mask = Image.new("L", (pw, ph), 0)
        ImageDraw.Draw(mask).ellipse([0, 0, pw - 1, ph - 1], fill=255)
        edited = rgb.copy()
        edited.paste(
            donor.crop((gx, gy, gx + pw, gy + ph)), (x, y), mask.filter(ImageFilter.GaussianBlur(6))
        )
        plain, filled = out / f"{n:02d}-unedited.jpg", out / f"{n:02d}-generated-region.jpg"
        rgb.save(plain, quality=85)
        edited.save(filled, quality=85)
        made.append((plain, filled))
    return made


def auc(pos: list[float], neg: list[float]) -> float:
    """Probability that an edited copy scores above an unedited one (ties half)."""
    p, q = np.asarray(pos)[:, None], np.asarray(neg)[None, :]
    return float((p > q).mean() + 0.5 * (p == q).mean()) if p.size and q.size else float("nan")


def main() -> int:
    args = arguments(__doc__.splitlines()[0])
    if args is None:
        return 0
    if not GENERATOR.is_dir():
        print(f"{GENERATOR}: no generator samples here: skipped")
        return 0
    made: list[tuple[Path, Path]] = []

    def make(out: Path) -> list[Path]:
        made.extend(pairs(args.corpus, out))
        return [p for pair in made for p in pair]

    reports = check_copies(make, args.jobs)
    both = [
        (reports[str(a)], reports[str(b)])
        for a, b in made
        if str(a) in reports and str(b) in reports
    ]
    print(f"{len(both)} corpus camera photos, each unedited and with a generated region (8-25%)")
    for question in ("synthetic", "manipulation"):
        plain = [a.questions[question].score for a, _ in both]
        filled = [b.questions[question].score for _, b in both]
        higher = sum(f > p for p, f in zip(plain, filled, strict=True))
        claims = sum(b.questions[question].band in CLAIMS for _, b in both)
        print(
            f"{question}: AUC {auc(filled, plain):.3f}, above its own original {higher}/{len(both)}, "
            f"notable or strong {claims}/{len(both)}"
        )
    for metric in ("log_odds", "generated_share"):

        def read(report: object, metric: str = metric) -> float | None:
            runs = {a.name: a for a in report.analyzers}  # type: ignore[attr-defined]
            value = runs["synthpix"].metrics.get(metric)
            return None if value is None else float(value)

        kept = [(read(a), read(b)) for a, b in both if read(a) is not None and read(b) is not None]
        print(
            f"synthpix {metric}: AUC {auc([b for _, b in kept], [a for a, _ in kept]):.3f} "
            f"({len(kept)} pairs)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
