"""Errors that carry a one-line, user-facing reason (never a traceback)."""

from __future__ import annotations


class TriageError(Exception):
    """Base class: ``str(err)`` is a complete sentence a user can act on."""


class MediaError(TriageError):
    """The file cannot be opened, is not media, or is refused (too large, corrupt)."""


def one_line(exc: BaseException) -> str:
    """A single-line description of any exception, for error entries."""
    text = str(exc).strip().replace("\n", " ")
    if isinstance(exc, TriageError):
        return text or type(exc).__name__
    name = type(exc).__name__
    return f"{name}: {text}" if text else name
