"""Terminal-safe text: file names and metadata can carry ESC sequences, CR and LF."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def escape_control(text: str) -> str:
    """``text`` with every C0/C1 control character (and DEL) shown as ``\\xNN``, so a
    crafted name cannot move the cursor, recolour the terminal or forge a line."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
