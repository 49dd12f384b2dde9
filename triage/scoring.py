"""Per-question fusion of findings into a score, an interval, a band and a statement.

Method (docs/scoring.md has the numbers and where each came from):

* every finding's log-likelihood ratio (LLR) and range come from the weights file
  (``triage/data/weights.json``), scaled by the analyzer's ``strength``;
* within one analyzer, same-direction findings are combined by the strongest, not
  summed (they often see one defect twice); across analyzers they are summed;
* an analyzer that examined a question and found nothing contributes its "clean"
  LLR, scaled by how much it examined; silence from an analyzer that could not look
  is not evidence;
* the interval carries the finding ranges through the same sum, as independent
  deviations added in quadrature, and is widened the same way by what each missing
  analyzer could have said (its ``unobserved`` range);
* the band reads the interval, not the point.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from triage.analyzers.base import RawFinding
from triage.report import QUESTIONS, Band, Finding, Question, QuestionResult

NEUTRAL = 0.5
_UNKNOWN_RANGE = (-1.0, 1.0)


@cache
def load_weights() -> dict[str, Any]:
    text = resources.files("triage.data").joinpath("weights.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def logit(p: float) -> float:
    p = min(max(p, 1e-9), 1 - 1e-9)
    return math.log(p / (1 - p))


def finding_weight(finding_id: str) -> tuple[float, tuple[float, float]] | None:
    """(llr, (low, high)) for a finding id, or None if the weights file lacks it."""
    analyzer = finding_id.split(".", 1)[0]
    entry = load_weights()["analyzers"].get(analyzer, {}).get("findings", {}).get(finding_id)
    if entry is None:
        return None
    lo, hi = entry["range"]
    return float(entry["llr"]), (float(lo), float(hi))


def to_finding(analyzer: str, raw: RawFinding) -> Finding:
    """Attach the calibrated LLR (scaled by ``strength``) to an analyzer's raw finding.

    The LLR and the far end of its range scale with ``strength``; below 1 the near
    end (the one closest to "no evidence") scales with its square, because an
    instance the analyzer itself rates as weaker than typical is also less certain.
    """
    weight = finding_weight(raw.id)
    s = max(0.0, float(raw.strength))
    if weight is None:
        llr, (lo, hi) = 0.0, _UNKNOWN_RANGE
    else:
        near = s * s if s < 1 else s
        base_lo, base_hi = weight[1]
        if weight[0] >= 0:
            lo, hi = base_lo * near, base_hi * s
        else:
            lo, hi = base_lo * s, base_hi * near
        llr = weight[0] * s
    lo, hi = min(lo, hi, llr), max(lo, hi, llr)
    return Finding(
        id=raw.id,
        analyzer=analyzer,
        question=raw.question,
        llr=round(llr, 4),
        llr_range=(round(lo, 4), round(hi, 4)),
        title=raw.title,
        detail=raw.detail,
        evidence=raw.evidence,
    )


@dataclass
class AnalyzerOutcome:
    """What scoring needs to know about one applicable analyzer's run."""

    name: str
    status: str  # ok / skipped / error / unavailable / excluded
    examined: dict[str, float]
    reason: str | None = None  # why it could not examine (for the statement)


@dataclass
class _Contribution:
    llr: float
    lo: float
    hi: float


def _combine(findings: list[Finding]) -> _Contribution:
    pos = [f for f in findings if f.llr > 0]
    neg = [f for f in findings if f.llr < 0]
    llr = lo = hi = 0.0
    if pos:
        top = max(pos, key=lambda f: f.llr)
        llr, lo, hi = llr + top.llr, lo + top.llr_range[0], hi + top.llr_range[1]
    if neg:
        low = min(neg, key=lambda f: f.llr)
        llr, lo, hi = llr + low.llr, lo + low.llr_range[0], hi + low.llr_range[1]
    return _Contribution(llr, lo, hi)


def score_question(
    question: Question,
    findings: list[Finding],
    outcomes: list[AnalyzerOutcome],
    prior: float = NEUTRAL,
) -> QuestionResult:
    weights = load_weights()
    bands_cfg = weights["bands"]
    prior_lo = logit(prior)
    total = prior_lo
    # Squared downward / upward deviations from the point, summed in quadrature: the
    # analyzers' uncertainties are independent, so adding their worst cases linearly
    # (every analyzer wrong in the same direction at once) made every interval span
    # most of the range.
    down2 = up2 = 0.0
    cover_num = cover_den = 0.0
    gaps: list[tuple[float, str]] = []
    drivers: list[tuple[float, Finding]] = []
    for outcome in outcomes:
        cfg = weights["analyzers"].get(outcome.name, {})
        w = float(cfg.get("coverage_weight", {}).get(question, 0.0))
        if w <= 0:
            continue
        examined = min(max(outcome.examined.get(question, 0.0), 0.0), 1.0)
        if outcome.status != "ok":
            examined = 0.0
        cover_den += w
        cover_num += w * examined
        mine = [f for f in findings if f.analyzer == outcome.name and f.question == question]
        if mine:
            c = _combine(mine)
            drivers.extend((abs(f.llr), f) for f in mine if f.llr != 0)
        else:
            clean = cfg.get("clean", {}).get(question)
            if clean and examined > 0:
                c = _Contribution(
                    clean["llr"] * examined,
                    clean["range"][0] * examined,
                    clean["range"][1] * examined,
                )
            else:
                c = _Contribution(0.0, 0.0, 0.0)
        total += c.llr
        down2 += max(c.llr - c.lo, 0.0) ** 2
        up2 += max(c.hi - c.llr, 0.0) ** 2
        gap = 1.0 - examined
        unobserved = cfg.get("unobserved", {}).get(question)
        if gap > 0 and unobserved:
            down2 += (gap * min(unobserved[0], 0.0)) ** 2
            up2 += (gap * max(unobserved[1], 0.0)) ** 2
            width = gap * (unobserved[1] - unobserved[0])
            gaps.append((width, _gap_reason(outcome, question, examined)))
    coverage = cover_num / cover_den if cover_den else 0.0
    score = sigmoid(total)
    interval = (sigmoid(total - math.sqrt(down2)), sigmoid(total + math.sqrt(up2)))
    band = _band(score, interval, coverage, bands_cfg)
    statement = _statement(question, band, score, interval, drivers, gaps, coverage)
    return QuestionResult(
        score=round(score, 4),
        interval=(round(interval[0], 4), round(interval[1], 4)),
        band=band,
        coverage=round(coverage, 3),
        prior=round(prior, 4),
        statement=statement,
    )


def _gap_reason(outcome: AnalyzerOutcome, question: str, examined: float) -> str:
    if outcome.status == "excluded":
        return f"{outcome.name} was not run (excluded by --only/--skip)"
    if outcome.reason:
        return f"{outcome.name}: {outcome.reason}"
    if examined > 0:
        return f"{outcome.name} could examine only part of what it checks"
    return f"{outcome.name} could not examine this file"


def _band(
    score: float, interval: tuple[float, float], coverage: float, cfg: dict[str, float]
) -> Band:
    low, high = interval
    if low >= cfg["strong_low"]:
        return "strong-indicators"
    if low > NEUTRAL:
        return "notable-indicators"
    if coverage < cfg["min_coverage"]:
        return "insufficient-evidence"
    if score > NEUTRAL + cfg["weak_margin"]:
        return "weak-indicators"
    if high < NEUTRAL:
        return "no-indicators"
    return "insufficient-evidence"


_ASKS = {
    "manipulation": "editing after capture",
    "synthetic": "generation by an AI model",
    "provenance": "an earlier known copy",
}


def _statement(
    question: str,
    band: Band,
    score: float,
    interval: tuple[float, float],
    drivers: list[tuple[float, Finding]],
    gaps: list[tuple[float, str]],
    coverage: float,
) -> str:
    drivers.sort(key=lambda d: -d[0])
    pos = [f for _, f in drivers if f.llr > 0][:2]
    neg = [f for _, f in drivers if f.llr < 0][:1]
    parts: list[str] = []
    if pos:
        parts.append(
            "Evidence for " + _ASKS[question] + ": " + "; ".join(_lc(f.title) for f in pos) + "."
        )
    else:
        parts.append(f"No finding points to {_ASKS[question]}.")
    if neg:
        parts.append("Against: " + _lc(neg[0].title) + ".")
    doubt: list[str] = []
    if band == "insufficient-evidence" and coverage < 1:
        doubt.append(f"only {coverage:.0%} of the checks for this question could run")
    gaps.sort(key=lambda g: -g[0])
    if gaps:
        doubt.append("not checked: " + "; ".join(g[1] for g in gaps[:2]))
    elif pos and interval[1] - interval[0] > 0.3:
        doubt.append("these findings also have innocent causes (see each analyzer's card)")
    if not pos and band == "no-indicators":
        doubt.append(
            "a clean result is not proof of authenticity: the checks find only what they know"
        )
    if doubt:
        parts.append("Uncertain because " + "; ".join(doubt) + ".")
    return " ".join(parts)


def _lc(text: str) -> str:
    return text[:1].lower() + text[1:] if text and not text[:2].isupper() else text


def score_all(
    findings: list[Finding], outcomes: list[AnalyzerOutcome], priors: dict[str, float]
) -> dict[Question, QuestionResult]:
    return {q: score_question(q, findings, outcomes, priors.get(q, NEUTRAL)) for q in QUESTIONS}


def attention(results: dict[Question, QuestionResult]) -> float:
    """Batch ordering key: for each question the mean of the score and the low end of
    its interval; the highest of the three.

    The point alone would put a high score resting on a wide interval above firm
    evidence; the low end alone would rank a well-supported 0.86 below a file with no
    evidence at all. Their mean orders by evidence first and firmness second.
    """
    return round(max(((r.score + r.interval[0]) / 2 for r in results.values()), default=0.0), 4)
