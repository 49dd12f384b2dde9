"""triage: local evidence triage for images and videos.

It reports what independent analyzers found about three questions (manipulation,
synthetic generation, provenance), each with a score, an interval and plain words
about its doubt. It never gives a verdict.

Library entry points::

    import triage
    report = triage.analyze("photo.jpg")            # a path, bytes or a binary stream
    print(report.questions["manipulation"].band)
    for report in triage.analyze_many(paths, jobs=2):  # worker processes, one per file
        print(report.file.path, report.attention)
    result = triage.compare("viral.jpg", "found.jpg")  # two copies of one picture
    print(result.statements, [r.box_a for r in result.regions])
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from triage.version import __version__

if TYPE_CHECKING:
    from collections.abc import Iterator

    from triage.api import Source
    from triage.comparison import Comparison
    from triage.report import Report

__all__ = ["__version__", "analyze", "analyze_many", "compare"]


def analyze(source: Source, *, name: str | None = None, **options: Any) -> Report:
    """Analyze one file (a path, bytes or a binary stream); see :func:`triage.api.analyze`.

    Bad input never raises: the report carries an error entry instead.
    """
    from triage.api import analyze as _analyze

    return _analyze(source, name=name, **options)


def analyze_many(
    paths: Any, *, jobs: int | None = None, timeout: float | None = 120.0, **options: Any
) -> Iterator[Report]:
    """Analyze files in worker processes, yielding reports; see :func:`triage.api.analyze_many`."""
    from triage.api import analyze_many as _analyze_many

    return _analyze_many(paths, jobs=jobs, timeout=timeout, **options)


def compare(
    a: str | os.PathLike[str], b: str | os.PathLike[str], *, artifacts_dir: Any = None
) -> Comparison:
    """Compare two copies of one picture; see :func:`triage.comparison.compare_paths`.

    A file that cannot be read never raises: its ``error`` says why.
    """
    from triage.comparison import compare_paths

    return compare_paths(a, b, artifacts_dir=artifacts_dir)
