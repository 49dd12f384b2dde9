"""The fitted calibration: fusion, Venn-Abers calibration, intervals, bands, the calibrate command."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from triage.calibration import Calibration, FileEvidence, QuestionModel, load, packaged
from triage.cli import app
from triage.evaluate.calibrate import (
    FitConfig,
    between_source_variance,
    dump,
    evidence,
    fit_calibration,
    fitted_pairs,
    load_fitted,
    offsets_against,
    rescore,
    source_band,
    source_offsets,
)
from triage.scoring import AnalyzerOutcome, score_question

ROOT = Path(__file__).resolve().parent.parent
CONFIG = {
    "bands": {
        "strong_low": 0.8,
        "min_coverage": 0.3,
        "weak_margin": 0.02,
        "clear_min_coverage": 0.6,
    },
    "coverage_weight": {"alpha": {"manipulation": 1.0}, "beta": {"manipulation": 0.5}},
    "findings": {"alpha": ["alpha.x", "alpha.noise"], "beta": ["beta.y"]},
}


def _records(n: int = 120, seed: int = 0) -> list[dict]:
    """Generated records: alpha.x fires on 70% of positives and 10% of negatives;
    alpha.noise fires on half of each class (it never predicts edits); beta runs on all
    but a few files and fires beta.y weakly."""
    rng = np.random.default_rng(seed)
    recs = []
    for i in range(n):
        pos = i % 2 == 0
        findings = []
        if rng.random() < (0.7 if pos else 0.1):
            findings.append(
                {"id": "alpha.x", "analyzer": "alpha", "question": "manipulation", "strength": 1.0}
            )
        if rng.random() < 0.5:
            findings.append(
                {
                    "id": "alpha.noise",
                    "analyzer": "alpha",
                    "question": "manipulation",
                    "strength": 1.0,
                }
            )
        if rng.random() < (0.4 if pos else 0.2):
            findings.append(
                {"id": "beta.y", "analyzer": "beta", "question": "manipulation", "strength": 0.8}
            )
        recs.append(
            {
                "name": f"f{i}",
                "label": "manipulated" if pos else "authentic",
                "source": f"src{i // 4}",
                "outcome": "ok",
                "questions": {
                    "manipulation": {
                        "score": 0.5,
                        "interval": [0, 1],
                        "band": "insufficient-evidence",
                        "coverage": 1,
                    }
                },
                "findings": findings,
                "analyzers": {
                    "alpha": {"status": "ok", "examined": {"manipulation": 1.0}, "metrics": {}},
                    "beta": {"status": "ok", "examined": {"manipulation": 1.0}, "metrics": {}},
                },
            }
        )
    return recs


@pytest.fixture(scope="module")
def tiny() -> Calibration:
    data = fit_calibration(
        _records(), FitConfig(n_boot=10, penalties=(1.0, 10.0)), name="tiny", config=CONFIG
    )
    return load_fitted(data)


def test_fit_learns_the_informative_finding_and_ignores_the_noise(tiny: Calibration) -> None:
    m = tiny.models["manipulation"]
    coef = dict(zip(m.features, m.coef, strict=True))
    assert coef["alpha.x"] > 1.5
    assert abs(coef["alpha.noise"]) < 0.4
    assert len(m.scores) == 120 and set(m.labels) == {0, 1}
    lo, hi = m.coef_range[m.features.index("alpha.x")]
    assert lo <= coef["alpha.x"] <= hi


def test_calibrated_interval_contains_the_score_and_orders_files(tiny: Calibration) -> None:
    hit = FileEvidence()
    hit.add_finding("alpha.x", "manipulation", 1.0)
    for ev in (hit, FileEvidence()):
        ev.analyzers = {
            "alpha": ("ok", {"manipulation": 1.0}),
            "beta": ("ok", {"manipulation": 1.0}),
        }
    a = tiny.estimate("manipulation", hit)
    b = tiny.estimate("manipulation", FileEvidence(analyzers=dict(hit.analyzers)))
    assert a is not None and b is not None
    for e in (a, b):
        assert 0 <= e.interval[0] <= e.score <= e.interval[1] <= 1
    assert a.score > 0.6 > 0.4 > b.score
    assert a.contributions["alpha.x"] == pytest.approx(
        tiny.models["manipulation"].coef[tiny.models["manipulation"].features.index("alpha.x")]
    )


def test_source_band_is_wide_where_sources_disagree() -> None:
    # Low scores: every source agrees the files are unedited. High scores: half the
    # sources say edited, half unedited (a hard collection beside an easy one).
    scores, labels, groups = [], [], []
    for g in range(20):
        for i in range(6):
            scores.append(-2.0 - 0.01 * i)
            labels.append(0)
            groups.append(f"s{g}")
            scores.append(2.0 + 0.01 * i)
            labels.append(int(g % 2 == 0))
            groups.append(f"s{g}")
        scores.append(-1.0)
        labels.append(1)
        groups.append(f"s{g}")
    band = source_band(scores, labels, groups, n_boot=100, mass=0.9, seed=0)
    grid = np.array(band["grid"])
    width = np.array(band["high"]) - np.array(band["low"])
    assert width[grid > 1.5].min() > 2 * width[grid < -1.5].max()
    assert all(lo <= hi for lo, hi in zip(band["low"], band["high"], strict=True))


def _block_model(blocks: list[tuple[float, int, int]]) -> QuestionModel:
    """A calibration of one question whose files are ``(score, positives, negatives)``
    groups, one source per file; in each group the positives score lowest, so the
    isotonic fit pools the group into one block."""
    scores: list[float] = []
    labels: list[int] = []
    for sc, pos, neg in blocks:
        scores += [sc + 0.001 * i for i in range(pos + neg)]
        labels += [1] * pos + [0] * neg
    return QuestionModel.from_json(
        "synthetic",
        {
            "features": [],
            "coef": [],
            "coef_range": [],
            "intercept": 0.0,
            "blocks": {},
            "scores": scores,
            "labels": labels,
        },
    )


def test_neighbourhood_counts_files_not_class_weights() -> None:
    # 20 generated files among 420: each weighs 10x a camera file. A block holding 2
    # of them among 40 files has a balanced rate near 0.5, but it rests on 2 files: its
    # interval must be as wide as 2 of 40 allows, not as if there were 20 of 58.
    m = _block_model([(-2.0, 0, 300), (0.0, 2, 38), (2.0, 18, 62)])
    lo, hi = m._jeffreys(0.0)
    assert 0.3 < m.point(0.0) < 0.7
    assert hi - lo > 0.5
    # A block of positives only reaches 1; one of negatives only reaches 0.
    m = _block_model([(-2.0, 0, 40), (2.0, 30, 0)])
    assert m._jeffreys(2.0)[1] == 1.0
    assert m._jeffreys(-2.0)[0] == 0.0
    assert m._jeffreys(-2.0)[1] < 0.2


def _shifted_sources(offsets: list[float], n: int = 200, seed: int = 0) -> tuple[list, list, list]:
    """Scores and labels of sources with as many edited as unedited files, whose scores
    are calibrated log-odds but for a shift: edited ~ N(1 - d, 2), unedited ~ N(-1 - d,
    2) make the log-likelihood ratio at score s exactly s + d (d = offsets[k]): source
    k's files score d lower than their evidence."""
    rng = np.random.default_rng(seed)
    scores, labels, groups = [], [], []
    for k, d in enumerate(offsets):
        scores += rng.normal(1 - d, np.sqrt(2), n // 2).tolist()
        scores += rng.normal(-1 - d, np.sqrt(2), n // 2).tolist()
        labels += [1] * (n // 2) + [0] * (n // 2)
        groups += [f"s{k}"] * (n - n % 2)
    return scores, labels, groups


def test_source_offsets_find_a_shifted_source_and_the_spread_between_sources() -> None:
    # Twelve calibrated sources and one whose files score 2 lower in log-odds than
    # their evidence: its offset is near 2, the others' near 0.
    scores, labels, groups = _shifted_sources([0.0] * 12 + [2.0])
    offs = {name: (d, v) for name, d, v in source_offsets(scores, labels, groups)}
    assert offs["s12"][0] > 1.2
    assert all(abs(offs[f"s{k}"][0]) < 0.8 for k in range(12))
    # Sources that agree: the spread is their sampling noise only, tau about 0.
    same = between_source_variance(source_offsets(*_shifted_sources([0.0] * 15, seed=1)))
    assert same["tau"] < 0.25
    # Sources drawn with offsets of spread 1: tau near 1.
    rng = np.random.default_rng(2)
    spread = between_source_variance(
        source_offsets(*_shifted_sources(rng.normal(0, 1, 30).tolist(), n=300, seed=3))
    )
    assert 0.6 < spread["tau"] < 1.5
    # A source of one label is read against the others' files of the other label.
    s1, y1, g1 = _shifted_sources([0.0] * 10, seed=4)
    s1 += [3.0] * 30
    y1 += [0] * 30  # unedited files that score like edited ones: a negative offset
    g1 += ["hard"] * 30
    assert {n: d for n, d, _ in source_offsets(s1, y1, g1)}["hard"] < -1.0


def test_offsets_against_given_probabilities() -> None:
    # Held-out check: the calibration's probabilities are the truth for s0..s9 and 2
    # log-odds too low for "low"; a one-label source is read against the others.
    scores, labels, groups = _shifted_sources([0.0] * 10 + [2.0], seed=5)
    probs = 1 / (1 + np.exp(-np.asarray(scores)))
    offs = {n: d for n, d, _ in offsets_against(probs, labels, groups)}
    assert offs["s10"] > 1.2 and all(abs(offs[f"s{k}"]) < 0.8 for k in range(10))
    one = offsets_against([0.9, 0.9, 0.2, 0.3], [0, 0, 0, 1], ["a", "a", "b", "b"])
    assert dict((n, d) for n, d, _ in one)["a"] < -0.3


def test_the_between_source_spread_widens_the_interval_not_the_score() -> None:
    m = _block_model([(-2.0, 5, 200), (0.0, 50, 50), (2.0, 200, 5)])
    p = m.point(0.0)
    lo, hi = m.new_source(p, *m.neighbourhood(0.0))
    assert (lo, hi) == m.neighbourhood(0.0)  # tau 0: unchanged
    m.tau = 0.5
    wide = m.new_source(p, *m.neighbourhood(0.0))
    assert wide[0] < lo and wide[1] > hi and wide[0] < p < wide[1]
    # In log-odds each half-width grows to hypot(half-width, 1.645 * tau).
    assert np.log(wide[1] / (1 - wide[1])) - np.log(p / (1 - p)) >= 1.645 * 0.5 - 1e-9


def test_a_finding_counts_only_for_its_own_question() -> None:
    from triage.calibration import feature_value

    ev = FileEvidence()
    ev.add_finding("metadata.xmp_history", "manipulation", 1.0)
    assert feature_value("metadata.xmp_history", ev, "manipulation") == 1.0
    # An edit history says something about editing, nothing about generation.
    assert feature_value("metadata.xmp_history", ev, "synthetic") == 0.0


def test_claiming_bands_ask_for_a_score_as_well_as_an_interval() -> None:
    from triage.scoring import _band

    cfg = {**CONFIG["bands"], "clear_score": 0.1, "notable_score": 0.7}
    # An interval just above one half with a middling score: weak, not notable.
    assert _band(0.6, (0.52, 0.7), 1.0, True, cfg) == "weak-indicators"
    assert _band(0.75, (0.52, 0.9), 1.0, True, cfg) == "notable-indicators"
    # No indicators only where few comparable files were edited.
    assert _band(0.3, (0.2, 0.45), 1.0, True, cfg) == "insufficient-evidence"
    assert _band(0.08, (0.0, 0.3), 1.0, True, cfg) == "no-indicators"
    assert _band(0.08, (0.0, 0.3), 1.0, False, cfg) == "insufficient-evidence"


def test_missing_analyzer_and_unknown_finding_widen_the_interval(tiny: Calibration) -> None:
    full = FileEvidence(
        analyzers={"alpha": ("ok", {"manipulation": 1.0}), "beta": ("ok", {"manipulation": 1.0})}
    )
    gap = FileEvidence(analyzers={"alpha": ("ok", {"manipulation": 1.0}), "beta": ("error", {})})
    odd = FileEvidence(analyzers=dict(full.analyzers))
    odd.add_finding("alpha.brand_new", "manipulation", 1.0)
    w = {
        k: (e.interval[1] - e.interval[0])
        for k, e in (
            ("full", tiny.estimate("manipulation", full)),
            ("gap", tiny.estimate("manipulation", gap)),
            ("odd", tiny.estimate("manipulation", odd)),
        )
    }  # type: ignore[union-attr]
    assert w["gap"] >= w["full"]
    assert w["odd"] > w["full"]
    est = tiny.estimate("manipulation", odd)
    assert est is not None and est.unknown == ["alpha.brand_new"]


def test_prior_moves_score_and_interval(tiny: Calibration) -> None:
    ev = FileEvidence(
        analyzers={"alpha": ("ok", {"manipulation": 1.0}), "beta": ("ok", {"manipulation": 1.0})}
    )
    ev.add_finding("alpha.x", "manipulation", 1.0)
    outcomes = [
        AnalyzerOutcome("alpha", "ok", {"manipulation": 1.0}),
        AnalyzerOutcome("beta", "ok", {"manipulation": 1.0}),
    ]
    even = score_question("manipulation", [], outcomes, ev, tiny, 0.5)
    rare = score_question("manipulation", [], outcomes, ev, tiny, 0.1)
    assert rare.score < even.score and rare.interval[1] < even.interval[1]
    assert rare.prior == 0.1


def test_file_round_trips_and_names_itself(tmp_path: Path) -> None:
    data = fit_calibration(
        _records(40), FitConfig(n_boot=5, penalties=(1.0,)), name="rt", version="v1", config=CONFIG
    )
    p = tmp_path / "c.json"
    p.write_text(dump(data))
    cal = load(p)
    assert (cal.name, cal.version) == ("rt", "v1")
    assert json.loads(p.read_text()) == json.loads(dump(data))
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    with pytest.raises(ValueError):
        load(bad)


def test_rescore_uses_the_calibration_given(tiny: Calibration) -> None:
    rec = _records(4)[0]
    rec["findings"] = [
        {"id": "alpha.x", "analyzer": "alpha", "question": "manipulation", "strength": 1.0}
    ]
    assert rescore(rec, tiny)["manipulation"]["score"] > 0.6
    assert evidence(rec).findings == {"alpha.x": 1.0}


# --------------------------------------------------------------- packaged calibration
def test_packaged_calibration_declares_every_registered_analyzer_and_card() -> None:
    from triage.analyzers import REGISTRY, all_analyzers

    cal = packaged()
    for analyzer in all_analyzers():
        assert analyzer.name in cal.coverage_weight, analyzer.name
        for q in analyzer.questions:
            assert q in cal.coverage_weight[analyzer.name], (analyzer.name, q)
        assert (ROOT / "docs" / "analyzers" / f"{analyzer.name}.md").is_file(), analyzer.name
    assert set(REGISTRY) <= set(cal.coverage_weight)
    fitted = {f for m in cal.models.values() for f in m.features if ":" not in f}
    declared = {fid for a in all_analyzers() for fid in a.finding_ids}
    assert fitted <= declared, sorted(fitted - declared)  # weighs only ids that exist
    assert set(cal.declared) <= declared


def test_stripped_file_is_insufficient_evidence_not_no_indicators(tmp_path: Path) -> None:
    from triage.pipeline import analyze_path

    rng = np.random.default_rng(0)
    img = (rng.normal(128, 30, (256, 320, 3))).clip(0, 255).astype(np.uint8)
    p = tmp_path / "stripped.jpg"
    Image.fromarray(img).save(p, quality=85)  # no EXIF, no XMP: what a platform serves
    # The core fixture too: a camera photo with its metadata stripped.
    for path in (p, ROOT / "fixtures" / "core" / "stripped.jpg"):
        rep = analyze_path(path)
        for q in ("manipulation", "synthetic"):
            assert rep.questions[q].band != "no-indicators", (path, q, rep.questions[q])
        assert rep.questions["manipulation"].band == "insufficient-evidence", (path, rep)
        assert rep.calibration is not None and rep.calibration.sha256 == packaged().sha256


# ------------------------------------------------------------------ calibrate command
def _photoshop_jpeg(path: Path, seed: int, photoshop: bool) -> None:
    rng = np.random.default_rng(seed)
    img = (rng.normal(120, 25, (96, 128, 3))).clip(0, 255).astype(np.uint8)
    exif = Image.Exif()
    exif[0x010F] = "Canon"
    exif[0x0110] = "Canon EOS 5D"
    if photoshop:
        exif[0x0131] = "Adobe Photoshop 25.0 (Windows)"
    Image.fromarray(img).save(path, quality=90, exif=exif)


def test_calibrate_command_drives_a_non_predictive_finding_to_zero(tmp_path: Path) -> None:
    rows = ["path\tlabel"]
    for i in range(24):
        label = "manipulated" if i % 2 else "authentic"
        name = f"f{i:02d}.jpg"
        # Photoshop in the EXIF of half of each class: it says nothing about edits here.
        _photoshop_jpeg(tmp_path / name, i, photoshop=(i // 2) % 2 == 0)
        rows.append(f"{name}\t{label}")
    (tmp_path / "labels.tsv").write_text("\n".join(rows) + "\n")
    out = tmp_path / "desk.json"
    res = CliRunner().invoke(
        app,
        [
            "calibrate",
            str(tmp_path / "labels.tsv"),
            "-o",
            str(out),
            "--only",
            "metadata",
            "--jobs",
            "1",
        ],
    )
    assert res.exit_code == 0, res.output
    desk = load(out)
    m = desk.models["manipulation"]
    assert "metadata.editing_software" in m.features
    coef = m.coef[m.features.index("metadata.editing_software")]
    assert abs(coef) < 0.3
    check = CliRunner().invoke(
        app,
        [
            "check",
            str(tmp_path / "f00.jpg"),
            "--only",
            "metadata",
            "-f",
            "json",
            "--calibration",
            str(out),
        ],
    )
    assert check.exit_code == 0, check.output
    report = json.loads(check.output)
    f = next(f for f in report["findings"] if f["id"] == "metadata.editing_software")
    assert abs(f["llr"]) < 0.3
    assert (
        report["calibration"]["name"] == "desk" and report["calibration"]["sha256"] == desk.sha256
    )
    bad = CliRunner().invoke(
        app, ["check", str(tmp_path / "f00.jpg"), "--calibration", str(tmp_path / "nope.json")]
    )
    assert bad.exit_code == 2


def test_a_metric_far_outside_the_fit_data_is_held_at_its_edge() -> None:
    """A metric enters the log-odds linearly; beyond the range it was fitted on the
    model has no data, so a file's value is clipped to that range (fit and report)."""
    rng = np.random.default_rng(3)
    recs = _records(200, seed=3)
    for i, rec in enumerate(recs):
        pos = rec["label"] == "manipulated"
        value = float(rng.normal(2.0 if pos else 1.5, 0.4))
        rec["analyzers"]["beta"]["metrics"] = {"m": 40.0 if i == 7 else value}
    cfg = FitConfig(n_boot=5, penalties=(1.0,), metrics={"beta": ("m",)}, clipped=("beta",))
    cal = load_fitted(fit_calibration(recs, cfg, name="bounded", config=CONFIG))
    model = cal.models["manipulation"]
    lo, hi = model.bounds["beta:metric:m"]
    assert 0.5 < lo < 1.5 < 2.0 < hi < 3.5  # the 1st-99th percentile, not the outlier
    # only the analyzers named in FitConfig.clipped are bounded
    unclipped = fit_calibration(
        recs, FitConfig(n_boot=5, penalties=(1.0,), metrics=cfg.metrics), config=CONFIG
    )
    assert "beta:metric:m" not in load_fitted(unclipped).models["manipulation"].bounds

    def score(metric: float | None) -> float:
        ev = FileEvidence()
        ev.analyzers["alpha"] = ("ok", {"manipulation": 1.0})
        if metric is not None:
            ev.analyzers["beta"] = ("ok", {"manipulation": 1.0})
            ev.metrics["beta"] = {"m": metric}
        est = cal.estimate("manipulation", ev)
        assert est is not None
        return est.score

    assert score(1000.0) == pytest.approx(score(hi))
    assert score(-1000.0) == pytest.approx(score(lo))
    assert score(1.8) != pytest.approx(score(hi))
    # an analyzer that did not run keeps its metric at 0, not at the low edge
    ev = FileEvidence()
    ev.analyzers["beta"] = ("skipped", {})
    assert model.vector(ev)[model.features.index("beta:metric:m")] == 0.0


def test_a_record_enters_only_the_fits_it_names() -> None:
    # bench/calibrate.py's cross-fitted tamper training photos: in-sample for the camera
    # and synthpix models, so they name the manipulation fit only.
    recs = _records()
    for r in recs[:40]:
        r["fit_questions"] = ["synthetic"]
    data = fit_calibration(recs, FitConfig(n_boot=5, penalties=(1.0,)), name="t", config=CONFIG)
    assert len(data["questions"]["manipulation"]["scores"]) == len(recs) - 40
    assert [r for r, _ in fitted_pairs(recs, "manipulation")] == recs[40:]
    assert len(fitted_pairs(recs[:40], "manipulation")) == 0


def test_a_content_gated_analyzer_enters_by_its_findings_not_by_having_run() -> None:
    """faces runs only on a picture with a detected face: that it ran says what the
    picture shows. Here beta runs on positives far more often than on negatives; as a
    content-gated analyzer its examined share gets no weight, its finding still does."""
    recs = _records()
    for i, r in enumerate(recs):
        if i % 2 and i % 6:  # most negatives: beta did not run
            r["analyzers"]["beta"] = {"status": "skipped", "examined": {}, "metrics": {}}
    quick = FitConfig(n_boot=5, penalties=(1.0,))
    plain = fit_calibration(recs, quick, name="t", config=CONFIG)["questions"]["manipulation"]
    assert "beta:examined" in plain["features"]
    gated_cfg = FitConfig(n_boot=5, penalties=(1.0,), content_gated=("beta",))
    gated = fit_calibration(recs, gated_cfg, name="t", config=CONFIG)["questions"]["manipulation"]
    assert "beta:examined" not in gated["features"]
    assert "beta.y" in gated["features"] and "alpha:examined" in gated["features"]


def test_the_packaged_fusion_gives_no_weight_to_a_detected_face() -> None:
    cal = json.loads((ROOT / "triage" / "data" / "calibration.json").read_text("utf-8"))
    assert "faces:examined" not in cal["questions"]["synthetic"]["features"]
    assert "faces.face_unlike_rest" in cal["questions"]["synthetic"]["features"]


def test_a_source_holding_most_of_a_label_is_cross_fitted_by_its_folders() -> None:
    # bench/calibrate.py's fit side has one generator repository, 51 of its 52 generated
    # files: dealt out whole, its fold's model saw one generated file, and the calibration
    # mapped scores of a model that never learned the label (held-out synthetic ECE 0.121).
    from triage.evaluate.calibrate import fold_units

    recs = _records()
    for i, r in enumerate(recs):
        if r["label"] == "manipulated":
            r["source"] = "one-collection"
            r["path"] = f"/data/one-collection/item{i // 6}/copy{i % 6}.jpg"
        else:
            r["path"] = f"/data/{r['source']}/f{i}.jpg"
    y = [1 if r["label"] == "manipulated" else 0 for r in recs]
    units = fold_units(recs, [r["source"] for r in recs], y)
    mine = {u for u, r in zip(units, recs, strict=True) if r["source"] == "one-collection"}
    assert len(mine) == len(
        {r["path"].rsplit("/", 1)[0] for r, t in zip(recs, y, strict=True) if t}
    )
    # A label spread over many sources keeps leave-source-out folds.
    assert [u for u, t in zip(units, y, strict=True) if not t] == [
        r["source"] for r, t in zip(recs, y, strict=True) if not t
    ]
    data = fit_calibration(recs, FitConfig(n_boot=5, penalties=(1.0,)), name="t", config=CONFIG)
    m = data["questions"]["manipulation"]
    # Every positive is scored by a fold model that learned alpha.x from other positives.
    pos = [s for s, t in zip(m["scores"], m["labels"], strict=True) if t]
    neg = [s for s, t in zip(m["scores"], m["labels"], strict=True) if not t]
    assert np.mean(pos) - np.mean(neg) > 0.5
    # The intervals still count it as one source.
    assert data["questions"]["manipulation"]["sources"] == len({r["source"] for r in recs})


def _clustered_scores(n_sources: int, seed: int) -> tuple:
    """Cross-fitted scores of ``n_sources`` sources of 12 files each, labels drawn from
    a logistic curve of slope 1 with a source offset (sd 0.5): the setting of
    bench/calibrate.py's fit side, where an isotonic fit follows a few sources."""
    rng = np.random.default_rng(seed)
    s, y, g = [], [], []
    for k in range(n_sources):
        u = rng.normal(0.0, 0.5)
        for _ in range(12):
            lab = int(rng.random() < 0.5)
            sc = rng.normal(1.2 if lab else -1.2, 1.3)
            # score and label related by a logistic curve of slope 0.9 (+ offset)
            p = 1 / (1 + np.exp(-(0.9 * sc + u)))
            lab = int(rng.random() < p)
            s.append(sc)
            y.append(lab)
            g.append(f"s{k}")
    return np.array(s), np.array(y, dtype=float), g


def test_a_parametric_map_replaces_venn_abers_only_where_the_fit_data_say_so() -> None:
    from triage.evaluate.calibrate import choose_map

    cfg = FitConfig(map_dealings=2, map_boot=200)
    s, y, g = _clustered_scores(60, 0)
    chosen = choose_map(s, y, g, g, cfg)
    # A smooth logistic truth on 720 files from 60 sources: Platt's two parameters fit it
    # better on left-out sources than 720 isotonic steps, beyond the bootstrap's spread.
    assert chosen["kind"] in ("platt", "beta")
    assert chosen["vs_venn_abers"]["5_95"][1] < 0
    assert set(chosen["cv_log_loss"]) == {"venn-abers", "platt", "beta"}
    if chosen["kind"] == "platt":
        assert 0.6 < chosen["params"][1] < 1.2
    # Few files: no map beats Venn-Abers beyond the spread, so it stays.
    s, y, g = _clustered_scores(4, 1)
    kept = choose_map(s, y, g, g, cfg)
    assert kept["kind"] == "venn-abers" and kept["params"] == []


def test_the_point_follows_the_chosen_map_and_stays_inside_the_interval() -> None:
    m = _block_model([(-2.0, 5, 200), (0.0, 50, 50), (2.0, 200, 5)])
    va, p0, p1 = m.calibrate(2.0)
    m.map_kind, m.map_params = "platt", [0.0, 1.5]
    p, q0, q1 = m.calibrate(2.0)
    assert p == pytest.approx(1 / (1 + np.exp(-3.0)))
    assert (q0, q1) == (p0, p1)  # the Venn-Abers pair still bounds the interval
    assert m.point(2.0) == pytest.approx(p) and p != pytest.approx(va)
    data = fit_calibration(
        _records(), FitConfig(n_boot=5, penalties=(1.0,)), name="t", config=CONFIG
    )
    data["questions"]["manipulation"]["calibration_map"] = {
        "kind": "platt",
        "params": [0.2, 1.4],
    }
    cal = load_fitted(data)
    assert cal.models["manipulation"].map_kind == "platt"
    for r in _records(40, seed=3):
        est = cal.estimate("manipulation", evidence(r))
        assert est is not None
        assert est.interval[0] <= est.score <= est.interval[1]
        assert est.score == pytest.approx(1 / (1 + np.exp(-(0.2 + 1.4 * est.fused))))


def test_the_calibration_names_the_sources_cross_fitted_by_folder() -> None:
    recs = _records()
    for i, r in enumerate(recs):
        if r["label"] == "manipulated":
            r["source"] = "one-collection"
            r["path"] = f"/data/one-collection/item{i // 6}/copy{i % 6}.jpg"
    quick = FitConfig(n_boot=5, band_boot=20, penalties=(1.0,), maps=("venn-abers",))
    data = fit_calibration(recs, quick, name="t", config=CONFIG)
    assert data["questions"]["manipulation"]["fold_split_sources"] == ["one-collection"]
    assert data["questions"]["manipulation"]["calibration_map"]["kind"] == "venn-abers"
    plain = fit_calibration(_records(), quick, name="t", config=CONFIG)
    assert plain["questions"]["manipulation"]["fold_split_sources"] == []


def _probability_records(seed: int = 5) -> list[dict]:
    """Records whose beta analyzer reports a learned probability ``p`` (higher on
    edited files, reaching both ends) and a share ``a`` of the image."""
    rng = np.random.default_rng(seed)
    recs = _records(160, seed=seed)
    for rec in recs:
        pos = rec["label"] == "manipulated"
        z = float(rng.normal(1.5 if pos else -1.5, 2.5))
        rec["analyzers"]["beta"]["metrics"] = {
            "p": 1.0 / (1.0 + np.exp(-z)),
            "a": float(np.exp(rng.normal(-3.0 if pos else -4.0, 1.0))),
        }
    return recs


def _logit_fit_config() -> FitConfig:
    """beta's probability ``p`` entering as log-odds, its share ``a`` as reported."""
    return FitConfig(
        n_boot=5,
        penalties=(1.0,),
        metrics={"beta": ("p", "a")},
        transforms={"beta": {"p": "logit"}},
        clipped=("beta",),
    )


def test_a_metric_transform_is_computed_alike_in_the_fit_and_in_every_report() -> None:
    """A learned probability enters as log-odds when the fit says so; the calibration
    file names the transform of every metric, and a report computes exactly the fit's
    feature values (the calibration scores are the fold models' fused scores of them)."""
    from triage.calibration import LOGIT_FLOOR, metric_feature, transform_metric

    recs = _probability_records()
    cfg = _logit_fit_config()
    data = fit_calibration(recs, cfg, name="logit", config=CONFIG)
    m = data["questions"]["manipulation"]
    assert m["metric_transforms"] == {"beta:metric:p": "logit", "beta:metric:a": "identity"}
    # The clip bounds are on the scale the metric enters on (log-odds here).
    lo, hi = m["metric_bounds"]["beta:metric:p"]
    assert lo < -2.0 and hi > 2.0
    model = load_fitted(data).models["manipulation"]
    assert model.transforms == m["metric_transforms"]
    j = model.features.index("beta:metric:p")
    for rec in recs[:20]:
        ev = evidence(rec)
        p = rec["analyzers"]["beta"]["metrics"]["p"]
        want = min(max(float(np.log(p / (1 - p))), lo), hi)
        assert model.vector(ev)[j] == pytest.approx(want)
        assert metric_feature("beta:metric:p", ev, "manipulation", model.transforms, {}) == (
            pytest.approx(float(np.log(p / (1 - p))))
        )
    # A metric of an analyzer that did not run stays 0 (not logit(0) = -9.2).
    off = FileEvidence(analyzers={"beta": ("skipped", {})})
    assert model.vector(off)[j] == 0.0
    assert transform_metric("logit", 0.0) == pytest.approx(np.log(LOGIT_FLOOR / (1 - LOGIT_FLOOR)))
    assert transform_metric("log", 0.0) == pytest.approx(np.log(LOGIT_FLOOR))
    assert transform_metric("identity", 0.3) == transform_metric(None, 0.3) == 0.3
    with pytest.raises(ValueError, match="unknown metric transform"):
        transform_metric("sqrt", 0.3)


def test_a_calibration_file_without_metric_transforms_scores_as_before() -> None:
    """Files written before metric transforms existed name none: each metric enters as
    reported, so they load and score exactly as they did; a file naming a transform this
    version does not know is refused, not read on the wrong scale."""
    recs = _probability_records()
    cfg = FitConfig(n_boot=5, penalties=(1.0,), metrics={"beta": ("p", "a")})
    data = fit_calibration(recs, cfg, name="plain", config=CONFIG)
    m = data["questions"]["manipulation"]
    assert set(m["metric_transforms"].values()) == {"identity"}
    old = json.loads(dump(data))
    del old["questions"]["manipulation"]["metric_transforms"]
    new_cal, old_cal = load_fitted(data), Calibration.from_text(json.dumps(old), "old")
    assert old_cal.models["manipulation"].transforms == {}
    for rec in recs[:30]:
        ev = evidence(rec)
        a = new_cal.estimate("manipulation", ev)
        b = old_cal.estimate("manipulation", ev)
        assert a is not None and b is not None
        assert (a.fused, a.score, a.interval) == (b.fused, b.score, b.interval)
        # as reported: the fused score is the intercept plus coef * the raw metrics
        j = m["features"].index("beta:metric:p")
        assert (
            old_cal.models["manipulation"].vector(ev)[j] == rec["analyzers"]["beta"]["metrics"]["p"]
        )
    bad = json.loads(dump(data))
    bad["questions"]["manipulation"]["metric_transforms"]["beta:metric:p"] = "sqrt"
    with pytest.raises(ValueError, match="unknown metric transform"):
        Calibration.from_text(json.dumps(bad), "bad")


def _metric_statement(cal: Calibration, p: float, beta_ran: bool = True) -> str:
    ev = FileEvidence()
    ev.analyzers["alpha"] = ("ok", {"manipulation": 1.0})
    outcomes = [AnalyzerOutcome("alpha", "ok", {"manipulation": 1.0})]
    if beta_ran:
        ev.analyzers["beta"] = ("ok", {"manipulation": 1.0})
        ev.metrics["beta"] = {"p": p, "a": 0.02}
        outcomes.append(
            AnalyzerOutcome("beta", "ok", {"manipulation": 1.0}, None, "the beta model's reading")
        )
    else:
        outcomes.append(AnalyzerOutcome("beta", "skipped", {}, "too small"))
    return score_question("manipulation", [], outcomes, ev, cal).statement


def test_the_statement_names_a_metric_that_leans_the_score_either_way() -> None:
    """A learned probability can carry most of a score without any finding; the
    statement says so, measured against what the negative calibration files usually
    read (the calibration's reference), and says nothing of it where it reads as they
    do or where its analyzer did not run."""
    recs = _probability_records()
    cfg = _logit_fit_config()
    data = fit_calibration(recs, cfg, name="lean", config=CONFIG)
    ref = data["questions"]["manipulation"]["metric_reference"]
    negatives = [r["analyzers"]["beta"]["metrics"]["p"] for r in recs if r["label"] == "authentic"]
    want = float(np.median(np.log(np.array(negatives) / (1 - np.array(negatives)))))
    assert ref["beta:metric:p"] == pytest.approx(want, abs=0.2)  # clipped, rounded
    cal = load_fitted(data)
    model = cal.models["manipulation"]
    assert model.coef[model.features.index("beta:metric:p")] > 0
    typical = 1.0 / (1.0 + np.exp(-ref["beta:metric:p"]))
    high = _metric_statement(cal, 0.995)
    assert high.startswith("Evidence for editing after capture: the beta model's reading, higher")
    low = _metric_statement(cal, 0.005)
    assert "Against: the beta model's reading, lower than on most unedited files." in low
    assert "beta model" not in _metric_statement(cal, typical)
    assert "beta model" not in _metric_statement(cal, 0.995, beta_ran=False)
    assert _metric_statement(cal, typical).startswith(
        "No finding or measurement points to editing after capture."
    )


def test_a_calibration_file_without_metric_references_names_no_metric() -> None:
    """Files written before references existed give no lean: the statement names
    findings only, as it did."""
    recs = _probability_records()
    cfg = FitConfig(n_boot=5, penalties=(1.0,), metrics={"beta": ("p", "a")})
    old = json.loads(dump(fit_calibration(recs, cfg, name="plain", config=CONFIG)))
    del old["questions"]["manipulation"]["metric_reference"]
    cal = Calibration.from_text(json.dumps(old), "old")
    assert cal.models["manipulation"].metric_lean({"beta:metric:p": 5.0}) == {}
    assert "beta model" not in _metric_statement(cal, 0.999)


def test_the_shipped_calibration_has_a_reference_for_every_metric() -> None:
    for question, model in load().models.items():
        metrics = [f for f in model.features if ":metric:" in f]
        assert set(model.reference) == set(metrics), question


def test_a_term_against_its_own_analyzer_is_not_named() -> None:
    """A finding with a small negative fitted term beside its analyzer's positive metric
    is not "against": the analyzer, taken whole, points the other way."""
    from triage.scoring import Driver, consistent_drivers

    finding = Driver(-0.2, "fine pixel detail like a generator's decoder", "synthpix")
    metric = Driver(1.4, "the generated-pixel model's reading", "synthpix", measured=True)
    other = Driver(-0.9, "camera origin in the metadata", "metadata")
    kept = consistent_drivers([finding, metric, other], {"synthpix": 1.4})
    assert kept == [metric, other]
    # a lean weaker than the finding does not outweigh it
    assert consistent_drivers([finding], {"synthpix": 0.1}) == [finding]
    # findings of one analyzer are not weighed against each other
    region = Driver(1.2, "region with an outlying error level", "compression")
    twice = Driver(-0.6, "compressed twice (aligned double JPEG)", "compression")
    assert consistent_drivers([region, twice], {}) == [region, twice]
    # a metric block outweighed by its analyzer's findings on the other side goes
    low = Driver(-0.7, "the tamper model's reading", "tamper", measured=True)
    found = Driver(1.5, "region that the tamper model finds unlike the rest", "tamper")
    assert consistent_drivers([low, found], {"tamper": -0.7}) == [found]


def test_a_trait_of_the_file_that_leans_the_score_is_named_as_a_trait() -> None:
    """The fit's term for an analyzer having examined a question is a base rate (camera
    metadata is rare on generated files): named apart from the evidence, by its
    analyzer's words, where it leans the log-odds at least METRIC_DRIVER_LLR."""
    from triage.scoring import METRIC_DRIVER_LLR, trait_drivers

    words = {"synthetic": "its metadata names a camera"}
    ran = AnalyzerOutcome("metadata", "ok", {"synthetic": 1.0}, trait_words=words)
    strong = {"metadata:examined": -3.4, "faces:examined": 0.2}
    (driver,) = trait_drivers("synthetic", strong, [ran])
    assert (driver.llr, driver.words, driver.analyzer) == (-3.4, words["synthetic"], "metadata")
    weak = {"metadata:examined": -0.99 * METRIC_DRIVER_LLR}
    assert trait_drivers("synthetic", weak, [ran]) == []
    assert trait_drivers("manipulation", strong, [ran]) == []  # no words for that question
    failed = AnalyzerOutcome("metadata", "error", {}, "unreadable", trait_words=words)
    assert trait_drivers("synthetic", strong, [failed]) == []


def test_the_shipped_statements_name_the_traits_that_carry_a_score() -> None:
    """A camera photo's synthetic score sits near 0 mostly because its metadata names a
    camera; a PNG's leans up because generators' output seldom is a JPEG. The statement
    says so (before, it named only the generated-pixel model, "for", at 0.005), and a
    trait that a finding of its analyzer already states is not named twice."""
    from triage import analyze

    dated = analyze(ROOT / "fixtures" / "core" / "dates_forged.jpg").questions["synthetic"]
    assert dated.score < 0.05
    assert "Weighed as a trait of files like this one: its metadata names a camera" in (
        dated.statement
    )
    assert "(against)" in dated.statement
    png = analyze(ROOT / "fixtures" / "core" / "scene.png").questions["synthetic"]
    assert "Weighed as a trait of files like this one: not a JPEG (for)." in png.statement
    camera = analyze(ROOT / "fixtures" / "core" / "camera_original.jpg").questions["synthetic"]
    assert "Against: metadata of a camera capture." in camera.statement
    assert "trait" not in camera.statement


def test_a_finding_named_inside_a_sentence_keeps_only_its_acronyms() -> None:
    from triage.scoring import _lc

    assert _lc("A region appears twice (copy-move)") == "a region appears twice (copy-move)"
    assert _lc("No metadata") == "no metadata"
    kept_as_written = (
        "EXIF thumbnail does not match the image",
        "XMP edit history",
        "C2PA manifest",
        "Stable Diffusion invisible watermark (SDV2)",
    )
    for kept in kept_as_written:
        assert _lc(kept) == kept


def test_a_question_nothing_examined_says_none_of_its_checks_ran() -> None:
    outcomes = [AnalyzerOutcome("provenance", "ok", {}, "no reference hashes to compare with")]
    result = score_question("provenance", [], outcomes, FileEvidence(), load())
    assert "Uncertain because none of the checks for this question could run" in result.statement
    assert "0%" not in result.statement
