"""WebP container facts read from the bytes (RIFF chunks), without decoding."""

from __future__ import annotations

import struct

__all__ = ["webp_is_lossy"]

# Chunks read before giving up: a WebP holds a handful at top level.
MAX_CHUNKS = 64
# An ANMF frame's own header (position, size, duration, flags) before its chunks.
FRAME_HEADER = 16


def webp_is_lossy(data: bytes) -> bool:
    """Whether a WebP file's image data is lossy (VP8), not lossless (VP8L).

    A lossy WebP is coded as VP8 key frames: 4x4 integer transforms in 16x16
    macroblocks, a block grid as a JPEG's 8x8 one is. The image chunk is found at
    the top level of the RIFF container, after a ``VP8X`` header, an ``ALPH`` plane
    and metadata chunks if any, or inside the first ``ANMF`` frame of an animation.

    Parameters
    ----------
    data : bytes
        The file's bytes.

    Returns
    -------
    bool
        True when the first image chunk is ``VP8 `` (lossy); False for ``VP8L``
        (lossless), for a damaged container and for bytes that are not WebP.

    References
    ----------
    Google, "WebP Container Specification" (RIFF chunks VP8, VP8L, VP8X, ALPH, ANMF);
    J. Bankoski et al., "VP8 Data Format and Decoding Guide", RFC 6386, 2011.
    """
    if len(data) < 20 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        return False
    offset, end = 12, len(data)
    for _ in range(MAX_CHUNKS):
        if offset + 8 > end:
            return False
        fourcc = data[offset : offset + 4]
        (size,) = struct.unpack_from("<I", data, offset + 4)
        if fourcc == b"VP8 ":
            return True
        if fourcc == b"VP8L":
            return False
        if fourcc == b"ANMF":  # read the first frame's own chunks
            offset, end = offset + 8 + FRAME_HEADER, min(end, offset + 8 + size)
            continue
        offset += 8 + size + (size & 1)
    return False
