"""OpenCV's bundled OpenBLAS, held to one thread for the products the forensics make.

Every block transform and distance matrix here goes through ``cv2.gemm``. OpenCV ships
its own OpenBLAS, which starts a thread per core; the products it is handed here are
small (a band of blocks, a few thousand tiles), so the extra threads mostly wait, and
waking them for each product cost more than the product: the compression analyzer's
grid-phase scan (98 small products on a 12 MP photo) took 264 ms with two threads and
36 ms with one, the same numbers. One thread also fixes the order of the sums, so a
report does not depend on the core count of the machine that made it.
"""

from __future__ import annotations

from functools import cache
from typing import Any


def opencv_blas_on_one_thread() -> None:
    """Run OpenCV's bundled OpenBLAS on one thread, for the rest of the process.

    ``cv2.gemm`` hands its products to OpenBLAS, whose float32 sums come out in a
    different order with a different number of threads, and features that round
    coefficients onto a quantization lattice can then flip: the tamper image score
    of one corpus photo read 0.56 with two threads and 0.48 with one. A report must
    not depend on the core count of the machine that made it. One thread costs
    nothing here: a file's analyzers already run side by side, and the extra BLAS
    threads mostly wait. The setting is process-wide (OpenBLAS has no per-call one).
    It is checked on every call, not once: ``cv2.setNumThreads`` (which ``check
    --jobs`` and the scan workers call) sets that pool's size too, so a once-only
    setting was undone by a later ``--jobs`` in the same process (the golden tamper
    record failed after tests/test_core_cli.py had run ``check --jobs``).
    """
    for pool in _opencv_blas_pools():
        if pool.num_threads != 1:
            pool.set_num_threads(1)


@cache
def _opencv_blas_pools() -> tuple[Any, ...]:
    """threadpoolctl's controllers of OpenCV's bundled OpenBLAS (found once)."""
    import cv2  # noqa: F401  (threadpoolctl finds only libraries already loaded)

    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # a declared dependency; without it results follow the core count
        return ()
    return tuple(
        pool
        for pool in ThreadpoolController().lib_controllers
        if pool.internal_api == "openblas" and "opencv" in pool.filepath.lower()
    )
