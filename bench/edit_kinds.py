#!/usr/bin/env python3
"""Benchmark: held-out AUC per edit kind and per processing chain, through the whole
pipeline, on the calibration's held-out camera sources.

    python bench/edit_kinds.py [--cached-only]

Reads the records ``bench/calibrate.py`` analyzed and cached (``--work``, default
/tmp/triage-calibration; run that first) and fits the calibration exactly as it does,
then, instead of its report, scores the held-out files (sources never fitted on) and
prints, for each edit kind (the name of each edited copy says which), the Mann-Whitney
AUC of the edited copies against every unedited copy of the held-out camera sources:
for the fused manipulation score, and for the tamper analyzer's ``image_score`` alone.
Per chain, edited against unedited copies through the same kind of chain. Nothing is
chosen on these files. Skips cleanly when ../shared is absent.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT.parent))

KINDS = ("splice", "copymove", "inpaint", "retouch", "overlay")


def auc(pos: list[float], neg: list[float]) -> float:
    """Mann-Whitney AUC, ties counted 1/2."""
    if not pos or not neg:
        return float("nan")
    wins = sum((p > q) + 0.5 * (p == q) for p in pos for q in neg)
    return wins / (len(pos) * len(neg))


def chain_of(name: str) -> str:
    if name.endswith(".png"):
        return "PNG"
    if "export" in name:
        return "editor export"
    if re.search(r"chain(1080|1600|2048)", name):
        return "resized + JPEG"
    return "JPEG, size kept"


def tamper_score(record: dict) -> float | None:
    entry = (record.get("analyzers") or {}).get("tamper") or {}
    value = (entry.get("metrics") or {}).get("image_score")
    return None if value is None else float(value)


def report(records: list[dict], args: argparse.Namespace) -> int:
    from triage.evaluate.calibrate import FitConfig, fit_calibration, load_fitted, rescore_all

    ok = [r for r in records if r.get("outcome") in ("ok", "error") and r.get("questions")]
    fit = [r for r in ok if r["split"] == "fit"]
    cfg = FitConfig(seed=args.seed, folds=args.folds, interval_mass=args.mass)
    cal = load_fitted(fit_calibration(fit, cfg, name="edit-kinds"))
    held = rescore_all([r for r in ok if r["split"] == "heldout"], cal)
    camera = [r for r in held if str(r.get("source", "")).startswith("camera:")]
    fused: dict[str, list[float]] = defaultdict(list)
    alone: dict[str, list[float]] = defaultdict(list)
    chains: dict[tuple[str, str], list[float]] = defaultdict(list)
    for r in camera:
        name = r["path"].rsplit("/", 1)[-1]
        score = r["questions"]["manipulation"]["score"]
        kind = (
            "unedited"
            if r["label"] == "authentic"
            else next((k for k in KINDS if k in name), "other")
        )
        fused[kind].append(score)
        t = tamper_score(r)
        if t is not None:
            alone[kind].append(t)
        chains[(chain_of(name), "neg" if kind == "unedited" else "pos")].append(score)
    sources = len({r["source"] for r in camera})
    print(f"held-out camera sources: {sources}; unedited copies {len(fused['unedited'])}")
    print("| edit kind | edited | fused manipulation AUC | tamper image_score AUC |")
    print("|---|---|---|---|")
    for kind in (*KINDS, "other"):
        if fused[kind]:
            print(
                f"| {kind} | {len(fused[kind])} | {auc(fused[kind], fused['unedited']):.3f} "
                f"| {auc(alone[kind], alone['unedited']):.3f} |"
            )
    edited = [s for k in (*KINDS, "other") for s in fused[k]]
    print(f"| all | {len(edited)} | {auc(edited, fused['unedited']):.3f} | |")
    print("| chain | edited / unedited | fused manipulation AUC | |")
    print("|---|---|---|---|")
    for chain in sorted({c for c, _ in chains}):
        pos, neg = chains[(chain, "pos")], chains[(chain, "neg")]
        print(f"| {chain} | {len(pos)} / {len(neg)} | {auc(pos, neg):.3f} | |")
    return 0


def main(argv: list[str] | None = None) -> int:
    shared = ROOT.parent.parent / "shared"
    if not (shared / "training").is_dir():
        print("../shared not found: skipped")
        return 0
    import calibrate

    calibrate.fit_and_report = report  # the same records and fit, another report
    return int(calibrate.main(argv))


if __name__ == "__main__":
    sys.exit(main())
