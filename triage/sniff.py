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
