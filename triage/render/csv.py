"""CSV summary of a batch for spreadsheets: one row per file.

Columns: path, sha256, format, status (ok / failed / skipped), the score and band
of each question, attention, the top finding, the error or skip reason; then kind,
width, height, duration (seconds, video), the interval low and high of each question,
the C2PA state (absent, unreadable, valid, trusted, invalid ...), the generator
names that metadata or content credentials give, an animated image's frames (only the
first is examined) and the EXIF orientation tag viewers apply (a video's display
turn as the same value; coordinates stay in the stored grid). Text
cells that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``,
``@``) are prefixed with ``'``: file names in a downloaded archive are untrusted.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from triage.report import QUESTIONS

if TYPE_CHECKING:
    from triage.report import Report
    from triage.scan.summary import FileRow

# The first columns keep their places from earlier versions; later additions go at the end,
# so a script that reads columns by position keeps working.
COLUMNS = [
    "path",
    "sha256",
    "format",
    "status",
    *[f"{q}_{part}" for q in QUESTIONS for part in ("score", "band")],
    "attention",
    "top_finding",
    "error",
    "kind",
    "width",
    "height",
    "duration",
    *[f"{q}_{part}" for q in QUESTIONS for part in ("low", "high")],
    "c2pa_state",
    "generator",
    "frames",
    "orientation",
]


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a file name that is not UTF-8: \xNN escapes
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def rows_from_reports(reports: Iterable[Report]) -> list[FileRow]:
    from triage.scan.summary import row_from_report

    return [row_from_report(r.model_dump(mode="json")) for r in reports]


def csv_text(rows: Iterable[FileRow], skipped: Iterable[tuple[str, str]] = ()) -> str:
    """The CSV as text; ``skipped`` adds (path, reason) rows with status ``skipped``."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    for r in sorted(rows, key=lambda r: (-r.attention, r.path)):
        cells: list[object] = [r.path, r.sha256, r.format, "failed" if r.failed else "ok"]
        for q in QUESTIONS:
            cells += [_num(r.scores.get(q)), r.bands.get(q, "")]
        cells += [f"{r.attention:.4f}", r.top_finding, "; ".join(f"{s}: {m}" for s, m in r.errors)]
        cells += [
            r.kind,
            r.width,
            r.height,
            "" if r.duration is None else f"{r.duration:.3f}",
        ]
        for q in QUESTIONS:
            low, high = r.intervals.get(q, (None, None))
            cells += [_num(low), _num(high)]
        cells += [r.c2pa_state, r.generator, r.frames, r.orientation]
        writer.writerow([_cell(c) for c in cells])
    status = COLUMNS.index("status")
    for path, reason in skipped:
        cells = [""] * len(COLUMNS)
        cells[0], cells[status], cells[COLUMNS.index("error")] = path, "skipped", reason
        writer.writerow([_cell(c) for c in cells])
    return buf.getvalue()


def write_csv(
    rows: Iterable[FileRow], path: str | Path, skipped: Iterable[tuple[str, str]] = ()
) -> None:
    """Write the CSV atomically (UTF-8)."""
    from triage.fileio import write_atomic

    write_atomic(Path(path), csv_text(rows, skipped))
