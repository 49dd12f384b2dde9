"""glibc's allocator told to keep freed memory for reuse, in the processes that
analyze files from the command line (``triage check``, ``triage scan``'s workers).

Why: the kernel maps fresh memory page by page on first touch (about 2 us a 4 kB
page on the project's 2-core machine), and glibc hands every freed block over 128 kB
(a threshold that rises to at most 32 MB as blocks are freed) straight back to the
kernel. So a file's decode (Pillow's image, the packed RGB array), its block DCT
planes and each analyzer's working arrays were faulted in afresh for every file. With
blocks under 64 MB taken from the heap and up to 256 MB of freed heap kept, 15
camera JPEGs took 140,000-255,000 page faults instead of 300,000-440,000, half the
system time and 4% less CPU time in all (load average 8-12); the tamper analyzer on
a 12 MP JPEG 128-134 ms instead of 155-182 (docs/scaling.md, "Stop 31").

Reports do not change (the arithmetic is the same; only where the memory comes
from). The library itself never calls this: a process-wide setting is for the
program that owns the process, not for a caller's import. A ``MALLOC_*`` variable
or ``GLIBC_TUNABLES`` in the environment is the user's own choice and is kept.
"""

from __future__ import annotations

import os
import sys

__all__ = ["MMAP_THRESHOLD", "TRIM_THRESHOLD", "keep_freed_memory"]

# Blocks under this size come from the heap (reused after free, no page faults).
MMAP_THRESHOLD = 64 * 2**20
# Free memory at the top of the heap kept up to this size instead of given back.
TRIM_THRESHOLD = 256 * 2**20
# mallopt(3) parameter numbers (glibc's malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def keep_freed_memory() -> bool:
    """Set glibc's mmap and trim thresholds (see the module docstring) for this
    process; True when both were set. A no-op off Linux, on a C library without
    ``mallopt`` and when the environment already tunes the allocator."""
    if not sys.platform.startswith("linux"):
        return False
    if "GLIBC_TUNABLES" in os.environ or any(k.startswith("MALLOC_") for k in os.environ):
        return False
    try:
        import ctypes

        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # no C library symbols here, or no mallopt
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
