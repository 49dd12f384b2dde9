#!/usr/bin/env python3
"""The default image pipeline (`triage.analyze`) on real camera JPEGs, as a ratio over
a plain Pillow decode of the same file, both measured in this run.

    python bench/pipeline.py [--corpus DIR] [--repeat N] [--json OUT] [--cpu] [--cli-allocator]

Files: every JPEG of at least ``MIN_MP`` megapixels under ../shared/corpus/camera
(or ``--corpus`` / TRIAGE_CORPUS); without the corpus, generated scenes of 1 and
12 MP. Each file's decode and analysis are timed back to back (the machine may be
shared: the ratio of two neighbouring timings is what stays meaningful), the
analysis as the median of ``--repeat`` runs after one warm-up file.

Prints the median analyze/decode ratio over the files (target <= 5x), each
analyzer's median share of a decode, and the rows of the files nearest 1 MP
(target <= 8x) and 12 MP. With ``--cpu`` each file is also analyzed once more
serially (one analyzer thread, one OpenCV thread) with each analyzer's process CPU
time recorded: a per-analyzer table that a shared machine's load hardly moves. The
shared decode (pixels and luma) is made first there and listed as its own row; the
other shared planes count for the first analyzer, in registry order, that asks. Beside the wall-clock ratio, the same ratio in CPU time
(all threads of the process; the decode is single-threaded): on a machine shared
with other jobs the wall clock of a multi-threaded analysis depends on the other
jobs, its CPU time much less, so the CPU ratio is the one to compare between runs.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "fixtures"))

MIN_MP = 0.7
TARGET_MEDIAN = 5.0
TARGET_1MP = 8.0


def corpus_files(corpus: Path) -> list[tuple[float, Path]]:
    """(megapixels, path) of the camera JPEGs of at least MIN_MP, smallest first."""
    from PIL import Image

    out = []
    for p in sorted(corpus.rglob("*")):
        if p.suffix.lower() not in (".jpg", ".jpeg") or not p.is_file():
            continue
        try:
            with Image.open(p) as im:
                mp = im.size[0] * im.size[1] / 1e6
        except Exception:
            continue
        if mp >= MIN_MP:
            out.append((mp, p))
    return sorted(out)


def generated_files(tmp: Path) -> list[tuple[float, Path]]:
    """Full-resolution synthetic scenes with sensor-like noise (no corpus)."""
    from generators.scenes import scene
    from PIL import Image

    out = []
    for w, h in ((1200, 900), (4000, 3000)):
        p = tmp / f"scene_{w}x{h}.jpg"
        Image.fromarray(scene(w, h, seed=12)).save(p, "JPEG", quality=90)
        out.append((w * h / 1e6, p))
    return out


def pillow_decode(path: Path) -> float:
    from PIL import Image

    t0 = time.perf_counter()
    with Image.open(path) as im:
        im.load()
    return time.perf_counter() - t0


def pillow_decode_cpu(path: Path) -> float:
    from PIL import Image

    t0 = time.process_time()
    with Image.open(path) as im:
        im.load()
    return time.process_time() - t0


def measure(path: Path, repeat: int) -> dict[str, object]:
    import triage

    decode = min(pillow_decode(path) for _ in range(3))
    decode_cpu = min(pillow_decode_cpu(path) for _ in range(3))
    runs = []
    cpu = []
    per: dict[str, list[float]] = {}
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        report = triage.analyze(str(path))
        runs.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        for run in report.analyzers:
            if run.status in ("ok", "skipped"):
                per.setdefault(run.name, []).append(run.seconds)
    # A second decode after the analysis: the smaller of the two brackets the load.
    decode = min(decode, pillow_decode(path))
    decode_cpu = max(min(decode_cpu, pillow_decode_cpu(path)), 1e-4)
    total = statistics.median(runs)
    return {
        "decode_s": decode,
        "analyze_s": total,
        "ratio": total / decode,
        "cpu_ratio": statistics.median(cpu) / decode_cpu,
        "decode_cpu_s": decode_cpu,
        "analyzers": {k: statistics.median(v) for k, v in per.items()},
    }


def serial_cpu(path: Path) -> dict[str, float]:
    """Process CPU seconds of each analyzer run serially on one file (see --cpu)."""
    import cv2

    from triage import pipeline
    from triage.pipeline import Options, analyze_path

    spent: dict[str, float] = {}
    run_one, run_all = pipeline._run_one, pipeline._run_all

    def timed_one(analyzer, media, ctx, opts, errors):  # type: ignore[no-untyped-def]
        c0 = time.process_time()
        try:
            return run_one(analyzer, media, ctx, opts, errors)
        finally:
            spent[analyzer.name] = time.process_time() - c0

    def timed_all(analyzers, media, ctx, opts):  # type: ignore[no-untyped-def]
        c0 = time.process_time()
        try:
            if media.kind == "image":
                media.luma  # noqa: B018 - the shared decode, timed apart
        except Exception:
            pass
        spent["(decode+luma)"] = time.process_time() - c0
        return run_all(analyzers, media, ctx, opts)

    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    pipeline._run_one, pipeline._run_all = timed_one, timed_all  # type: ignore[assignment]
    try:
        analyze_path(str(path), Options(threads=1))
    finally:
        pipeline._run_one, pipeline._run_all = run_one, run_all  # type: ignore[assignment]
        cv2.setNumThreads(threads)
    return spent


def nearest(rows: list[dict[str, object]], mp: float) -> dict[str, object]:
    return min(rows, key=lambda r: abs(math.log(float(r["mp"]) / mp)))  # type: ignore[arg-type]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(os.environ.get("TRIAGE_CORPUS", ROOT.parent / "shared" / "corpus")) / "camera"
    ap.add_argument("--corpus", type=Path, default=default)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--json", type=Path, help="write the per-file rows here")
    ap.add_argument("--cpu", action="store_true", help="also a serial per-analyzer CPU pass")
    ap.add_argument(
        "--cli-allocator",
        action="store_true",
        help="glibc's allocator set as `triage check` and the scan workers set it "
        "(triage.allocator: freed memory reused); the plain decode gains too",
    )
    args = ap.parse_args()
    if args.cli_allocator:
        from triage.allocator import keep_freed_memory

        if not keep_freed_memory():
            sys.exit("--cli-allocator: not applied here (not glibc, or MALLOC_* is set)")

    import triage

    with tempfile.TemporaryDirectory() as tmp:
        if args.corpus.is_dir():
            files, source = corpus_files(args.corpus), f"camera JPEGs in {args.corpus}"
        else:
            files, source = generated_files(Path(tmp)), "generated scenes (no corpus)"
        if not files:
            sys.exit(f"no JPEG of at least {MIN_MP} MP found in {args.corpus}")
        triage.analyze(str(files[len(files) // 2][1]))  # warm imports and caches
        rows = []
        for mp, path in files:
            row = measure(path, args.repeat)
            if args.cpu:
                row["analyzers_cpu"] = serial_cpu(path)
            row.update(mp=round(mp, 2), file=str(path.relative_to(path.parents[1])))
            rows.append(row)
    allocator = "command line's allocator" if args.cli_allocator else "default allocator"
    print(f"{len(rows)} files, {source}; {allocator}; cpu load {os.getloadavg()[0]:.1f}")
    names = sorted({n for r in rows for n in r["analyzers"]})  # type: ignore[attr-defined]
    shares = {
        n: statistics.median(
            r["analyzers"].get(n, 0.0) / r["decode_s"]  # type: ignore[attr-defined,operator]
            for r in rows
        )
        for n in names
    }
    print("median time per analyzer, in plain decodes of the same file:")
    for n in sorted(names, key=lambda n: -shares[n]):
        print(f"  {n:<12} {shares[n]:6.2f}x")
    if args.cpu:
        cpu_names = sorted({n for r in rows for n in r["analyzers_cpu"]})  # type: ignore[attr-defined]
        cpu_shares = {
            n: statistics.median(
                r["analyzers_cpu"].get(n, 0.0) / r["decode_cpu_s"]  # type: ignore[attr-defined,operator]
                for r in rows
            )
            for n in cpu_names
        }
        serial = statistics.median(
            sum(r["analyzers_cpu"].values()) / r["decode_cpu_s"]  # type: ignore[attr-defined,operator]
            for r in rows
        )
        print("serial pass (1 thread), median CPU time per analyzer, in CPU decodes:")
        for n in sorted(cpu_names, key=lambda n: -cpu_shares[n]):
            print(f"  {n:<14} {cpu_shares[n]:6.2f}x")
        print(f"  {'(sum)':<14} {serial:6.2f}x (median over files of the serial total)")
    print(f"{'file':<52} {'MP':>5} {'decode':>7} {'analyze':>8} {'ratio':>6} {'cpu':>6}")
    for r in rows:
        print(
            f"{r['file']:<52} {r['mp']:5.1f} {r['decode_s'] * 1000:5.0f}ms "  # type: ignore[operator]
            f"{r['analyze_s'] * 1000:6.0f}ms {r['ratio']:5.1f}x {r['cpu_ratio']:5.1f}x"
        )
    for label, mp in (("1 MP", 1.0), ("12 MP", 12.0)):
        r = nearest(rows, mp)
        parts = ", ".join(
            f"{k} {v * 1000:.0f}"
            for k, v in sorted(r["analyzers"].items(), key=lambda kv: -kv[1])  # type: ignore[attr-defined]
            if v >= 0.005
        )
        print(
            f"{label} row ({r['file']}, {r['mp']} MP): ratio {r['ratio']:.1f}x "
            f"(CPU {r['cpu_ratio']:.1f}x), "
            f"decode {r['decode_s'] * 1000:.0f} ms, analyze {r['analyze_s'] * 1000:.0f} ms "  # type: ignore[operator]
            f"({parts} ms)"
        )
    med = statistics.median(float(r["ratio"]) for r in rows)  # type: ignore[arg-type]
    med_cpu = statistics.median(float(r["cpu_ratio"]) for r in rows)  # type: ignore[arg-type]
    one = nearest(rows, 1.0)
    print(
        f"median analyze/decode: {med:.1f}x wall, {med_cpu:.1f}x CPU "
        f"(target <= {TARGET_MEDIAN:g}x); cpu load at the end {os.getloadavg()[0]:.1f}"
    )
    print(
        f"1 MP analyze/decode: {float(one['ratio']):.1f}x wall, "  # type: ignore[arg-type]
        f"{float(one['cpu_ratio']):.1f}x CPU (target <= {TARGET_1MP:g}x)"  # type: ignore[arg-type]
    )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
