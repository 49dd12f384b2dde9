"""Frame-level checks on small per-frame series.

The streaming pass (:mod:`triage.video.stream`) reduces each decoded frame to a
64 x 36 grey *signature* and keeps only a few of them at a time. From consecutive
signatures it records, per frame:

* ``diff``      mean absolute difference to the previous frame (grey levels);
* ``diff2``     the same to the frame two back (an inserted frame's neighbours
  match each other);
* ``ncc``       normalised cross-correlation with the previous frame after the
  best global shift (phase correlation): high inside one shot, low across a cut;

and, on sampled frames, three quality measures of the full-resolution luma
(sharpness, noise, blockiness; :func:`quality_measures`).

Events are then read off these series (:func:`find_events`):

* duplicated frames: near-zero ``diff`` inside moving content (a freeze or padding);
* breaks (dropped or removed frames): an isolated spike of ``diff``, several times
  the local motion, while the content stays the same shot (high ``ncc``);
* scene cuts: a spike where the content changes (low ``ncc``) and the new segment
  is internally consistent (normal differences after it). A cut is not a break;
* inserted frames: a spike into and out of one frame whose neighbours match;
* quality shifts (:func:`quality_segments`): a segment whose compression,
  noise and sharpness step away from the rest at both ends, not at a cut.

References: Wang & Farid, "Exposing digital forgeries in video by detecting double
MPEG compression", 2006; Chao, Jiang & Sun, "A novel video inter-frame forgery
model detection scheme based on optical flow consistency", IWDW 2012 (frame
deletion/insertion as outliers of inter-frame consistency); Wang, Bovik & Evans,
"Blind measurement of blocking artifacts in images", ICIP 2000 (blockiness).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

SIG_W, SIG_H = 64, 36
# Local motion window (frames each side) for the difference-spike test.
WINDOW = 8
# A spike is this many times the local motion, plus an absolute margin (grey levels).
SPIKE_RATIO = 3.0
SPIKE_MARGIN = 1.5
# Across a cut the aligned correlation drops below this; within a shot it stays above.
SAME_SHOT_NCC = 0.55
# Duplicates: difference below this share of local motion and below DUP_ABS grey
# levels (identical source frames decode to differences of ~0.01; a still moment
# of a noisy scene stays above 0.1).
DUP_RATIO = 0.12
DUP_ABS = 0.1
MIN_MOTION_FOR_DUP = 1.0
# Motion right before and after a freeze, as a share of the local motion.
ABRUPT_SHARE = 0.4
# More duplicated frames than this share means a frame-rate conversion cadence.
CADENCE_SHARE = 0.04


def signature(luma: np.ndarray) -> np.ndarray:
    """64 x 36 float32 grey signature of a luma plane (area-averaged)."""
    import cv2

    small = cv2.resize(luma, (SIG_W, SIG_H), interpolation=cv2.INTER_AREA)
    return small.astype(np.float32)


_HANN: np.ndarray | None = None


def aligned_ncc(a: np.ndarray, b: np.ndarray) -> tuple[float, tuple[float, float]]:
    """Correlation of two signatures after the best global shift, and that shift.

    The shift comes from phase correlation (Kuglin & Hines, 1975); the correlation
    is computed on the overlapping part only. 1 = same picture displaced.
    """
    import cv2

    global _HANN
    if _HANN is None:
        _HANN = cv2.createHanningWindow((SIG_W, SIG_H), cv2.CV_32F)
    # phaseCorrelate may window its inputs in place (seen with OpenCV 5): pass copies.
    (dx, dy), _resp = cv2.phaseCorrelate(a.copy(), b.copy(), _HANN)
    sx, sy = round(dx), round(dy)
    h, w = a.shape
    if abs(sx) >= w // 2 or abs(sy) >= h // 2:
        sx, sy = 0, 0
    # b(x + sx) ~ a(x)
    ax0, ax1 = max(0, -sx), min(w, w - sx)
    ay0, ay1 = max(0, -sy), min(h, h - sy)
    pa = a[ay0:ay1, ax0:ax1]
    pb = b[ay0 + sy : ay1 + sy, ax0 + sx : ax1 + sx]
    return _ncc(pa, pb), (float(dx), float(dy))


def photometric_diff(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference after giving ``b`` the mean and contrast of ``a``.

    A light switched on, a flash or an exposure jump changes every pixel but
    leaves this near the usual motion level; a jump in time does not.
    """
    sa, sb = float(a.std()), float(b.std())
    if sb < 1e-6:
        return float(np.abs(a - a.mean()).mean())
    matched = (b - b.mean()) * (sa / sb) + a.mean()
    return float(np.abs(matched - a).mean())


def _ncc(a: np.ndarray, b: np.ndarray) -> float:
    a = a - a.mean()
    b = b - b.mean()
    den = float(np.sqrt((a * a).sum() * (b * b).sum()))
    if den < 1e-6:
        # Two flat pictures: the same if their levels match.
        return 1.0
    return float((a * b).sum() / den)


def quality_measures(luma: np.ndarray) -> tuple[float, float, float]:
    """(sharpness, noise, blockiness) of a full-resolution luma plane.

    * sharpness: log10 of the variance of the Laplacian (Pech-Pacheco et al., 2000);
    * noise: log10 of the median absolute high-pass residual (Immerkaer-style
      estimate on a 3x3 Laplacian-of-differences kernel);
    * blockiness: ratio of the mean absolute step across 8-pixel block boundaries to
      the step elsewhere (Wang, Bovik & Evans, 2000); 1 = no block grid.

    Rows and columns are decimated by 4 for blockiness, and the plane by 2 for the
    other two, so a 720p frame costs about 1.5 ms.
    """
    import cv2

    y = luma
    h, w = y.shape
    half = np.ascontiguousarray(y[::2, ::2])
    lap = cv2.Laplacian(half, cv2.CV_32F, ksize=1)
    sd = float(cv2.meanStdDev(lap)[1][0, 0])
    sharp = float(np.log10(sd * sd + 1.0))
    k = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)
    res = cv2.filter2D(half[::2, :], cv2.CV_32F, k)
    noise = float(np.log10(float(np.median(np.abs(res[1:-1:2, 1:-1:2]))) + 1.0))
    blk = 1.0
    if w >= 32 and h >= 32:
        rows = y[2:-2:4, :].astype(np.int16)
        dh = np.abs(np.diff(rows, axis=1))  # step between column x and x+1
        cols = y[:, 2:-2:4].astype(np.int16)
        dv = np.abs(np.diff(cols, axis=0))
        on_h, on_v = dh[:, 7::8], dv[7::8, :]
        off = (float(dh.sum()) - float(on_h.sum()) + float(dv.sum()) - float(on_v.sum())) / max(
            dh.size - on_h.size + dv.size - on_v.size, 1
        )
        on = (float(on_h.sum()) + float(on_v.sum())) / max(on_h.size + on_v.size, 1)
        blk = on / max(off, 1e-3)
    return sharp, noise, blk


@dataclass
class FrameEvent:
    kind: str  # duplicate / break / cut / inserted / lighting
    frame: int  # first frame of the event (presentation index)
    frames: int = 1  # frames involved (duplicates in the run, estimated drop)
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class FrameAnalysis:
    events: list[FrameEvent]
    motion_median: float
    duplicate_share: float
    cadence: bool  # duplicates are a regular frame-rate-conversion pattern
    notes: list[str]


def local_motion(diff: np.ndarray, window: int = WINDOW) -> np.ndarray:
    """Median of ``diff`` over ``window`` frames each side, excluding the frame itself."""
    n = len(diff)
    out = np.zeros(n, np.float32)
    if n == 0:
        return out
    pad = np.concatenate([np.full(window, np.nan), diff, np.full(window, np.nan)])
    from numpy.lib.stride_tricks import sliding_window_view

    win = sliding_window_view(pad, 2 * window + 1).copy()
    win[:, window] = np.nan
    with np.errstate(all="ignore"):
        med = np.nanmedian(win, axis=1)
    out[:] = np.nan_to_num(med, nan=0.0)
    return out


def find_events(
    diff: np.ndarray,
    diff2: np.ndarray,
    ncc: np.ndarray,
    shift: np.ndarray | None = None,
    photometric: np.ndarray | None = None,
) -> FrameAnalysis:
    """Duplicates, breaks, cuts and inserted frames from the per-frame series.

    ``diff[i]`` compares frame i with i-1 (``diff[0]`` is ignored), ``diff2[i]``
    frame i with i-2, ``ncc[i]`` frame i with i-1 after alignment, ``shift[i]``
    the length of that alignment (NaN where not measured): with a steady global
    motion it counts the frames missing at a break better than the difference;
    ``photometric[i]`` the difference after matching brightness and contrast: a
    spike that vanishes there is a lighting change (lamp, flash, exposure), not a
    jump in time, and is only noted.
    """
    diff = np.asarray(diff, np.float32)
    diff2 = np.asarray(diff2, np.float32)
    ncc = np.asarray(ncc, np.float32)
    n = len(diff)
    notes: list[str] = []
    if n < 2 * WINDOW:
        notes.append(f"frame events: only {n} frames, too few for the local-motion test")
        return FrameAnalysis([], float(np.median(diff[1:])) if n > 1 else 0.0, 0.0, False, notes)
    d = diff.copy()
    d[0] = np.nan
    dd = np.nan_to_num(d, nan=0.0)
    moving = float(np.nanmedian(d))

    is_dup, dup_share, cadence, events = _duplicates(dd, local_motion(d), notes)
    events += _spikes(dd, diff2, ncc, shift, photometric, is_dup)
    events.sort(key=lambda e: e.frame)
    return FrameAnalysis(events, round(moving, 3), round(dup_share, 4), cadence, notes)


def _duplicates(
    dd: np.ndarray, motion: np.ndarray, notes: list[str]
) -> tuple[np.ndarray, float, bool, list[FrameEvent]]:
    """Runs of near-zero difference inside moving content: the duplicate mask, its
    share, whether the repeats form a regular cadence, and the freeze events."""
    n = len(dd)
    events: list[FrameEvent] = []
    is_dup = np.zeros(n, bool)
    is_dup[1:] = (dd[1:] < np.minimum(DUP_ABS, DUP_RATIO * motion[1:])) & (
        motion[1:] >= MIN_MOTION_FOR_DUP
    )
    # Freezes pull the local median down; re-test with a wider window.
    wide = local_motion(np.where(is_dup, np.nan, dd).astype(np.float32), window=2 * WINDOW)
    is_dup[1:] = (dd[1:] < np.minimum(DUP_ABS, DUP_RATIO * np.maximum(wide[1:], 1e-6))) & (
        wide[1:] >= MIN_MOTION_FOR_DUP
    )
    dup_share = float(is_dup.sum() / max(n - 1, 1))
    runs = _runs(is_dup)
    cadence = dup_share > CADENCE_SHARE and len(runs) >= 4 and _regular(runs)
    min_run = 1
    if cadence:
        # Repeats of the cadence's own length are the conversion; a longer run
        # inside it is still a freeze.
        typical = int(np.median([length for _, length in runs]))
        min_run = max(3, 2 * typical + 1)
        notes.append(
            f"{is_dup.sum()} duplicated frames in a regular cadence (frame-rate conversion "
            f"or a low-frame-rate source); only runs of {min_run} or more reported as freezes"
        )
    for start, length in runs:
        if length < min_run:
            continue
        # A freeze interrupts motion: the picture moves normally right up to the
        # run and right after it. A camera coming to rest slows down first.
        before = dd[start - 1] if start >= 2 else np.inf
        after = dd[start + length] if start + length < n else np.inf
        if min(before, after) < ABRUPT_SHARE * wide[start]:
            continue
        events.append(
            FrameEvent(
                "duplicate",
                start,
                length,
                {
                    "difference": round(float(dd[start : start + length].max()), 3),
                    "local_motion": round(float(wide[start]), 3),
                },
            )
        )
    return is_dup, dup_share, cadence, events


def _spikes(
    dd: np.ndarray,
    diff2: np.ndarray,
    ncc: np.ndarray,
    shift: np.ndarray | None,
    photometric: np.ndarray | None,
    is_dup: np.ndarray,
) -> list[FrameEvent]:
    """Differences far above the local motion: lighting changes, inserted frames,
    breaks (frames missing within a shot) and cuts."""
    n = len(dd)
    events: list[FrameEvent] = []
    spike = np.zeros(n, bool)
    motion_nd = local_motion(np.where(is_dup, np.nan, dd).astype(np.float32))
    thresh = SPIKE_RATIO * motion_nd + SPIKE_MARGIN
    spike[1:] = dd[1:] > thresh[1:]
    i = 1
    while i < n:
        if not spike[i]:
            i += 1
            continue
        base = float(motion_nd[i])
        ratio = float(dd[i] / max(base, 0.05))
        info: dict[str, Any] = {
            "difference": round(float(dd[i]), 3),
            "local_motion": round(base, 3),
            "ratio": round(ratio, 2),
            "aligned_ncc": round(float(ncc[i]), 3),
        }
        if (
            photometric is not None
            and np.isfinite(photometric[i])
            and photometric[i] <= SPIKE_RATIO * base + SPIKE_MARGIN
        ):
            # Same picture, other brightness/contrast: a lamp, a flash, an exposure jump.
            info["photometric_difference"] = round(float(photometric[i]), 3)
            events.append(FrameEvent("lighting", i, 1, info))
        elif (
            i + 1 < n
            and spike[i + 1]
            and diff2[i + 1] <= SPIKE_RATIO * base + SPIKE_MARGIN
            and diff2[i + 1] < 0.5 * min(dd[i], dd[i + 1])
        ):
            # Inserted single frame: into and straight out of it, neighbours match.
            info["neighbours_difference"] = round(float(diff2[i + 1]), 3)
            events.append(FrameEvent("inserted", i, 1, info))
            i += 2
            continue
        elif ncc[i] >= SAME_SHOT_NCC:
            # Motion is roughly proportional to elapsed time within a shot: the
            # jump over the usual step estimates how many frames are missing. The
            # global shift does that well under steady panning; the difference
            # ratio (which saturates, so it undercounts) is the fallback.
            info["frames_missing_approx"] = _frames_missing(shift, i, n, ratio, info)
            events.append(FrameEvent("break", i, 1, info))
        else:
            events.append(FrameEvent("cut", i, 1, info))
        i += 1
    return events


def _frames_missing(
    shift: np.ndarray | None, i: int, n: int, ratio: float, info: dict[str, Any]
) -> int:
    """Frames missing at a break at frame ``i``: from the difference ratio, or from the
    global shift when the motion around is steady (recorded in ``info``)."""
    missing = max(1, round(ratio) - 1)
    if shift is None:
        return missing
    lo_, hi_ = max(1, i - WINDOW), min(n, i + WINDOW + 1)
    around = np.concatenate([shift[lo_:i], shift[i + 1 : hi_]])
    around = around[np.isfinite(around)]
    if len(around) >= WINDOW and np.isfinite(shift[i]):
        step = float(np.median(around))
        spread = float(np.median(np.abs(around - step)))
        if step >= 0.3 and spread <= 0.25 * step:
            missing = max(1, round(float(shift[i]) / step) - 1)
            info["shift_px"] = round(float(shift[i]), 2)
            info["usual_shift_px"] = round(step, 2)
    return missing


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    i, n = 0, len(mask)
    while i < n:
        if mask[i]:
            j = i
            while j < n and mask[j]:
                j += 1
            out.append((i, j - i))
            i = j
        else:
            i += 1
    return out


def _regular(runs: list[tuple[int, int]]) -> bool:
    """Runs spaced at a near-constant period (telecine/frame-rate conversion)."""
    starts = np.array([s for s, _ in runs])
    gaps = np.diff(starts)
    if len(gaps) < 3:
        return False
    med = float(np.median(gaps))
    return bool(np.mean(np.abs(gaps - med) <= max(1.0, 0.2 * med)) >= 0.7)


# ------------------------------------------------------------ quality segments
# A segment needs the blockiness to move with the other measures by this many
# jitter units at one of its ends at least.
BLOCK_Z = 2.5


@dataclass
class QualityStep:
    frame: int  # first frame after the step (presentation index)
    direction: float  # + = quality up (sharper/noisier/less blocky), - = down
    z: dict[str, float]  # step size per measure, in units of frame-to-frame jitter


def quality_steps(
    frames: np.ndarray,
    measures: np.ndarray,
    min_z: float = 8.0,
    width: int = 4,
) -> list[QualityStep]:
    """Abrupt, lasting steps in the (n x 3) quality series of sampled frames.

    A step compares the median of ``width`` samples after a point with the
    median of ``width`` before it, in units of the series' own jitter (robust
    scale of first differences). A step must be large in at least two of the
    three measures, in the direction of one quality change (all down, or all up;
    blockiness counted inversely), and abrupt (most of it in one sample).
    """
    frames = np.asarray(frames)
    m = np.asarray(measures, np.float64)
    n = len(frames)
    if n < 2 * width + 2:
        return []
    q = m.copy()
    q[:, 2] = -q[:, 2]  # blockiness up = quality down
    jitter = 1.4826 * np.median(np.abs(np.diff(q, axis=0)), axis=0) / np.sqrt(2)
    jitter = np.maximum(jitter, np.array([0.01, 0.01, 0.02]))
    scores = np.zeros(n)
    zs = np.zeros((n, 3))
    for k in range(width, n - width + 1):
        before = np.median(q[k - width : k], axis=0)
        after = np.median(q[k : k + width], axis=0)
        z = (after - before) / jitter
        one = (q[k] - q[k - 1]) / jitter
        signs = np.sign(z)
        big = np.abs(z) >= min_z
        if big.sum() < 2:
            continue
        dom = np.sign(z[big].sum())
        if not np.all(signs[big] == dom):
            continue
        abrupt = np.abs(one[big]) >= 0.5 * np.abs(z[big])
        if abrupt.sum() < 2:
            continue
        zs[k] = z
        scores[k] = float(np.sqrt((z[big] ** 2).sum()))
    steps: list[QualityStep] = []
    k = 0
    while k < n:
        if scores[k] <= 0:
            k += 1
            continue
        j = k
        while j + 1 < n and scores[j + 1] > 0:
            j += 1
        best = k + int(np.argmax(scores[k : j + 1]))
        z = zs[best]
        names = ("sharpness", "noise", "blockiness")
        steps.append(
            QualityStep(
                int(frames[best]),
                float(np.sign(z[np.abs(z) >= min_z].sum())),
                {names[c]: round(float(z[c] if c < 2 else -z[c]), 2) for c in range(3)},
            )
        )
        k = j + 1
    return steps


def quality_segments(
    steps: list[QualityStep], cuts: list[int], tolerance: int = 3
) -> tuple[list[dict[str, Any]], list[QualityStep]]:
    """Pair quality steps into segments, dropping steps that a scene cut explains.

    A segment is a step one way followed by a step back of similar size (the
    quality returns to where it was): the mark of frames spliced in from another
    encode. Lone steps (the quality changes once and stays) are returned apart:
    content changes such as a new lighting or focus do that too, so they are
    metrics, not findings.
    """
    kept = [s for s in steps if all(abs(s.frame - c) > tolerance for c in cuts)]
    segments: list[dict[str, Any]] = []
    lone: list[QualityStep] = []
    i = 0
    while i < len(kept):
        s = kept[i]
        if i + 1 < len(kept) and kept[i + 1].direction == -s.direction:
            e = kept[i + 1]
            size_in = float(np.sqrt(sum(v * v for v in s.z.values())))
            size_out = float(np.sqrt(sum(v * v for v in e.z.values())))
            # Blur (focus hunting, motion) lowers sharpness and noise too, but does
            # not change the block grid; a different encode does, at least at one end.
            sign = -1.0 if s.direction < 0 else 1.0  # blockiness rises when quality drops
            blocky = max(-sign * s.z["blockiness"], sign * e.z["blockiness"]) >= BLOCK_Z
            if blocky and max(size_in, size_out) <= 2.5 * min(size_in, size_out):
                segments.append(
                    {
                        "start_frame": s.frame,
                        "end_frame": e.frame,
                        "direction": "lower" if s.direction < 0 else "higher",
                        "step_in": s.z,
                        "step_out": e.z,
                    }
                )
                i += 2
                continue
        lone.append(s)
        i += 1
    return segments, lone
