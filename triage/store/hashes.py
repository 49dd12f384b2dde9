"""Perceptual hashes of a picture or a video's keyframes, for the reference store.

pHash, dHash and PDQ from one shared 512 px decode, with the eight mirror/rotation
variants a lookup tries and, when the picture has a flat frame around it
(screenshots, letterboxing), the hashes of the framed content too. A reference
also stores the hashes of central crops. Used by ``triage db add`` to fill the store
and by the provenance analyzer and ``triage db lookup`` to query it.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

    from triage.media import Media
    from triage.store.db import HashRow

DEFAULT_MAX_KEYFRAMES = 24


@dataclass
class FrameHashes:
    """Hashes of one picture or keyframe, with the lookup variants."""

    time: float | None
    phash: str
    dhash: str
    pdq: str
    pdq_quality: int
    pdq_variants: list[str] = field(default_factory=list)  # 8 dihedral (+8 of the trimmed)
    phash_variants: list[str] = field(default_factory=list)
    trimmed: bool = False
    # Reference side only: (name, pdq, pdq quality, phash) of central crops.
    crops: list[tuple[str, str, int, str]] = field(default_factory=list)

    def metrics(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "phash": self.phash,
            "dhash": self.dhash,
            "pdq": self.pdq,
            "pdq_quality": self.pdq_quality,
        }
        if self.time is not None:
            out = {"time": round(self.time, 3), **out}
        return out


# Central crops hashed for a reference (share of width and height kept): a copy
# cropped by a few percent moves PDQ by 40-70 bits and pHash by 8-14, but lands
# near the reference's crop of about the same size.
REFERENCE_CROPS = (("crop95", 0.95), ("crop90", 0.90))


def frame_hashes(
    rgb: np.ndarray, time: float | None = None, reference: bool = False
) -> FrameHashes:
    """All hashes of one RGB picture (pass the <= 512 px decode).

    ``reference``: also hash the central crops of ``REFERENCE_CROPS`` (for storing).
    """
    from triage import hashing

    pdq_vars, quality = hashing.pdq_dihedral(rgb)
    ph_vars = hashing.phash_dihedral(rgb)
    fh = FrameHashes(
        time=time,
        phash=ph_vars[0],
        dhash=hashing.dhash(rgb),
        pdq=pdq_vars[0],
        pdq_quality=quality,
        pdq_variants=list(pdq_vars),
        phash_variants=list(ph_vars),
    )
    inner = hashing.trim_uniform_border(rgb)
    if inner is not None:
        import numpy as np

        inner = np.ascontiguousarray(inner)
        more_pdq, _ = hashing.pdq_dihedral(inner)
        fh.pdq_variants.extend(more_pdq)
        fh.phash_variants.extend(hashing.phash_dihedral(inner))
        fh.trimmed = True
    if reference:
        import numpy as np

        h, w = rgb.shape[:2]
        for name, keep in REFERENCE_CROPS:
            dy, dx = round(h * (1 - keep) / 2), round(w * (1 - keep) / 2)
            if dy < 1 or dx < 1:
                continue
            crop = np.ascontiguousarray(rgb[dy : h - dy, dx : w - dx])
            cp, cq = hashing.pdq(crop)
            fh.crops.append((name, cp, cq, hashing.phash(crop)))
    return fh


def media_hashes(
    media: Media, max_keyframes: int = DEFAULT_MAX_KEYFRAMES, reference: bool = False
) -> list[FrameHashes]:
    """Hashes of a picture (one entry) or of up to ``max_keyframes`` video keyframes.

    ``reference``: also hash central crops, for adding to a store.
    """
    from triage.hashing import WORKING_SIZE

    if media.kind == "video":
        return keyframe_hashes(media, max_keyframes, reference)
    return [frame_hashes(media.reduced(WORKING_SIZE), reference=reference)]


def reference_rows(
    media: Media,
    frames: list[FrameHashes],
    label: str = "",
    source: str = "",
    note: str = "",
    first_seen: str | None = None,
) -> list[HashRow]:
    """Store rows for a reference file: PDQ, pHash, dHash per frame, and the crops."""
    from triage.store import HashRow

    rows: list[HashRow] = []

    def row(algo: str, value: str, quality: int | None, time: float | None, derived: str) -> None:
        rows.append(
            HashRow(
                algorithm=algo,
                hash=value,
                quality=quality,
                label=label,
                source=source,
                first_seen=first_seen,
                note=note,
                sha256=media.sha256,
                time=time,
                derived=derived,
            )
        )

    for fr in frames:
        row("pdq", fr.pdq, fr.pdq_quality, fr.time, "")
        row("phash", fr.phash, None, fr.time, "")
        row("dhash", fr.dhash, None, fr.time, "")
        for name, cp, cq, cph in fr.crops:
            row("pdq", cp, cq, fr.time, name)
            row("phash", cph, None, fr.time, name)
    return rows


def keyframe_hashes(media: Media, max_keyframes: int, reference: bool = False) -> list[FrameHashes]:
    """Decode only keyframes (PyAV ``skip_frame = NONKEY``), spread over the duration.

    Short videos (under 2 s per wanted keyframe) are read forward, keeping
    keyframes at least ``duration / max_keyframes`` apart; longer ones seek to
    ``max_keyframes`` evenly spaced times and take the keyframe at or before each
    (falling back to reading forward when the container cannot seek). A keyframe
    whose PDQ is within 8 bits of the previous kept one (a static shot) is dropped.
    Raises ``MediaError`` when no keyframe decodes.
    """
    import av

    from triage.errors import MediaError

    duration = media.duration or 0.0
    out: list[FrameHashes] = []
    try:
        with av.open(str(media.path), mode="r", metadata_errors="replace") as container:
            if not container.streams.video:
                raise MediaError("the container holds no video stream")
            stream = container.streams.video[0]
            if stream.codec_context is None:  # PyAV >= 14: no decoder for the codec
                from triage.errors import NO_DECODER

                raise MediaError(NO_DECODER)
            stream.codec_context.skip_frame = "NONKEY"
            if duration > 2.0 * max_keyframes:
                try:
                    out = _keyframes_by_seeking(
                        container, stream, duration, max_keyframes, reference
                    )
                except av.error.FFmpegError:
                    out = []
                    container.seek(0, stream=stream)
            if not out:
                out = _keyframes_forward(container, stream, duration, max_keyframes, reference)
    except MediaError:
        raise
    except (av.error.FFmpegError, OSError) as exc:
        if not out:
            from triage.errors import ffmpeg_reason

            raise MediaError(f"no keyframe could be decoded ({ffmpeg_reason(exc)})") from None
    if not out:
        raise MediaError("no keyframe could be decoded")
    return out


def _keep(out: list[FrameHashes], frame: Any, reference: bool) -> None:
    from triage.hashing import WORKING_SIZE, hamming

    w, h = frame.width, frame.height
    scale = min(1.0, WORKING_SIZE / max(w, h, 1))
    rgb = frame.to_ndarray(
        format="rgb24", width=max(1, round(w * scale)), height=max(1, round(h * scale))
    )
    t = float(frame.time) if frame.time is not None else 0.0
    fh = frame_hashes(rgb, t, reference)
    if not out or hamming(fh.pdq, out[-1].pdq) > 8:
        out.append(fh)


def _keyframes_forward(
    container: Any, stream: Any, duration: float, max_keyframes: int, reference: bool
) -> list[FrameHashes]:
    import av

    out: list[FrameHashes] = []
    min_gap = duration / max(1, max_keyframes)
    last_time = -1e18
    try:
        for decoded, frame in enumerate(container.decode(stream), start=1):
            t = float(frame.time) if frame.time is not None else 0.0
            if decoded > 1 and t - last_time < min_gap:
                continue
            last_time = t
            _keep(out, frame, reference)
            if len(out) >= max_keyframes or decoded >= 20 * max_keyframes:
                break
    except (av.error.FFmpegError, OSError):
        # A file cut short (or damaged) part-way: the keyframes before the damage still
        # say whether the video was seen before, the ones the decoder holds included
        # (a cut packet fails before the decoder hands out its first frame).
        with contextlib.suppress(av.error.FFmpegError, OSError):
            for frame in stream.codec_context.decode(None):
                if len(out) < max_keyframes:
                    _keep(out, frame, reference)
        if not out:
            raise
    return out


def _keyframes_by_seeking(
    container: Any, stream: Any, duration: float, max_keyframes: int, reference: bool
) -> list[FrameHashes]:
    out: list[FrameHashes] = []
    seen: set[float] = set()
    base = float(stream.time_base) if stream.time_base else 1e-6
    start = float(stream.start_time * stream.time_base) if stream.start_time else 0.0
    for i in range(max_keyframes):
        target = start + duration * (i + 0.5) / max_keyframes
        container.seek(int(target / base), stream=stream, backward=True, any_frame=False)
        frame = next(iter(container.decode(stream)), None)
        if frame is None:
            continue
        t = round(float(frame.time) if frame.time is not None else target, 3)
        if t in seen:
            continue
        seen.add(t)
        _keep(out, frame, reference)
    return out
