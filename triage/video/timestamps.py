"""Packet timestamps: gaps, duplicates, non-monotonic steps, variable frame rate and
keyframe-interval irregularities.

Pure functions over the per-packet series that :mod:`triage.video.stream` collects
(pts, dts in stream ticks, keyframe flags, in decode order). A frame is named by
its presentation index: the rank of its pts among all pts.

Why these matter (see docs/analyzers/video.md): cutting a clip without
re-timestamping leaves a jump in pts; concatenating or re-muxing badly produces
repeated or backwards dts; an edit point in a stream copied from a fixed-GOP
camera forces an unscheduled keyframe. Each has innocent causes too (recorders
that drop frames under load, variable frame rate phones, encoders that insert a
keyframe at every scene cut), so the analyzer weighs them low.

References: ISO/IEC 14496-12 (ISO BMFF, ``stts``/``ctts`` timing); Gironi et al.,
"A video forensic technique for detecting frame deletion and insertion", ICASSP
2014 (GOP structure after re-encoding).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# A step larger than this many typical frame durations is a gap.
GAP_FACTOR = 1.8
# pts may step back by the B-frame reorder depth; beyond this it is out of order.
MAX_REORDER_FRAMES = 16
# A delta further than this from the typical one counts towards variable frame rate.
VFR_TOLERANCE = 0.10


@dataclass
class TimestampEvent:
    kind: str  # gap / duplicate_pts / dts_backwards / dts_repeat / pts_out_of_order
    frame: int  # presentation index of the frame at (after) the event
    time: float  # seconds from the first frame
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class TimestampReport:
    frames: int
    typical_delta: float | None  # seconds
    events: list[TimestampEvent]
    vfr_fraction: float  # share of frame deltas off the typical one (gaps excluded)
    delta_cv: float  # coefficient of variation of the deltas (gaps excluded)
    keyframes: list[int]  # presentation indices of keyframes
    gop: int | None  # the regular keyframe interval, when there is one
    gop_regular_share: float  # share of keyframe intervals equal to ``gop``
    irregular_keyframes: list[int]  # keyframes that break the regular interval
    checked: list[str]
    skipped: list[str]


def analyze(
    pts: np.ndarray,
    dts: np.ndarray,
    keyframe: np.ndarray,
    time_base: float,
) -> TimestampReport:
    """Check one video stream's packet timestamps.

    ``pts``/``dts`` are float arrays of ticks in decode order with NaN where the
    container gave none; ``keyframe`` a bool array; ``time_base`` seconds per tick.
    """
    pts = np.asarray(pts, dtype=np.float64)
    dts = np.asarray(dts, dtype=np.float64)
    key = np.asarray(keyframe, dtype=bool)
    n = len(pts)
    checked: list[str] = []
    skipped: list[str] = []
    events: list[TimestampEvent] = []
    have_pts = np.isfinite(pts)
    if n < 3 or have_pts.sum() < 3:
        skipped.append("timestamps: fewer than 3 timed packets")
        return TimestampReport(n, None, [], 0.0, 0.0, [], None, 0.0, [], checked, skipped)

    # Presentation order: rank of each packet's pts (packets without pts go last).
    order = np.argsort(np.where(have_pts, pts, np.inf), kind="stable")
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    sorted_pts = pts[order][: int(have_pts.sum())]
    t0 = sorted_pts[0]

    def when(ticks: float) -> float:
        return round(float((ticks - t0) * time_base), 4)

    deltas = np.diff(sorted_pts)
    positive = deltas[deltas > 0]
    typical = float(np.median(positive)) if len(positive) else 0.0
    checked.append("pts gaps")
    gap_events, vfr_fraction, delta_cv = _gaps(sorted_pts, typical, time_base, when)
    events += gap_events
    checked.append("duplicate pts")
    dup = np.flatnonzero(deltas == 0)
    for i in _runs_start(dup):
        run = _run_length(dup, int(i))
        events.append(
            TimestampEvent(
                "duplicate_pts",
                int(i + 1),
                when(sorted_pts[i + 1]),
                {"repeated_frames": int(run)},
            )
        )

    if np.isfinite(dts).sum() >= 3:
        checked.append("dts monotonic")
        events += _dts_events(dts, pts, rank, when)
    else:
        skipped.append("dts monotonic: the container gives no decode timestamps")

    if typical > 0:
        checked.append("pts order")
        events += _order_events(pts, rank, typical, time_base, when)

    keyframes = sorted(int(rank[i]) for i in np.flatnonzero(key))
    gop, share, irregular = keyframe_regularity(keyframes, n)
    checked.append("keyframe interval")
    events.sort(key=lambda e: e.frame)
    return TimestampReport(
        frames=n,
        typical_delta=typical * time_base if typical > 0 else None,
        events=events,
        vfr_fraction=round(vfr_fraction, 4),
        delta_cv=round(delta_cv, 4),
        keyframes=keyframes,
        gop=gop,
        gop_regular_share=round(share, 3),
        irregular_keyframes=irregular,
        checked=checked,
        skipped=skipped,
    )


def _gaps(
    sorted_pts: np.ndarray, typical: float, time_base: float, when: Callable[[float], float]
) -> tuple[list[TimestampEvent], float, float]:
    """Gaps in presentation time (frames missing), and how variable the other steps
    are: (events, share of steps off the typical one, their coefficient of variation)."""
    events: list[TimestampEvent] = []
    deltas = np.diff(sorted_pts)
    if typical > 0:
        # One tick of rounding slack (e.g. 33/34 ms in a 1 ms time base).
        slack = 1.0
        is_gap = (deltas > GAP_FACTOR * typical) & (deltas - typical > slack)
        for i in np.flatnonzero(is_gap).tolist():
            missing = round(float(deltas[i]) / typical) - 1
            events.append(
                TimestampEvent(
                    "gap",
                    int(i + 1),
                    when(sorted_pts[i + 1]),
                    {
                        "step_s": round(float(deltas[i]) * time_base, 4),
                        "typical_step_s": round(typical * time_base, 5),
                        "frames_missing_approx": int(missing),
                    },
                )
            )
        normal = deltas[(deltas > 0) & ~is_gap]
        if len(normal) >= 2:
            off = np.abs(normal - typical) > np.maximum(VFR_TOLERANCE * typical, slack + 0.5)
            vfr_fraction = float(off.mean())
            delta_cv = float(normal.std() / max(normal.mean(), 1e-12))
        else:
            vfr_fraction, delta_cv = 0.0, 0.0
    else:
        vfr_fraction, delta_cv = 0.0, 0.0
    return events, vfr_fraction, delta_cv


def _dts_events(
    dts: np.ndarray, pts: np.ndarray, rank: np.ndarray, when: Callable[[float], float]
) -> list[TimestampEvent]:
    """Decode timestamps that repeat or step backwards."""
    events: list[TimestampEvent] = []
    have_dts = np.isfinite(dts)
    idx = np.flatnonzero(have_dts)
    d = dts[idx]
    steps = np.diff(d)
    for j in np.flatnonzero(steps <= 0):
        pk = int(idx[j + 1])
        kind = "dts_repeat" if steps[j] == 0 else "dts_backwards"
        events.append(
            TimestampEvent(
                kind,
                int(rank[pk]),
                when(pts[pk]) if np.isfinite(pts[pk]) else when(d[j + 1]),
                {"step_ticks": float(steps[j]), "packet": pk},
            )
        )
    return events


def _order_events(
    pts: np.ndarray,
    rank: np.ndarray,
    typical: float,
    time_base: float,
    when: Callable[[float], float],
) -> list[TimestampEvent]:
    """Presentation timestamps that step back by more than the reorder depth."""
    events: list[TimestampEvent] = []
    have_pts = np.isfinite(pts)
    # Decode-order pts may step back by the reorder depth (B-frames), no more.
    seq = pts[have_pts]
    pk_idx = np.flatnonzero(have_pts)
    running_max = np.maximum.accumulate(seq)
    back = running_max - seq
    for j in np.flatnonzero(back > MAX_REORDER_FRAMES * typical):
        if j > 0 and back[j - 1] > MAX_REORDER_FRAMES * typical:
            continue  # report each backwards jump once
        pk = int(pk_idx[j])
        events.append(
            TimestampEvent(
                "pts_out_of_order",
                int(rank[pk]),
                when(seq[j]),
                {"back_by_s": round(float(back[j]) * time_base, 4), "packet": pk},
            )
        )
    return events


def keyframe_regularity(keyframes: list[int], n_frames: int) -> tuple[int | None, float, list[int]]:
    """The regular keyframe interval (GOP), the share of intervals equal to it, and
    the keyframes that come earlier than scheduled.

    A camera or phone encoder uses a fixed interval (often 1 or 2 s); an edit
    point in a stream-copied clip, or an inserted segment, restarts the GOP early.
    Encoders with adaptive GOP (x264's default scene-cut keyframes) have no single
    interval; then nothing is called irregular (``gop`` is None).
    """
    if len(keyframes) < 4:
        return None, 0.0, []
    intervals = np.diff(np.asarray(keyframes))
    values, counts = np.unique(intervals, return_counts=True)
    gop = int(values[np.argmax(counts)])
    share = float(counts.max() / len(intervals))
    if gop <= 1 or share < 0.6 or counts.max() < 3:
        return None, share, []
    irregular: list[int] = []
    # Walk the schedule: a keyframe is irregular when it is not on the grid that
    # continues from the previous keyframe (the grid restarts after it, as encoders do).
    for k in range(1, len(keyframes)):
        step = keyframes[k] - keyframes[k - 1]
        if step % gop != 0:
            irregular.append(int(keyframes[k]))
    return gop, share, irregular


def _runs_start(positions: np.ndarray) -> list[int]:
    out: list[int] = []
    prev = -2
    p: int
    for p in positions.tolist():
        if p != prev + 1:
            out.append(int(p))
        prev = p
    return out


def _run_length(positions: np.ndarray, start: int) -> int:
    s = set(positions.tolist())
    k = start
    while k in s:
        k += 1
    return k - start
