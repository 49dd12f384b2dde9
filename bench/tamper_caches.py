#!/usr/bin/env python3
"""Benchmark: the tamper image score of two calibration caches on the same camera files.

    python bench/tamper_caches.py OLD_WORK NEW_WORK

Each argument is a ``bench/calibrate.py --work`` folder whose ``records.jsonl`` holds
the same files, the tamper analyzer re-run differently in each (``--rerun tamper``
after a change to the analyzer or its model, in a copy of the cache). On the copies
of the camera sources (which the tamper model never trained on: other generator draws
and more routes than its validation files), per edit kind, the AUC of the tamper
``image_score`` of the edited copies against every unedited copy, old and new, and
the difference with a 5-95% bootstrap over the sources; on every camera file, on those
of 2.5-4.2 MP, and per route on the latter. Fitting nothing, it reads the tamper score
alone, which the fused score dilutes with the other analyzers. Results:
docs/analyzers/tamper.md ("Every block of a web copy", "Model 4.3").
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from edit_kinds import KINDS, _kind, chain_of
from tamper_cfa import auc_interval
from tamper_regions import auc

from triage.forensics.blockfeatures import FULL_PIXELS, WHOLE_WEB_COPY


def tamper_scores(work: Path) -> dict[str, tuple[float, int, dict]]:
    """Path -> (tamper image score, pixels, record) of every record of the cache that has one."""
    out = {}
    for line in (work / "records.jsonl").read_text("utf-8").splitlines():
        rec = json.loads(line)
        metrics = ((rec.get("analyzers") or {}).get("tamper") or {}).get("metrics") or {}
        if metrics.get("image_score") is not None and rec.get("size"):
            out[rec["path"]] = (float(metrics["image_score"]), rec["size"][0] * rec["size"][1], rec)
    return out


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    if len(args) != 2:
        sys.exit(__doc__.splitlines()[2].strip())
    old, new = (tamper_scores(Path(a)) for a in args)
    sources = {}
    for listing in Path(args[0]).glob("rows-*.json"):
        sources.update({r["path"]: r["source"] for r in json.loads(listing.read_text("utf-8"))})
    paths = [p for p in old if p in new and str(sources.get(p, "")).startswith("camera:")]
    kinds = np.array([_kind(old[p][2]) for p in paths])
    src = np.array([sources[p] for p in paths])
    pixels = np.array([old[p][1] for p in paths])
    before, after = (np.array([scores[p][0] for p in paths]) for scores in (old, new))
    routes = np.array([chain_of(p.rsplit("/", 1)[-1]) for p in paths])
    web = (pixels > FULL_PIXELS) & (pixels <= WHOLE_WEB_COPY)
    neg = kinds == "unedited"
    for label, sel in (("every camera file", np.ones(len(paths), bool)), ("2.5-4.2 MP", web)):
        print(
            f"\n{label}: {(sel & ~neg).sum()} edited, {(sel & neg).sum()} unedited, "
            f"{len(np.unique(src[sel]))} sources"
        )
        print("| edit kind | old | new | new - old (5-95% over sources) |\n|---|---|---|---|")
        for kind in (*KINDS, "all"):
            pos = sel & (~neg if kind == "all" else kinds == kind)
            a, b = auc(before[pos], before[neg & sel]), auc(after[pos], after[neg & sel])
            lo, hi = auc_interval(after, before, pos, neg & sel, src)
            print(
                f"| {kind} ({pos.sum()}) | {a:.3f} | {b:.3f} | {b - a:+.3f} ({lo:+.3f}..{hi:+.3f}) |"
            )
    print("\n2.5-4.2 MP by route | edited / unedited | old | new\n|---|---|---|---|")
    for route in np.unique(routes[web]):
        pos, ref = web & (routes == route) & ~neg, web & (routes == route) & neg
        print(
            f"| {route} | {pos.sum()} / {ref.sum()} | {auc(before[pos], before[ref]):.3f} | "
            f"{auc(after[pos], after[ref]):.3f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
