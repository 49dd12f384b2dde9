"""Misbehaving analyzers for tests/test_scan.py, injected into worker processes with
TRIAGE_EXTRA_ANALYZERS="scan_analyzers:SlowAnalyzer,..." (tests/ on PYTHONPATH).

Each acts only on files whose name contains its trigger word, so the other files of
a batch show that the scan went on.
"""

from __future__ import annotations

import os
import signal
import time

from triage.analyzers.base import Analyzer, AnalyzerResult


class SlowAnalyzer(Analyzer):
    """Sleeps TRIAGE_TEST_SLEEP seconds on every file (to kill a scan partway)."""

    name = "test_slow"
    questions = ("manipulation",)
    kinds = ("image",)

    def run(self, media, ctx):  # type: ignore[no-untyped-def]
        time.sleep(float(os.environ.get("TRIAGE_TEST_SLEEP", "0.1")))
        return AnalyzerResult()


class HangAnalyzer(Analyzer):
    """Hangs (sleeps an hour) on files named *hang*."""

    name = "test_hang"
    questions = ("manipulation",)
    kinds = ("image",)

    def run(self, media, ctx):  # type: ignore[no-untyped-def]
        if "hang" in media.path.name:
            time.sleep(3600)
        return AnalyzerResult()


class CrashAnalyzer(Analyzer):
    """Kills its own process with SIGKILL on files named *crash* (like a segfault)."""

    name = "test_crash"
    questions = ("manipulation",)
    kinds = ("image",)

    def run(self, media, ctx):  # type: ignore[no-untyped-def]
        if "crash" in media.path.name:
            os.kill(os.getpid(), signal.SIGKILL)
        return AnalyzerResult()


class HogAnalyzer(Analyzer):
    """Asks for 64 GB on files named *hog* (a decoder trusting a bogus header would)."""

    name = "test_hog"
    questions = ("manipulation",)
    kinds = ("image",)

    def run(self, media, ctx):  # type: ignore[no-untyped-def]
        if "hog" in media.path.name:
            import numpy as np

            np.ones(64 * 2**30, dtype=np.uint8)
        return AnalyzerResult()
