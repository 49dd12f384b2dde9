"""Graphics drawn by code: charts, diagrams, slides, interface and code screenshots,
shaded renders, gradients and vector art, each deterministic for a seed.

The synthpix model tells a generator's decoder from a camera. Graphics have neither a
sensor nor a decoder: text, flat colour, anti-aliased edges and smooth software shading.
A model that never saw them reads them as "not a camera", hence as generated. These
images go into synthpix's non-generated class (through the same platform chains as
every training image), so that "not a camera" is no longer the same as "generated".

Fonts: only what ships with Pillow (its built-in scalable font) and OpenCV (the Hershey
fonts), so that the same seed draws the same image on any machine. Drawing is done at
1x or at 2-3x and downscaled (how most software anti-aliases), chosen per image.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

KINDS = ("chart", "diagram", "slide", "ui", "code", "render", "vector")
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_HERSHEY = (0, 1, 2, 3, 4, 6, 7)  # cv2.FONT_HERSHEY_* except the script fonts' italics flag


def _rgb(rng: np.random.Generator, lo: int = 0, hi: int = 256) -> tuple[int, int, int]:
    r, g, b = (int(v) for v in rng.integers(lo, hi, 3))
    return (r, g, b)


def _word(rng: np.random.Generator) -> str:
    w = "".join(_LETTERS[int(i)] for i in rng.integers(0, 26, int(rng.integers(2, 10))))
    return w.capitalize() if rng.random() < 0.3 else w


def _words(rng: np.random.Generator, n: int) -> str:
    return " ".join(_word(rng) for _ in range(n))


def _formula(rng: np.random.Generator) -> str:
    v = "xyzwqpk"
    a, b, c = (v[int(i)] for i in rng.integers(0, len(v), 3))
    forms = (
        f"{a} = E({b})",
        f"L = ||{a} - D({b})||^2",
        f"p({a}|{b}) = N({a}; mu, s^2)",
        f"{a}_t = sqrt(a_t) {a}_0 + e",
        f"f({a}) = {int(rng.integers(2, 9))}{b}^2 + {c}",
        f"sum_i {a}_i / n",
    )
    return forms[int(rng.integers(0, len(forms)))]


class _Canvas:
    """A Pillow canvas drawn at ``ss`` times the output size, with text helpers."""

    def __init__(self, w: int, h: int, ss: int, ground: tuple[int, int, int]) -> None:
        from PIL import Image, ImageDraw

        self.w, self.h, self.ss = w, h, ss
        self.im = Image.new("RGB", (w * ss, h * ss), ground)
        self.draw = ImageDraw.Draw(self.im)

    def font(self, size: float) -> Any:  # Pillow's font classes differ by version
        from PIL import ImageFont

        try:
            return ImageFont.load_default(size=max(6, int(size * self.ss)))
        except TypeError:  # Pillow without FreeType: the fixed bitmap font
            return ImageFont.load_default()

    def s(self, *v: float) -> list[int]:
        return [round(x * self.ss) for x in v]

    def text(self, xy: tuple[float, float], s: str, size: float, ink: tuple[int, int, int]) -> None:
        x, y = self.s(*xy)
        self.draw.text((x, y), s, fill=ink, font=self.font(size))

    def paste_array(self, arr: np.ndarray, x: float, y: float) -> None:
        from PIL import Image

        px, py = self.s(x, y)
        self.im.paste(Image.fromarray(arr), (px, py))

    def result(self) -> np.ndarray:
        from PIL import Image

        if self.ss == 1:
            return np.asarray(self.im).copy()
        return np.asarray(self.im.resize((self.w, self.h), Image.Resampling.LANCZOS)).copy()


def _gradient(
    h: int, w: int, c0: tuple[int, ...], c1: tuple[int, ...], rng: np.random.Generator
) -> np.ndarray:
    """A linear (or radial) gradient from ``c0`` to ``c1``, uint8 RGB."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    if rng.random() < 0.25:
        cy, cx = rng.uniform(0, h), rng.uniform(0, w)
        t = np.hypot(yy - cy, xx - cx) / max(1.0, float(np.hypot(h, w)))
    else:
        a = rng.uniform(0, 2 * np.pi)
        t = xx * np.cos(a) + yy * np.sin(a)
        t = (t - t.min()) / max(1e-6, float(t.max() - t.min()))
    t = np.clip(t, 0, 1)[..., None]
    out = np.asarray(c0, np.float32) * (1 - t) + np.asarray(c1, np.float32) * t
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def _arrow(c: _Canvas, p0: tuple[float, float], p1: tuple[float, float], ink, width: float) -> None:
    c.draw.line(c.s(*p0, *p1), fill=ink, width=max(1, int(width * c.ss)))
    d = np.subtract(p1, p0).astype(float)
    n = float(np.hypot(*d)) or 1.0
    d /= n
    head = 4 + 3 * width
    left = (p1[0] - head * d[0] + head * 0.5 * d[1], p1[1] - head * d[1] - head * 0.5 * d[0])
    right = (p1[0] - head * d[0] - head * 0.5 * d[1], p1[1] - head * d[1] + head * 0.5 * d[0])
    c.draw.polygon([tuple(c.s(*p1)), tuple(c.s(*left)), tuple(c.s(*right))], fill=ink)


def _chart(c: _Canvas, rng: np.random.Generator) -> None:
    w, h = c.w, c.h
    ink = (30, 30, 30) if rng.random() < 0.8 else _rgb(rng, 0, 90)
    fs = max(8.0, min(w, h) * rng.uniform(0.025, 0.05))
    c.text((w * 0.1, h * 0.02), _words(rng, int(rng.integers(2, 6))), fs * 1.3, ink)
    x0, y0, x1, y1 = w * 0.12, h * 0.15, w * 0.95, h * 0.85
    kind = int(rng.integers(0, 4))
    if rng.random() < 0.7:
        grid = _rgb(rng, 200, 240)
        for i in range(int(rng.integers(3, 9))):
            y = y0 + (y1 - y0) * i / 8
            c.draw.line(c.s(x0, y, x1, y), fill=grid, width=max(1, c.ss))
            c.text((x0 - fs * 2.5, y - fs * 0.5), f"{int(rng.integers(0, 1000))}", fs * 0.8, ink)
    c.draw.line(c.s(x0, y1, x1, y1), fill=ink, width=max(1, 2 * c.ss // 2))
    c.draw.line(c.s(x0, y0, x0, y1), fill=ink, width=max(1, 2 * c.ss // 2))
    n = int(rng.integers(3, 16))
    cols = [_rgb(rng, 20, 230) for _ in range(4)]
    if kind == 0:  # bars, some with gradient fills
        bw = (x1 - x0) / n
        for i in range(n):
            top = y1 - (y1 - y0) * rng.uniform(0.1, 0.95)
            box = (x0 + i * bw + bw * 0.15, top, x0 + (i + 1) * bw - bw * 0.15, y1)
            if rng.random() < 0.3:
                bx = [int(v) for v in c.s(*box)]
                if bx[2] > bx[0] and bx[3] > bx[1]:
                    g = _gradient(bx[3] - bx[1], bx[2] - bx[0], cols[0], cols[1], rng)
                    c.paste_array(g, box[0], box[1])
            else:
                c.draw.rectangle(c.s(*box), fill=cols[i % 2])
            c.text((box[0], y1 + fs * 0.3), _word(rng)[:4], fs * 0.8, ink)
    elif kind == 1:  # lines with markers
        for k in range(int(rng.integers(1, 4))):
            ys = np.cumsum(rng.normal(0, 1, n + 1))
            ys = y0 + (y1 - y0) * (1 - (ys - ys.min()) / max(1e-6, np.ptp(ys)))
            xs = np.linspace(x0, x1, n + 1)
            pts = [tuple(c.s(float(a), float(b))) for a, b in zip(xs, ys, strict=True)]
            c.draw.line(pts, fill=cols[k], width=max(1, int(rng.uniform(1, 4) * c.ss)))
            if rng.random() < 0.5:
                dot = 3 * c.ss
                for px, py in pts:
                    c.draw.ellipse((px - dot, py - dot, px + dot, py + dot), fill=cols[k])
    elif kind == 2:  # pie
        cx, cy, rad = (x0 + x1) / 2, (y0 + y1) / 2, min(x1 - x0, y1 - y0) * 0.45
        parts = np.cumsum(rng.dirichlet(np.ones(int(rng.integers(2, 7))))) * 360
        start = 0.0
        for end in parts:
            c.draw.pieslice(
                c.s(cx - rad, cy - rad, cx + rad, cy + rad), start, float(end), fill=_rgb(rng)
            )
            start = float(end)
    else:  # scatter
        for _ in range(int(rng.integers(20, 300))):
            sx, sy = rng.uniform(x0, x1), rng.uniform(y0, y1)
            rad = rng.uniform(1.5, 5)
            c.draw.ellipse(
                c.s(sx - rad, sy - rad, sx + rad, sy + rad), fill=cols[int(rng.integers(0, 4))]
            )
    if rng.random() < 0.6:  # legend
        for i in range(int(rng.integers(1, 4))):
            y = y0 + i * fs * 1.4
            c.draw.rectangle(c.s(x1 - fs * 8, y, x1 - fs * 7, y + fs), fill=cols[i])
            c.text((x1 - fs * 6.5, y - fs * 0.1), _word(rng), fs * 0.9, ink)


def _box(c: _Canvas, rng: np.random.Generator, box: tuple[float, float, float, float]) -> None:
    """A diagram's box: flat, gradient, shadowed or a shaded 3-D slab, with a label."""
    x0, y0, x1, y1 = box
    fill, edge = _rgb(rng, 60, 250), _rgb(rng, 0, 120)
    style = int(rng.integers(0, 4))
    if style == 1 and rng.random() < 0.7:  # soft drop shadow
        from PIL import Image, ImageDraw, ImageFilter

        off = rng.uniform(2, 6)
        sh = Image.new("L", c.im.size, 0)
        ImageDraw.Draw(sh).rectangle(c.s(x0 + off, y0 + off, x1 + off, y1 + off), fill=110)
        sh = sh.filter(ImageFilter.GaussianBlur(3 * c.ss))
        c.im.paste((80, 80, 80), (0, 0), sh)
    if style == 2:  # shaded slab (a network layer drawn in perspective)
        dx, dy = (x1 - x0) * 0.3, -(y1 - y0) * 0.2
        dark = tuple(int(v * 0.7) for v in fill)
        light = tuple(min(255, int(v * 1.15)) for v in fill)
        c.draw.polygon(
            [tuple(c.s(*p)) for p in ((x0, y0), (x0 + dx, y0 + dy), (x1 + dx, y0 + dy), (x1, y0))],
            fill=light,
            outline=edge,
        )
        c.draw.polygon(
            [tuple(c.s(*p)) for p in ((x1, y0), (x1 + dx, y0 + dy), (x1 + dx, y1 + dy), (x1, y1))],
            fill=dark,
            outline=edge,
        )
    bx = [int(v) for v in c.s(x0, y0, x1, y1)]
    if style in (2, 3) and bx[2] > bx[0] + 1 and bx[3] > bx[1] + 1:
        other = _rgb(rng, 60, 250)
        c.paste_array(_gradient(bx[3] - bx[1], bx[2] - bx[0], fill, other, rng), x0, y0)
        c.draw.rectangle(bx, outline=edge, width=max(1, c.ss))
    else:
        c.draw.rounded_rectangle(
            bx,
            radius=int(rng.uniform(0, 0.3) * (bx[3] - bx[1])),
            fill=fill,
            outline=edge,
            width=max(1, c.ss),
        )
    fs = max(7.0, (y1 - y0) * rng.uniform(0.18, 0.35))
    label = _formula(rng) if rng.random() < 0.3 else _words(rng, int(rng.integers(1, 3)))
    ink = (0, 0, 0) if sum(fill) > 380 else (255, 255, 255)
    c.text((x0 + (x1 - x0) * 0.08, y0 + (y1 - y0) * 0.3), label, fs, ink)


def _diagram(c: _Canvas, rng: np.random.Generator) -> None:
    w, h = c.w, c.h
    n = int(rng.integers(2, 7))
    rows = int(rng.integers(1, 3))
    boxes = []
    for r in range(rows):
        for i in range(n):
            bw = w / n * rng.uniform(0.45, 0.75)
            bh = h / (rows + 1) * rng.uniform(0.3, 0.7)
            cx = w * (i + 0.5) / n
            cy = h * (r + 1) / (rows + 1) + rng.uniform(-0.05, 0.05) * h
            boxes.append((cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2))
    ink = _rgb(rng, 0, 80)
    for b in boxes:
        _box(c, rng, b)
    for a, b in itertools.pairwise(boxes):
        if rng.random() < 0.8:
            p0 = (a[2], (a[1] + a[3]) / 2)
            p1 = (b[0], (b[1] + b[3]) / 2)
            if b[0] < a[2]:
                p0, p1 = ((a[0] + a[2]) / 2, a[3]), ((b[0] + b[2]) / 2, b[1])
            _arrow(c, p0, p1, ink, rng.uniform(1, 3))
    if rng.random() < 0.6:
        fs = max(8.0, h * rng.uniform(0.03, 0.06))
        c.text((w * 0.05, h * 0.02), _formula(rng) + "   " + _words(rng, 2), fs, ink)


def _slide(c: _Canvas, rng: np.random.Generator) -> None:
    w, h = c.w, c.h
    if rng.random() < 0.5:
        c.paste_array(
            _gradient(c.h * c.ss, c.w * c.ss, _rgb(rng, 150, 256), _rgb(rng, 0, 256), rng), 0, 0
        )
    dark = rng.random() < 0.3
    ink = (240, 240, 240) if dark else _rgb(rng, 0, 70)
    if dark:
        c.draw.rectangle((0, 0, *c.im.size), fill=_rgb(rng, 0, 50))
    fs = max(10.0, h * rng.uniform(0.05, 0.09))
    c.text((w * 0.07, h * 0.06), _words(rng, int(rng.integers(2, 6))), fs, ink)
    c.draw.rectangle(c.s(w * 0.07, h * 0.06 + fs * 1.4, w * 0.5, h * 0.06 + fs * 1.5), fill=ink)
    y = h * 0.25
    for _ in range(int(rng.integers(2, 7))):
        r = fs * 0.12
        c.draw.ellipse(
            c.s(w * 0.08 - r, y + fs * 0.3 - r, w * 0.08 + r, y + fs * 0.3 + r), fill=ink
        )
        c.text((w * 0.1, y), _words(rng, int(rng.integers(3, 9))), fs * 0.6, ink)
        y += fs
    if rng.random() < 0.6:
        _box(c, rng, (w * 0.6, h * 0.45, w * 0.92, h * 0.75))


def _ui(c: _Canvas, rng: np.random.Generator) -> None:
    w, h = c.w, c.h
    dark = rng.random() < 0.35
    bg = _rgb(rng, 20, 50) if dark else _rgb(rng, 235, 256)
    ink = (225, 225, 225) if dark else _rgb(rng, 10, 70)
    accent = _rgb(rng, 0, 230)
    c.draw.rectangle((0, 0, *c.im.size), fill=bg)
    bar = h * rng.uniform(0.05, 0.1)
    c.draw.rectangle(c.s(0, 0, w, bar), fill=_rgb(rng, 0, 256))
    for i in range(3):
        r = bar * 0.18
        cx = bar * 0.5 + i * bar * 0.5
        c.draw.ellipse(c.s(cx - r, bar / 2 - r, cx + r, bar / 2 + r), fill=_rgb(rng, 80, 256))
    fs = max(7.0, h * rng.uniform(0.02, 0.04))
    c.text((w * 0.3, bar * 0.25), _words(rng, 3), fs, (255, 255, 255))
    side = w * rng.uniform(0.0, 0.25)
    if side > 10:
        c.draw.rectangle(
            c.s(0, bar, side, h), fill=_rgb(rng, 0, 256) if dark else _rgb(rng, 220, 245)
        )
        for i in range(int(rng.integers(3, 12))):
            c.text((side * 0.1, bar + fs * (1 + 1.8 * i)), _word(rng), fs, ink)
    y = bar + fs
    while y < h - 3 * fs:
        r = rng.random()
        x = side + w * 0.04
        if r < 0.25:  # a button
            bw = fs * rng.uniform(4, 10)
            c.draw.rounded_rectangle(
                c.s(x, y, x + bw, y + fs * 2), radius=int(fs * c.ss * 0.5), fill=accent
            )
            c.text((x + fs * 0.6, y + fs * 0.4), _word(rng), fs, (255, 255, 255))
            y += fs * 3
        elif r < 0.45:  # an input field
            c.draw.rounded_rectangle(
                c.s(x, y, w * 0.9, y + fs * 2),
                radius=int(fs * c.ss * 0.3),
                outline=ink,
                width=max(1, c.ss),
            )
            c.text((x + fs * 0.5, y + fs * 0.4), _words(rng, 2), fs, _rgb(rng, 100, 180))
            y += fs * 3
        elif r < 0.55:  # an icon or avatar
            d = fs * rng.uniform(1.5, 4)
            c.draw.ellipse(c.s(x, y, x + d, y + d), fill=_rgb(rng))
            c.text((x + d * 1.3, y + d * 0.3), _words(rng, 2), fs, ink)
            y += d + fs
        else:
            c.text((x, y), _words(rng, int(rng.integers(2, 12))), fs, ink)
            y += fs * 1.6


def _code(c: _Canvas, rng: np.random.Generator) -> None:
    import cv2

    dark = rng.random() < 0.6
    bg = _rgb(rng, 15, 45) if dark else _rgb(rng, 240, 256)
    arr = np.empty((c.h * c.ss, c.w * c.ss, 3), np.uint8)
    arr[:] = bg
    palette = [_rgb(rng, 120, 256) if dark else _rgb(rng, 0, 150) for _ in range(5)]
    scale = rng.uniform(0.35, 0.8) * c.ss
    font = _HERSHEY[int(rng.integers(0, 3))] if rng.random() < 0.5 else cv2.FONT_HERSHEY_PLAIN
    line = int(max(8, 30 * scale))
    y = line
    gutter = int(rng.random() < 0.6) * int(40 * scale)
    while y < arr.shape[0]:
        if gutter:
            cv2.putText(arr, str(y // line), (4, y), font, scale, palette[4], 1, cv2.LINE_AA)
        x = gutter + 8 + int(rng.integers(0, 5)) * int(20 * scale)
        for _ in range(int(rng.integers(0, 7))):
            tok = _word(rng) + str(rng.choice(["(", ")", ":", " =", ".", ",", ""]))
            cv2.putText(
                arr, tok, (x, y), font, scale, palette[int(rng.integers(0, 4))], 1, cv2.LINE_AA
            )
            x += int(len(tok) * 18 * scale) + int(10 * scale)
        y += line
    c.paste_array(arr, 0, 0)


def _render(c: _Canvas, rng: np.random.Generator) -> None:
    """Phong-shaded spheres and boxes over a gradient floor: a software render."""
    H, W = c.h * c.ss, c.w * c.ss
    img = _gradient(H, W, _rgb(rng, 0, 256), _rgb(rng, 0, 256), rng).astype(np.float32)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    light = rng.normal(size=3)
    light[2] = abs(light[2]) + 0.5
    light /= np.linalg.norm(light)
    for _ in range(int(rng.integers(1, 6))):
        r = rng.uniform(0.08, 0.35) * min(H, W)
        cx, cy = rng.uniform(0, W), rng.uniform(0, H)
        dx, dy = (xx - cx) / r, (yy - cy) / r
        d2 = dx * dx + dy * dy
        inside = d2 < 1
        # shadow on the ground first
        sx, sy = cx + light[0] * r * 0.6, cy + light[1] * r * 0.6 + r * 0.9
        sh = np.exp(-(((xx - sx) / r) ** 2 + ((yy - sy) / (0.35 * r)) ** 2) * 2.0)
        img *= (1 - 0.45 * sh)[..., None]
        nz = np.sqrt(np.clip(1 - d2, 0, 1))
        lam = np.clip(dx * light[0] + dy * light[1] + nz * light[2], 0, 1)
        refl_z = 2 * lam * nz - light[2]
        spec = np.clip(refl_z, 0, 1) ** rng.uniform(8, 80)
        base = np.asarray(_rgb(rng, 30, 256), np.float32)
        amb = rng.uniform(0.05, 0.3)
        shade = (
            base * (amb + (1 - amb) * lam)[..., None]
            + 255 * rng.uniform(0.2, 0.9) * spec[..., None]
        )
        edge = np.clip((1 - np.sqrt(d2)) * r, 0, 1)[..., None] if c.ss == 1 else inside[..., None]
        img = np.where(inside[..., None], img * (1 - edge) + shade * edge, img)
    if rng.random() < 0.5:  # a render's dither or film grain
        img += rng.normal(0, rng.uniform(0.3, 2.5), img.shape).astype(np.float32)
    c.paste_array(np.clip(img + 0.5, 0, 255).astype(np.uint8), 0, 0)


def _vector(c: _Canvas, rng: np.random.Generator) -> None:
    """Logos and vector art: gradient ground, polygons, rings, a word mark."""
    if rng.random() < 0.6:
        c.paste_array(
            _gradient(c.h * c.ss, c.w * c.ss, _rgb(rng, 0, 256), _rgb(rng, 0, 256), rng), 0, 0
        )
    w, h = c.w, c.h
    for _ in range(int(rng.integers(2, 12))):
        k = int(rng.integers(0, 3))
        cx, cy, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(0.05, 0.4) * min(w, h)
        col = _rgb(rng)
        if k == 0:
            c.draw.ellipse(c.s(cx - r, cy - r, cx + r, cy + r), fill=col)
        elif k == 1:
            m = int(rng.integers(3, 9))
            ang = np.sort(rng.uniform(0, 2 * np.pi, m))
            pts = [tuple(c.s(cx + r * np.cos(a), cy + r * np.sin(a))) for a in ang]
            c.draw.polygon(pts, fill=col)
        else:
            c.draw.ellipse(
                c.s(cx - r, cy - r, cx + r, cy + r), outline=col, width=max(1, int(r * 0.15 * c.ss))
            )
    if rng.random() < 0.7:
        fs = min(w, h) * rng.uniform(0.08, 0.2)
        c.text((w * rng.uniform(0.05, 0.4), h * rng.uniform(0.3, 0.7)), _word(rng), fs, _rgb(rng))


_DRAW = {
    "chart": _chart,
    "diagram": _diagram,
    "slide": _slide,
    "ui": _ui,
    "code": _code,
    "render": _render,
    "vector": _vector,
}


def graphic(seed: int, kind: str | None = None, size: tuple[int, int] | None = None) -> np.ndarray:
    """An RGB uint8 graphic drawn by code, the same for the same ``seed``.

    ``kind`` is one of ``KINDS`` (by default ``KINDS[seed % len(KINDS)]``); ``size``
    (width, height) is drawn at random between 200 and 2000 px a side when not given.
    """
    rng = np.random.default_rng([seed, 0x6A7])
    kind = kind or KINDS[seed % len(KINDS)]
    if size is None:
        long = int(np.exp(rng.uniform(np.log(200), np.log(2000))))
        aspect = float(np.exp(rng.uniform(np.log(0.5), np.log(2.0))))
        w, h = (
            (long, max(200, int(long / aspect)))
            if aspect >= 1
            else (max(200, int(long * aspect)), long)
        )
    else:
        w, h = size
    # Supersampled drawing (smoother edges) is used for a third of images, not above
    # 2 Mpx drawn, so memory stays bounded.
    ss = int(rng.choice([1, 1, 2, 3]))
    while ss > 1 and (w * ss) * (h * ss) > 8_000_000:
        ss -= 1
    ground = (255, 255, 255) if rng.random() < 0.6 else _rgb(rng, 180, 256)
    canvas = _Canvas(w, h, ss, ground)
    _DRAW[kind](canvas, rng)
    return canvas.result()
