#!/usr/bin/env python3
"""Refit the shipped calibration (triage/data/calibration.json) and measure it on held-out sources.

    python bench/calibrate.py                       # build, analyze (cached), fit; print; write nothing
    python bench/calibrate.py --write               # ... and write triage/data/calibration.json
    python bench/calibrate.py --write --doc docs/scoring.md   # ... and the figures table there

Steps, each cached under ``--work`` (default /tmp/triage-calibration) so a refit takes seconds:

1. **build**: labelled files made by code, each tagged with its *source* and a split
   (``fit`` or ``heldout``) by source:

   * camera photos of ../shared/training that the tamper model held out (``split_sources``),
     halved by source name: per photo the original, an unedited copy and two edits through a
     platform chain (``triage.train.edits``), and a metadata-free PNG of the photo (so that
     "PNG without metadata" is not learned as "generated");
   * generator samples of ../shared/training (only the generated images: inputs, depth
     maps, diagrams and charts are left out by name, listed in ``NOT_GENERATED``), each as
     given, as a metadata-free PNG and through a platform chain; split by repository;
   * the project's labelled fixtures (fit);
   * ../shared/corpus split by source (``CORPUS_FIT`` is fitted on, the rest held out).

2. **analyze**: the pipeline once per file (``triage.evaluate.runner``, worker processes,
   ``nice``), records cached in ``records.jsonl``; only new files are analyzed.

3. **fit** on the ``fit`` split (``triage.evaluate.calibrate.fit_calibration``), then
   score the ``heldout`` split with it and print the held-out figures (they go into the
   calibration file).
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SHARED = ROOT.parent / "shared"
DOC_START = "<!-- calibration-table:start (bench/calibrate.py --doc writes this part) -->"
DOC_END = "<!-- calibration-table:end -->"

# Generator-repository files that are not generated images: model diagrams, score charts,
# depth maps, masks, sketches and photos used as img2img inputs, autoencoder
# reconstructions shown next to their inputs, and low-resolution upscaler inputs.
NOT_GENERATED = (
    "modelfigure",
    "model-variants",
    "variants-scores",
    "sketch-mountains-input",
    "upscaling-in",
    "midas",
    "reconstruction",
    "inpainting",
    "cup_mask",
    "docs_depth",
    "docs_redux",
)
# Corpus sources fitted on; every other source of the corpus is held out. Chosen so
# each label appears on both sides (casia2 + exif-synthetic edits here, comofod +
# imd2020 held out; two camera collections each side; metadata-tagged generator
# files here, repository samples held out).
CORPUS_FIT = (
    "manipulated/casia2",
    "manipulated/exif-synthetic",
    "camera/metadata-extractor-images",
    "camera/exifr",
    "generator/sd-parsers",
    "generator/shovar",
    "c2pa/c2pa-rs",
    "video/moviepy",
)
GENERATOR_HELDOUT = ("black-forest-labs", "CompVis")


def _half(name: str) -> str:
    return "heldout" if zlib.crc32(name.encode()) % 2 else "fit"


# ------------------------------------------------------------------------------ build
def build(work: Path, seed: int) -> list[dict[str, str]]:
    """Write the generated files under ``work/files`` and return their rows
    (path, label, source, split); existing files are kept."""
    import numpy as np
    from PIL import Image

    from triage.train.edits import (
        apply_edit,
        decode,
        generate,
        list_sources,
        platform_chain,
        split_sources,
    )

    rows: list[dict[str, str]] = []
    out = work / "files"
    out.mkdir(parents=True, exist_ok=True)

    def put(rel: str, data: bytes, label: str, source: str, split: str) -> None:
        target = out / rel
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        rows.append({"path": str(target), "label": label, "source": source, "split": split})

    def png(rgb: np.ndarray) -> bytes:
        buf = io.BytesIO()
        Image.fromarray(rgb).save(buf, "PNG")
        return buf.getvalue()

    training = SHARED / "training"
    _, held = split_sources(list_sources(training))  # photos the tamper model never saw
    for i, path in enumerate(held):
        sid = path.stem
        split = _half(sid)
        src = f"camera:{sid}"
        put(f"camera/{sid}/original.jpg", path.read_bytes(), "authentic", src, split)
        done = out / "camera" / sid / ".done"
        if done.is_file():  # made before: list, do not remake
            for rel in done.read_text("utf-8").split():
                label = "authentic" if "-none-" in rel or rel == "stripped.png" else "manipulated"
                rows.append(
                    {
                        "path": str(out / "camera" / sid / rel),
                        "label": label,
                        "source": src,
                        "split": split,
                    }
                )
            continue
        made = []
        for ex_i, ex in enumerate(generate([path], seed=seed + i, edits_per_source=2)):
            label = "authentic" if ex.kind == "none" else "manipulated"
            made.append(f"{ex_i}-{ex.kind}-{ex.chain}.jpg")
            put(f"camera/{sid}/{made[-1]}", ex.jpeg, label, src, split)
        with Image.open(path) as im:
            rgb = np.asarray(im.convert("RGB"))
        put(f"camera/{sid}/stripped.png", png(rgb), "authentic", src, split)
        done.write_text("\n".join([*made, "stripped.png"]), "utf-8")

    # Two more edits per photo of the kinds the rotation above never reaches for a single
    # photo (inpaint, retouch, overlay), each through its own platform chain.
    late = ("inpaint", "retouch", "overlay")
    for i, path in enumerate(held):
        sid = path.stem
        split = _half(sid)
        src = f"camera:{sid}"
        for k in range(2):
            kind = late[(i + k) % len(late)]
            rel = f"camera/{sid}/more-{k}-{kind}.jpg"
            if not (out / rel).exists():
                rng = np.random.default_rng([seed, 1000 + i, k])
                rgb = decode(path, rng)
                if rgb is None or min(rgb.shape[:2]) < 256:
                    continue
                edited, mask = apply_edit(kind, rgb, held[(i + 1) % len(held)], rng)
                if mask.sum() < 64:
                    continue
                jpeg, _mask, _chain = platform_chain(edited, mask, rng)
                (out / rel).write_bytes(jpeg)
            put(rel, b"", "manipulated", src, split)

    manifest = (training / "MANIFEST.tsv").read_text("utf-8", errors="replace").splitlines()
    seen: set[str] = set()
    for line in manifest[1:]:
        cells = line.split("\t")
        if len(cells) < 2 or cells[1] != "generator" or cells[0] in seen:
            continue
        seen.add(cells[0])
        if any(tag in cells[0] for tag in NOT_GENERATED):
            continue
        path = training / cells[0]
        if not path.is_file():
            continue
        repo = cells[0].split("/")[1]
        split = "heldout" if repo in GENERATOR_HELDOUT else "fit"
        src = f"generator:{repo}"
        stem = f"generator/{repo}/{path.stem}"
        put(f"{stem}/as-given{path.suffix}", path.read_bytes(), "synthetic", src, split)
        try:
            with Image.open(path) as im:
                rgb = np.asarray(im.convert("RGB"))
        except Exception:
            continue
        put(f"{stem}/stripped.png", png(rgb), "synthetic", src, split)
        rng = np.random.default_rng([seed, zlib.crc32(cells[0].encode())])
        jpeg, _mask, chain = platform_chain(rgb, np.zeros(rgb.shape[:2], bool), rng)
        put(f"{stem}/{chain}.jpg", jpeg, "synthetic", src, split)

    for line in (ROOT / "fixtures" / "labels.tsv").read_text("utf-8").splitlines()[1:]:
        cells = line.split("\t")
        if len(cells) >= 2 and cells[1] in ("authentic", "manipulated", "synthetic"):
            rows.append(
                {
                    "path": str(ROOT / "fixtures" / cells[0]),
                    "label": cells[1],
                    "source": "fixtures",
                    "split": "fit",
                }
            )

    corpus = SHARED / "corpus"
    if (corpus / "labels.tsv").is_file():
        for line in (corpus / "labels.tsv").read_text("utf-8").splitlines()[1:]:
            cells = line.split("\t")
            if len(cells) < 2 or cells[1] not in ("authentic", "manipulated", "synthetic"):
                continue
            source = "/".join(cells[0].split("/")[:2])
            rows.append(
                {
                    "path": str(corpus / cells[0]),
                    "label": cells[1],
                    "source": f"corpus:{source}",
                    "split": "fit" if source in CORPUS_FIT else "heldout",
                }
            )
    return rows


# ---------------------------------------------------------------------------- analyze
def analyze(rows: list[dict[str, str]], work: Path, jobs: int) -> list[dict]:
    """Records for ``rows``, from the cache where present; new files analyzed once."""
    from triage.evaluate.manifest import Item
    from triage.evaluate.runner import RunOptions, run_manifest

    cache = work / "records.jsonl"
    cached: dict[str, dict] = {}
    if cache.is_file():
        for line in cache.read_text("utf-8").splitlines():
            if line.strip():
                rec = json.loads(line)
                cached[rec["path"]] = rec
    todo = [r for r in rows if r["path"] not in cached]
    if todo:
        items = [Item(path=Path(r["path"]), label=r["label"], name=r["path"]) for r in todo]  # type: ignore[arg-type]
        t0 = time.time()

        with cache.open("a", encoding="utf-8") as fh:

            def tick(done: int, total: int, rec: dict) -> None:
                # Each record is appended as it arrives: an interrupted run keeps its work.
                fh.write(json.dumps(rec) + "\n")
                fh.flush()
                cached[rec["path"]] = rec
                if done % 20 == 0 or done == total:
                    print(f"  analyzed {done}/{total} ({time.time() - t0:.0f} s)", flush=True)

            run_manifest(items, RunOptions(jobs=jobs, timeout=180.0), progress=tick)
    out = []
    for r in rows:
        rec = dict(cached[r["path"]])
        rec.pop("rerun", None)
        rec["label"] = r["label"]
        rec["source"] = r["source"]
        rec["split"] = r["split"]
        out.append(rec)
    return out


def rerun(rows: list[dict[str, str]], work: Path, jobs: int, names: list[str]) -> None:
    """Re-analyze every file with only the analyzers ``names`` (new or changed since
    the cache was made) and merge their findings, states and metrics into the cache."""
    from triage.evaluate.manifest import Item
    from triage.evaluate.runner import RunOptions, run_manifest

    cache = work / "records.jsonl"
    cached = {}
    for line in cache.read_text("utf-8").splitlines():
        if line.strip():
            rec = json.loads(line)
            cached[rec["path"]] = rec
    items = [
        Item(path=Path(r["path"]), label=r["label"], name=r["path"])  # type: ignore[arg-type]
        for r in rows
        if r["path"] in cached
    ]
    t0 = time.time()

    def tick(done: int, total: int, rec: dict) -> None:
        old = cached[rec["path"]]
        old["findings"] = [f for f in old.get("findings", []) if f["analyzer"] not in names]
        old["findings"] += [f for f in rec.get("findings", []) if f["analyzer"] in names]
        old.setdefault("analyzers", {}).update(
            {k: v for k, v in (rec.get("analyzers") or {}).items() if k in names}
        )
        if done % 20 == 0 or done == total:
            print(f"  re-analyzed {done}/{total} ({time.time() - t0:.0f} s)", flush=True)

    run_manifest(items, RunOptions(jobs=jobs, timeout=180.0, only=names), progress=tick)
    tmp = cache.with_suffix(".tmp")
    tmp.write_text("".join(json.dumps(r) + "\n" for r in cached.values()), "utf-8")
    tmp.replace(cache)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--work", type=Path, default=Path("/tmp/triage-calibration"))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--folds", type=int, default=10, help="cross-fitting folds (by source)")
    ap.add_argument("--mass", type=float, default=0.9, help="Jeffreys interval mass")
    ap.add_argument("--analyze-only", action="store_true")
    ap.add_argument(
        "--rerun",
        help="comma-separated analyzers (new or changed): re-run only these on the cached files",
    )
    ap.add_argument("--write", action="store_true", help="write triage/data/calibration.json")
    ap.add_argument("--doc", type=Path, help="rewrite the figures table in this Markdown file")
    args = ap.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    listing = args.work / f"rows-{args.seed}.json"
    if listing.is_file():  # the files are made by code from fixed inputs: build once
        rows = json.loads(listing.read_text("utf-8"))
    else:
        rows = build(args.work, args.seed)
        listing.write_text(json.dumps(rows), "utf-8")
    print(f"{len(rows)} labelled files ({time.time() - t0:.0f} s to build)", flush=True)
    if args.rerun:
        rerun(rows, args.work, args.jobs, [n.strip() for n in args.rerun.split(",") if n.strip()])
    records = analyze(rows, args.work, args.jobs)
    print(f"analysis done ({time.time() - t0:.0f} s)", flush=True)
    if args.analyze_only:
        return 0
    return fit_and_report(records, args)


def heldout_figures(records: list[dict]) -> dict:
    """The figures the issue sets targets for, per question, on re-scored records."""
    from triage.evaluate import metrics as M

    out: dict = {}
    for q in ("manipulation", "synthetic"):
        cov = M.interval_coverage(records, q)
        claims = M.claim_coverage(records, q)
        bands = claims["bands"]
        pos = [bands[b] for b in ("notable-indicators", "strong-indicators")]
        n_pos_claims = sum(b["n"] for b in pos)
        originals = [
            r
            for r in records
            if r["label"] == "authentic"
            and (r["path"].endswith("/original.jpg") or r["source"].startswith("corpus:camera"))
        ]
        strong = sum(1 for r in originals if r["questions"][q]["band"] == "strong-indicators")
        auc = M.auc_for(records, q)
        out[q] = {
            "n_pos": auc["n_pos"],
            "n_neg": auc["n_neg"],
            "auc": _r(auc["auc"]),
            "ece_balanced": _r(cov["ece_balanced"]),
            "bins_in_interval": f"{cov.get('bins_ok', 0)}/{cov['bins_n']}",
            "files_in_interval": _r(cov["files"]),
            "notable_strong_right": _r(
                sum(b["correct"] for b in pos) / n_pos_claims if n_pos_claims else None
            ),
            "notable_strong_n": n_pos_claims,
            "no_indicators_right": _r(bands["no-indicators"]["share"]),
            "no_indicators_n": bands["no-indicators"]["n"],
            "camera_originals_strong": f"{strong}/{len(originals)}",
            "log_loss": _r(M.reliability(records, q)["log_loss"]),
        }
    return out


def compare_trees(fit: list[dict], held: list[dict], cal: dict, seed: int) -> dict:
    """Held-out balanced log loss of the fitted logistic fusion against gradient-boosted
    trees (lightgbm, whose pred_contrib would give exact per-feature contributions) on
    the same features, both before calibration."""
    import numpy as np

    from triage.calibration import feature_value
    from triage.evaluate.calibrate import balanced_log_loss, evidence
    from triage.evaluate.metrics import scored

    out = {}
    for q, m in cal["questions"].items():
        if not m.get("scores"):
            continue
        feats = m["features"]

        def xy(rs: list[dict], q: str = q, feats: list[str] = feats) -> tuple:
            pairs = scored(rs, q)
            X = np.array(
                [[feature_value(f, evidence(r), q) for f in feats] for r, _ in pairs]
            ).reshape(len(pairs), len(feats))
            return X, np.array([1.0 if t else 0.0 for _, t in pairs])

        Xf, yf = xy(fit)
        Xh, yh = xy(held)
        if len(set(yh)) < 2:
            continue
        lr = Xh @ np.array(m["coef"]) + m["intercept"]
        import lightgbm as lgb

        w = np.where(yf == 1, len(yf) / (2 * yf.sum()), len(yf) / (2 * (len(yf) - yf.sum())))
        booster = lgb.train(
            {
                "objective": "binary",
                "learning_rate": 0.05,
                "num_leaves": 7,
                "min_data_in_leaf": 10,
                "lambda_l2": 1.0,
                "verbose": -1,
                "seed": seed,
                "num_threads": 1,
            },
            lgb.Dataset(Xf, yf, weight=w),
            num_boost_round=200,
        )
        tree = booster.predict(Xh, raw_score=True)
        out[q] = {
            "logistic": round(balanced_log_loss(lr, yh), 4),
            "lightgbm": round(balanced_log_loss(np.asarray(tree), yh), 4),
        }
    return out


def _r(x: float | None) -> float | None:
    return None if x is None else round(float(x), 3)


def fit_and_report(records: list[dict], args: argparse.Namespace) -> int:
    from collections import Counter

    from triage.evaluate.calibrate import (
        FitConfig,
        dump,
        fit_calibration,
        load_fitted,
        rescore_all,
    )
    from triage.fileio import write_atomic

    ok = [r for r in records if r.get("outcome") in ("ok", "error") and r.get("questions")]
    fit = [r for r in ok if r["split"] == "fit"]
    held = [r for r in ok if r["split"] == "heldout"]

    def sizes(rs: list[dict]) -> dict:
        return {
            "files": len(rs),
            "labels": dict(sorted(Counter(r["label"] for r in rs).items())),
            "sources": len({r["source"] for r in rs}),
        }

    data = {
        "command": "python bench/calibrate.py --write",
        "fit": sizes(fit),
        "heldout": sizes(held),
        "made_from": "camera photos of ../shared/training held out by the tamper model "
        "(original, unedited and edited copies through platform chains, metadata-free PNG); "
        "generator samples of ../shared/training (as given, metadata-free PNG, platform "
        "chain); the labelled fixtures; ../shared/corpus split by source",
        "corpus_fit_sources": list(CORPUS_FIT),
        "generator_heldout_repos": list(GENERATOR_HELDOUT),
    }
    t0 = time.time()
    cfg = FitConfig(seed=args.seed, folds=args.folds, interval_mass=args.mass)
    cal_data = fit_calibration(fit, cfg, name="triage-shipped", data=data)
    cal = load_fitted(cal_data)
    t_fit = time.time() - t0
    figures = heldout_figures(rescore_all(held, cal))
    cal_data["heldout"] = figures
    cal_data["data"]["fusion_compared"] = compare_trees(fit, held, cal_data, args.seed)
    print("  held-out balanced log loss before calibration:", cal_data["data"]["fusion_compared"])
    cal = load_fitted(cal_data)
    print(f"fit in {t_fit:.1f} s on {len(fit)} files; held out {len(held)} files")
    for q, m in cal_data["questions"].items():
        if m.get("scores"):
            print(
                f"  {q}: {len(m['features'])} features, penalty {m['penalty']}, "
                f"cv log loss {m['cv_log_loss']}"
            )
    for q, f in figures.items():
        print(f"  held-out {q}: " + ", ".join(f"{k} {v}" for k, v in f.items()))
    if args.write:
        target = ROOT / "triage" / "data" / "calibration.json"
        write_atomic(target, dump(cal_data))
        print(f"wrote {target} (sha256 {cal.sha256[:12]})")
    if args.doc:
        _write_doc(args.doc, cal_data)
    return 0


def _write_doc(path: Path, cal: dict) -> None:
    figures = cal["heldout"]
    keys = [
        ("auc", "ROC AUC"),
        ("ece_balanced", "balanced ECE (target <= 0.05)"),
        (
            "bins_in_interval",
            "score bins with the observed rate inside their mean interval (target >= 80%)",
        ),
        ("files_in_interval", "files whose interval holds their bin's observed rate"),
        ("notable_strong_right", "notable/strong claims right (target >= 90%)"),
        ("notable_strong_n", "notable/strong claims made"),
        ("no_indicators_right", "no-indicators claims right (target >= 95%)"),
        ("no_indicators_n", "no-indicators claims made"),
        ("camera_originals_strong", "camera originals at strong (target <= 2%)"),
        ("log_loss", "log loss"),
    ]
    lines = [
        DOC_START,
        "",
        f"Calibration `{cal['name']}` version `{cal['version']}` (created {cal['created']}, "
        f"seed {cal['seed']}): fitted on {cal['data']['fit']['files']} files from "
        f"{cal['data']['fit']['sources']} sources {cal['data']['fit']['labels']}; measured on "
        f"{cal['data']['heldout']['files']} held-out files from "
        f"{cal['data']['heldout']['sources']} sources never fitted on "
        f"{cal['data']['heldout']['labels']}.",
        "",
        "| held out | " + " | ".join(figures) + " |",
        "|---|" + "---|" * len(figures),
    ]
    for key, title in keys:
        lines.append(f"| {title} | " + " | ".join(str(figures[q][key]) for q in figures) + " |")
    compared = cal["data"].get("fusion_compared") or {}
    if compared:
        lines += [
            "",
            "Held-out balanced log loss of the fused score before calibration, logistic "
            "regression (shipped) against lightgbm on the same features: "
            + "; ".join(
                f"{q} {v['logistic']:.3f} vs {v['lightgbm']:.3f}" for q, v in compared.items()
            )
            + ".",
        ]
    lines += ["", DOC_END]
    text = path.read_text("utf-8")
    if DOC_START in text and DOC_END in text:
        head, rest = text.split(DOC_START, 1)
        tail = rest.split(DOC_END, 1)[1]
        text = head + "\n".join(lines) + tail
    else:
        text = text.rstrip("\n") + "\n\n" + "\n".join(lines) + "\n"
    path.write_text(text, "utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
