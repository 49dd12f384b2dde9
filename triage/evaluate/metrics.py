"""Metrics over evaluation records (see :mod:`triage.evaluate.runner` for their shape).

Which labels count as positive and negative for each question:

=============  ==================  ==========================
question       positive            negative
=============  ==================  ==========================
manipulation   manipulated         authentic
synthetic      synthetic           authentic, manipulated
provenance     (no labels)         (no labels)
=============  ==================  ==========================

``malformed`` and ``unknown`` files never enter a score metric; malformed files are
counted by :func:`robustness`. Files that timed out or crashed have no scores and are
left out of the score metrics (and counted by :func:`robustness`).

Everything here is plain numpy and pure functions, testable on hand-made records.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from triage.report import BANDS, QUESTIONS

Record = dict[str, Any]

POSITIVE: dict[str, frozenset[str]] = {
    "manipulation": frozenset({"manipulated"}),
    "synthetic": frozenset({"synthetic"}),
    "provenance": frozenset(),
}
NEGATIVE: dict[str, frozenset[str]] = {
    "manipulation": frozenset({"authentic"}),
    "synthetic": frozenset({"authentic", "manipulated"}),
    "provenance": frozenset(),
}
# What each band claims about the truth: True = "the indicators are real", False =
# "nothing here". weak-indicators and insufficient-evidence claim nothing.
BAND_CLAIMS: dict[str, bool] = {
    "strong-indicators": True,
    "notable-indicators": True,
    "no-indicators": False,
}
SCORED_OUTCOMES = frozenset({"ok", "error"})


# ------------------------------------------------------------------ basic statistics
def average_ranks(values: Any) -> Any:
    """1-based ranks with ties given the average of the ranks they span."""
    import numpy as np

    x = np.asarray(values, dtype=np.float64)
    if x.size == 0:
        return x
    _uniq, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)  # last 1-based rank of each distinct value
    starts = ends - counts + 1
    return ((starts + ends) / 2.0)[inverse]


def roc_auc(scores: Sequence[float], positive: Sequence[bool]) -> float | None:
    """Area under the ROC curve via the Mann-Whitney U statistic, ties counted as 1/2.

    None when either class is empty.
    """
    import numpy as np

    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(positive, dtype=bool)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return None
    ranks = average_ranks(s)
    u = float(ranks[y].sum()) - n_pos * (n_pos + 1) / 2.0
    return u / (n_pos * n_neg)


# The bootstrap of :func:`auc_interval`: draws, and the fewest files of a class it reads.
AUC_RESAMPLES = 2000
AUC_MIN_CLASS = 5


def auc_interval(
    scores: Sequence[float],
    positive: Sequence[bool],
    level: float = 0.95,
    resamples: int = AUC_RESAMPLES,
    seed: int = 0,
    min_class: int = AUC_MIN_CLASS,
) -> tuple[float, float] | None:
    """Percentile interval of the Mann-Whitney AUC over a stratified bootstrap of files.

    Parameters
    ----------
    scores, positive : sequences
        One score and one label per file.
    level : float
        Central share of the bootstrap distribution the interval holds.
    resamples : int
        Bootstrap draws; positives and negatives are each drawn with replacement at
        their own count, so every draw has both classes.
    seed : int
        Seed of the draws (the same records give the same interval).
    min_class : int
        Fewer files in either class give no interval: a bootstrap of one to four
        files mostly redraws the same few and reads far narrower than the truth.

    Returns
    -------
    (low, high) or None
        None when either class has fewer than ``min_class`` files.

    Notes
    -----
    A draw's AUC is ``w @ C @ v / (n_pos * n_neg)`` with ``C`` the pairwise win matrix
    (1 when the positive scores higher, 1/2 on a tie) and ``w``, ``v`` the draw's
    multiplicities of each positive and negative: no pair is compared twice. Files of
    one source (a photo and its edit) are drawn independently, which makes the
    interval somewhat wider than a paired analysis would.

    References
    ----------
    .. [1] B. Efron and R. J. Tibshirani, "An Introduction to the Bootstrap",
       Chapman & Hall, 1993, ch. 13 (percentile intervals).
    """
    import numpy as np

    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(positive, dtype=bool)
    pos, neg = s[y], s[~y]
    if min(pos.size, neg.size) < max(min_class, 1):
        return None
    wins = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    rng = np.random.default_rng(seed)
    aucs = np.empty(resamples)
    # In batches, so that a large evaluation's draws never sit in memory at once.
    batch = max(1, min(resamples, 2_000_000 // max(pos.size, neg.size)))
    for start in range(0, resamples, batch):
        k = min(batch, resamples - start)
        w = rng.multinomial(pos.size, np.full(pos.size, 1.0 / pos.size), size=k)
        v = rng.multinomial(neg.size, np.full(neg.size, 1.0 / neg.size), size=k)
        aucs[start : start + k] = np.einsum("kj,kj->k", w @ wins, v) / (pos.size * neg.size)
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(aucs, [tail, 1.0 - tail])
    return float(low), float(high)


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for a proportion k/n (95% by default); (0, 1) when n = 0."""
    if n <= 0:
        return (0.0, 1.0)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def smoothed_llr(
    fired_pos: int, n_pos: int, fired_neg: int, n_neg: int, alpha: float = 1.0
) -> float:
    """log(P(fired | positive) / P(fired | negative)) with add-``alpha`` smoothing."""
    p = (fired_pos + alpha) / (n_pos + 2 * alpha)
    q = (fired_neg + alpha) / (n_neg + 2 * alpha)
    return math.log(p / q)


# ----------------------------------------------------------------------- record helpers
def truth(record: Record, question: str) -> bool | None:
    """True for a positive, False for a negative, None when the label does not count."""
    label = record.get("label")
    if label in POSITIVE.get(question, ()):
        return True
    if label in NEGATIVE.get(question, ()):
        return False
    return None


def scored(records: Iterable[Record], question: str) -> list[tuple[Record, bool]]:
    """(record, is_positive) for records with a label for ``question`` and a report."""
    out = []
    for r in records:
        t = truth(r, question)
        if t is None or r.get("outcome") not in SCORED_OUTCOMES:
            continue
        if question not in r.get("questions", {}):
            continue
        out.append((r, t))
    return out


def fired_ids(record: Record, question: str | None = None) -> set[str]:
    return {
        f["id"]
        for f in record.get("findings", [])
        if question is None or f.get("question") == question
    }


def examined_share(record: Record, analyzer: str, question: str) -> float:
    """How much of ``question`` the analyzer examined on this file (0 if it did not run)."""
    entry = record.get("analyzers", {}).get(analyzer)
    if not entry or entry.get("status") != "ok":
        return 0.0
    examined = entry.get("examined")
    if examined:
        return float(min(max(examined.get(question, 0.0), 0.0), 1.0))
    return 1.0  # no capture available: an analyzer that ran ok is taken as having looked


# ----------------------------------------------------------------------------- metrics
def auc_for(
    records: Iterable[Record], question: str, key: str = "score", interval: bool = False
) -> dict[str, Any]:
    """ROC AUC of the point score (``key='score'``) or of the interval's low end (``'low'``)
    and the class counts; with ``interval``, also its 95% interval over a stratified
    bootstrap of files (:func:`auc_interval`; None for too few files), which costs up
    to a second on thousands of files, so only the figures a report shows ask for it."""
    pairs = scored(records, question)
    scores = [_value(r, question, key) for r, _ in pairs]
    labels = [t for _, t in pairs]
    out: dict[str, Any] = {"auc": roc_auc(scores, labels)}
    if interval:
        span = auc_interval(scores, labels)
        out["auc_interval"] = None if span is None else [round(x, 4) for x in span]
    out["n_pos"] = sum(labels)
    out["n_neg"] = len(labels) - sum(labels)
    return out


def _value(record: Record, question: str, key: str) -> float:
    q = record["questions"][question]
    if key == "low":
        return float(q["interval"][0])
    if key == "high":
        return float(q["interval"][1])
    return float(q["score"])


def band_rates(records: Iterable[Record], question: str) -> dict[str, dict[str, Any]]:
    """Per label: n and the count and share of each band for ``question``."""
    by_label: dict[str, Counter[str]] = defaultdict(Counter)
    for r in records:
        if r.get("outcome") not in SCORED_OUTCOMES or question not in r.get("questions", {}):
            continue
        by_label[r["label"]][r["questions"][question]["band"]] += 1
    out: dict[str, dict[str, Any]] = {}
    for label, counts in sorted(by_label.items()):
        n = sum(counts.values())
        out[label] = {
            "n": n,
            "counts": {b: counts.get(b, 0) for b in BANDS},
            "rates": {b: counts.get(b, 0) / n for b in BANDS},
        }
    return out


def claim_coverage(records: Iterable[Record], question: str) -> dict[str, Any]:
    """How often the truth falls on the side of 0.5 that the band claims.

    ``strong``/``notable`` claim the interval lies above 0.5 (indicators are real);
    ``no-indicators`` claims it lies below. For each claiming band: n, correct, the
    share correct with a Wilson interval; the same pooled over all claims; and how
    many files got a band that claims nothing (weak, insufficient).
    """
    pairs = scored(records, question)
    per_band: dict[str, dict[str, Any]] = {}
    total_n = total_ok = 0
    for band, claim in BAND_CLAIMS.items():
        hits = [t == claim for r, t in pairs if r["questions"][question]["band"] == band]
        n, ok = len(hits), sum(hits)
        total_n += n
        total_ok += ok
        per_band[band] = {
            "claims": "positive" if claim else "negative",
            "n": n,
            "correct": ok,
            "share": ok / n if n else None,
            "wilson": list(wilson(ok, n)) if n else None,
        }
    return {
        "bands": per_band,
        "n": total_n,
        "correct": total_ok,
        "share": total_ok / total_n if total_n else None,
        "no_claim": len(pairs) - total_n,
    }


def reliability(records: Iterable[Record], question: str, bins: int = 10) -> dict[str, Any]:
    """Reliability bins of the point score, Brier score, log loss and expected calibration error."""
    import numpy as np

    pairs = scored(records, question)
    if not pairs:
        return {
            "bins": [],
            "n": 0,
            "brier": None,
            "log_loss": None,
            "ece": None,
            "ece_balanced": None,
            "base_rate": None,
        }
    s = np.array([float(r["questions"][question]["score"]) for r, _ in pairs])
    lo = np.array([float(r["questions"][question]["interval"][0]) for r, _ in pairs])
    hi = np.array([float(r["questions"][question]["interval"][1]) for r, _ in pairs])
    y = np.array([1.0 if t else 0.0 for _, t in pairs])
    idx = np.minimum((s * bins).astype(int), bins - 1)
    # The scores assume the prior (0.5 by default); a labeled set has its own mix of
    # positives. "balanced" re-weights each class to half the set, as the neutral prior
    # assumes, so that a bin's observed rate can be compared with its stated interval.
    pi = float(y.mean())
    w_pos = 0.5 / pi if pi > 0 else 0.0
    w_neg = 0.5 / (1 - pi) if pi < 1 else 0.0
    out_bins = []
    ece = ece_bal = 0.0
    for b in range(bins):
        m = idx == b
        n = int(m.sum())
        if n == 0:
            continue
        k = int(y[m].sum())
        mean = float(s[m].mean())
        rate = k / n
        ece += n / len(s) * abs(mean - rate)
        bal_den = k * w_pos + (n - k) * w_neg
        balanced = k * w_pos / bal_den if bal_den > 0 else rate
        ece_bal += n / len(s) * abs(mean - balanced)
        out_bins.append(
            {
                "lo": b / bins,
                "hi": (b + 1) / bins,
                "n": n,
                "positives": k,
                "mean_score": mean,
                "mean_low": float(lo[m].mean()),
                "mean_high": float(hi[m].mean()),
                "observed": rate,
                "observed_balanced": balanced,
                "wilson": list(wilson(k, n)),
                "chance_balanced": list(balanced_jeffreys(k, n, pi)),
            }
        )
    eps = 1e-6
    clipped = np.clip(s, eps, 1 - eps)
    log_loss = float(-np.mean(y * np.log(clipped) + (1 - y) * np.log(1 - clipped)))
    return {
        "bins": out_bins,
        "n": len(s),
        "brier": float(np.mean((s - y) ** 2)),
        "log_loss": log_loss,
        "ece": ece,
        "ece_balanced": ece_bal,
        "base_rate": pi,
    }


def balanced_jeffreys(k: int, n: int, base_rate: float, mass: float = 0.9) -> tuple[float, float]:
    """Where a bin's class-balanced rate may lie by chance alone, given ``k`` positives
    among its ``n`` files: the Jeffreys interval (``mass``) on the raw rate, carried to
    the balanced scale the scores assume (each class weighing half). With few files in
    a bin, or few positives in the whole set (each then weighs much on the balanced
    scale), the observed rate moves far by chance; a bin whose stated interval meets
    this one misses by no more than that.

    Parameters
    ----------
    k, n : positives and files in the bin.
    base_rate : share of positives in the whole set (0 < base_rate < 1).
    mass : probability mass of the interval.

    Returns
    -------
    (low, high) on the balanced scale; (0, 1) when the set has one class only.

    References
    ----------
    Brown, Cai & DasGupta, "Interval estimation for a binomial proportion",
    Statistical Science 16(2), 2001 (the Jeffreys interval).
    """
    from scipy.special import betaincinv

    if n <= 0 or not 0.0 < base_rate < 1.0:
        return 0.0, 1.0
    tail = (1.0 - mass) / 2.0
    w_pos, w_neg = 0.5 / base_rate, 0.5 / (1.0 - base_rate)

    def balanced(p: float) -> float:
        return p * w_pos / (p * w_pos + (1.0 - p) * w_neg)

    lo = 0.0 if k == 0 else balanced(float(betaincinv(k + 0.5, n - k + 0.5, tail)))
    hi = 1.0 if k == n else balanced(float(betaincinv(k + 0.5, n - k + 0.5, 1.0 - tail)))
    return lo, hi


def rate_inside(b: dict[str, Any]) -> bool:
    """Whether a reliability bin's observed balanced rate lies inside the bin's mean
    stated interval (the strict reading; :func:`chance_consistent` allows for chance)."""
    return bool(b["mean_low"] - 1e-9 <= b["observed_balanced"] <= b["mean_high"] + 1e-9)


def chance_consistent(b: dict[str, Any]) -> bool:
    """Whether a reliability bin's mean stated interval meets the interval its
    observed balanced rate has by chance (``chance_balanced``)."""
    lo, hi = b["chance_balanced"]
    return bool(lo <= b["mean_high"] + 1e-9 and hi >= b["mean_low"] - 1e-9)


def interval_coverage(records: Iterable[Record], question: str, bins: int = 10) -> dict[str, Any]:
    """Does the stated interval mean what it says? Neighbourhood = score bin (tenths).

    * ``files``: share of files whose own interval contains the observed
      class-balanced positive rate of their bin;
    * ``bins``: share of bins whose observed balanced rate lies inside the bin's mean
      stated interval (the reliability diagram's bars against its whiskers);
    * ``ece_balanced``: the class-balanced expected calibration error.
    Balanced, because the scores are at the prior 0.5 (see :func:`reliability`).
    """
    records = list(records)
    rel = reliability(records, question, bins)
    if not rel["bins"]:
        return {"n": 0, "files": None, "bins": None, "bins_n": 0, "ece_balanced": None}
    rate_of = {round(b["lo"] * bins): b["observed_balanced"] for b in rel["bins"]}
    inside = 0
    pairs = scored(records, question)
    for r, _ in pairs:
        q = r["questions"][question]
        b = min(int(float(q["score"]) * bins), bins - 1)
        lo, hi = q["interval"]
        inside += int(lo - 1e-9 <= rate_of[b] <= hi + 1e-9)
    ok_bins = sum(1 for b in rel["bins"] if rate_inside(b))
    return {
        "n": len(pairs),
        "files": inside / len(pairs),
        "bins": ok_bins / len(rel["bins"]),
        "bins_ok": ok_bins,
        "bins_consistent": sum(1 for b in rel["bins"] if chance_consistent(b)),
        "bins_n": len(rel["bins"]),
        "ece_balanced": rel["ece_balanced"],
    }


def _balanced_ece(s: Any, y: Any, bins: int) -> float:
    """Class-balanced ECE of scores ``s`` against 0/1 labels ``y`` (as :func:`reliability`)."""
    import numpy as np

    pi = float(y.mean())
    if pi in (0.0, 1.0):
        return float(np.mean(np.abs(s - pi)))
    w_pos, w_neg = 0.5 / pi, 0.5 / (1 - pi)
    idx = np.minimum((s * bins).astype(int), bins - 1)
    total = 0.0
    for b in np.unique(idx):
        m = idx == b
        k = float(y[m].sum())
        n = float(m.sum())
        balanced = k * w_pos / (k * w_pos + (n - k) * w_neg)
        total += n / len(s) * abs(float(s[m].mean()) - balanced)
    return total


def ece_spread(
    records: Iterable[Record],
    question: str,
    bins: int = 10,
    n_boot: int = 400,
    seed: int = 0,
) -> dict[str, Any]:
    """How much the balanced ECE of a set this size moves by chance alone.

    * ``files``: 5-95% of the balanced ECE over a bootstrap of files;
    * ``sources``: the same over a bootstrap of sources (``record['source']``, else
      the first folder of the name): files of one source are not independent;
    * ``floor``: mean and 95th percentile of the balanced ECE that *perfectly
      calibrated* scores would show on this many files with these scores (labels drawn
      from the scores at the set's own base rate; Broecker & Smith 2007's consistency
      resampling). A measured ECE inside that range cannot be told from perfect
      calibration with this data; the target is reachable only if the floor is below it.
    """
    import numpy as np

    pairs = scored(records, question)
    if len(pairs) < 2 or all(t for _, t in pairs) or not any(t for _, t in pairs):
        return {"n": len(pairs), "files": None, "sources": None, "floor": None}
    s = np.array([float(r["questions"][question]["score"]) for r, _ in pairs])
    y = np.array([1.0 if t else 0.0 for _, t in pairs])
    groups = [str(r.get("source") or str(r.get("name", "")).split("/")[0]) for r, _ in pairs]
    rng = np.random.default_rng(seed)

    def boot(draw: Any) -> list[float]:
        out = []
        for _ in range(n_boot):
            idx = draw()
            if 0 < y[idx].sum() < len(idx):
                out.append(_balanced_ece(s[idx], y[idx], bins))
        return out

    by_files = boot(lambda: rng.integers(0, len(s), len(s)))
    names = sorted(set(groups))
    rows_of = {g: np.array([i for i, h in enumerate(groups) if h == g]) for g in names}

    def draw_sources() -> Any:
        pick = rng.integers(0, len(names), len(names))
        return np.concatenate([rows_of[names[j]] for j in pick])

    by_sources = boot(draw_sources)
    pi = float(y.mean())
    odds = np.log(np.clip(s, 1e-6, 1 - 1e-6) / np.clip(1 - s, 1e-6, 1)) + np.log(pi / (1 - pi))
    p_true = 1 / (1 + np.exp(-odds))  # balanced scores moved to the set's base rate
    floor = [
        _balanced_ece(s, (rng.random(len(s)) < p_true).astype(float), bins) for _ in range(n_boot)
    ]

    def q5_95(v: list[float]) -> list[float] | None:
        return [float(np.percentile(v, 5)), float(np.percentile(v, 95))] if v else None

    return {
        "n": len(s),
        "sources": len(names),
        "ece": _balanced_ece(s, y, bins),
        "files": q5_95(by_files),
        "by_sources": q5_95(by_sources),
        "floor": [float(np.mean(floor)), float(np.percentile(floor, 95))],
    }


def finding_stats(records: Iterable[Record], alpha: float = 1.0) -> dict[str, dict[str, Any]]:
    """Per finding id: how often it fired on positives and negatives of its question,
    its count on every label, and its empirical LLR with add-``alpha`` smoothing."""
    recs = [r for r in records if r.get("outcome") in SCORED_OUTCOMES]
    question_of: dict[str, str] = {}
    by_label: dict[str, Counter[str]] = defaultdict(Counter)
    for r in recs:
        for f in r.get("findings", []):
            question_of.setdefault(f["id"], f["question"])
        for fid in fired_ids(r):
            by_label[fid][r["label"]] += 1
    out: dict[str, dict[str, Any]] = {}
    for fid in sorted(question_of):
        q = question_of[fid]
        pairs = scored(recs, q)
        n_pos = sum(1 for _, t in pairs if t)
        n_neg = len(pairs) - n_pos
        f_pos = sum(1 for r, t in pairs if t and fid in fired_ids(r))
        f_neg = sum(1 for r, t in pairs if not t and fid in fired_ids(r))
        out[fid] = {
            "question": q,
            "fired_pos": f_pos,
            "n_pos": n_pos,
            "fired_neg": f_neg,
            "n_neg": n_neg,
            "by_label": dict(by_label[fid]),
            "empirical_llr": smoothed_llr(f_pos, n_pos, f_neg, n_neg, alpha)
            if n_pos and n_neg and (f_pos or f_neg)
            else None,
        }
    return out


def clean_stats(records: Iterable[Record], alpha: float = 1.0) -> dict[str, dict[str, Any]]:
    """Per ``analyzer/question``: how often the analyzer examined the file and stayed
    silent on positives and on negatives, and the empirical LLR of that silence."""
    recs = [r for r in records if r.get("outcome") in SCORED_OUTCOMES]
    names = sorted({a for r in recs for a in r.get("analyzers", {})})
    out: dict[str, dict[str, Any]] = {}
    for q in QUESTIONS:
        pairs = scored(recs, q)
        if not pairs:
            continue
        for name in names:
            looked = [(r, t) for r, t in pairs if examined_share(r, name, q) > 0]
            if not looked:
                continue
            silent = [
                (r, t)
                for r, t in looked
                if not any(
                    f["analyzer"] == name and f["question"] == q for f in r.get("findings", [])
                )
            ]
            n_pos = sum(1 for _, t in looked if t)
            n_neg = len(looked) - n_pos
            s_pos = sum(1 for _, t in silent if t)
            s_neg = len(silent) - s_pos
            out[f"{name}/{q}"] = {
                "analyzer": name,
                "question": q,
                "silent_pos": s_pos,
                "n_pos": n_pos,
                "silent_neg": s_neg,
                "n_neg": n_neg,
                "empirical_llr": smoothed_llr(s_pos, n_pos, s_neg, n_neg, alpha)
                if n_pos and n_neg
                else None,
            }
    return out


def box_mask(
    boxes: Sequence[Sequence[float]],
    shape: tuple[int, int],
    scale: tuple[float, float] = (1.0, 1.0),
) -> Any:
    """A boolean H x W mask of the union of ``[x0, y0, x1, y1]`` boxes (x1, y1 exclusive),
    with box coordinates multiplied by ``scale`` = (sx, sy) first."""
    import numpy as np

    h, w = shape
    mask = np.zeros((h, w), dtype=bool)
    sx, sy = scale
    for x0, y0, x1, y1 in boxes:
        c0 = int(max(0, min(w, math.floor(min(x0, x1) * sx))))
        c1 = int(max(0, min(w, math.ceil(max(x0, x1) * sx))))
        r0 = int(max(0, min(h, math.floor(min(y0, y1) * sy))))
        r1 = int(max(0, min(h, math.ceil(max(y0, y1) * sy))))
        mask[r0:r1, c0:c1] = True
    return mask


def iou(a: Any, b: Any) -> float:
    """Intersection over union of two boolean masks (1.0 when both are empty)."""
    import numpy as np

    union = int(np.logical_or(a, b).sum())
    if union == 0:
        return 1.0
    return int(np.logical_and(a, b).sum()) / union


def read_mask(path: str) -> Any:
    """A ground-truth mask PNG as a boolean array (bright = manipulated)."""
    import numpy as np
    from PIL import Image

    with Image.open(path) as img:
        arr = np.asarray(img.convert("L"))
    top = int(arr.max()) if arr.size else 0
    return arr > (top / 2 if top > 1 else 0)


def localization(records: Iterable[Record], question: str = "manipulation") -> dict[str, Any]:
    """IoU of the union of finding boxes (per analyzer, and all analyzers together)
    against each record's mask. A file with no box scores 0."""
    per_file = []
    per_analyzer: dict[str, list[float]] = defaultdict(list)
    for r in records:
        if not r.get("mask") or r.get("outcome") not in SCORED_OUTCOMES:
            continue
        try:
            gt = read_mask(r["mask"])
        except Exception as exc:
            per_file.append({"name": r["name"], "error": f"mask unreadable: {exc}"})
            continue
        h, w = gt.shape
        size = r.get("size")
        scale = (w / size[0], h / size[1]) if size and size[0] and size[1] else (1.0, 1.0)
        boxes_by: dict[str, list[list[float]]] = defaultdict(list)
        for f in r.get("findings", []):
            if f.get("question") == question and f.get("boxes"):
                boxes_by[f["analyzer"]].extend(f["boxes"])
        all_boxes = [b for bs in boxes_by.values() for b in bs]
        value = iou(box_mask(all_boxes, (h, w), scale), gt) if all_boxes else 0.0
        per_file.append(
            {
                "name": r["name"],
                "iou": value,
                "boxes": len(all_boxes),
                "mask_fraction": float(gt.mean()),
            }
        )
        for name in {a for a in r.get("analyzers", {})}:
            bs = boxes_by.get(name, [])
            per_analyzer[name].append(iou(box_mask(bs, (h, w), scale), gt) if bs else 0.0)
    ok = [p for p in per_file if "iou" in p]
    with_boxes = [p["iou"] for p in ok if p["boxes"]]
    return {
        "n": len(ok),
        "with_boxes": len(with_boxes),
        "mean_iou": sum(p["iou"] for p in ok) / len(ok) if ok else None,
        "mean_iou_with_boxes": sum(with_boxes) / len(with_boxes) if with_boxes else None,
        "per_analyzer": {
            name: {"mean_iou": sum(v) / len(v), "with_boxes": sum(1 for x in v if x > 0)}
            for name, v in sorted(per_analyzer.items())
            if any(x > 0 for x in v)
        },
        "files": per_file,
    }


def robustness(records: Iterable[Record]) -> dict[str, Any]:
    """Outcome counts per label, slowest files, and every timeout and crash."""
    recs = list(records)
    by_label: dict[str, Counter[str]] = defaultdict(Counter)
    for r in recs:
        by_label[r["label"]][r.get("outcome", "crash")] += 1
    failures = [
        {"name": r["name"], "outcome": r["outcome"], "message": r.get("message")}
        for r in recs
        if r.get("outcome") in ("timeout", "crash")
    ]
    analyzer_errors: Counter[str] = Counter()
    for r in recs:
        for name, a in r.get("analyzers", {}).items():
            if a.get("status") == "error":
                analyzer_errors[name] += 1
    slowest = sorted(recs, key=lambda r: -float(r.get("seconds") or 0))[:5]
    return {
        "n": len(recs),
        "outcomes": {label: dict(c) for label, c in sorted(by_label.items())},
        "timeouts": sum(1 for r in recs if r.get("outcome") == "timeout"),
        "crashes": sum(1 for r in recs if r.get("outcome") == "crash"),
        "failures": failures,
        "analyzer_errors": dict(analyzer_errors),
        "slowest": [{"name": r["name"], "seconds": r.get("seconds")} for r in slowest],
        "seconds_total": round(sum(float(r.get("seconds") or 0) for r in recs), 2),
    }


def auc_by_group(records: Iterable[Record], question: str) -> dict[str, dict[str, Any]]:
    """AUC within each manifest group (first folder) that has both classes."""
    groups: dict[str, list[Record]] = defaultdict(list)
    for r in records:
        groups[r.get("group", ".")].append(r)
    out = {}
    for g, rs in sorted(groups.items()):
        res = auc_for(rs, question, interval=True)
        if res["auc"] is not None:
            out[g] = res
    return out


def evaluate(records: Sequence[Record]) -> dict[str, Any]:
    """Every metric, per question, as one JSON-serializable dict."""
    questions: dict[str, Any] = {}
    for q in QUESTIONS:
        questions[q] = {
            "auc": auc_for(records, q, interval=True),
            "auc_low": auc_for(records, q, key="low"),
            "auc_by_group": auc_by_group(records, q),
            "band_rates": band_rates(records, q),
            "claims": claim_coverage(records, q),
            "reliability": reliability(records, q),
            "interval_coverage": interval_coverage(records, q),
        }
    return {
        "n": len(records),
        "labels": dict(Counter(r["label"] for r in records)),
        "questions": questions,
        "findings": finding_stats(records),
        "clean": clean_stats(records),
        "localization": localization(records),
        "robustness": robustness(records),
    }
