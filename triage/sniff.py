"""Identify a file's format from its first bytes, not from its name."""

from __future__ import annotations

from dataclasses import dataclass

IMAGE_FORMATS = frozenset({"jpeg", "png", "gif", "webp", "tiff", "bmp", "heif", "avif"})
VIDEO_FORMATS = frozenset({"mp4", "mov", "webm", "mkv", "avi"})

# Extensions that each sniffed format is normally saved with; used for the
# extension-mismatch finding.
EXTENSIONS: dict[str, frozenset[str]] = {
    "jpeg": frozenset({".jpg", ".jpeg", ".jpe", ".jfif"}),
    "png": frozenset({".png"}),
    "gif": frozenset({".gif"}),
    "webp": frozenset({".webp"}),
    "tiff": frozenset({".tif", ".tiff", ".dng"}),
    "bmp": frozenset({".bmp", ".dib"}),
    "heif": frozenset({".heic", ".heif", ".hif"}),
    "avif": frozenset({".avif"}),
    "mp4": frozenset({".mp4", ".m4v", ".3gp", ".3g2"}),
    "mov": frozenset({".mov", ".qt", ".mp4"}),
    "webm": frozenset({".webm", ".mkv"}),
    "mkv": frozenset({".mkv", ".mka", ".webm"}),
    "avi": frozenset({".avi"}),
}

_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
_AVIF_BRANDS = {b"avif", b"avis"}
_QT_ATOMS = {b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}
# A Canon CR3 raw file is an ISO box file like MP4 (``ftyp`` brand ``crx ``), not a video.
_CR3_BRAND = b"crx "


@dataclass(frozen=True)
class Sniffed:
    format: str  # one of IMAGE_FORMATS | VIDEO_FORMATS, or "unknown"
    kind: str  # "image", "video" or "unknown"


def sniff(head: bytes) -> Sniffed:
    """Classify a file by its first bytes (64 are enough; more is fine)."""
    fmt = _sniff_format(head)
    if fmt in IMAGE_FORMATS:
        return Sniffed(fmt, "image")
    if fmt in VIDEO_FORMATS:
        return Sniffed(fmt, "video")
    return Sniffed("unknown", "unknown")


def _sniff_format(head: bytes) -> str:
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "avi"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if head[:2] == b"BM" and len(head) >= 18:
        return "bmp"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "webm" if b"webm" in head[:64] else "mkv"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand == _CR3_BRAND:
            return "unknown"
        if brand in _HEIF_BRANDS:
            return "heif"
        if brand in _AVIF_BRANDS:
            return "avif"
        if brand == b"qt  ":
            return "mov"
        return "mp4"
    if head[4:8] in _QT_ATOMS:
        return "mov"
    return "unknown"


# Formats met in a desk's downloads that triage does not analyze, by their first bytes:
# named in the error, so that "not supported" does not read as "damaged".
_UNSUPPORTED: tuple[tuple[int, bytes, str], ...] = (
    (4, b"jP  ", "a JPEG 2000 image"),
    (0, b"\xff\x4f\xff\x51", "a JPEG 2000 codestream"),
    (4, b"JXL ", "a JPEG XL image"),
    (0, b"\xff\x0a", "a JPEG XL image"),
    (8, _CR3_BRAND, "a Canon CR3 raw file"),
    (0, b"FUJIFILMCCD-RAW", "a Fujifilm RAF raw file"),
    (0, b"8BPS", "a Photoshop document (PSD)"),
    (0, b"%PDF-", "a PDF document"),
    (0, b"PK\x03\x04", "a ZIP archive (or an office document)"),
    (0, b"\x00\x00\x01\x00", "a Windows icon (ICO)"),
    (0, b"<svg", "an SVG drawing"),
    (0, b"<?xml", "an XML file (an SVG drawing?)"),
    (0, b"FLV\x01", "a Flash video (FLV)"),
    (0, b"\x00\x00\x01\xba", "an MPEG program stream"),
    (0, b"0&\xb2u\x8ef\xcf\x11", "a Windows Media file (ASF/WMV)"),
)


def unsupported_format(head: bytes) -> str | None:
    """Name a format triage does not analyze from its first bytes, e.g. "a Photoshop
    document (PSD)", or None when the bytes are not one of those either."""
    for offset, magic, name in _UNSUPPORTED:
        if head[offset : offset + len(magic)] == magic:
            return name
    if len(head) > 2 and head[:1] == b"P" and head[1:2] in b"1234567" and head[2:3].isspace():
        return "a Netpbm image (PBM/PGM/PPM)"
    return None


def not_supported_reason(head: bytes) -> str:
    """The one-line reason a file that :func:`sniff` did not recognize is not analyzed."""
    name = unsupported_format(head)
    if name is None:
        return "not a supported image or video (its first bytes match no known format)"
    return (
        f"not a supported image or video: its first bytes are those of {name}; triage "
        "analyzes JPEG, PNG, GIF, WebP, TIFF, BMP, HEIF/AVIF and common video files"
    )
