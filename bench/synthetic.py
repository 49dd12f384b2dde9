#!/usr/bin/env python3
"""Content credentials and generator metadata on the shared corpus.

Prints a markdown table of every file in ../shared/corpus/c2pa and ../shared/corpus/generator
(what the two analyzers found, the C2PA validation state, the synthetic and manipulation
bands with only ``credentials`` and ``generator`` run), then the share of labelled-synthetic
files that reach notable/strong, the false-alarm share on the camera folder, and timings.

    python bench/synthetic.py [CORPUS_DIR]
"""

from __future__ import annotations

import statistics
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from triage.analyzers import get  # noqa: E402
from triage.analyzers.base import Context  # noqa: E402
from triage.calibration import FileEvidence, packaged  # noqa: E402
from triage.media import Media  # noqa: E402
from triage.pipeline import Options, analyze_path  # noqa: E402
from triage.scoring import AnalyzerOutcome, score_all, to_finding  # noqa: E402

ONLY = ["credentials", "generator"]
HIGH = ("notable-indicators", "strong-indicators")


def _short(band: str) -> str:
    return band.replace("-indicators", "").replace("-evidence", "")


def alone(path: Path) -> dict:
    """Questions scored from these two analyzers only (others neither run nor widening)."""
    media = Media.open(path)
    findings, outcomes = [], []
    ev = FileEvidence()
    for name in ONLY:
        analyzer = get(name)
        if not analyzer.applies_to(media):
            continue
        res = analyzer.run(media, Context())
        findings += [to_finding(name, f, packaged()) for f in res.findings]
        reason = res.skipped_reason or (res.not_checked[0] if res.not_checked else None)
        status = "skipped" if res.skipped_reason else "ok"
        outcomes.append(AnalyzerOutcome(name, status, res.examined, reason))
        ev.analyzers[name] = (status, dict(res.examined))
        for f in res.findings:
            ev.add_finding(f.id, f.question, f.strength)
    return score_all(findings, outcomes, ev, packaged(), {})


def main(argv: list[str]) -> int:
    warnings.simplefilter("ignore")
    corpus = Path(argv[0]) if argv else ROOT.parent / "shared" / "corpus"
    if not (corpus / "labels.tsv").is_file():
        print(f"no corpus at {corpus}", file=sys.stderr)
        return 2
    labels = {}
    for line in (corpus / "labels.tsv").read_text().splitlines():
        cols = line.split("\t")
        if len(cols) >= 2:
            labels[cols[0]] = cols[1]
    seconds: dict[str, list[float]] = {"credentials": [], "generator": []}
    print(
        "| file | label | C2PA state | found | synthetic (--only these two) | "
        "synthetic / manipulation (these two alone) |"
    )
    print("|---|---|---|---|---|---|")
    hits = total = 0
    for folder in ("c2pa", "generator"):
        for path in sorted((corpus / folder).rglob("*")):
            if not path.is_file():
                continue
            rel = path.relative_to(corpus).as_posix()
            rep = analyze_path(path, Options(only=ONLY))
            cred = next((a for a in rep.analyzers if a.name == "credentials"), None)
            for a in rep.analyzers:
                if a.name in seconds:
                    seconds[a.name].append(a.seconds)
            state = "-"
            if cred is not None:
                m = cred.metrics
                state = (
                    str(m.get("validation_state"))
                    if m.get("manifest_store") and not m.get("error")
                    else ("unreadable" if m.get("manifest_store") else "none")
                )
            found = "; ".join(
                f.id.split(".", 1)[1]
                + (f" ({f.evidence['generator']})" if f.evidence.get("generator") else "")
                for f in rep.findings
            )
            syn = rep.questions["synthetic"].band
            label = labels.get(rel, "?")
            if label == "synthetic":
                total += 1
                hits += syn in HIGH
            own = alone(path)
            print(
                f"| {rel} | {label} | {state} | {found or '-'} | {_short(syn)} | "
                f"{_short(own['synthetic'].band)} / {_short(own['manipulation'].band)} |"
            )
    alarms = cams = 0
    for path in sorted((corpus / "camera").rglob("*")):
        if path.is_file():
            rep = analyze_path(path, Options(only=ONLY))
            cams += 1
            alarms += rep.questions["synthetic"].band in HIGH
    print()
    print(
        f"labelled synthetic reaching notable/strong: {hits}/{total} = {hits / max(total, 1):.2f}"
    )
    print(
        f"camera files reaching notable/strong synthetic: {alarms}/{cams} = {alarms / max(cams, 1):.2f}"
    )
    for name, values in seconds.items():
        if values:
            print(
                f"{name}: median {statistics.median(values) * 1000:.1f} ms, max {max(values) * 1000:.0f} ms"
            )
    return 0


if __name__ == "__main__":
    t0 = time.perf_counter()
    code = main(sys.argv[1:])
    print(f"total {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    raise SystemExit(code)
