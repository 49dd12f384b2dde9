"""A report (or any JSON value) without its wall-clock fields, for tests that compare
reports made twice: ``analyzed_at``, ``seconds``, analyzers' ``timings_ms`` and any
other ``*timing*`` or ``*_ms`` key."""

from __future__ import annotations


def untimed(obj: object) -> object:
    """``obj`` with every wall-clock field dropped, at any depth."""
    if isinstance(obj, dict):
        return {
            k: untimed(v)
            for k, v in obj.items()
            if k not in ("analyzed_at", "seconds") and "timing" not in k and not k.endswith("_ms")
        }
    if isinstance(obj, list):
        return [untimed(v) for v in obj]
    return obj
