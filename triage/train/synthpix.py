"""Fit the patch-level generated-vs-camera model of the ``synthpix`` analyzer.

Positives: the generated panels of ../shared/training/generator (``PANELS``: sample
strips and grids cut into their panels; inputs, diagrams and autoencoder
reconstructions left out, see bench/camera_likeness.py). Negatives: the camera photos
of ../shared/training (editor-processed files left out, :func:`list_sources`), 70% of
source photos fitted, 30% held out by source name; and (model 3) graphics drawn by code
(:mod:`triage.train.graphics`: charts, diagrams, slides, interface and code
screenshots, shaded renders, vector art), which have neither a camera nor a decoder.

Both classes go through the same random chains (``chains``), so that the file format
or a re-save is never the signal: the decoded pixels as they are, JPEG at quality
65-95, and resized by 0.25-1.5x then JPEG. Patches (128 px, informative ones only) of
every variant give the rows; a logistic regression on standardised features (L2)
is the model; an image's score is the mean patch log-odds.

``python -m triage.train synthpix`` retrains the shipped model (about 9 minutes at a
load average of 17 on 2 cores, most of it patch features). ``python bench/synthpix.py
--write-model triage/data/models`` fits the same model from the same rows and also
measures it (leaving one generator family out, and on the corpus panels) and writes
those held-out figures into the manifest, as shipped. Model 3s added smoothed chains
to every class (:func:`add_smooth`): without them, upscaled and blurred camera photos
read as generated (docs/analyzers/synthpix.md); ``--no-smooth`` leaves them out (model
3's rows). Model 5s (shipped) is 3s's rows and fit on features that read a patch and
its quarter turns and mirrors alike; versions are "5", "5s", "5sd".
"""

from __future__ import annotations

import hashlib
import io
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from triage.forensics.genresidual import (
    PATCH,
    feature_names,
    grid_patch_features,
    informative,
    patch_features,
)

VERSION = "5"
MODEL_FILE = "synthpix.npz"
MANIFEST_FILE = "synthpix.manifest.json"
CROP = 768
PATCHES_PER_VARIANT = 16
CAMERA_VARIANTS = 8
GENERATED_VARIANTS = 16
# Graphics drawn by code (triage.train.graphics, seeds 0..GRAPHICS-1) on the camera
# side, GRAPHIC_VARIANTS chains each: not a camera, and not generated either.
GRAPHICS = 160
GRAPHIC_VARIANTS = 4
# Simulated decoders' outputs (model 4): crop side and chains per photo and design.
SIM_CROP = 512
SIM_VARIANTS = 4
# Chain kinds: png, JPEG, resize + JPEG, screenshot-like (downscaled, lossless).
KINDS = 4
# Smoothed chains (since model "3s"; ``smooth_rows=False`` gives model 3's rows):
# extra chains per generated panel / camera photo / graphic, downscaled 1.5-4x and
# upscaled back or blurred (sigma 0.6-1.5), then lossless or JPEG q75-95. The same
# steps for every class, so "smooth" cannot become the class signal.
SMOOTH_VARIANTS = 4
SMOOTH_CAMERA = 2
SMOOTH_GRAPHICS = 1
# Denoised chains (candidate "3sd", off by default: ``denoise_rows=True``,
# ``--denoise``): extra chains per generated panel / camera photo / graphic through one
# denoiser (non-local means h 3-8, or a bilateral filter blended over the image as a
# phone "beauty" mode does), then lossless or JPEG q75-95. The same steps for every
# class, so "denoised" cannot become the class signal; own random stream, added after
# the smoothed rows, so the rows of model 3s are unchanged with it.
DENOISE_VARIANTS = 4
DENOISE_CAMERA = 2
DENOISE_GRAPHICS = 1
LAMBDA = 1e-3
# The generated-vs-graphics regression (model 3): a stronger penalty and an offset
# added to its log-odds, so that it vetoes only what is clearly a graphic. Chosen
# leaving one generator family out, on held-out graphics of bench/synthpix.py (seeds
# from 2,000,000); offset 2 first, 3 after offset 2 lowered generated images drawn in
# a flat graphic style (docs/analyzers/synthpix.md has the grid and the history).
LAMBDA_GRAPHICS = 0.1
GRAPHICS_OFFSET = 3.0

_LD = [(2 + 258 * i, 2, 258 + 258 * i, 258) for i in range(6)]
# path under training/ -> (family, panels as (x0, y0, x1, y1), None = the whole file)
PANELS: dict[str, tuple[str, list[tuple[int, int, int, int]] | None]] = {
    **{
        f"generator/CompVis/assets_{name}.png": ("latent-diffusion", _LD)
        for name in (
            "a-painting-of-a-fire",
            "a-photograph-of-a-fire",
            "a-shirt-with-a-fire-printed-on-it",
            "a-shirt-with-the-inscription-'fire'",
            "a-watercolor-painting-of-a-fire",
            "birdhouse",
            "fire",
            "the-earth-is-on-fire,-oil-on-canvas",
        )
    },
    "generator/CompVis/assets_txt2img-convsample.png": ("sd-1", None),
    "generator/CompVis/assets_stable-samples_img2img_upscaling-out.png": ("sd-x4-upscaler", None),
    "generator/Stability-AI/assets_stable-samples_txt2img_000002025.png": ("sd-2", None),
    "generator/Stability-AI/assets_stable-samples_txt2img_000002035.png": ("sd-2", None),
    "generator/Stability-AI/assets_stable-samples_img2img_mountains-1.png": ("sd-2", None),
    "generator/Stability-AI/assets_stable-samples_img2img_mountains-2.png": ("sd-2", None),
    "generator/Stability-AI/assets_stable-samples_img2img_mountains-3.png": ("sd-2", None),
    # depth2img strips: the first 768-px panel is the input photo.
    "generator/Stability-AI/assets_stable-samples_depth2img_depth2img02.png": (
        "sd-2",
        [(768, 0, 1536, 512), (1536, 0, 2304, 512)],
    ),
    "generator/Stability-AI/assets_stable-samples_depth2img_merged-0004.png": (
        "sd-2",
        [(768, 0, 1536, 512), (1536, 0, 2304, 512)],
    ),
    # unCLIP pairs: the left 730-px panel is the input image.
    **{
        f"generator/Stability-AI/assets_stable-samples_stable-unclip_{name}.jpeg": (
            "sd-2-unclip",
            [(730, 0, 1460, 438 if name.endswith("_out") else 730)],
        )
        for name in ("houses_out", "oldcar000", "oldcar500", "oldcar800", "plates_out")
    },
    # unCLIP variations figure: the left column is the input; the six outputs are
    # shown downscaled (768 -> ~440 px), read 4 px inside their borders.
    "generator/Stability-AI/assets_stable-samples_stable-unclip_unclip-variations.png": (
        "sd-2-unclip",
        [
            (x0 + 4, y0 + 4, x1 - 4, y1 - 4)
            for x0, x1 in ((579, 1025), (1026, 1472), (1473, 1919))
            for y0, y1 in ((0, 446), (477, 923))
        ],
    ),
    "generator/black-forest-labs/assets_robot.webp": ("flux", None),
    # FLUX Redux figure: the left robot is the input; the three outputs, resized in the
    # figure, on white.
    "generator/black-forest-labs/assets_docs_redux.png": (
        "flux",
        [(690, 50, 1060, 400), (640, 520, 1105, 775), (1135, 70, 1460, 680)],
    ),
}


@dataclass
class Rows:
    """Patch feature rows with their label, family/group and source id."""

    x: np.ndarray
    y: np.ndarray
    group: list[str]
    source: list[str]


def load_rgb(path: Path) -> np.ndarray:
    """Decoded RGB pixels of a file."""
    from PIL import Image

    from triage.media import to_rgb

    with Image.open(path) as im:
        return np.asarray(to_rgb(im))


def generated_panels(
    root: Path,
    panels: dict[str, tuple[str, list[tuple[int, int, int, int]] | None]] | None = None,
) -> Iterator[tuple[str, str, np.ndarray]]:
    """(name, family, pixels) of every generated panel of ``panels`` (paths relative to
    ``root``; ``PANELS`` of the training folder by default), byte-identical files once."""
    seen: set[str] = set()
    for rel, (family, boxes) in (PANELS if panels is None else panels).items():
        path = root / rel
        if not path.is_file():
            continue
        digest = hashlib.md5(path.read_bytes()).hexdigest()
        if digest in seen:
            continue
        seen.add(digest)
        rgb = load_rgb(path)
        for i, (x0, y0, x1, y1) in enumerate(boxes or [(0, 0, rgb.shape[1], rgb.shape[0])]):
            yield f"{rel}#{i}", family, np.ascontiguousarray(rgb[y0:y1, x0:x1])


def jpeg(rgb: np.ndarray, quality: int) -> np.ndarray:
    """Pixels after a JPEG round trip (Pillow, 4:2:0 as its default)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=quality)
    with Image.open(io.BytesIO(buf.getvalue())) as im:
        return np.asarray(im.convert("RGB"))


def resize(rgb: np.ndarray, scale: float) -> np.ndarray:
    """Lanczos resize by ``scale``."""
    from PIL import Image

    h, w = rgb.shape[:2]
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.LANCZOS))


def _crop(rgb: np.ndarray, side: int, rng: np.random.Generator) -> np.ndarray:
    h, w = rgb.shape[:2]
    ch, cw = min(h, side), min(w, side)
    y = int(rng.integers(0, h - ch + 1))
    x = int(rng.integers(0, w - cw + 1))
    return rgb[y : y + ch, x : x + cw]


def chains(rgb: np.ndarray, n: int, rng: np.random.Generator) -> list[tuple[str, np.ndarray]]:
    """``n`` random platform variants of one image, the same distribution for both classes.

    Kinds cycle through: decoded pixels kept (a PNG re-save), JPEG q65-95 at native
    size, resized 0.25-1.5x (Lanczos) then JPEG q65-95, and a screenshot-like copy
    (:func:`triage.train.screens.screenshot`: downscaled 0.3-0.9x with one of several
    kernels, kept lossless, half of them in a drawn interface with text). Large images
    are cropped so cost stays bounded.
    """
    from triage.train.screens import SCALE_RANGE, screenshot

    out = []
    for i in range(n):
        kind = i % KINDS
        q = int(rng.integers(65, 96))
        if kind == 3:
            part = np.ascontiguousarray(_crop(rgb, int(CROP / SCALE_RANGE[0]) + 2, rng))
            out.append(screenshot(part, rng, min_side=PATCH))
        elif kind == 0:
            out.append(("png", np.ascontiguousarray(_crop(rgb, CROP, rng))))
        elif kind == 1:
            out.append((f"q{q}", jpeg(np.ascontiguousarray(_crop(rgb, CROP, rng)), q)))
        else:
            s = float(np.exp(rng.uniform(np.log(0.25), np.log(1.5))))
            part = np.ascontiguousarray(_crop(rgb, int(CROP / s) + 2, rng))
            small = resize(part, s)
            if min(small.shape[:2]) < PATCH:
                small = resize(part, PATCH / min(part.shape[:2]))
            out.append((f"x{s:.2f}q{q}", jpeg(small, q)))
    return out


def smooth(rgb: np.ndarray, rng: np.random.Generator) -> tuple[str, np.ndarray]:
    """One smoothing step (:func:`smooth_pixels`), then kept lossless or JPEG q75-95
    (half each). What an editor's resize, a viewer's upscale or a soft lens writes, on
    both classes alike."""
    return _lossless_or_jpeg(*smooth_pixels(rgb, rng), rng)


def smooth_pixels(rgb: np.ndarray, rng: np.random.Generator) -> tuple[str, np.ndarray]:
    """The smoothing of :func:`smooth` alone, same size out, and its name: downscaled
    1.5-4x and upscaled back (Lanczos, bicubic or bilinear, the same filter both ways),
    or a Gaussian blur of sigma 0.6-1.5."""
    import cv2
    from PIL import Image

    h, w = rgb.shape[:2]
    if rng.random() < 0.5:
        f = float(rng.uniform(1.5, 4.0))
        filt, fname = [
            (Image.Resampling.LANCZOS, "lanczos"),
            (Image.Resampling.BICUBIC, "bicubic"),
            (Image.Resampling.BILINEAR, "bilinear"),
        ][int(rng.integers(0, 3))]
        small = Image.fromarray(rgb).resize((max(1, round(w / f)), max(1, round(h / f))), filt)
        out, name = np.asarray(small.resize((w, h), filt)), f"down{f:.1f}{fname}"
    else:
        sigma = float(rng.uniform(0.6, 1.5))
        out, name = cv2.GaussianBlur(np.ascontiguousarray(rgb), (0, 0), sigma), f"blur{sigma:.1f}"
    return name, out


def _lossless_or_jpeg(
    name: str, rgb: np.ndarray, rng: np.random.Generator
) -> tuple[str, np.ndarray]:
    """``rgb`` kept lossless or saved as JPEG q75-95 (half each), named after the step."""
    if rng.random() < 0.5:
        return name, np.ascontiguousarray(rgb)
    q = int(rng.integers(75, 96))
    return f"{name}q{q}", jpeg(np.ascontiguousarray(rgb), q)


def _crop_variants(step: Any, rgb: np.ndarray, n: int, rng: np.random.Generator) -> list[Any]:
    """``n`` outputs of ``step(crop, rng)`` on random ``CROP``-px crops of ``rgb``."""
    return [step(np.ascontiguousarray(_crop(rgb, CROP, rng)), rng) for _ in range(n)]


def smooth_chains(
    rgb: np.ndarray, n: int, rng: np.random.Generator
) -> list[tuple[str, np.ndarray]]:
    """``n`` smoothed variants (:func:`smooth`) of random ``CROP``-px crops of ``rgb``."""
    return _crop_variants(smooth, rgb, n, rng)


def denoise(rgb: np.ndarray, rng: np.random.Generator) -> tuple[str, np.ndarray]:
    """One denoising step (:func:`denoise_pixels`), then kept lossless or JPEG q75-95
    (half each). It removes the sensor noise a camera photo's patches carry, on every
    class alike."""
    return _lossless_or_jpeg(*denoise_pixels(rgb, rng), rng)


def denoise_pixels(rgb: np.ndarray, rng: np.random.Generator) -> tuple[str, np.ndarray]:
    """The denoising of :func:`denoise` alone, same size out, and its name: OpenCV
    non-local means (colour, h = hColor 3-8, 7-px template, 21-px search: a phone night
    mode or a raw converter's noise reduction), or a bilateral filter (diameter 5-9,
    sigma colour 20-60, sigma space 3-8) blended at weight 0.5-1 over the image (a
    "beauty" mode)."""
    import cv2

    src = np.ascontiguousarray(rgb)
    if rng.random() < 0.5:
        h = float(rng.uniform(3.0, 8.0))
        out, name = cv2.fastNlMeansDenoisingColored(src, None, h, h, 7, 21), f"nlm{h:.1f}"
    else:
        d = int(rng.choice([5, 7, 9]))
        sc, ss = float(rng.uniform(20.0, 60.0)), float(rng.uniform(3.0, 8.0))
        a = float(rng.uniform(0.5, 1.0))
        smooth = cv2.bilateralFilter(src, d, sc, ss).astype(np.float64)
        out = np.clip((1 - a) * src + a * smooth + 0.5, 0, 255).astype(np.uint8)
        name = f"bil{d}-{sc:.0f}-{ss:.1f}a{a:.2f}"
    return name, out


def denoise_chains(
    rgb: np.ndarray, n: int, rng: np.random.Generator
) -> list[tuple[str, np.ndarray]]:
    """``n`` denoised variants (:func:`denoise`) of random ``CROP``-px crops of ``rgb``."""
    return _crop_variants(denoise, rgb, n, rng)


class RowSink:
    """Collects feature rows as ``add(feats, label, group, source)`` hands them over."""

    def __init__(self) -> None:
        self.xs: list[np.ndarray] = []
        self.ys: list[int] = []
        self.groups: list[str] = []
        self.sources: list[str] = []

    def add(self, feats: np.ndarray, label: int, group: str, source: str) -> None:
        self.xs.append(feats)
        self.ys.extend([label] * len(feats))
        self.groups.extend([group] * len(feats))
        self.sources.extend([source] * len(feats))

    def rows(self) -> Rows:
        x = np.vstack(self.xs) if self.xs else np.zeros((0, len(feature_names())))
        return Rows(x, np.asarray(self.ys, np.int64), self.groups, self.sources)


def add_panels_and_photos(
    add: Any,
    training: Path,
    sources: list[Path],
    make: Any,
    per_panel: int,
    per_photo: int,
    rng: np.random.Generator,
) -> None:
    """Rows of every generated panel (label 1, its family), then of every camera photo of
    ``sources`` (label 0, ``camera``): ``make(rgb, n, rng)`` gives the ``n`` variants of
    each (:func:`chains`, :func:`smooth_chains`), ``per_panel`` and ``per_photo`` of them."""
    for name, family, rgb in generated_panels(training):
        for _, v in make(rgb, per_panel, rng):
            add(random_patches(v, PATCHES_PER_VARIANT, rng), 1, family, name)
    for path in sources:
        try:
            rgb = load_rgb(path)
        except Exception:
            continue
        for _, v in make(rgb, per_photo, rng):
            add(random_patches(v, PATCHES_PER_VARIANT, rng), 0, "camera", path.name)


def add_smooth(
    add: Any, training: Path, sources: list[Path], seed: int, graphics: int = GRAPHICS
) -> None:
    """Rows of smoothed chains (model "3s", shipped): ``SMOOTH_VARIANTS`` per generated
    panel (label 1, its family), ``SMOOTH_CAMERA`` per camera photo of ``sources``
    (label 0, ``camera``), ``SMOOTH_GRAPHICS`` per code-drawn graphic (label 0,
    ``graphics``), through ``add(feats, label, group, source)``. Own random stream, added
    after every other row, so the rows of model 3 are unchanged with it."""
    rng = np.random.default_rng([seed, 0x5B])
    add_panels_and_photos(
        add, training, sources, smooth_chains, SMOOTH_VARIANTS, SMOOTH_CAMERA, rng
    )
    add_graphics(add, graphics, seed, SMOOTH_GRAPHICS, smooth_chains, rng)


def add_denoise(
    add: Any,
    training: Path,
    sources: list[Path],
    seed: int,
    graphics: int = GRAPHICS,
    per: tuple[int, int, int] = (DENOISE_VARIANTS, DENOISE_CAMERA, DENOISE_GRAPHICS),
) -> None:
    """Rows of denoised chains (candidate "3sd"): ``per`` gives the chains per generated
    panel (label 1, its family), per camera photo of ``sources`` (label 0, ``camera``)
    and per code-drawn graphic (label 0, ``graphics``; ``DENOISE_VARIANTS``,
    ``DENOISE_CAMERA``, ``DENOISE_GRAPHICS`` by default, a smaller dose measured in
    bench/synthpix_smooth.py), through ``add(feats, label, group, source)``; own
    random stream."""
    rng = np.random.default_rng([seed, 0xD5])
    add_panels_and_photos(add, training, sources, denoise_chains, per[0], per[1], rng)
    add_graphics(add, graphics, seed, per[2], denoise_chains, rng)


def random_patches(rgb: np.ndarray, limit: int, rng: np.random.Generator) -> np.ndarray:
    """Feature rows of up to ``limit`` informative patches at random places (overlap
    allowed; training)."""
    rows = []
    h, w = rgb.shape[:2]
    # Every corner is drawn first, so the generator's state after an image does not
    # depend on how many of its patches were informative.
    corners = [
        (int(rng.integers(0, h - PATCH + 1)), int(rng.integers(0, w - PATCH + 1)))
        for _ in range(2 * limit)
    ]
    for y, x in corners:
        p = rgb[y : y + PATCH, x : x + PATCH]
        if informative(p):
            rows.append(patch_features(p))
        if len(rows) >= limit:
            break
    if not rows:
        return np.zeros((0, len(feature_names())))
    return np.vstack(rows)


def grid_patches(rgb: np.ndarray) -> np.ndarray:
    """Feature rows of the patches the analyzer reads (evaluation)."""
    return grid_patch_features(lambda y, x: rgb[y : y + PATCH, x : x + PATCH], *rgb.shape[:2])


def build_rows(
    training: Path,
    sources: list[Path],
    seed: int,
    variants: int = GENERATED_VARIANTS,
    graphics: int = GRAPHICS,
    smooth_rows: bool = True,
    denoise_rows: bool = False,
) -> Rows:
    """Feature rows of the generated panels and of the camera photos ``sources``:
    ``variants`` chains per panel, and half as many per camera photo (there are more
    photos than panels); then ``graphics`` code-drawn graphics on the camera side
    (label 0, group ``graphics``, :func:`add_graphics`); with ``smooth_rows`` (model
    3s, shipped) then smoothed chains of all three (:func:`add_smooth`); with
    ``denoise_rows`` (candidate 3sd) then denoised chains of all three
    (:func:`add_denoise`)."""
    rng = np.random.default_rng(seed)
    sink = RowSink()
    per_photo = max(1, round(variants * CAMERA_VARIANTS / GENERATED_VARIANTS))
    add_panels_and_photos(sink.add, training, sources, chains, variants, per_photo, rng)
    # Graphics last, from their own generator, so the rows above do not depend on them.
    add_graphics(sink.add, graphics, seed)
    if smooth_rows:
        add_smooth(sink.add, training, sources, seed, graphics)
    if denoise_rows:
        add_denoise(sink.add, training, sources, seed, graphics)
    return sink.rows()


def add_graphics(
    add: Any,
    count: int,
    seed: int,
    variants: int = GRAPHIC_VARIANTS,
    make: Any = chains,
    rng: np.random.Generator | None = None,
) -> None:
    """Rows of ``count`` graphics drawn by code (:mod:`triage.train.graphics`, seeds
    0..count-1, the kinds in turn), ``variants`` variants each (``make(rgb, n, rng)``:
    :func:`chains`, or :func:`smooth_chains` from :func:`add_smooth`'s own stream
    ``rng``), through ``add(feats, label, group, source)`` with label 0: charts,
    diagrams, slides, interface and code screenshots, shaded renders and vector art have
    no camera and no decoder, and a model that never saw them reads them as generated
    (docs/graphics.md)."""
    from triage.train.graphics import KINDS, graphic

    rng = rng if rng is not None else np.random.default_rng([seed, 0x9F])
    for i in range(count):
        rgb = graphic(i, KINDS[i % len(KINDS)])
        for _, v in make(rgb, variants, rng):
            add(random_patches(v, PATCHES_PER_VARIANT, rng), 0, "graphics", f"graphic-{i}")


def add_simulated(
    add: Any,
    sources: list[Path],
    seed: int,
    folder: Path,
    variants: int = SIM_VARIANTS,
    designs: tuple[str, ...] | None = None,
) -> None:
    """Rows of simulated generated images (model 4): each camera photo of ``sources``
    (the fit side only) cropped to at most ``SIM_CROP`` px and rebuilt by each decoder
    of ``folder`` (:mod:`triage.train.decoders`, trained on the same fit side), then
    ``variants`` chains each, through ``add(feats, label, group, source)`` with label 1
    and group ``sim-DESIGN``. Needs torch (the ``train`` extra)."""
    from triage.train import decoders as dec

    nets = dec.load_all(folder, designs or dec.DESIGNS)
    rng = np.random.default_rng([seed, 0x51])
    for path in sources:
        try:
            rgb = load_rgb(path)
        except Exception:
            continue
        if min(rgb.shape[:2]) < PATCH:
            continue
        for d, net in nets.items():
            sim = dec.apply(net, np.ascontiguousarray(_crop(rgb, SIM_CROP, rng)))
            for _, v in chains(sim, variants, rng):
                add(random_patches(v, PATCHES_PER_VARIANT, rng), 1, f"sim-{d}", f"{path.name}@{d}")


def logistic(z: np.ndarray, y: np.ndarray, lam: float, iters: int = 30) -> np.ndarray:
    """Class-balanced L2-penalised logistic regression by Newton's method.

    Returns ``[intercept, coef...]``; the penalty ``lam`` (on the mean log-loss, the
    intercept unpenalised) is the only tuning.
    """
    n, d = z.shape
    x = np.hstack([np.ones((n, 1)), z])
    pos = max(int(y.sum()), 1)
    neg = max(n - pos, 1)
    sw = np.where(y == 1, n / (2.0 * pos), n / (2.0 * neg)) / n
    reg = np.full(d + 1, lam)
    reg[0] = 0.0
    w = np.zeros(d + 1)
    for _ in range(iters):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ w, -30, 30)))
        g = x.T @ (sw * (p - y)) + reg * w
        hess = (x * (sw * p * (1 - p))[:, None]).T @ x + np.diag(reg + 1e-9)
        step = np.linalg.solve(hess, g)
        w -= step
        if float(np.abs(step).max()) < 1e-7:
            break
    return w


def fit(rows: Rows, lam: float = LAMBDA) -> dict[str, np.ndarray]:
    """Class-balanced L2 logistic regressions on standardised features.

    The main model is generated against camera photos (rows of group ``graphics`` left
    out; standardisation from the same rows), as in model 2. When the rows hold
    graphics, a second regression on the same standardised features, generated against
    graphics, gives ``coef_graphics`` / ``intercept_graphics``; a patch's log-odds is
    then the soft minimum of the two (:func:`triage.analyzers.synthpix.patch_log_odds`):
    generated only if it reads generated against a camera and against a graphic. Kept
    apart because one linear boundary asked to put graphics with the camera photos gave
    up part of the camera-vs-generated separation (docs/analyzers/synthpix.md). The
    graphics regression has its own penalty (``LAMBDA_GRAPHICS``) and its intercept is
    raised by ``GRAPHICS_OFFSET``: only a clear graphic lowers a patch's log-odds.

    Returns the arrays of the model file: ``mean``, ``scale``, ``coef``, ``intercept``
    (and the graphics pair).
    """
    group = np.asarray(rows.group) if len(rows.group) == len(rows.y) else None
    drawn = group == "graphics" if group is not None else np.zeros(len(rows.y), bool)
    cam = ~drawn
    mean = rows.x[cam].mean(axis=0)
    scale = rows.x[cam].std(axis=0)
    scale[scale < 1e-9] = 1.0
    w = logistic((rows.x[cam] - mean) / scale, rows.y[cam].astype(np.float64), lam)
    out = {"mean": mean, "scale": scale, "coef": w[1:], "intercept": w[:1]}
    if drawn.any():
        keep = drawn | (rows.y == 1)
        z = (rows.x[keep] - mean) / scale
        wg = logistic(z, rows.y[keep].astype(np.float64), LAMBDA_GRAPHICS)
        out |= {"coef_graphics": wg[1:], "intercept_graphics": wg[:1] + GRAPHICS_OFFSET}
    return out


def train_from_folder(
    training: Path,
    out: Path,
    seed: int = 0,
    limit: int = 0,
    variants: int = GENERATED_VARIANTS,
    graphics: int = GRAPHICS,
    smooth_rows: bool = True,
    denoise_rows: bool = False,
) -> dict[str, Any]:
    """Fit on every generated panel, the 70% camera split and ``graphics`` code-drawn
    graphics (and, with ``smooth_rows``, their smoothed chains; with ``denoise_rows``,
    their denoised chains); write model and manifest."""
    t0 = time.time()
    fit_src, held = camera_split(training, limit)
    rows = build_rows(training, fit_src, seed, variants, graphics, smooth_rows, denoise_rows)
    return save(
        rows,
        fit(rows),
        out,
        seed,
        held,
        time.time() - t0,
        smooth_rows=smooth_rows,
        denoise_rows=denoise_rows,
    )


def camera_split(training: Path, limit: int = 0) -> tuple[list[Path], list[Path]]:
    """Camera sources fitted (70%) and held out (30%, by source name)."""
    from triage.train.edits import list_sources, split_sources

    sources = list_sources(training)
    if limit:
        sources = sources[:limit]
    return split_sources(sources, holdout=0.3)


def save(
    rows: Rows,
    model: dict[str, np.ndarray],
    out: Path,
    seed: int,
    held: list[Path],
    seconds: float,
    heldout: dict[str, Any] | None = None,
    smooth_rows: bool = True,
    denoise_rows: bool = False,
) -> dict[str, Any]:
    """Write ``synthpix.npz`` and its manifest into ``out``; return the manifest
    (version ``3s`` when the rows hold smoothed chains, ``3`` and the ``--no-smooth``
    command when they do not; ``d`` and ``--denoise`` added with denoised chains)."""
    out.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, Any] = {**model, "names": np.array(feature_names())}
    np.savez(out / MODEL_FILE, **arrays)
    gen = sorted({s for s, lab in zip(rows.source, rows.y, strict=True) if lab})
    groups = np.array(rows.group)
    drawn = sorted({s for s, g in zip(rows.source, rows.group, strict=True) if g == "graphics"})
    manifest: dict[str, Any] = {
        "name": "synthpix",
        "version": VERSION + ("s" if smooth_rows else "") + ("d" if denoise_rows else ""),
        "seed": seed,
        "command": "python -m triage.train synthpix"
        + ("" if smooth_rows else " --no-smooth")
        + (" --denoise" if denoise_rows else ""),
        "data": {
            "generated_panels": gen,
            "smoothed_chains": smooth_rows,
            "denoised_chains": denoise_rows,
            "families": sorted({g for g in rows.group if g != "camera"}),
            "camera_sources_fitted": len(set(rows.source)) - len(gen) - len(drawn),
            "graphics": {
                "images_with_patches": len(drawn),
                "generator": "triage.train.graphics, seeds 0..N-1, kinds in turn",
                "chains_each": GRAPHIC_VARIANTS,
            },
            "camera_sources_held_out": sorted(p.name for p in held),
            "patches": {
                "generated": int(rows.y.sum()),
                "camera": int(((rows.y == 0) & (groups == "camera")).sum()),
                "graphics": int((groups == "graphics").sum()),
            },
            "chains": (
                "png / JPEG q65-95 / resize 0.25-1.5x + JPEG q65-95 / downscale 0.3-0.9x "
                "(lanczos, bicubic, bilinear, hamming, box, area) kept lossless, half in a "
                "drawn interface with text; both classes and the graphics"
                + (
                    "; plus smoothed chains (down 1.5-4x and back up, or blur sigma "
                    "0.6-1.5; lossless or JPEG q75-95), all three alike"
                    if smooth_rows
                    else ""
                )
                + (
                    "; plus denoised chains (non-local means h 3-8, or a bilateral filter "
                    "blended at 0.5-1; lossless or JPEG q75-95), all three alike"
                    if denoise_rows
                    else ""
                )
            ),
        },
        "patch": PATCH,
        "l2_lambda": LAMBDA,
        "graphics_l2_lambda": LAMBDA_GRAPHICS,
        "graphics_offset": GRAPHICS_OFFSET,
        "train_seconds": round(seconds, 1),
        "heldout": heldout or {},
    }
    (out / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def summary(manifest: dict[str, Any]) -> str:
    """One line for the console."""
    d = manifest["data"]
    return (
        f"synthpix v{manifest['version']}: {d['patches']['generated']} generated and "
        f"{d['patches']['camera']} camera and {d['patches'].get('graphics', 0)} graphics "
        f"patches, {manifest['train_seconds']} s"
    )
