"""Fit the scoring weights (finding LLRs, their ranges, and "clean" LLRs) from labeled runs.

Method (docs/scoring.md describes it with the resulting numbers):

1. Per finding id, on the training files whose analyzer examined the finding's
   question: ``a`` of ``P`` positives and ``b`` of ``N`` negatives fired. The
   empirical LLR is ``log(((a+1)/(P+2)) / ((b+1)/(N+2)))`` (add-one smoothing). Its
   range is the 5th-95th percentile over a bootstrap of the files.
2. Small counts shrink toward 0: both are multiplied by ``f / (f + k)`` where
   ``f = a + b`` is how often the finding fired at all; ``k`` is chosen from
   (2, 5, 10, 20) by 5-fold cross-validated log loss on the training files
   (:func:`choose_k`, folds keep a scene and its edit together).
3. Bounds (:func:`_bounded`): a finding meant as evidence *for* (provisional LLR
   > 0) keeps LLR and range within [0, provisional high] and a low end no higher
   than the provisional one; evidence *against* is mirrored. The range is first
   widened by ``margin`` on each side. So the fit can make a number less decisive
   freely, but more decisive only up to the author's bound: an author's low end of 0
   records innocent causes (platform re-compression, resizing) that synthetic scenes
   under-represent, and synthetic scenes separate edits more cleanly than photos.
4. "Clean" per analyzer and question: the same from how often the analyzer stayed
   silent having examined, on positives and negatives; silence is weak evidence, so
   the LLR stays in [-0.5, 0] and the range in [-1, 0] with its high end at 0.
5. Summing per-finding LLRs across analyzers double-counts correlated evidence
   (naive Bayes). A single factor per question, ``scale`` in (0, 1], multiplies every
   fitted LLR and range; it minimizes the log loss of the re-scored training files.

Findings that fired fewer than ``min_fired`` times, questions without both positives
and negatives in the training data, and entries whose source says "by design" or
"by construction" keep their provisional numbers. Nothing is fitted on the files
evaluated in docs/evaluation.md.
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from triage.evaluate.metrics import examined_share, scored, smoothed_llr
from triage.fileio import write_atomic

Record = dict[str, Any]
FIXED_SOURCES = ("by design", "by construction")
_PRIOR_NOTE = " | prior note: "


@dataclass
class FitConfig:
    k: float = 10.0  # shrinkage: weight f / (f + k) for a finding that fired f times
    min_fired: int = 3
    margin: float = 0.25  # widening of each fitted range, both sides
    n_boot: int = 300
    alpha: float = 1.0  # additive smoothing
    seed: int = 0
    label: str = "generated training set"  # for the source strings
    fit_scale: bool = True


# ------------------------------------------------------------------------- weights file
def weights_path() -> Path:
    from importlib import resources

    return Path(str(resources.files("triage.data").joinpath("weights.json")))


def dump_weights(data: dict[str, Any]) -> str:
    """The weights file's layout: indent 2, each analyzer's coverage/unobserved/clean on
    one line, each finding entry on one line."""

    def one(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))

    def block(obj: dict[str, Any], depth: int, key: str) -> str:
        if depth >= 3 and key != "findings":
            return one(obj)
        pad = "  " * (depth + 1)
        items = []
        for k, v in obj.items():
            text = block(v, depth + 1, k) if isinstance(v, dict) else one(v)
            items.append(f"{pad}{json.dumps(k)}: {text}")
        if not items:
            return "{}"
        return "{\n" + ",\n".join(items) + "\n" + "  " * depth + "}"

    return block(data, 0, "") + "\n"


def write_weights(update: dict[str, Any], path: Path | None = None) -> dict[str, Any]:
    """Apply a fitted ``update`` to the weights file and write it atomically.

    The file is re-read right before writing (others may have edited their sections);
    only ``llr``, ``range`` and ``source`` of existing finding entries and the ``clean``
    values named in ``update`` change. Returns the written data.
    """
    target = path or weights_path()
    data = json.loads(target.read_text("utf-8"))
    apply_update(data, update)
    text = dump_weights(data)
    if json.loads(text) != data:  # the layout must not change a value
        raise RuntimeError("weights layout round-trip failed")
    write_atomic(target, text)
    return data


def apply_update(data: dict[str, Any], update: dict[str, Any]) -> None:
    """In place: copy fitted values into ``data`` where the entries exist."""
    analyzers = data.get("analyzers", {})
    for fid, entry in update.get("findings", {}).items():
        section = analyzers.get(fid.split(".", 1)[0], {}).get("findings", {})
        if fid in section:
            for key in ("llr", "range", "source"):
                section[fid][key] = entry[key]
    for name, questions in update.get("clean", {}).items():
        cfg = analyzers.get(name)
        if cfg is None:
            continue
        for q, entry in questions.items():
            if q in cfg.get("clean", {}):
                cfg["clean"][q] = {"llr": entry["llr"], "range": entry["range"]}


# ------------------------------------------------------------------------------ rescore
@contextmanager
def using_weights(weights: dict[str, Any]) -> Iterator[None]:
    """Make scoring use ``weights`` instead of the packaged file (within this block)."""
    from triage import scoring

    original = scoring.load_weights
    scoring.load_weights = lambda: weights  # type: ignore[assignment]
    try:
        yield
    finally:
        scoring.load_weights = original


def rescore(record: Record, weights: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """A record's per-question results recomputed from its findings and analyzer runs
    (with ``weights`` if given): what the pipeline would report with those weights."""
    from triage.analyzers.base import RawFinding
    from triage.scoring import AnalyzerOutcome, score_all, to_finding

    def run() -> dict[str, dict[str, Any]]:
        findings = [
            to_finding(
                f["analyzer"],
                RawFinding(
                    id=f["id"],
                    question=f["question"],
                    title=f["id"],
                    detail="",
                    strength=f.get("strength", 1.0),
                ),
            )
            for f in record.get("findings", [])
        ]
        outcomes = [
            AnalyzerOutcome(name, a.get("status", "ok"), dict(a.get("examined") or {}))
            for name, a in record.get("analyzers", {}).items()
            if a.get("status") != "not-applicable"
        ]
        results = score_all(findings, outcomes, {})
        return {
            q: {
                "score": r.score,
                "interval": list(r.interval),
                "band": r.band,
                "coverage": r.coverage,
            }
            for q, r in results.items()
        }

    if weights is None:
        return run()
    with using_weights(weights):
        return run()


def rescore_all(records: Sequence[Record], weights: dict[str, Any]) -> list[Record]:
    out = []
    for r in records:
        if r.get("outcome") in ("ok", "error") and r.get("questions"):
            r = dict(r)
            r["questions"] = rescore(r, weights)
        out.append(r)
    return out


# ---------------------------------------------------------------------------------- fit
def _fired(record: Record, fid: str) -> bool:
    return any(f["id"] == fid for f in record.get("findings", []))


def _silent(record: Record, analyzer: str, question: str) -> bool:
    return not any(
        f["analyzer"] == analyzer and f["question"] == question for f in record.get("findings", [])
    )


def _bootstrap(
    hits_pos: Sequence[bool], hits_neg: Sequence[bool], cfg: FitConfig
) -> tuple[float, float]:
    import numpy as np

    rng = np.random.default_rng(cfg.seed)
    hp = np.asarray(hits_pos, dtype=float)
    hn = np.asarray(hits_neg, dtype=float)
    ip = rng.integers(0, len(hp), (cfg.n_boot, len(hp)))
    ineg = rng.integers(0, len(hn), (cfg.n_boot, len(hn)))
    sp = hp[ip].sum(axis=1)
    sn = hn[ineg].sum(axis=1)
    p = (sp + cfg.alpha) / (len(hp) + 2 * cfg.alpha)
    q = (sn + cfg.alpha) / (len(hn) + 2 * cfg.alpha)
    llr = np.log(p / q)
    return float(np.percentile(llr, 5)), float(np.percentile(llr, 95))


def _base_note(source: str) -> str:
    if source.startswith("fitted") and _PRIOR_NOTE in source:
        return source.split(_PRIOR_NOTE, 1)[1]
    return source


def _r(x: float) -> float:
    return round(x + 0.0, 2)


def fit(
    records: Sequence[Record], weights: dict[str, Any], cfg: FitConfig | None = None
) -> dict[str, Any]:
    """Fitted values for the weights file, and the statistics behind them.

    Returns ``{"findings": {id: {llr, range, source, stats...}}, "clean": {analyzer:
    {question: {llr, range, stats...}}}, "scale": {question: s}, "skipped": {id: why}}``.
    """
    cfg = cfg or FitConfig()
    analyzers = weights.get("analyzers", {})
    question_of: dict[str, str] = {}
    for r in records:
        for f in r.get("findings", []):
            question_of.setdefault(f["id"], f["question"])
    raw: dict[str, dict[str, Any]] = {}
    skipped: dict[str, str] = {}
    for name, acfg in analyzers.items():
        for fid, entry in acfg.get("findings", {}).items():
            source = str(entry.get("source", ""))
            if source.startswith(FIXED_SOURCES):
                skipped[fid] = "fixed by design"
                continue
            q = question_of.get(fid)
            if q is None:
                skipped[fid] = "never fired on the training files"
                continue
            pairs = [(r, t) for r, t in scored(records, q) if examined_share(r, name, q) > 0]
            pos = [_fired(r, fid) for r, t in pairs if t]
            neg = [_fired(r, fid) for r, t in pairs if not t]
            if not pos or not neg:
                skipped[fid] = f"no positives or no negatives for {q} in the training files"
                continue
            a, b = sum(pos), sum(neg)
            if a + b < cfg.min_fired:
                skipped[fid] = f"fired only {a + b} times"
                continue
            emp = smoothed_llr(a, len(pos), b, len(neg), cfg.alpha)
            lo, hi = _bootstrap(pos, neg, cfg)
            shrink = (a + b) / (a + b + cfg.k)
            prov_llr, prov_low, prov_high = provisional_of(entry)
            raw[fid] = {
                "question": q,
                "sign": 1.0 if prov_llr >= 0 else -1.0,
                "prov": (prov_llr, prov_low, prov_high),
                "prov_low": prov_low,
                "prov_high": prov_high,
                "fired_pos": a,
                "n_pos": len(pos),
                "fired_neg": b,
                "n_neg": len(neg),
                "empirical": emp,
                "boot": (lo, hi),
                "shrink": shrink,
                "note": _base_note(source),
            }
    clean_raw: dict[str, dict[str, dict[str, Any]]] = {}
    for name, acfg in analyzers.items():
        for q in acfg.get("clean", {}):
            pairs = [(r, t) for r, t in scored(records, q) if examined_share(r, name, q) > 0]
            pos = [_silent(r, name, q) for r, t in pairs if t]
            neg = [_silent(r, name, q) for r, t in pairs if not t]
            if len(pos) < cfg.min_fired or len(neg) < cfg.min_fired:
                continue
            a, b = sum(pos), sum(neg)
            if a + b < cfg.min_fired:  # (almost) never silent: nothing to learn
                continue
            emp = smoothed_llr(a, len(pos), b, len(neg), cfg.alpha)
            lo, hi = _bootstrap(pos, neg, cfg)
            n = len(pos) + len(neg)
            clean_raw.setdefault(name, {})[q] = {
                "silent_pos": a,
                "n_pos": len(pos),
                "silent_neg": b,
                "n_neg": len(neg),
                "empirical": emp,
                "boot": (lo, hi),
                "shrink": n / (n + cfg.k),
            }

    def build(scale: dict[str, float]) -> dict[str, Any]:
        findings = {}
        for fid, s in raw.items():
            f = scale.get(s["question"], 1.0) * s["shrink"]
            llr = f * s["empirical"]
            lo, hi = f * s["boot"][0] - cfg.margin, f * s["boot"][1] + cfg.margin
            lo, hi, llr = _bounded(lo, hi, llr, s["sign"], s["prov_low"], s["prov_high"])
            findings[fid] = {
                "llr": _r(llr),
                "range": [_r(lo), _r(hi)],
                "stats": {k: v for k, v in s.items() if k != "note"},
                "source": (
                    f"fitted on the {cfg.label}: fired {s['fired_pos']}/{s['n_pos']} positives vs "
                    f"{s['fired_neg']}/{s['n_neg']} negatives for {s['question']}; empirical LLR "
                    f"{s['empirical']:.2f} [{s['boot'][0]:.2f}, {s['boot'][1]:.2f}] x shrink "
                    f"{s['shrink']:.2f} x scale {scale.get(s['question'], 1.0):.2f}, range "
                    f"+-{cfg.margin}, bounded by the provisional {s['prov'][0]:g} "
                    f"[{s['prov'][1]:g}, {s['prov'][2]:g}]"
                    + (_PRIOR_NOTE + s["note"] if s["note"] else "")
                ),
            }
        clean: dict[str, dict[str, Any]] = {}
        for name, qs in clean_raw.items():
            for q, s in qs.items():
                f = scale.get(q, 1.0) * s["shrink"]
                # silence is weak evidence: LLR in [-0.5, 0], range in [-1, 0] with its
                # high end at 0 (never decisive on its own)
                lo, hi, llr = _bounded(
                    f * s["boot"][0] - cfg.margin / 2,
                    0.0,
                    f * s["empirical"],
                    -1.0,
                    -1.0,
                    0.0,
                )
                llr = max(llr, -0.5)
                clean.setdefault(name, {})[q] = {
                    "llr": _r(llr),
                    "range": [_r(lo), _r(hi)],
                    "stats": s,
                }
        return {"findings": findings, "clean": clean}

    scale = {q: 1.0 for q in {s["question"] for s in raw.values()}}
    if cfg.fit_scale:
        for q in list(scale):
            best = (math.inf, 1.0)
            for s in (1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3):
                trial = build({**scale, q: s})
                w = copy.deepcopy(weights)
                apply_update(w, trial)
                loss = log_loss(rescore_all(records, w), q)
                if loss < best[0] - 1e-9:
                    best = (loss, s)
            scale[q] = best[1]
    out = build(scale)
    out["scale"] = scale
    out["skipped"] = skipped
    return out


def choose_k(
    records: Sequence[Record],
    weights: dict[str, Any],
    cfg: FitConfig,
    grid: Sequence[float] = (2.0, 5.0, 10.0, 20.0),
    folds: int = 5,
    question: str = "manipulation",
) -> tuple[float, dict[float, float]]:
    """The shrinkage constant with the lowest cross-validated log loss on ``records``.

    Folds keep each record's ``unit`` (a scene and its edits) together. Returns the
    chosen ``k`` and the mean validation log loss of every candidate.
    """
    units = sorted({str(r.get("unit", r.get("name"))) for r in records})
    losses: dict[float, float] = {}
    for k in grid:
        total, count = 0.0, 0
        for f in range(folds):
            held = {u for i, u in enumerate(units) if i % folds == f}
            train = [r for r in records if str(r.get("unit", r.get("name"))) not in held]
            val = [r for r in records if str(r.get("unit", r.get("name"))) in held]
            if not train or not val:
                continue
            trial_cfg = FitConfig(**{**cfg.__dict__, "k": k, "fit_scale": False, "n_boot": 50})
            w = copy.deepcopy(weights)
            apply_update(w, fit(train, weights, trial_cfg))
            loss = log_loss(rescore_all(val, w), question)
            if not math.isnan(loss):
                total, count = total + loss, count + 1
        losses[k] = total / count if count else math.inf
    best = min(grid, key=lambda k: (losses[k], -k))
    return best, losses


_PROVISIONAL = re.compile(r"bounded by the provisional (-?[\d.]+) \[(-?[\d.]+), (-?[\d.]+)\]")


def provisional_of(entry: dict[str, Any]) -> tuple[float, float, float]:
    """The author's (llr, low, high) of a finding entry: its values, or, once fitted,
    the provisional values recorded in its source string (so refitting is idempotent)."""
    source = str(entry.get("source", ""))
    m = _PROVISIONAL.search(source) if source.startswith("fitted") else None
    if m:
        return float(m.group(1)), float(m.group(2)), float(m.group(3))
    lo, hi = entry.get("range") or [0.0, 0.0]
    return float(entry.get("llr", 0.0)), float(lo), float(hi)


def provisional_weights(weights: dict[str, Any]) -> dict[str, Any]:
    """A copy with every fitted finding entry set back to its recorded provisional
    values (clean values are kept: the file does not record their provisional ones)."""
    out = copy.deepcopy(weights)
    for cfg in out.get("analyzers", {}).values():
        for entry in cfg.get("findings", {}).values():
            if str(entry.get("source", "")).startswith("fitted"):
                llr, lo, hi = provisional_of(entry)
                entry["llr"], entry["range"] = llr, [lo, hi]
    return out


def _bounded(
    lo: float, hi: float, llr: float, sign: float, prov_low: float, prov_high: float
) -> tuple[float, float, float]:
    """Fitted (low, high, llr) kept on the finding's side of 0 and within the author's
    provisional range at its decisive end.

    Evidence for (sign > 0): LLR and range in [0, provisional high]; the low end no
    higher than the provisional low end. Evidence against: mirrored. The fit can thus
    make a number less decisive freely, more decisive only up to the author's bound:
    synthetic training scenes separate edits more cleanly than photographs do.
    """
    if sign > 0:
        top = max(prov_high, 0.0)
        llr = min(max(llr, 0.0), top)
        lo = min(max(lo, 0.0), max(prov_low, 0.0), llr)
        hi = min(max(hi, llr), top)
    else:
        bottom = min(prov_low, 0.0)
        llr = max(min(llr, 0.0), bottom)
        hi = max(min(hi, 0.0), min(prov_high, 0.0), llr)
        lo = max(min(lo, llr), bottom)
    return lo, hi, llr


def log_loss(records: Sequence[Record], question: str) -> float:
    """Mean negative log-likelihood of the labels under the records' point scores."""
    pairs = scored(records, question)
    if not pairs:
        return math.nan
    eps = 1e-6
    total = 0.0
    for r, t in pairs:
        p = min(max(float(r["questions"][question]["score"]), eps), 1 - eps)
        total -= math.log(p if t else 1 - p)
    return total / len(pairs)


def summarize_update(update: dict[str, Any]) -> list[list[str]]:
    """Rows (finding, fired pos, fired neg, empirical, fitted llr [range]) for tables."""
    rows = []
    for fid, e in sorted(update["findings"].items()):
        s = e["stats"]
        rows.append(
            [
                fid,
                f"{s['fired_pos']}/{s['n_pos']}",
                f"{s['fired_neg']}/{s['n_neg']}",
                f"{s['empirical']:.2f}",
                f"{e['llr']:.2f} [{e['range'][0]:.2f}, {e['range'][1]:.2f}]",
            ]
        )
    return rows


def load_records(path: str | Path) -> list[Record]:
    """Records from an evaluation JSON (``--json``) file."""
    data = json.loads(Path(path).read_text("utf-8"))
    return list(data["records"] if isinstance(data, dict) else data)
