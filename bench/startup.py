#!/usr/bin/env python3
"""Start-up cost: `triage --help` wall time over `python -c "import typer, rich"`.

Both are measured in this run, alternating, median of N runs each. Target <= 1.5x:
the project's own start-up adds at most half of what its CLI libraries cost.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

RUNS = 15


def wall(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> None:
    base_cmd = [sys.executable, "-c", "import typer, rich"]
    help_cmd = [sys.executable, "-m", "triage", "--help"]
    wall(base_cmd), wall(help_cmd)  # warm the page cache
    base, ours = [], []
    for _ in range(RUNS):
        base.append(wall(base_cmd))
        ours.append(wall(help_cmd))
    b, o = statistics.median(base), statistics.median(ours)
    print(f"python -c 'import typer, rich': {b * 1000:.0f} ms (median of {RUNS})")
    print(f"triage --help:                  {o * 1000:.0f} ms (median of {RUNS})")
    print(f"ratio: {o / b:.2f}x (target <= 1.5x)")


if __name__ == "__main__":
    main()
