"""PNG chunk walking that survives truncation: the text chunks that are there, and
where the file is cut.

Pillow's ``PngImageFile.text`` decodes the whole image to reach chunks after IDAT,
so on a truncated file it raises instead of returning the text it already has.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

__all__ = ["PNG_SIGNATURE", "PngText", "read_png_text"]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_MAX_INFLATE = 8 * 1024 * 1024  # a compressed text chunk inflates to at most 8 MiB
_MAX_CHUNKS = 100_000


@dataclass
class PngText:
    """Text chunks in file order of first appearance, and how the chunk list ended."""

    text: dict[str, str] = field(default_factory=dict)
    chunks: int = 0
    iend: bool = False
    cut: str | None = None  # one line: where the file stops, when it stops early


def read_png_text(data: bytes) -> PngText:
    """Keyword -> text of every tEXt, zTXt and iTXt chunk, before and after IDAT.

    Parameters
    ----------
    data : bytes
        The whole file.

    Returns
    -------
    PngText
        The text read (a damaged chunk is skipped), the number of chunks walked, and
        ``cut``: a readable statement of where a truncated file ends (None when the
        chunk list reaches IEND).

    References
    ----------
    W3C, Portable Network Graphics (PNG) Specification (Third Edition), 2025:
    sections 5.3 (chunk layout) and 11.3.3 (tEXt, zTXt, iTXt).
    """
    out = PngText()
    if not data.startswith(PNG_SIGNATURE):
        out.cut = "no PNG signature"
        return out
    pos, end = len(PNG_SIGNATURE), len(data)
    last = None
    while out.chunks < _MAX_CHUNKS:
        if pos + 8 > end:
            where = f"after chunk {last}" if last else "before the first chunk"
            out.cut = f"the file ends at byte {end:,}, {where}, with no IEND chunk"
            break
        length, ctype = struct.unpack(">I4s", data[pos : pos + 8])
        name = ctype.decode("latin-1")
        if pos + 12 + length > end:
            have = max(0, end - pos - 8)
            out.cut = (
                f"the file ends at byte {end:,} inside chunk {_printable(name)} "
                f"({min(have, length):,} of its {length:,} bytes present); "
                "anything after it is lost"
            )
            body = data[pos + 8 : end]
            _read_text(out.text, ctype, body, complete=False)
            out.chunks += 1
            break
        _read_text(out.text, ctype, data[pos + 8 : pos + 8 + length], complete=True)
        out.chunks += 1
        pos += 12 + length
        last = _printable(name)
        if ctype == b"IEND":
            out.iend = True
            break
    return out


def _read_text(text: dict[str, str], ctype: bytes, body: bytes, complete: bool) -> None:
    try:
        if ctype == b"tEXt":
            key, _, value = body.partition(b"\0")
            _put(text, key.decode("latin-1"), value.decode("latin-1"))
        elif ctype == b"zTXt" and complete:
            key, _, rest = body.partition(b"\0")
            _put(text, key.decode("latin-1"), _inflate(rest[1:]).decode("latin-1"))
        elif ctype == b"iTXt" and complete:
            key, _, rest = body.partition(b"\0")
            compressed = rest[0]
            _lang, _, rest = rest[2:].partition(b"\0")
            _tkey, _, value = rest.partition(b"\0")
            raw = _inflate(value) if compressed else value
            _put(text, key.decode("latin-1"), raw.decode("utf-8", "replace"))
    except (IndexError, ValueError, zlib.error):
        return  # a damaged chunk is skipped


def _put(text: dict[str, str], key: str, value: str) -> None:
    text[key] = text[key] + "\n" + value if key in text else value


def _inflate(raw: bytes) -> bytes:
    return zlib.decompressobj().decompress(raw, _MAX_INFLATE)


def _printable(name: str) -> str:
    return name if name.isalnum() else repr(name)
