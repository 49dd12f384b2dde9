"""Whether a file ends before its own structure says it should (a cut-short copy)."""

from __future__ import annotations

import struct

__all__ = ["ends_early"]


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
