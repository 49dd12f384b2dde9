"""The small tamper CNN of docs/analyzers/tamper.md ("A small CNN beside the trees"):
its network, its patches and labels, its training loop and its map on the trees' tile
grid. A bench helper (``bench/tamper_cnn.py``), not part of the package: torch is
imported inside the functions, so importing this module needs numpy alone.
"""

from __future__ import annotations

import io
import time
from typing import Any

import numpy as np

CELL = 32  # px: one logit per cell, the trees' tile at stride 1
PATCH = 64  # px: 2 x 2 cells
TILE = 32  # the trees' tile side at stride 1 (blockfeatures.TILE)


def luma_of(data: bytes) -> np.ndarray:
    """Y (ITU-R 601, as JPEG's YCbCr) of the served file's decoded pixels, uint8."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        return luma_from_rgb(np.asarray(im.convert("RGB")))


def luma_from_rgb(rgb: np.ndarray) -> np.ndarray:
    """Y (ITU-R 601) of uint8 RGB pixels, uint8."""
    y = rgb.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    return np.clip(np.rint(y), 0, 255).astype(np.uint8)


def cell_shares(mask: np.ndarray) -> np.ndarray:
    """Edited share of every whole 32-px cell of a bool mask (rows, cols): the tile
    shares of ``train.tamper.mask_shares`` with 32-px tiles."""
    from triage.train.tamper import mask_shares

    return mask_shares(mask, mask.shape[0] // CELL, mask.shape[1] // CELL, CELL)[0]


def cell_labels(share: np.ndarray) -> np.ndarray:
    """1 when a cell is at least half edited, 0 when untouched, -1 (ignored) between."""
    lab = np.full(share.shape, -1, np.int8)
    lab[share >= 0.5] = 1
    lab[share == 0] = 0
    return lab


def training_patches(
    luma: np.ndarray, mask: np.ndarray, rng: np.random.Generator, pos_cap: int, neg_cap: int
) -> tuple[np.ndarray, np.ndarray]:
    """64-px patches on the 32-px grid (so on the JPEG grid) of one file: up to
    ``pos_cap`` holding a positive cell and ``neg_cap`` whose four cells are all
    untouched; uint8 patches (n, 64, 64) and their cell labels (n, 2, 2)."""
    lab = cell_labels(cell_shares(mask))
    r, c = lab.shape
    if r < 2 or c < 2:
        return np.zeros((0, PATCH, PATCH), np.uint8), np.zeros((0, 2, 2), np.int8)
    quad = np.stack([lab[:-1, :-1], lab[:-1, 1:], lab[1:, :-1], lab[1:, 1:]], axis=-1)
    pos = np.argwhere((quad == 1).any(axis=-1))
    neg = np.argwhere((quad == 0).all(axis=-1))
    if len(pos) > pos_cap:
        pos = pos[rng.choice(len(pos), pos_cap, replace=False)]
    if len(neg) > neg_cap:
        neg = neg[rng.choice(len(neg), neg_cap, replace=False)]
    at = np.concatenate([pos, neg]).astype(np.int64)
    patches = (
        np.stack([luma[i * CELL : i * CELL + PATCH, j * CELL : j * CELL + PATCH] for i, j in at])
        if len(at)
        else np.zeros((0, PATCH, PATCH), np.uint8)
    )
    labels = quad[at[:, 0], at[:, 1]].reshape(-1, 2, 2) if len(at) else np.zeros((0, 2, 2))
    return patches, labels.astype(np.int8)


def reading_layout(height: int, width: int) -> tuple[int, int, int, np.ndarray]:
    """Where the CNN is read for the trees' tile grid of a ``height`` x ``width`` photo:
    (step, rows, cols, top-left corners (n, 2) of the 64-px patches). Step 1: every
    32-px tile is its own cell, read by non-overlapping patches (the last row or column
    of an odd count from a patch shifted back by one cell); step > 1: one patch at each
    tile's corner, the tile read as the mean of its four cells (card, "A small CNN")."""
    from triage.forensics.blockfeatures import stride_for

    step = stride_for(height, width)
    tile = TILE * step
    rows, cols = height // tile, width // tile
    if step == 1:
        corners = _cell_corners(rows, cols) * CELL
    else:
        corners = np.array(
            [(r * tile, c * tile) for r in range(rows) for c in range(cols)], np.int64
        )
    return step, rows, cols, corners.reshape(-1, 2)


def _cell_corners(rows: int, cols: int) -> np.ndarray:
    """Top-left cells (n, 2) of non-overlapping 2 x 2-cell patches covering a rows x
    cols grid, the last of an odd count shifted back by one cell."""
    ys = sorted({min(2 * k, rows - 2) for k in range((rows + 1) // 2)})
    xs = sorted({min(2 * k, cols - 2) for k in range((cols + 1) // 2)})
    return np.array([(y, x) for y in ys for x in xs], np.int64).reshape(-1, 2)


def reading_patches(luma: np.ndarray) -> tuple[tuple[int, int, int], np.ndarray]:
    """(step, rows, cols) and the uint8 patches the map of :func:`tile_map` reads."""
    step, rows, cols, corners = reading_layout(*luma.shape)
    if rows < 2 or cols < 2:
        return (step, rows, cols), np.zeros((0, PATCH, PATCH), np.uint8)
    return (step, rows, cols), np.stack([luma[y : y + PATCH, x : x + PATCH] for y, x in corners])


def tile_map(layout: tuple[int, int, int], logits: np.ndarray) -> np.ndarray:
    """The CNN's logit per trees' tile from the (n, 2, 2) logits of the patches of
    :func:`reading_patches` (same order)."""
    step, rows, cols = layout
    if len(logits) == 0:
        return np.zeros((rows, cols), np.float32)
    if step > 1:
        return logits.mean(axis=(1, 2)).reshape(rows, cols).astype(np.float32)
    out = np.zeros((rows, cols), np.float32)
    for (y, x), lg in zip(_cell_corners(rows, cols), logits, strict=True):
        out[y : y + 2, x : x + 2] = lg
    return out


def make_net(seed: int) -> Any:
    """The network (29.6k parameters): fixed SRM residuals and three constrained
    Bayar filters (5x5), an 8x8 stride-8 convolution on the JPEG grid, three 3x3
    convolutions (the middle one stride 2), a 2x2 mean and a 1x1 convolution: one
    logit per 32-px cell of a 64-px patch."""
    import torch
    from torch import nn

    torch.manual_seed(seed)

    class Bayar(nn.Module):
        """Learned 5x5 filters under Bayar & Stamm 2016's constraint (centre -1,
        other taps summing to 1): prediction residuals, not content."""

        centre: Any

        def __init__(self, n: int) -> None:
            super().__init__()
            self.w = nn.Parameter(torch.rand(n, 1, 5, 5) * 0.1)
            centre = torch.zeros(1, 1, 5, 5)
            centre[..., 2, 2] = 1.0
            self.register_buffer("centre", centre)

        def forward(self, x: Any) -> Any:
            w = self.w * (1 - self.centre)
            w = w / w.sum(dim=(2, 3), keepdim=True) - self.centre
            return nn.functional.conv2d(x, w, padding=2)

    def srm() -> Any:
        # KV, and second-order horizontal and vertical (Fridrich & Kodovsky 2012)
        kv = (
            np.array(
                [
                    [-1, 2, -2, 2, -1],
                    [2, -6, 8, -6, 2],
                    [-2, 8, -12, 8, -2],
                    [2, -6, 8, -6, 2],
                    [-1, 2, -2, 2, -1],
                ],
                np.float32,
            )
            / 12.0
        )
        h = np.zeros((5, 5), np.float32)
        h[2, 1:4] = [1, -2, 1]
        return torch.from_numpy(np.stack([kv, h / 2, h.T / 2])[:, None])

    def block(cin: int, cout: int, k: int, s: int, p: int) -> Any:
        return nn.Sequential(
            nn.Conv2d(cin, cout, k, s, p, bias=False), nn.BatchNorm2d(cout), nn.ReLU()
        )

    class Net(nn.Module):
        srm: Any

        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("srm", srm())
            self.bayar = Bayar(3)
            self.body = nn.Sequential(
                block(6, 16, 8, 8, 0),
                block(16, 32, 3, 1, 1),
                block(32, 32, 3, 2, 1),
                block(32, 32, 3, 1, 1),
                nn.AvgPool2d(2),
                nn.Conv2d(32, 1, 1),
            )

        def forward(self, x: Any) -> Any:
            x = x - 128.0
            r = torch.cat([nn.functional.conv2d(x, self.srm, padding=2), self.bayar(x)], 1)
            return self.body(torch.clamp(r, -6.0, 6.0))[:, 0]

    return Net()


def train_net(
    patches: np.ndarray,
    labels: np.ndarray,
    positive: np.ndarray,
    seed: int,
    epochs: int,
    per_class: int,
    log: Any = None,
) -> Any:
    """Fit :func:`make_net` (seed ``seed``): each epoch ``per_class`` patches holding a
    positive cell and as many all-negative ones (drawn anew), random flips and
    transposes, cross-entropy balanced per batch, AdamW, one-cycle learning rate
    3e-3, batches of 128. Returns the network in eval mode."""
    import torch

    rng = np.random.default_rng(seed)
    net = make_net(seed)
    pos, neg = np.nonzero(positive)[0], np.nonzero(~positive)[0]
    n_pos, n_neg = min(per_class, len(pos)), min(per_class, len(neg))
    batch = 128
    steps = epochs * ((n_pos + n_neg + batch - 1) // batch)
    opt = torch.optim.AdamW(net.parameters(), lr=3e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps)
    net.train()
    t0 = time.time()
    for epoch in range(epochs):
        idx = np.concatenate(
            [rng.choice(pos, n_pos, replace=False), rng.choice(neg, n_neg, replace=False)]
        )
        rng.shuffle(idx)
        total = 0.0
        for b in range(0, len(idx), batch):
            sel = np.sort(idx[b : b + batch])
            x = patches[sel].astype(np.float32)
            y = labels[sel].astype(np.float32)
            # The dihedral transforms keep the 8x8 grid (64 is a multiple of 8).
            if rng.random() < 0.5:
                x, y = x[:, :, ::-1], y[:, :, ::-1]
            if rng.random() < 0.5:
                x, y = x[:, ::-1], y[:, ::-1]
            if rng.random() < 0.5:
                x, y = x.transpose(0, 2, 1), y.transpose(0, 2, 1)
            xt = torch.from_numpy(np.ascontiguousarray(x))[:, None]
            yt = torch.from_numpy(np.ascontiguousarray(y))
            known = yt >= 0
            n1 = float((yt == 1).sum())
            n0 = float((yt == 0).sum())
            if n1 == 0 or n0 == 0:
                w = known.float()
            else:
                w = torch.where(yt == 1, 0.5 / n1, 0.5 / n0) * known
            logits = net(xt)
            loss = torch.nn.functional.binary_cross_entropy_with_logits(
                logits, yt.clamp(min=0), weight=w, reduction="sum"
            )
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item()
        if log is not None:
            n_batches = (len(idx) + batch - 1) // batch
            print(
                f"    epoch {epoch + 1}/{epochs}: loss {total / n_batches:.4f}, "
                f"{time.time() - t0:.0f} s",
                file=log,
                flush=True,
            )
    net.eval()
    return net


def net_logits(net: Any, patches: np.ndarray, batch: int = 512) -> np.ndarray:
    """(n, 2, 2) cell logits of uint8 patches (n, 64, 64)."""
    import torch

    out = []
    with torch.inference_mode():
        for b in range(0, len(patches), batch):
            x = torch.from_numpy(patches[b : b + batch].astype(np.float32))[:, None]
            out.append(net(x).numpy())
    return np.concatenate(out) if out else np.zeros((0, 2, 2), np.float32)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return (1.0 / (1.0 + np.exp(-x.astype(np.float64)))).astype(np.float32)


def export_onnx(net: Any, path: str) -> None:
    """The network as ONNX (a dynamic batch of 1 x 64 x 64 float patches)."""
    import torch

    torch.onnx.export(
        net,
        (torch.zeros(1, 1, PATCH, PATCH),),
        path,
        input_names=["x"],
        output_names=["logits"],
        dynamic_axes={"x": {0: "n"}, "logits": {0: "n"}},
        dynamo=False,
    )


def onnx_reader(path: str) -> Any:
    """A function of uint8 patches (n, 64, 64) to their (n, 2, 2) logits, in
    onnxruntime on one thread (2.7x torch's speed here on one core)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])

    def read(patches: np.ndarray, batch: int = 512) -> np.ndarray:
        out = [
            sess.run(None, {"x": patches[b : b + batch, None].astype(np.float32)})[0]
            for b in range(0, len(patches), batch)
        ]
        return np.concatenate(out) if out else np.zeros((0, 2, 2), np.float32)

    return read
