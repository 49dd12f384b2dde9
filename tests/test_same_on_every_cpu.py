"""A report does not depend on the CPU that made it.

OpenBLAS picks a kernel for the CPU it runs on, and each kernel sums a float32 matrix
product in its own order. The block DCTs of the compression and tamper analyzers
round coefficients onto quantization lattices, where a last-bit difference becomes
another count: before their products were summed in float64, the tamper score of 44
of 122 photos moved by up to 0.04 between two kernels of one machine. Here the
fixtures are analyzed twice in fresh processes, once with the kernel OpenBLAS chose
and once with an older one forced (``OPENBLAS_CORETYPE``), and the records must be
the same (``tests/golden/record.py``'s reading, six significant digits).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ANALYZERS = ("compression", "tamper")
# Photos of the fixtures whose blocks the two analyzers read (JPEG and PNG).
FILES = (
    "core/camera_original.jpg",
    "core/camera_edited.jpg",
    "core/stripped.jpg",
    "core/jpeg_named.png",
)
# SSE3: a kernel every x86-64 CPU runs, and not the one a recent CPU is given.
OLD_KERNEL = "Prescott"

_SCRIPT = """
import json, sys
sys.path.insert(0, sys.argv[1])
sys.path.insert(0, sys.argv[1] + "/tests/golden")
import record
from threadpoolctl import threadpool_info

out = {}
for rel in sys.argv[3].split(","):
    for name in sys.argv[2].split(","):
        out[rel + ":" + name] = record.record_one(rel, name, None)
kernels = sorted(
    str(i.get("architecture")) for i in threadpool_info() if i.get("internal_api") == "openblas"
)
print(json.dumps({"kernels": kernels, "records": out}, sort_keys=True))
"""


def _records(kernel: str | None) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
    if kernel is not None:
        env["OPENBLAS_CORETYPE"] = kernel
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(ROOT), ",".join(ANALYZERS), ",".join(FILES)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.skipif(
    platform.machine().lower() not in {"x86_64", "amd64"}, reason="OpenBLAS x86 kernels only"
)
def test_block_analyzers_read_the_same_on_another_blas_kernel() -> None:
    pytest.importorskip("threadpoolctl")
    chosen, old = _records(None), _records(OLD_KERNEL)
    if chosen["kernels"] == old["kernels"]:
        pytest.skip(f"OpenBLAS runs the {OLD_KERNEL} kernel here already")
    assert chosen["records"] == old["records"]
