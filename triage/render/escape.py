"""Terminal-safe text: file names and metadata can carry ESC sequences, CR and LF."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from triage.report import Report

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def escape_control(text: str) -> str:
    """``text`` with every C0/C1 control character (and DEL) shown as ``\\xNN``, so a
    crafted name cannot move the cursor, recolour the terminal or forge a line."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def escape_strings(value: Any) -> Any:
    """``value`` (a JSON-like tree) with every string, key included, escaped."""
    if isinstance(value, str):
        return escape_control(value)
    if isinstance(value, dict):
        return {escape_strings(k): escape_strings(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(escape_strings(v) for v in value)
    return value


def escape_report(report: Report) -> Report:
    """A copy of ``report`` safe to print on a terminal: names, metadata values,
    finding details and error reasons all have their control characters escaped."""
    from triage.report import Report

    return Report.model_validate(escape_strings(report.model_dump()))
