"""Two copies of one picture: how they relate and where they differ.

A desk that finds an earlier or larger copy of a viral picture (by reverse image search,
in an archive, from the person who took it) asks three things: is it the same picture,
how was one made from the other (crop, resize, flip, tone), and what is in one and not
in the other. `triage compare A B` answers them from the pixels, in the viewed
orientation, and says which signs usual of an earlier copy each file has, without
saying which one is earlier: that is not something two files can prove.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from collections.abc import Callable

    import numpy as np

    from triage.forensics.align import Alignment
    from triage.media import Media

COMPARE_SCHEMA_VERSION = "1.1"
# Long side of the copies that are aligned and compared: enough for SIFT to find a
# crop of a tenth of the picture, and for a region of 0.1% of it to be 30 pixels.
WORK_SIDE = 1024
# A framing counts as whole when this much of a picture is in the other one.
WHOLE = 0.97
# Over this share of the shared area differing, mostly outside the regions, no region
# is singled out: the whole picture differs (a filter, another moment, a redrawn one).
WIDESPREAD = 0.25
# This many regions, none over 1% of the shared area, read as a filter's, not an edit's.
SCATTERED = 6
# Mean shift of the tone curves (8-bit levels) from which the tone counts as changed:
# a JPEG re-save moves them by under one level.
TONE_CHANGE = 3.0
# Less than this share of a picture in common: too little to compare.
TOO_LITTLE = 0.05

VIDEO_CAVEAT = (
    "The video's frames were searched at spread times and then one by one near the best "
    "match: a shot that appears twice, or a still scene, can match an equally good frame "
    "at another time."
)

CAVEATS = [
    "Which copy is earlier is not shown by this: a repost can be larger (upscaled) or "
    "wider (padded) than its source, and a difference can be an edit in either copy.",
    "Another photo taken a moment apart from the same place (a burst) aligns too, and "
    "differs where things moved.",
    "Differences finer than about 1/1000 of the picture, or within what the weaker "
    "copy's compression blurs, are not seen; a shift of a few pixels of one object is "
    "seen only at its edges.",
]


class CopyFacts(BaseModel):
    """One of the two files, as far as the comparison needs it."""

    path: str
    format: str | None = None
    width: int | None = Field(
        default=None, description="As viewers show it (EXIF orientation applied)."
    )
    height: int | None = None
    bytes: int | None = None
    sha256: str | None = None
    jpeg_quality: int | None = Field(default=None, description="IJG quality of the luma table.")
    camera: str | None = Field(default=None, description="EXIF Make and Model.")
    software: str | None = None
    taken: str | None = Field(default=None, description="EXIF DateTimeOriginal, as written.")
    shared_pixels: int | None = Field(
        default=None, description="This file's pixels that show the part both files show."
    )
    frame_seconds: float | None = Field(
        default=None,
        description="A video: the time (seconds from its start) of the frame that was "
        "found to match the other file, and compared with it.",
    )
    error: str | None = None


class DifferingRegion(BaseModel):
    """An area where the copies differ beyond what copying explains."""

    box_a: tuple[int, int, int, int] = Field(description="x, y, width, height in A (viewed).")
    box_b: tuple[int, int, int, int] = Field(description="x, y, width, height in B (viewed).")
    share: float = Field(description="Of the area both files show.")
    strength: float = Field(description="Mean colour distance over the threshold (1 = at it).")


class Comparison(BaseModel):
    """The result of `triage compare A B`."""

    schema_version: str = COMPARE_SCHEMA_VERSION
    a: CopyFacts
    b: CopyFacts
    aligned: bool = Field(description="A crop/resize/turn/flip of one matches the other.")
    inliers: int | None = Field(
        default=None, description="Keypoint matches agreeing on the alignment."
    )
    scale: float | None = Field(
        default=None, description="B's linear size over A's, on shared content."
    )
    rotation_degrees: float | None = Field(
        default=None, description="B's content turned clockwise from A's (negative: anticlockwise)."
    )
    mirrored: bool | None = None
    a_shown_in_b: float | None = Field(
        default=None, description="Share of A's picture that B shows."
    )
    b_shown_in_a: float | None = Field(
        default=None, description="Share of B's picture that A shows."
    )
    framed: str | None = Field(
        default=None,
        description="'A' or 'B' when that file shows the other's whole picture inside a "
        "border, page or interface (a screenshot, a letterbox, a post), not more scene.",
    )
    tone_gain: float | None = Field(default=None, description="B's lightness as A's times this...")
    tone_offset: float | None = Field(default=None, description="... plus this (CIELAB L units).")
    tone_changed: bool | None = None
    differing_share: float | None = Field(
        default=None, description="Share of the shared area whose colour differs beyond copying."
    )
    widespread: bool | None = Field(
        default=None,
        description="Over 25% of the shared area differs, mostly outside any region: no "
        "region is singled out.",
    )
    regions: list[DifferingRegion] = Field(default_factory=list)
    frames_searched: int | None = Field(
        default=None,
        description="A video: frames matched against the still, spread over the clip, "
        "before every frame near the best one was read.",
    )
    statements: list[str] = Field(default_factory=list, description="What was found, in words.")
    caveats: list[str] = Field(default_factory=list)
    artifact: str | None = Field(default=None, description="Side-by-side PNG with the differences.")
    seconds: float = 0.0
    # The side-by-side PNG, in memory when asked for (never in the JSON).
    panel: bytes | None = Field(default=None, exclude=True)

    @property
    def failed(self) -> bool:
        return bool(self.a.error or self.b.error)


def compare_paths(
    path_a: str | os.PathLike[str],
    path_b: str | os.PathLike[str],
    artifacts_dir: str | os.PathLike[str] | None = None,
    keep_panel: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> Comparison:
    """Compare two still pictures; never raises for a bad file (its ``error`` says why).

    Parameters
    ----------
    path_a, path_b : path
        The two files (any still format `triage check` reads).
    artifacts_dir : path, optional
        Folder for a side-by-side PNG (A, B aligned onto A, the differences boxed).
    keep_panel : bool
        Keep that PNG's bytes in memory (``Comparison.panel``), e.g. for an HTML page.
    progress : callable, optional
        With a video: called with (frames searched, frames planned) as its frames are
        searched for the still.

    Returns
    -------
    Comparison
        How B relates to A (framing, size, turn, mirror, tone), the regions that differ
        with their boxes in both files, statements in words and caveats.
    """
    from triage.errors import MediaError
    from triage.media import Media

    start = time.perf_counter()
    opened: list[tuple[Media, np.ndarray | None] | None] = []
    facts: list[CopyFacts] = []
    for path in (path_a, path_b):
        media = None
        try:
            media = Media.open(path)
            if media.kind == "video":
                if media.video_header_error:
                    raise MediaError(media.video_header_error)
                if opened and opened[0] is not None and opened[0][1] is None:
                    raise MediaError(
                        "compare reads one video at most: compare a still of one video "
                        "(a frame or a screenshot) with the other video"
                    )
                # The frame is decoded once the still is known: it is searched for.
                opened.append((media, None))
            elif media.kind == "image":
                # Decoded here, so that a file whose pixels are broken (truncated, a bad
                # CRC) carries its own error, as the header's would.
                opened.append((media, _viewed(media)))
            else:
                raise MediaError("compare reads still pictures and videos")
            facts.append(_facts(media))
        except MediaError as exc:
            opened.append(None)
            fact = _facts(media) if media is not None else CopyFacts(path=str(path))
            fact.error = str(exc)
            facts.append(fact)
    result = Comparison(a=facts[0], b=facts[1], aligned=False, caveats=list(CAVEATS))
    first, second = opened
    if first is not None and second is not None:
        if first[0].sha256 == second[0].sha256:
            result.statements.append("A and B are the same file: their bytes are identical.")
        if first[1] is None or second[1] is None:
            result.caveats.insert(0, VIDEO_CAVEAT)
            pair = _frame_of_video(first, second, result, progress)
            if pair is not None:
                _compare(*pair, result, artifacts_dir, keep_panel)
        else:
            _compare(
                (first[0], first[1]), (second[0], second[1]), result, artifacts_dir, keep_panel
            )
    for label, fact in (("A", result.a), ("B", result.b)):
        if fact.error:
            result.statements.append(f"{label} could not be read: {fact.error}.")
    result.seconds = round(time.perf_counter() - start, 3)
    return result


def _frame_of_video(
    first: tuple[Media, np.ndarray | None],
    second: tuple[Media, np.ndarray | None],
    result: Comparison,
    progress: Callable[[int, int], None] | None,
) -> tuple[tuple[Media, np.ndarray], tuple[Media, np.ndarray]] | None:
    """The video's frame that the still shows, put in the video's place; None (with a
    statement, or the video's error) when none matches."""
    import cv2

    from triage.forensics.align import FEW_KEYPOINTS, MIN_INLIERS
    from triage.video.stillsearch import FrameNotFound, find_frame

    video_first = first[1] is None
    (video, _), (still, pixels) = (first, second) if video_first else (second, first)
    assert pixels is not None
    label, other = ("A", "B") if video_first else ("B", "A")
    facts = result.a if video_first else result.b
    gray = cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY)
    found = find_frame(
        video.path, gray, video.orientation, video.duration, WORK_SIDE, progress=progress
    )
    result.frames_searched = found.searched
    if isinstance(found, FrameNotFound):
        if found.reason:
            facts.error = found.reason
        elif found.searched and min(found.still_keypoints, found.frame_keypoints) < FEW_KEYPOINTS:
            which = other if found.still_keypoints <= found.frame_keypoints else f"{label}'s frames"
            result.statements.append(
                f"No frame of {label} was matched to {other}: {which} "
                f"{'has' if which == other else 'have'} too little distinct detail to align "
                f"({min(found.still_keypoints, found.frame_keypoints)} keypoints at most; blur, "
                "fog, night or a flat graphic). This says nothing about whether "
                f"{other} comes from {label}."
            )
        elif found.searched:
            result.statements.append(
                f"No frame of {label} matches {other}: {found.searched} frames were "
                f"searched, spread over the video (every {found.step:.2f} s); at most "
                f"{found.best_inliers} keypoint matches agreed, {MIN_INLIERS} are needed. "
                f"{other} may come from another video, from a part between the frames "
                "searched that differs from both neighbours, or be changed too much to align."
            )
        else:
            facts.error = "no frame of the video could be decoded"
        return None
    facts.frame_seconds = round(found.seconds, 3)
    result.statements.append(
        f"{label} is a video: its frame at {clock(found.seconds)} is the one that matches "
        f"{other} ({found.searched} frames searched over the video, then each frame near "
        "the best); that frame is compared below."
    )
    frame = (video, found.rgb)
    picture = (still, pixels)
    return (frame, picture) if video_first else (picture, frame)


def clock(seconds: float) -> str:
    """0:05.00 / 1:02:03.04: a time as players show it, to the hundredth."""
    minutes, rest = divmod(round(seconds * 100) / 100, 60.0)
    hours, minutes = divmod(int(minutes), 60)
    return f"{hours}:{minutes:02d}:{rest:05.2f}" if hours else f"{minutes}:{rest:05.2f}"


def _facts(media: Media) -> CopyFacts:
    from triage.orientation import upright_size

    width, height = upright_size(media.width or 0, media.height or 0, media.orientation)
    out = CopyFacts(
        path=str(media.path),
        format=media.format,
        width=width or None,
        height=height or None,
        bytes=media.size,
        sha256=media.sha256,
    )
    if media.kind != "image":
        return out
    if media.format == "jpeg":
        from triage.forensics.jpeg import JpegError, parse_jpeg, quality_estimate

        try:
            table = parse_jpeg(media.data).luma_table()
            out.jpeg_quality = int(quality_estimate(table)["quality"]) if table else None
        except (JpegError, ValueError):
            pass
    tags = _exif(media)
    make, model = tags.get("Make", ""), tags.get("Model", "")
    camera = model if make and model.lower().startswith(make.lower()) else f"{make} {model}"
    out.camera = camera.strip() or None
    out.software = tags.get("Software")
    out.taken = tags.get("DateTimeOriginal")
    return out


def _exif(media: Media) -> dict[str, str]:
    from PIL import ExifTags

    try:
        exif = media.pil_header.getexif()
        items = dict(exif.items())
        items.update(exif.get_ifd(0x8769))  # the Exif sub-IFD: DateTimeOriginal
    except Exception:  # a damaged EXIF block says nothing here; check and meta say more
        return {}
    return {
        ExifTags.TAGS.get(k, str(k)): v.strip("\0 ").strip()
        for k, v in items.items()
        if isinstance(v, str)
    }


def _viewed(media: Media) -> np.ndarray:
    import numpy as np

    from triage.orientation import upright_pixels

    return np.ascontiguousarray(upright_pixels(media.reduced(WORK_SIDE), media.orientation))


def _compare(
    first: tuple[Media, np.ndarray],
    second: tuple[Media, np.ndarray],
    result: Comparison,
    artifacts_dir: str | os.PathLike[str] | None,
    keep_panel: bool,
) -> None:
    import cv2
    import numpy as np

    from triage.forensics.align import MIN_INLIERS, NoAlignment, align_similarity
    from triage.forensics.difference import difference_map

    (media_a, small_a), (media_b, small_b) = first, second
    grey_a = cv2.cvtColor(small_a, cv2.COLOR_RGB2GRAY)
    grey_b = cv2.cvtColor(small_b, cv2.COLOR_RGB2GRAY)
    found = align_similarity(grey_a, grey_b)
    if isinstance(found, NoAlignment):
        if found.featureless:
            which = "A" if found.keypoints_a <= found.keypoints_b else "B"
            result.statements.append(
                f"No alignment found: {which} has too little distinct detail to align "
                f"({min(found.keypoints_a, found.keypoints_b)} keypoints; blur, fog, night "
                "or a flat graphic). This says nothing about whether they are the same picture."
            )
        else:
            result.statements.append(
                "No alignment found: no crop, resize, turn or mirror of one matches the "
                f"other (at most {found.best_inliers} keypoint matches agreed, "
                f"{MIN_INLIERS} are needed). They look like different pictures, or one was "
                "changed too much to align (a crop of under a tenth, a strong filter or "
                "warp, a collage)."
            )
        return
    # Full-size (viewed) pixels per pixel of the small copies.
    ratio_a = (result.a.width or 1) / small_a.shape[1]
    ratio_b = (result.b.width or 1) / small_b.shape[1]
    result.aligned, result.inliers = True, found.inliers
    result.scale = round(ratio_b / (found.scale * ratio_a), 4)
    # The matrix turns b's grid onto a's; B's content is turned the other way (in
    # image coordinates, y down, a positive angle of the matrix is clockwise).
    result.rotation_degrees = round(-found.rotation_degrees, 2) + 0.0
    result.mirrored = found.mirrored
    shown_a, shown_b = _overlap(found, small_a.shape[:2], small_b.shape[:2])
    result.a_shown_in_b, result.b_shown_in_a = round(shown_a, 4), round(shown_b, 4)
    result.framed = _which_framed(found, grey_a, grey_b, shown_a, shown_b)
    area_a = (result.a.width or 0) * (result.a.height or 0)
    area_b = (result.b.width or 0) * (result.b.height or 0)
    result.a.shared_pixels = round(shown_a * area_a)
    result.b.shared_pixels = round(shown_b * area_b)
    result.statements.extend(_relation_statements(result))
    if min(shown_a, shown_b) < TOO_LITTLE:
        result.statements.append("Too little of the pictures is shared to compare their content.")
        return
    # The common grid: a's small copy, no finer than b samples it.
    fine = min(1.0, 1.0 / found.scale)
    height = max(8, round(small_a.shape[0] * fine))
    width = max(8, round(small_a.shape[1] * fine))
    work_a = cv2.resize(small_a, (width, height), interpolation=cv2.INTER_AREA)
    to_work = np.diag([width / small_a.shape[1], height / small_a.shape[0], 1.0])
    matrix = (to_work @ np.vstack([found.matrix, [0.0, 0.0, 1.0]]))[:2]
    source = small_b
    shrink = float(np.sqrt(abs(np.linalg.det(matrix[:, :2]))))
    if shrink < 0.8:  # b is sampled down onto the grid: blur first, or it aliases
        source = cv2.GaussianBlur(small_b, (0, 0), 0.5 / shrink)
    work_b = cv2.warpAffine(source, matrix, (width, height), flags=cv2.INTER_LINEAR)
    cover = cv2.warpAffine(
        np.full(small_b.shape[:2], 255, np.uint8), matrix, (width, height), flags=cv2.INTER_NEAREST
    )
    diff = difference_map(work_a, work_b, cover > 0)
    # The fit maps b's lightness onto a's; the report says how B differs from A.
    result.tone_gain = round(1.0 / diff.gain[0], 4) if diff.gain[0] else None
    result.tone_offset = round(-diff.offset[0] / diff.gain[0], 3) if diff.gain[0] else None
    result.tone_changed = diff.tone_change > TONE_CHANGE
    result.differing_share = diff.differing_share
    to_a = (result.a.width or 1) / width
    back = np.linalg.inv(np.vstack([matrix, [0.0, 0.0, 1.0]]))
    # Many differing pixels are an edit when they gather in a few regions (a large
    # splice), and the whole picture's when they are scattered (a filter, a burst).
    gathered = sum(region.share for region in diff.regions)
    result.widespread = diff.differing_share > WIDESPREAD and gathered < 0.5 * diff.differing_share
    if not result.widespread:
        for region in diff.regions:
            x, y, w, h = region.box
            box_a = tuple(round(v * to_a) for v in (x, y, w, h))
            result.regions.append(
                DifferingRegion(
                    box_a=box_a,  # type: ignore[arg-type]
                    box_b=_box_through(back, (x, y, w, h), ratio_b, result.b),
                    share=region.share,
                    strength=region.strength,
                )
            )
    result.statements.extend(_difference_statements(result))
    if artifacts_dir is not None or keep_panel:
        png = _panel_png(work_a, work_b, diff, result)
        if keep_panel:
            result.panel = png
        if artifacts_dir is not None and png:
            result.artifact = _write_artifact(Path(artifacts_dir), media_a, media_b, png)


def _overlap(
    found: Alignment, shape_a: tuple[int, int], shape_b: tuple[int, int]
) -> tuple[float, float]:
    """Share of a's picture that b shows, and of b's that a shows (small grids)."""
    import cv2
    import numpy as np

    ha, wa = shape_a
    hb, wb = shape_b
    corners_b = np.array([[0, 0], [wb, 0], [wb, hb], [0, hb]], np.float64)
    in_a = (found.matrix[:, :2] @ corners_b.T).T + found.matrix[:, 2]
    if found.mirrored:
        in_a = in_a[::-1]  # keep the polygon's winding for the intersection
    rect_a = np.array([[0, 0], [wa, 0], [wa, ha], [0, ha]], np.float32)
    polygon = np.ascontiguousarray(in_a, np.float32)
    if cv2.contourArea(polygon, oriented=True) < 0:
        polygon = polygon[::-1].copy()
    common, _ = cv2.intersectConvexConvex(rect_a, polygon)
    footprint = abs(cv2.contourArea(polygon))
    if common <= 0 or footprint <= 0:
        return 0.0, 0.0
    return min(1.0, common / (wa * ha)), min(1.0, common / footprint)


def _which_framed(
    found: Alignment, grey_a: np.ndarray, grey_b: np.ndarray, shown_a: float, shown_b: float
) -> str | None:
    """'B' when B holds all of A's picture inside a border or page, 'A' the other way."""
    import numpy as np

    if found.mirrored or abs(found.rotation_degrees) > 1.0:
        return None  # a turned picture on a page: not told apart here
    forward = np.vstack([found.matrix, [0.0, 0.0, 1.0]])
    if shown_a >= WHOLE > shown_b:  # A inside B: A's corners in B's grid
        outer, grid, matrix = grey_b, grey_a.shape, np.linalg.inv(forward)
        label = "B"
    elif shown_b >= WHOLE > shown_a:  # B inside A
        outer, grid, matrix = grey_a, grey_b.shape, forward
        label = "A"
    else:
        return None
    h, w = grid
    corners = np.array([[0, 0, 1], [w, 0, 1], [w, h, 1], [0, h, 1]], np.float64)
    mapped = (matrix @ corners.T).T[:, :2]
    box = (*mapped.min(axis=0), *mapped.max(axis=0))
    from triage.forensics.framing import is_framed

    return label if is_framed(outer, box) else None  # type: ignore[arg-type]


def _box_through(
    back: np.ndarray, box: tuple[int, int, int, int], ratio_b: float, facts: CopyFacts
) -> tuple[int, int, int, int]:
    import numpy as np

    x, y, w, h = box
    corners = np.array([[x, y, 1], [x + w, y, 1], [x + w, y + h, 1], [x, y + h, 1]], np.float64)
    pts = (back @ corners.T).T[:, :2] * ratio_b
    x0, y0 = np.clip(pts.min(axis=0), 0, None)
    x1 = min(float(pts[:, 0].max()), float(facts.width or 0))
    y1 = min(float(pts[:, 1].max()), float(facts.height or 0))
    return round(x0), round(y0), max(0, round(x1 - x0)), max(0, round(y1 - y0))


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%" if x < 0.995 else "all"


def _relation_statements(r: Comparison) -> list[str]:
    out = []
    a_in, b_in = r.a_shown_in_b or 0.0, r.b_shown_in_a or 0.0
    if a_in >= WHOLE and b_in >= WHOLE:
        out.append("A and B show the same framing.")
    elif r.framed == "B":
        out.append(
            "B shows all of A's picture inside a border, page or interface (a screenshot, "
            "a letterbox, a post): what B has around it is not more of the scene."
        )
    elif r.framed == "A":
        out.append(
            "A shows all of B's picture inside a border, page or interface (a screenshot, "
            "a letterbox, a post): what A has around it is not more of the scene."
        )
    elif b_in >= WHOLE:
        out.append(
            f"B shows part of A's picture ({_pct(a_in)} of it), and nothing A does not: "
            "B is a crop of A's framing."
        )
    elif a_in >= WHOLE:
        out.append(
            f"A shows part of B's picture ({_pct(b_in)} of it), and nothing B does not: "
            "A is a crop of B's framing."
        )
    else:
        out.append(
            f"Each shows parts the other does not: B shows {_pct(a_in)} of A's picture, "
            f"A shows {_pct(b_in)} of B's."
        )
    scale = r.scale or 1.0
    size = (
        "the same size"
        if 0.97 <= scale <= 1.03
        else f"{scale:.2f}x A's size" + (" (smaller)" if scale < 1 else " (larger)")
    )
    geometry = [f"On what they share, B is {size}"]
    if r.rotation_degrees is not None and abs(r.rotation_degrees) >= 1.0:
        way = "anticlockwise" if r.rotation_degrees < 0 else "clockwise"
        geometry.append(f"turned {abs(r.rotation_degrees):.0f}° {way}")
    if r.mirrored:
        geometry.append("mirrored left to right")
    out.append(", ".join(geometry) + ".")
    return out


def _difference_statements(r: Comparison) -> list[str]:
    out = []
    if r.tone_changed:
        out.append(
            f"B's brightness, contrast or colour differs from A's over the whole picture "
            f"(lightness x{r.tone_gain:.2f} {r.tone_offset:+.1f}); this is set aside before "
            "comparing content."
        )
    share = r.differing_share or 0.0
    if r.widespread:
        out.append(
            f"Their content differs over {100 * share:.0f}% of what they share: a filter, "
            "another moment (e.g. a burst), or a redrawn picture. No region is singled out."
        )
    elif not r.regions:
        out.append("No region differs beyond what resizing and recompression explain.")
    else:
        largest = r.regions[0]
        x, y, w, h = largest.box_a
        xb, yb, wb, hb = largest.box_b
        many = "1 region differs" if len(r.regions) == 1 else f"{len(r.regions)} regions differ"
        out.append(
            f"{many} beyond what resizing and recompression explain; the largest covers "
            f"{100 * largest.share:.1f}% of the shared area, at x={x} y={y} {w}x{h} in A "
            f"and x={xb} y={yb} {wb}x{hb} in B."
        )
        if len(r.regions) >= SCATTERED and largest.share < 0.01:
            out.append(
                "These differences are many, small and spread over the picture: that is "
                "more like a filter, sharpening or another resampling of the whole picture "
                "than an edit of one place."
            )
    out.append(_source_signs(r))
    return out


def _mp(pixels: int) -> str:
    """Megapixels to two significant digits (a thumbnail's 0.045, not 0.0)."""
    return f"{pixels / 1e6:.2g}" if pixels < 10e6 else f"{pixels / 1e6:.0f}"


def _source_signs(r: Comparison) -> str:
    signs: dict[str, list[str]] = {"A": [], "B": []}
    a_in, b_in = r.a_shown_in_b or 0.0, r.b_shown_in_a or 0.0
    if b_in >= WHOLE > a_in and r.framed is None:
        signs["A"].append("wider framing")
    elif a_in >= WHOLE > b_in and r.framed is None:
        signs["B"].append("wider framing")
    pa, pb = r.a.shared_pixels or 0, r.b.shared_pixels or 0
    if pa > 1.2 * pb:
        signs["A"].append(f"more pixels of the shared part ({_mp(pa)} vs {_mp(pb)} MP)")
    elif pb > 1.2 * pa:
        signs["B"].append(f"more pixels of the shared part ({_mp(pb)} vs {_mp(pa)} MP)")
    qa, qb = r.a.jpeg_quality, r.b.jpeg_quality
    if qa is not None and qb is not None and abs(qa - qb) >= 5:
        signs["A" if qa > qb else "B"].append(
            f"lighter JPEG compression (q{max(qa, qb)} vs q{min(qa, qb)})"
        )
    for label, facts in (("A", r.a), ("B", r.b)):
        if facts.camera:
            signs[label].append(f"camera metadata ({facts.camera})")
    words = "; ".join(
        f"{label}: {', '.join(items) if items else 'none'}" for label, items in signs.items()
    )
    return f"Signs usual of the earlier copy (none is proof): {words}."


def _panel_png(work_a: np.ndarray, work_b: np.ndarray, diff: Any, result: Comparison) -> bytes:
    """A | B on A's grid | where they differ (heat over grey A, regions boxed), as PNG."""
    import cv2
    import numpy as np

    grey = cv2.cvtColor(cv2.cvtColor(work_a, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
    heat = np.clip(diff.significance / 2.0, 0.0, 1.0)
    colour = cv2.applyColorMap((heat * 255).astype(np.uint8), cv2.COLORMAP_INFERNO)[..., ::-1]
    alpha = np.clip(heat * 1.5, 0.0, 0.85)[..., None]
    overlay = (grey * (1 - alpha) + colour * alpha).astype(np.uint8)
    scale = work_a.shape[1] / (result.a.width or 1)
    for region in result.regions:
        x, y, w, h = (round(v * scale) for v in region.box_a)
        cv2.rectangle(overlay, (x, y), (x + w, y + h), (0, 200, 255), 2)
    gap = np.full((work_a.shape[0], 8, 3), 255, np.uint8)
    panel = np.hstack([work_a, gap, work_b, gap, overlay])
    ok, png = cv2.imencode(".png", np.ascontiguousarray(panel[..., ::-1]))
    return png.tobytes() if ok else b""


def _write_artifact(folder: Path, media_a: Media, media_b: Media, png: bytes) -> str:
    """The side-by-side PNG in ``folder``, named after both files."""
    from triage.fileio import write_atomic

    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{Path(media_a.path).stem}__{Path(media_b.path).stem}.compare.png"
    write_atomic(target, png)
    return str(target)
