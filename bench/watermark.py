#!/usr/bin/env python3
"""The dwtDct watermark decoder on real photos and generator files (the null and the hits).

For every image in ../shared/training/{camera,generator} and ../shared/corpus/{camera,generator},
as it is and as a platform's WebP copy (long side 1080, quality 80): the strongest payload
association (z over blocks, Bonferroni chance) as the analyzer reads it, and where that passes
the chance bar, z in units of the image's own spread over shifted schedules (aligned z).
Prints the claims by the chance bar alone and by both bars, the files above z 4, and the timing;
the "turned" rows read each file's strongest turned or mirrored reading (analyzer 1.1 tries the
seven turns and mirrors of a picture whose sides are multiples of 8): the null for those claims.

    python bench/watermark.py [SHARED_DIR]
"""

from __future__ import annotations

import io
import math
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from triage.analyzers.watermark import (  # noqa: E402
    CLAIM_CHANCE,
    MAX_PIXELS,
    MIN_ALIGNED_Z,
    MIN_SIDE,
)
from triage.forensics.watermark import aligned_z, match_payloads  # noqa: E402
from triage.media import Media  # noqa: E402

FOLDERS = ("training/camera", "corpus/camera", "training/generator", "corpus/generator")


def _webp_copy(rgb: np.ndarray) -> np.ndarray:
    """``rgb`` as a platform serves it: long side at most 1080 (Lanczos), WebP q80."""
    from PIL import Image

    im = Image.fromarray(rgb)
    scale = 1080 / max(im.size)
    if scale < 1:
        size = (round(im.width * scale), round(im.height * scale))
        im = im.resize(size, Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    im.save(buf, "WEBP", quality=80)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def main(shared: Path) -> int:
    rows: list[tuple[str, str, float, float, str, float]] = []
    spent = 0.0
    for folder in FOLDERS:
        for path in sorted((shared / folder).rglob("*")):
            if not path.is_file() or path.suffix.lower() in (".tsv", ".md", ".json"):
                continue
            try:
                media = Media.open(path)
                w, h = media.width or 0, media.height or 0
                if media.kind != "image" or min(w, h) < MIN_SIDE:
                    continue
                for route, rgb in (("as is", media.rgb), ("webp 1080 q80", _webp_copy(media.rgb))):
                    rh, rw = rgb.shape[:2]
                    rows_read = max(MIN_SIDE, min(rh, MAX_PIXELS // max(rw, 1)) // 4 * 4)
                    t = time.perf_counter()
                    matches = match_payloads(rgb[:rows_read], full_height=rh)
                    spent += time.perf_counter() - t
                    kind = folder.split("/")[1]
                    turned = [m for m in matches if m.orientation != "as stored"][:1]
                    # As the analyzer reads: the picture as stored, and apart from it the
                    # strongest turned or mirrored reading (the null for turned claims).
                    for label, best in (("", matches[0]), *(("turned ", m) for m in turned)):
                        aligned = float("nan")
                        if best.chance_any < CLAIM_CHANCE:
                            aligned = aligned_z(rgb[:rows_read], best, full_height=rh)[0]
                        name = f"{best.payload} {path.name} ({route}, {best.orientation})"
                        rows.append(
                            (kind, label + route, best.block_z, best.chance_any, name, aligned)
                        )
            except Exception as exc:  # bench: report and go on
                print(f"skip {path.name}: {exc}", file=sys.stderr)
                continue
    bar = -math.log10(CLAIM_CHANCE)
    print(f"claim bar: chance_any < {CLAIM_CHANCE:g} (-log10 {bar:.0f})")
    print(f"and aligned z >= {MIN_ALIGNED_Z}")
    for kind in ("camera", "generator"):
        for route in ("as is", "webp 1080 q80", "turned as is", "turned webp 1080 q80"):
            sel = [r for r in rows if r[0] == kind and r[1] == route]
            if not sel:
                continue
            claims = [r for r in sel if r[3] < CLAIM_CHANCE]
            both = [r for r in claims if r[5] >= MIN_ALIGNED_Z]
            top = max(sel, key=lambda r: r[2])
            print(
                f"{kind}, {route}: {len(sel)} files, claims by chance alone {len(claims)}, "
                f"by both bars {len(both)}; strongest z {top[2]:.1f} ({top[4]})"
            )
            for r in sorted(sel, key=lambda r: -r[2]):
                if r[2] >= 4.0:
                    print(f"  z {r[2]:5.1f}  chance {r[3]:.1e}  aligned z {r[5]:5.2f}  {r[4]}")
    files = sum(1 for r in rows if not r[1].startswith("turned"))
    print(f"decode time: {spent / max(1, files) * 1000:.0f} ms per file (mean, {files} reads)")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared"))
