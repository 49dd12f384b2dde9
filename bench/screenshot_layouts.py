#!/usr/bin/env python3
"""Screenshot composites of camera photos, made by code, to measure what the synthetic
question says about them (measure only: nothing is chosen on these files).

    python bench/screenshot_layouts.py OUT [--shared DIR]
    triage check -f jsonl -o shots.jsonl OUT/*.png

Photos: every fourth (by path) of the ``../shared/corpus/camera`` JPEGs whose short side
is at least 1200 px, at most 6. Each goes into five layouts, none of them the drawn
interface of the synthpix training chain (triage/train/screens.py):

* ``chat``: a 1080-px phone screen, status and title bars, a text bubble, the photo
  area-averaged to 700 px wide in a bubble;
* ``meme``: the photo at 800 px wide (Lanczos) under a white caption band;
* ``grid``: this photo and the next one side by side, 530 px wide each (bicubic);
* ``post``: a white card with an avatar and text, the photo at 1090 px wide (Lanczos);
* ``phone``: a phone's screenshot of a post: a black status bar, a white header, the
  photo across the full 1080 px (Lanczos), a white bar of icons.

All saved as PNG, as a screenshot keeps them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def photos(shared: Path, count: int = 6) -> list[Path]:
    """The camera photos the composites are made of (see the module docstring)."""
    from PIL import Image

    found = []
    for p in sorted((shared / "corpus" / "camera").rglob("*")):
        if p.suffix.lower() not in (".jpg", ".jpeg"):
            continue
        try:
            with Image.open(p) as im:
                if min(im.size) >= 1200:
                    found.append(p)
        except Exception:
            continue
    return found[:: max(1, len(found) // count)][:count]


def to_width(rgb: np.ndarray, width: int, kernel: str) -> np.ndarray:
    from triage.train.screens import downscale

    return downscale(rgb, width / rgb.shape[1], kernel)


def _font(size: int):  # type: ignore[no-untyped-def]
    from PIL import ImageFont

    return ImageFont.load_default(size=size)


def chat(rgb: np.ndarray) -> np.ndarray:
    from PIL import Image, ImageDraw

    width = 1080
    photo = to_width(rgb, 700, "area")
    im = Image.new("RGB", (width, 660 + photo.shape[0]), (236, 229, 221))
    d = ImageDraw.Draw(im)
    d.rectangle((0, 0, width, 160), fill=(7, 94, 84))
    d.text((30, 15), "12:41   LTE  87%", fill="white", font=_font(34))
    d.text((120, 90), "Family group", fill="white", font=_font(44))
    d.rounded_rectangle((40, 190, 700, 330), 24, fill="white")
    d.text((70, 220), "look what we saw today!!", fill=(20, 20, 20), font=_font(40))
    d.rounded_rectangle((width - 760, 360, width - 30, 440 + photo.shape[0]), 24, (220, 248, 198))
    im.paste(Image.fromarray(photo), (width - 745, 375))
    d.text((width - 200, 390 + photo.shape[0]), "12:40 vv", fill=(90, 90, 90), font=_font(30))
    return np.asarray(im)


def meme(rgb: np.ndarray) -> np.ndarray:
    from PIL import Image, ImageDraw

    photo = to_width(rgb, 800, "lanczos")
    im = Image.new("RGB", (800, photo.shape[0] + 180), "white")
    ImageDraw.Draw(im).text(
        (40, 50), "when the weekend finally arrives", fill="black", font=_font(52)
    )
    im.paste(Image.fromarray(photo), (0, 180))
    return np.asarray(im)


def grid(rgb: np.ndarray, other: np.ndarray) -> np.ndarray:
    from PIL import Image

    a, b = to_width(rgb, 530, "bicubic"), to_width(other, 530, "bicubic")
    im = Image.new("RGB", (1080, max(a.shape[0], b.shape[0]) + 20), "white")
    im.paste(Image.fromarray(a), (5, 10))
    im.paste(Image.fromarray(b), (545, 10))
    return np.asarray(im)


def post(rgb: np.ndarray) -> np.ndarray:
    from PIL import Image, ImageDraw

    photo = to_width(rgb, 1090, "lanczos")
    im = Image.new("RGB", (1170, photo.shape[0] + 420), "white")
    d = ImageDraw.Draw(im)
    d.ellipse((40, 40, 140, 140), fill=(29, 155, 240))
    d.text((170, 50), "Some Account  @someaccount · 2h", fill=(15, 20, 25), font=_font(36))
    d.text(
        (40, 170), "Sunset from the ferry tonight. No filter.", fill=(15, 20, 25), font=_font(40)
    )
    im.paste(Image.fromarray(photo), (40, 260))
    d.text((40, photo.shape[0] + 300), "12   340   2.1K", fill=(83, 100, 113), font=_font(34))
    return np.asarray(im)


def phone(rgb: np.ndarray) -> np.ndarray:
    from PIL import Image, ImageDraw

    photo = to_width(rgb, 1080, "lanczos")
    height = 230 + photo.shape[0] + 220
    im = Image.new("RGB", (1080, height), "white")
    d = ImageDraw.Draw(im)
    d.rectangle((0, 0, 1080, 90), fill="black")
    d.text((30, 20), "12:41", fill="white", font=_font(40))
    d.text((30, 110), "someaccount  Follow", fill="black", font=_font(40))
    im.paste(Image.fromarray(photo), (0, 230))
    for j in range(5):
        x = 60 + j * 210
        d.rectangle((x, height - 150, x + 50, height - 100), outline=(30, 30, 30), width=4)
    return np.asarray(im)


def main(argv: list[str] | None = None) -> int:
    from PIL import Image

    ap = argparse.ArgumentParser()
    ap.add_argument("out", type=Path)
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    chosen = photos(args.shared)
    pixels = [np.asarray(Image.open(p).convert("RGB")) for p in chosen]
    for i, (path, rgb) in enumerate(zip(chosen, pixels, strict=True)):
        other = pixels[(i + 1) % len(pixels)]
        for name, img in (
            ("chat", chat(rgb)),
            ("meme", meme(rgb)),
            ("grid", grid(rgb, other)),
            ("post", post(rgb)),
            ("phone", phone(rgb)),
        ):
            Image.fromarray(img).save(args.out / f"{path.stem}-{name}.png")
    print(f"{5 * len(chosen)} composites of {len(chosen)} photos in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
