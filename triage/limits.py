"""The address-space cap of a worker (``--max-memory``) and the reason a file that
hits it gets.

A cap set with ``RLIMIT_AS`` turns an allocation that would exhaust the machine into
a failed allocation in this process: ``MemoryError`` from Python and numpy, an
``Insufficient memory`` error from OpenCV, or an ``ImportError`` ("failed to map
segment") from a library loaded lazily after the cap was hit. All of them become
one readable reason for the file, and the batch goes on.
"""

from __future__ import annotations

import os
import re

__all__ = ["default_max_memory_mb", "limit_memory", "memory_limit_mb", "out_of_memory"]

MIN_DEFAULT_MB = 3072  # a 12 MP file peaks at ~1.9 GB of address space (threads, libraries)
_limit_mb: int | None = None
_SIGNS = re.compile(
    r"failed to map|cannot allocate memory|insufficient memory|out of memory|"
    r"unable to allocate|std::bad_alloc|memory allocation failed|MemoryError",
    re.I,
)


def default_max_memory_mb(jobs: int = 1) -> int:
    """Three quarters of this machine's memory shared by ``jobs`` workers, at least
    3 GB each (address space exceeds resident memory: libraries, thread stacks)."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not POSIX
        return 8192
    return max(MIN_DEFAULT_MB, int(total * 0.75 / max(1, jobs)) // 2**20)


def limit_memory(max_memory_mb: int | None) -> None:
    """Cap this process's address space at ``max_memory_mb`` (None or 0: no cap)."""
    global _limit_mb
    if not max_memory_mb:
        return
    try:
        import resource

        cap = int(max_memory_mb) * 2**20
        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            cap = min(cap, hard)
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
        _limit_mb = cap // 2**20
    except (ImportError, ValueError, OSError):  # not on this platform
        pass


def memory_limit_mb() -> int | None:
    """The cap this process runs under (None when none was set)."""
    return _limit_mb


def out_of_memory(exc: BaseException) -> str | None:
    """The reason for a file whose analysis ran out of memory, or None when ``exc``
    is something else."""
    signs = _limit_mb is not None and _SIGNS.search(f"{type(exc).__name__}: {exc}")
    if not isinstance(exc, MemoryError) and not signs:
        return None
    if _limit_mb is not None:
        return (
            f"exceeded the memory limit ({_limit_mb:,} MB); raise --max-memory "
            "if the file is genuine"
        )
    return "ran out of memory"
