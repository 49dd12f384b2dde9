"""triage: local evidence triage for images and videos.

It reports what independent analyzers found about three questions (manipulation,
synthetic generation, provenance), each with a score, an interval and plain words
about its doubt. It never gives a verdict.

Library entry point::

    import triage
    report = triage.analyze("photo.jpg")
    print(report.questions["manipulation"].band)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from triage.report import Report

__all__ = ["__version__", "analyze"]


def analyze(path: str, **options: Any) -> Report:
    """Analyze one file and return its :class:`~triage.report.Report`.

    Options are those of :class:`triage.pipeline.Options` (``only``, ``skip``,
    ``artifacts_dir``, ``max_pixels``, ``prior``, ``db_path`` ...). Bad input never
    raises: the report carries an error entry instead.
    """
    from triage.pipeline import Options, analyze_path

    return analyze_path(path, Options(**options))
