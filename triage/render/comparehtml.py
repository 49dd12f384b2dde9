"""Self-contained HTML page of `triage compare`: the two files, what was found, the
side-by-side picture (embedded), the regions and what this does not show. File names
and metadata are untrusted: the page is autoescaped and loads nothing from outside."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from triage.comparison import Comparison, CopyFacts, clock

# The embedded picture: as wide as a wide screen shows it, as JPEG (a 3 x 1024 px PNG
# panel is 3 MB; this is about 300 KB).
PANEL_WIDTH = 1800
PANEL_QUALITY = 85


def _light(png: bytes) -> bytes:
    import cv2
    import numpy as np

    panel = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    if panel is None:
        return b""
    if panel.shape[1] > PANEL_WIDTH:
        height = round(panel.shape[0] * PANEL_WIDTH / panel.shape[1])
        panel = cv2.resize(panel, (PANEL_WIDTH, height), interpolation=cv2.INTER_AREA)
    ok, jpeg = cv2.imencode(".jpg", panel, [cv2.IMWRITE_JPEG_QUALITY, PANEL_QUALITY])
    return jpeg.tobytes() if ok else b""


def render_compare_html(result: Comparison, no_pixels: bool = False) -> str:
    """The page for ``result``; its picture comes from ``result.panel`` (none without)."""
    from triage.render.html import CSP, _environment, _resource
    from triage.version import __version__

    def facts(label: str, f: CopyFacts) -> dict[str, Any]:
        return {
            "label": label,
            "path": f.path,
            "error": f.error,
            "format": (f.format or "")
            + (f", frame at {clock(f.frame_seconds)}" if f.frame_seconds is not None else ""),
            "size": f"{f.width}x{f.height}" if f.width and f.height else "",
            "quality": f"q{f.jpeg_quality}" if f.jpeg_quality else "",
            "camera": f.camera or "",
            "taken": f.taken or "",
        }

    panel = None
    if result.panel and not no_pixels:
        panel = "data:image/jpeg;base64," + base64.b64encode(_light(result.panel)).decode("ascii")
    template = _environment().get_template("compare.html")
    return template.render(
        csp=CSP,
        style=_resource("style.css"),
        tool_version=__version__,
        title="triage compare",
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        files=[facts("A", result.a), facts("B", result.b)],
        statements=result.statements,
        panel=panel,
        no_pixels=no_pixels,
        regions=[
            {
                "box_a": " ".join(map(str, r.box_a)),
                "box_b": " ".join(map(str, r.box_b)),
                "share": f"{100 * r.share:.1f}%",
                "strength": f"{r.strength:.2f}",
            }
            for r in result.regions
        ],
        caveats=result.caveats,
    )
