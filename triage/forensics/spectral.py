"""Spectral traces of up-sampling in the noise residual (a weak generator cue).

Generators (GAN up-convolutions, the decoders of latent diffusion models) build the
image by repeated 2x up-sampling; transposed convolutions and nearest-neighbour
up-sampling leave a periodic pattern whose spectrum has isolated peaks at multiples
of 1/2, 1/4 or 1/8 cycles per pixel. We average the power spectrum of a high-pass
residual over native-resolution tiles and measure how far the spectrum at those grid
frequencies stands above its neighbourhood. We also keep the azimuthally averaged
spectrum (a 1-D profile) as a raw metric.

Innocent sources of the same peaks: the JPEG 8x8 block grid (all multiples of 1/8),
camera demosaicing (1/2), images enlarged 2x/4x by nearest or transposed-convolution
up-scaling, halftone prints and screenshots of pixel art. A clean spectrum proves
nothing: many generators' outputs, once resized or recompressed, show no peaks.

References
----------
X. Zhang, S. Karaman, S.-F. Chang, "Detecting and simulating artifacts in GAN fake
images", IEEE WIFS 2019.
R. Durall, M. Keuper, J. Keuper, "Watch your up-convolution: CNN based generative
deep neural networks are failing to reproduce spectral distributions", CVPR 2020.
J. Frank et al., "Leveraging frequency analysis for deep fake image recognition",
ICML 2020.
S.-Y. Wang et al., "CNN-generated images are surprisingly easy to spot... for now",
CVPR 2020.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


def residual(gray: np.ndarray) -> np.ndarray:
    """The noise-like part of an image, where up-sampling patterns live.

    Parameters
    ----------
    gray : ndarray
        H x W luma.

    Returns
    -------
    ndarray
        H x W float32: the image minus its 3x3 median.

    References
    ----------
    J. Frank et al., "Leveraging frequency analysis for deep fake image recognition",
    ICML 2020 (spectra of high-passed images).
    """
    import cv2

    g = np.ascontiguousarray(gray, dtype=np.float32)
    return g - cv2.medianBlur(g, 3)


def power_spectra(tiles: np.ndarray) -> np.ndarray:
    """Power spectra of the windowed residual of each tile.

    Parameters
    ----------
    tiles : ndarray
        (n, t, t) stack of luma tiles.

    Returns
    -------
    ndarray
        (n, t, t) float32 power spectra, fftshifted (DC at the centre), of each tile's
        :func:`residual` less its mean, under a 2-D Hann window.

    References
    ----------
    R. Durall, M. Keuper, J. Keuper, "Watch your up-convolution", CVPR 2020.
    """
    n, t, _ = tiles.shape
    win = np.outer(np.hanning(t), np.hanning(t)).astype(np.float32)
    stack = np.stack([residual(tiles[k]) for k in range(n)])
    stack -= stack.mean(axis=(1, 2), keepdims=True)
    spec = np.abs(np.fft.fft2(stack * win)) ** 2
    return np.fft.fftshift(spec, axes=(1, 2)).astype(np.float32)


def tile_power_spectra(gray: np.ndarray, origins: list[tuple[int, int]], tile: int) -> np.ndarray:
    """:func:`power_spectra` of the tiles of an image.

    Parameters
    ----------
    gray : ndarray
        H x W luma at native resolution.
    origins : list of (int, int)
        (y, x) of each tile (see :func:`triage.forensics.cellgrid.symmetric_cells`).
    tile : int
        Tile side in pixels.

    Returns
    -------
    ndarray
        (len(origins), tile, tile) float32 power spectra.
    """
    g = np.asarray(gray, np.float32)
    return power_spectra(np.stack([g[y : y + tile, x : x + tile] for y, x in origins]))


def azimuthal_profile(power: np.ndarray, bins: int = 16) -> list[float]:
    """Azimuthally averaged log10 power in radial bands from DC to Nyquist.

    Parameters
    ----------
    power : ndarray
        An n x n fftshifted power spectrum.
    bins : int
        Radial bands.

    Returns
    -------
    list of float
        Mean log10 power per band (0.0 for an empty band).

    References
    ----------
    R. Durall, M. Keuper, J. Keuper, "Watch your up-convolution: CNN based generative
    deep neural networks are failing to reproduce spectral distributions", CVPR 2020.
    """
    n = power.shape[0]
    f = (np.arange(n) - n // 2) / n
    fy, fx = np.meshgrid(f, f, indexing="ij")
    r = np.hypot(fx, fy) / 0.5
    idx = np.minimum((r * bins).astype(int), bins)
    logp = np.log10(power + 1e-12)
    prof = []
    for b in range(bins):
        sel = idx == b
        prof.append(float(logp[sel].mean()) if sel.any() else 0.0)
    return prof


@dataclass
class GridPeaks:
    """Peak ratios at the up-sampling grid frequencies (spectrum / local median)."""

    ratios: dict[str, float]  # "fy,fx" in eighths -> ratio
    up2: float  # strongest ratio at multiples of 1/2 (2x up-sampling; also demosaicing)
    up4: float  # strongest at multiples of 1/4 that are not multiples of 1/2
    up8: float  # strongest at odd multiples of 1/8 (8x up-sampling; also JPEG grid)
    peaks: list[dict[str, float]] = field(default_factory=list)


def grid_peaks(spectra: np.ndarray, min_ratio: float = 1.5) -> GridPeaks:
    """Peak ratios at each (i/8, j/8) frequency.

    Per tile, the ratio is the power at the exact bin over the median of a ring of
    neighbours 3..6 bins away; the statistic is the median of that ratio over tiles.
    Up-sampling patterns cover the whole image, so they show in most tiles; periodic
    *content* (lines of text, a fence, a tiled floor) usually fills only some tiles and
    the median ignores it.

    Parameters
    ----------
    spectra : ndarray
        (tiles, n, n) fftshifted power spectra, n a multiple of 8.
    min_ratio : float
        Ratio from which a frequency is listed among the peaks.

    Returns
    -------
    GridPeaks
        Ratio per grid frequency, the strongest at multiples of 1/2, of 1/4 (not 1/2)
        and at odd multiples of 1/8, and up to 8 peaks, strongest first.

    References
    ----------
    X. Zhang, S. Karaman, S.-F. Chang, "Detecting and simulating artifacts in GAN fake
    images", IEEE WIFS 2019 (up-sampling peaks).
    """
    n = spectra.shape[1]
    c = n // 2
    logp = np.log(spectra.astype(np.float64) + 1e-12)
    ratios: dict[str, float] = {}
    up2 = up4 = up8 = 0.0
    peaks: list[dict[str, float]] = []
    yy, xx = np.mgrid[-6:7, -6:7]
    rr = np.hypot(yy, xx)
    ring = (rr >= 3) & (rr <= 6)
    # The spectrum is periodic (index arithmetic wraps: +1/2 is the same bin as -1/2)
    # and point-symmetric, so i in -4..3 and j in 0..4 cover every grid frequency once.
    for i in range(-4, 4):
        for j in range(0, 5):
            if (i, j) == (0, 0) or (j in (0, 4) and i < 0 and i != -4):
                continue
            py, px = (c + round(i * n / 8)) % n, (c + round(j * n / 8)) % n
            ys = np.mod(py + yy, n)
            xs = np.mod(px + xx, n)
            patch = logp[:, ys, xs]  # tiles x 13 x 13
            centre = patch[:, 6, 6]  # grid frequencies fall on exact bins (tile % 8 == 0)
            ref = np.median(patch[:, ring], axis=1)
            ratio = float(np.exp(np.median(centre - ref)))
            ratios[f"{i}/8,{j}/8"] = round(ratio, 2)
            if i % 4 == 0 and j % 4 == 0:
                up2 = max(up2, ratio)
            elif i % 2 == 0 and j % 2 == 0:
                up4 = max(up4, ratio)
            else:
                up8 = max(up8, ratio)
            if ratio >= min_ratio:
                peaks.append({"fy": i / 8, "fx": j / 8, "ratio": round(ratio, 2)})
    peaks.sort(key=lambda p: -p["ratio"])
    return GridPeaks(ratios, up2, up4, up8, peaks[:8])
