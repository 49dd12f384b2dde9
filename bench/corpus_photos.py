"""The corpus's pictures as the desk-side benches read them (corpus_chains, palette,
generated_region): each makes copies of them and checks the copies. Measuring only:
nothing is fitted on the corpus."""

from __future__ import annotations

import argparse
import csv
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image

    from triage.report import Report

ROOT = Path(__file__).resolve().parent.parent


def arguments(description: str) -> argparse.Namespace | None:
    """``--corpus`` and ``--jobs`` parsed; None (after saying so) when there is no corpus."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    if not (args.corpus / "labels.tsv").is_file():
        print(f"{args.corpus}: no corpus here: skipped")
        return None
    return args


def pictures(corpus: Path, groups: tuple[str, ...]) -> Iterator[tuple[str, Image.Image]]:
    """(path in ``labels.tsv``, RGB picture) of every row under one of ``groups``
    (``camera``, ``generator``...); pictures that do not decode are left out (the
    corpus's malformed files are elsewhere)."""
    from PIL import Image

    with (corpus / "labels.tsv").open(newline="") as fh:
        rows = [r for r in csv.DictReader(fh, delimiter="\t") if r["path"].split("/")[0] in groups]
    for row in rows:
        try:
            with Image.open(corpus / row["path"]) as im:
                rgb = im.convert("RGB")
        except Exception:  # not decodable: not a picture a desk would receive
            continue
        yield row["path"], rgb


def long_side(rgb: Image.Image, side: int) -> Image.Image:
    """``rgb`` brought down to a long side of ``side`` (Lanczos); never enlarged."""
    from PIL import Image

    scale = side / max(rgb.size)
    if scale >= 1:
        return rgb
    return rgb.resize(
        (round(rgb.width * scale), round(rgb.height * scale)), Image.Resampling.LANCZOS
    )


def stem(path: str) -> str:
    """A file name for copies of the picture at ``path`` (labels.tsv), unique: its
    extension is kept (the corpus holds ``x.jpg`` and ``x.png`` side by side)."""
    return path.replace("/", "_")


def check_copies(make: Callable[[Path], list[Path]], jobs: int) -> dict[str, Report]:
    """The reports, by path, of the copies ``make`` writes into a temporary folder
    (removed afterwards), checked with the packaged calibration."""
    from triage.api import analyze_many

    with tempfile.TemporaryDirectory() as tmp:
        return {r.file.path: r for r in analyze_many(make(Path(tmp)), jobs=jobs)}
