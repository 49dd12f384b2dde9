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


NO_DECODER = "FFmpeg has no decoder for the video stream's codec (unknown or damaged codec tag)"


def ffmpeg_reason(exc: BaseException) -> str:
    """FFmpeg's own sentence for a PyAV error, without the errno and the file path
    (``[Errno 1094995529] Invalid data found when processing input: '/x.mp4'``)."""
    strerror = getattr(exc, "strerror", None)
    if isinstance(strerror, str) and strerror.strip():
        return f"FFmpeg: {strerror.strip()}"
    text = str(exc).strip().splitlines()
    return text[0][:160] if text else type(exc).__name__
