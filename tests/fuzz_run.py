"""Mutation fuzzing of whole files through ``triage.analyze_path``, under a memory cap.

Run by tests/test_hostile.py in a subprocess: ``python tests/fuzz_run.py SEED N CAP_MB
FILE...``. Each of N mutants (truncation, bit flips, bogus 32-bit lengths, inserted,
duplicated or deleted runs: how damaged boxes, atoms, chunks and segments look) of a
seed file is analyzed in this process, whose address space is capped at CAP_MB.
Prints one JSON object: files analyzed, exceptions that escaped, reasons that are raw
exceptions rather than sentences, and the peak resident memory.
"""

from __future__ import annotations

import json
import random
import re
import resource
import sys
import tempfile
import time
import warnings
from pathlib import Path

# An analyzer's reason that is a Python exception, not a sentence.
RAW = re.compile(
    r"analyzer failed: (AttributeError|TypeError|KeyError|IndexError|UnicodeDecodeError|"
    r"UnicodeEncodeError|ZeroDivisionError|AssertionError|struct\.error|NameError)"
    r"|'NoneType' object|codec can't decode|Traceback"
)


def mutate(data: bytes, rng: random.Random) -> bytes:
    buf = bytearray(data)
    kind = rng.randrange(6)
    if kind == 0:
        return bytes(buf[: rng.randrange(8, len(buf))])
    if kind == 1:
        for _ in range(rng.randrange(1, 20)):
            i = rng.randrange(len(buf))
            buf[i] ^= 1 << rng.randrange(8)
        return bytes(buf)
    if kind == 2:
        values = [
            b"\xff\xff\xff\xff",
            b"\x00\x00\x00\x00",
            b"\x7f\xff\xff\xff",
            b"\x00\x00\x00\x08",
        ]
        for _ in range(rng.randrange(1, 4)):
            i = rng.randrange(len(buf) - 4)
            buf[i : i + 4] = rng.choice([*values, rng.randbytes(4)])
        return bytes(buf)
    i = rng.randrange(len(buf))
    j = min(len(buf), i + rng.randrange(1, 4000))
    if kind == 3:
        return bytes(buf[:i] + rng.randbytes(rng.randrange(1, 64)) + buf[i:])
    if kind == 4:
        return bytes(buf[:j] + buf[i:j] + buf[j:])
    return bytes(buf[:i] + buf[j:])


def main(argv: list[str]) -> dict[str, object]:
    seed, count, cap_mb = int(argv[0]), int(argv[1]), int(argv[2])
    seeds = [Path(p) for p in argv[3:]]
    from triage.limits import limit_memory

    limit_memory(cap_mb)
    warnings.simplefilter("ignore")
    from triage.pipeline import Options, analyze_path

    rng = random.Random(seed)
    opts = Options(threads=1, analyzer_options={"video.frames": 8})
    escaped: list[str] = []
    raw: list[str] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="triage-fuzz-") as folder:
        for n in range(count):
            src = seeds[n % len(seeds)]
            path = Path(folder) / f"{n}{src.suffix}"
            path.write_bytes(mutate(src.read_bytes(), rng))
            try:
                report = analyze_path(path, opts)
            except Exception as exc:  # the contract: never
                escaped.append(f"{src.name} #{n}: {type(exc).__name__}: {exc}")
                continue
            reasons = [e.message for e in report.errors]
            reasons += [r.message or "" for r in report.analyzers]
            raw += [f"{src.name} #{n}: {m[:200]}" for m in reasons if RAW.search(m)]
            path.unlink()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    return {
        "files": count,
        "escaped": escaped,
        "raw": raw,
        "peak_mb": peak_mb,
        "seconds": round(time.monotonic() - started, 1),
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:])))
