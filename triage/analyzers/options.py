"""Typed options of the analyzers, one namespace per analyzer (or shared pass).

``Context.options`` is an :class:`AnalyzerOptions`. Callers that hold options as
plain data (a config file, a test) give ``{"video.frames": 96}``: the dotted key
names the namespace and the field, and an unknown key is an error instead of a
setting silently ignored. ``None`` means the analyzer's own default.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class VideoOptions:
    """The shared streaming pass of the ``video`` and ``frames`` analyzers."""

    max_seconds: float | None = None  # decode frames up to this many seconds (1800)
    quality_pixels_per_second: float | None = None  # budget of the quality checks (4e6)
    frames: int | None = None  # frames sampled for image evidence (48)


@dataclass(frozen=True)
class ProvenanceOptions:
    max_keyframes: int | None = None  # keyframes of a video hashed and looked up (24)


@dataclass(frozen=True)
class CredentialsOptions:
    trust_anchors: str | None = None  # PEM text, or the path of a PEM file


@dataclass(frozen=True)
class AnalyzerOptions:
    video: VideoOptions = field(default_factory=VideoOptions)
    provenance: ProvenanceOptions = field(default_factory=ProvenanceOptions)
    credentials: CredentialsOptions = field(default_factory=CredentialsOptions)

    @classmethod
    def of(cls, value: AnalyzerOptions | Mapping[str, Any] | None) -> AnalyzerOptions:
        """``value`` as options: itself, defaults for None, or parsed from dotted keys.

        Raises ``ValueError`` for a key that names no namespace or field.
        """
        if value is None:
            return cls()
        if isinstance(value, AnalyzerOptions):
            return value
        parts: dict[str, dict[str, Any]] = {}
        for key, val in value.items():
            space, _, name = _LEGACY.get(key, key).partition(".")
            sub = _NAMESPACES.get(space)
            if sub is None or name not in {f.name for f in dataclasses.fields(sub)}:
                known = ", ".join(
                    f"{s}.{f.name}" for s, t in _NAMESPACES.items() for f in dataclasses.fields(t)
                )
                raise ValueError(f"unknown analyzer option {key!r}; known: {known}")
            parts.setdefault(space, {})[name] = val
        return cls(**{space: _NAMESPACES[space](**kw) for space, kw in parts.items()})


_NAMESPACES: dict[str, Any] = {
    "video": VideoOptions,
    "provenance": ProvenanceOptions,
    "credentials": CredentialsOptions,
}
# Keys of the loose dictionary these options replace.
_LEGACY = {
    "video_frames": "video.frames",
    "video_max_seconds": "video.max_seconds",
    "video_quality_pixels_per_second": "video.quality_pixels_per_second",
    "c2pa_trust_anchors": "credentials.trust_anchors",
}
