"""Pictures for the report: the timeline of the difference series with cuts and
events marked, and a contact sheet of the frames around each event.

Drawn with numpy and OpenCV only. The timeline holds no pixels of the video
(only numbers), the contact sheet does (it is dropped under ``--no-pixels``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

# RGB colours per event kind.
COLOURS: dict[str, tuple[int, int, int]] = {
    "cut": (70, 130, 220),
    "break": (220, 40, 40),
    "duplicate": (240, 150, 20),
    "inserted": (200, 40, 200),
    "timestamp": (130, 60, 200),
    "quality": (250, 220, 120),
    "keyframe": (120, 120, 120),
}


def timeline_image(
    diff: np.ndarray,
    events: list[dict[str, Any]],
    keyframes: list[int],
    segments: list[tuple[int, int]],
    fps: float | None,
    width: int = 1200,
    height: int = 320,
) -> np.ndarray:
    """RGB uint8 timeline: log-scaled difference series, events as coloured lines.

    ``events`` items need ``kind`` (a key of :data:`COLOURS`) and ``frame``;
    ``segments`` are [start, end) frame ranges shaded as quality segments.
    """
    import cv2

    img = np.full((height, width, 3), 255, np.uint8)
    n = max(len(diff), 2)
    left, right, top, bottom = 50, 10, 26, 40
    pw, ph = width - left - right, height - top - bottom

    def x_of(i: float) -> int:
        return int(left + pw * i / (n - 1))

    for a, b in segments:
        cv2.rectangle(
            img, (x_of(a), top), (max(x_of(a) + 1, x_of(b)), top + ph), COLOURS["quality"], -1
        )
    v = np.log10(1.0 + np.nan_to_num(np.asarray(diff, np.float64)))
    vmax = max(float(v.max()) if len(v) else 1.0, 0.5)

    def y_of(val: float) -> int:
        return int(top + ph - ph * val / vmax)

    for g in (0.1, 1, 10, 100):
        lv = np.log10(1 + g)
        if lv <= vmax:
            y = y_of(lv)
            cv2.line(img, (left, y), (left + pw, y), (225, 225, 225), 1)
            cv2.putText(img, f"{g:g}", (4, y + 4), cv2.FONT_HERSHEY_SIMPLEX, 0.35, (90, 90, 90), 1)
    for k in keyframes:
        x = x_of(k)
        cv2.line(img, (x, top + ph), (x, top + ph + 6), COLOURS["keyframe"], 1)
    pts = np.stack([[x_of(i) for i in range(len(v))], [y_of(float(val)) for val in v]], axis=1)
    if len(pts) >= 2:
        cv2.polylines(img, [pts.astype(np.int32).reshape(-1, 1, 2)], False, (30, 30, 30), 1)
    for e in events:
        colour = COLOURS.get(e["kind"], (0, 0, 0))
        x = x_of(e["frame"])
        cv2.line(img, (x, top), (x, top + ph), colour, 2 if e["kind"] != "cut" else 1)
    cv2.rectangle(img, (left, top), (left + pw, top + ph), (0, 0, 0), 1)
    # Time axis.
    rate = fps or 30.0
    total_s = (n - 1) / rate
    step = _nice_step(total_s)
    t = 0.0
    while t <= total_s + 1e-9:
        x = x_of(t * rate)
        cv2.line(img, (x, top + ph), (x, top + ph + 3), (0, 0, 0), 1)
        cv2.putText(
            img, f"{t:g}s", (x - 8, top + ph + 18), cv2.FONT_HERSHEY_SIMPLEX, 0.35, (0, 0, 0), 1
        )
        t += step
    cv2.putText(
        img,
        "frame difference (log scale); lines: red break, orange duplicate, magenta inserted, "
        "purple timestamp, blue cut; shaded: quality segment",
        (left, 16),
        cv2.FONT_HERSHEY_SIMPLEX,
        0.38,
        (0, 0, 0),
        1,
    )
    return img


def _nice_step(total: float) -> float:
    for s in (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 3600):
        if total / s <= 12:
            return float(s)
    return 7200.0


def collect_frames(
    path: str | Path,
    wanted: set[int],
    thumb_width: int = 192,
    backend: str = "pyav",
    times: np.ndarray | None = None,
    start: float = 0.0,
) -> dict[int, np.ndarray]:
    """Small RGB thumbnails of the ``wanted`` frames (presentation indices).

    With PyAV and the frames' times (``times`` relative to ``start``, as the stream
    recorded them), each group of nearby frames is reached by seeking to the
    keyframe before it, so a contact sheet of a long video does not decode it all;
    frames that seeking misses are then read by decoding forward from the start.
    """
    out: dict[int, np.ndarray] = {}
    if not wanted:
        return out
    if backend == "pyav" and times is not None and len(times):
        try:
            out.update(_collect_by_seeking(path, wanted, thumb_width, times, start))
        except Exception:  # odd containers that refuse to seek: decode forward instead
            out.clear()
    missing = wanted - set(out)
    if missing:
        out.update(_collect_forward(path, missing, thumb_width, backend))
    return out


def _thumb(rgb: np.ndarray, width: int) -> np.ndarray:
    import cv2

    h, w = rgb.shape[:2]
    th = max(1, round(h * width / max(w, 1)))
    return cv2.resize(rgb, (width, th), interpolation=cv2.INTER_AREA)


def _collect_by_seeking(
    path: str | Path, wanted: set[int], width: int, times: np.ndarray, start: float
) -> dict[int, np.ndarray]:
    import av

    out: dict[int, np.ndarray] = {}
    order = sorted(wanted)
    groups: list[list[int]] = [[order[0]]]
    for f in order[1:]:
        if times[min(f, len(times) - 1)] - times[min(groups[-1][-1], len(times) - 1)] > 2.0:
            groups.append([f])
        else:
            groups[-1].append(f)
    step = float(np.median(np.diff(times))) if len(times) > 1 else 1 / 30
    with av.open(str(path), metadata_errors="replace") as c:
        vs = c.streams.video[0]
        tb = float(vs.time_base or 0) or 1.0 / 90000
        for group in groups:
            t_lo = float(times[min(group[0], len(times) - 1)])
            t_hi = float(times[min(group[-1], len(times) - 1)])
            c.seek(max(0, int((start + t_lo - 1.0) / tb)), stream=vs, backward=True)
            for frame in c.decode(vs):
                if frame.pts is None:
                    continue
                rel = float(frame.pts * tb) - start
                k = int(np.argmin(np.abs(times - rel)))
                if abs(float(times[k]) - rel) < 0.5 * step and k in wanted:
                    out[k] = _thumb(frame.to_ndarray(format="rgb24"), width)
                if rel > t_hi + step:
                    break
    return out


def _collect_forward(
    path: str | Path, wanted: set[int], width: int, backend: str
) -> dict[int, np.ndarray]:
    import cv2

    out: dict[int, np.ndarray] = {}
    last = max(wanted)
    if backend == "pyav":
        import av

        with av.open(str(path), metadata_errors="replace") as c:
            vs = c.streams.video[0]
            vs.thread_type = "AUTO"
            for i, frame in enumerate(c.decode(vs)):
                if i in wanted:
                    out[i] = _thumb(frame.to_ndarray(format="rgb24"), width)
                if i >= last:
                    break
    else:
        cap = cv2.VideoCapture(str(path))
        try:
            i = 0
            while i <= last:
                ok, bgr = cap.read()
                if not ok:
                    break
                if i in wanted:
                    out[i] = _thumb(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), width)
                i += 1
        finally:
            cap.release()
    return out


def contact_sheet(
    rows: list[tuple[str, list[int]]], thumbs: dict[int, np.ndarray], thumb_width: int = 192
) -> np.ndarray:
    """One row per event: its label, then the thumbnails of its frames, labelled."""
    import cv2

    th = max((t.shape[0] for t in thumbs.values()), default=108)
    cols = max((len(fr) for _, fr in rows), default=1)
    label_h = 18
    row_h = th + label_h + 22
    sheet = np.full((row_h * len(rows) + 6, thumb_width * cols + 8 * (cols + 1), 3), 255, np.uint8)
    for r, (label, frame_ids) in enumerate(rows):
        y0 = r * row_h + 4
        cv2.putText(sheet, label[:110], (8, y0 + 13), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (0, 0, 0), 1)
        for c, fid in enumerate(frame_ids):
            x0 = 8 + c * (thumb_width + 8)
            t = thumbs.get(fid)
            if t is not None:
                sheet[y0 + label_h : y0 + label_h + t.shape[0], x0 : x0 + t.shape[1]] = t
            cv2.putText(
                sheet,
                f"frame {fid}",
                (x0, y0 + label_h + th + 14),
                cv2.FONT_HERSHEY_SIMPLEX,
                0.38,
                (60, 60, 60),
                1,
            )
    return sheet


_SPAN_COLOURS = {
    "noise_lower": (60, 120, 230),
    "noise_higher": (230, 60, 60),
    "blocking": (230, 160, 30),
    "tamper": (40, 160, 90),
    "face": (170, 60, 200),
}
_SPAN_NAMES = {
    "noise_lower": "less noise",
    "noise_higher": "more noise",
    "blocking": "own block grid",
    "tamper": "tamper model",
    "face": "face",
}


def _tick_step(duration: float, max_ticks: int = 20) -> float:
    """A round tick spacing in seconds giving at most ``max_ticks`` ticks."""
    for step in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600):
        if duration / step <= max_ticks:
            return float(step)
    return float(np.ceil(duration / max_ticks / 3600) * 3600)


def span_bar(
    spans: list[tuple[float, float, str]],
    duration: float,
    samples: list[tuple[float, bool]] | None = None,
    width: int = 800,
) -> np.ndarray:
    """A time axis with each flagged span as a labelled coloured bar, one lane each,
    and the sampled frames as ticks (taller for keyframes). No pixels of the video."""
    import cv2

    lane, axis = 16, 30
    height = 6 + lane * max(1, len(spans)) + axis
    img = np.full((height, width, 3), 245, np.uint8)
    span = max(duration, 1e-3)

    def x_of(t: float) -> int:
        return int(min(max(t / span, 0.0), 1.0) * (width - 1))

    base = height - axis + 8
    cv2.line(img, (0, base), (width - 1, base), (120, 120, 120), 1)
    step = _tick_step(span)
    t = 0.0
    while t <= span + 1e-9:
        x = x_of(t)
        cv2.line(img, (x, base), (x, base + 6), (90, 90, 90), 1)
        label = f"{t:g}s" if step < 60 else f"{t / 60:g}m"
        cv2.putText(
            img,
            label,
            (min(x + 2, width - 30), base + 18),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.35,
            (60, 60, 60),
            1,
        )
        t += step
    for ts, key in samples or []:
        x = x_of(ts)
        cv2.line(img, (x, base - (6 if key else 3)), (x, base), (150, 150, 150), 1)
    for i, (t0, t1, kind) in enumerate(spans):
        x0, x1 = x_of(t0), max(x_of(t0) + 3, x_of(t1))
        y0 = 4 + i * lane
        colour = _SPAN_COLOURS.get(kind, (0, 0, 0))
        cv2.rectangle(img, (x0, y0), (x1, y0 + lane - 4), colour, -1)
        text = f"{_SPAN_NAMES.get(kind, kind)} {t0:.1f}-{t1:.1f}s"
        room = 6 * len(text) + 6
        if x1 + room < width:  # right of the bar, or left of it, or on it in white
            tx, ink = x1 + 4, (40, 40, 40)
        elif x0 - room >= 0:
            tx, ink = x0 - room, (40, 40, 40)
        else:
            tx, ink = x0 + 4, (255, 255, 255)
        cv2.putText(img, text, (tx, y0 + lane - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.35, ink, 1)
    return img


def sampled_strip(
    thumbs: list[tuple[float, np.ndarray]],
    spans: list[tuple[float, float, list[int]]],
    frame_size: tuple[int, int],
    columns: int = 8,
    max_thumbs: int = 32,
    orientation: int | None = None,
) -> np.ndarray:
    """Thumbnails of sampled frames in time order, flagged boxes (stored frame
    coordinates) drawn on the frames inside their span (red frame around a thumbnail
    inside any span); each thumbnail then turned upright for ``orientation`` (the EXIF
    tag value of the video's display turn)."""
    import cv2

    from triage.orientation import upright_pixels, upright_size

    if len(thumbs) > max_thumbs:
        keep = np.linspace(0, len(thumbs) - 1, max_thumbs).round().astype(int)
        thumbs = [thumbs[i] for i in keep]
    stored_h, stored_w = thumbs[0][1].shape[:2]
    tw, th = upright_size(stored_w, stored_h, orientation)
    rows = (len(thumbs) + columns - 1) // columns
    cell_h = th + 16
    sheet = np.full((rows * cell_h, columns * (tw + 4), 3), 255, np.uint8)
    sx, sy = stored_w / frame_size[0], stored_h / frame_size[1]
    for k, (t, img) in enumerate(thumbs):
        r, c = divmod(k, columns)
        tile = np.ascontiguousarray(img[:stored_h, :stored_w]).copy()
        flagged = False
        for t0, t1, box in spans:
            if t0 - 1e-6 <= t <= t1 + 1e-6:
                flagged = True
                p0 = (int(box[0] * sx), int(box[1] * sy))
                p1 = (int(box[2] * sx), int(box[3] * sy))
                cv2.rectangle(tile, p0, p1, (255, 230, 0), 1)
        tile = upright_pixels(tile, orientation)
        y, x = r * cell_h, c * (tw + 4)
        sheet[y : y + tile.shape[0], x : x + tile.shape[1]] = tile
        if flagged:
            cv2.rectangle(sheet, (x, y), (x + tw - 1, y + th - 1), (220, 30, 30), 2)
        cv2.putText(
            sheet, f"{t:.1f}s", (x + 2, y + th + 12), cv2.FONT_HERSHEY_SIMPLEX, 0.35, (0, 0, 0), 1
        )
    return sheet
