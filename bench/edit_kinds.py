#!/usr/bin/env python3
"""Benchmark: held-out AUC per edit kind and per processing chain, through the whole
pipeline, on the calibration's held-out camera sources.

    python bench/edit_kinds.py [--cached-only] [--work DIR]

Reads the records ``bench/calibrate.py`` analyzed and cached (``--work``, default
/tmp/triage-calibration; run that first) and fits the calibration exactly as it does,
then, instead of its report, scores the held-out files (sources never fitted on) and
prints, for each edit kind (the name of each edited copy says which), the Mann-Whitney
AUC of the edited copies against every unedited copy of the held-out camera sources:
for the fused manipulation score, and for the tamper analyzer's ``image_score`` alone.
Per chain, edited against unedited copies through the same kind of chain (and the
share of those unedited copies whose manipulation band is notable or strong), then per
kind and chain (and over the chains that keep the photo's size against those that
shrink it). Nothing is chosen on these files. Skips cleanly when ../shared is absent.

    python bench/edit_kinds.py --cached-only --analyzers

adds, per analyzer, the per-kind AUC of its own share of the fused evidence: the sum of
the calibrated log-odds terms it contributes to the manipulation score (its findings,
metrics and examined share) on the same held-out files. It says which analyzer carries
the separation of each kind, and which carries none.

    python bench/edit_kinds.py --cached-only --ceiling

adds a column that chooses nothing and ships nothing: the same fusion fitted *within*
the held-out files (the fit's own cross-fitting by source, so each file is scored by a
model that never saw its source), the per-kind AUC of its cross-fitted scores. It says
how far a linear fusion of the analyzers' present outputs can separate each edit kind on
these sources at best (in distribution, three times the fit side's files): where it
stays under a target, the fusion is not what is missing (docs/scoring.md).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT.parent))

KINDS = ("splice", "copymove", "inpaint", "retouch", "overlay")


def auc(pos: list[float], neg: list[float]) -> float:
    """Mann-Whitney AUC, ties counted 1/2 (:func:`tamper_regions.auc` on lists)."""
    import numpy as np
    from tamper_regions import auc as array_auc

    return array_auc(np.asarray(pos, dtype=float), np.asarray(neg, dtype=float))


def chain_of(name: str) -> str:
    # The new routes' copies (bench/calibrate.py route_rows) name their route.
    if "-small" in name:
        return "small copy (400-1000 px)"
    if "-web" in name:
        return "edited on a web copy"
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


def ceiling(held: list[dict], cfg: Any) -> dict[str, float]:
    """Per edit kind, the AUC of the manipulation fusion fitted within ``held`` itself
    (cross-fitted by source; records of the held-out split, so never shipped)."""
    from triage.calibration import analyzer_config
    from triage.evaluate.calibrate import fit_question, fitted_pairs

    config = analyzer_config()
    fitted = fit_question(held, "manipulation", cfg, config)
    if fitted is None:
        return {}
    # The records fit_question scored, in its order: the fitted pairs less the files
    # that carry a stated declaration (FitConfig.leave_out_declared).
    stated = set(config.get("stated", {}))
    recs = [
        r
        for r, _ in fitted_pairs(held, "manipulation")
        if not any(f["id"] in stated and f["question"] == "manipulation" for f in r["findings"])
    ]
    scores: dict[str, list[float]] = defaultdict(list)
    for r, s in zip(recs, fitted["scores"], strict=True):
        if str(r.get("source", "")).startswith("camera:"):
            scores[_kind(r)].append(s)
    out = {k: auc(scores[k], scores["unedited"]) for k in (*KINDS, "other") if scores[k]}
    edited = [s for k in (*KINDS, "other") for s in scores[k]]
    out["all"] = auc(edited, scores["unedited"])
    return out


def fit_held_out(
    records: list[dict], args: argparse.Namespace, name: str
) -> tuple[Any, Any, list[dict], list[dict]]:
    """The fit settings, the calibration fitted on the fit split as
    ``bench/calibrate.py`` fits it, the held-out records as cached, and the held-out
    camera files rescored with that calibration."""
    from calibrate import scored_records

    from triage.evaluate.calibrate import FitConfig, fit_calibration, load_fitted, rescore_all

    ok = scored_records(records)
    fit = [r for r in ok if r["split"] == "fit"]
    cfg = FitConfig(seed=args.seed, folds=args.folds, interval_mass=args.mass)
    cal = load_fitted(fit_calibration(fit, cfg, name=name))
    held = [r for r in ok if r["split"] == "heldout"]
    rescored = rescore_all(held, cal)
    camera = [r for r in rescored if str(r.get("source", "")).startswith("camera:")]
    return cfg, cal, held, camera


def report(records: list[dict], args: argparse.Namespace) -> int:
    cfg, cal, held, camera = fit_held_out(records, args, "edit-kinds")
    fused: dict[str, list[float]] = defaultdict(list)
    alone: dict[str, list[float]] = defaultdict(list)
    chains: dict[tuple[str, str], list[float]] = defaultdict(list)
    cells: dict[tuple[str, str], list[float]] = defaultdict(list)
    claimed: dict[str, list[bool]] = defaultdict(list)  # unedited copies' notable/strong
    for r in camera:
        name = r["path"].rsplit("/", 1)[-1]
        score = r["questions"]["manipulation"]["score"]
        kind = _kind(r)
        fused[kind].append(score)
        t = tamper_score(r)
        if t is not None:
            alone[kind].append(t)
        chains[(chain_of(name), "neg" if kind == "unedited" else "pos")].append(score)
        if kind == "unedited":
            claimed[chain_of(name)].append(
                r["questions"]["manipulation"]["band"]
                in ("notable-indicators", "strong-indicators")
            )
        cells[(kind, chain_of(name))].append(score)
    sources = len({r["source"] for r in camera})
    top = ceiling(held, cfg) if args.ceiling else {}
    extra = " fused, fitted within held-out (ceiling) |" if top else ""
    print(f"held-out camera sources: {sources}; unedited copies {len(fused['unedited'])}")
    print("| edit kind | edited | fused manipulation AUC | tamper image_score AUC |" + extra)
    print("|---|---|---|---|" + ("---|" if top else ""))
    for kind in (*KINDS, "other"):
        if fused[kind]:
            print(
                f"| {kind} | {len(fused[kind])} | {auc(fused[kind], fused['unedited']):.3f} "
                f"| {auc(alone[kind], alone['unedited']):.3f} |"
                + (f" {top[kind]:.3f} |" if top else "")
            )
    edited = [s for k in (*KINDS, "other") for s in fused[k]]
    print(
        f"| all | {len(edited)} | {auc(edited, fused['unedited']):.3f} | |"
        + (f" {top['all']:.3f} |" if top else "")
    )
    print("| chain | edited / unedited | fused manipulation AUC | unedited notable or strong |")
    print("|---|---|---|---|")
    for chain in sorted({c for c, _ in chains}):
        pos, neg = chains[(chain, "pos")], chains[(chain, "neg")]
        flagged = claimed[chain]
        print(
            f"| {chain} | {len(pos)} / {len(neg)} | {auc(pos, neg):.3f} | "
            f"{sum(flagged)} / {len(flagged)} ({sum(flagged) / max(1, len(flagged)):.1%}) |"
        )
    every = [f for v in claimed.values() for f in v]
    print(f"| all | | | {sum(every)} / {len(every)} ({sum(every) / max(1, len(every)):.1%}) |")
    print_kind_by_chain(cells)
    if args.analyzers:
        print_analyzer_shares(held, cal)
    return 0


def _kind(record: dict) -> str:
    name = record["path"].rsplit("/", 1)[-1]
    if record["label"] == "authentic":
        return "unedited"
    return next((k for k in KINDS if k in name), "other")


def print_analyzer_shares(held: list[dict], cal: Any) -> None:
    """Per analyzer and edit kind, the AUC of the analyzer's summed contributions to the
    fused manipulation log-odds (edited copies of that kind against every unedited copy
    of the held-out camera sources)."""
    from triage.evaluate.calibrate import rescored_results

    shares: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    names: set[str] = set()
    camera = [r for r in held if str(r.get("source", "")).startswith("camera:")]
    per_file = []
    for r in camera:
        terms = rescored_results(r, cal)["manipulation"].contributions
        total: dict[str, float] = defaultdict(float)
        for term, value in terms.items():
            if term != "intercept":
                # "tamper:metric:x", "tamper:examined" and finding ids "tamper.local_region"
                total[term.split(":", 1)[0].split(".", 1)[0]] += value
        names |= set(total)
        per_file.append((_kind(r), total))
    for kind, total in per_file:
        for name in names:
            shares[name][kind].append(total.get(name, 0.0))
    print("| analyzer: AUC of its share of the fused log-odds | " + " | ".join(KINDS) + " |")
    print("|---|" + "---|" * len(KINDS))
    for name in sorted(names):
        row = [auc(shares[name][k], shares[name]["unedited"]) for k in KINDS]
        print(f"| {name} | " + " | ".join(f"{a:.3f}" for a in row) + " |")


def print_kind_by_chain(cells: dict[tuple[str, str], list[float]]) -> None:
    """Per edit kind and chain, the fused AUC of that kind's edited copies against the
    unedited copies through the same chain, and over the chains that keep the photo's
    size against those that shrink it (a resize erases the 8x8 grid the block features
    read, so the two groups say where the evidence can be there at all)."""
    chain_names = sorted({c for _, c in cells})
    shrunk = {"resized + JPEG", "small copy (400-1000 px)"}
    print("| edit kind | " + " | ".join(chain_names) + " | size kept | resized |")
    print("|---|" + "---|" * (len(chain_names) + 2))
    for kind in KINDS:
        row = []
        for chain in chain_names:
            pos, neg = cells.get((kind, chain), []), cells.get(("unedited", chain), [])
            row.append(f"{auc(pos, neg):.2f} ({len(pos)})" if pos and neg else "-")
        for group in (False, True):
            pos = [s for c in chain_names if (c in shrunk) == group for s in cells[(kind, c)]]
            neg = [s for c in chain_names if (c in shrunk) == group for s in cells[("unedited", c)]]
            row.append(f"{auc(pos, neg):.3f} ({len(pos)} / {len(neg)})")
        print(f"| {kind} | " + " | ".join(row) + " |")


def main(argv: list[str] | None = None) -> int:
    shared = ROOT.parent.parent / "shared"
    if not (shared / "training").is_dir():
        print("../shared not found: skipped")
        return 0
    import calibrate

    # --ceiling and --analyzers are this report's own options; the rest are
    # bench/calibrate.py's.
    argv = list(sys.argv[1:] if argv is None else argv)
    own = {"--ceiling", "--analyzers"} & set(argv)
    argv = [a for a in argv if a not in own]

    def run(records: list[dict], args: argparse.Namespace) -> int:
        args.ceiling = "--ceiling" in own
        args.analyzers = "--analyzers" in own
        return report(records, args)

    calibrate.fit_and_report = run  # the same records and fit, another report
    return int(calibrate.main(argv))


if __name__ == "__main__":
    sys.exit(main())
