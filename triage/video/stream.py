"""The one streaming pass over a video: packets and frames in, small series out.

(Named ``stream``, not ``scan``: in triage a scan is a batch over folders.)

Nothing here keeps a frame. Per packet it records pts, dts and the keyframe flag;
per decoded frame a 64 x 36 grey signature is compared with the previous two and
dropped, leaving three numbers per frame (difference, two-back difference,
aligned correlation). Every ``quality_step``-th frame also gets the three quality
measures of its full-resolution luma, and every keyframe a perceptual hash
(for the provenance question). Memory is therefore constant in the video's length
apart from these few numbers per frame.

Budget: frames are decoded up to ``max_seconds`` of video; after that the packets
are still demuxed (fast) so timestamp checks cover the whole file.

PyAV is the primary reader; :func:`read_opencv` is the fallback for files PyAV
cannot open (no packet timestamps, no container tags there).
"""

from __future__ import annotations

import functools
import math
import threading
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from triage.video import frames as fr
from triage.video.sampled import DEFAULT_FRAMES, FrameSampler, Samples

if TYPE_CHECKING:
    from triage.analyzers.options import VideoOptions

DEFAULT_MAX_SECONDS = 1800.0
# Heavier per-frame checks (quality measures) get this many luma pixels per second
# of video; e.g. every 7th frame of 720p30, every 16th of 1080p30, every frame of
# 320x240 at 30 fps.
DEFAULT_QUALITY_PIXELS_PER_SECOND = 4_000_000
MAX_KEYFRAME_HASHES = 500
_PLANAR_8BIT = {
    "yuv420p",
    "yuvj420p",
    "yuv422p",
    "yuvj422p",
    "yuv444p",
    "yuvj444p",
    "yuv440p",
    "yuvj440p",
    "yuv411p",
    "yuv410p",
    "nv12",
    "nv21",
    "gray",
}


class NoVideoStream(ValueError):
    """The container opened but holds no video stream."""


@dataclass
class Stream:
    backend: str  # "pyav" or "opencv"
    container: dict[str, Any] | None
    time_base: float
    pkt_pts: np.ndarray
    pkt_dts: np.ndarray
    pkt_key: np.ndarray
    frame_time: np.ndarray  # seconds, as decoded (presentation order)
    frame_key: np.ndarray
    diff: np.ndarray
    diff2: np.ndarray
    ncc: np.ndarray
    shift: np.ndarray  # global shift to the previous frame, signature pixels (NaN if not measured)
    photometric: (
        np.ndarray
    )  # difference after matching brightness and contrast (NaN if not measured)
    quality_frames: np.ndarray
    quality: np.ndarray  # n x 3: sharpness, noise, blockiness
    quality_step: int
    keyframe_hashes: list[dict[str, Any]]
    width: int
    height: int
    fps: float | None
    decoded_all: bool
    pict_types: dict[str, int] = field(default_factory=dict)
    start_time: float = (
        0.0  # presentation time of the first frame, seconds (frame_time is relative)
    )
    notes: list[str] = field(default_factory=list)
    samples: Samples | None = None  # image evidence of the sampled frames

    @property
    def n_frames(self) -> int:
        return len(self.diff)


class FrameSeries:
    """Online accumulator: push one luma plane per frame, keep only numbers."""

    def __init__(
        self, quality_step: int, hashes: bool = True, sampler: FrameSampler | None = None
    ) -> None:
        self.quality_step = max(1, quality_step)
        self.sampler = sampler
        self.hashes = hashes
        self.time = array("d")
        self.key = array("b")
        self.diff = array("f")
        self.diff2 = array("f")
        self.ncc = array("f")
        self.shift = array("f")
        self.photometric = array("f")
        self.q_frames = array("l")
        self.q = array("f")
        self.keyframe_hashes: list[dict[str, Any]] = []
        self._prev: np.ndarray | None = None
        self._prev2: np.ndarray | None = None
        self._phash: Any = None
        if hashes:
            try:
                from triage.hashing import phash

                self._phash = phash
            except ImportError:  # the provenance module is optional here
                self._phash = None

    def push(
        self,
        sig: np.ndarray,
        t: float,
        key: bool,
        luma: Callable[[], np.ndarray],
        rgb: Callable[[tuple[int, int]], np.ndarray] | None = None,
        cheap_luma: bool = False,
    ) -> None:
        """Add one frame: its signature, time, keyframe flag and a way to get its
        full-resolution luma (called only for sampled frames and keyframes, and for
        every frame when ``cheap_luma`` says it is a view, not a conversion), and its
        RGB pixels at a given size (called only for the frames the sampler takes)."""
        i = len(self.diff)
        if self.sampler is not None and rgb is not None:
            self.sampler.push(i, t, key, rgb, luma if cheap_luma else None)
        shift = photometric = float("nan")
        if self._prev is None:
            d, ncc = 0.0, 1.0
        else:
            d = float(np.abs(sig - self._prev).mean())
            ncc = 1.0
            if d > fr.SPIKE_MARGIN:
                ncc, (dx, dy) = fr.aligned_ncc(self._prev, sig)
                shift = float(np.hypot(dx, dy))
                photometric = fr.photometric_diff(self._prev, sig)
        d2 = float(np.abs(sig - self._prev2).mean()) if self._prev2 is not None else d
        self.time.append(t)
        self.key.append(1 if key else 0)
        self.diff.append(d)
        self.diff2.append(d2)
        self.ncc.append(ncc)
        self.shift.append(shift)
        self.photometric.append(photometric)
        y = None
        if i % self.quality_step == 0:
            y = luma()
            self.q_frames.append(i)
            self.q.extend(fr.quality_measures(y))
        if key and self._phash is not None and len(self.keyframe_hashes) < MAX_KEYFRAME_HASHES:
            y = luma() if y is None else y
            self.keyframe_hashes.append(
                {"frame": i, "time": round(t, 3), "phash": self._phash(shrink(y, 512))}
            )
        self._prev2, self._prev = self._prev, sig

    def stream_fields(self) -> dict[str, Any]:
        """The :class:`Stream` fields that come from the frames (same for every backend)."""
        return {
            "frame_time": np.frombuffer(self.time, dtype=np.float64).copy(),
            "frame_key": np.frombuffer(self.key, dtype=np.int8).astype(bool),
            "diff": np.frombuffer(self.diff, dtype=np.float32).copy(),
            "diff2": np.frombuffer(self.diff2, dtype=np.float32).copy(),
            "ncc": np.frombuffer(self.ncc, dtype=np.float32).copy(),
            "shift": np.frombuffer(self.shift, dtype=np.float32).copy(),
            "photometric": np.frombuffer(self.photometric, dtype=np.float32).copy(),
            "quality_frames": np.asarray(self.q_frames, dtype=np.int64),
            "quality": np.frombuffer(self.q, dtype=np.float32).reshape(-1, 3).copy(),
            "quality_step": self.quality_step,
            "keyframe_hashes": self.keyframe_hashes,
            "samples": self.sampler.samples if self.sampler is not None else None,
        }


def _same(arr: np.ndarray) -> np.ndarray:
    return arr


def shrink(luma: np.ndarray, max_side: int) -> np.ndarray:
    """``luma`` with its long side brought down to ``max_side`` (area averaging), or
    itself (contiguous) when it is no larger."""
    import cv2

    h, w = luma.shape
    if max(h, w) <= max_side:
        return np.ascontiguousarray(luma)
    s = max_side / max(h, w)
    return cv2.resize(
        luma, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA
    )


def luma_of(frame: Any) -> np.ndarray:
    """The 8-bit luma plane of a PyAV frame, without a copy when the layout allows."""
    name = frame.format.name
    if name in _PLANAR_8BIT:
        plane = frame.planes[0]
        buf = np.frombuffer(plane, np.uint8)
        return buf.reshape(-1, plane.line_size)[: frame.height, : frame.width]
    arr: np.ndarray = frame.to_ndarray(format="gray")
    return arr


def signature_of(luma: np.ndarray) -> np.ndarray:
    """The 64 x 36 grey signature of a luma plane, from a strided view so that each
    signature cell still averages >= 16 samples (a 720p frame is read at every 5th
    pixel of every 5th row: about 6x cheaper than averaging every pixel)."""
    h, w = luma.shape
    stride = max(1, min(w // (fr.SIG_W * 4), h // (fr.SIG_H * 4)))
    return fr.signature(luma[::stride, ::stride] if stride > 1 else luma)


def quality_step_for(width: int, height: int, fps: float | None, pixels_per_second: float) -> int:
    rate = fps or 30.0
    return max(1, math.ceil(width * height * rate / max(pixels_per_second, 1.0)))


def read_pyav(
    path: str | Path,
    max_seconds: float = DEFAULT_MAX_SECONDS,
    quality_pixels_per_second: float = DEFAULT_QUALITY_PIXELS_PER_SECOND,
    hashes: bool = True,
    frames: int = 0,
) -> Stream:
    """Stream the first video stream once: packets for timestamps, frames for series.

    Raises whatever ``av.open`` raises when the file cannot be opened; decode
    errors midway end the frame series there (recorded in ``notes``).
    """
    import av

    from triage.video.container import clockwise, read_container

    notes: list[str] = []
    with av.open(str(path), mode="r", metadata_errors="replace") as container:
        if not container.streams.video:
            raise NoVideoStream("the file holds no video stream (audio only?)")
        vs = container.streams.video[0]
        cc = vs.codec_context
        if cc is None:  # PyAV >= 14: no decoder for the codec (OpenCV may still have one)
            from triage.errors import NO_DECODER

            raise ValueError(NO_DECODER)
        vs.thread_type = "AUTO"
        width, height = int(cc.width or 0), int(cc.height or 0)
        fps = float(vs.average_rate) if vs.average_rate else None
        tb = float(vs.time_base) if vs.time_base else 1.0 / (fps or 30.0)
        sampler = None
        if frames > 0:
            expected = int(vs.frames or 0) or (
                round(float(vs.duration * vs.time_base) * (fps or 30.0))
                if vs.duration and vs.time_base
                else None
            )
            if expected:
                expected = min(expected, round(max_seconds * (fps or 30.0)) + 1)
            sampler = FrameSampler(frames, expected, width, height)
        series = FrameSeries(
            quality_step_for(width, height, fps, quality_pixels_per_second),
            hashes=hashes,
            sampler=sampler,
        )
        pts, dts, key = array("d"), array("d"), array("b")
        first_packets: list[bytes] = []
        pict: dict[str, int] = {}
        decoding = True
        decoded_all = True
        t_first: float | None = None
        first_rotation: float | None = None  # the display matrix, on decoded frames only
        for packet in container.demux(vs):
            if packet.size == 0 and packet.pts is None and packet.dts is None:
                frames_out = _decode(packet, notes) if decoding else []  # the flush packet
            else:
                pts.append(float(packet.pts) if packet.pts is not None else math.nan)
                dts.append(float(packet.dts) if packet.dts is not None else math.nan)
                key.append(1 if packet.is_keyframe else 0)
                if len(first_packets) < 3:
                    first_packets.append(bytes(packet)[:4096])
                frames_out = _decode(packet, notes) if decoding else []
            for frame in frames_out:
                if frame.pts is not None:
                    t = float(frame.pts * tb)
                else:
                    t = len(series.diff) / (fps or 30.0)
                if t_first is None:
                    t_first = t
                    first_rotation = getattr(frame, "rotation", None)
                if t - t_first > max_seconds:
                    decoding = False
                    decoded_all = False
                    break
                ptype = str(getattr(frame.pict_type, "name", frame.pict_type))
                pict[ptype] = pict.get(ptype, 0) + 1
                if frame.format.name in _PLANAR_8BIT:
                    y = luma_of(frame)  # a view: no conversion
                    sig, get_luma = signature_of(y), functools.partial(_same, y)
                else:  # 10-bit HDR, RGB codecs: let swscale shrink it, convert only if sampled
                    small = frame.reformat(fr.SIG_W, fr.SIG_H, "gray", interpolation="AREA")
                    sig = np.asarray(small.to_ndarray(), np.float32)
                    get_luma = functools.partial(luma_of, frame)
                series.push(
                    sig,
                    t - t_first,
                    bool(frame.key_frame),
                    get_luma,
                    functools.partial(_rgb_pyav, frame),
                    cheap_luma=frame.format.name in _PLANAR_8BIT,
                )
        info = read_container(container, first_packets)
        for entry in info["streams"]:
            if entry["index"] == vs.index and entry.get("rotation") is None and first_rotation:
                entry["rotation"] = clockwise(float(first_rotation))
    if not decoded_all:
        notes.append(
            f"frames after {max_seconds:g} s were not decoded (budget); timestamps cover the whole file"
        )
    return Stream(
        backend="pyav",
        container=info,
        time_base=tb,
        pkt_pts=np.frombuffer(pts, dtype=np.float64).copy(),
        pkt_dts=np.frombuffer(dts, dtype=np.float64).copy(),
        pkt_key=np.frombuffer(key, dtype=np.int8).astype(bool),
        **series.stream_fields(),
        width=width,
        height=height,
        fps=fps,
        decoded_all=decoded_all,
        pict_types=pict,
        start_time=t_first or 0.0,
        notes=notes,
    )


def reduced_frame(frame: Any, max_side: int, fmt: str = "rgb24") -> np.ndarray:
    """A PyAV frame as an array of long side at most ``max_side``, shrunk by the
    decoder's scaler (area average) before it is converted, so a 4K frame costs one
    small array; ``fmt`` is the pixel format ("rgb24", "gray")."""
    scale = min(1.0, max_side / max(frame.width, frame.height, 1))
    size = (max(1, round(frame.width * scale)), max(1, round(frame.height * scale)))
    return _rgb_pyav(frame, size, fmt)


def _rgb_pyav(frame: Any, size: tuple[int, int], fmt: str = "rgb24") -> np.ndarray:
    arr: np.ndarray = frame.reformat(size[0], size[1], fmt, interpolation="AREA").to_ndarray()
    return arr


def _rgb_cv(bgr: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    import cv2

    if bgr.ndim == 2:
        bgr = cv2.cvtColor(bgr, cv2.COLOR_GRAY2BGR)
    if (bgr.shape[1], bgr.shape[0]) != size:
        bgr = cv2.resize(bgr, size, interpolation=cv2.INTER_AREA)
    out: np.ndarray = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    return out


def first_frames(container: Any, stream: Any, max_packets: int) -> Iterator[Any]:
    """The frames of ``stream`` that decode from its first ``max_packets`` packets, in
    order (damaged packets skipped): a bounded look at a video's start for its header
    facts and its poster. Consumes packets of the open container."""
    for n, packet in enumerate(container.demux(stream)):
        if n >= max_packets:
            return
        yield from _decode(packet)


def _decode(packet: Any, notes: list[str] | None = None) -> list[Any]:
    try:
        return list(packet.decode())
    except Exception as exc:  # corrupt packet: skip it, say so once
        if notes is not None and not any(n.startswith("undecodable packet") for n in notes):
            notes.append(f"undecodable packet(s) skipped: {exc}")
        return []


def read_opencv(
    path: str | Path,
    max_seconds: float = DEFAULT_MAX_SECONDS,
    quality_pixels_per_second: float = DEFAULT_QUALITY_PIXELS_PER_SECOND,
    frames: int = 0,
) -> Stream:
    """Fallback pass through OpenCV's reader: frames only (no packets, no tags)."""
    import cv2

    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise ValueError("OpenCV cannot open the file either")
    try:
        fps = float(cap.get(cv2.CAP_PROP_FPS)) or None
        width = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH))
        height = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) or None
        sampler = FrameSampler(frames, count, width, height) if frames > 0 else None
        series = FrameSeries(
            quality_step_for(width, height, fps, quality_pixels_per_second), sampler=sampler
        )
        decoded_all = True
        while True:
            ok, bgr = cap.read()
            if not ok:
                break
            t = float(cap.get(cv2.CAP_PROP_POS_MSEC)) / 1000.0
            if t > max_seconds:
                decoded_all = False
                break
            gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY) if bgr.ndim == 3 else bgr
            series.push(
                signature_of(gray),
                t,
                len(series.diff) == 0,
                functools.partial(_same, gray),
                functools.partial(_rgb_cv, bgr),
                cheap_luma=True,
            )
    finally:
        cap.release()
    empty = np.zeros(0)
    return Stream(
        backend="opencv",
        container=None,
        time_base=1.0 / (fps or 30.0),
        pkt_pts=empty,
        pkt_dts=empty,
        pkt_key=np.zeros(0, bool),
        **series.stream_fields(),
        width=width,
        height=height,
        fps=fps,
        decoded_all=decoded_all,
        notes=[],
    )


@dataclass
class Opened:
    """The shared pass of one file: the stream, or why it could not be read."""

    stream: Stream | None
    pyav_error: str | None = None  # PyAV failed and OpenCV read the frames
    error: str | None = None  # neither could decode it
    no_video: str | None = None  # the container holds no video stream


_LOCK = threading.Lock()


def pass_settings(options: VideoOptions) -> tuple[float, float, int]:
    """(max_seconds, quality_pixels_per_second, frames) of the shared pass: the
    options given, the defaults for the rest."""
    return (
        float(options.max_seconds if options.max_seconds is not None else DEFAULT_MAX_SECONDS),
        float(
            options.quality_pixels_per_second
            if options.quality_pixels_per_second is not None
            else DEFAULT_QUALITY_PIXELS_PER_SECOND
        ),
        int(options.frames if options.frames is not None else DEFAULT_FRAMES),
    )


def shared_stream(
    media: Any,
    max_seconds: float = DEFAULT_MAX_SECONDS,
    quality_pixels_per_second: float = DEFAULT_QUALITY_PIXELS_PER_SECOND,
    frames: int = 0,
) -> Opened:
    """The one pass over ``media``'s video, run once per file and shared by the
    analyzers that read it (the timeline checks and the sampled-frame evidence).

    The result is kept on the ``Media`` object under the parameters it was made
    with; a pass with a larger frame budget also serves a request for fewer.
    """
    cache: dict[tuple[float, float], Opened] = media.video_passes
    key = (float(max_seconds), float(quality_pixels_per_second))
    with _LOCK:
        hit = cache.get(key)
        if hit is not None and (
            hit.stream is None
            or (hit.stream.samples is None and frames <= 0)
            or (hit.stream.samples is not None and hit.stream.samples.budget >= frames)
        ):
            return hit
        opened = _open(media.path, max_seconds, quality_pixels_per_second, frames)
        cache[key] = opened
        return opened


def _open(path: Any, max_seconds: float, qpps: float, frames: int) -> Opened:
    import av

    try:
        return Opened(read_pyav(path, max_seconds, qpps, frames=frames))
    except NoVideoStream as exc:
        return Opened(None, no_video=str(exc))
    except (av.FFmpegError, OSError, ValueError) as exc:
        # PyAV cannot open or demux the file; anything else is a bug and propagates.
        pyav_error = _short(exc)
    try:
        return Opened(read_opencv(path, max_seconds, qpps, frames=frames), pyav_error=pyav_error)
    except Exception as exc2:
        return Opened(None, pyav_error, f"PyAV: {pyav_error}; OpenCV: {_short(exc2)}")


def _short(exc: BaseException) -> str:
    from triage.errors import ffmpeg_reason

    if getattr(exc, "strerror", None):  # FFmpeg's sentence, without errno and path
        return ffmpeg_reason(exc)
    text = str(exc).strip().splitlines()
    return text[0][:160] if text else type(exc).__name__
