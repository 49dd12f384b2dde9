"""Video forensics as pure functions, wrapped by ``triage.analyzers.video``.

* ``stream``     — the one streaming pass (PyAV, or OpenCV as a fallback) that
  turns a file into small per-packet and per-frame series; no frame is kept.
* ``container``  — brands, writer/encoder tags, dates, rotation, frame rates.
* ``timestamps`` — pts/dts gaps, duplicates, non-monotonic steps, variable frame
  rate, keyframe interval irregularities.
* ``frames``     — frame signatures, the inter-frame difference series, duplicated,
  dropped and inserted frames told apart from scene cuts, and segment-level
  shifts in compression quality, noise and sharpness.
* ``timeline``   — the timeline and contact-sheet pictures (numpy/OpenCV only).
"""
