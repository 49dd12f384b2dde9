"""Reading capture metadata (EXIF, XMP, PNG text) into plain values, and the pure
consistency checks the metadata analyzer reports.

References: CIPA DC-008 (Exif 2.32) for tag meanings and date formats; Adobe XMP
specification part 2 for ``xmpMM:History``; Kee & Farid, "Digital image
authentication from thumbnails" (SPIE 2010) for the thumbnail check.
"""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any

# EXIF IFD tags read through Pillow (cheap, lazy): maker note presence and core
# capture fields that every camera and phone writes.
_EXIF_IFD = 0x8769
_MAKER_NOTE = 0x927C
_CAPTURE_FIELDS = {0x829A: "ExposureTime", 0x829D: "FNumber", 0x8827: "ISOSpeedRatings"}
_DATE_RE = re.compile(r"^\s*(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
_OFFSET_RE = re.compile(r"^\s*([+-])(\d{2}):(\d{2})")


@dataclass
class Metadata:
    """Facts read from a file, grouped by family as ExifTool does (EXIF:, XMP:, PNG:)."""

    exif: dict[str, str] = field(default_factory=dict)  # exifread names, e.g. "Image Make"
    thumbnail: bytes | None = None
    has_maker_note: bool = False
    capture_fields: list[str] = field(default_factory=list)
    xmp: dict[str, list[str]] = field(default_factory=dict)
    png_text: dict[str, str] = field(default_factory=dict)
    cut: str | None = None  # where a truncated file stops, read from its structure

    @property
    def empty(self) -> bool:
        return not (self.exif or self.xmp or self.png_text)

    def get(self, *names: str) -> str | None:
        for name in names:
            value = self.exif.get(name)
            if value is not None and value.strip() and value.strip("\x00 "):
                return value.strip()
        return None

    @property
    def make(self) -> str | None:
        return self.get("Image Make")

    @property
    def model(self) -> str | None:
        return self.get("Image Model")


def read_metadata(data: bytes, pil_image: Any | None) -> Metadata:
    """Everything the checks need, from the bytes and the header-only Pillow image.

    Never raises for damaged metadata: a reader that fails leaves its part empty.

    Parameters
    ----------
    data : bytes
        The whole file.
    pil_image : PIL.Image.Image or None
        The file opened by Pillow (header only): its EXIF, info and PNG text.

    Returns
    -------
    Metadata
        EXIF tags (exifread names), the embedded thumbnail, maker-note presence, the
        capture fields present, XMP properties and PNG text.

    References
    ----------
    CIPA DC-008 (Exif 2.32); Adobe XMP Specification, part 3 (embedding in files).
    """
    from triage.xmp import read_xmp

    meta = Metadata()
    _read_exif(meta, data, thumbnail=True)
    if not meta.exif and pil_image is not None:
        # A container exifread cannot walk (a HEIF whose Exif item lacks the header it
        # expects): the EXIF block as the Pillow plugin found it.
        tiff = exif_tiff(getattr(pil_image, "info", {}).get("exif"))
        if tiff is not None:
            _read_exif(meta, tiff, thumbnail=False)
    if pil_image is not None:
        try:
            exif = pil_image.getexif()
            ifd = exif.get_ifd(_EXIF_IFD)
            meta.has_maker_note = _MAKER_NOTE in ifd
            meta.capture_fields = [name for tag, name in _CAPTURE_FIELDS.items() if tag in ifd]
        except Exception:
            pass
        info = getattr(pil_image, "info", {}) or {}
        text: dict[str, str] = {}
        if pil_image.format == "PNG":
            # Not pil_image.text: it decodes the pixels to reach chunks after IDAT, and
            # raises on a truncated file instead of returning what is there.
            from triage.forensics.png import read_png_text

            png = read_png_text(data)
            text, meta.cut = png.text, png.cut
        for key, value in text.items():
            if isinstance(value, str) and key.lower() not in ("xml:com.adobe.xmp",):
                meta.png_text[str(key)[:80]] = value[:4000]
        if "comment" in info and isinstance(info["comment"], bytes):
            meta.png_text.setdefault("Comment", info["comment"][:4000].decode("latin-1"))
    try:
        meta.xmp = read_xmp(data)
    except Exception:
        meta.xmp = {}
    return meta


def exif_tiff(block: object) -> bytes | None:
    """The TIFF structure of a raw EXIF block as an image plugin hands it over.

    Parameters
    ----------
    block : object
        Pillow's ``info["exif"]``: bytes, the TIFF structure optionally behind an
        ``Exif\\0\\0`` header (JPEG APP1, HEIF and WebP plugins differ), or anything
        else when the file has none.

    Returns
    -------
    bytes or None
        The TIFF bytes, starting at its byte-order mark; None when ``block`` holds no
        TIFF header.

    References
    ----------
    CIPA DC-008 (Exif 2.32), 4.5.4 (the APP1 marker's identifier code).
    """
    if not isinstance(block, bytes | bytearray):
        return None
    tiff = bytes(block[6:] if block[:6] == b"Exif\x00\x00" else block)
    return tiff if len(tiff) >= 8 and tiff[:4] in (b"II*\x00", b"MM\x00*") else None


def _read_exif(meta: Metadata, data: bytes, thumbnail: bool) -> None:
    """Fill ``meta.exif`` (exifread names; thumbnails, file name and maker note left
    out) and, when ``thumbnail``, ``meta.thumbnail`` from a file's bytes or a bare TIFF
    block; ``meta.exif`` stays empty when exifread fails on it."""
    try:
        import exifread

        logging.getLogger("exifread").setLevel(logging.CRITICAL)
        tags = exifread.process_file(io.BytesIO(data), details=False)
        for key, value in tags.items():
            if key == "JPEGThumbnail":
                if thumbnail and isinstance(value, bytes | bytearray) and value[:2] == b"\xff\xd8":
                    meta.thumbnail = bytes(value)
                continue
            if key in ("TIFFThumbnail", "Filename", "EXIF MakerNote"):
                continue
            meta.exif[key] = str(value)[:2000]
    except Exception:  # exifread raises a variety of errors on malformed EXIF
        meta.exif = {}


# ----------------------------------------------------------------- software
@dataclass(frozen=True)
class Editor:
    pattern: re.Pattern[str]
    name: str
    kind: str
    strength: float


@cache
def editors() -> tuple[Editor, ...]:
    """The editor signatures of ``triage/data/editors.tsv`` (read once).

    Returns
    -------
    tuple of Editor
        Pattern (case-insensitive), editor name, kind and strength, per line.
    """
    text = resources.files("triage.data").joinpath("editors.tsv").read_text("utf-8")
    rows = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        pattern, name, kind, strength = line.split("\t")
        rows.append(Editor(re.compile(pattern, re.I), name, kind, float(strength)))
    return tuple(rows)


def software_strings(meta: Metadata) -> list[tuple[str, str]]:
    """Every field that names the software that wrote the file.

    Parameters
    ----------
    meta : Metadata
        What :func:`read_metadata` read.

    Returns
    -------
    list of (str, str)
        (where, value): EXIF Software and ProcessingSoftware, XMP CreatorTool and history
        agents, PNG Software and the like.

    References
    ----------
    CIPA DC-008 (Exif 2.32), tag 0x0131 Software; Adobe XMP Specification, part 2
    (``xmp:CreatorTool``, ``xmpMM:History``).
    """
    out: list[tuple[str, str]] = []
    for key in ("Image Software", "Image ProcessingSoftware", "EXIF Software"):
        if (v := meta.get(key)) is not None:
            out.append((f"EXIF:{key.split()[-1]}", v))
    for key in ("xmp:CreatorTool", "xap:CreatorTool", "tiff:Software", "photoshop:History"):
        out.extend((f"XMP:{key}", v) for v in meta.xmp.get(key, []))
    out.extend(
        ("XMP:xmpMM:History softwareAgent", v)
        for v in dict.fromkeys(meta.xmp.get("xmpMM:History/stEvt:softwareAgent", []))
    )
    for key in ("Software", "Comment"):
        if key in meta.png_text:
            out.append((f"PNG:{key}", meta.png_text[key][:200]))
    return out


def match_editors(meta: Metadata) -> list[tuple[str, str, Editor]]:
    """Software strings that name a known editor.

    Parameters
    ----------
    meta : Metadata
        What :func:`read_metadata` read.

    Returns
    -------
    list of (str, str, Editor)
        (field, value, editor) per match with :func:`editors`.
    """
    hits = []
    for where, value in software_strings(meta):
        for editor in editors():
            if editor.pattern.search(value):
                hits.append((where, value, editor))
                break
    return hits


# -------------------------------------------------------------------- dates
def parse_exif_date(text: str | None, offset: str | None = None) -> datetime | None:
    """An EXIF date and time as a datetime.

    Parameters
    ----------
    text : str or None
        ``YYYY:MM:DD HH:MM:SS``.
    offset : str or None
        The matching OffsetTime tag, ``+HH:MM``; the result is then in UTC.

    Returns
    -------
    datetime or None
        None for placeholders such as ``0000:00:00 00:00:00``, blank or unreadable
        fields.

    References
    ----------
    CIPA DC-008 (Exif 2.32), DateTimeOriginal and OffsetTimeOriginal.
    """
    if not text:
        return None
    m = _DATE_RE.match(text)
    if not m:
        return None
    try:
        y, mo, d, h, mi, sec = (int(g) for g in m.groups())
        dt = datetime(y, mo, d, h, mi, sec)
    except ValueError:
        return None
    if offset and (o := _OFFSET_RE.match(offset)):
        sign = 1 if o.group(1) == "+" else -1
        tz = timedelta(hours=int(o.group(2)), minutes=int(o.group(3))) * sign
        dt = dt.replace(tzinfo=UTC) - tz
    return dt


def gps_datetime(meta: Metadata) -> datetime | None:
    """The UTC date and time of the GPS fix.

    Parameters
    ----------
    meta : Metadata
        What :func:`read_metadata` read.

    Returns
    -------
    datetime or None
        From GPSDateStamp + GPSTimeStamp when both are present and valid.

    References
    ----------
    CIPA DC-008 (Exif 2.32), GPS attribute information.
    """
    date = meta.get("GPS GPSDate")
    time = meta.get("GPS GPSTimeStamp")
    if not date or not time:
        return None
    try:
        y, mo, d = (int(x) for x in re.split(r"[:\-]", date.strip())[:3])
        parts = [_rational(x) for x in time.strip("[] ").split(",")]
        h, mi, s = parts[0], parts[1], parts[2]
        return datetime(y, mo, d, tzinfo=UTC) + timedelta(hours=h, minutes=mi, seconds=s)
    except (ValueError, IndexError, ZeroDivisionError):
        return None


def _rational(text: str) -> float:
    text = text.strip()
    if "/" in text:
        num, den = text.split("/", 1)
        return float(num) / float(den)
    return float(text)


@dataclass
class DateFacts:
    original: datetime | None
    digitized: datetime | None
    modified: datetime | None
    gps: datetime | None
    offset_known: bool
    raw: dict[str, str]


def date_facts(meta: Metadata) -> DateFacts:
    """The capture, digitization, modification and GPS dates of a file.

    Parameters
    ----------
    meta : Metadata
        What :func:`read_metadata` read.

    Returns
    -------
    DateFacts
        The parsed dates (with their OffsetTime when given), whether any offset is
        known, and the raw fields for the evidence.

    References
    ----------
    CIPA DC-008 (Exif 2.32).
    """
    off_o = meta.get("EXIF OffsetTimeOriginal")
    off_d = meta.get("EXIF OffsetTimeDigitized")
    off_m = meta.get("EXIF OffsetTime")
    raw = {
        k: v
        for k, v in {
            "DateTimeOriginal": meta.get("EXIF DateTimeOriginal"),
            "DateTimeDigitized": meta.get("EXIF DateTimeDigitized"),
            "ModifyDate": meta.get("Image DateTime"),
            "OffsetTimeOriginal": off_o,
            "GPSDateStamp": meta.get("GPS GPSDate"),
            "GPSTimeStamp": meta.get("GPS GPSTimeStamp"),
        }.items()
        if v
    }
    return DateFacts(
        original=parse_exif_date(meta.get("EXIF DateTimeOriginal"), off_o),
        digitized=parse_exif_date(meta.get("EXIF DateTimeDigitized"), off_d or off_o),
        modified=parse_exif_date(meta.get("Image DateTime"), off_m or off_o),
        gps=gps_datetime(meta),
        offset_known=bool(off_o or off_d or off_m),
        raw=raw,
    )


def date_problems(facts: DateFacts, now: datetime | None = None) -> tuple[list[str], list[str]]:
    """Inconsistencies and impossibilities among the capture dates, as sentences.

    Tolerances: a minute between capture fields (cameras write them in one go; some
    round sub-seconds); GPS fixes lag capture, so GPS time is compared modulo whole
    UTC against the stated OffsetTime with 10 minutes' slack; without OffsetTime only a
    gap beyond any time zone (14 h) counts.

    Parameters
    ----------
    facts : DateFacts
        From :func:`date_facts`.
    now : datetime, optional
        The present (default: the clock), for dates in the future.

    Returns
    -------
    (list of str, list of str)
        (inconsistencies, impossibilities).

    References
    ----------
    CIPA DC-008 (Exif 2.32), date and OffsetTime tags.
    """
    now = now or datetime.now(UTC).replace(tzinfo=None)
    # Compare naive local times among EXIF fields (their offsets, when present, agree);
    # use the offset only against GPS, which is UTC.
    inconsistent: list[str] = []
    impossible: list[str] = []
    minute = timedelta(seconds=60)
    named = [
        ("DateTimeOriginal", facts.original),
        ("DateTimeDigitized", facts.digitized),
        ("ModifyDate", facts.modified),
    ]
    for name, value in named:
        if value is None:
            continue
        naive = value.replace(tzinfo=None)
        if naive > now + timedelta(days=1):
            impossible.append(f"{name} {naive:%Y-%m-%d %H:%M} is in the future")
        elif naive.year < 1990:
            impossible.append(f"{name} {naive:%Y-%m-%d} is before digital cameras wrote EXIF")
    o, d, m = (
        v.replace(tzinfo=None) if v else None
        for v in (facts.original, facts.digitized, facts.modified)
    )
    if o and d and abs(o - d) > minute:
        inconsistent.append(
            f"DateTimeOriginal and DateTimeDigitized differ by {_span(abs(o - d))} "
            "(a scan of a film photo does this; a camera does not)"
        )
    capture = o or d
    if capture and m:
        if m - capture > minute:
            inconsistent.append(
                f"ModifyDate is {_span(m - capture)} after capture: the file was rewritten later"
            )
        elif capture - m > minute:
            impossible.append(f"ModifyDate is {_span(capture - m)} before capture")
    utc_capture = facts.original or facts.digitized
    if capture and utc_capture and facts.gps:
        gps = facts.gps.replace(tzinfo=None)
        local = utc_capture.replace(tzinfo=None)
        diff = (local - gps).total_seconds()
        if facts.offset_known and utc_capture.tzinfo is not None:
            off = abs(diff)
        else:
            # Time zone unknown: any offset within ±14 h is possible, so only a gap
            # beyond that says something.
            off = max(0.0, abs(diff) - 14 * 3600)
        if off > 600:
            inconsistent.append(
                f"GPS time and capture time disagree by {_span(timedelta(seconds=off))} "
                "beyond any time-zone offset"
            )
    return inconsistent, impossible


def _span(delta: timedelta) -> str:
    s = abs(delta.total_seconds())
    if s < 3600:
        return f"{s / 60:.0f} min"
    if s < 86400 * 2:
        return f"{s / 3600:.1f} h"
    if s < 86400 * 365 * 2:
        return f"{s / 86400:.0f} days"
    return f"{s / 86400 / 365.25:.1f} years"


# ---------------------------------------------------------------- thumbnail
def _thumbnail_grey(thumb_jpeg: bytes) -> Any | None:
    import numpy as np
    from PIL import Image

    try:
        with Image.open(io.BytesIO(thumb_jpeg)) as im:
            im.draft("L", (160, 160))
            thumb = np.asarray(im.convert("L"), dtype=np.float32)
    except Exception:
        return None
    return thumb if min(thumb.shape) >= 8 else None


def _grey(main_small: Any) -> Any:
    import numpy as np

    main = np.asarray(main_small, dtype=np.float32)
    if main.ndim == 3:
        main = main @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    return main


def _correlation16(a: Any, b: Any) -> float:
    import cv2
    import numpy as np

    x = cv2.resize(np.ascontiguousarray(a), (16, 16), interpolation=cv2.INTER_AREA).ravel()
    y = cv2.resize(np.ascontiguousarray(b), (16, 16), interpolation=cv2.INTER_AREA).ravel()
    x = x - x.mean()
    y = y - y.mean()
    den = float(np.linalg.norm(x) * np.linalg.norm(y))
    return float(x @ y / den) if den > 1e-6 else (1.0 if np.allclose(x, y, atol=2) else 0.0)


def local_change(region: Any, main: Any, side: int = 32, cells: int = 4) -> float:
    """How much the most changed part of a picture differs from its preview.

    One correlation over the whole picture hides a changed part of it (a third painted
    over keeps it near 0.9 on a smooth scene). Both are reduced to ``side`` pixels, one
    gain and offset is fitted for the whole (previews are toned differently), and the
    mean absolute difference of each of ``cells`` x ``cells`` cells is taken.

    Parameters
    ----------
    region : ndarray
        The preview's region showing the picture, grey, float.
    main : ndarray
        The picture (reduced, rotated as the preview shows it), grey, float.
    side, cells : int
        Comparison size in pixels and cells per side.

    Returns
    -------
    float
        The largest cell difference over the median cell's plus 2 grey levels: about 1
        where the picture is what the preview shows, several where a part changed.

    References
    ----------
    E. Kee, H. Farid, "Digital image authentication from thumbnails", SPIE 2010 (a
    preview made before an edit shows the picture as it was).
    """
    import cv2
    import numpy as np

    r = cv2.resize(np.ascontiguousarray(region), (side, side), interpolation=cv2.INTER_AREA)
    m = cv2.resize(np.ascontiguousarray(main), (side, side), interpolation=cv2.INTER_AREA)
    design = np.stack([m.ravel(), np.ones(side * side, np.float32)], axis=1)
    coef, *_ = np.linalg.lstsq(design, r.ravel(), rcond=None)
    step = side // cells
    resid = np.abs(r - (coef[0] * m + coef[1])).reshape(cells, step, cells, step)
    per_cell = resid.mean(axis=(1, 3)).ravel()
    return float(per_cell.max() / (np.median(per_cell) + 2.0))


def thumbnail_similarity(thumb_jpeg: bytes, main_small: Any) -> dict[str, float] | None:
    """Compare the embedded EXIF thumbnail with the main image.

    Parameters
    ----------
    thumb_jpeg : bytes
        The thumbnail (JPEG).
    main_small : ndarray
        The main image, reduced (RGB).

    Returns
    -------
    dict or None
        The thumbnail's content aspect ratio (black letterbox bars removed), the main
        image's aspect ratio, the correlation of their 16x16 grey versions (1 = same
        picture) and :func:`local_change` of the two as placed. None if the thumbnail
        cannot be decoded.

    References
    ----------
    E. Kee, H. Farid, "Digital image authentication from thumbnails", SPIE 2010.
    """
    import numpy as np

    thumb = _thumbnail_grey(thumb_jpeg)
    if thumb is None:
        return None
    main = _grey(main_small)
    m_aspect = main.shape[1] / main.shape[0]
    # (correlation, aspect diff, aspect, thumbnail as compared, rotation)
    best: tuple[float, float, float, Any, int] | None = None
    # Cameras letterbox the 160x120 preview of a 3:2 or 16:9 picture: compare both the
    # thumbnail as stored and with uniform dark edge bands removed, keep the better.
    for cand_thumb in (thumb, _strip_bars(thumb)):
        t_aspect = cand_thumb.shape[1] / cand_thumb.shape[0]
        aspect_diff = float(min(abs(np.log(t_aspect / m_aspect)), abs(np.log(t_aspect * m_aspect))))
        # The preview may be stored unrotated while the image was rotated: try all four.
        for k in range(4):
            corr = _correlation16(cand_thumb, np.rot90(main, k))
            if best is None or corr - aspect_diff > best[0] - best[1]:
                best = (corr, aspect_diff, t_aspect, cand_thumb, k)
    assert best is not None
    return {
        "thumbnail_aspect": round(best[2], 4),
        "image_aspect": round(m_aspect, 4),
        "aspect_log_diff": round(best[1], 4),
        "correlation": round(best[0], 4),
        "local_change": round(local_change(best[3], np.rot90(main, best[4])), 4),
    }


# Smallest crop looked for, as a share of the preview's side: a smaller one leaves a
# template of a few pixels, which a textured preview matches somewhere by chance.
CROP_MIN_SIDE = 0.45
CROP_SCALES = 16
CROP_SEARCH_SIDE = 80  # the search runs on the preview reduced to this (cost / 4-16)


def locate_crop(thumb_jpeg: bytes, main_small: Any) -> dict[str, float] | None:
    """Where the main image lies inside its EXIF thumbnail, if it is a crop of it.

    A photo cropped after capture by software that keeps the camera's preview shows
    only part of what the preview shows: compared whole, the two look like different
    pictures. The main image is searched for inside the preview (with and without its
    letterbox bars) over scales and the four rotations by normalised cross-correlation
    on a reduced copy, refined around the best scale, and the placement's content is
    compared as :func:`thumbnail_similarity` compares whole pictures.

    Parameters
    ----------
    thumb_jpeg : bytes
        The thumbnail (JPEG).
    main_small : ndarray
        The main image, reduced (RGB or grey).

    Returns
    -------
    dict or None
        ``crop_correlation`` (16x16 grey correlation of the image with the preview's
        region at the placement), ``crop_area`` (that region's share of the preview),
        ``crop_local_change`` (:func:`local_change` there) and ``crop_match`` (the
        placement's normalised cross-correlation); None when the thumbnail cannot be
        decoded or is too small to search.

    References
    ----------
    E. Kee, H. Farid, "Digital image authentication from thumbnails", SPIE 2010 (they
    estimate the crop and scale that map the image onto its thumbnail).
    """
    import numpy as np

    thumb = _thumbnail_grey(thumb_jpeg)
    if thumb is None:
        return None
    main = _grey(main_small)
    rotations = [np.ascontiguousarray(np.rot90(main, k)) for k in range(4)]
    found = []
    # Without the bars the crop's share is of the picture the preview shows; as stored
    # where removing bars ate into a dark picture.
    for preview in (_strip_bars(thumb), thumb):
        placed = _search(preview, rotations)
        if placed is None:
            continue
        match, k, x, y, w, h = placed
        region = preview[y : y + h, x : x + w]
        found.append(
            {
                "crop_correlation": round(_correlation16(region, rotations[k]), 4),
                "crop_area": round(w * h / preview.size, 4),
                "crop_local_change": round(local_change(region, rotations[k]), 4),
                "crop_match": round(match, 4),
            }
        )
    return max(found, key=lambda c: c["crop_correlation"]) if found else None


def _match(image: Any, picture: Any, h: int) -> tuple[float, int, int, int] | None:
    """(ncc, x, y, w) of ``picture`` scaled to height ``h`` at its best place in ``image``."""
    import cv2
    import numpy as np

    w = round(h * picture.shape[1] / picture.shape[0])
    if h < 8 or w < 8 or h > image.shape[0] or w > image.shape[1]:
        return None
    tpl = cv2.resize(picture, (w, h), interpolation=cv2.INTER_AREA)
    if float(tpl.std()) < 1.0:
        return None
    res = cv2.matchTemplate(np.ascontiguousarray(image), tpl, cv2.TM_CCOEFF_NORMED)
    _lo, ncc, _pl, (x, y) = cv2.minMaxLoc(res)
    return float(ncc), x, y, w


def _search(preview: Any, rotations: list[Any]) -> tuple[float, int, int, int, int, int] | None:
    """(ncc, rotation, x, y, w, h) of the best placement in ``preview``'s pixels."""
    import cv2

    th, tw = preview.shape
    if min(th, tw) < 24:
        return None
    f = min(1.0, CROP_SEARCH_SIDE / max(th, tw))
    small = cv2.resize(
        preview, (max(1, round(tw * f)), max(1, round(th * f))), interpolation=cv2.INTER_AREA
    )
    sh, sw = small.shape
    best: tuple[float, int, int, int, int, int] | None = None

    def place(k: int, h: int) -> None:
        nonlocal best
        found = _match(small, rotations[k], h)
        if found is not None and (best is None or found[0] > best[0]):
            best = (found[0], k, found[1], found[2], found[3], h)

    step = CROP_MIN_SIDE ** (1 / (CROP_SCALES - 1))
    for k, m in enumerate(rotations):
        top = min(sh, sw * m.shape[0] / m.shape[1])  # the tallest template that fits
        for i in range(CROP_SCALES):
            place(k, round(top * step**i))
    if best is None:
        return None
    # The coarse scales are 5% apart in side: refine around the best one.
    k0, h0 = best[1], best[5]
    for j in (-3, -2, -1, 1, 2, 3):
        place(k0, round(h0 * step ** (j / 4)))
    match, k, x, y, w, h = best
    if f == 1.0:
        return best
    # Back to the preview's pixels: position and size again at full size, a few pixels
    # around what the reduced search found (its pixels are 1/f of these).
    hc, xc, yc = h / f, x / f, y / f
    full: tuple[float, int, int, int, int, int] = (
        match,
        k,
        round(xc),
        round(yc),
        min(tw, round(w / f)),
        min(th, round(h / f)),
    )
    full_best = -2.0
    for dh in range(-3, 4):
        hh = round(hc) + dh
        ww = round(hh * rotations[k].shape[1] / rotations[k].shape[0])
        if hh < 8 or ww < 8 or hh > th or ww > tw:
            continue
        x0 = min(max(0, round(xc) - 4), tw - ww)
        y0 = min(max(0, round(yc) - 4), th - hh)
        window = preview[y0 : min(th, y0 + hh + 8), x0 : min(tw, x0 + ww + 8)]
        found = _match(window, rotations[k], hh)
        if found is not None and found[0] > full_best:
            full_best = found[0]
            full = (found[0], k, x0 + found[1], y0 + found[2], found[3], hh)
    return full


def _strip_bars(grey: Any, level: float = 24.0, spread: float = 6.0) -> Any:
    """Remove uniform dark bands (letterboxing) running in from the edges."""

    def keep(profile_mean: Any, profile_std: Any) -> tuple[int, int]:
        bar = (profile_mean < level) & (profile_std < spread)
        n = len(bar)
        start = 0
        while start < n and bar[start]:
            start += 1
        end = n
        while end > start and bar[end - 1]:
            end -= 1
        return start, end

    r0, r1 = keep(grey.mean(axis=1), grey.std(axis=1))
    c0, c1 = keep(grey.mean(axis=0), grey.std(axis=0))
    if r1 - r0 < 4 or c1 - c0 < 4:
        return grey
    return grey[r0:r1, c0:c1]


def declared_dimensions(meta: Metadata) -> tuple[int, int] | None:
    """The pixel size the EXIF header declares.

    Parameters
    ----------
    meta : Metadata
        What :func:`read_metadata` read.

    Returns
    -------
    (int, int) or None
        (ExifImageWidth, ExifImageLength) when both are positive integers.

    References
    ----------
    CIPA DC-008 (Exif 2.32), PixelXDimension and PixelYDimension.
    """
    w = meta.get("EXIF ExifImageWidth")
    h = meta.get("EXIF ExifImageLength")
    try:
        wi = int(str(w).strip("[] ").split(",")[0])
        hi = int(str(h).strip("[] ").split(",")[0])
    except (TypeError, ValueError):
        return None
    if wi <= 0 or hi <= 0:
        return None
    return wi, hi
