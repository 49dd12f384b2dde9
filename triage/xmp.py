"""Find and read XMP packets without an XML library that resolves entities.

XMP is untrusted text from the file. We locate the ``<x:xmpmeta>`` packet in the raw
bytes (JPEG APP1, PNG iTXt, TIFF, MP4 uuid boxes all store it as plain UTF-8) and
pull properties with a small, bounded regular-expression reader: enough for the
flat properties and simple sequences forensic checks need, never an entity
expansion or a network fetch.
"""

from __future__ import annotations

import re

_MAX_PACKET = 4 * 1024 * 1024
_START = re.compile(rb"<x:xmpmeta[\s>]|<x:xapmeta[\s>]")
_END = re.compile(rb"</x:xmpmeta>|</x:xapmeta>")
# prefix:Name="value" attributes and <prefix:Name>value</prefix:Name> elements
_ATTR = re.compile(r'([A-Za-z][\w.-]*):([A-Za-z][\w.-]*)\s*=\s*"([^"]{0,4000})"')
_ELEM = re.compile(
    r"<([A-Za-z][\w.-]*):([A-Za-z][\w.-]*)(?:\s[^>]{0,2000})?>([^<]{0,4000})</\1:\2>"
)
_LI = re.compile(r"<rdf:li(?:\s[^>]{0,2000})?>([^<]{0,4000})</rdf:li>")
_CONTAINER = re.compile(
    r"<([A-Za-z][\w.-]*):([A-Za-z][\w.-]*)(?:\s[^>]{0,2000})?>\s*<rdf:(?:Seq|Bag|Alt)[^>]{0,200}>(.*?)</rdf:(?:Seq|Bag|Alt)>",
    re.S,
)
_SKIP_PREFIXES = {"xmlns", "rdf", "x", "xml"}


def find_xmp_packets(data: bytes, limit: int = 4) -> list[str]:
    """All XMP packets in ``data`` (at most ``limit``), decoded as UTF-8."""
    packets: list[str] = []
    pos = 0
    while len(packets) < limit:
        m = _START.search(data, pos)
        if not m:
            break
        end = _END.search(data, m.start(), m.start() + _MAX_PACKET)
        if not end:
            break
        packets.append(data[m.start() : end.end()].decode("utf-8", "replace"))
        pos = end.end()
    return packets


def xmp_properties(packet: str) -> dict[str, list[str]]:
    """Properties as ``{"prefix:Name": [values...]}``.

    Attributes and simple elements give one value; ``rdf:Seq/Bag/Alt`` containers
    give one value per ``rdf:li`` (structured ``li`` entries, as in
    ``xmpMM:History``, give their attribute values under ``prefix:Name/field``).
    """
    props: dict[str, list[str]] = {}

    def add(key: str, value: str) -> None:
        value = _unescape(value.strip())
        if value:
            props.setdefault(key, []).append(value)

    for container in _CONTAINER.finditer(packet):
        key = f"{container.group(1)}:{container.group(2)}"
        body = container.group(3)
        for li in _LI.finditer(body):
            add(key, li.group(1))
        # structured entries: <rdf:li stEvt:action="saved" .../> or nested elements
        for attr in _ATTR.finditer(body):
            if attr.group(1) not in _SKIP_PREFIXES:
                add(f"{key}/{attr.group(1)}:{attr.group(2)}", attr.group(3))
        for elem in _ELEM.finditer(body):
            if elem.group(1) not in _SKIP_PREFIXES:
                add(f"{key}/{elem.group(1)}:{elem.group(2)}", elem.group(3))
    stripped = _CONTAINER.sub("", packet)
    for attr in _ATTR.finditer(stripped):
        if attr.group(1) not in _SKIP_PREFIXES:
            add(f"{attr.group(1)}:{attr.group(2)}", attr.group(3))
    for elem in _ELEM.finditer(stripped):
        if elem.group(1) not in _SKIP_PREFIXES:
            add(f"{elem.group(1)}:{elem.group(2)}", elem.group(3))
    return props


def namespaces(packet: str) -> dict[str, str]:
    """Declared namespace prefixes -> URIs."""
    return dict(re.findall(r'xmlns:([\w.-]+)\s*=\s*"([^"]{0,500})"', packet))


def read_xmp(data: bytes) -> dict[str, list[str]]:
    """Merged properties of every XMP packet in ``data``."""
    merged: dict[str, list[str]] = {}
    for packet in find_xmp_packets(data):
        for key, values in xmp_properties(packet).items():
            merged.setdefault(key, []).extend(values)
    return merged


def _unescape(text: str) -> str:
    return (
        text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", '"')
        .replace("&apos;", "'")
        .replace("&#xA;", "\n")
        .replace("&amp;", "&")
    )
