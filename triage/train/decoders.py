"""Simulated generator decoders: small up-sampling networks trained here on camera photos.

A generator's fingerprint in the finest scales of its pixels comes mostly from its
up-sampling decoder (Zhang, Karaman & Chang, "Detecting and simulating artifacts in GAN
fake images", WIFS 2019). So a decoder can be simulated without any generator sample: a
small autoencoder learns to rebuild camera photo patches from a reduced representation
(a learned latent at 1/4 of the side), and its decoder writes every output pixel through
one of the up-sampling designs real generators use (``DESIGNS``): transposed
convolution (4x4, stride 2), nearest-neighbour x2 then a 3x3 convolution, bilinear x2
then a 3x3 convolution, sub-pixel convolution (pixel shuffle). Its output on a camera
photo is a "simulated generated" image: the scene is the camera's, only the decoder
differs.

Training-only: torch is an optional extra (``pip install .[train]``), imported inside
the functions; nothing at run time imports this module. Deterministic for a seed on a
given machine and thread count (one thread per op order, fixed seeds, deterministic
algorithms).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np

DESIGNS = ("transposed", "nearest", "bilinear", "pixelshuffle")
WIDTH = 24
LATENT = 8
STAGES = 2  # up-sampling stages: the latent is 1/4 of the side
TRAIN_PATCH = 32
STEPS = 300
BATCH = 16
LR = 3e-3
THREADS = 2
# Decoded in tiles of at most this side (memory: WIDTH float maps at full size).
MAX_SIDE = 1024


def build(design: str, width: int = WIDTH, latent: int = LATENT, stages: int = STAGES) -> Any:
    """An autoencoder whose decoder up-samples by ``design`` (one of ``DESIGNS``).

    Reduced representation: the patch area-averaged by ``2**stages``; encoder: two 3x3
    convolutions to ``latent`` channels at that size. Decoder: a 3x3 convolution,
    ``stages`` up-sampling blocks of the design, each followed by a 3x3 convolution, and
    a 3x3 convolution to RGB, added to a bicubic up-sampling of the reduced copy (which
    carries the coarse scene, so that minutes of CPU training suffice; everything above
    the reduced copy's Nyquist frequency is written by the decoder).
    """
    import torch.nn as nn

    if design not in DESIGNS:
        raise ValueError(f"unknown decoder design {design!r}")

    def up() -> list[nn.Module]:
        if design == "transposed":
            return [nn.ConvTranspose2d(width, width, 4, stride=2, padding=1)]
        if design == "pixelshuffle":
            return [nn.Conv2d(width, 4 * width, 3, padding=1), nn.PixelShuffle(2)]
        mode = "nearest" if design == "nearest" else "bilinear"
        return [nn.Upsample(scale_factor=2, mode=mode), nn.Conv2d(width, width, 3, padding=1)]

    # The reduced representation: the patch area-averaged by 2**stages, then a learned
    # latent of ``latent`` channels at that size.
    enc = nn.Sequential(
        nn.Conv2d(3, width, 3, padding=1),
        nn.LeakyReLU(0.2),
        nn.Conv2d(width, latent, 3, padding=1),
    )
    dec: list[nn.Module] = [nn.Conv2d(latent, width, 3, padding=1), nn.LeakyReLU(0.2)]
    for _ in range(stages):
        dec += [*up(), nn.LeakyReLU(0.2), nn.Conv2d(width, width, 3, padding=1), nn.LeakyReLU(0.2)]
    dec += [nn.Conv2d(width, 3, 3, padding=1)]
    return _simulator(enc, nn.Sequential(*dec), 2**stages)


def _simulator_class() -> Any:
    import torch.nn as nn
    import torch.nn.functional as F

    class Simulator(nn.Module):
        """Low-resolution copy -> latent -> up-sampling decoder, over a bicubic base.

        The bicubic up-sampling of the reduced copy carries the scene's coarse content
        (so a few minutes of CPU training suffice); everything above the reduced copy's
        Nyquist frequency, the fine scales synthpix reads, is written by the decoder.
        """

        def __init__(self, enc: nn.Module, dec: nn.Module, factor: int) -> None:
            super().__init__()
            self.enc, self.dec, self.factor = enc, dec, factor

        def forward(self, x: Any) -> Any:
            low = F.avg_pool2d(x, self.factor)
            base = F.interpolate(low, scale_factor=self.factor, mode="bicubic")
            return base + self.dec(self.enc(low))

    return Simulator


def _simulator(enc: Any, dec: Any, factor: int) -> Any:
    return _simulator_class()(enc, dec, factor)


def _seed(seed: int) -> None:
    import torch

    torch.manual_seed(seed)
    torch.set_num_threads(THREADS)
    torch.use_deterministic_algorithms(True)


def camera_patches(
    photos: list[np.ndarray], count: int, rng: np.random.Generator, side: int = TRAIN_PATCH
) -> np.ndarray:
    """``count`` random ``side``-px patches (uint8, N x side x side x 3) from ``photos``,
    the photos in turn."""
    out = np.empty((count, side, side, 3), np.uint8)
    for i in range(count):
        rgb = photos[i % len(photos)]
        h, w = rgb.shape[:2]
        y = int(rng.integers(0, h - side + 1))
        x = int(rng.integers(0, w - side + 1))
        out[i] = rgb[y : y + side, x : x + side]
    return out


def train(
    design: str,
    patches: np.ndarray,
    seed: int = 0,
    steps: int = STEPS,
    width: int = WIDTH,
    latent: int = LATENT,
    stages: int = STAGES,
) -> Any:
    """Train one autoencoder of ``design`` to rebuild ``patches`` (L1 loss, Adam).

    Returns the network (eval mode). Batches are drawn from ``patches`` by a generator
    seeded with ``seed``, so the same seed, patches and thread count give the same
    weights.
    """
    import torch

    _seed(seed)
    net = build(design, width, latent, stages)
    opt = torch.optim.Adam(net.parameters(), lr=LR)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    rng = np.random.default_rng([seed, DESIGNS.index(design)])
    data = torch.from_numpy(patches).permute(0, 3, 1, 2).float() / 127.5 - 1.0
    net.train()
    for _ in range(steps):
        idx = torch.from_numpy(rng.integers(0, len(data), BATCH))
        batch = data[idx]
        # Random flips: the decoder should not learn an orientation of the scenes.
        if rng.random() < 0.5:
            batch = batch.flip(3)
        loss = ((net(batch) - batch) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    net.eval()
    return net


def apply(net: Any, rgb: np.ndarray) -> np.ndarray:
    """The network's rebuild of ``rgb`` (uint8 RGB), same size, rounded to uint8.

    The image is padded (reflect) to a multiple of the down-sampling factor and run in
    tiles of at most ``MAX_SIDE`` px with a margin, so memory stays bounded.
    """
    import torch

    f = 2**STAGES
    margin = 16
    h, w = rgb.shape[:2]
    out = np.empty_like(rgb)
    with torch.no_grad():
        for y0 in range(0, h, MAX_SIDE):
            for x0 in range(0, w, MAX_SIDE):
                y1, x1 = min(h, y0 + MAX_SIDE), min(w, x0 + MAX_SIDE)
                ya, xa = max(0, y0 - margin), max(0, x0 - margin)
                yb, xb = min(h, y1 + margin), min(w, x1 + margin)
                tile = rgb[ya:yb, xa:xb]
                th, tw = tile.shape[:2]
                ph, pw = (-th) % f, (-tw) % f
                t = torch.from_numpy(tile.copy()).permute(2, 0, 1)[None]
                t = t.float() / 127.5 - 1.0
                if ph or pw:
                    t = torch.nn.functional.pad(t, (0, pw, 0, ph), mode="reflect")
                r = net(t)[0, :, :th, :tw].permute(1, 2, 0).numpy()
                r = np.clip(np.rint((r + 1.0) * 127.5), 0, 255).astype(np.uint8)
                out[y0:y1, x0:x1] = r[y0 - ya : y0 - ya + y1 - y0, x0 - xa : x0 - xa + x1 - x0]
    return out


def train_all(
    sources: list[Path],
    out: Path | None,
    seed: int = 0,
    steps: int = STEPS,
    patches: int = 6000,
    designs: tuple[str, ...] = DESIGNS,
    stages: int = STAGES,
) -> dict[str, Any]:
    """Train one decoder per design on ``patches`` patches of the camera photos
    ``sources`` (the fit side only); save each state dict as ``out/decoder-DESIGN.pt``
    when ``out`` is given. Returns ``{design: network}``."""
    import torch

    from triage.train.synthpix import load_rgb

    rng = np.random.default_rng([seed, 0xDEC])
    photos = []
    for p in sources:
        try:
            photos.append(load_rgb(p))
        except Exception:
            continue
    photos = [p for p in photos if min(p.shape[:2]) >= TRAIN_PATCH]
    data = camera_patches(photos, patches, rng)
    del photos
    nets = {}
    for d in designs:
        t0 = time.time()
        nets[d] = train(d, data, seed, steps, stages=stages)
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            (out / "decoders.json").write_text(
                json.dumps({"stages": stages, "width": WIDTH, "latent": LATENT, "seed": seed})
            )
            torch.save(nets[d].state_dict(), out / f"decoder-{d}.pt")
        print(f"decoder {d}: {time.time() - t0:.0f} s", flush=True)
    return nets


def load_all(folder: Path, designs: tuple[str, ...] = DESIGNS) -> dict[str, Any]:
    """Networks saved by :func:`train_all` in ``folder``."""
    import torch

    cfg = (
        json.loads((folder / "decoders.json").read_text())
        if (folder / "decoders.json").is_file()
        else {}
    )
    nets = {}
    for d in designs:
        net = build(
            d, cfg.get("width", WIDTH), cfg.get("latent", LATENT), cfg.get("stages", STAGES)
        )
        net.load_state_dict(torch.load(folder / f"decoder-{d}.pt", weights_only=True))
        nets[d] = net.eval()
    return nets
