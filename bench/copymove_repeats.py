#!/usr/bin/env python3
"""Benchmark: copy-move findings on unedited camera photos (repeated windows, tiles,
fences) against generated copy-move edits of the same photos, through the same
platform chains (issue 13), for the shipped rule and a candidate geometry rule.

    python bench/copymove_repeats.py [--held] [--work /tmp/cmove] [--limit N]
    python bench/copymove_repeats.py --corpus ../shared/corpus   # measure only

The files: every camera source of ``triage.train.edits.list_sources`` as its camera
file, and through three platform chains (long side 2048 / 1600 / 1080 or kept, then
JPEG q65-95 4:2:0, no metadata), each chain once unedited and once with a copy-move
edit of ``triage.train.edits`` (mask, rotation +-20 degrees, scale 0.85-1.2) made
before it. Fixed seed; files and records are cached under ``--work`` (never in the
repository). Sources are split by a hash of their file name into a DEV half (the
default; where the rule was chosen) and a HELD half (``--held``: read once at the end).

Every candidate :func:`triage.forensics.copymove.find_clones` returns is recorded
with its features; the table gives, per chain, unedited files with a copy-move
finding and edits found (an accepted candidate with a region on the edit's mask),
before (the analyzer's :func:`accept` as shipped: net residual correlation alone,
recomputed from the recorded features) and after (the candidate rule
:func:`rule_rejects`, measured and NOT shipped: a candidate whose matched points a
similarity misses, as a perspective view of repeated structure does, counts only with
net residual >= 0.85; docs/analyzers/copymove.md says why it was not shipped).
``--list`` prints the accepted candidates of unedited files and the edits found by one
rule only. ``--extra N`` adds N unedited copies per source through the mixed routes
(small copies, web copies saved again, PNG); ``--distort`` adds clones pasted through a
sheared affine map (a free transform), through the same chains as the copy-move edits. Nothing here is
a target; skips cleanly when ../shared/training is absent.

``--mirror`` compares instead the analyzer without and with mirrored candidates
(version 1.4 and 1.5, issue 13: ``triage.forensics.copymove.self_matches(mirrored=True)``);
the records hold both, so "before" is the shipped :func:`accept` on the candidates that
are not mirrored (the ordinary pool is fitted apart and does not change).

``--corpus DIR`` instead runs the analyzer on the images of ``DIR/labels.tsv`` (a
third-party corpus: measured, never chosen on) and prints, per label and folder, the
files with a copy-move finding before (as shipped) and after (with the candidate
rule), and each file that changed.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import zlib
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TRAINING = ROOT.parent / "shared" / "training"
SEED = 13
TARGETS = (None, 2048, 1600, 1080)
CHAINS_PER_SOURCE = 3
# The candidate rule (measured, not shipped). A clone's two regions are related by a
# similarity, repeated objects of a 3-D scene (windows, arches seen at an angle) by a
# perspective, which a similarity fits worse: a candidate whose matched points a
# similarity misses by >= MIN_MISFIT_PX (RMS, working pixels; keypoint jitter is about
# 0.3 px) with an F-test probability < MAX_MISFIT_P would then need its net residual
# correlation >= MIN_RESIDUAL_CORR_PERSPECTIVE (facade lookalikes reached 0.79 on DEV).
MIN_MISFIT_PX = 0.3
MAX_MISFIT_P = 1e-4
MIN_RESIDUAL_CORR_PERSPECTIVE = 0.85


def is_perspective(c: Any) -> bool:
    """Whether a candidate's matched points follow a perspective, not a similarity."""
    return bool(c.misfit_px >= MIN_MISFIT_PX and c.misfit_p < MAX_MISFIT_P)


def rule_rejects(c: Any) -> bool:
    """Whether the candidate rule sets aside a candidate (a CloneMatch, or a record
    through :func:`_as_match`) that the shipped :func:`accept` may keep."""
    return is_perspective(c) and not c.residual_corr >= MIN_RESIDUAL_CORR_PERSPECTIVE


def half(name: str) -> str:
    """DEV or HELD, by a hash of the source's file name (stable across runs)."""
    return "HELD" if zlib.crc32(name.encode()) % 2 else "DEV"


def chain_group(chain: str) -> str:
    if chain.startswith("extra:"):
        # The mixed routes: "extra: small", "extra: web", "extra: png", "extra: resize"...
        head = chain.removeprefix("extra:").split("+", 1)[0]
        return "extra: " + head.rstrip("0123456789-").split("-")[0].rstrip("0123456789")
    return chain.split("+", 1)[0]


def distorted_clone(rgb: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A clone pasted through a general affine map (a free transform: unequal scales
    0.85-1.2 and a shear of 0.05-0.2 besides the rotation), the rest as
    ``triage.train.edits`` makes a copy-move edit. Returns the image and target mask."""
    import cv2

    from triage.train.edits import _blend, random_mask

    h, w = rgb.shape[:2]
    mask = random_mask(h, w, rng, 0.01, 0.12)
    th = np.radians(float(rng.uniform(-20, 20)))
    rot = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
    shear = float(rng.choice([-1, 1]) * rng.uniform(0.05, 0.2))
    lin = rot @ np.array([[rng.uniform(0.85, 1.2), shear], [0.0, rng.uniform(0.85, 1.2)]])
    ys, xs = np.nonzero(mask)
    centre = np.array([xs.mean(), ys.mean()])
    target = np.array([rng.uniform(0.2, 0.8) * w, rng.uniform(0.2, 0.8) * h])
    mat = np.concatenate([lin, (target - lin @ centre)[:, None]], axis=1)
    moved = cv2.warpAffine(rgb, mat, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    tmask = cv2.warpAffine(mask.astype(np.uint8), mat, (w, h), flags=cv2.INTER_NEAREST) > 0
    return _blend(rgb, moved, tmask, rng), tmask


def decoded_sources(stream: int) -> Iterator[tuple[Path, np.random.Generator, np.ndarray]]:
    """Every training camera source decoded, with its own random stream (``[SEED,
    stream + i]``, drawn from by the decode first); sources under 256 px are left out."""
    from triage.train.edits import decode, list_sources

    for i, path in enumerate(list_sources(TRAINING)):
        rng = np.random.default_rng([SEED, stream + i])
        rgb = decode(path, rng)
        if rgb is None or min(rgb.shape[:2]) < 256:
            continue
        yield path, rng, rgb


def make_distorted(work: Path) -> list[dict[str, Any]]:
    """A distorted clone of every source (:func:`distorted_clone`) through three
    platform chains like the copy-move edits; written once, returns their index."""
    import cv2

    from triage.train.edits import encode_jpeg, long_side_size

    index_path = work / "distort.json"
    if index_path.is_file():
        out: list[dict[str, Any]] = json.loads(index_path.read_text())
        return out
    files = work / "files"
    out = []
    for path, rng, rgb in decoded_sources(2000):
        edited, mask = distorted_clone(rgb, rng)
        seen = set()
        for t in rng.choice(len(TARGETS), CHAINS_PER_SOURCE, replace=False):
            quality = int(rng.integers(65, 96))
            size = long_side_size(*rgb.shape[:2], TARGETS[int(t)])
            chain = f"{'orig' if size is None else f'resize{TARGETS[int(t)]}'}+q{quality}"
            if chain in seen:
                continue
            seen.add(chain)
            img, mm = edited, mask.astype(np.uint8) * 255
            if size is not None:
                img = cv2.resize(img, size, interpolation=cv2.INTER_AREA)
                mm = cv2.resize(mm, size, interpolation=cv2.INTER_NEAREST)
            name = work / "files" / f"{path.stem}__{chain}__distort.jpg"
            name.write_bytes(encode_jpeg(img, quality, 2))
            cv2.imwrite(str(files / f"{name.stem}.mask.png"), mm)
            out.append(dict(file=name.name, source=path.stem, chain=chain, kind="distort"))
    index_path.write_text(json.dumps(out))
    return out


def make_extra(work: Path, per_source: int) -> list[dict[str, Any]]:
    """More unedited copies of every source through the mixed routes of
    ``triage.train.edits`` (small copies by several kernels, web copies saved again,
    PNG saves, platform chains), written once; returns their index."""
    from triage.train.edits import mixed_route

    index_path = work / f"extra{per_source}.json"
    if index_path.is_file():
        extra: list[dict[str, Any]] = json.loads(index_path.read_text())
        return extra
    files = work / "files"
    files.mkdir(parents=True, exist_ok=True)
    extra = []
    for path, rng, rgb in decoded_sources(1000):
        for k in range(per_source):
            route = mixed_route(rgb, rng)
            data, _, chain = route.finish(route.base, np.zeros(rgb.shape[:2], bool), rng)
            ext = "png" if data.startswith(b"\x89PNG") else "jpg"
            out = files / f"{path.stem}__extra{k}-{chain}__none.{ext}"
            out.write_bytes(data)
            extra.append(dict(file=out.name, source=path.stem, chain=f"extra:{chain}", kind="none"))
    index_path.write_text(json.dumps(extra))
    return extra


def make_files(work: Path, limit: int | None) -> list[dict[str, Any]]:
    """Write the files (and edit masks) once; returns their index."""
    import cv2

    from triage.train.edits import _copymove, encode_jpeg, long_side_size

    index_path = work / "index.json"
    if index_path.is_file():
        index: list[dict[str, Any]] = json.loads(index_path.read_text())
        return index[: limit * 7] if limit else index
    files = work / "files"
    files.mkdir(parents=True, exist_ok=True)
    index = []
    for path, rng, rgb in decoded_sources(0):
        sid = path.stem
        orig = files / f"{sid}__original__none.jpg"
        orig.write_bytes(path.read_bytes())
        index.append(dict(file=orig.name, source=sid, chain="original", kind="none"))
        edited, mask = _copymove(rgb, rng)
        for t in rng.choice(len(TARGETS), CHAINS_PER_SOURCE, replace=False):
            target = TARGETS[int(t)]
            quality = int(rng.integers(65, 96))
            size = long_side_size(*rgb.shape[:2], target)
            # Sources are cropped to at most 2048 px: then "2048" keeps the size.
            chain = f"{'orig' if size is None else f'resize{target}'}+q{quality}"
            if any(r["file"] == f"{sid}__{chain}__none.jpg" for r in index):
                continue
            for kind, img, m in (("none", rgb, None), ("copymove", edited, mask)):
                if size is not None:
                    img = cv2.resize(img, size, interpolation=cv2.INTER_AREA)
                out = files / f"{sid}__{chain}__{kind}.jpg"
                out.write_bytes(encode_jpeg(img, quality, 2))
                row = dict(file=out.name, source=sid, chain=chain, kind=kind)
                if m is not None:
                    mm = m.astype(np.uint8) * 255
                    if size is not None:
                        mm = cv2.resize(mm, size, interpolation=cv2.INTER_NEAREST)
                    cv2.imwrite(str(files / f"{out.stem}.mask.png"), mm)
                index.append(row)
    index_path.write_text(json.dumps(index))
    return index[: limit * 7] if limit else index


def measure(work: Path, row: dict[str, Any]) -> dict[str, Any]:
    """Every candidate of one file with its features."""
    import cv2

    from triage.analyzers.copymove import MAX_FEATURES, working_image
    from triage.forensics.copymove import find_clones
    from triage.media import Media

    media = Media.open(work / "files" / row["file"])
    gray, _ = working_image(media)  # the analyzer's size policy, small pictures included
    cands, stats = find_clones(gray, max_features=MAX_FEATURES)
    mask = None
    if row["kind"] != "none":
        m = cv2.imread(str(work / "files" / f"{Path(row['file']).stem}.mask.png"), 0)
        mask = cv2.resize(m, gray.shape[::-1], interpolation=cv2.INTER_AREA) > 0
    out = []
    for c in cands:
        on_mask = False
        if mask is not None:
            for x0, y0, x1, y1 in (c.source_box, c.target_box):
                on_mask |= bool(mask[y0:y1, x0:x1].mean() > 0.2) if x1 > x0 and y1 > y0 else False
        d = c.dst_points.mean(0) - c.src_points.mean(0)
        out.append(
            dict(
                inliers=c.inliers,
                residual_corr=None if math.isnan(c.residual_corr) else c.residual_corr,
                pixel_corr=c.pixel_corr,
                scale=c.scale,
                rotation=c.rotation_deg,
                dx=float(d[0]),
                dy=float(d[1]),
                src_box=list(c.source_box),
                dst_box=list(c.target_box),
                misfit_px=c.misfit_px,
                misfit_p=c.misfit_p,
                mirrored=c.mirrored,
                on_mask=on_mask,
            )
        )
    return dict(row, working=list(gray.shape), keypoints=stats["keypoints"], candidates=out)


def _as_match(c: dict[str, Any]) -> Any:
    """A recorded candidate with the attributes :func:`accept` and
    :func:`rule_rejects` read (so the records need not be measured again)."""
    from types import SimpleNamespace

    r = c["residual_corr"]
    return SimpleNamespace(**dict(c, residual_corr=float("nan") if r is None else r))


def shipped(c: dict[str, Any]) -> bool:
    """The analyzer's :func:`accept` as shipped, on a recorded candidate."""
    from triage.analyzers.copymove import accept

    return accept(_as_match(c))[0]


def candidate(c: dict[str, Any]) -> bool:
    """The candidate rule (measured, not shipped) on a recorded candidate."""
    return shipped(c) and not rule_rejects(_as_match(c))


def _pct(k: int, n: int) -> str:
    return f"{k:>3} {100 * k / n:5.1f}%" if n else "      -"


def table(records: list[dict[str, Any]], which: str, show: bool, mirror: bool = False) -> None:
    rows = [r for r in records if half(r["source"]) == which]
    print(f"{which}: {len({r['source'] for r in rows})} sources, {len(rows)} files")
    if mirror:
        print("before: accept() without mirrored candidates (1.4); after: with them (1.5)")
    else:
        print("before: accept() as shipped; after: the candidate rule (measured, not shipped)")
    groups: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0, 0]))
    for r in rows:
        for c in r["candidates"]:
            if mirror:
                c["after"] = shipped(c)
                c["before"] = c["after"] and not c.get("mirrored", False)
            else:
                c["before"], c["after"] = shipped(c), candidate(c)
        g = chain_group(r["chain"])
        for key in (g, "all"):
            cell = groups[key][r["kind"]]
            cell[0] += 1
            if r["kind"] == "none":
                cell[1] += any(c["before"] for c in r["candidates"])
                cell[2] += any(c["after"] for c in r["candidates"])
            else:
                cell[1] += any(c["before"] and c["on_mask"] for c in r["candidates"])
                cell[2] += any(c["after"] and c["on_mask"] for c in r["candidates"])
    kinds = [k for k in ("copymove", "distort") if any(k in g for g in groups.values())]
    head = "".join(f"   {k:>8} {'found before':>13} {'after':>7}" for k in kinds)
    print(f"{'chain':<14} {'unedited':>8} {'flagged before':>15} {'after':>7}{head}")
    order = ["original", "orig", "resize2048", "resize1600", "resize1080"]
    order += [*sorted(g for g in groups if g.startswith("extra")), "all"]
    for g in order:
        if g not in groups:
            continue
        n0, b0, a0 = groups[g].get("none", [0, 0, 0])
        line = f"{g:<14} {n0:>8} {_pct(b0, n0):>15} {_pct(a0, n0):>12}"
        for k in kinds:
            n1, b1, a1 = groups[g].get(k, [0, 0, 0])
            line += f"   {n1:>8} {_pct(b1, n1):>13} {_pct(a1, n1):>12}"
        print(line)
    if show:
        for r in rows:
            for c in r["candidates"]:
                # Unedited files flagged, and edits found by one rule only.
                changed = c["before"] != c["after"]
                if (c["before"] or c["after"]) and (
                    r["kind"] == "none" or (c["on_mask"] and changed)
                ):
                    print(
                        f"  {r['file'][:60]:<60} in={c['inliers']:>3} "
                        f"res={c['residual_corr']:.2f} pix={c['pixel_corr']:.2f} "
                        f"d=({c['dx']:.0f},{c['dy']:.0f}) s={c['scale']:.2f} "
                        f"r={c['rotation']:.0f} misfit={c['misfit_px']:.2f}px p={c['misfit_p']:.1g} "
                        f"mirrored={int(c.get('mirrored', False))} "
                        f"before={int(c['before'])} after={int(c['after'])}"
                    )


def corpus(root: Path, mirror: bool = False) -> int:
    """Files with a copy-move finding before (as shipped) and after (with the
    candidate rule; ``mirror``: without and with mirrored candidates), per label."""
    import csv

    from triage.analyzers import get
    from triage.media import Media, MediaError

    analyzer = get("copymove")
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    changed = []
    with (root / "labels.tsv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            path = root / row["path"]
            try:
                media = Media.open(path)
            except MediaError:
                continue
            if media.kind != "image" or analyzer.applies_to(media) is not True:
                continue
            try:
                if mirror:
                    before = _flagged(analyzer, media, with_rule=False, mirrors=False)
                    after = _flagged(analyzer, media, with_rule=False)
                else:
                    before = _flagged(analyzer, media, with_rule=False)
                    after = _flagged(analyzer, media, with_rule=True)
            except Exception:
                continue
            folder = "/".join(row["path"].split("/")[:2])
            for key in ((row["label"], folder), (row["label"], "all")):
                cell = counts[key]
                cell[0] += 1
                cell[1] += before
                cell[2] += after
            if before != after:
                changed.append(
                    f"  {row['path']}: {'flagged' if before else 'quiet'} -> "
                    f"{'flagged' if after else 'quiet'}"
                )
    print(f"{'label':<12} {'folder':<28} {'files':>5} {'before':>7} {'after':>6}")
    for (label, folder), (n, b, a) in sorted(counts.items()):
        print(f"{label:<12} {folder:<28} {n:>5} {b:>7} {a:>6}")
    print("\n".join(changed) or "  no file changed")
    return 0


def _flagged(analyzer: Any, media: Any, with_rule: bool, mirrors: bool = True) -> bool:
    """Whether the analyzer raises a copy-move finding, as shipped or with the
    candidate rule in front of its :func:`accept` (patched for this run only);
    ``mirrors`` False: without mirrored candidates (version 1.4)."""
    import triage.analyzers.copymove as cm
    from triage.analyzers.base import Context

    saved, saved_mirrors = cm.accept, cm.MIRRORS
    if with_rule:
        cm.accept = lambda c: (False, 0.0) if rule_rejects(c) else saved(c)  # type: ignore[assignment]
    cm.MIRRORS = mirrors
    try:
        res = analyzer.run(media, Context())
    finally:
        cm.accept, cm.MIRRORS = saved, saved_mirrors
    return any(f.id == "copymove.cloned_region" for f in res.findings)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, default=Path("/tmp/cmove"))
    ap.add_argument("--held", action="store_true", help="the HELD half (read once)")
    ap.add_argument("--limit", type=int, default=None, help="first N sources only")
    ap.add_argument("--list", action="store_true", help="print accepted candidates")
    ap.add_argument("--tag", default="records", help="name of the records cache")
    ap.add_argument(
        "--extra", type=int, default=0, help="N more unedited copies per source (mixed routes)"
    )
    ap.add_argument(
        "--distort", action="store_true", help="also clones pasted through a sheared affine map"
    )
    ap.add_argument("--corpus", type=Path, default=None, help="measure a labelled corpus")
    ap.add_argument(
        "--mirror",
        action="store_true",
        help="before/after = without/with mirrored candidates (1.4/1.5), not the geometry rule",
    )
    args = ap.parse_args()
    if args.corpus is not None:
        return corpus(args.corpus, args.mirror)
    if not (TRAINING / "MANIFEST.tsv").is_file():
        print("skipped: ../shared/training is absent")
        return 0
    args.work.mkdir(parents=True, exist_ok=True)
    index = make_files(args.work, args.limit)
    if args.extra:
        index += make_extra(args.work, args.extra)
    if args.distort:
        index += make_distorted(args.work)
    if args.limit:
        keep = {r["source"] for r in make_files(args.work, args.limit)}
        index = [r for r in index if r["source"] in keep]
    cache = args.work / f"{args.tag}.jsonl"
    done: dict[str, dict[str, Any]] = {}
    if cache.is_file():
        for line in cache.read_text().splitlines():
            rec = json.loads(line)
            done[rec["file"]] = rec
    which = "HELD" if args.held else "DEV"
    with cache.open("a") as fh:
        for row in index:
            if row["file"] in done or half(row["source"]) != which:
                continue
            rec = measure(args.work, row)
            fh.write(json.dumps(rec) + "\n")
            fh.flush()
            done[row["file"]] = rec
    table([done[r["file"]] for r in index if r["file"] in done], which, args.list, args.mirror)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
