"""What a scan found, in a form that stays small for a million files.

A :class:`FileRow` keeps the few fields the end-of-scan summary and the CSV need
(scores, bands, attention, top finding, pHash, errors); full reports stay in the
JSONL. :class:`ScanSummary` aggregates rows and skipped files and renders the
end-of-scan tables with rich.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from triage.hashing import informative
from triage.report import BANDS, QUESTIONS

if TYPE_CHECKING:
    from rich.console import Console

    from triage.scan.walker import Entry

DUPLICATE_RADIUS = 8  # pHash bits: near-duplicates within a batch
TOP_ROWS = 25


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
            value = metrics.get("phash")
            if isinstance(value, str) and value and informative(value, metrics.get("pdq_quality")):
                phash = value
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
    )


def _c2pa_state(metrics: dict[str, Any]) -> str:
    """One word for the content credentials: absent, unreadable, or the validation state."""
    if not metrics.get("manifest_store"):
        return "absent"
    state = metrics.get("validation_state")
    if isinstance(state, str) and state:
        return state.lower()
    return "unreadable" if metrics.get("error") else "present"


def duplicate_groups(rows: Iterable[FileRow], radius: int = DUPLICATE_RADIUS) -> list[list[str]]:
    """Groups of paths whose pHashes lie within ``radius`` bits (connected components)."""
    from triage.hashing import near_duplicate_groups

    return near_duplicate_groups([(r.path, r.phash) for r in rows if r.phash], radius)


@dataclass
class ScanSummary:
    rows: list[FileRow] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    excluded: int = 0
    resumed: int = 0  # reports taken from an earlier run's output
    seconds: float = 0.0
    group_distance: int = DUPLICATE_RADIUS  # pHash bits for near-duplicate groups

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

    def render(self, console: Console, top: int = TOP_ROWS) -> None:
        from rich.table import Table
        from rich.text import Text

        from triage.render.text import BAND_STYLE

        ok = [r for r in self.rows if not r.failed]
        ok.sort(key=lambda r: (-r.attention, r.path))
        n_failed = len(self.rows) - len(ok)
        if ok:
            # The count is of every file examined: a failed one is still one of them.
            failed_note = f"; {n_failed} failed, listed below" if n_failed else ""
            table = Table(
                title=f"Files by attention (top {min(top, len(ok))} of {len(self.rows)}"
                f"{failed_note}; attention orders review, it is not a verdict)",
                title_justify="left",
                expand=True,
            )
            table.add_column("attn", justify="right", no_wrap=True)
            for q in QUESTIONS:
                table.add_column(
                    {"manipulation": "manip.", "synthetic": "synth.", "provenance": "prov."}[q],
                    no_wrap=True,
                )
            table.add_column("file", overflow="fold", ratio=3)
            table.add_column("top finding", overflow="fold", ratio=2)
            for r in ok[:top]:
                cells = []
                for q in QUESTIONS:
                    band = r.bands.get(q, "")
                    cells.append(
                        Text(
                            f"{r.scores.get(q, 0):.2f} {SHORT_BAND.get(band, band)}",
                            BAND_STYLE.get(band, ""),
                        )
                    )
                table.add_row(f"{r.attention:.2f}", *cells, _display(r.path), r.top_finding or "-")
            console.print(table)

        counts = self.band_counts()
        bands = Table(title="Files per band", title_justify="left")
        bands.add_column("band")
        for q in QUESTIONS:
            bands.add_column(q, justify="right")
        for band in reversed(BANDS):
            bands.add_row(Text(band, BAND_STYLE[band]), *[str(counts[q][band]) for q in QUESTIONS])
        console.print(bands)

        groups = duplicate_groups(self.rows, self.group_distance)
        if groups:
            console.print(
                Text(
                    f"Near-duplicate groups (pHash within {self.group_distance} bits): "
                    f"{len(groups)}",
                    style="bold",
                )
            )
            for i, g in enumerate(groups[:top], 1):
                console.print(f"  {i}. " + "\n     ".join(printable(p) for p in g))
        elif any(r.phash for r in self.rows):
            console.print("Near-duplicate groups: none")

        failures = self.failures
        if failures:
            console.print(
                Text(f"Failed ({len(failures)}): could not be analyzed fully", style="bold red")
            )
            for r in failures:
                reasons = "; ".join(f"{stage}: {msg}" for stage, msg in r.errors)
                console.print(f"  {printable(r.path)}\n      {printable(reasons)}", highlight=False)
        if self.skipped:
            by_reason = Counter(_reason_kind(why) for _, why in self.skipped)
            console.print(
                Text(f"Skipped ({len(self.skipped)}): ", style="bold")
                + Text(", ".join(f"{n} {k}" for k, n in by_reason.most_common()))
            )
            for p, why in self.skipped[:top]:
                console.print(f"  {printable(p)}: {why}", highlight=False, soft_wrap=True)
            if len(self.skipped) > top:
                console.print(f"  … and {len(self.skipped) - top} more (see --csv)")
        console.print(
            f"[bold]{len(self.rows)}[/bold] files: {self.analyzed} analyzed, "
            f"{len(failures)} failed, {len(self.skipped)} skipped (not media or not scanned), "
            f"{self.excluded} excluded by --include/--exclude"
            + (f", {self.resumed} taken from the earlier output (--resume)" if self.resumed else "")
            + f"; {self.seconds:.1f} s",
            highlight=False,
        )


SHORT_BAND = {
    "insufficient-evidence": "insuff.",
    "no-indicators": "none",
    "weak-indicators": "weak",
    "notable-indicators": "notable",
    "strong-indicators": "strong",
}


def printable(text: str) -> str:
    """A file name that is not valid UTF-8 shown with \\xNN escapes instead of failing."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return text


def _display(path: str) -> str:
    """A path relative to the working directory when it is under it."""
    import os

    try:
        rel = os.path.relpath(path)
    except ValueError:
        return printable(path)
    return printable(path if rel.startswith("..") else rel)


def _reason_kind(reason: str) -> str:
    for key, label in (
        ("not a supported image", "not media"),
        ("link", "links"),
        ("same file", "duplicates by link"),
        ("empty", "empty"),
        ("max-bytes", "too large"),
    ):
        if key in reason:
            return label
    return "other"
