"""Fit a calibration (``triage/calibration.py`` reads it) from labelled evaluation records.

Per question (positives and negatives as in :mod:`triage.evaluate.metrics`; a record
with ``fit_questions`` enters only those questions' fits, :func:`fitted_pairs`):

1. **Features** (:func:`design`): for every analyzer that speaks to the question (a
   coverage weight in ``triage/data/analyzers.json``) its examined share, the strength
   of each of its finding ids that fired at least ``min_fired`` times in the data (0
   when absent), and the scalar metrics named in ``FitConfig.metrics``, each on the
   scale ``FitConfig.transforms`` names (log-odds of a learned probability).
2. **Fusion**: class-balanced logistic regression with an L2 penalty on standardised
   features (own L-BFGS fit, :func:`logistic_fit`); the penalty is chosen from
   ``FitConfig.penalties`` by log loss over folds that keep a source together. The
   coefficients are mapped back to raw feature units so that ``coef * x`` is each
   feature's additive log-odds. Their ranges are the 5-95% of a bootstrap over sources.
3. **Calibration scores**: each file's fused score from the fold that did not see its
   source (cross-fitting); the calibration file keeps them with the labels, for the
   Venn-Abers calibration and the neighbourhood interval at scoring time, and the
   source band (:func:`source_band`): the spread of the calibrated rate at each score
   over a bootstrap of sources; and the spread of the calibration offset between
   sources (:func:`source_offsets`, :func:`between_source_variance`).
4. **Redraw pools**: per analyzer, feature rows of files where it examined everything.

Nothing here reads files: records come from ``triage.evaluate.runner`` (``triage
calibrate`` and ``bench/calibrate.py`` produce them).
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from triage.calibration import FORMAT, Calibration, FileEvidence, analyzer_config, feature_names
from triage.evaluate.metrics import scored
from triage.report import QUESTIONS, Question, QuestionResult

Record = dict[str, Any]


@dataclass
class FitConfig:
    penalties: tuple[float, ...] = (1.0, 3.0, 10.0, 30.0, 100.0)  # L2 strength (lambda)
    folds: int = 10
    min_fired: int = 2
    n_boot: int = 40
    redraw_rows: int = 48
    band_boot: int = 200  # bootstrap of sources for the neighbourhood's rate (source_band)
    # Leave files that carry a stated declaration for the question out of its fit.
    leave_out_declared: bool = True
    interval_mass: float = 0.9  # of the Jeffreys interval on a neighbourhood's rate
    average_folds: bool = True  # ship the mean of the fold models (see fit_question)
    # Penalise towards the authors' provisional LLRs (analyzers.json prior_llr), not 0.
    prior_centres: bool = True
    seed: int = 0
    # Widen intervals by the between-source spread of calibration offsets (source_offsets).
    source_dispersion: bool = True
    # Analyzers whose metrics are clipped to the fit data's 1st-99th percentile
    # (metric_bounds): raw measurements that odd inputs push far past any photograph
    # (resampling's spectral peak ratio on text, noise's spread). A learned model's
    # output (tamper's probabilities, synthpix's log-odds) is not clipped: its extremes
    # are the evidence it was trained to give, and clipping synthpix's log-odds cost
    # held-out synthetic ECE 0.102 -> 0.150 (docs/scoring.md).
    clipped: tuple[str, ...] = ("noise", "resampling")
    # Analyzers that run only when the picture shows something (faces: a detected face).
    # Their examined share enters no fit: it says what the picture shows, not how it was
    # made, and a weight on it is the share of that content in the calibration's
    # collections (with faces, a face read +0.59 log-odds towards "synthetic" for every
    # portrait, and a face the detector misses when the photo is turned lost it;
    # docs/scoring.md). Their findings and metrics still enter.
    content_gated: tuple[str, ...] = ("faces",)
    # Maps from the cross-fitted fused score to a probability, compared on the fit side
    # (:func:`choose_map`); Venn-Abers is kept unless another beats it beyond the spread
    # of a bootstrap over sources.
    maps: tuple[str, ...] = ("venn-abers", "platt", "beta")
    map_folds: int = 10
    map_dealings: int = 5
    map_boot: int = 400
    # Raw metrics used as features, per analyzer (when an analyzer reports them).
    metrics: dict[str, tuple[str, ...]] = field(
        default_factory=lambda: {
            "tamper": ("image_score", "p99_tile", "area"),
            "noise": ("log_ratio_spread",),
            "resampling": ("global_peak_ratio",),
            "synthpix": ("log_odds",),
        }
    )
    # The scale a metric enters on (triage.calibration.transform_metric), per analyzer
    # and metric, e.g. {"tamper": {"image_score": "logit", "area": "log"}}; the
    # calibration file names each (metric_transforms). None by default: the tamper
    # probabilities as log-odds lowered the fit side's cross-validated log loss (0.4913
    # -> 0.4863) but not the nested estimate's, and cost held-out AUC (0.851 -> 0.839 on
    # the camera edits) and ECE (0.036 -> 0.040): measured, not shipped (docs/scoring.md).
    transforms: dict[str, dict[str, str]] = field(default_factory=dict)


def evidence(record: Record) -> FileEvidence:
    """A record's findings, analyzer states and metrics as the calibration reads them."""
    ev = FileEvidence()
    for f in record.get("findings", []):
        ev.add_finding(str(f["id"]), str(f["question"]), float(f.get("strength", 1.0)))
    for name, a in (record.get("analyzers") or {}).items():
        ev.analyzers[name] = (str(a.get("status", "ok")), dict(a.get("examined") or {}))
        if a.get("metrics"):
            ev.metrics[name] = {k: float(v) for k, v in a["metrics"].items()}
    return ev


def fitted_pairs(records: Sequence[Record], question: str) -> list[tuple[Record, bool]]:
    """(record, is_positive) of the records ``question`` is fitted on: the scored ones,
    less those whose ``fit_questions`` leave it out. A file on which some analyzers'
    outputs are in-sample (a photo their models were trained on) names only the
    questions none of those analyzers speaks to."""
    return [
        (r, t)
        for r, t in scored(records, question)
        if question in r.get("fit_questions", (question,))
    ]


def source_of(record: Record) -> str:
    return str(record.get("source") or record.get("group") or record.get("name") or "")


# ------------------------------------------------------------------------ regression
def logistic_fit(X: Any, y: Any, w: Any, lam: float, centre: Any = None) -> tuple[Any, float]:
    """Weighted logistic regression with penalty ``lam/2 * |beta - centre|^2`` (intercept
    free; ``centre`` defaults to 0): the MAP fit under a Gaussian prior on each
    coefficient.

    Parameters
    ----------
    X : ndarray (n, d)
        Standardised features.
    y : ndarray (n,)
        0/1 labels.
    w : ndarray (n,)
        Sample weights (class balance), mean about 1.
    lam : float
        L2 strength.
    centre : ndarray (d,), optional
        Prior mean of each coefficient.

    Returns
    -------
    beta : ndarray (d,)
    intercept : float
    """
    import numpy as np
    from scipy.optimize import minimize

    d = X.shape[1]
    mu = np.zeros(d) if centre is None else np.asarray(centre, dtype=float)

    def loss(theta: Any) -> tuple[float, Any]:
        b0, beta = theta[0], theta[1:]
        z = b0 + X @ beta
        # log(1 + e^z) - y z, stably
        lse = np.logaddexp(0.0, z)
        dev = beta - mu
        value = float(np.sum(w * (lse - y * z)) + 0.5 * lam * dev @ dev)
        p = 1.0 / (1.0 + np.exp(-z))
        g = w * (p - y)
        grad = np.concatenate([[g.sum()], X.T @ g + lam * dev])
        return value, grad

    res = minimize(loss, np.concatenate([[0.0], mu]), jac=True, method="L-BFGS-B")
    return res.x[1:], float(res.x[0])


def _balanced_weights(y: Any) -> Any:
    import numpy as np

    n = len(y)
    n_pos = max(1, int(y.sum()))
    n_neg = max(1, n - int(y.sum()))
    return np.where(y == 1, n / (2 * n_pos), n / (2 * n_neg))


def _folds(groups: Sequence[str], k: int) -> list[int]:
    """Fold of each row: sources dealt to folds by a stable hash, so a source's files
    (a photo and its edits) never sit on both sides."""
    names = sorted(set(groups))
    order = sorted(names, key=lambda g: zlib.crc32(g.encode()))
    fold_of = {g: i % k for i, g in enumerate(order)}
    return [fold_of[g] for g in groups]


def fold_units(records: Sequence[Record], groups: Sequence[str], y: Any) -> list[str]:
    """The unit each file is cross-fitted by: its source, except in a source that holds
    more than half of one label's files.

    Cross-fitting deals whole sources to folds, so that no file is scored by a model
    that saw its own source. A source holding most of one label (the fit side's only
    generator repository, 51 of its 52 generated files) then leaves the model of its
    fold nearly without that label: the cross-fitted scores of those files, which the
    calibration maps to probabilities, come from a model that never learned what the
    shipped model (the mean of the fold models, all others fitted with them) knows,
    and the penalty chosen on those folds is chosen for it. Such a source is dealt out
    by its files' folders (a generated image and its copies, as a camera photo and
    its edits elsewhere), or by file when they share one folder. The intervals still
    count it as one source (the neighbourhood, the source band and ``tau``).
    """
    import numpy as np

    y = np.asarray(y)
    g = np.asarray(groups)
    big: set[str] = set()
    for label in (0, 1):
        mine = g[y == label]
        if len(mine) == 0:
            continue
        names, counts = np.unique(mine, return_counts=True)
        big |= {str(n) for n, c in zip(names, counts, strict=True) if c > len(mine) / 2}
    if not big:
        return list(groups)
    units = list(groups)
    for name in big:
        idx = [i for i, h in enumerate(groups) if h == name]
        folders = [str(Path(str(records[i].get("path") or "")).parent) for i in idx]
        if len(set(folders)) < 2:
            folders = [str(records[i].get("path") or i) for i in idx]
        for i, f in zip(idx, folders, strict=True):
            units[i] = f"{name}/{f}"
    return units


def _standardise(X: Any, metric: Any) -> tuple[Any, Any, Any]:
    """Centre and scale the metric columns only. Strengths and examined shares stay in
    their own units (0..~1.5), so the penalty shrinks a rarely seen finding towards 0
    instead of blowing its raw coefficient up by 1/std."""
    import numpy as np

    mu = np.where(metric, X.mean(axis=0), 0.0)
    sd = np.where(metric, X.std(axis=0), 1.0)
    sd = np.where(sd > 1e-9, sd, 1.0)
    return (X - mu) / sd, mu, sd


def _fit_raw(X: Any, y: Any, lam: float, metric: Any, centre: Any = None) -> tuple[Any, float]:
    """Fit on (partly) standardised features; coefficients returned in raw units.
    ``centre`` (raw units) is the prior mean of each coefficient."""
    Z, mu, sd = _standardise(X, metric)
    c = None if centre is None else centre * sd
    beta, b0 = logistic_fit(Z, y, _balanced_weights(y), lam, c)
    coef = beta / sd
    return coef, float(b0 - (coef * mu).sum())


def _cross_fit(
    X: Any,
    y: Any,
    folds: list[int],
    lam: float,
    metric: Any,
    models: list[Any] | None = None,
    centre: Any = None,
) -> Any:
    """Each row's fused score from the model fitted without its fold (``models``, if
    given, collects each fold's (coef, intercept))."""
    import numpy as np

    out = np.zeros(len(y))
    f = np.asarray(folds)
    for k in sorted(set(folds)):
        test = f == k
        train = ~test
        if y[train].min() == y[train].max():
            out[test] = 0.0
            continue
        coef, b0 = _fit_raw(X[train], y[train], lam, metric, centre)
        out[test] = X[test] @ coef + b0
        if models is not None:
            models.append((coef, b0))
    return out


def isotonic_blocks(scores: Any, labels: Any, weights: Any) -> list[list[float]]:
    """Blocks ``[lo_score, hi_score, weighted positives, weight]`` of the weighted isotonic
    regression of ``labels`` on ``scores`` (sorted ascending; pool adjacent violators,
    equal scores pooled)."""
    stack: list[list[float]] = []
    for sc, y, w in zip(scores, labels, weights, strict=True):
        if stack and stack[-1][1] == sc:
            stack[-1][2] += w * y
            stack[-1][3] += w
        else:
            stack.append([float(sc), float(sc), float(w * y), float(w)])
        while len(stack) > 1 and stack[-2][2] / stack[-2][3] >= stack[-1][2] / stack[-1][3]:
            top = stack.pop()
            stack[-1][1] = top[1]
            stack[-1][2] += top[2]
            stack[-1][3] += top[3]
    return stack


def _rate_at(blocks: list[list[float]], grid: Any) -> Any:
    """The isotonic rate at each of ``grid`` (between two blocks: the nearer one)."""
    import numpy as np

    lo = np.array([b[0] for b in blocks])
    hi = np.array([b[1] for b in blocks])
    rate = np.array([b[2] / b[3] for b in blocks])
    i = np.minimum(np.searchsorted(hi, grid), len(blocks) - 1)
    prev = np.maximum(i - 1, 0)
    nearer_prev = (grid < lo[i]) & (i > 0) & (grid - hi[prev] < lo[i] - grid)
    return rate[np.where(nearer_prev, prev, i)]


def source_band(
    scores: Any, labels: Any, groups: Sequence[str], n_boot: int, mass: float, seed: int
) -> dict[str, list[float]]:
    """How far the calibrated rate at each calibration score moves when the calibration
    data had come from other sources: the central ``mass`` of the class-balanced isotonic
    rate over a bootstrap of sources (a source, a photo and its edits or one collection,
    is drawn whole). Where the data's sources disagree about files with such a score (a
    hard collection where edited and unedited files score alike beside an easy one), the
    band is wide; the Jeffreys interval alone counts files and cannot see that.

    Returns
    -------
    dict
        ``grid`` (the distinct calibration scores, ascending), ``low``, ``high``.
    """
    import numpy as np

    s = np.asarray(scores, dtype=float)
    y = np.asarray(labels, dtype=float)
    order = np.argsort(s, kind="stable")
    s, y = s[order], y[order]
    g = np.asarray(groups)[order]
    grid = np.unique(s)
    names = sorted(set(g.tolist()))
    rows_of = {n: np.flatnonzero(g == n) for n in names}
    rng = np.random.default_rng(seed)
    rates = []
    for _ in range(n_boot):
        pick = rng.integers(0, len(names), len(names))
        idx = np.sort(np.concatenate([rows_of[names[j]] for j in pick]))
        yb = y[idx]
        if yb.min() == yb.max():
            continue
        w = _balanced_weights(yb)
        rates.append(_rate_at(isotonic_blocks(s[idx], yb, w), grid))
    if not rates:
        return {}
    tail = 100 * (1 - mass) / 2
    R = np.array(rates)
    return {
        "grid": [round(float(v), 4) for v in grid],
        "low": [round(float(v), 4) for v in np.percentile(R, tail, axis=0)],
        "high": [round(float(v), 4) for v in np.percentile(R, 100 - tail, axis=0)],
    }


def source_offsets(
    scores: Any, labels: Any, groups: Sequence[str]
) -> list[tuple[str, float, float]]:
    """Each source's calibration offset in log-odds, as a source left out would see it.

    For every source, the class-balanced isotonic rate is fitted on the other sources'
    (cross-fitted) scores and read at this source's scores; the offset ``d`` is the
    shift in log-odds that makes those rates fit the labels (one-parameter logistic
    maximum likelihood, both classes weighing half, so that a source's own mix of edited
    and unedited files is not read as an offset), and ``v`` its sampling variance (the
    weighted likelihood's sandwich variance). A source with one label only (a
    collection of edits, a camera collection) cannot fit a rate by itself: its files
    are read against the other sources' files of the other label, so that its offset
    says how far its files sit from where the calibration expects files of their label.

    Returns
    -------
    list of (source, d, v)
    """
    import numpy as np

    s = np.asarray(scores, dtype=float)
    y = np.asarray(labels, dtype=float)
    g = np.asarray(groups)
    out = []
    for name in sorted(set(g.tolist())):
        mine = g == name
        rest = ~mine
        if not rest.any() or y[rest].min() == y[rest].max():
            continue
        use = _compared_files(y, mine)
        order = np.argsort(s[rest], kind="stable")
        blocks = isotonic_blocks(s[rest][order], y[rest][order], _balanced_weights(y[rest][order]))
        d, v = _offset(_rate_at(blocks, s[use]), y[use])
        out.append((str(name), d, v))
    return out


def _compared_files(y: Any, mine: Any) -> Any:
    """The files a source's offset is read on: its own, and for a source of one label
    only, the other sources' files of the other label too (alone it cannot fit a rate)."""
    if y[mine].min() != y[mine].max():
        return mine
    return mine | (~mine & (y != y[mine][0]))


def _offset(p: Any, y: Any) -> tuple[float, float]:
    """The shift ``d`` in log-odds that makes probabilities ``p`` fit labels ``y`` (both
    classes weighing half; one-parameter logistic maximum likelihood by Newton's method)
    and its sandwich variance ``v``."""
    import numpy as np

    p = np.clip(np.asarray(p, dtype=float), 0.01, 0.99)
    y = np.asarray(y, dtype=float)
    base = np.log(p / (1 - p))
    w = _balanced_weights(y)
    d = 0.0
    for _ in range(50):
        q = 1 / (1 + np.exp(-(base + d)))
        step = float(np.sum(w * (y - q))) / max(float(np.sum(w * q * (1 - q))), 1e-9)
        d = float(np.clip(d + step, -8.0, 8.0))
        if abs(step) < 1e-6:
            break
    q = 1 / (1 + np.exp(-(base + d)))
    info = float(np.sum(w * q * (1 - q)))
    return d, float(np.sum(w**2 * q * (1 - q))) / max(info, 1e-9) ** 2


def offsets_against(
    probs: Any, labels: Any, groups: Sequence[str]
) -> list[tuple[str, float, float]]:
    """Each source's offset in log-odds against given calibrated probabilities (a
    calibration's scores of files it was not fitted on), as :func:`source_offsets`
    reads it: a source of one label against the other sources' files of the other
    label. The check of the new-source term: about 90% of new sources should have
    ``|d| <= 1.645 sqrt(tau^2 + v)``.

    Returns
    -------
    list of (source, d, v)
    """
    import numpy as np

    p = np.asarray(probs, dtype=float)
    y = np.asarray(labels, dtype=float)
    g = np.asarray(groups)
    out = []
    for name in sorted(set(g.tolist())):
        use = _compared_files(y, g == name)
        if y[use].min() == y[use].max():
            continue
        d, v = _offset(p[use], y[use])
        out.append((str(name), d, v))
    return out


def between_source_variance(offsets: Sequence[tuple[str, float, float]]) -> dict[str, Any]:
    """The variance of the sources' calibration offsets net of their sampling variance:
    the DerSimonian-Laird method-of-moments estimate of a random-effects model, where
    each source's true offset is drawn around a common one with variance ``tau2``.

    Parameters
    ----------
    offsets : list of (source, d, v)
        Per source: its offset and its within-source sampling variance
        (:func:`source_offsets`).

    Returns
    -------
    dict
        ``tau`` (log-odds), ``tau2``, ``mean`` (the inverse-variance mean offset),
        ``Q`` (Cochran's heterogeneity statistic), ``sources``.

    References
    ----------
    DerSimonian, R., Laird, N. (1986). Meta-analysis in clinical trials. Controlled
    Clinical Trials 7(3), 177-188.
    """
    import numpy as np

    if len(offsets) < 3:
        return {"tau": 0.0, "tau2": 0.0, "mean": 0.0, "Q": 0.0, "sources": len(offsets)}
    d = np.array([o[1] for o in offsets])
    w = 1.0 / np.maximum(np.array([o[2] for o in offsets]), 1e-6)
    mean = float(np.sum(w * d) / np.sum(w))
    q = float(np.sum(w * (d - mean) ** 2))
    c = float(np.sum(w) - np.sum(w**2) / np.sum(w))
    tau2 = max(0.0, (q - (len(d) - 1)) / c) if c > 0 else 0.0
    return {
        "tau": round(float(np.sqrt(tau2)), 4),
        "tau2": round(tau2, 4),
        "mean": round(mean, 4),
        "Q": round(q, 2),
        "sources": len(d),
    }


# ------------------------------------------------------------------ calibration map
def _logistic_on(F: Any, y: Any) -> list[float]:
    """Class-balanced logistic regression of ``y`` on the columns of ``F`` (nearly
    unpenalised): ``[intercept, coef...]``."""
    import numpy as np

    beta, b0 = logistic_fit(np.asarray(F, dtype=float), y, _balanced_weights(y), 1e-3)
    return [float(b0), *(float(b) for b in beta)]


def fit_map(kind: str, scores: Any, y: Any) -> list[float]:
    """Parameters of a parametric calibration map fitted on (cross-fitted) fused scores:
    ``platt`` (Platt 1999: a logistic function of the score) or ``beta`` (Kull, Silva
    Filho & Flach 2017: a logistic function of ``ln p`` and ``-ln(1 - p)``, ``p`` the
    score's sigmoid, which can bend differently at either end). Venn-Abers has none."""
    from triage.calibration import map_features

    if kind == "venn-abers":
        return []
    return _logistic_on(map_features(kind, scores), y)


def _map_predict(kind: str, scores: Any, y: Any, new: Any) -> Any:
    """The probabilities the map ``kind`` fitted on ``(scores, y)`` gives ``new``
    (Venn-Abers: the merged point of :class:`triage.calibration.QuestionModel`)."""
    import numpy as np

    from triage.calibration import apply_map

    if kind != "venn-abers":
        return np.asarray(apply_map(kind, fit_map(kind, scores, y), new))
    from triage.calibration import QuestionModel

    n = len(y)
    model = QuestionModel.from_json(
        "q",
        {
            "features": [],
            "coef": [],
            "coef_range": [],
            "intercept": 0.0,
            "blocks": {},
            "scores": [float(v) for v in scores],
            "labels": [int(v) for v in y],
            "groups": list(range(n)),
        },
    )
    # The point as reports compute it, snapping included.
    return np.array([model.calibrate(float(v))[0] for v in new])


def choose_map(
    scores: Any, y: Any, units: Sequence[str], groups: Sequence[str], cfg: FitConfig
) -> dict[str, Any]:
    """The calibration map for a question's cross-fitted fused scores, chosen on the fit
    data alone.

    Each map of ``cfg.maps`` is fitted on the files of all folds but one and scored on
    the files of the fold left out (folds by cross-fitting unit, :func:`fold_units`;
    ``cfg.map_dealings`` dealings of the units to ``cfg.map_folds`` folds); each file's
    class-balanced log loss is averaged over the dealings. Venn-Abers (the default) is
    replaced by the map with the lowest loss only if that map's loss minus Venn-Abers'
    stays below 0 over the 95th percentile of a bootstrap of sources (files of one
    source are not independent evidence that a map fits better).

    Returns
    -------
    dict
        ``kind``, ``params`` (fitted on all the scores), ``cv_log_loss`` per map, and
        ``vs_venn_abers`` (the chosen map's loss minus Venn-Abers': mean, 5th and 95th
        percentile over the bootstrap).
    """
    import numpy as np

    s = np.asarray(scores, dtype=float)
    y = np.asarray(y, dtype=float)
    if len(cfg.maps) < 2:  # nothing to choose between
        kind = cfg.maps[0] if cfg.maps else "venn-abers"
        return {
            "kind": kind,
            "params": [round(v, 6) for v in fit_map(kind, s, y)],
            "cv_log_loss": {},
        }
    w = _balanced_weights(y)
    unit_names = sorted(set(units))
    k = min(cfg.map_folds, len(unit_names))
    losses: dict[str, Any] = {m: np.zeros(len(y)) for m in cfg.maps}
    for d in range(cfg.map_dealings):
        order = sorted(unit_names, key=lambda u: zlib.crc32(f"{d}:{u}".encode()))
        fold_of = {u: i % k for i, u in enumerate(order)}
        f = np.array([fold_of[u] for u in units])
        for j in range(k):
            test, train = f == j, f != j
            if not test.any() or y[train].min() == y[train].max():
                continue
            for m in cfg.maps:
                p = np.clip(_map_predict(m, s[train], y[train], s[test]), 1e-4, 1 - 1e-4)
                losses[m][test] += -(y[test] * np.log(p) + (1 - y[test]) * np.log(1 - p))
    for m in cfg.maps:
        losses[m] /= cfg.map_dealings
    cv = {m: float(np.sum(w * losses[m]) / np.sum(w)) for m in cfg.maps}
    best = min(cv, key=lambda m: cv[m])
    out: dict[str, Any] = {"kind": "venn-abers", "params": [], "cv_log_loss": cv}
    if best == "venn-abers" or "venn-abers" not in cv:
        return out
    diff = w * (losses[best] - losses["venn-abers"])
    names = sorted(set(groups))
    rows_of = {g: np.flatnonzero(np.asarray(groups) == g) for g in names}
    rng = np.random.default_rng(cfg.seed)
    boot = []
    for _ in range(cfg.map_boot):
        idx = np.concatenate([rows_of[names[j]] for j in rng.integers(0, len(names), len(names))])
        boot.append(float(diff[idx].sum() / w[idx].sum()))
    lo, hi = np.percentile(boot, [5, 95])
    out["vs_venn_abers"] = {
        "map": best,
        "mean": round(float(diff.sum() / w.sum()), 5),
        "5_95": [round(float(lo), 5), round(float(hi), 5)],
    }
    if hi < 0:
        out["kind"] = best
        out["params"] = [round(v, 6) for v in fit_map(best, s, y)]
    return out


def balanced_log_loss(scores: Any, y: Any) -> float:
    import numpy as np

    w = _balanced_weights(y)
    lse = np.logaddexp(0.0, scores)
    return float(np.sum(w * (lse - y * scores)) / np.sum(w))


# ---------------------------------------------------------------------------- design
def design(
    records: Sequence[Record], question: str, cfg: FitConfig, config: dict[str, Any]
) -> tuple[list[str], dict[str, list[str]]]:
    """Feature names and per-analyzer blocks for ``question`` from the fit records."""
    speaking = [a for a, ws in config["coverage_weight"].items() if float(ws.get(question, 0)) > 0]
    fired: dict[str, int] = {}
    elsewhere: set[str] = set()  # ids seen under another question only
    seen_metrics: dict[str, set[str]] = {}
    for r in records:
        for fid in {f["id"] for f in r.get("findings", []) if f["question"] == question}:
            fired[fid] = fired.get(fid, 0) + 1
        elsewhere |= {f["id"] for f in r.get("findings", []) if f["question"] != question}
        for name, a in (r.get("analyzers") or {}).items():
            seen_metrics.setdefault(name, set()).update((a.get("metrics") or {}).keys())
    blocks: dict[str, list[str]] = {}
    declared = set(_declared(config))
    for a in speaking:
        # Ids seen often enough to fit, and ids with a non-zero prior even when the data
        # never shows them (their weight is then the prior: knowledge where data is silent).
        priors = config.get("prior_llr", {}) if cfg.prior_centres else {}
        ids = sorted(
            {fid for fid, n in fired.items() if n >= cfg.min_fired}
            | {
                fid
                for fid, v in priors.items()
                if float(v) != 0.0 and fid in declared and (fid in fired or fid not in elsewhere)
            }
        )
        # The file's own declarations keep their stated ratios (analyzers.json "stated"):
        # too few sources carry them to fit.
        stated = config.get("stated", {})
        ids = [fid for fid in ids if fid.split(".", 1)[0] == a and fid not in stated]
        mets = [m for m in cfg.metrics.get(a, ()) if m in seen_metrics.get(a, set())]
        names = feature_names(a, ids, mets)
        if a in cfg.content_gated:
            names = [f for f in names if f != f"{a}:examined"]
        blocks[a] = names
    features = [f for a in speaking for f in blocks[a]]
    return features, blocks


def metric_transforms(features: Sequence[str], cfg: FitConfig) -> dict[str, str]:
    """The scale each metric feature enters on (``FitConfig.transforms``; ``identity``
    where it names none), by feature name: what the calibration file records as
    ``metric_transforms``, so that it says for every metric what the fit computed."""
    out = {}
    for name in features:
        if ":metric:" in name:
            analyzer, _, metric = name.split(":", 2)
            out[name] = cfg.transforms.get(analyzer, {}).get(metric, "identity")
    return out


def _matrix(
    evs: Sequence[FileEvidence],
    features: list[str],
    question: str,
    bounds: dict[str, tuple[float, float]] | None = None,
    transforms: dict[str, str] | None = None,
) -> Any:
    """The fit's feature matrix, each value computed by the function every report uses
    (:func:`triage.calibration.metric_feature`)."""
    import numpy as np

    from triage.calibration import metric_feature

    bounds = bounds or {}
    transforms = transforms or {}
    return np.array(
        [[metric_feature(f, ev, question, transforms, bounds) for f in features] for ev in evs],
        dtype=float,
    ).reshape(len(evs), len(features))


def metric_bounds(
    X: Any,
    features: list[str],
    evs: Sequence[FileEvidence],
    question: str,
    analyzers: Sequence[str],
) -> dict[str, tuple[float, float]]:
    """Each metric feature of ``analyzers``: its 1st and 99th percentile over the files
    whose analyzer examined them, the range the fit uses (values beyond are held at its
    edges, in the fit and in every report), so that a few extreme files do not set the
    slope and no file is scored by extrapolating it."""
    import numpy as np

    out: dict[str, tuple[float, float]] = {}
    for j, name in enumerate(features):
        if ":metric:" not in name:
            continue
        analyzer = name.split(":")[0]
        if analyzer not in analyzers:
            continue
        rows = [i for i, ev in enumerate(evs) if ev.examined(analyzer, question) > 0]
        if len(rows) < 2:
            continue
        lo, hi = np.percentile(X[rows, j], [1, 99])
        out[name] = (round(float(lo), 4), round(float(hi), 4))
    return out


# ------------------------------------------------------------------------------- fit
def metric_reference(
    X: Any, y: Any, features: Sequence[str], evs: Sequence[FileEvidence], question: str
) -> dict[str, float]:
    """Per metric feature, its median over the negative calibration files whose analyzer
    examined the question (on the scale it enters the fit on): what a file without the
    answer usually reads, so a report can say which measurements lean which way.

    Parameters
    ----------
    X : ndarray, shape (n_files, n_features)
        The design matrix the question is fitted on.
    y : ndarray, shape (n_files,)
        1 for the files with the answer, 0 for the others.
    features : sequence of str
        Column names of ``X``.
    evs : sequence of FileEvidence
        Each file's evidence (which analyzers examined the question).
    question : str
        The question fitted.

    Returns
    -------
    dict
        Metric feature name -> median, for the metrics with at least one such file.
    """
    import numpy as np

    out: dict[str, float] = {}
    for c, name in enumerate(features):
        if ":metric:" not in name:
            continue
        analyzer = name.split(":", 1)[0]
        rows = [
            i for i, ev in enumerate(evs) if y[i] == 0 and ev.examined(analyzer, question) > 0.0
        ]
        if rows:
            out[name] = round(float(np.median(X[rows, c])), 4)
    return out


def fit_question(
    records: Sequence[Record], question: str, cfg: FitConfig, config: dict[str, Any]
) -> dict[str, Any] | None:
    import numpy as np

    pairs = fitted_pairs(records, question)
    if cfg.leave_out_declared:
        # A file that declares its answer (generator parameters, a signed edit) is scored
        # by that declaration's stated ratio on top of the rest of its evidence; fitted
        # among the rest it would teach "has metadata" as a sign of generation.
        stated = set(config.get("stated", {}))
        pairs = [
            (r, t)
            for r, t in pairs
            if not any(
                f["id"] in stated and f["question"] == question for f in r.get("findings", [])
            )
        ]
    if not pairs or all(t for _, t in pairs) or not any(t for _, t in pairs):
        return None
    recs = [r for r, _ in pairs]
    y = np.array([1.0 if t else 0.0 for _, t in pairs])
    evs = [evidence(r) for r in recs]
    features, blocks = design(recs, question, cfg, config)
    transforms = metric_transforms(features, cfg)
    X = _matrix(evs, features, question, None, transforms)
    # Bounds on the scale the metric enters on (after its transform).
    bounds = metric_bounds(X, features, evs, question, cfg.clipped)
    X = _matrix(evs, features, question, bounds, transforms)
    groups = [source_of(r) for r in recs]
    flat = len(set(groups)) < 3
    if flat:  # a flat archive: folds by file
        groups = [str(r.get("name") or r.get("path") or i) for i, r in enumerate(recs)]
    units = groups if flat else fold_units(recs, groups, y)
    folds = _folds(units, min(cfg.folds, len(set(units))))
    metric = np.array([":metric:" in f for f in features], dtype=bool)
    priors = config.get("prior_llr", {}) if cfg.prior_centres else {}
    centre = np.array([float(priors.get(f, 0.0)) for f in features])
    losses = {
        lam: balanced_log_loss(_cross_fit(X, y, folds, lam, metric, None, centre), y)
        for lam in cfg.penalties
    }
    lam = min(losses, key=lambda k: losses[k])
    fold_models: list[Any] = []
    oof = _cross_fit(X, y, folds, lam, metric, fold_models, centre)
    cmap = choose_map(oof, y, units, groups, cfg)
    if cfg.average_folds and fold_models:
        # The shipped model is the mean of the fold models (still linear, so its terms
        # stay additive): the calibration scores come from exactly such models.
        coef = np.mean([c for c, _ in fold_models], axis=0)
        b0 = float(np.mean([b for _, b in fold_models]))
    else:
        coef, b0 = _fit_raw(X, y, lam, metric, centre)
    # Bootstrap over sources for each coefficient's range.
    rng = np.random.default_rng(cfg.seed)
    uniq = sorted(set(groups))
    rows_of = {g: [i for i, h in enumerate(groups) if h == g] for g in uniq}
    boots = []
    for _ in range(cfg.n_boot):
        pick = rng.choice(len(uniq), len(uniq), replace=True)
        idx = [i for j in pick for i in rows_of[uniq[j]]]
        yb = y[idx]
        if yb.min() == yb.max():
            continue
        boots.append(_fit_raw(X[idx], yb, lam, metric, centre)[0])
    if boots:
        B = np.array(boots)
        lo, hi = np.percentile(B, 5, axis=0), np.percentile(B, 95, axis=0)
    else:
        lo = hi = coef
    coef_range = [
        [round(float(min(a, c)), 4), round(float(max(b, c)), 4)]
        for a, b, c in zip(lo, hi, coef, strict=True)
    ]
    redraw: dict[str, list[list[float]]] = {}
    for a, names in blocks.items():
        idx = [i for i, ev in enumerate(evs) if ev.examined(a, question) >= 1.0]
        if not idx:
            continue
        chosen = sorted(
            int(i) for i in rng.choice(idx, min(cfg.redraw_rows, len(idx)), replace=False)
        )
        cols = [features.index(n) for n in names]
        redraw[a] = [[round(float(X[i, c]), 4) for c in cols] for i in chosen]
    return {
        "metric_reference": metric_reference(X, y, features, evs, question),
        "features": features,
        "metric_transforms": transforms,
        "metric_bounds": bounds,
        "coef": [round(float(c), 5) for c in coef],
        "coef_range": coef_range,
        "intercept": round(float(b0), 5),
        "penalty": lam,
        "cv_log_loss": {str(k): round(v, 4) for k, v in losses.items()},
        "blocks": blocks,
        "scores": [round(float(s), 4) for s in oof],
        "labels": [int(v) for v in y],
        # Source of each calibration file (numbered): the neighbourhood interval counts
        # sources, not files, because files of one source are not independent.
        "groups": [uniq.index(g) for g in groups],
        "sources": len(uniq),
        # Sources cross-fitted by their folders, not whole (fold_units).
        "fold_split_sources": sorted({g for g, u in zip(groups, units, strict=True) if g != u}),
        # From the cross-fitted score to a probability (choose_map).
        "calibration_map": {
            k: ({m: round(v, 5) for m, v in val.items()} if k == "cv_log_loss" else val)
            for k, val in cmap.items()
        },
        "n_pos": int(y.sum()),
        "n_neg": int(len(y) - y.sum()),
        "redraw": redraw,
        "interval_mass": cfg.interval_mass,
        "source_band": source_band(oof, y, groups, cfg.band_boot, cfg.interval_mass, cfg.seed),
        # A flat archive names no sources: no spread between them can be measured.
        "source_dispersion": between_source_variance(source_offsets(oof, y, groups))
        if cfg.source_dispersion and not flat
        else {},
    }


def fit_calibration(
    records: Sequence[Record],
    cfg: FitConfig | None = None,
    name: str = "calibration",
    version: str | None = None,
    data: dict[str, Any] | None = None,
    config: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A calibration file's content fitted on ``records`` (labelled, analyzed).

    ``config`` (bands, coverage weights, declared ids) defaults to
    ``triage/data/analyzers.json``."""
    cfg = cfg or FitConfig()
    config = config or analyzer_config()
    questions = {}
    for q in QUESTIONS:
        fitted = fit_question(records, q, cfg, config)
        if fitted is not None:
            questions[q] = fitted
        elif q in config.get("fixed", {}):
            questions[q] = {k: v for k, v in config["fixed"][q].items() if k != "note"}
    now = datetime.now(UTC)
    return {
        "format": FORMAT,
        "name": name,
        "version": version or now.strftime("%Y-%m-%d.%H%M"),
        "created": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "seed": cfg.seed,
        "data": data or {"files": len(records)},
        "method": "class-balanced L2 logistic regression per question; inductive Venn-Abers "
        "on cross-fitted scores; Jeffreys interval on the isotonic block and source band, "
        "widened by the between-source spread of the calibration offset; redraw of "
        "analyzers that could not run (docs/scoring.md)",
        "bands": config["bands"],
        "coverage_weight": config["coverage_weight"],
        "declared_findings": _declared(config),
        "questions": questions,
    }


def summary(cal: dict[str, Any]) -> str:
    """A few lines on what was fitted, for the command line."""
    lines = [f"calibration {cal['name']} {cal['version']}"]
    for q, m in cal["questions"].items():
        if not m.get("scores"):
            lines.append(f"  {q}: declared, not fitted (no labelled data)")
            continue
        import numpy as np

        s, y = np.asarray(m["scores"]), np.asarray(m["labels"], dtype=float)
        lines.append(
            f"  {q}: {m['n_pos']} positives, {m['n_neg']} negatives from {m['sources']} "
            f"sources; {len(m['features'])} features; penalty {m['penalty']:g}; "
            f"cross-fitted balanced log loss {balanced_log_loss(s, y):.3f}"
        )
    return "\n".join(lines) + "\n"


def _declared(config: dict[str, Any]) -> list[str]:
    """Every finding id the registered analyzers declare (``finding_ids``), plus any a
    test's config names."""
    from triage.analyzers import all_analyzers

    ids = {fid for a in all_analyzers() for fid in a.finding_ids}
    ids |= {fid for names in config.get("findings", {}).values() for fid in names}
    return sorted(ids)


def dump(data: dict[str, Any]) -> str:
    """The calibration file's text: indent 1, each list of numbers on one line."""
    text = json.dumps(data, indent=1, ensure_ascii=False)
    import re

    # Collapse lists of plain numbers/short values onto one line (smaller diffs, readable).
    def join(m: re.Match[str]) -> str:
        inner = re.sub(r"\s+", " ", m.group(0))
        return inner.replace("[ ", "[").replace(" ]", "]")

    return re.sub(r"\[[^\[\]{}]*\]", join, text) + "\n"


def load_fitted(data: dict[str, Any]) -> Calibration:
    return Calibration.from_text(dump(data), f"{data.get('name', 'calibration')} (in memory)")


# --------------------------------------------------------------------------- rescore
def rescore(record: Record, calibration: Calibration) -> dict[str, dict[str, Any]]:
    """A record's per-question results recomputed with ``calibration``: what the
    pipeline would report for that file with it (findings and runs are in the record)."""
    return {
        q: {
            "score": r.score,
            "interval": list(r.interval),
            "band": r.band,
            "coverage": r.coverage,
        }
        for q, r in rescored_results(record, calibration).items()
    }


def rescored_results(record: Record, calibration: Calibration) -> dict[Question, QuestionResult]:
    """The scoring's full result per question (score, interval, band, coverage and each
    term's contribution to the log-odds) for a record under ``calibration``."""
    from triage.analyzers.base import RawFinding
    from triage.scoring import AnalyzerOutcome, score_all, to_finding

    ev = evidence(record)
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
            calibration,
        )
        for f in record.get("findings", [])
    ]
    outcomes = [
        AnalyzerOutcome(name, a.get("status", "ok"), dict(a.get("examined") or {}))
        for name, a in (record.get("analyzers") or {}).items()
        if a.get("status") != "not-applicable"
    ]
    return score_all(findings, outcomes, ev, calibration, {})


def rescore_all(records: Sequence[Record], calibration: Calibration) -> list[Record]:
    """Copies of ``records`` with their questions recomputed (files that gave a report)."""
    out = []
    for r in records:
        if r.get("outcome") in ("ok", "error") and r.get("questions"):
            r = dict(r)
            r["questions"] = rescore(r, calibration)
        out.append(r)
    return out
