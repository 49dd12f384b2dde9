"""Whether a file ends before its own structure says it should (a cut-short copy)."""

from __future__ import annotations

import struct
from typing import BinaryIO

__all__ = ["ends_early", "video_ends_early"]

# Top-level boxes walked before giving up: a hostile file cannot make the walk unbounded.
MAX_BOXES = 10_000


def ends_early(data: bytes, fmt: str | None) -> str | None:
    """Say how a file is cut short, from its container alone (nothing is decoded).

    A download or a copy that stops part-way leaves a file whose header is whole and
    whose image data is not. Decoders then fail with messages such as "image file is
    truncated (24 bytes not processed)" or "could not create decoder object", which do
    not say that the file is incomplete, nor that a complete copy would do.

    Parameters
    ----------
    data : bytes
        The file's bytes.
    fmt : str or None
        The format sniffed from the first bytes ("jpeg", "png", "webp", "bmp", "gif").

    Returns
    -------
    str or None
        A clause saying where the file stops short (e.g. "its RIFF header declares
        120,400 bytes and the file holds 60,200"), or None when the format's own
        structure is complete, or not read here.

    References
    ----------
    ITU-T T.81 (JPEG), Annex B (EOI marker); W3C PNG Specification, 3rd ed., 5.6 (IEND);
    Google, "WebP Container Specification" (RIFF size); Microsoft BITMAPFILEHEADER
    (bfSize); GIF89a, 27 (Trailer).
    """
    if fmt == "jpeg":
        from triage.forensics.jpeg import JpegError, parse_jpeg

        try:
            info = parse_jpeg(data)
        except JpegError:
            return None
        if info.scans and not info.eoi:
            return "it stops inside its compressed image data, before the end-of-image marker"
        return None
    if fmt == "png":
        from triage.forensics.png import read_png_text

        walked = read_png_text(data)
        return None if walked.iend or walked.cut is None else _png_clause(walked.cut)
    if fmt == "webp" and len(data) >= 12 and data[:4] == b"RIFF":
        declared = struct.unpack_from("<I", data, 4)[0] + 8
        return _declared(declared, len(data), "RIFF header")
    if fmt == "bmp" and len(data) >= 6 and data[:2] == b"BM":
        declared = struct.unpack_from("<I", data, 2)[0]
        return _declared(declared, len(data), "header")
    if fmt == "gif" and len(data) > 13 and not data.rstrip(b"\0").endswith(b"\x3b"):
        return "it stops before the GIF trailer"
    return None


def _declared(declared: int, held: int, where: str) -> str | None:
    if declared <= held:
        return None
    return f"its {where} declares {declared:,} bytes and the file holds {held:,}"


def _png_clause(cut: str) -> str:
    # read_png_text says "the file ends at byte N ..., anything after it is lost".
    return "it " + cut.removeprefix("the file ").split("; ")[0]


def video_ends_early(fh: BinaryIO, size: int, fmt: str | None) -> str | None:
    """Say how a video file is cut short, from its container's top-level sizes.

    Only box and chunk headers are read (a few bytes at each top-level offset), so a
    multi-gigabyte file costs a handful of seeks.

    Parameters
    ----------
    fh : binary file
        The file, open for reading; its position is left anywhere.
    size : int
        The file's length in bytes.
    fmt : str or None
        The sniffed container ("mp4", "mov", "avi"; others are not read here).

    Returns
    -------
    str or None
        A clause saying which top-level box (or the RIFF header) declares more bytes
        than the file holds, or None when every declared size fits.

    References
    ----------
    ISO/IEC 14496-12 (ISO base media file format), 4.2 (box size, largesize, size 0);
    Microsoft AVI RIFF File Reference (RIFF size).
    """
    if fmt == "avi":
        fh.seek(0)
        head = fh.read(8)
        if len(head) == 8 and head[:4] == b"RIFF":
            return _declared(struct.unpack_from("<I", head, 4)[0] + 8, size, "RIFF header")
        return None
    if fmt not in ("mp4", "mov"):
        return None
    offset = 0
    for _ in range(MAX_BOXES):
        if offset + 8 > size:
            return None
        fh.seek(offset)
        head = fh.read(16)
        length, kind = struct.unpack_from(">I4s", head)
        if length == 0:  # the last box runs to the end of the file
            return None
        if length == 1 and len(head) == 16:
            length = struct.unpack_from(">Q", head, 8)[0]
        if length < 8:
            return None  # not a box header: a damaged file, not a short one
        if offset + length > size:
            name = kind.decode("latin-1") if kind.isascii() and kind.isalnum() else "last"
            return (
                f"its {name} box declares {length:,} bytes from byte {offset:,} "
                f"and the file ends {offset + length - size:,} bytes short of it"
            )
        offset += length
    return None
