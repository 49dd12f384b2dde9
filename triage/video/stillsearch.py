"""Which frame of a video a still picture shows.

A desk often holds a still that circulates on its own and the video it may come from
(a screenshot of a clip, a frame posted as a photo). To compare them, the frame the
still shows is found first, in two passes over the video:

1. **Search.** Frames spread evenly over the clip (``SAMPLES`` of them, every frame of
   a short clip) are matched against the still by SIFT keypoints and a similarity
   fit (:func:`triage.forensics.align.align_keypoints`), so a crop, a resize, a
   mirror or a screenshot of a frame is found as well as the whole frame.
2. **Refine.** Every frame within two search steps of the three best samples is
   aligned the same way and the one that agrees best with the still (the share of the still
   inside the frame plus the normalised correlation of their pixels there) is taken:
   in a shot that moves, the neighbouring frames align too, but only one frame agrees
   pixel for pixel.

Memory stays flat in the video's length: only the best frame so far is kept. Long
clips are sampled by seeking to each time, so an hour of video is not decoded whole.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from triage.forensics.align import Alignment, Keypoints

# Frames matched in the search pass.
SAMPLES = 64
# Long side of the grey frames (and the still) matched in both passes, and the
# keypoints kept: SIFT costs about 30 ms a frame there, 80 at 720 px.
SEARCH_SIDE = 480
SEARCH_FEATURES = 800
# The refine pass reads every frame within this many search steps of the best
# sample: the samples' agreement can rank a neighbour of the right sample first (a
# test card whose only change is a counter: one step away).
REFINE_STEPS = 2
# The refine pass reads around this many of the best samples: in a shot where only a
# small part moves, a sample several steps from the right one can rank first at
# SEARCH_SIDE (bench/compare_video.py).
LEADING = 3
# Clips longer than this are sampled by seeking to each time instead of decoding
# every frame (decoding forward costs the whole clip; seeking a keyframe interval
# per sample).
FORWARD_SECONDS = 120.0
# A clip of no known length (no duration in its header, no packet times) is searched
# frame by frame, at most this many.
UNKNOWN_LENGTH_FRAMES = 8 * SAMPLES


@dataclass(frozen=True)
class FrameFound:
    """The frame of the video that the still shows."""

    seconds: float  # presentation time, from the start of the video stream
    rgb: np.ndarray  # the frame as a player shows it (turn applied), long side <= max_side
    inliers: int  # keypoint matches agreeing on the alignment, in the refine pass
    agreement: float  # share of the still inside the frame + correlation where it is (<= 2)
    searched: int  # frames matched in the search pass
    step: float  # seconds between them


@dataclass(frozen=True)
class FrameNotFound:
    """No frame aligned with the still: the numbers say how hard it was looked for."""

    searched: int
    step: float
    best_inliers: int
    still_keypoints: int
    frame_keypoints: int = 0  # the most keypoints any searched frame had
    reason: str | None = None  # the video could not be decoded: why


def find_frame(
    path: str | Path,
    still_gray: np.ndarray,
    orientation: int | None,
    duration: float | None,
    max_side: int = 1024,
    progress: Callable[[int, int], None] | None = None,
) -> FrameFound | FrameNotFound:
    """Find the frame of the video at ``path`` that ``still_gray`` shows.

    Parameters
    ----------
    path : path
        The video (any container and codec PyAV decodes).
    still_gray : ndarray
        The still, grey uint8, as viewers show it.
    orientation : int or None
        The video's display turn as an EXIF orientation (``Media.orientation``):
        frames are turned as a player turns them before they are matched.
    duration : float or None
        The video's length in seconds when its header says (sets the search step).
    max_side : int
        Long side of the returned frame.
    progress : callable, optional
        Called with (frames searched, frames planned) after each frame of the search.

    Returns
    -------
    FrameFound or FrameNotFound
        The frame, its time and how well it agrees; or how many frames were searched
        and the most keypoint matches any of them reached.

    References
    ----------
    D. G. Lowe, "Distinctive image features from scale-invariant keypoints", IJCV 60,
    91-110, 2004.
    """
    from triage.forensics.align import MIN_INLIERS, keypoints
    from triage.video.stream import shrink

    # Small stills are not enlarged here: align.keypoints enlarges them for keypoints.
    coarse = shrink(still_gray, SEARCH_SIDE)
    coarse_points = keypoints(coarse, SEARCH_FEATURES, mirror=True)
    span = duration if duration and duration > 0 else _packet_span(path)
    step = span / SAMPLES if span else 0.0
    try:
        sampled = _search(path, coarse, coarse_points, orientation, span, step, progress)
    except Exception as exc:  # a damaged stream: what was decoded is all there is
        return FrameNotFound(0, step, 0, coarse_points.count, reason=_short(exc))
    searched, leading, best_inliers, spacing, richest = sampled
    if not leading or best_inliers < MIN_INLIERS:
        return FrameNotFound(searched, spacing, best_inliers, coarse_points.count, richest)
    try:
        refined = None
        for around in _windows(leading, spacing):
            found_here = _refine(
                path, coarse, coarse_points, orientation, around, spacing, max_side
            )
            if found_here is not None and (refined is None or found_here[3] > refined[3]):
                refined = found_here
    except Exception as exc:
        return FrameNotFound(
            searched, spacing, best_inliers, coarse_points.count, richest, _short(exc)
        )
    if refined is None:
        return FrameNotFound(searched, spacing, best_inliers, coarse_points.count, richest)
    seconds, rgb, found, agreement = refined
    return FrameFound(seconds, rgb, found.inliers, agreement, searched, spacing)


def _search(
    path: str | Path,
    still: np.ndarray,
    still_points: Keypoints,
    orientation: int | None,
    span: float | None,
    step: float,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[int, list[float], int, float, int]:
    """(frames matched, times of the ``LEADING`` samples that agree best, the most
    inliers of an aligned sample, seconds between samples, the most keypoints a frame
    had).

    The samples are ranked by how well their pixels agree with the still, not by
    matches: in a still shot every sample aligns about as well."""
    from triage.forensics.align import Alignment, align_keypoints, keypoints

    searched, best = 0, 0
    ranked: list[tuple[float, float]] = []  # (agreement, time) of aligned samples
    spacing, last, richest = step, 0.0, 0
    for seconds, frame in _sample(path, span, step):
        gray = _frame_gray(frame, orientation, SEARCH_SIDE)
        points = keypoints(gray, SEARCH_FEATURES)
        found = align_keypoints(points, still_points)
        searched, last, richest = searched + 1, seconds, max(richest, points.count)
        if progress is not None:
            progress(searched, SAMPLES if step else UNKNOWN_LENGTH_FRAMES)
        if not isinstance(found, Alignment):
            best = max(best, found.best_inliers)
            continue
        best = max(best, found.inliers)
        ranked = sorted([*ranked, (_agreement(gray, still, found), seconds)], reverse=True)
        ranked = ranked[:LEADING]
    if searched > 1 and not step:
        spacing = last / (searched - 1)
    return searched, [t for _, t in ranked], best, spacing, richest


def _windows(leading: list[float], step: float) -> list[float]:
    """The leading samples' times, less those within a refine window of a better one
    (their frames are read there already)."""
    kept: list[float] = []
    for t in leading:
        if all(abs(t - k) > 2 * REFINE_STEPS * step for k in kept):
            kept.append(t)
    return kept


def _sample(path: str | Path, span: float | None, step: float) -> Any:
    """(seconds, frame) of frames spread over the clip: every ``step`` seconds
    (the first frame at or after each time), every frame when ``step`` is 0."""
    import av

    with av.open(str(path), mode="r", metadata_errors="replace") as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        if span is not None and span > FORWARD_SECONDS:
            yield from _sample_by_seeking(container, stream, step)
            return
        _, start = _start(stream)
        due = 0.0
        # Without a length (no header, no packet times) every frame is a sample: at
        # most UNKNOWN_LENGTH_FRAMES of them.
        for count, frame in enumerate(container.decode(stream)):
            if not step and count >= UNKNOWN_LENGTH_FRAMES:
                return
            seconds = _seconds(frame, start)
            if seconds is None or seconds + 1e-6 >= due:
                yield (seconds or 0.0), frame
                due = (seconds or due) + step


def _sample_by_seeking(container: Any, stream: Any, step: float) -> Any:
    time_base, start = _start(stream)
    for k in range(SAMPLES):
        want = k * step
        container.seek(int((start + want) / time_base), stream=stream, backward=True)
        for frame in container.decode(stream):
            seconds = _seconds(frame, start)
            if seconds is None or seconds + 1e-6 >= want:
                yield (seconds if seconds is not None else want), frame
                break


def _refine(
    path: str | Path,
    still: np.ndarray,
    still_points: Keypoints,
    orientation: int | None,
    around: float,
    step: float,
    max_side: int,
) -> tuple[float, np.ndarray, Alignment, float] | None:
    """The frame within ``REFINE_STEPS`` steps of ``around`` that agrees best with
    the still."""
    import av

    from triage.forensics.align import Alignment, align_keypoints, keypoints
    from triage.orientation import upright_pixels
    from triage.video.stream import reduced_frame

    best: tuple[float, np.ndarray, Alignment, float] | None = None
    with av.open(str(path), mode="r", metadata_errors="replace") as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        time_base, start = _start(stream)
        reach = REFINE_STEPS * step + 1e-6
        low, high = around - reach, around + reach
        if low > 0:
            container.seek(int((start + low) / time_base), stream=stream, backward=True)
        for frame in container.decode(stream):
            seconds = _seconds(frame, start)
            if seconds is None:
                continue
            if seconds > high:
                break
            if seconds < low:
                continue
            gray = _frame_gray(frame, orientation, SEARCH_SIDE)
            found = align_keypoints(keypoints(gray, SEARCH_FEATURES), still_points)
            if not isinstance(found, Alignment):
                continue
            agreement = _agreement(gray, still, found)
            if best is None or agreement > best[3]:
                rgb = upright_pixels(reduced_frame(frame, max_side), orientation)
                best = (seconds, np.ascontiguousarray(rgb), found, agreement)
    return best


def _agreement(frame: np.ndarray, still: np.ndarray, found: Alignment) -> float:
    """How well the still, put on the frame, agrees with it: the share of the still
    that lies inside the frame plus the normalised correlation of their pixels where
    it does (2: all of it, the same pixels up to brightness and contrast).

    The share matters in a pan over a still scene: every frame shows the same things
    where it overlaps the still, but only the right one holds all of it."""
    import cv2

    size = (frame.shape[1], frame.shape[0])
    warped = cv2.warpAffine(still, found.matrix, size, flags=cv2.INTER_LINEAR)
    cover = cv2.warpAffine(
        np.full(still.shape, 255, np.uint8), found.matrix, size, flags=cv2.INTER_NEAREST
    )
    placed = still.shape[0] * still.shape[1] * found.scale**2
    inside_share = min(1.0, float(np.count_nonzero(cover)) / max(placed, 1.0))
    # Keep away from the cover's edge, where the warp mixes in the black outside.
    inside = cv2.erode(cover, np.ones((5, 5), np.uint8)) > 0
    if int(inside.sum()) < 100:
        return -1.0
    a = frame[inside].astype(np.float64)
    b = warped[inside].astype(np.float64)
    a -= a.mean()
    b -= b.mean()
    denominator = float(np.sqrt((a * a).sum() * (b * b).sum()))
    correlation = float((a * b).sum() / denominator) if denominator > 0 else -1.0
    return inside_share + correlation


def _packet_span(path: str | Path) -> float | None:
    """The video stream's length from its packets' times (read, not decoded: a
    container without a duration in its header, e.g. a WebM from a browser)."""
    import av

    latest = None
    try:
        with av.open(str(path), mode="r", metadata_errors="replace") as container:
            stream = container.streams.video[0]
            _, start = _start(stream)
            for packet in container.demux(stream):
                if packet.pts is not None and packet.time_base is not None:
                    end = float(packet.pts * packet.time_base) - start
                    latest = end if latest is None else max(latest, end)
    except Exception:  # what could be read gives the length; nothing: none
        pass
    return latest if latest and latest > 0 else None


def _start(stream: Any) -> tuple[float, float]:
    """The stream's time base and its first presentation time, in seconds."""
    time_base = float(stream.time_base or 0) or 1 / 90000
    return time_base, float(stream.start_time or 0) * time_base


def _seconds(frame: Any, start: float) -> float | None:
    """The frame's presentation time from the stream's start, or None."""
    if frame.pts is None or frame.time_base is None:
        return None
    return max(0.0, float(frame.pts * frame.time_base) - start)


def _frame_gray(frame: Any, orientation: int | None, side: int) -> np.ndarray:
    from triage.orientation import upright_pixels
    from triage.video.stream import reduced_frame

    gray = reduced_frame(frame, side, "gray")
    return np.ascontiguousarray(upright_pixels(gray, orientation))


def _short(exc: BaseException) -> str:
    from triage.errors import ffmpeg_reason

    return f"the video could not be decoded ({ffmpeg_reason(exc)})"
