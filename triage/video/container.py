"""Container facts and their consistency: brands, writer and encoder tags, dates,
rotation, frame rates, duration against frame count, streams present.

:func:`read_container` turns an open PyAV container into a plain dict (no PyAV
objects leak out); :func:`check_container` turns that dict, plus what the
streaming pass counted, into issues. Both are pure apart from reading the
already-open container's header.

What the tags mean (ISO/IEC 14496-12 and QuickTime File Format; FFmpeg's
``libavformat/movenc.c`` defaults):

* FFmpeg's muxer writes ``encoder=Lavf<version>`` and, by default, the brands
  ``isom`` + ``isomiso2avc1mp41`` and handler names ``VideoHandler`` /
  ``SoundHandler``. A phone writes its own (``qt  `` with Apple's
  ``Core Media Video``; ``mp42``/``isom`` with Android's ``VideoHandle``). A
  Lavf writer therefore means the file was re-muxed or re-encoded by FFmpeg
  (which platforms, editors and converters all use): processing, not proof of
  editing.
* An x264/x265 settings string in the bitstream (SEI user data) means software
  encoding: phones encode in hardware, so the pixels were re-encoded.
* ``creation_time`` in the container and in each stream are written together by
  a recorder; a disagreement beyond a whole-hour time-zone shift means the
  streams come from different recordings or were re-dated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

FFMPEG_HANDLERS = {"VideoHandler", "SoundHandler", "DataHandler", "SubtitleHandler"}
_SW_ENCODER = re.compile(rb"(x264 - core \d+|x265 \(build \d+|libvpx|Lavc\d+\.\d+)")
_APPLE_DATE_KEYS = ("com.apple.quicktime.creationdate", "date", "creation_date")
# Dates a muxer writes when it has none (QuickTime epoch, Unix epoch).
_NULL_DATES = ("1904-01-01", "1970-01-01")
# The EXIF orientation tag value of each quarter turn clockwise a player applies.
ORIENTATION_OF_TURN = {90: 6, 180: 3, 270: 8}


@dataclass
class Issue:
    kind: str  # writer / dates_inconsistent / duration_mismatch / ...
    detail: str
    evidence: dict[str, Any] = field(default_factory=dict)


def read_container(container: Any, first_packets: list[bytes] | None = None) -> dict[str, Any]:
    """Header facts of an open PyAV input container, as JSON-friendly values."""
    meta = {str(k): str(v) for k, v in (container.metadata or {}).items()}
    info: dict[str, Any] = {
        "format": container.format.name if container.format else None,
        "major_brand": meta.get("major_brand"),
        "compatible_brands": meta.get("compatible_brands"),
        "writer": meta.get("encoder") or meta.get("software") or meta.get("writing_app"),
        "creation_time": meta.get("creation_time"),
        "other_dates": {k: meta[k] for k in _APPLE_DATE_KEYS if k in meta},
        "duration_s": (float(container.duration) / 1e6) if container.duration else None,
        "streams": [],
    }
    for s in container.streams:
        smeta = {str(k): str(v) for k, v in (s.metadata or {}).items()}
        entry: dict[str, Any] = {
            "index": int(s.index),
            "type": s.type,
            "codec": s.codec_context.name if s.codec_context else None,
            "handler": smeta.get("handler_name", "").strip("\x00\x1f# ") or None,
            "encoder": smeta.get("encoder"),
            "creation_time": smeta.get("creation_time"),
        }
        if s.type == "video":
            cc = s.codec_context
            entry.update(
                {
                    "profile": getattr(cc, "profile", None),
                    "width": int(cc.width or 0),
                    "height": int(cc.height or 0),
                    "pix_fmt": getattr(cc, "pix_fmt", None),
                    "average_rate": _num(s.average_rate),
                    "base_rate": _num(s.base_rate),
                    "declared_frames": int(s.frames or 0),
                    "duration_s": float(s.duration * s.time_base)
                    if s.duration and s.time_base
                    else None,
                    "rotation": header_rotation(s, smeta),
                }
            )
        info["streams"].append(entry)
    if first_packets:
        m = _SW_ENCODER.search(b"".join(first_packets))
        if m:
            info["bitstream_encoder"] = m.group(0).decode("latin-1")
    return info


def _num(value: Any) -> float | None:
    try:
        return round(float(value), 4) if value else None
    except (TypeError, ValueError, ZeroDivisionError):
        return None


def header_rotation(stream: Any, smeta: dict[str, str]) -> int | None:
    """Degrees clockwise a player turns the picture, from the header alone: an old
    muxer's ``rotate`` tag, or the display matrix where PyAV exposes it on the stream
    (13); else None (:func:`first_frame_rotation` reads it from a decoded frame)."""
    if "rotate" in smeta:
        try:
            return int(float(smeta["rotate"])) % 360
        except ValueError:
            return None
    try:
        sd = getattr(stream, "side_data", None)
        if sd and "DISPLAYMATRIX" in sd:
            return clockwise(float(sd["DISPLAYMATRIX"]))
    except Exception:
        return None
    return None


def clockwise(anticlockwise: float) -> int:
    """The display matrix's angle (FFmpeg's ``av_display_rotation_get`` and PyAV's
    ``VideoFrame.rotation``, degrees anticlockwise) as the quarter turn clockwise a
    player applies (0, 90, 180 or 270), as FFmpeg's own players do."""
    return round(-anticlockwise / 90) % 4 * 90


def first_frame_rotation(container: Any, stream: Any, max_packets: int = 64) -> int | None:
    """Degrees clockwise (0, 90, 180, 270) a player turns the picture of ``stream``, read
    from the display matrix FFmpeg attaches to its first decoded frame (PyAV 14 and
    later show it there only); None when no frame decodes within ``max_packets``
    packets, so a damaged file costs little. Consumes packets of the open container."""
    from triage.video.stream import first_frames

    for frame in first_frames(container, stream, max_packets):
        angle = getattr(frame, "rotation", None)
        return clockwise(float(angle)) if angle is not None else None
    return None


def parse_date(text: str | None) -> datetime | None:
    """ISO-8601-ish container date to an aware UTC datetime (None for null dates)."""
    if not text:
        return None
    t = text.strip()
    if any(t.startswith(z) for z in _NULL_DATES):
        return None
    t = t.replace("Z", "+00:00")
    # 2019-01-01T10:00:00+0100 -> +01:00
    t = re.sub(r"([+-]\d\d)(\d\d)$", r"\1:\2", t)
    for candidate in (t, t.replace(" ", "T")):
        try:
            d = datetime.fromisoformat(candidate)
        except ValueError:
            continue
        if d.tzinfo is None:
            d = d.replace(tzinfo=UTC)
        return d.astimezone(UTC)
    return None


def check_container(
    info: dict[str, Any],
    decoded_frames: int | None,
    frame_span_s: float | None,
) -> list[Issue]:
    """Consistency issues among the header facts and what the pass counted.

    ``decoded_frames`` and ``frame_span_s`` (first to last frame plus one frame
    duration) come from the streaming pass; None when it did not run to the end.
    """
    issues: list[Issue] = []
    video = [s for s in info["streams"] if s["type"] == "video"]
    vs = video[0] if video else {}
    writer = info.get("writer") or ""
    sw = info.get("bitstream_encoder") or ""
    stream_enc = vs.get("encoder") or ""
    ffmpeg_handlers = [s["handler"] for s in info["streams"] if s.get("handler") in FFMPEG_HANDLERS]
    signs: list[str] = []
    if writer.startswith("Lavf"):
        signs.append(f"container written by FFmpeg ({writer})")
    if stream_enc.startswith("Lavc"):
        signs.append(f"video encoded by FFmpeg's libavcodec ({stream_enc})")
    if sw:
        signs.append(f"software encoder string in the bitstream ({sw})")
    if ffmpeg_handlers and not writer.startswith("Lavf"):
        signs.append("FFmpeg default handler names")
    if signs:
        issues.append(
            Issue(
                "reencoded",
                "; ".join(signs),
                {
                    "writer": writer or None,
                    "stream_encoder": stream_enc or None,
                    "bitstream_encoder": sw or None,
                    "handlers": [s.get("handler") for s in info["streams"]],
                    "major_brand": info.get("major_brand"),
                    "compatible_brands": info.get("compatible_brands"),
                },
            )
        )

    # Dates against each other.
    dates: dict[str, datetime] = {}
    for name, text in (
        [("container", info.get("creation_time"))]
        + [(f"stream{s['index']}:{s['type']}", s.get("creation_time")) for s in info["streams"]]
        + list(info.get("other_dates", {}).items())
    ):
        d = parse_date(text)
        if d is not None:
            dates[name] = d
    if len(dates) >= 2:
        ref = min(dates.values())
        spread = max((d - ref).total_seconds() for d in dates.values())
        # Whole-hour offsets are time zones (local vs UTC writers); allow 2 s of slack.
        off_hours = abs(spread - 3600 * round(spread / 3600))
        if spread > 2 and not (
            round(spread / 3600) >= 1 and off_hours <= 2 and spread <= 14 * 3600
        ):
            issues.append(
                Issue(
                    "dates_inconsistent",
                    f"creation dates disagree by {spread:,.0f} s",
                    {k: v.isoformat() for k, v in dates.items()} | {"spread_s": round(spread, 1)},
                )
            )
    if dates:
        latest = max(dates.values())
        if (
            latest > datetime.now(UTC).replace(microsecond=0).astimezone(UTC)
            and (latest - datetime.now(UTC)).days >= 1
        ):
            issues.append(
                Issue(
                    "dates_future",
                    "a creation date lies in the future",
                    {"latest": latest.isoformat()},
                )
            )

    # Duration against frame count.
    declared = vs.get("declared_frames") or 0
    if decoded_frames and declared and abs(declared - decoded_frames) > 2:
        issues.append(
            Issue(
                "duration_mismatch",
                f"the header declares {declared} frames, {decoded_frames} were decoded",
                {"declared_frames": declared, "decoded_frames": decoded_frames},
            )
        )
    sdur = vs.get("duration_s")
    if sdur is None and len(info["streams"]) == 1:
        # Matroska/WebM give no per-stream duration; with one stream the
        # container's duration is the video's.
        sdur = info.get("duration_s")
    if frame_span_s and sdur:
        rate = vs.get("average_rate") or 30.0
        if abs(sdur - frame_span_s) > max(3.0 / rate, 0.1):
            issues.append(
                Issue(
                    "duration_mismatch",
                    f"the video stream declares {sdur:.2f} s, its frames span {frame_span_s:.2f} s",
                    {"declared_s": round(sdur, 3), "frames_span_s": round(frame_span_s, 3)},
                )
            )
    return issues
