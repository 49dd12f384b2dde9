"""JPEG structure from the bytes: a small, defensive marker parser, quantization
table quality estimation and an encoder fingerprint.

Pure functions over ``bytes``; no decoding of pixels. The parser walks the marker
segments of ITU-T T.81 (Annex B) and never trusts a length field: truncated,
junk-filled or hostile input yields a :class:`JpegInfo` with ``warnings``; the only
exception it raises is :class:`JpegError`, when the bytes do not start with SOI.

Quality estimation inverts the libjpeg (IJG) quality scaling of the T.81 Annex K
example tables (``jpeg_quality_scaling`` in IJG libjpeg's jcparam.c): for
``q < 50`` scale = 5000 / q, otherwise 200 - 2q; each entry is
``clamp((base * scale + 50) // 100, 1, 255)``.

References
----------
ITU-T T.81 | ISO/IEC 10918-1 (1992), Annex B (syntax) and Annex K (example tables).
Kornblum, J. D. (2008). Using JPEG quantization tables to identify imagery
processed by software. Digital Investigation 5, S21-S25.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

__all__ = [
    "ANNEX_K_CHROMA",
    "ANNEX_K_LUMA",
    "ZIGZAG",
    "JpegError",
    "JpegInfo",
    "fingerprint",
    "libjpeg_table",
    "min_entropy_bytes",
    "parse_jpeg",
    "quality_estimate",
    "tables_hash",
]


class JpegError(ValueError):
    """The bytes are not a JPEG stream at all (no SOI marker at offset 0)."""


def _zigzag() -> tuple[int, ...]:
    """Zig-zag scan index -> natural (row * 8 + column) index."""
    order: list[int] = []
    for s in range(15):
        cells = [(r, s - r) for r in range(8) if 0 <= s - r < 8]
        if s % 2 == 0:
            cells.reverse()  # even diagonals run bottom-left to top-right
        order.extend(r * 8 + c for r, c in cells)
    return tuple(order)


ZIGZAG: tuple[int, ...] = _zigzag()

# T.81 Annex K.1, natural (row-major) order.
ANNEX_K_LUMA: tuple[int, ...] = (
    16, 11, 10, 16, 24, 40, 51, 61,
    12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77,
    24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101,
    72, 92, 95, 98, 112, 100, 103, 99,
)  # fmt: skip
ANNEX_K_CHROMA: tuple[int, ...] = (
    17, 18, 24, 47, 99, 99, 99, 99,
    18, 21, 26, 66, 99, 99, 99, 99,
    24, 26, 56, 99, 99, 99, 99, 99,
    47, 66, 99, 99, 99, 99, 99, 99,
) + (99,) * 32  # fmt: skip

# T.81 Annex K.3: code-length counts (BITS) of the example Huffman tables.
_STD_HUFFMAN_BITS: dict[tuple[int, int], tuple[int, ...]] = {
    (0, 0): (0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0),
    (0, 1): (0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0),
    (1, 0): (0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7D),
    (1, 1): (0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77),
}

_SOF_NAMES = {
    0xC0: "baseline",
    0xC1: "extended-sequential",
    0xC2: "progressive",
    0xC3: "lossless",
    0xC5: "differential-sequential",
    0xC6: "differential-progressive",
    0xC7: "differential-lossless",
    0xC9: "arithmetic-sequential",
    0xCA: "arithmetic-progressive",
    0xCB: "arithmetic-lossless",
    0xCD: "arithmetic-differential-sequential",
    0xCE: "arithmetic-differential-progressive",
    0xCF: "arithmetic-differential-lossless",
}
_APP_KINDS = (
    (b"JFIF\x00", "JFIF"),
    (b"JFXX\x00", "JFXX"),
    (b"Exif\x00", "EXIF"),
    (b"http://ns.adobe.com/xap/1.0/", "XMP"),
    (b"http://ns.adobe.com/xmp/extension/", "XMP-extended"),
    (b"ICC_PROFILE\x00", "ICC"),
    (b"Photoshop 3.0\x00", "Photoshop-IRB"),
    (b"Adobe", "Adobe"),
    (b"MPF\x00", "MPF"),
    (b"Ducky", "Ducky"),
    (b"JP", "JUMBF"),  # APP11 C2PA / JUMBF boxes start with "JP"
)
# Next marker inside entropy-coded data: 0xFF followed by anything but stuffing
# (0x00), a restart marker (RST0-7) or another fill byte.
_NEXT_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
_MAX_WARNINGS = 20


@dataclass
class Segment:
    marker: int  # 0xC0..0xFE
    offset: int  # of the 0xFF byte
    length: int  # payload length (without the two length bytes); 0 for standalone markers


@dataclass
class Frame:
    marker: int
    precision: int
    width: int
    height: int
    components: list[tuple[int, int, int, int]]  # (id, h, v, quant table)

    @property
    def kind(self) -> str:
        return _SOF_NAMES.get(self.marker, f"SOF{self.marker - 0xC0}")

    @property
    def subsampling(self) -> str:
        if len(self.components) == 1:
            return "grayscale"
        if len(self.components) < 3:
            return f"{len(self.components)}-components"
        (_, h0, v0, _), (_, h1, v1, _), (_, h2, v2, _) = self.components[:3]
        if (h1, v1) != (h2, v2) or h1 == 0 or v1 == 0:
            return "unusual"
        ratio = (h0 // max(h1, 1), v0 // max(v1, 1))
        names = {
            (1, 1): "4:4:4",
            (2, 1): "4:2:2",
            (2, 2): "4:2:0",
            (1, 2): "4:4:0",
            (4, 1): "4:1:1",
        }
        return names.get(ratio, f"{h0}x{v0}/{h1}x{v1}")


@dataclass
class JpegInfo:
    """Everything the parser read; fields stay empty where the stream had nothing."""

    segments: list[Segment] = field(default_factory=list)
    frame: Frame | None = None
    qtables: dict[int, tuple[int, ...]] = field(default_factory=dict)  # natural order
    qprecision: dict[int, int] = field(default_factory=dict)  # 8 or 16 bits
    huffman: list[tuple[int, int, tuple[int, ...]]] = field(default_factory=list)  # class, id, bits
    restart_interval: int = 0
    apps: list[tuple[int, str]] = field(default_factory=list)  # (n, kind) in file order
    comments: list[bytes] = field(default_factory=list)
    scans: int = 0
    entropy_bytes: int = 0  # entropy-coded data after every SOS, markers excluded
    eoi: bool = False
    truncated: bool = False
    junk_bytes: int = 0
    trailing_bytes: int = 0
    warnings: list[str] = field(default_factory=list)

    def warn(self, text: str) -> None:
        if len(self.warnings) < _MAX_WARNINGS:
            self.warnings.append(text)

    @property
    def marker_order(self) -> list[str]:
        return [_marker_name(s.marker) for s in self.segments]

    @property
    def huffman_kind(self) -> str:
        """ "standard" (T.81 Annex K tables), "optimized", "mixed" or "none"."""
        if not self.huffman:
            return "none"
        std = [_STD_HUFFMAN_BITS.get((tc, th)) == bits for tc, th, bits in self.huffman]
        if all(std):
            return "standard"
        return "optimized" if not any(std) else "mixed"

    def luma_table(self) -> tuple[int, ...] | None:
        """The quantization table of the first component (normally luma)."""
        if self.frame and self.frame.components:
            tq = self.frame.components[0][3]
            if tq in self.qtables:
                return self.qtables[tq]
        return self.qtables.get(0)

    def chroma_table(self) -> tuple[int, ...] | None:
        if self.frame and len(self.frame.components) >= 2:
            return self.qtables.get(self.frame.components[1][3])
        return None


def _marker_name(m: int) -> str:
    if m == 0xD8:
        return "SOI"
    if m == 0xD9:
        return "EOI"
    if m == 0xDA:
        return "SOS"
    if m == 0xDB:
        return "DQT"
    if m == 0xC4:
        return "DHT"
    if m == 0xDD:
        return "DRI"
    if m == 0xFE:
        return "COM"
    if 0xE0 <= m <= 0xEF:
        return f"APP{m - 0xE0}"
    if m in _SOF_NAMES:
        return f"SOF{m - 0xC0}"
    return f"0x{m:02X}"


def parse_jpeg(data: bytes, max_segments: int = 5000) -> JpegInfo:
    """Parse the marker structure of a JPEG stream.

    Robust to junk between segments, bogus lengths and truncation: problems are
    recorded in ``warnings`` (and ``truncated`` / ``junk_bytes``), never raised.
    Entropy-coded data is skipped with a regular-expression scan, so a 12 MP file
    takes a few milliseconds.

    Parameters
    ----------
    data : bytes
        The whole file.
    max_segments : int
        Segments read at most (a hostile file cannot make the parse unbounded).

    Returns
    -------
    JpegInfo
        Frame header, quantization and Huffman tables, APP segments, comments, scans,
        marker order, restart interval, EOI and trailing bytes, and the warnings.

    Raises
    ------
    JpegError
        When ``data`` does not start with the SOI marker (FF D8).

    References
    ----------
    ITU-T T.81 | ISO/IEC 10918-1 (1992), Annex B (compressed data formats).
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise JpegError("JPEG data must be bytes")
    buf = bytes(data)
    if len(buf) < 2 or buf[0] != 0xFF or buf[1] != 0xD8:
        raise JpegError("not a JPEG stream (no SOI marker at the start)")
    info = JpegInfo()
    info.segments.append(Segment(0xD8, 0, 0))
    n = len(buf)
    pos = 2
    while pos < n and len(info.segments) < max_segments:
        if buf[pos] != 0xFF:
            nxt = buf.find(b"\xff", pos)
            skipped = (nxt if nxt >= 0 else n) - pos
            info.junk_bytes += skipped
            info.warn(f"{skipped} junk bytes before a marker at offset {pos}")
            if nxt < 0:
                break
            pos = nxt
        while pos < n and buf[pos] == 0xFF:  # fill bytes
            pos += 1
        if pos >= n:
            info.truncated = True
            break
        marker = buf[pos]
        start = pos - 1
        pos += 1
        if marker == 0x00 or 0xD0 <= marker <= 0xD7 or marker == 0x01:
            if marker == 0x00:
                info.junk_bytes += 2
            continue  # stray stuffing / restart / TEM outside a scan: no length
        if marker == 0xD8:
            info.warn(f"second SOI at offset {start}")
            info.segments.append(Segment(marker, start, 0))
            continue
        if marker == 0xD9:
            info.segments.append(Segment(marker, start, 0))
            info.eoi = True
            info.trailing_bytes = n - pos
            break
        if pos + 2 > n:
            info.truncated = True
            info.warn(f"truncated inside the length of marker {_marker_name(marker)}")
            break
        length = (buf[pos] << 8) | buf[pos + 1]
        if length < 2:
            info.warn(f"marker {_marker_name(marker)} at {start} declares length {length}")
            pos += 2
            continue
        payload_end = pos + length
        if payload_end > n:
            info.truncated = True
            info.warn(f"segment {_marker_name(marker)} at {start} runs past the end of the file")
            payload_end = n
        payload = buf[pos + 2 : payload_end]
        info.segments.append(Segment(marker, start, len(payload)))
        _read_segment(info, marker, payload)
        pos = payload_end
        if marker == 0xDA:
            info.scans += 1
            m = _NEXT_MARKER.search(buf, pos)
            info.entropy_bytes += (m.start() if m is not None else n) - pos
            if m is None:
                info.truncated = True
                info.warn("entropy-coded data runs to the end of the file (no EOI)")
                pos = n
                break
            pos = m.start()
    else:
        if pos >= n and not info.eoi:
            info.truncated = True
    if len(info.segments) >= max_segments:
        info.warn(f"stopped after {max_segments} segments")
    if not info.eoi and not info.truncated:
        info.truncated = True
    return info


def min_entropy_bytes(frame: Frame) -> int | None:
    """The fewest entropy-coded bytes a Huffman-coded frame of this size can have.

    Every 8x8 block of a Huffman-coded DCT frame carries at least its DC difference,
    and no Huffman code is shorter than one bit (T.81 Annex C), so the scans together
    hold at least one bit per block of the first component, whatever the content or
    the progression. Lossless Huffman frames (SOF3) code every sample with at least
    one bit. Arithmetic-coded frames have no such floor (None).

    Parameters
    ----------
    frame : Frame
        The parsed SOF segment.

    Returns
    -------
    int or None
        A lower bound in bytes, or None when the coding has no useful bound.

    References
    ----------
    ITU-T T.81 (1992), Annex C (Huffman table specification) and F.1.2 (baseline
    Huffman encoding of DC and AC coefficients).
    """
    if frame.marker not in (0xC0, 0xC1, 0xC2, 0xC3) or not frame.components:
        return None
    if frame.width <= 0 or frame.height <= 0:
        return None
    if frame.marker == 0xC3:
        return frame.width * frame.height // 8
    hmax = max(max(c[1] for c in frame.components), 1)
    vmax = max(max(c[2] for c in frame.components), 1)
    _, h0, v0, _ = frame.components[0]
    cols = -(-frame.width * max(h0, 1) // (8 * hmax))
    rows = -(-frame.height * max(v0, 1) // (8 * vmax))
    return cols * rows // 8


def _read_segment(info: JpegInfo, marker: int, p: bytes) -> None:
    if marker == 0xDB:
        _read_dqt(info, p)
    elif marker == 0xC4:
        _read_dht(info, p)
    elif marker in _SOF_NAMES:
        if info.frame is not None:
            info.warn("more than one SOF segment")
            return
        if len(p) < 6:
            info.warn("SOF segment too short")
            return
        count = p[5]
        comps = []
        for i in range(count):
            o = 6 + 3 * i
            if o + 3 > len(p):
                info.warn("SOF segment lists more components than it holds")
                break
            comps.append((p[o], p[o + 1] >> 4, p[o + 1] & 15, p[o + 2]))
        info.frame = Frame(marker, p[0], (p[3] << 8) | p[4], (p[1] << 8) | p[2], comps)
    elif marker == 0xDD:
        if len(p) >= 2:
            info.restart_interval = (p[0] << 8) | p[1]
    elif 0xE0 <= marker <= 0xEF:
        kind = next((name for sig, name in _APP_KINDS if p.startswith(sig)), "")
        if not kind:
            ident = p[:24].split(b"\x00", 1)[0]
            kind = ident.decode("ascii", "replace") if ident.isascii() and ident else "unknown"
            kind = "".join(ch for ch in kind if ch.isprintable())[:24] or "unknown"
        info.apps.append((marker - 0xE0, kind))
    elif marker == 0xFE and len(info.comments) < 16:
        info.comments.append(p[:512])


def _read_dqt(info: JpegInfo, p: bytes) -> None:
    o = 0
    while o < len(p):
        pq, tq = p[o] >> 4, p[o] & 15
        size = 128 if pq else 64
        if pq > 1 or tq > 3:
            info.warn(f"DQT with precision {pq} / id {tq}")
        if o + 1 + size > len(p):
            info.warn("DQT table truncated")
            return
        raw = p[o + 1 : o + 1 + size]
        vals = [(raw[2 * i] << 8) | raw[2 * i + 1] for i in range(64)] if pq else list(raw)
        natural = [0] * 64
        for zz, value in enumerate(vals):
            natural[ZIGZAG[zz]] = value
        info.qtables[tq] = tuple(natural)
        info.qprecision[tq] = 16 if pq else 8
        o += 1 + size


def _read_dht(info: JpegInfo, p: bytes) -> None:
    o = 0
    while o + 17 <= len(p):
        tc, th = p[o] >> 4, p[o] & 15
        bits = tuple(p[o + 1 : o + 17])
        total = sum(bits)
        if o + 17 + total > len(p):
            info.warn("DHT table truncated")
            return
        if len(info.huffman) < 32:
            info.huffman.append((tc, th, bits))
        o += 17 + total


# ----------------------------------------------------------------- quality


@cache
def libjpeg_table(quality: int, chroma: bool = False, baseline: bool = True) -> tuple[int, ...]:
    """The IJG libjpeg quantization table for ``quality``, natural order.

    Parameters
    ----------
    quality : int
        1..100 (clamped).
    chroma : bool
        The chrominance table instead of the luminance one.
    baseline : bool
        Clamp entries to 255 (baseline JPEG) instead of 32767.

    Returns
    -------
    tuple of int
        64 steps: the Annex K example table scaled as libjpeg's
        ``jpeg_quality_scaling`` does.

    References
    ----------
    ITU-T T.81, Annex K (example tables); IJG libjpeg ``jcparam.c``.
    """
    q = min(max(int(quality), 1), 100)
    scale = 5000 // q if q < 50 else 200 - 2 * q
    top = 255 if baseline else 32767
    base = ANNEX_K_CHROMA if chroma else ANNEX_K_LUMA
    return tuple(min(max((b * scale + 50) // 100, 1), top) for b in base)


def quality_estimate(table: tuple[int, ...] | list[int], chroma: bool = False) -> dict[str, Any]:
    """Estimate the IJG quality of one quantization table (natural order).

    Parameters
    ----------
    table : sequence of int
        64 steps.
    chroma : bool
        Compare with the chrominance example table.

    Returns
    -------
    dict
        ``quality`` (int), ``standard`` (bool): true when the table is exactly a
        libjpeg-scaled Annex K table (then ``quality`` is exact); otherwise ``quality``
        comes from the mean scale of the table against the Annex K base (as ImageMagick
        and Kornblum do), and ``error`` is the mean absolute difference to that
        quality's libjpeg table.

    References
    ----------
    J. D. Kornblum, "Using JPEG quantization tables to identify imagery processed by
    software", Digital Investigation 5, S21-S25, 2008.
    """
    t = tuple(int(v) for v in table)
    if len(t) != 64:
        raise ValueError("a quantization table has 64 entries")
    for baseline in (True, False):
        for q in range(1, 101):
            if libjpeg_table(q, chroma, baseline) == t:
                return {"quality": q, "standard": True, "error": 0.0}
    base = ANNEX_K_CHROMA if chroma else ANNEX_K_LUMA
    scale = 100.0 * sum(t) / sum(base)
    if scale <= 0:
        q = 100
    elif scale <= 100:
        q = round((200.0 - scale) / 2.0)
    else:
        q = round(5000.0 / scale)
    q = min(max(q, 1), 100)
    ref = libjpeg_table(q, chroma, False)
    err = sum(abs(a - b) for a, b in zip(t, ref, strict=True)) / 64.0
    return {"quality": q, "standard": False, "error": round(err, 3)}


def tables_hash(qtables: dict[int, tuple[int, ...]]) -> str:
    """A short stable hash of the quantization tables.

    Parameters
    ----------
    qtables : dict of int to tuple of int
        Table id -> 64 steps in natural order.

    Returns
    -------
    str
        16 hex digits of SHA-1 over the ids and steps, in id order.
    """
    h = hashlib.sha1(usedforsecurity=False)
    for tid in sorted(qtables):
        h.update(bytes([tid]))
        h.update(",".join(map(str, qtables[tid])).encode())
    return h.hexdigest()[:16]


def fingerprint(info: JpegInfo) -> dict[str, Any]:
    """A JSON-ready summary of the encoder-specific choices in a JPEG stream.

    Parameters
    ----------
    info : JpegInfo
        The parsed stream (:func:`parse_jpeg`).

    Returns
    -------
    dict
        SOF type, precision, components, subsampling, Huffman tables (standard,
        optimized or mixed), restart interval, APP segments, comments, scans, each
        quantization table's quality estimate, the tables' hash, the marker order, EOI
        and trailing bytes.

    References
    ----------
    J. D. Kornblum, Digital Investigation 5, 2008 (quantization tables as encoder
    signatures).
    """
    quant = []
    for tid in sorted(info.qtables):
        if info.frame and info.frame.components:
            chroma = tid != info.frame.components[0][3]
        else:
            chroma = tid > 0
        est = quality_estimate(info.qtables[tid], chroma=chroma)
        quant.append({"id": tid, "bits": info.qprecision.get(tid, 8), **est})
    fr = info.frame
    return {
        "sof": fr.kind if fr else None,
        "precision": fr.precision if fr else None,
        "components": len(fr.components) if fr else 0,
        "subsampling": fr.subsampling if fr else None,
        "huffman": info.huffman_kind,
        "restart_interval": info.restart_interval,
        "app_segments": [f"APP{n}:{kind}" for n, kind in info.apps],
        "comments": [c.decode("latin-1")[:80] for c in info.comments[:4]],
        "scans": info.scans,
        "quant_tables": quant,
        "quant_hash": tables_hash(info.qtables) if info.qtables else None,
        "marker_order": _compact_order(info.marker_order),
        "eoi": info.eoi,
        "trailing_bytes": info.trailing_bytes,
    }


def _compact_order(names: list[str]) -> str:
    """Marker order with runs collapsed: SOI APP0 DQT*2 SOF0 DHT*4 SOS EOI."""
    runs: list[list[Any]] = []
    for name in names:
        if runs and runs[-1][0] == name:
            runs[-1][1] += 1
        else:
            runs.append([name, 1])
    return " ".join(f"{n}*{c}" if c > 1 else n for n, c in runs[:60])
