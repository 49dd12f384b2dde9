#!/usr/bin/env python3
"""Benchmark: the fused manipulation AUC per edit kind of two calibration caches, with
the difference's interval over sources.

    python bench/fused_kinds.py OLD_WORK NEW_WORK [--shipped]

Each argument is a ``bench/calibrate.py --work`` folder holding the same files, one
analyzer re-run differently in the second (``--rerun NAME`` in a copy of the cache).
Each cache's calibration is fitted as ``bench/calibrate.py`` fits it (on its own
records), the held-out camera files are scored with it, and per edit kind the AUC of
the edited copies against every unedited copy is printed, old and new, with 5-95%
bootstraps over the camera sources of new and of new minus old; then per route
(``edit_kinds.chain_of``). With ``--shipped`` both caches are scored with the shipped
calibration (triage/data/calibration.json) as it is, not refitted: what a changed
analyzer does to the reports before any refit; and the unedited copies each cache
puts at notable or strong are counted. ``bench/edit_kinds.py`` prints one cache's figures;
``bench/tamper_caches.py`` the tamper score alone. Results: docs/analyzers/tamper.md.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def held_out_scores(
    work: Path, shipped: bool = False
) -> dict[str, tuple[str, str, str, float, str]]:
    """Path -> (source, kind, route, fused manipulation score, band) of every held-out
    camera file of the cache at ``work``, under the calibration fitted on its fit split
    (``shipped``: under the shipped calibration)."""
    import argparse

    import calibrate
    from edit_kinds import _kind, chain_of, fit_held_out

    from triage import calibration
    from triage.evaluate.calibrate import rescore_all

    out: dict[str, tuple[str, str, str, float, str]] = {}

    def collect(records: list[dict[str, Any]], args: argparse.Namespace) -> int:
        if shipped:
            ok = calibrate.scored_records(records)
            held = rescore_all([r for r in ok if r["split"] == "heldout"], calibration.packaged())
            camera = [r for r in held if str(r.get("source", "")).startswith("camera:")]
        else:
            camera = fit_held_out(records, args, "fused-kinds")[3]
        for r in camera:
            name = r["path"].rsplit("/", 1)[-1]
            answer = r["questions"]["manipulation"]
            out[r["path"]] = (
                r["source"],
                _kind(r),
                chain_of(name),
                answer["score"],
                answer["band"],
            )
        return 0

    report: Callable[..., int] = calibrate.fit_and_report
    calibrate.fit_and_report = collect
    try:
        calibrate.main(["--cached-only", "--work", str(work)])
    finally:
        calibrate.fit_and_report = report
    return out


def compare(
    old: np.ndarray, new: np.ndarray, pos: np.ndarray, neg: np.ndarray, sources: np.ndarray
) -> str:
    """'old | new (lo..hi) | new - old (lo..hi)' for ``pos`` against ``neg``: the new
    AUC's own 5-95% interval over sources, then the difference's."""
    from tamper_cfa import auc_interval, source_bootstrap
    from tamper_regions import auc

    a, b = auc(old[pos], old[neg]), auc(new[pos], new[neg])
    lo, hi = auc_interval(new, old, pos, neg, sources)
    own_lo, own_hi = source_bootstrap(lambda p, q: auc(new[p], new[q]), pos, neg, sources)
    return f"{a:.3f} | {b:.3f} ({own_lo:.3f}..{own_hi:.3f}) | {b - a:+.3f} ({lo:+.3f}..{hi:+.3f})"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    shipped = "--shipped" in args
    args = [a for a in args if a != "--shipped"]
    if len(args) != 2:
        print(__doc__)
        return 2
    if not (ROOT.parent / "shared" / "training").is_dir():
        print("../shared not found: skipped")
        return 0
    first, second = (held_out_scores(Path(a), shipped) for a in args)
    paths = sorted(set(first) & set(second))
    sources = np.array([first[p][0] for p in paths])
    kinds = np.array([first[p][1] for p in paths])
    routes = np.array([first[p][2] for p in paths])
    old = np.array([first[p][3] for p in paths])
    new = np.array([second[p][3] for p in paths])
    unedited = kinds == "unedited"
    print(f"{len(paths)} held-out camera files in both caches, {len(set(sources))} sources")
    if shipped:
        claimed = {"notable-indicators", "strong-indicators"}
        for name, table in (("old", first), ("new", second)):
            n = sum(table[p][1] == "unedited" and table[p][4] in claimed for p in paths)
            print(f"{name}: unedited copies at notable or strong {n} of {int(unedited.sum())}")
    print(
        "| edit kind | old | new (5-95% over sources) | new - old (5-95% over sources) |"
        "\n|---|---|---|---|"
    )
    for kind in [*sorted(set(kinds) - {"unedited"}), "all"]:
        pos = ~unedited if kind == "all" else kinds == kind
        print(f"| {kind} ({int(pos.sum())}) | {compare(old, new, pos, unedited, sources)} |")
    print(
        "| route (edited / unedited) | old | new (5-95%) | new - old (5-95%) |\n|---|---|---|---|"
    )
    for route in sorted(set(routes)):
        on = routes == route
        pos, neg = on & ~unedited, on & unedited
        if pos.any() and neg.any():
            label = f"{route} ({int(pos.sum())} / {int(neg.sum())})"
            print(f"| {label} | {compare(old, new, pos, neg, sources)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
