"""A video's poster: one small frame to show what the video is, in the HTML report.

The first frame is often black (a fade-in, a phone's first exposure), so the first
frame that is not near black within the first packets is taken, else the first frame.
Bounded: at most ``max_packets`` packets are decoded, and the frame is shrunk by the
decoder's scaler before it is converted, so a 4K video costs one small RGB array.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

# Mean RGB level under which a frame reads as black (of 255).
DARK_LEVEL = 24.0


def poster_frame(path: str | Path, max_side: int, max_packets: int = 90) -> np.ndarray | None:
    """The poster of the video at ``path``: an RGB array of long side at most
    ``max_side``, in the stored frame's grid (the display turn not applied); None
    when PyAV decodes no frame within ``max_packets`` packets."""
    import av

    from triage.video.stream import first_frames, reduced_frame

    first: np.ndarray | None = None
    try:
        with av.open(str(path), mode="r", metadata_errors="replace") as container:
            stream = container.streams.video[0]
            for frame in first_frames(container, stream, max_packets):
                rgb = reduced_frame(frame, max_side)
                if first is None:
                    first = rgb
                if float(rgb.mean()) > DARK_LEVEL:
                    return rgb
    except Exception:  # no video stream, no decoder, a damaged container
        return first
    return first
