"""Regions over time: per-frame outlier regions of the sampled block maps, linked
into tracks by box matching, and the temporal statistics of a tracked box.

A region whose noise or block grid differs from the rest of its frame, in a run of
consecutive samples and at a consistent place (or moving smoothly), is one event
with a time span and a box, however many frames it covers. A single-frame outlier
is ordinary (texture, motion blur, a codec decision) and is not reported.

References: Mahdian & Saic (2009) and Lyu, Pan & Zhang (2014) for local noise
inconsistency; Wang & Farid, "Exposing digital forgeries in video by detecting
duplication", 2007, for region-level checks across frames; Bestagini et al.,
"Local tampering detection in video sequences", MMSP 2013 (tampered regions are
spatially and temporally coherent).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

_MAD = 1.4826
NOISE_Z = 3.5
NOISE_LOG = 0.45  # at least ~1.6x the noise of the rest, or ~1/1.6
BLOCK_Z = 4.0
BLOCK_LOG = 0.35  # a grid ~1.4x stronger than elsewhere
MIN_BLOCKS = 3
MAX_FRACTION = 0.35
# A pasted area is compact: its flagged blocks fill a good part of their bounding
# box. Scattered blocks joined by the closing (frame borders, text lines) do not.
MIN_FILL = 0.25
MIN_HITS = 3


@dataclass
class Detection:
    sample: int  # position in the sampled-frame list
    box: tuple[int, int, int, int]  # block units, x1/y1 exclusive
    kind: str  # "noise_lower", "noise_higher", "blocking"
    score: float  # median |z| inside
    value: float  # median log ratio inside
    blocks: int


@dataclass
class Track:
    kind: str
    hits: list[Detection] = field(default_factory=list)

    @property
    def first(self) -> int:
        return self.hits[0].sample

    @property
    def last(self) -> int:
        return self.hits[-1].sample

    def box(self) -> tuple[int, int, int, int]:
        b = np.median(np.array([h.box for h in self.hits], float), axis=0)
        return (int(b[0]), int(b[1]), round(float(b[2])), round(float(b[3])))


def robust_z(m: np.ndarray) -> np.ndarray:
    """(m - median) / (MAD sigma) over the finite entries; NaN stays NaN."""
    v = m[np.isfinite(m)]
    if v.size < 16:
        return np.full(m.shape, np.nan, np.float32)
    med = float(np.median(v))
    spread = max(_MAD * float(np.median(np.abs(v - med))), 0.08)
    return ((m - med) / spread).astype(np.float32)


def frame_detections(sample: int, maps: dict[str, np.ndarray]) -> list[Detection]:
    """Outlier regions of one sampled frame's block maps."""
    out: list[Detection] = []
    noise = maps.get("noise")
    if noise is not None:
        z = robust_z(noise)
        ok = np.isfinite(z)
        for sign, kind in ((-1.0, "noise_lower"), (1.0, "noise_higher")):
            mask = (
                ok
                & (sign * np.nan_to_num(z) >= NOISE_Z)
                & (sign * np.nan_to_num(noise) >= NOISE_LOG)
            )
            out += _regions(sample, mask, ok, z, noise, kind)
    blocking = maps.get("blocking")
    if blocking is not None:
        z = robust_z(blocking)
        ok = np.isfinite(z)
        mask = ok & (np.nan_to_num(z) >= BLOCK_Z) & (np.nan_to_num(blocking) >= BLOCK_LOG)
        out += _regions(sample, mask, ok, z, blocking, "blocking")
    return out


def tamper_detections(sample: int, prob: np.ndarray, threshold: float) -> list[Detection]:
    """Regions of one frame's tamper-model tile map at or above ``threshold``.

    Boxes are in tiles; ``score`` and ``value`` are the region's mean probability.
    """
    from triage.forensics.blockfeatures import probability_regions

    n = prob.size
    return [
        Detection(sample, box, "tamper", p, p, tiles)
        for box, tiles, p in probability_regions(prob, threshold, min_tiles=2)
        if tiles <= MAX_FRACTION * n and tiles >= MIN_FILL * (box[2] - box[0]) * (box[3] - box[1])
    ]


def _regions(
    sample: int, mask: np.ndarray, valid: np.ndarray, z: np.ndarray, value: np.ndarray, kind: str
) -> list[Detection]:
    import cv2

    if not mask.any():
        return []
    closed = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))
    closed = (closed.astype(bool) & valid).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(closed, connectivity=8)
    nvalid = int(valid.sum())
    out = []
    for i in range(1, n):
        sel = (labels == i) & mask
        count = int(sel.sum())
        x, y, w, h = (int(v) for v in stats[i, :4])
        # A one-block-thin strip is an edge or a moving texture, not a pasted area.
        if (
            count < MIN_BLOCKS
            or count > MAX_FRACTION * nvalid
            or min(w, h) < 2
            or count < MIN_FILL * w * h
        ):
            continue
        out.append(
            Detection(
                sample,
                (x, y, x + w, y + h),
                kind,
                float(np.median(np.abs(z[sel]))),
                float(np.median(value[sel])),
                count,
            )
        )
    return out


def iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """Intersection over union of two (x0, y0, x1, y1) boxes."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _near(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    if iou(a, b) >= 0.2:
        return True
    ca = ((a[0] + a[2]) / 2, (a[1] + a[3]) / 2)
    cb = ((b[0] + b[2]) / 2, (b[1] + b[3]) / 2)
    side = max(a[2] - a[0], a[3] - a[1], b[2] - b[0], b[3] - b[1], 2)
    return bool(np.hypot(ca[0] - cb[0], ca[1] - cb[1]) <= 0.6 * side)


def link(detections: list[Detection], max_gap: int = 2) -> list[Track]:
    """Greedy box matching of detections of one kind over consecutive samples.

    A detection joins the track of the same kind whose last box overlaps or lies
    near it and that was seen at most ``max_gap`` samples before.
    """
    tracks: list[Track] = []
    for d in sorted(detections, key=lambda d: (d.sample, -d.score)):
        best = None
        for t in tracks:
            if t.kind != d.kind or t.last == d.sample or d.sample - t.last > max_gap + 1:
                continue
            if _near(t.hits[-1].box, d.box) and (best is None or t.last > best.last):
                best = t
        if best is None:
            tracks.append(Track(d.kind, [d]))
        else:
            best.hits.append(d)
    return tracks


def merge(tracks: list[Track]) -> list[Track]:
    """Join tracks of one kind that overlap in time and meet in place.

    Greedy linking can split one region into two tracks where a frame shows it as
    two pieces; one edit is one event.
    """
    out: list[Track] = []
    for t in sorted(tracks, key=lambda t: (t.first, t.last)):
        for o in out:
            if o.kind != t.kind or t.first > o.last + 1:
                continue
            a = [h for h in o.hits if h.sample >= t.first - 1]
            b = [h for h in t.hits if h.sample <= o.last + 1]
            if any(_near(x.box, y.box) and abs(x.sample - y.sample) <= 1 for x in a for y in b):
                best: dict[int, Detection] = {}
                for h in o.hits + t.hits:
                    if h.sample not in best or h.blocks > best[h.sample].blocks:
                        best[h.sample] = h
                o.hits = [best[k] for k in sorted(best)]
                break
        else:
            out.append(Track(t.kind, list(t.hits)))
    return out


def events(
    tracks: list[Track],
    n_samples: int,
    intra: list[bool] | None = None,
    gop: list[int] | None = None,
) -> list[Track]:
    """Tracks seen in at least :data:`MIN_HITS` samples and in most of their span.

    ``intra`` marks the samples that are intra-coded (keyframes) and ``gop`` gives
    each sample's group of pictures (the index of the keyframe opening it). A
    predicted frame's noise and grid depend on motion compensation and the
    quantiser (skipped and copied blocks lose their noise, areas a pan uncovers are
    predicted from padding, moving text is coded coarsely), so a difference that
    shows only in predicted frames is the codec's, while content pasted into the
    pictures is there in the keyframes too. Hence, when the intra-coded samples
    can say so, a track is kept only if it is seen in one of them:

    * when its span holds intra-coded samples, in at least one of them;
    * when it lies inside one group of pictures whose opening keyframe and the next
      one were both sampled (and did not show it), it is dropped;
    * otherwise, with no intra-coded sample in its span, it needs twice
      :data:`MIN_HITS` samples.
    """
    out = []
    keyed = {i for i in range(n_samples) if intra is not None and i < len(intra) and intra[i]}
    for t in merge(tracks):
        span = t.last - t.first + 1
        if len(t.hits) < MIN_HITS or len(t.hits) < 0.6 * span:
            continue
        keys = {i for i in keyed if t.first <= i <= t.last}
        if keys and not keys & {h.sample for h in t.hits}:
            continue
        if not keys and gop is not None and _inside_sampled_gop(t, keyed, gop):
            continue
        if keyed and not keys and len(t.hits) < 2 * MIN_HITS:
            continue
        out.append(t)
    out.sort(key=lambda t: -len(t.hits) * float(np.median([h.score for h in t.hits])))
    return out


def _inside_sampled_gop(t: Track, keyed: set[int], gop: list[int]) -> bool:
    groups = {gop[i] for i in range(t.first, t.last + 1) if i < len(gop)}
    if len(groups) != 1 or -1 in groups:
        return False
    before = [i for i in keyed if i < t.first]
    after = [i for i in keyed if i > t.last]
    # The nearest intra samples on each side open this group and the next one.
    return bool(before and after) and gop[max(before)] in groups and gop[min(after)] not in groups


def face_tracks(
    faces: list[list[tuple[int, int, int, int]]], stats: list[list[dict[str, float]]]
) -> list[list[tuple[int, tuple[int, int, int, int], dict[str, float]]]]:
    """Faces linked across samples by box overlap: lists of (sample, box, stats)."""
    tracks: list[list[tuple[int, tuple[int, int, int, int], dict[str, float]]]] = []
    for s, (boxes, st) in enumerate(zip(faces, stats, strict=True)):
        for b, d in zip(boxes, st, strict=True):
            if not d:
                continue
            best = None
            for t in tracks:
                if t[-1][0] < s and s - t[-1][0] <= 3 and iou(t[-1][1], b) >= 0.3:
                    best = t if best is None or iou(t[-1][1], b) > iou(best[-1][1], b) else best
            if best is None:
                tracks.append([(s, b, d)])
            else:
                best.append((s, b, d))
    return tracks


def step_segment(values: np.ndarray, min_len: int = 3) -> dict[str, Any] | None:
    """The strongest contiguous segment whose level departs from the rest of a series.

    Returns start, end (exclusive), the level difference and its z against the
    spread inside each part, or None when the series is too short.
    """
    v = np.asarray(values, float)
    n = len(v)
    if n < 2 * min_len:
        return None
    best: dict[str, Any] | None = None
    csum = np.concatenate([[0.0], np.cumsum(v)])
    for a in range(n):
        for b in range(a + min_len, n + 1):
            rest = n - (b - a)
            if rest < min_len:
                continue
            inner = (csum[b] - csum[a]) / (b - a)
            outer = (csum[n] - (csum[b] - csum[a])) / rest
            diff = inner - outer
            resid = np.concatenate([v[a:b] - inner, v[:a] - outer, v[b:] - outer])
            spread = max(_MAD * float(np.median(np.abs(resid))), 0.05)
            z = abs(diff) / spread
            if best is None or z > best["z"]:
                best = {"start": a, "end": b, "diff": float(diff), "z": float(z)}
    return best


def boundary_flicker(edge: np.ndarray, inside: np.ndarray) -> dict[str, float] | None:
    """How much a tracked box's boundary flickers against its inside, over time.

    Parameters
    ----------
    edge, inside : 1-D arrays, one value per sample
        A statistic (log noise ratio against the surroundings) of a band across
        the box edge and of the box inside.

    Returns
    -------
    dict or None
        ``flicker``: the (trimmed) frame-to-frame spread of the edge series over that of
        the inside series (about 1 when both move together or are equally stable;
        large when the edge alone jumps from sample to sample, as a blend mask that
        is redrawn for every frame does); ``edge_spread``, ``inside_spread``. None
        when the series is shorter than 6.

    References
    ----------
    Li, Chang & Lyu, "In ictu oculi" (2018) and Li & Lyu, "Exposing DeepFake videos
    by detecting face warping artifacts", CVPRW 2019: swapped faces are blended into
    each frame separately, leaving boundary artifacts that change over time.
    """
    e, i = np.asarray(edge, float), np.asarray(inside, float)
    ok = np.isfinite(e) & np.isfinite(i)
    e, i = e[ok], i[ok]
    if len(e) < 6:
        return None
    se, si = _trimmed_rms(np.diff(e)), _trimmed_rms(np.diff(i))
    # Floors: block statistics of a still region wobble by ~0.03 in log ratio.
    return {
        "flicker": max(se, 0.03) / max(si, 0.03),
        "edge_spread": se,
        "inside_spread": si,
    }


def _trimmed_rms(d: np.ndarray) -> float:
    """RMS of a short series' values about their median, its top 10% left out (a
    cut in the clip or one bad detection should not make a flicker)."""
    a = np.sort(np.abs(d - np.median(d)))
    a = a[: max(1, int(np.ceil(0.9 * len(a))))]
    return float(np.sqrt(np.mean(a * a)) / np.sqrt(2.0))


def box_series(
    maps: list[np.ndarray | None],
    boxes: list[tuple[int, int, int, int]] | tuple[int, int, int, int],
    scale: str = "z",
) -> dict[str, np.ndarray]:
    """Per sample, how far a box of a block map stands out from its frame, inside
    and across its edge.

    Parameters
    ----------
    maps : list of 2-D arrays or None
        One block map per sampled frame (the same statistic), or None where the
        frame has none.
    boxes : (x0, y0, x1, y1) or a list of them, one per sample
        Block units, x1/y1 exclusive (a fixed box, or the box of a moving region
        in each sample).
    scale : "z" or "level"
        Each frame's map as robust z against the frame (how unusual), or as the
        map minus the frame's median (by how much, in the map's own unit: a log
        ratio for the noise map).

    Returns
    -------
    dict of 1-D float arrays, one value per sample (NaN where it cannot be measured)
        ``inside``: the median robust z (:func:`robust_z`, against the whole frame),
        or level, of the blocks inside the box, away from its edge when the box is at least
        3 blocks on each side; ``edge``: the same for the band one block either side
        of the box edge (where a pasted region is blended in).

    References
    ----------
    Bestagini et al., "Local tampering detection in video sequences", MMSP 2013
    (a tampered region is coherent over time, so its statistics against the rest
    of the frame step where it starts and ends); Li & Lyu, "Exposing DeepFake videos
    by detecting face warping artifacts", CVPRW 2019 (regions blended into each
    frame separately leave boundary artifacts that change over time).
    """
    n = len(maps)
    per = boxes if isinstance(boxes, list) else [boxes] * n
    inside, edge = np.full(n, np.nan), np.full(n, np.nan)
    for i, (m, (x0, y0, x1, y1)) in enumerate(zip(maps, per, strict=True)):
        if m is None:
            continue
        if scale == "z":
            z = robust_z(m)
        else:
            fin = m[np.isfinite(m)]
            z = m - float(np.median(fin)) if fin.size else np.full(m.shape, np.nan)
        h, w = z.shape
        core = (
            z[y0 + 1 : y1 - 1, x0 + 1 : x1 - 1]
            if x1 - x0 >= 3 and y1 - y0 >= 3
            else z[y0:y1, x0:x1]
        )
        band = np.zeros((h, w), bool)
        band[max(0, y0 - 1) : y1 + 1, max(0, x0 - 1) : x1 + 1] = True
        band[y0 + 1 : max(y0 + 1, y1 - 1), x0 + 1 : max(x0 + 1, x1 - 1)] = False
        for out, v in ((inside, core.ravel()), (edge, z[band])):
            v = v[np.isfinite(v)]
            if v.size:
                out[i] = float(np.median(v))
    return {"inside": inside, "edge": edge}
