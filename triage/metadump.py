"""Every metadata tag of a file, grouped by family as ExifTool's ``-j -G`` shows them:
``File:``, ``EXIF:``, ``GPS:`` (with decimal coordinates), ``MakerNotes:`` (where
exifread decodes them), ``XMP:``, ``IPTC:``, ``ICC_Profile:``, ``PNG:`` text chunks,
``QuickTime:`` container tags of a video and a ``C2PA:`` summary. A desk reads it
beside the report instead of running a second tool.

Read-only and bounded: the file is read once (up to the caller's byte limit), every
reader that fails on damaged metadata leaves its family out and says so under
``Warning``, values are cut at ``MAX_VALUE_CHARS``.

References: CIPA DC-008 (Exif 2.32) for EXIF and GPS tags; IPTC-NAA Information
Interchange Model 4.2 for the IIM record 2 dataset numbers; ICC.1:2022 for the
profile header; Adobe XMP Specification part 1; C2PA Technical Specification 2.x.
"""

from __future__ import annotations

import io
import logging
import struct
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from triage.media import Media

MAX_VALUE_CHARS = 2000
MAX_TAGS = 2000

# exifread key prefix -> ExifTool family name.
_EXIFREAD_GROUPS = {
    "Image": "EXIF",
    "EXIF": "EXIF",
    "Interoperability": "EXIF",
    "Thumbnail": "EXIF",
    "GPS": "GPS",
    "MakerNote": "MakerNotes",
}
_SKIP_EXIF = {"JPEGThumbnail", "TIFFThumbnail", "Filename", "EXIF MakerNote"}

# IPTC IIM record 2 (application record) dataset numbers and their names.
_IPTC_NAMES = {
    (1, 90): "CodedCharacterSet",
    (2, 0): "ApplicationRecordVersion",
    (2, 5): "ObjectName",
    (2, 7): "EditStatus",
    (2, 10): "Urgency",
    (2, 15): "Category",
    (2, 20): "SupplementalCategories",
    (2, 25): "Keywords",
    (2, 40): "SpecialInstructions",
    (2, 55): "DateCreated",
    (2, 60): "TimeCreated",
    (2, 62): "DigitalCreationDate",
    (2, 63): "DigitalCreationTime",
    (2, 65): "OriginatingProgram",
    (2, 70): "ProgramVersion",
    (2, 80): "By-line",
    (2, 85): "By-lineTitle",
    (2, 90): "City",
    (2, 92): "Sub-location",
    (2, 95): "Province-State",
    (2, 100): "Country-PrimaryLocationCode",
    (2, 101): "Country-PrimaryLocationName",
    (2, 103): "OriginalTransmissionReference",
    (2, 105): "Headline",
    (2, 110): "Credit",
    (2, 115): "Source",
    (2, 116): "CopyrightNotice",
    (2, 118): "Contact",
    (2, 120): "Caption-Abstract",
    (2, 122): "Writer-Editor",
}
_ICC_CLASSES = {
    b"scnr": "Input Device Profile",
    b"mntr": "Display Device Profile",
    b"prtr": "Output Device Profile",
    b"link": "DeviceLink Profile",
    b"spac": "ColorSpace Conversion Profile",
    b"abst": "Abstract Profile",
    b"nmcl": "NamedColor Profile",
}


def dump(media: Media) -> dict[str, Any]:
    """ExifTool ``-j -G``-style tags of an opened file: ``{"File:FileName": ..., ...}``."""
    tags: dict[str, Any] = {}
    warnings: list[str] = []
    _file_group(media, tags)
    data = media.data if media.kind == "image" else b""
    if media.kind == "image":
        for reader in (_exif, _xmp, _iptc, _icc, _png):
            try:
                reader(media, data, tags)
            except Exception as exc:  # damaged metadata: leave the family out, say so
                warnings.append(f"{reader.__name__.strip('_')}: {type(exc).__name__}: {exc}"[:200])
    else:
        try:
            _quicktime(media, tags)
        except Exception as exc:
            warnings.append(f"container: {type(exc).__name__}: {exc}"[:200])
    try:
        _c2pa(media, tags)
    except Exception as exc:
        warnings.append(f"c2pa: {type(exc).__name__}: {exc}"[:200])
    if warnings:
        tags["ExifTool:Warning"] = warnings if len(warnings) > 1 else warnings[0]
    if len(tags) > MAX_TAGS:
        keep = dict(list(tags.items())[:MAX_TAGS])
        keep["ExifTool:Warning"] = f"{len(tags) - MAX_TAGS} further tags left out"
        tags = keep
    return tags


def dump_path(path: str | Path, max_bytes: int | None = None) -> dict[str, Any]:
    """:func:`dump` of a path; raises :class:`~triage.errors.MediaError` for a file
    that cannot be opened as media (one line, for the user)."""
    from triage.media import DEFAULT_MAX_BYTES, Media

    media = Media.open(path, max_bytes=max_bytes or DEFAULT_MAX_BYTES)
    return {"SourceFile": str(path), **dump(media)}


def grouped(tags: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``{"EXIF:Make": v}`` -> ``{"EXIF": {"Make": v}}`` (ExifTool's ``-g``), for display."""
    out: dict[str, dict[str, Any]] = {}
    for key, value in tags.items():
        group, _, name = key.partition(":")
        if not name:
            continue
        out.setdefault(group, {})[name] = value
    return out


# ------------------------------------------------------------------ families
def _file_group(media: Media, tags: dict[str, Any]) -> None:
    from datetime import UTC, datetime

    from triage.forensics.c2pa import MIME

    tags["File:FileName"] = media.path.name
    tags["File:FileSize"] = media.size
    tags["File:FileType"] = (media.format or "").upper()
    tags["File:FileTypeExtension"] = media.format
    if media.format in MIME:
        tags["File:MIMEType"] = MIME[media.format]
    if media.mtime is not None:
        stamp = datetime.fromtimestamp(media.mtime, UTC).replace(microsecond=0)
        tags["File:FileModifyDate"] = stamp.isoformat().replace("+00:00", "Z")
    if media.width:
        tags["File:ImageWidth"] = media.width
        tags["File:ImageHeight"] = media.height
    if media.duration is not None:
        tags["File:Duration"] = round(float(media.duration), 3)
    tags["File:SHA256"] = media.sha256


def _clip(value: Any) -> Any:
    if isinstance(value, str):
        text = value.replace("\x00", "").strip()
        return text if len(text) <= MAX_VALUE_CHARS else text[:MAX_VALUE_CHARS] + "…"
    return value


def _exif(media: Media, data: bytes, tags: dict[str, Any]) -> None:
    import exifread

    from triage.forensics.metadata import exif_tiff

    logging.getLogger("exifread").setLevel(logging.CRITICAL)
    try:
        raw = exifread.process_file(io.BytesIO(data), details=True)
    except Exception:  # a container exifread cannot walk; its plugin's block is tried next
        raw = {}
    if not raw:
        # The EXIF block as the Pillow plugin found it (a HEIF whose Exif item lacks the
        # header exifread expects); a failure here is the section's warning.
        tiff = exif_tiff((getattr(media.pil_header, "info", {}) or {}).get("exif"))
        if tiff is not None:
            raw = exifread.process_file(io.BytesIO(tiff), details=True)
    gps: dict[str, Any] = {}
    for key, value in raw.items():
        if key in _SKIP_EXIF:
            continue
        prefix, _, name = key.partition(" ")
        group = _EXIFREAD_GROUPS.get(prefix)
        if group is None or not name:
            continue
        text = _clip(str(value))
        if group == "GPS":
            gps[name] = value
        if key.startswith("Thumbnail "):
            name = "Thumbnail" + name  # IFD1 tags, named apart from IFD0's
        tags.setdefault(f"{group}:{name}", text)
    if raw.get("JPEGThumbnail"):
        tags["EXIF:ThumbnailImage"] = f"(binary data {len(raw['JPEGThumbnail'])} bytes)"
    _gps_decimal(gps, tags)


def _ratio(x: Any) -> float | None:
    """A rational as a float; None for a zero denominator (unknown, per EXIF)."""
    num: Any = getattr(x, "num", None)
    den: Any = getattr(x, "den", None)
    if num is None:
        num, den = getattr(x, "numerator", x), getattr(x, "denominator", 1)
    try:
        return float(num) / float(den) if float(den) else None
    except (TypeError, ValueError):
        return None


def _dms(tag: Any) -> float | None:
    values = getattr(tag, "values", None)
    if not values or len(values) < 3:
        return None
    d, m, s = (_ratio(v) for v in values[:3])
    if d is None or m is None or s is None:
        return None
    return d + m / 60 + s / 3600


def _gps_decimal(gps: dict[str, Any], tags: dict[str, Any]) -> None:
    """Signed decimal degrees (and metres) as ExifTool's composite GPS tags give them."""
    lat, lon = _dms(gps.get("GPSLatitude")), _dms(gps.get("GPSLongitude"))
    if lat is not None:
        if str(gps.get("GPSLatitudeRef", "N")).strip().upper().startswith("S"):
            lat = -lat
        tags["GPS:GPSLatitude"] = round(lat, 7)
    if lon is not None:
        if str(gps.get("GPSLongitudeRef", "E")).strip().upper().startswith("W"):
            lon = -lon
        tags["GPS:GPSLongitude"] = round(lon, 7)
    if lat is not None and lon is not None:
        tags["GPS:GPSPosition"] = f"{lat:.7f}, {lon:.7f}"
    alt = gps.get("GPSAltitude")
    metres = _ratio(alt.values[0]) if alt is not None and getattr(alt, "values", None) else None
    if metres is not None:
        ref = getattr(gps.get("GPSAltitudeRef"), "values", [0])
        if ref and ref[0] == 1:
            metres = -metres
        tags["GPS:GPSAltitude"] = round(metres, 2)


def _xmp(media: Media, data: bytes, tags: dict[str, Any]) -> None:
    from triage.xmp import read_xmp

    for key, values in read_xmp(data).items():
        value: Any = [_clip(v) for v in values[:50]]
        tags[f"XMP:{key}"] = value[0] if len(value) == 1 else value


def _iptc(media: Media, data: bytes, tags: dict[str, Any]) -> None:
    if media.format not in ("jpeg", "tiff"):
        return
    from PIL import IptcImagePlugin

    info = IptcImagePlugin.getiptcinfo(media.pil_header) or {}  # type: ignore[arg-type]
    for (record, dataset), raw in sorted(info.items()):
        name = _IPTC_NAMES.get((record, dataset), f"{record}:{dataset:03d}")
        items = raw if isinstance(raw, list) else [raw]
        texts = [
            _clip(v.decode("utf-8", "replace")) if isinstance(v, bytes) else _clip(str(v))
            for v in items
        ]
        tags[f"IPTC:{name}"] = texts[0] if len(texts) == 1 else texts


def _icc(media: Media, data: bytes, tags: dict[str, Any]) -> None:
    profile = (getattr(media.pil_header, "info", {}) or {}).get("icc_profile")
    if not isinstance(profile, bytes) or len(profile) < 128:
        return
    size, cmm, version = struct.unpack(">I4sI", profile[:12])
    cls, space, pcs = profile[12:16], profile[16:20], profile[20:24]
    year, month, day, hour, minute, second = struct.unpack(">6H", profile[24:36])
    tags["ICC_Profile:ProfileSize"] = size
    tags["ICC_Profile:ProfileCMMType"] = cmm.decode("latin-1").strip("\x00 ")
    tags["ICC_Profile:ProfileVersion"] = (
        f"{version >> 24}.{(version >> 20) & 0xF}.{(version >> 16) & 0xF}"
    )
    tags["ICC_Profile:ProfileClass"] = _ICC_CLASSES.get(cls, cls.decode("latin-1"))
    tags["ICC_Profile:ColorSpaceData"] = space.decode("latin-1").strip()
    tags["ICC_Profile:ProfileConnectionSpace"] = pcs.decode("latin-1").strip()
    if year:
        tags["ICC_Profile:ProfileDateTime"] = (
            f"{year:04d}:{month:02d}:{day:02d} {hour:02d}:{minute:02d}:{second:02d}"
        )
    tags["ICC_Profile:ProfileCreator"] = profile[80:84].decode("latin-1").strip("\x00 ")
    description = _icc_description(profile)
    if description:
        tags["ICC_Profile:ProfileDescription"] = _clip(description)


def _icc_description(profile: bytes) -> str | None:
    """The 'desc' tag: ICC v2 textDescriptionType or v4 multiLocalizedUnicodeType."""
    (count,) = struct.unpack(">I", profile[128:132])
    for i in range(min(count, 100)):
        sig, offset, length = struct.unpack(">4sII", profile[132 + 12 * i : 144 + 12 * i])
        if sig != b"desc":
            continue
        body = profile[offset : offset + length]
        if body[:4] == b"desc":
            (n,) = struct.unpack(">I", body[8:12])
            return body[12 : 12 + n].split(b"\x00", 1)[0].decode("latin-1")
        if body[:4] == b"mluc":
            records, _rec_size = struct.unpack(">II", body[8:16])
            if records:
                ln, off = struct.unpack(">II", body[16 + 4 : 16 + 12])
                return body[off : off + ln].decode("utf-16-be", "replace")
    return None


def _png(media: Media, data: bytes, tags: dict[str, Any]) -> None:
    if media.format != "png":
        return
    from triage.forensics.genmeta import png_text_chunks

    for key, value in png_text_chunks(data).items():
        if key.lower() == "xml:com.adobe.xmp":
            continue  # shown under XMP:
        tags[f"PNG:{key}"] = _clip(value)


def _quicktime(media: Media, tags: dict[str, Any]) -> None:
    import av

    with av.open(str(media.path), mode="r", metadata_errors="replace") as container:
        for key, value in sorted((container.metadata or {}).items())[:200]:
            tags[f"QuickTime:{key}"] = _clip(str(value))
        for i, stream in enumerate(container.streams):
            for key, value in sorted((stream.metadata or {}).items())[:50]:
                tags[f"QuickTime:Track{i + 1}:{key}"] = _clip(str(value))


def _c2pa(media: Media, tags: dict[str, Any]) -> None:
    """Present / validation state / active manifest's generator, signer, time, actions."""
    if media.kind == "image" and b"c2pa" not in media.data and b"jumb" not in media.data:
        tags["C2PA:Present"] = False
        return
    try:
        from triage.forensics.c2pa import MIME, read_store, summarize
    except ImportError:
        return
    mime = MIME.get(media.format or "")
    if mime is None:
        return
    try:
        if media.kind == "image":
            store = read_store(io.BytesIO(media.data), mime)
        else:
            with open(media.path, "rb") as fh:
                store = read_store(fh, mime)
    except Exception as exc:  # a store the SDK cannot read
        tags["C2PA:Present"] = True
        tags["C2PA:Error"] = _clip(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        return
    if store is None:
        tags["C2PA:Present"] = False
        return
    tags["C2PA:Present"] = True
    tags["C2PA:ValidationState"] = store.state
    tags["C2PA:Manifests"] = len(store.manifests)
    tags["C2PA:ActiveManifest"] = store.active
    if store.failures:
        tags["C2PA:ValidationFailures"] = list(store.failures)
    summary = summarize(store.active_manifest) if store.active_manifest else {}
    for key, value in summary.items():
        if value in (None, "", [], {}):
            continue
        name = "".join(part.capitalize() for part in str(key).split("_"))
        tags[f"C2PA:{name}"] = _clip(value) if isinstance(value, str) else value
