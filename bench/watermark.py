#!/usr/bin/env python3
"""The dwtDct watermark decoder on real photos and generator files (the null and the hits).

For every image in ../shared/training/{camera,generator} and ../shared/corpus/{camera,generator}:
the strongest payload association (z over blocks, Bonferroni chance) as the analyzer reads it.
Prints the files above z 4, the strongest camera z against the claim bar, and the timing.

    python bench/watermark.py [SHARED_DIR]
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from triage.analyzers.watermark import CLAIM_CHANCE, MAX_PIXELS, MIN_SIDE  # noqa: E402
from triage.forensics.watermark import match_payloads  # noqa: E402
from triage.media import Media  # noqa: E402

FOLDERS = ("training/camera", "corpus/camera", "training/generator", "corpus/generator")


def main(shared: Path) -> int:
    rows: list[tuple[str, str, float, float, str]] = []
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
                rows_read = max(MIN_SIDE, min(h, MAX_PIXELS // max(w, 1)) // 4 * 4)
                t = time.perf_counter()
                best = match_payloads(media.rgb[:rows_read])[0]
                spent += time.perf_counter() - t
            except Exception as exc:  # bench: report and go on
                print(f"skip {path.name}: {exc}", file=sys.stderr)
                continue
            kind = folder.split("/")[1]
            rows.append(
                (kind, folder, best.block_z, best.chance_any, f"{best.payload} {path.name}")
            )
    bar = -math.log10(CLAIM_CHANCE)
    print(f"claim bar: chance_any < {CLAIM_CHANCE:g} (-log10 {bar:.0f})")
    for kind in ("camera", "generator"):
        sel = [r for r in rows if r[0] == kind]
        claims = [r for r in sel if r[3] < CLAIM_CHANCE]
        top = max(sel, key=lambda r: r[2])
        print(
            f"{kind}: {len(sel)} files, {len(claims)} claims; strongest z {top[2]:.1f} ({top[4]})"
        )
        for r in sorted(sel, key=lambda r: -r[2]):
            if r[2] >= 4.0:
                print(f"  z {r[2]:5.1f}  chance {r[3]:.1e}  {r[1]}: {r[4]}")
    print(
        f"decode time: {spent / max(1, len(rows)) * 1000:.0f} ms per file (mean, {len(rows)} files)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared"))
