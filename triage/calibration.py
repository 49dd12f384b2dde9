"""The fitted calibration: features of a file, fused log-odds, calibrated probability, interval.

A calibration is one JSON file (``triage/data/calibration.json`` ships; ``triage
calibrate`` writes others; ``--calibration FILE`` or ``TRIAGE_CALIBRATION`` picks one).
Per question it holds:

* ``features``, ``coef``, ``intercept``: an L2-regularised, class-balanced logistic
  regression over per-file features (:func:`features`). Each term ``coef * x`` is an
  additive log-odds contribution, which the report shows per finding.
* ``scores``/``labels``: the cross-fitted fused scores of the calibration files and
  their truth. A file's fused score is calibrated by inductive Venn-Abers: isotonic
  regression of the labels on the scores, fitted once with the file counted as a
  negative and once as a positive, gives ``[p0, p1]`` (Vovk et al. 2015).
* ``calibration_map``: when the fit found a parametric map better than Venn-Abers on
  its own data (Platt's logistic of the score, or beta calibration; chosen by
  ``triage.evaluate.calibrate.choose_map``), the point is that map's probability; the
  Venn-Abers pair stays part of the interval.
* the same isotonic fit without the file gives the *block* (neighbourhood) of
  calibration files whose scores pool with it; a Jeffreys interval on that block's
  class-balanced positive rate says where the observed rate among such files lies;
  ``source_band`` widens it by how far that rate moves over a bootstrap of sources;
  ``source_dispersion`` widens that in log-odds by the spread of the calibration offset
  between sources (``tau``), so that the interval is where the rate lies for a new
  source, not for more files of the calibration's sources.
* ``redraw``: for each analyzer, feature rows of calibration files where it examined
  everything; an analyzer that could not run on a file has its features redrawn from
  these, and the 10-90% spread of the calibrated probability widens the interval.

The probabilities are at balanced classes (0.5); :func:`shift` moves them to a stated prior.

References
----------
Vovk, V., Petej, I., Fedorova, V. (2015). Large-scale probabilistic predictors with and
without guarantees of validity. NeurIPS.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

ENV = "TRIAGE_CALIBRATION"
PACKAGED = "calibration.json"
FORMAT = "triage-calibration/1"
# Central mass of the Jeffreys interval on a block's rate, and the quantiles of the
# redrawn probability spread.
INTERVAL_MASS = 0.90
REDRAW_QUANTILES = (0.10, 0.90)
REDRAW_DRAWS = 48
# How far an unknown finding (declared, but absent from this calibration) might move
# the fused log-odds either way, per unit of strength.
UNKNOWN_LLR = 1.0
# Fused scores closer than this (log-odds) count as tied with a calibration score: the
# shipped model and the fold models score one file up to a few tenths apart.
TIE = 0.5


@dataclass
class FileEvidence:
    """What the calibration needs to know about one file (from a report or a record)."""

    # finding id -> strength (the largest when one id fires more than once)
    findings: dict[str, float] = field(default_factory=dict)
    # finding id -> the question its analyzer reported it under
    questions: dict[str, str] = field(default_factory=dict)
    # analyzer -> (status, {question: examined share})
    analyzers: dict[str, tuple[str, dict[str, float]]] = field(default_factory=dict)
    # analyzer -> {metric: value}
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)

    def add_finding(self, fid: str, question: str, strength: float) -> None:
        self.findings[fid] = max(self.findings.get(fid, 0.0), max(0.0, float(strength)))
        self.questions[fid] = question

    def examined(self, analyzer: str, question: str) -> float:
        status, shares = self.analyzers.get(analyzer, ("absent", {}))
        if status != "ok":
            return 0.0
        return min(max(float(shares.get(question, 0.0)), 0.0), 1.0)


def feature_names(analyzer: str, findings: Sequence[str], metrics: Sequence[str]) -> list[str]:
    """The feature block of one analyzer for one question, in a fixed order."""
    return [f"{analyzer}:examined"] + list(findings) + [f"{analyzer}:metric:{m}" for m in metrics]


def feature_value(name: str, ev: FileEvidence, question: str) -> float:
    """One feature's value: an examined share, a finding's strength (0 when absent) or a
    metric (0 when the analyzer did not run: its examined share carries that state)."""
    if ":" not in name:
        # A finding counts for the question its analyzer reported it under only: an
        # edit-history finding is evidence about editing, not about generation.
        if ev.questions.get(name, question) != question:
            return 0.0
        return float(ev.findings.get(name, 0.0))
    analyzer, kind, *rest = name.split(":")
    if kind == "examined":
        return ev.examined(analyzer, question)
    if kind == "metric" and rest and ev.examined(analyzer, question) > 0:
        return float(ev.metrics.get(analyzer, {}).get(rest[0], 0.0))
    return 0.0


# Scales a metric can enter the fused log-odds on (``metric_transforms`` in the
# calibration file names one for each metric; a file written before it existed names
# none, and a metric it does not name enters as reported, as "identity").
METRIC_TRANSFORMS = ("identity", "logit", "log")
# How far from 0 and 1 a learned probability is read before its log-odds: past this, a
# probability says more than the few thousand files its model was trained on can back.
LOGIT_FLOOR = 1e-4


def transform_metric(kind: str | None, value: float) -> float:
    """A metric on the scale it enters the fused log-odds on.

    A logistic fusion adds its terms in log-odds. A learned probability (the tamper
    model's image score, its 99th-percentile tile) entered as is would be compressed at
    both ends, exactly where its evidence is (0.99 and 0.999 differ little as numbers,
    tenfold as odds): ``"logit"`` reads it as log-odds, clipped to ``[LOGIT_FLOOR, 1 -
    LOGIT_FLOOR]``. A share of the image (a flagged area) matters by its order of
    magnitude: ``"log"`` reads its logarithm (floored at ``LOGIT_FLOOR``).
    ``"identity"`` (or ``None``) leaves the value as reported.

    Parameters
    ----------
    kind : {"identity", "logit", "log"} or None
        The transform the calibration names for the metric.
    value : float
        The metric as the analyzer reported it.

    Returns
    -------
    float
        The value the fused model multiplies by the metric's coefficient.
    """
    if kind is None or kind == "identity":
        return value
    if kind == "logit":
        p = min(max(value, LOGIT_FLOOR), 1.0 - LOGIT_FLOOR)
        return math.log(p / (1.0 - p))
    if kind == "log":
        return math.log(max(value, LOGIT_FLOOR))
    raise ValueError(f"unknown metric transform {kind!r} (known: {', '.join(METRIC_TRANSFORMS)})")


def metric_feature(
    name: str,
    ev: FileEvidence,
    question: str,
    transforms: Mapping[str, str],
    bounds: Mapping[str, tuple[float, float]],
) -> float:
    """One feature's value as the fused model reads it: :func:`feature_value`, a metric
    then put on its scale (:func:`transform_metric`, ``transforms``) and held inside
    the range the calibration was fitted on (:func:`clip_metric`, ``bounds``, which are
    on that scale). The fit (``triage.evaluate.calibrate``) and every report call this
    one function, so they compute the same thing. A metric of an analyzer that did not
    examine the file stays 0 (its examined share carries that state)."""
    value = feature_value(name, ev, question)
    kind = transforms.get(name)
    if kind is not None and ev.examined(name.split(":")[0], question) > 0:
        value = transform_metric(kind, value)
    return clip_metric(name, value, ev, question, bounds)


def clip_metric(
    name: str,
    value: float,
    ev: FileEvidence,
    question: str,
    bounds: Mapping[str, tuple[float, float]],
) -> float:
    """A metric feature's value within the range the calibration was fitted on.

    A metric enters the fused log-odds linearly, so a value far outside the fit data
    (a text screenshot's spectral peaks read as a resampling peak ratio of 7-12, where
    99% of the fit files are under 4) would push the score as far as the line goes;
    beyond its data the model knows nothing, so the value is held at the edge of that
    data (winsorised). ``bounds`` holds the metrics the fit clipped (raw measurements,
    ``FitConfig.clipped``); others pass unchanged. A metric of an analyzer that did not
    examine the file stays 0 (its examined share says so).
    """
    span = bounds.get(name)
    if span is None or ":metric:" not in name or ev.examined(name.split(":")[0], question) <= 0:
        return value
    return min(max(value, span[0]), span[1])


def sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def shift(p: float, prior: float) -> float:
    """A probability at balanced classes moved to ``prior`` (Bayes' rule on the odds)."""
    if prior == 0.5:
        return p
    return sigmoid(logit(p) + logit(prior))


def map_features(kind: str, scores: Any) -> Any:
    """The columns a parametric calibration map regresses the labels on: the fused
    score itself (``platt``), or ``ln p`` and ``-ln(1 - p)`` of its sigmoid ``p``
    (``beta``, Kull et al. 2017)."""
    import numpy as np

    s = np.atleast_1d(np.asarray(scores, dtype=float))
    if kind == "platt":
        return s[:, None]
    if kind == "beta":
        return np.stack([-np.logaddexp(0.0, -s), np.logaddexp(0.0, s)], axis=1)
    raise ValueError(f"unknown calibration map {kind!r}")


def apply_map(kind: str, params: Sequence[float], scores: Any) -> Any:
    """Probabilities of a parametric calibration map (:func:`map_features`) with
    ``params`` = ``[intercept, coef...]`` at ``scores``."""
    import numpy as np

    z = params[0] + map_features(kind, scores) @ np.asarray(params[1:], dtype=float)
    return 1.0 / (1.0 + np.exp(-np.clip(z, -700, 700)))


@dataclass
class QuestionModel:
    question: str
    features: list[str]
    coef: list[float]
    coef_range: list[tuple[float, float]]
    intercept: float
    blocks: dict[str, list[str]]  # analyzer -> its feature names
    scores: list[float]  # cross-fitted calibration scores, sorted
    labels: list[int]
    groups: list[int]  # source of each calibration file
    w_pos: float
    w_neg: float
    redraw: dict[str, list[list[float]]]
    mass: float = INTERVAL_MASS
    # Spread of the calibrated rate over a bootstrap of sources, at each calibration score.
    band: dict[str, list[float]] = field(default_factory=dict)
    # Between-source spread of the calibration offset (log-odds; docs/scoring.md).
    tau: float = 0.0
    # Unfitted (declared) models only: log-odds range an analyzer that could not run might add.
    unobserved: dict[str, tuple[float, float]] = field(default_factory=dict)
    # Raw-measurement metric -> the range it was fitted on (1st-99th percentile): a
    # file's value is clipped to it, so the linear model never extrapolates past its data.
    bounds: dict[str, tuple[float, float]] = field(default_factory=dict)
    # The point's map from fused score to probability: "venn-abers", or a parametric
    # map (apply_map) with its parameters.
    map_kind: str = "venn-abers"
    map_params: list[float] = field(default_factory=list)
    # Metric -> the scale it entered the fit on (transform_metric); a calibration file
    # written before transforms existed names none, and its metrics enter as reported.
    transforms: dict[str, str] = field(default_factory=dict)
    # Metric -> its median over the negative calibration files (on its fitted scale):
    # the reading a file without the answer usually has (metric_lean).
    reference: dict[str, float] = field(default_factory=dict)
    _base: list[list[Any]] | None = field(default=None, repr=False)

    @property
    def fitted(self) -> bool:
        return bool(self.scores)

    @classmethod
    def from_json(cls, q: str, d: Mapping[str, Any]) -> QuestionModel:
        groups_in = d.get("groups") or list(range(len(d["scores"])))
        triples = sorted(zip(d["scores"], d["labels"], groups_in, strict=True))
        pairs = [(sc, y) for sc, y, _ in triples]
        n_pos = sum(1 for _, y in pairs if y) or 1
        n_neg = sum(1 for _, y in pairs if not y) or 1
        n = len(pairs) or 1
        return cls(
            question=q,
            features=list(d["features"]),
            coef=[float(c) for c in d["coef"]],
            coef_range=[(float(a), float(b)) for a, b in d["coef_range"]],
            intercept=float(d["intercept"]),
            blocks={k: list(v) for k, v in d["blocks"].items()},
            scores=[float(s) for s, _ in pairs],
            labels=[int(y) for _, y in pairs],
            groups=[int(g) for _, _, g in triples],
            # Class-balanced: each class weighs half, mean weight 1.
            w_pos=n / (2 * n_pos),
            w_neg=n / (2 * n_neg),
            redraw={k: [list(map(float, r)) for r in v] for k, v in d.get("redraw", {}).items()},
            unobserved={k: (float(a), float(b)) for k, (a, b) in d.get("unobserved", {}).items()},
            mass=float(d.get("interval_mass", INTERVAL_MASS)),
            band={k: [float(v) for v in vs] for k, vs in (d.get("source_band") or {}).items()},
            tau=float((d.get("source_dispersion") or {}).get("tau", 0.0)),
            bounds={
                k: (float(a), float(b)) for k, (a, b) in (d.get("metric_bounds") or {}).items()
            },
            map_kind=str((d.get("calibration_map") or {}).get("kind", "venn-abers")),
            map_params=[float(v) for v in (d.get("calibration_map") or {}).get("params", [])],
            transforms=_transforms(d.get("metric_transforms") or {}),
            reference={k: float(v) for k, v in (d.get("metric_reference") or {}).items()},
        )

    def metric_lean(self, contributions: Mapping[str, float]) -> dict[str, float]:
        """Per analyzer, how far its metric terms move the fused log-odds from where a
        file without the answer usually puts them: the sum over its metrics of
        ``contribution - coef * reference``. Only analyzers whose every metric has a
        reference are given (a calibration file written before references has none)."""
        coef = dict(zip(self.features, self.coef, strict=True))
        lean: dict[str, float] = {}
        for analyzer, names in self.blocks.items():
            metrics = [f for f in names if ":metric:" in f]
            if not metrics or any(f not in self.reference for f in metrics):
                continue
            lean[analyzer] = sum(
                contributions.get(f, 0.0) - coef[f] * self.reference[f] for f in metrics
            )
        return lean

    # ---------------------------------------------------------------- fused score
    def vector(self, ev: FileEvidence) -> list[float]:
        return [
            metric_feature(f, ev, self.question, self.transforms, self.bounds)
            for f in self.features
        ]

    def fused(self, x: Sequence[float]) -> float:
        return self.intercept + sum(c * v for c, v in zip(self.coef, x, strict=True))

    # ---------------------------------------------------------------- calibration
    def _stack(self, s: float, extra: int | None) -> list[list[Any]]:
        """Blocks ``[lo_score, hi_score, weighted positives, weight, sources, positives,
        files]`` of the weighted isotonic fit of the labels on the scores, plus ``s``
        with label ``extra`` (weight 1) when given (pool adjacent violators; equal
        neighbours pool too, so a block is the widest neighbourhood with one rate)."""
        if extra is None and self._base is not None:
            return self._base
        # score, weighted positives, weight, source, label
        pts: list[tuple[float, float, float, int, int]] = []
        for sc, y, g in zip(self.scores, self.labels, self.groups, strict=True):
            w = self.w_pos if y else self.w_neg
            pts.append((sc, w * y, w, g, y))
        if extra is not None:
            pts.append((s, float(extra), 1.0, -1, extra))
            pts.sort(key=lambda t: t[0])
        stack: list[list[Any]] = []
        for sc, pw, w, g, y in pts:
            if stack and stack[-1][1] == sc:
                stack[-1][2] += pw
                stack[-1][3] += w
                stack[-1][4].add(g)
                stack[-1][5] += y
                stack[-1][6] += 1
            else:
                stack.append([sc, sc, pw, w, {g}, y, 1])
            while len(stack) > 1 and stack[-2][2] / stack[-2][3] >= stack[-1][2] / stack[-1][3]:
                top = stack.pop()
                stack[-1][1] = top[1]
                stack[-1][2] += top[2]
                stack[-1][3] += top[3]
                stack[-1][4] |= top[4]
                stack[-1][5] += top[5]
                stack[-1][6] += top[6]
        if extra is None:
            self._base = stack
        return stack

    def _block_at(self, s: float, extra: int | None) -> list[Any] | None:
        """The block of :meth:`_stack` that holds (or is nearest to) ``s``."""
        stack = self._stack(s, extra)
        for i, blk in enumerate(stack):
            if s <= blk[1] or i == len(stack) - 1:
                if s < blk[0] and i > 0 and s - stack[i - 1][1] < blk[0] - s:
                    # between two blocks: the nearer one (no calibration file lies between)
                    return stack[i - 1]
                return blk
        return None

    def _isotonic_at(self, s: float, extra: int | None) -> float:
        """The class-balanced fitted rate at ``s`` of :meth:`_stack`."""
        blk = self._block_at(s, extra)
        return 0.5 if blk is None else float(blk[2] / blk[3])

    def snap(self, s: float) -> float:
        """``s``, or the nearest calibration score within TIE of it: the shipped model
        (the mean of the fold models) and each fold's model give the same file scores a
        few hundredths apart, which must not read as a gap between isotonic blocks."""
        import bisect

        i = bisect.bisect_left(self.scores, s)
        near = [self.scores[j] for j in (i - 1, i) if 0 <= j < len(self.scores)]
        best = min(near, key=lambda v: abs(v - s), default=s)
        return best if abs(best - s) <= TIE else s

    def calibrate(self, s: float) -> tuple[float, float, float]:
        """(p, p0, p1): the Venn-Abers pair for fused score ``s`` and the point, at
        balanced classes: the pair's merged point ``p1 / (1 - p0 + p1)``, or the
        parametric map's probability where the calibration chose one."""
        if not self.scores:
            p = sigmoid(s)
            return p, p, p
        raw = s
        s = self.snap(s)
        p0 = self._isotonic_at(s, 0)
        p1 = self._isotonic_at(s, 1)
        p = p1 / (1.0 - p0 + p1) if (1.0 - p0 + p1) > 0 else 0.5
        if self.map_kind != "venn-abers":
            p = float(apply_map(self.map_kind, self.map_params, raw)[0])
        return p, p0, p1

    def point(self, s: float) -> float:
        """Calibrated probability of fused score ``s`` (no test point added): the
        parametric map's, or the rate of its isotonic block, for the redraw spread
        where speed matters."""
        if not self.scores:
            return sigmoid(s)
        if self.map_kind != "venn-abers":
            return float(apply_map(self.map_kind, self.map_params, s)[0])
        return self._isotonic_at(s, None)

    def neighbourhood(self, s: float) -> tuple[float, float]:
        """Where the class-balanced positive rate of files like this one lies: the union
        of a Jeffreys interval (INTERVAL_MASS) on the rate of the calibration files
        pooled with ``s`` by the isotonic fit, and the source band (the same mass of that
        rate over a bootstrap of the calibration sources, interpolated at ``s``). Files
        of one source (a photo and its edits, one collection) are not independent
        evidence about files from elsewhere: the Jeffreys count is the geometric mean of
        files and sources, and the band redraws whole sources."""
        if not self.scores:
            return 0.0, 1.0
        lo, hi = self._jeffreys(s)
        if self.band.get("grid"):
            import numpy as np

            at = self.snap(s)
            lo = min(lo, float(np.interp(at, self.band["grid"], self.band["low"])))
            hi = max(hi, float(np.interp(at, self.band["grid"], self.band["high"])))
        return lo, hi

    def new_source(self, p: float, lo: float, hi: float) -> tuple[float, float]:
        """``[lo, hi]`` (where the rate lies among files like this one from the
        calibration's sources) widened to where it lies for a new source: each half-width
        in log-odds added in quadrature to the between-source spread of the calibration
        offset (``tau``, :func:`triage.evaluate.calibrate.between_source_variance`) at
        the interval's mass."""
        if self.tau <= 0:
            return lo, hi
        from scipy.special import ndtri

        spread = float(ndtri(0.5 + self.mass / 2)) * self.tau
        mid = logit(p)
        down = math.hypot(mid - logit(lo), spread)
        up = math.hypot(logit(hi) - mid, spread)
        return min(lo, sigmoid(mid - down)), max(hi, sigmoid(mid + up))

    def _jeffreys(self, s: float) -> tuple[float, float]:
        """Jeffreys interval on the block's positive rate, counted in files (the class
        weights are not observations: a block's 2 generated files among 40 are 2
        files, however much each weighs), then carried to the class-balanced scale,
        which is a monotone function of the raw rate."""
        blk = self._block_at(self.snap(s), None)
        if blk is None:
            return 0.0, 1.0
        from scipy.special import betaincinv

        k, files, sources = float(blk[5]), float(blk[6]), len(blk[4])
        # Between counting files (as if independent) and counting sources (as if each
        # source were one observation): their geometric mean.
        n = min(files, math.sqrt(files * sources))
        raw = k / files
        a = raw * n + 0.5
        b = (1.0 - raw) * n + 0.5
        tail = (1.0 - self.mass) / 2

        def balanced(p: float) -> float:
            pos, neg = p * self.w_pos, (1.0 - p) * self.w_neg
            return pos / (pos + neg) if pos + neg > 0 else 0.5

        rate = float(blk[2] / blk[3])
        # A block with no negatives (or no positives) gets 1 (or 0) as its end: the
        # equal-tailed interval's coverage falls towards 0 as the rate nears the edge
        # (Brown, Cai & DasGupta 2001, the modified Jeffreys interval).
        lo = 0.0 if rate <= 0.0 else balanced(float(betaincinv(a, b, tail)))
        hi = 1.0 if rate >= 1.0 else balanced(float(betaincinv(a, b, 1.0 - tail)))
        return lo, hi

    def redraw_spread(self, x: list[float], missing: Sequence[str]) -> tuple[float, float] | None:
        """10-90% spread of the calibrated probability when the features of the
        ``missing`` analyzers are drawn from calibration files where they ran."""
        pools = [(self.blocks[a], self.redraw[a]) for a in missing if self.redraw.get(a)]
        if not pools:
            return None
        import random

        rng = random.Random(0)  # deterministic: the same file gets the same interval
        index = {f: i for i, f in enumerate(self.features)}
        probs = []
        for _ in range(REDRAW_DRAWS):
            y = list(x)
            for names, rows in pools:
                row = rows[rng.randrange(len(rows))]
                for name, v in zip(names, row, strict=True):
                    y[index[name]] = v
            probs.append(self.point(self.fused(y)))
        probs.sort()
        lo = probs[int(REDRAW_QUANTILES[0] * (len(probs) - 1))]
        hi = probs[math.ceil(REDRAW_QUANTILES[1] * (len(probs) - 1))]
        return lo, hi


def _transforms(named: Mapping[str, Any]) -> dict[str, str]:
    """A calibration file's ``metric_transforms``, each checked to be one this version
    computes (a file naming another was written by a newer version: refuse it rather
    than score its metrics on the wrong scale)."""
    out = {str(k): str(v) for k, v in named.items()}
    unknown = sorted(set(out.values()) - set(METRIC_TRANSFORMS))
    if unknown:
        raise ValueError(f"unknown metric transform {unknown[0]!r}")
    return out


@dataclass
class Estimate:
    """One question's calibrated answer at balanced classes, before the prior."""

    score: float
    interval: tuple[float, float]
    fused: float
    contributions: dict[str, float]  # feature -> coef * value (non-zero terms)
    ranges: dict[str, tuple[float, float]]  # finding id -> log-odds range
    widened_by: list[str]  # analyzers whose absence widened the interval
    unknown: list[str]  # finding ids this calibration does not know


@dataclass
class Calibration:
    name: str
    version: str
    sha256: str
    source: str
    data: dict[str, Any]
    models: dict[str, QuestionModel]
    bands: dict[str, float]
    coverage_weight: dict[str, dict[str, float]]  # analyzer -> question -> weight
    declared: set[str]
    # Ids declared as facts (prior LLR 0, e.g. "the manifest is valid"): never evidence,
    # so an unknown one does not widen the interval either.
    facts: set[str] = field(default_factory=set)
    # The file's own declarations (generator metadata, C2PA, watermark payload): stated
    # (llr, low, high) per unit of strength, applied on top of the calibrated estimate.
    stated: dict[str, tuple[float, float, float]] = field(default_factory=dict)

    @classmethod
    def from_text(cls, text: str, source: str) -> Calibration:
        data = json.loads(text)
        if data.get("format") != FORMAT:
            raise ValueError(f"{source}: not a triage calibration file (format {FORMAT})")
        models = {q: QuestionModel.from_json(q, d) for q, d in data["questions"].items()}
        return cls(
            name=str(data.get("name", "calibration")),
            version=str(data.get("version", "?")),
            sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
            source=source,
            data=data,
            models=models,
            bands={k: float(v) for k, v in data["bands"].items()},
            coverage_weight=_coverage(data["coverage_weight"]),
            declared=set(data.get("declared_findings", [])),
            facts=_facts(),
            stated=_stated(),
        )

    @classmethod
    def load(cls, path: str | Path) -> Calibration:
        p = Path(path)
        try:
            text = p.read_text("utf-8")
        except OSError as exc:
            raise ValueError(f"cannot read calibration {p}: {exc.strerror or exc}") from None
        try:
            return cls.from_text(text, str(p))
        except (KeyError, TypeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{p}: malformed calibration file ({exc})") from None

    def estimate(self, question: str, ev: FileEvidence) -> Estimate | None:
        model = self.models.get(question)
        if model is None:
            return None
        stated = {
            fid: ev.findings[fid]
            for fid in ev.findings
            if fid in self.stated and ev.questions.get(fid) == question and ev.findings[fid] > 0
        }
        x = model.vector(ev)
        if stated:
            # The rest of the evidence is calibrated as if the declaration were absent;
            # the declaration then updates those odds by its stated likelihood ratio.
            x = [0.0 if f in stated else v for f, v in zip(model.features, x, strict=True)]
        s = model.fused(x)
        est = self._fitted(model, question, ev, x, s) if model.fitted else None
        if est is None:
            est = _declared(model, ev, x, s)
        return _apply_stated(est, stated, self.stated) if stated else est

    def _fitted(
        self, model: QuestionModel, question: str, ev: FileEvidence, x: list[float], s: float
    ) -> Estimate:
        p, p0, p1 = model.calibrate(s)
        nb_lo, nb_hi = model.neighbourhood(s)
        lo, hi = model.new_source(p, min(p0, nb_lo, p), max(p1, nb_hi, p))
        missing = [
            a for a in model.blocks if ev.examined(a, question) <= 0.0 and model.redraw.get(a)
        ]
        spread = model.redraw_spread(x, missing) if missing else None
        widened: list[str] = []
        if spread is not None and (spread[0] < lo or spread[1] > hi):
            lo, hi = min(lo, spread[0]), max(hi, spread[1])
            widened = missing
        known = set(model.features)
        unknown = sorted(
            fid
            for fid in ev.findings
            if fid not in known
            and fid not in self.facts
            and fid not in self.stated
            and ev.questions.get(fid) == question
            and ev.findings[fid] > 0
        )
        if unknown:
            # Each may move the odds by up to e^UNKNOWN_LLR per unit of strength, either way.
            push = UNKNOWN_LLR * sum(ev.findings[f] for f in unknown)
            lo = sigmoid(logit(lo) - push)
            hi = sigmoid(logit(hi) + push)
        return Estimate(
            p, (lo, hi), s, _contributions(model, x), _ranges(model, x), widened, unknown
        )


def _apply_stated(
    est: Estimate, present: Mapping[str, float], stated: Mapping[str, tuple[float, float, float]]
) -> Estimate:
    """Update a calibrated estimate by the stated log-likelihood ratios of the file's own
    declarations: the point by each LLR, the interval ends by each range's ends.

    The update starts from the calibrated point of the rest of the evidence, not from its
    interval: what the analyzers that could not run might have said is a spread over files
    without such a declaration, and the uncertainty that matters here is whether the
    declaration is true, which its stated range carries."""
    mid = lo = hi = 0.0
    contributions = dict(est.contributions)
    ranges = dict(est.ranges)
    for fid, strength in present.items():
        llr, a, b = stated[fid]
        mid += llr * strength
        lo += min(a, b) * strength
        hi += max(a, b) * strength
        contributions[fid] = llr * strength
        ranges[fid] = (min(a, b) * strength, max(a, b) * strength)
    score = sigmoid(logit(est.score) + mid)
    base = logit(est.score)
    interval = (min(sigmoid(base + lo), score), max(sigmoid(base + hi), score))
    return Estimate(score, interval, est.fused, contributions, ranges, est.widened_by, est.unknown)


def _contributions(model: QuestionModel, x: list[float]) -> dict[str, float]:
    return {f: c * v for f, c, v in zip(model.features, model.coef, x, strict=True) if c * v != 0}


def _ranges(model: QuestionModel, x: list[float]) -> dict[str, tuple[float, float]]:
    return {
        f: (min(a * v, b * v), max(a * v, b * v))
        for f, (a, b), v in zip(model.features, model.coef_range, x, strict=True)
        if v != 0 and ":" not in f
    }


def _declared(model: QuestionModel, ev: FileEvidence, x: list[float], s: float) -> Estimate:
    """A declared (unfitted) model: the log-odds ranges of its terms added, plus the
    stated range of each analyzer that could not run."""
    lo = hi = model.intercept
    for (a, b), v in zip(model.coef_range, x, strict=True):
        lo += min(a * v, b * v)
        hi += max(a * v, b * v)
    widened = []
    for name, (a, b) in model.unobserved.items():
        gap = 1.0 - ev.examined(name, model.question)
        if gap > 0:
            lo += gap * min(a, 0.0)
            hi += gap * max(b, 0.0)
            widened.append(name)
    p = sigmoid(s)
    interval = (min(sigmoid(lo), p), max(sigmoid(hi), p))
    return Estimate(p, interval, s, _contributions(model, x), _ranges(model, x), widened, [])


@cache
def _analyzers_text() -> str:
    return resources.files("triage.data").joinpath("analyzers.json").read_text("utf-8")


def analyzer_config() -> dict[str, Any]:
    """``triage/data/analyzers.json`` (hand-kept: bands, coverage weights, prior and stated
    log-likelihood ratios), parsed afresh so a caller may change its copy."""
    data: dict[str, Any] = json.loads(_analyzers_text())
    return data


def _stated() -> dict[str, tuple[float, float, float]]:
    table = analyzer_config().get("stated", {})
    return {fid: (float(v[0]), float(v[1]), float(v[2])) for fid, v in table.items()}


def _facts() -> set[str]:
    priors = analyzer_config().get("prior_llr", {})
    return {fid for fid, v in priors.items() if float(v) == 0.0}


def _coverage(fitted: Mapping[str, Mapping[str, float]]) -> dict[str, dict[str, float]]:
    """Coverage weights of the calibration file, plus those of analyzers added since it
    was fitted (from ``triage/data/analyzers.json``): a new analyzer counts for coverage
    before a refit weighs its findings."""
    declared = analyzer_config().get("coverage_weight", {})
    out = {a: {q: float(w) for q, w in ws.items()} for a, ws in declared.items()}
    out.update({a: {q: float(w) for q, w in ws.items()} for a, ws in fitted.items()})
    return out


def resolve_path(explicit: str | Path | None = None) -> str | None:
    """The calibration to use: ``explicit``, else $TRIAGE_CALIBRATION, else None (packaged)."""
    if explicit:
        return str(explicit)
    env = os.environ.get(ENV, "").strip()
    return env or None


@cache
def packaged() -> Calibration:
    text = resources.files("triage.data").joinpath(PACKAGED).read_text("utf-8")
    return Calibration.from_text(text, f"triage/data/{PACKAGED}")


@cache
def _from_path(path: str, mtime: float) -> Calibration:
    return Calibration.load(path)


def load(path: str | Path | None = None) -> Calibration:
    """The calibration named by ``path`` or $TRIAGE_CALIBRATION, else the packaged one.
    Raises ValueError (a usage error) for a missing or malformed file."""
    chosen = resolve_path(path)
    if chosen is None:
        return packaged()
    try:
        mtime = Path(chosen).stat().st_mtime
    except OSError:
        mtime = 0.0
    return _from_path(chosen, mtime)
