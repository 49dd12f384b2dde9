"""Batch scans: walk folders, analyze each media file in an isolated worker, stream
one JSONL report per file, resume after a crash, summarize.

* :mod:`triage.scan.walker` finds the files (sniffed type, links, globs, limits);
* :mod:`triage.scan.runner` holds the per-file function and the local process pool
  (a timeout per file; a crashed or hung worker is replaced);
* :mod:`triage.scan.dask` runs the same per-file function on a Dask cluster;
* :mod:`triage.scan.sink` writes the JSONL stream and reads it back for ``--resume``;
* :mod:`triage.scan.summary` turns the results into counts, groups and tables.

``triage.scan.scan(...)`` ties them together; the CLI only parses options.
"""

from __future__ import annotations

from triage.scan.core import ScanResult, scan

__all__ = ["ScanResult", "scan"]
