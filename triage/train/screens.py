"""Screenshot-like copies of an image, drawn by code: downscaled and kept lossless, and
optionally pasted into a flat interface with margins, bars and text.

A screenshot of a social post or a chat holds a photo the app has downscaled (with its
own resampling kernel) and that the screenshot then keeps lossless (PNG). A model of
fine pixel detail that never saw such a copy in training reads the smooth, alias-free
result of the downscale as "not a camera". The synthpix training chains give this copy
to both classes, so that "downscaled and lossless" is never what separates them.
"""

from __future__ import annotations

import numpy as np

# Resampling kernels of image libraries and apps: Pillow's filters and OpenCV's area
# average (what most mobile image pipelines use to shrink).
KERNELS = ("lanczos", "bicubic", "bilinear", "hamming", "box", "area")
SCALE_RANGE = (0.3, 0.9)


def downscale(rgb: np.ndarray, scale: float, kernel: str) -> np.ndarray:
    """``rgb`` resized by ``scale`` with one of ``KERNELS``; at least 1 px a side."""
    h, w = rgb.shape[:2]
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    if kernel == "area":
        import cv2

        return np.ascontiguousarray(cv2.resize(rgb, size, interpolation=cv2.INTER_AREA))
    from PIL import Image

    filters = {
        "lanczos": Image.Resampling.LANCZOS,
        "bicubic": Image.Resampling.BICUBIC,
        "bilinear": Image.Resampling.BILINEAR,
        "hamming": Image.Resampling.HAMMING,
        "box": Image.Resampling.BOX,
    }
    return np.asarray(Image.fromarray(rgb).resize(size, filters[kernel]))


def _words(rng: np.random.Generator, n: int) -> str:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return " ".join(
        "".join(letters[int(i)] for i in rng.integers(0, 26, int(rng.integers(2, 9))))
        for _ in range(n)
    )


def post_canvas(photo: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``photo`` pasted into a flat interface like a social post or chat screenshot:
    a light or dark background, a header bar with an avatar and a name, lines of text
    above and below, a row of buttons; margins of 2-12% of the photo's width."""
    from PIL import Image, ImageDraw, ImageFont

    ph, pw = photo.shape[:2]
    dark = bool(rng.random() < 0.3)
    bg = tuple(int(v) for v in (rng.integers(0, 40, 3) if dark else rng.integers(235, 256, 3)))
    ink = (230, 230, 230) if dark else tuple(int(v) for v in rng.integers(0, 70, 3))
    margin = max(4, int(pw * rng.uniform(0.02, 0.12)))
    line = max(10, int(pw * rng.uniform(0.025, 0.05)))
    above = int(rng.integers(1, 4))
    below = int(rng.integers(1, 4))
    header = 2 * line + margin
    height = header + above * (line + 6) + ph + below * (line + 6) + 2 * line + 2 * margin
    im = Image.new("RGB", (pw + 2 * margin, height), bg)
    draw = ImageDraw.Draw(im)
    try:
        font = ImageFont.load_default(size=line)
    except TypeError:  # Pillow without FreeType: the fixed bitmap font
        font = ImageFont.load_default()
    accent = tuple(int(v) for v in rng.integers(0, 256, 3))
    r = line
    draw.ellipse((margin, margin // 2, margin + 2 * r, margin // 2 + 2 * r), fill=accent)
    draw.text((margin + 3 * r, margin // 2 + r // 2), _words(rng, 2), fill=ink, font=font)
    y = header
    for _ in range(above):
        draw.text((margin, y), _words(rng, int(rng.integers(3, 9))), fill=ink, font=font)
        y += line + 6
    im.paste(Image.fromarray(photo), (margin, y))
    y += ph + 4
    for _ in range(below):
        draw.text((margin, y), _words(rng, int(rng.integers(3, 9))), fill=ink, font=font)
        y += line + 6
    x = margin
    for _ in range(int(rng.integers(2, 5))):
        w = int(line * rng.uniform(2.5, 5))
        draw.rounded_rectangle((x, y, x + w, y + line + 4), radius=line // 3, outline=ink)
        x += w + line
    return np.asarray(im)


def screenshot(
    rgb: np.ndarray, rng: np.random.Generator, min_side: int = 0
) -> tuple[str, np.ndarray]:
    """A random screenshot-like copy of ``rgb``: downscaled by 0.3-0.9 (log-uniform)
    with a random kernel of ``KERNELS``, never below ``min_side`` px on the short side,
    kept lossless, and in half of the copies pasted into :func:`post_canvas`. Returns a
    short name of the chain and the pixels."""
    lo, hi = SCALE_RANGE
    scale = float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
    if min_side:
        scale = max(scale, min(1.0, min_side / min(rgb.shape[:2])))
    kernel = KERNELS[int(rng.integers(0, len(KERNELS)))]
    out = downscale(rgb, scale, kernel)
    name = f"x{scale:.2f}{kernel}"
    if rng.random() < 0.5:
        out = post_canvas(out, rng)
        name += "+post"
    return name, out
