"""The evaluation harness, on tiny labeled sets with known answers."""

from __future__ import annotations

import io
import itertools
import json
import math
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from triage.evaluate import metrics as M
from triage.evaluate import report as R
from triage.evaluate.manifest import ManifestError, parse_manifest, read_manifest
from triage.evaluate.runner import RunOptions, run_in_process, run_manifest


# ----------------------------------------------------------------------------- manifest
def test_manifest_tsv_with_header_and_relative_paths(tmp_path: Path) -> None:
    (tmp_path / "m.tsv").write_text(
        "path\tlabel\tmask\n"
        "camera/a.jpg\tauthentic\t\n"
        "# a comment\n"
        "\n"
        "edit/b.png\tmanipulated\tedit/b_mask.png\n"
        "/abs/c.jpg\tAI\t\n"
    )
    items = read_manifest(tmp_path / "m.tsv")
    assert [i.label for i in items] == ["authentic", "manipulated", "synthetic"]
    assert items[0].path == tmp_path.resolve() / "camera" / "a.jpg"
    assert items[0].mask is None and items[0].group == "camera"
    assert items[1].mask == tmp_path.resolve() / "edit" / "b_mask.png"
    assert items[2].path == Path("/abs/c.jpg")


def test_manifest_csv_without_header_and_reordered_header(tmp_path: Path) -> None:
    items = parse_manifest("a.jpg,real\nb.jpg,tampered,b.png\n", tmp_path)
    assert [(i.name, i.label, i.mask) for i in items] == [
        ("a.jpg", "authentic", None),
        ("b.jpg", "manipulated", tmp_path / "b.png"),
    ]
    items = parse_manifest("label,path\nsynthetic,x.png\n", tmp_path)
    assert items[0].name == "x.png" and items[0].label == "synthetic"


def test_manifest_errors_name_the_line(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="line 3: unknown label 'maybe'"):
        parse_manifest("path\tlabel\na.jpg\tauthentic\nb.jpg\tmaybe\n", tmp_path)
    with pytest.raises(ManifestError, match="no such manifest"):
        read_manifest(tmp_path / "absent.tsv")


def test_corpus_labels_parse(corpus_dir: Path) -> None:
    items = read_manifest(corpus_dir / "labels.tsv")
    assert items and all(i.path.exists() for i in items)
    assert all(i.mask.exists() for i in items if i.mask)


# ------------------------------------------------------------------------------ AUC
def _brute_auc(scores: list[float], pos: list[bool]) -> float:
    p = [s for s, y in zip(scores, pos, strict=True) if y]
    n = [s for s, y in zip(scores, pos, strict=True) if not y]
    total = sum(1.0 if a > b else 0.5 if a == b else 0.0 for a, b in itertools.product(p, n))
    return total / (len(p) * len(n))


def test_auc_known_values() -> None:
    assert M.roc_auc([0.9, 0.8, 0.2, 0.1], [True, True, False, False]) == 1.0
    assert M.roc_auc([0.1, 0.2, 0.8, 0.9], [True, True, False, False]) == 0.0
    assert M.roc_auc([0.5] * 6, [True, False] * 3) == 0.5
    # pos {0.8, 0.6} vs neg {0.6, 0.2}: 1 + 1 + 1/2 + 1 = 3.5 of 4 pairs
    assert M.roc_auc([0.8, 0.6, 0.6, 0.2], [True, True, False, False]) == pytest.approx(0.875)
    assert M.roc_auc([0.3, 0.4], [True, True]) is None


def test_auc_matches_pairwise_count_with_ties() -> None:
    rng = np.random.default_rng(7)
    scores = list(np.round(rng.random(60), 1))  # many ties
    pos = list(rng.random(60) < 0.4)
    assert M.roc_auc(scores, pos) == pytest.approx(_brute_auc(scores, pos))


def test_average_ranks_and_wilson() -> None:
    assert list(M.average_ranks([10, 20, 20, 30])) == [1.0, 2.5, 2.5, 4.0]
    lo, hi = M.wilson(5, 10)
    assert lo == pytest.approx(0.2366, abs=1e-3) and hi == pytest.approx(0.7634, abs=1e-3)
    assert M.wilson(0, 0) == (0.0, 1.0)


def test_smoothed_llr() -> None:
    # fired on 9 of 18 positives and 0 of 18 negatives: (10/20) / (1/20) = 10
    assert M.smoothed_llr(9, 18, 0, 18) == pytest.approx(math.log(10))
    assert M.smoothed_llr(3, 10, 3, 10) == pytest.approx(0.0)


# ------------------------------------------------------------------- hand-made records
def _rec(
    label: str,
    m: float,
    band: str,
    lo: float | None = None,
    hi: float | None = None,
    findings: tuple[str, ...] = (),
    s_band: str = "no-indicators",
    group: str = "g",
    outcome: str = "ok",
    mask: str | None = None,
    boxes: list | None = None,
    size: list | None = None,
) -> dict:
    def q(score: float, b: str) -> dict:
        return {
            "score": score,
            "interval": [
                lo if lo is not None else score - 0.1,
                hi if hi is not None else score + 0.1,
            ],
            "band": b,
            "coverage": 1.0,
        }

    return {
        "name": f"{label}-{m}-{band}",
        "label": label,
        "group": group,
        "outcome": outcome,
        "mask": mask,
        "size": size,
        "questions": {
            "manipulation": q(m, band),
            "synthetic": q(0.2, s_band),
            "provenance": q(0.5, "insufficient-evidence"),
        },
        "findings": [
            {
                "id": f,
                "analyzer": f.split(".")[0],
                "question": "manipulation",
                "llr": 1.0,
                "strength": 1.0,
                "boxes": boxes,
            }
            for f in findings
        ],
        "analyzers": {
            "alpha": {"status": "ok", "examined": {"manipulation": 1.0}},
            "beta": {"status": "ok", "examined": {}},
        },
    }


RECORDS = [
    _rec("manipulated", 0.9, "strong-indicators", 0.85, 0.95, ("alpha.x",)),
    _rec("manipulated", 0.7, "notable-indicators", 0.55, 0.8, ("alpha.x",)),
    _rec("manipulated", 0.4, "no-indicators", 0.3, 0.45),
    _rec("authentic", 0.6, "notable-indicators", 0.52, 0.7, ("alpha.x",)),
    _rec("authentic", 0.2, "no-indicators", 0.1, 0.3),
    _rec("authentic", 0.1, "no-indicators", 0.05, 0.2),
    _rec("authentic", 0.5, "insufficient-evidence", 0.2, 0.8),
    _rec("synthetic", 0.5, "insufficient-evidence", s_band="notable-indicators"),
    _rec("malformed", 0.5, "insufficient-evidence", outcome="error"),
    _rec("authentic", 0.5, "insufficient-evidence", outcome="timeout"),
]


def test_auc_interval_holds_the_auc_and_narrows_with_more_files() -> None:
    rng = np.random.default_rng(3)

    def draw(n: int) -> tuple[np.ndarray, np.ndarray]:
        scores = np.r_[rng.normal(1.0, 1.0, n), rng.normal(0.0, 1.0, n)]
        return scores, np.r_[np.ones(n, bool), np.zeros(n, bool)]

    small, large = draw(20), draw(2000)
    lo_s, hi_s = M.auc_interval(*small)
    lo_l, hi_l = M.auc_interval(*large)
    assert lo_s <= M.roc_auc(*small) <= hi_s
    assert lo_l <= M.roc_auc(*large) <= hi_l
    assert hi_s - lo_s > 5 * (hi_l - lo_l)
    # Two classes of 2,000 with AUC about 0.76: the normal approximation's 95% half-width
    # (Hanley & McNeil 1982) is about 0.015.
    assert 0.02 < hi_l - lo_l < 0.04
    assert M.auc_interval(*small) == (lo_s, hi_s)  # seeded: the same records, the same interval
    assert M.auc_interval([0.2, 0.4], [False, False]) is None
    assert M.auc_interval([0.9, 0.8, 0.2, 0.1], [True, True, False, False]) is None
    perfect = M.auc_interval([0.9, 0.8, 0.2, 0.1], [True, True, False, False], min_class=1)
    assert perfect == (1.0, 1.0)


def test_band_rates_per_label() -> None:
    rates = M.band_rates(RECORDS, "manipulation")
    assert rates["authentic"]["n"] == 4  # the timed-out file has no report
    assert rates["authentic"]["counts"]["no-indicators"] == 2
    assert rates["authentic"]["rates"]["notable-indicators"] == pytest.approx(0.25)
    assert rates["manipulated"]["counts"]["strong-indicators"] == 1
    assert rates["malformed"]["n"] == 1


def test_auc_and_claims_on_records() -> None:
    res = M.auc_for(RECORDS, "manipulation", interval=True)
    assert (res["n_pos"], res["n_neg"]) == (3, 4)
    scores = [0.9, 0.7, 0.4, 0.6, 0.2, 0.1, 0.5]
    assert res["auc"] == pytest.approx(_brute_auc(scores, [True] * 3 + [False] * 4))
    assert res["auc_interval"] is None  # 3 and 4 files: too few for a bootstrap
    claims = M.claim_coverage(RECORDS, "manipulation")
    assert claims["bands"]["strong-indicators"]["correct"] == 1
    assert claims["bands"]["notable-indicators"]["n"] == 2
    assert claims["bands"]["notable-indicators"]["correct"] == 1
    # no-indicators claims negative: 2 authentic right, 1 manipulated wrong
    assert claims["bands"]["no-indicators"]["correct"] == 2
    assert claims["n"] == 6 and claims["correct"] == 4 and claims["no_claim"] == 1
    # synthetic: negatives are authentic + manipulated
    assert M.auc_for(RECORDS, "synthetic")["n_neg"] == 7


def test_reliability_bins() -> None:
    rel = M.reliability(RECORDS, "manipulation", bins=10)
    assert rel["n"] == 7
    by_lo = {round(b["lo"], 1): b for b in rel["bins"]}
    assert by_lo[0.9]["n"] == 1 and by_lo[0.9]["observed"] == 1.0
    assert by_lo[0.6]["observed"] == 0.0
    y = np.array([1, 1, 1, 0, 0, 0, 0])
    s = np.array([0.9, 0.7, 0.4, 0.6, 0.2, 0.1, 0.5])
    assert rel["brier"] == pytest.approx(float(np.mean((s - y) ** 2)))
    # 3 positives of 7: balanced weights 0.5/(3/7) and 0.5/(4/7); a pure bin stays pure
    assert rel["base_rate"] == pytest.approx(3 / 7)
    assert by_lo[0.9]["observed_balanced"] == 1.0 and by_lo[0.6]["observed_balanced"] == 0.0
    assert 0 <= rel["ece_balanced"] <= 1


def test_finding_and_clean_stats() -> None:
    stats = M.finding_stats(RECORDS)["alpha.x"]
    assert (stats["fired_pos"], stats["n_pos"], stats["fired_neg"], stats["n_neg"]) == (2, 3, 1, 4)
    assert stats["empirical_llr"] == pytest.approx(math.log((3 / 5) / (2 / 6)))
    assert stats["by_label"] == {"manipulated": 2, "authentic": 1}
    clean = M.clean_stats(RECORDS)
    # alpha examined everything and stayed silent on 1/3 positives and 3/4 negatives
    assert (
        clean["alpha/manipulation"]["silent_pos"],
        clean["alpha/manipulation"]["silent_neg"],
    ) == (1, 3)
    # beta recorded no examined shares: taken as examined, and it never fired
    assert clean["beta/manipulation"]["silent_pos"] == 3


# ----------------------------------------------------------------------- localization
def test_iou_of_known_boxes() -> None:
    gt = np.zeros((10, 10), bool)
    gt[0:5, 0:5] = True  # 25 px
    pred = M.box_mask([[0, 0, 5, 10]], (10, 10))  # x 0..5, y 0..10: 50 px
    assert pred.sum() == 50
    assert M.iou(pred, gt) == pytest.approx(0.5)
    assert M.iou(M.box_mask([[5, 5, 10, 10]], (10, 10)), gt) == 0.0
    # boxes in full-resolution coordinates, mask at half size
    half = M.box_mask([[0, 0, 10, 10]], (10, 10), scale=(0.5, 0.5))
    assert M.iou(half, gt) == 1.0


def test_localization_against_mask_png(tmp_path: Path) -> None:
    mask = np.zeros((40, 40), np.uint8)
    mask[10:30, 10:30] = 255
    Image.fromarray(mask).save(tmp_path / "m.png")
    hit = _rec(
        "manipulated",
        0.9,
        "strong-indicators",
        findings=("alpha.x",),
        mask=str(tmp_path / "m.png"),
        boxes=[[20, 20, 60, 60]],
        size=[80, 80],
    )
    miss = _rec("manipulated", 0.4, "no-indicators", mask=str(tmp_path / "m.png"))
    loc = M.localization([hit, miss])
    assert loc["n"] == 2 and loc["with_boxes"] == 1
    assert loc["files"][0]["iou"] == pytest.approx(1.0)
    assert loc["mean_iou"] == pytest.approx(0.5)
    assert loc["per_analyzer"]["alpha"]["with_boxes"] == 1


# -------------------------------------------------------------------- report renderers
def test_renderers(tmp_path: Path) -> None:
    metrics = M.evaluate(RECORDS)
    text = R.render_text(metrics, RECORDS)
    assert "manipulation" in text and "targets:" in text
    md = R.render_markdown(metrics, RECORDS, {"command": "triage evaluate x.tsv"})
    assert md.startswith("# Evaluation") and "triage evaluate x.tsv" in md
    assert "| authentic | 4 |" in md
    payload = json.loads(R.to_json(metrics, RECORDS))
    assert payload["metrics"]["questions"]["manipulation"]["auc"]["n_pos"] == 3
    png = R.reliability_png(metrics)
    img = Image.open(io.BytesIO(png))
    assert img.format == "PNG" and img.width > img.height > 300
    tgt = {t["target"].split(" ")[0]: t for t in R.targets(metrics, RECORDS)}
    assert tgt["malformed"]["met"] is True


# ------------------------------------------------------------------------------ runner
def test_runner_survives_hangs_crashes_and_memory_hogs(tmp_path: Path) -> None:
    names = ["a", "hang", "b", "die", "raise", "hog", "c"]
    items = parse_manifest("\n".join(f"{n}\tauthentic" for n in names), tmp_path)
    opts = RunOptions(
        jobs=2, timeout=3.0, max_memory_mb=1024, record_function="evaluate_fake_worker:fake_record"
    )
    t0 = time.monotonic()
    records = run_manifest(items, opts)
    assert time.monotonic() - t0 < 30
    outcome = {r["name"]: r["outcome"] for r in records}
    assert [r["name"] for r in records] == names  # manifest order
    assert outcome == {
        "a": "ok",
        "hang": "timeout",
        "b": "ok",
        "die": "crash",
        "raise": "crash",
        "hog": "crash",
        "c": "ok",
    }
    msgs = {r["name"]: r.get("message") or "" for r in records}
    assert "exit code 3" in msgs["die"] and "boom" in msgs["raise"]
    assert "MemoryError" in msgs["hog"]
    rob = M.robustness(records)
    assert rob["timeouts"] == 1 and rob["crashes"] == 3


def _small_files(tmp: Path) -> str:
    rng = np.random.default_rng(3)
    arr = (rng.random((48, 64, 3)) * 255).astype(np.uint8)
    Image.fromarray(arr).save(tmp / "a.png")
    Image.fromarray(arr).save(tmp / "b.jpg", quality=80)
    (tmp / "junk.jpg").write_bytes(b"\xff\xd8\xff\xe0" + bytes(200))
    (tmp / "empty.png").write_bytes(b"")
    return "a.png\tauthentic\nb.jpg\tmanipulated\njunk.jpg\tmalformed\nempty.png\tmalformed\nnothere.jpg\tunknown\n"


def test_runner_on_real_files_matches_in_process(tmp_path: Path) -> None:
    items = parse_manifest(_small_files(tmp_path), tmp_path)
    records = run_manifest(items, RunOptions(jobs=2, timeout=60))
    assert [r["outcome"] for r in records] == ["ok", "ok", "error", "error", "error"]
    local = run_in_process(items)
    for a, b in zip(records, local, strict=True):
        assert a["questions"] == b["questions"]
        assert [f["id"] for f in a["findings"]] == [f["id"] for f in b["findings"]]
    ran = [n for n, a in records[0]["analyzers"].items() if a["status"] == "ok"]
    if ran:  # the capture recorded what each analyzer examined
        assert any(records[0]["analyzers"][n]["examined"] for n in ran)


def test_cli_evaluate_writes_outputs(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from triage.cli import app

    (tmp_path / "m.tsv").write_text(_small_files(tmp_path))
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        [
            "evaluate",
            str(tmp_path / "m.tsv"),
            "--jobs",
            "1",
            "--json",
            str(out / "e.json"),
            "--diagram",
            str(out / "r.png"),
            "--markdown",
            str(out / "e.md"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "targets:" in result.output
    data = json.loads((out / "e.json").read_text())
    assert len(data["records"]) == 5
    assert Image.open(out / "r.png").format == "PNG"
    assert (out / "e.md").read_text().startswith("# Evaluation")
    bad = CliRunner().invoke(app, ["evaluate", str(tmp_path / "absent.tsv")])
    assert bad.exit_code == 2


def test_malformed_corpus_never_crashes_or_hangs(corpus_dir: Path) -> None:
    items = [i for i in read_manifest(corpus_dir / "labels.tsv") if i.label == "malformed"]
    assert len(items) >= 10
    records = run_manifest(items, RunOptions(jobs=2, timeout=60, max_memory_mb=3072))
    bad = [
        (r["name"], r["outcome"], r.get("message"))
        for r in records
        if r["outcome"] not in ("ok", "error")
    ]
    assert bad == []
    assert len(records) == len(items)


# ------------------------------------------------------------------------- calibration
def test_rescore_reproduces_the_pipeline(tmp_path: Path) -> None:
    from triage.calibration import load
    from triage.evaluate.calibrate import rescore

    items = parse_manifest(_small_files(tmp_path), tmp_path)
    for rec in run_in_process(items):
        if rec["outcome"] in ("ok", "error"):
            assert rescore(rec, load()) == rec["questions"]


def test_training_generator_is_deterministic_and_labeled(tmp_path: Path) -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "fixtures"))
    from generators.training import KINDS, generate_training

    a = generate_training(tmp_path / "a", 14, seed=3)
    b = generate_training(tmp_path / "b", 14, seed=3)
    assert a["all"].read_text() == b["all"].read_text()
    items = read_manifest(a["all"])
    assert len(items) == 14
    assert {i.label for i in items} == {"authentic", "manipulated"}
    kinds = {line.split("\t")[3] for line in a["all"].read_text().splitlines()[1:]}
    assert set(KINDS) <= kinds  # the first units cycle through every kind
    train = {i.name.split("_")[0] for i in read_manifest(a["train"])}
    held = {i.name.split("_")[0] for i in read_manifest(a["heldout"])}
    assert not train & held  # a scene and its edit stay on one side of the split
    for i in items:
        assert i.path.read_bytes() == (tmp_path / "b" / i.name).read_bytes()
        if i.mask:
            m = M.read_mask(str(i.mask))
            assert 0.005 < m.mean() < 0.5


def test_bad_fixtures_give_error_entries_not_crashes(fixtures_dir: Path) -> None:
    items = [i for i in read_manifest(fixtures_dir / "labels.tsv") if i.label == "malformed"]
    assert len(items) == 5 and all(i.path.exists() for i in items)
    records = run_manifest(items, RunOptions(jobs=2, timeout=60, max_memory_mb=2048))
    assert [r["outcome"] for r in records] == ["error"] * 5
    assert all(r["message"] for r in records)


def test_fixture_labels_point_at_existing_files(fixtures_dir: Path) -> None:
    items = read_manifest(fixtures_dir / "labels.tsv")
    assert all(i.path.exists() for i in items)
    assert all(i.mask.exists() for i in items if i.mask)


def test_interval_coverage_counts_files_and_bins() -> None:
    def rec(label: str, score: float, lo: float, hi: float) -> dict:
        q = {"score": score, "interval": [lo, hi], "band": "weak-indicators", "coverage": 1.0}
        return {"label": label, "outcome": "ok", "questions": {"manipulation": q}}

    # Bin 0.1: two negatives (balanced rate 0); bin 0.8: one positive and one negative,
    # balanced rate 0.75 (positives are a quarter of the set, weighted to half).
    records = [
        rec("authentic", 0.15, 0.0, 0.3),  # holds 0
        rec("authentic", 0.12, 0.05, 0.3),  # misses 0
        rec("manipulated", 0.85, 0.4, 0.9),  # holds 0.75
        rec("authentic", 0.82, 0.8, 0.9),  # misses 0.75
    ]
    cov = M.interval_coverage(records, "manipulation")
    assert cov["n"] == 4 and cov["files"] == pytest.approx(0.5)
    assert cov["bins_n"] == 2
    assert 0 <= cov["bins"] <= 1 and cov["ece_balanced"] is not None


def test_out_of_sample_section_leaves_out_the_fitted_sources(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from types import SimpleNamespace

    import triage.calibration as C

    fitted = SimpleNamespace(data={"data": {"corpus_fit_sources": ["fitted/set"]}})
    monkeypatch.setattr(C, "load", lambda *a, **k: fitted)
    records = [dict(r, name=f"fitted/set/{i}.jpg") for i, r in enumerate(RECORDS[:2])]
    records += [dict(r, name=f"other/set/{i}.jpg") for i, r in enumerate(RECORDS[2:])]
    md = "\n".join(R._out_of_sample_section(records))
    # Out of sample: 1 manipulated (0.4) against 4 authentic; the two fitted edits are out.
    assert "the sources the calibration was not fitted on" in md
    assert "| manipulation | 1 | 4 |" in md
    monkeypatch.setattr(C, "load", lambda *a, **k: SimpleNamespace(data={}))
    assert R._out_of_sample_section(records) == []


def test_chance_interval_of_a_bin_on_the_balanced_scale() -> None:
    # At a balanced set the interval is the plain Jeffreys interval on k of n.
    lo, hi = M.balanced_jeffreys(5, 10, 0.5)
    assert 0.2 < lo < 0.5 < hi < 0.8 and math.isclose(lo, 1 - hi, abs_tol=1e-9)
    # None of 45 files positive: the low end is 0, the high end small but above 0.
    lo, hi = M.balanced_jeffreys(0, 45, 0.5)
    assert lo == 0.0 and 0.0 < hi < 0.1
    # Few positives in the set weigh more on the balanced scale: the same count
    # reads higher than at a balanced set.
    assert M.balanced_jeffreys(3, 10, 0.2)[0] > M.balanced_jeffreys(3, 10, 0.5)[0]
    assert M.balanced_jeffreys(3, 10, 1.0) == (0.0, 1.0)


def test_a_bin_that_misses_its_interval_by_chance_only_is_consistent() -> None:
    # 0 positives of 45 with a stated interval of 0.003-0.48: the observed 0 lies below
    # the interval, but a rate of 0.003 gives 0 of 45 almost always.
    near = {
        "mean_low": 0.003,
        "mean_high": 0.48,
        "chance_balanced": list(M.balanced_jeffreys(0, 45, 0.5)),
    }
    assert M.chance_consistent(near)
    # 45 of 45 against a stated 0.1-0.3 is no accident.
    far = {
        "mean_low": 0.1,
        "mean_high": 0.3,
        "chance_balanced": list(M.balanced_jeffreys(45, 45, 0.5)),
    }
    assert not M.chance_consistent(far)
    # reliability() gives each bin its interval, interval_coverage() counts the bins.
    records = [
        {
            "label": "manipulated" if i % 2 else "authentic",
            "outcome": "ok",
            "questions": {
                "manipulation": {"score": 0.15 + 0.7 * (i % 2), "interval": [0.05, 0.95]}
            },
        }
        for i in range(20)
    ]
    rel = M.reliability(records, "manipulation")
    assert all("chance_balanced" in b for b in rel["bins"])
    assert M.interval_coverage(records, "manipulation")["bins_consistent"] == len(rel["bins"])
