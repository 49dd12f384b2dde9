"""A video carried inside a still image's file, after the picture: a motion photo.

Google's phones (Motion Photo, formerly MicroVideo) and Samsung's (Motion photo) write
a JPEG whose picture is followed by an MP4 of the moments around the shot; a viewer
that knows nothing of it shows the still alone. The MP4 is an ISO base media file
(ISO/IEC 14496-12): it starts with an ``ftyp`` box, and its ``mvhd`` box holds the
duration. Found from the bytes alone; nothing is decoded.
"""

from __future__ import annotations

from dataclasses import dataclass

# A brand is four printable ASCII bytes (``isom``, ``mp42``, ``qt  ``...).
_PRINTABLE = frozenset(range(0x20, 0x7F))
# A ftyp box holds its brand, a version and a few compatible brands.
_FTYP_SIZES = range(16, 257)


@dataclass(frozen=True)
class EmbeddedVideo:
    offset: int  # byte offset of the MP4 in the file
    size: int  # bytes from there to the end of the file
    brand: str  # the ftyp box's major brand
    duration: float | None  # seconds, from the mvhd box; None if unreadable


def embedded_video(data: bytes, picture_end: int) -> EmbeddedVideo | None:
    """The MP4 that follows the picture in ``data``, if there is one.

    Parameters
    ----------
    data : bytes
        The whole file.
    picture_end : int
        Where the picture's own bytes end (a JPEG's EOI marker; a phone's MPF images,
        such as a gain map, may follow and are skipped over).

    Returns
    -------
    EmbeddedVideo or None
        The first well-formed ``ftyp`` box after ``picture_end`` and the duration its
        movie header declares; None when the bytes after the picture hold none
        (padding, a maker's preview, nothing).
    """
    at = data.find(b"ftyp", picture_end + 4)
    while at != -1:
        start = at - 4
        box = int.from_bytes(data[start:at], "big")
        brand = data[at + 4 : at + 8]
        if box in _FTYP_SIZES and len(brand) == 4 and all(b in _PRINTABLE for b in brand):
            return EmbeddedVideo(
                offset=start,
                size=len(data) - start,
                brand=brand.decode("ascii").strip(),
                duration=_movie_duration(data, start + box),
            )
        at = data.find(b"ftyp", at + 4)
    return None


def _movie_duration(data: bytes, after: int, window: int = 1 << 20) -> float | None:
    """Seconds the first ``mvhd`` box within ``window`` bytes of ``after`` declares
    (version 0: 32-bit fields, version 1: 64-bit), None if there is none or it is
    malformed (ISO/IEC 14496-12, 8.2.2)."""
    at = data.find(b"mvhd", after, after + window)
    if at == -1:
        return None
    body = data[at + 4 : at + 4 + 32]
    if len(body) < 24:
        return None
    if body[0] == 1:
        if len(body) < 32:
            return None
        scale = int.from_bytes(body[20:24], "big")
        length = int.from_bytes(body[24:32], "big")
    else:
        scale = int.from_bytes(body[12:16], "big")
        length = int.from_bytes(body[16:20], "big")
    if scale == 0 or length in (0, 0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF):
        return None
    return length / scale
