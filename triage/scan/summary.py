"""What a scan found, in a form that stays small for a million files.

A :class:`FileRow` keeps the few fields the end-of-scan summary and the CSV need
(scores, bands, attention, top finding, pHash, errors); full reports stay in the
JSONL. :class:`ScanSummary` aggregates rows and skipped files;
:mod:`triage.render.scansummary` prints its tables.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from triage.hashing import NEAR_DUPLICATE_RADIUS, batch_phash, near_duplicate_groups
from triage.report import QUESTIONS

if TYPE_CHECKING:
    from triage.report import Report
    from triage.scan.walker import Entry


@dataclass(slots=True)
class FileRow:
    path: str
    sha256: str | None
    format: str | None
    attention: float
    scores: dict[str, float]
    bands: dict[str, str]
    top_finding: str  # "id: title" of the strongest positive finding, or ""
    phash: str | None
    errors: list[tuple[str, str]]  # (stage, message)
    seconds: float = 0.0
    intervals: dict[str, tuple[float, float]] = field(default_factory=dict)
    kind: str | None = None
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    c2pa_state: str = ""  # absent / unreadable / remote / the C2PA validation state
    generator: str = ""  # generators named by metadata or the C2PA claim, ";"-joined
    frames: int | None = None  # an animated image's frames (only the first examined)
    orientation: int | None = None  # the EXIF orientation tag viewers apply (2-8)

    @property
    def failed(self) -> bool:
        return bool(self.errors)


def row_from_report(report: dict[str, Any]) -> FileRow:
    """A :class:`FileRow` from a report as JSON data (``model_dump(mode="json")``)."""
    file = report.get("file", {})
    questions = report.get("questions", {})
    findings = [f for f in report.get("findings", []) if f.get("llr", 0) > 0]
    top = max(findings, key=lambda f: f["llr"], default=None)
    phash = None
    c2pa_state = ""
    generators: list[str] = []
    for run in report.get("analyzers", []):
        metrics = run.get("metrics") or {}
        if run.get("name") == "provenance":
            phash = batch_phash(metrics)
        elif run.get("name") == "credentials" and run.get("status") == "ok":
            c2pa_state = _c2pa_state(metrics)
            claim = (metrics.get("active") or {}).get("claim_generator")
            if isinstance(claim, str) and claim:
                generators.append(claim)
        elif run.get("name") == "generator":
            generators.extend(str(g) for g in metrics.get("generators") or [])
    return FileRow(
        path=str(file.get("path", "")),
        sha256=file.get("sha256"),
        format=file.get("format"),
        attention=float(report.get("attention", 0.0)),
        scores={q: float(questions[q]["score"]) for q in QUESTIONS if q in questions},
        bands={q: str(questions[q]["band"]) for q in QUESTIONS if q in questions},
        top_finding=f"{top['id']}: {top['title']}" if top else "",
        phash=phash,
        errors=[
            (str(e.get("stage", "")), str(e.get("message", ""))) for e in report.get("errors", [])
        ],
        seconds=float(report.get("seconds", 0.0)),
        intervals={
            q: (float(questions[q]["interval"][0]), float(questions[q]["interval"][1]))
            for q in QUESTIONS
            if q in questions and len(questions[q].get("interval") or ()) == 2
        },
        kind=file.get("kind"),
        width=file.get("width"),
        height=file.get("height"),
        duration=file.get("duration"),
        c2pa_state=c2pa_state,
        generator=";".join(dict.fromkeys(generators)),
        frames=file.get("frames"),
        orientation=file.get("orientation"),
    )


def _c2pa_state(metrics: dict[str, Any]) -> str:
    """One word for the content credentials: absent, unreadable, or the validation state."""
    if not metrics.get("manifest_store"):
        return "absent"
    state = metrics.get("validation_state")
    if isinstance(state, str) and state:
        return state.lower()
    return "unreadable" if metrics.get("error") else "present"


def duplicate_groups(
    rows: Iterable[FileRow], radius: int = NEAR_DUPLICATE_RADIUS
) -> list[list[str]]:
    """Groups of paths whose pHashes lie within ``radius`` bits (connected components)."""
    rows = list(rows)
    return [
        [rows[i].path for i in g] for g in near_duplicate_groups([r.phash for r in rows], radius)
    ]


def report_groups(
    reports: Sequence[Report], radius: int = NEAR_DUPLICATE_RADIUS
) -> list[list[int]]:
    """Index groups of reports whose pHash lies within ``radius`` bits, or whose bytes
    are identical."""
    phashes = [report_phash(rep) for rep in reports]
    return near_duplicate_groups(phashes, radius, sha256=[rep.file.sha256 for rep in reports])


def report_phash(report: Report) -> str | None:
    """The pHash a batch groups this report's file on (:func:`~triage.hashing.batch_phash`)."""
    runs = (r for r in report.analyzers if r.name == "provenance")
    return next((batch_phash(r.metrics) for r in runs), None)


@dataclass
class ScanSummary:
    rows: list[FileRow] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    excluded: int = 0
    resumed: int = 0  # reports taken from an earlier run's output
    seconds: float = 0.0
    group_distance: int = NEAR_DUPLICATE_RADIUS  # pHash bits for near-duplicate groups

    def add_skipped(self, entry: Entry) -> None:
        self.skipped.append((entry.path, entry.reason or "skipped"))

    @property
    def failures(self) -> list[FileRow]:
        return [r for r in self.rows if r.failed]

    @property
    def analyzed(self) -> int:
        return sum(1 for r in self.rows if not r.failed)

    def band_counts(self) -> dict[str, Counter[str]]:
        counts: dict[str, Counter[str]] = {q: Counter() for q in QUESTIONS}
        for r in self.rows:
            for q, band in r.bands.items():
                counts[q][band] += 1
        return counts

    def as_dict(self) -> dict[str, Any]:
        """Counts as plain data (for scripts and tests)."""
        return {
            "files": len(self.rows),
            "analyzed": self.analyzed,
            "failed": len(self.failures),
            "skipped": len(self.skipped),
            "excluded": self.excluded,
            "resumed": self.resumed,
            "seconds": round(self.seconds, 3),
            "bands": {q: dict(c) for q, c in self.band_counts().items()},
            "duplicate_groups": duplicate_groups(self.rows, self.group_distance),
            "group_distance": self.group_distance,
            "failures": [{"path": r.path, "errors": r.errors} for r in self.failures],
            "skipped_files": [{"path": p, "reason": why} for p, why in self.skipped],
        }
