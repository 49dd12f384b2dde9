"""Per-question scores, intervals, bands and statements from a fitted calibration.

The numbers come from a calibration file (:mod:`triage.calibration`; docs/scoring.md):

* each finding's ``llr`` in the report is its additive term ``coef * strength`` in the
  question's fitted log-odds (0, with a range of +-1 per unit of strength, for a finding
  the calibration does not know); the examined shares and raw metrics add their own
  terms (``contributions``);
* the summed log-odds is calibrated (Venn-Abers on held-out scores) into a probability
  at balanced classes, then moved to the stated prior;
* the interval is the union of the Venn-Abers pair, a Jeffreys interval on the positive
  rate of comparable calibration files, and the spread when the analyzers that could not
  run are given outputs drawn from files where they did;
* the band reads the interval and the coverage, never the point alone.

Scoring takes the calibration as an argument; :func:`triage.calibration.load` gives the
packaged one or the file named by ``--calibration`` / ``TRIAGE_CALIBRATION``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from triage.analyzers.base import RawFinding
from triage.calibration import (
    UNKNOWN_LLR,
    Calibration,
    FileEvidence,
    logit,
    shift,
    sigmoid,
)
from triage.report import QUESTIONS, Band, Finding, Question, QuestionResult

NEUTRAL = 0.5
__all__ = ["NEUTRAL", "AnalyzerOutcome", "attention", "logit", "score_all", "sigmoid", "to_finding"]


def to_finding(analyzer: str, raw: RawFinding, calibration: Calibration) -> Finding:
    """The report's finding: the analyzer's raw finding with its fitted log-odds term."""
    s = max(0.0, float(raw.strength))
    model = calibration.models.get(raw.question)
    spread = 0.0 if raw.id in calibration.facts else UNKNOWN_LLR * s
    llr, lo, hi = 0.0, -spread, spread
    if raw.id in calibration.stated:
        # A declaration of the file's own: its stated ratio, not a fitted term.
        c, a, b = calibration.stated[raw.id]
        llr, lo, hi = c * s, min(a, b) * s, max(a, b) * s
    elif model is not None and raw.id in model.features:
        i = model.features.index(raw.id)
        llr = model.coef[i] * s
        a, b = model.coef_range[i]
        lo, hi = min(a * s, b * s, llr), max(a * s, b * s, llr)
    return Finding(
        id=raw.id,
        analyzer=analyzer,
        question=raw.question,
        llr=round(llr + 0.0, 4),
        llr_range=(round(lo + 0.0, 4), round(hi + 0.0, 4)),
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
    metrics_title: str = ""  # plain words for its metrics (Analyzer.metrics_title)
    # Plain words, per question, for what its having examined the file says about the
    # file (Analyzer.trait_words).
    trait_words: dict[str, str] = field(default_factory=dict)


def score_question(
    question: Question,
    findings: list[Finding],
    outcomes: list[AnalyzerOutcome],
    evidence: FileEvidence,
    calibration: Calibration,
    prior: float = NEUTRAL,
) -> QuestionResult:
    bands_cfg = calibration.bands
    cover_num = cover_den = 0.0
    gaps: list[tuple[float, str]] = []
    for outcome in outcomes:
        w = calibration.coverage_weight.get(outcome.name, {}).get(question, 0.0)
        if w <= 0:
            continue
        examined = min(max(outcome.examined.get(question, 0.0), 0.0), 1.0)
        if outcome.status != "ok":
            examined = 0.0
        cover_den += w
        cover_num += w * examined
        if examined < 1.0:
            gaps.append((w * (1.0 - examined), _gap_reason(outcome, question, examined)))
    coverage = cover_num / cover_den if cover_den else 0.0
    est = calibration.estimate(question, evidence)
    contributions: dict[str, float] = {}
    if est is None or cover_num == 0:
        # Nothing examined this question (a missing or undecodable file, no applicable
        # check): the fitted model would still read its intercept and "not examined"
        # terms (0.06 for manipulation, 0.60 for synthetic), a rate no file behind the
        # fit ever had. Only the prior is known.
        score, interval = NEUTRAL, (0.0, 1.0)
    else:
        score, interval = est.score, est.interval
        contributions = {"intercept": calibration.models[question].intercept}
        contributions.update(est.contributions)
    score = shift(score, prior)
    interval = (min(shift(interval[0], prior), score), max(shift(interval[1], prior), score))
    # The file itself may declare something that points to yes (a signed edit, generator
    # parameters): whatever the odds, "no indicators" would then misread it.
    declares_yes = any(
        f.question == question and f.id in calibration.stated and f.llr > 0 for f in findings
    )
    clear_allowed = not declares_yes and _metadata_read(question, outcomes)
    model = calibration.models.get(question)
    if model is None or not model.fitted:
        # The score thresholds of the claiming bands read a calibrated rate; a declared
        # model's score (provenance: a lookup that found nothing) is not one.
        bands_cfg = {k: v for k, v in bands_cfg.items() if k not in SCORE_THRESHOLDS}
    band = _band(score, interval, coverage, clear_allowed, bands_cfg)
    drivers = [Driver(f.llr, _lc(f.title), f.analyzer) for f in findings if f.question == question]
    traits: list[Driver] = []
    if est is not None and model is not None and cover_num > 0:
        lean = model.metric_lean(est.contributions)
        drivers = consistent_drivers(drivers + metric_drivers(question, lean, outcomes), lean)
        # A trait is named once: not where its analyzer's finding already says it on the
        # same side ("metadata of a camera capture").
        traits = [
            t
            for t in trait_drivers(question, est.contributions, outcomes)
            if not any(d.analyzer == t.analyzer and d.llr * t.llr > 0 for d in drivers)
        ]
    unknown = est.unknown if est is not None else []
    statement = _statement(
        question, band, score, interval, (drivers, traits), gaps, coverage, unknown
    )
    return QuestionResult(
        score=round(score, 4),
        interval=(round(interval[0], 4), round(interval[1], 4)),
        band=band,
        coverage=round(coverage, 3),
        prior=round(prior, 4),
        statement=statement,
        contributions={k: round(v + 0.0, 4) for k, v in contributions.items()},
    )


def _gap_reason(outcome: AnalyzerOutcome, question: str, examined: float) -> str:
    if outcome.status == "excluded":
        return f"{outcome.name} was not run (excluded by --only/--skip)"
    if outcome.reason:
        return f"{outcome.name}: {outcome.reason}"
    if examined > 0:
        return f"{outcome.name} could examine only part of what it checks"
    return f"{outcome.name} could not examine this file"


# Band thresholds on the (calibrated) score itself, as well as on its interval.
SCORE_THRESHOLDS = ("clear_score", "notable_score")


def _band(
    score: float,
    interval: tuple[float, float],
    coverage: float,
    clear_allowed: bool,
    cfg: dict[str, float],
) -> Band:
    """The band the interval supports; ``clear_allowed`` is whether this file may be
    called clear at all (``no-indicators``)."""
    low, high = interval
    if low >= cfg["strong_low"]:
        return "strong-indicators"
    if low > NEUTRAL and score >= cfg.get("notable_score", NEUTRAL):
        return "notable-indicators"
    if coverage < cfg["min_coverage"]:
        return "insufficient-evidence"
    if score > NEUTRAL + cfg["weak_margin"]:
        return "weak-indicators"
    if (
        high < NEUTRAL
        and score <= cfg.get("clear_score", NEUTRAL)
        and coverage >= cfg.get("clear_min_coverage", 0.0)
        and clear_allowed
    ):
        return "no-indicators"
    return "insufficient-evidence"


def _metadata_read(question: str, outcomes: list[AnalyzerOutcome]) -> bool:
    """A clean result needs the file's metadata to have been read: absence of evidence
    on a stripped file is not evidence of authenticity (DESIGN.md). Provenance does not
    ask this: a lookup against the reference store is complete whatever the metadata."""
    if question == "provenance":
        return True
    for o in outcomes:
        if o.name == "metadata":
            return o.status == "ok" and o.examined.get(question, 0.0) >= 0.5
    return True  # no metadata analyzer applies (e.g. a plug-in set without it)


_ASKS = {
    "manipulation": "editing after capture",
    "synthetic": "generation by an AI model",
    "provenance": "an earlier known copy",
}


# What the negative calibration files of each question are, for "higher than on most ...".
_WITHOUT = {
    "manipulation": "unedited files",
    "synthetic": "files not made by a generator",
    "provenance": "files",
}
# A metric block is named in the statement when it moves the log-odds this far from
# where the negative calibration files usually put it (a factor of 1.65 on the odds).
METRIC_DRIVER_LLR = 0.5


class Driver(NamedTuple):
    """A term the statement may name: its signed log-odds, its words, its analyzer, and
    whether it is a metric block (True) or a finding."""

    llr: float
    words: str
    analyzer: str
    measured: bool = False


def metric_drivers(
    question: str, lean: dict[str, float], outcomes: list[AnalyzerOutcome]
) -> list[Driver]:
    """The analyzers whose metrics lean the fused log-odds by at least
    ``METRIC_DRIVER_LLR`` from where the question's negative calibration files usually
    put them (``QuestionModel.metric_lean``), as statement drivers. An analyzer that
    did not examine the question is left out: its metrics then read nothing."""
    out = []
    for o in outcomes:
        llr = lean.get(o.name, 0.0)
        if o.status != "ok" or o.examined.get(question, 0.0) <= 0.0:
            continue
        if abs(llr) < METRIC_DRIVER_LLR:
            continue
        title = o.metrics_title or f"the {o.name} analyzer's measurements"
        side = "higher" if llr > 0 else "lower"
        words = f"{title}, {side} than on most {_WITHOUT[question]}"
        out.append(Driver(llr, words, o.name, measured=True))
    return out


def trait_drivers(
    question: str, contributions: Mapping[str, float], outcomes: list[AnalyzerOutcome]
) -> list[Driver]:
    """The traits of the file that lean the fused log-odds by at least
    ``METRIC_DRIVER_LLR``, as statement drivers.

    The fit gives each analyzer a term for having examined the question: a base rate of
    the calibration files, not a sign in the file (metadata that names a camera is
    rare on generated files; a face, common). Such a term can outweigh every finding,
    and a statement that names only findings then reads against its own score
    ("Evidence for generation", at 0.01). A trait is named where its analyzer gives
    it words (``Analyzer.trait_words``), against the same file without it (the term at
    zero: a stripped file has no camera metadata, a picture without a face no face).

    Parameters
    ----------
    question : str
        The question scored.
    contributions : dict
        The fused model's terms of this file (``QuestionEstimate.contributions``).
    outcomes : list of AnalyzerOutcome
        The analyzers' runs, with their ``trait_words``.

    Returns
    -------
    list of Driver
        One per analyzer whose trait leans the score, in its words.
    """
    out = []
    for o in outcomes:
        words = o.trait_words.get(question)
        llr = contributions.get(f"{o.name}:examined", 0.0)
        if words and o.status == "ok" and abs(llr) >= METRIC_DRIVER_LLR:
            out.append(Driver(llr, words, o.name))
    return out


def consistent_drivers(drivers: list[Driver], lean: dict[str, float]) -> list[Driver]:
    """``drivers`` without the findings outweighed by their own analyzer's metrics
    pointing the other way, and the metric blocks outweighed by their analyzer's
    findings or already said by one of them on the same side (an analyzer is named
    once, by its finding).

    A finding fitted alongside its analyzer's metric can take a small negative
    coefficient (the metric already carries the signal); naming it "against" would
    read as the analyzer disagreeing with itself ("Against: fine pixel detail like a
    generator's decoder") when, taken whole, it points the other way. Findings of one
    analyzer are not weighed against each other: each says something of its own.

    Parameters
    ----------
    drivers : list of Driver
        Findings and metric blocks.
    lean : dict
        Analyzer -> its metrics' lean (``QuestionModel.metric_lean``).

    Returns
    -------
    list of Driver
        The drivers that the other kind of term of their analyzer does not outweigh on
        the other side.
    """
    found: dict[str, float] = {}
    said: set[tuple[str, bool]] = set()  # (analyzer, for) of its non-zero findings
    for d in drivers:
        if not d.measured:
            found[d.analyzer] = found.get(d.analyzer, 0.0) + d.llr
            if d.llr != 0:
                said.add((d.analyzer, d.llr > 0))

    def dropped(d: Driver) -> bool:
        if d.measured and (d.analyzer, d.llr > 0) in said:
            return True
        other = found.get(d.analyzer, 0.0) if d.measured else lean.get(d.analyzer, 0.0)
        return d.llr * other < 0 and abs(other) > abs(d.llr)

    return [d for d in drivers if not dropped(d)]


def _statement(
    question: str,
    band: Band,
    score: float,
    interval: tuple[float, float],
    terms: tuple[list[Driver], list[Driver]],
    gaps: list[tuple[float, str]],
    coverage: float,
    unknown: list[str],
) -> str:
    """``terms``: the findings and the metric blocks that lean the score
    (:func:`metric_drivers`), of which the two strongest for and the strongest against
    are named; and the file's traits that lean it (:func:`trait_drivers`), the two
    strongest named apart, as what they are."""
    drivers, traits = terms
    drivers.sort(key=lambda d: -abs(d.llr))
    pos = [d.words for d in drivers if d.llr > 0][:2]
    neg = [d.words for d in drivers if d.llr < 0][:1]
    parts: list[str] = []
    if pos:
        parts.append("Evidence for " + _ASKS[question] + ": " + "; ".join(pos) + ".")
    else:
        parts.append(f"No finding or measurement points to {_ASKS[question]}.")
    if neg:
        parts.append("Against: " + neg[0] + ".")
    if traits:
        traits.sort(key=lambda d: -abs(d.llr))
        parts.append(
            "Weighed as a trait of files like this one: "
            + "; ".join(f"{d.words} ({'for' if d.llr > 0 else 'against'})" for d in traits[:2])
            + "."
        )
    doubt: list[str] = []
    if band == "insufficient-evidence" and coverage < 1:
        doubt.append(
            f"only {coverage:.0%} of the checks for this question could run"
            if round(coverage, 2) > 0
            else "none of the checks for this question could run"
        )
    gaps.sort(key=lambda g: -g[0])
    if gaps:
        doubt.append("not checked: " + "; ".join(g[1] for g in gaps[:2]))
    if unknown:
        doubt.append("the calibration has no data for " + ", ".join(unknown[:2]))
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
    """``text`` with its first letter in lower case, inside a sentence; an acronym that
    opens it (EXIF, XMP, C2PA) or a name of two capitalised words (Stable Diffusion)
    is kept."""
    words = text.split(" ", 2)
    acronym = (text[:2].isalpha() and text[:2].isupper()) or (
        len(words[0]) > 1 and words[0].isupper()
    )
    name = len(words) > 1 and words[0][:1].isupper() and words[1][:1].isupper()
    return text if acronym or name else text[:1].lower() + text[1:]


def score_all(
    findings: list[Finding],
    outcomes: list[AnalyzerOutcome],
    evidence: FileEvidence,
    calibration: Calibration,
    priors: dict[str, float],
) -> dict[Question, QuestionResult]:
    return {
        q: score_question(q, findings, outcomes, evidence, calibration, priors.get(q, NEUTRAL))
        for q in QUESTIONS
    }


def attention(results: dict[Question, QuestionResult]) -> float:
    """Batch ordering key: for each question the mean of the score and the low end of
    its interval; the highest of the three.

    The point alone would put a high score resting on a wide interval above firm
    evidence; the low end alone would rank a well-supported 0.86 below a file with no
    evidence at all. Their mean orders by evidence first and firmness second.
    """
    return round(max(((r.score + r.interval[0]) / 2 for r in results.values()), default=0.0), 4)
