"""An analyzer whose first run is slow (TRIAGE_TEST_START_SLEEP seconds), as the
first file of a fresh worker is while analyzers import their libraries: injected
with TRIAGE_EXTRA_ANALYZERS."""

from __future__ import annotations

import os
import time

from triage.analyzers.base import Analyzer, AnalyzerResult

_imported = False


class LazyImportAnalyzer(Analyzer):
    name = "test_lazy"
    questions = ("manipulation",)
    kinds = ("image",)

    def run(self, media, ctx):  # type: ignore[no-untyped-def]
        global _imported
        if not _imported:  # a heavy library imported on first use
            time.sleep(float(os.environ.get("TRIAGE_TEST_START_SLEEP", "0")))
            _imported = True
        return AnalyzerResult()
