"""Find the files of a scan: recursive, chosen by sniffed type, never by extension.

Rules (docs/scaling.md repeats them for users):

* Every regular file is sniffed from its first bytes; media files are analyzed, the
  others are listed as ``skipped`` with a reason (never silently dropped).
* Hidden files and folders are scanned like any other (evidence can be hidden);
  ``--exclude '.*'`` leaves them out.
* ``--include``/``--exclude`` globs match a file's name or its path relative to the
  scanned root (``*`` crosses ``/``). Excluded folders are not entered. Excluded files
  are counted, not listed.
* Symbolic links are handled after the real tree, so a file reached both directly
  and through a link is analyzed once, at its real path. Without
  ``follow_symlinks`` a link whose target lies outside every scanned root is not
  followed (listed as skipped); with it, links are followed anywhere. Folders are
  remembered by device and inode, so link loops end (listed as skipped).
* Files larger than ``max_bytes``, empty files, and devices, pipes and sockets are
  skipped with a reason; a pipe is never opened.
* A file that cannot be read is still a candidate: the analysis records the
  permission error, and the scan counts it as failed (it may well be media).
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Literal

from triage.sniff import not_supported_reason, sniff

SNIFF_BYTES = 64

Status = Literal["media", "skipped"]


@dataclass(frozen=True, slots=True)
class Entry:
    """One file found by the walk."""

    path: str  # absolute, as walked (links not resolved)
    status: Status  # "media": to analyze; "skipped": listed with ``reason``
    format: str | None = None  # sniffed format, None when unknown or unreadable
    size: int | None = None
    reason: str | None = None


@dataclass
class WalkStats:
    excluded: int = 0  # files left out by --include/--exclude
    folders: int = 0


@dataclass
class _State:
    roots: list[str]
    include: tuple[str, ...]
    exclude: tuple[str, ...]
    follow: bool
    max_bytes: int | None
    seen_dirs: dict[tuple[int, int], str] = field(default_factory=dict)
    seen_files: dict[tuple[int, int], str] = field(default_factory=dict)
    links: list[tuple[str, str]] = field(default_factory=list)  # (path, root)
    stats: WalkStats = field(default_factory=WalkStats)


class WalkError(Exception):
    """A root cannot be scanned (missing); the CLI turns it into a usage error."""


def discover(
    roots: Sequence[str | os.PathLike[str]],
    include: Iterable[str] = (),
    exclude: Iterable[str] = (),
    follow_symlinks: bool = False,
    max_bytes: int | None = None,
    stats: WalkStats | None = None,
) -> Iterator[Entry]:
    """Yield every file under ``roots`` once, in a stable (sorted) order.

    Raises :class:`WalkError` before yielding anything if a root does not exist.
    """
    abs_roots = [os.path.abspath(os.fspath(r)) for r in roots]
    for r in abs_roots:
        if not os.path.lexists(r):
            raise WalkError(f"{r}: no such file or folder")
    st = _State(
        roots=[os.path.realpath(r) for r in abs_roots],
        include=tuple(include),
        exclude=tuple(exclude),
        follow=follow_symlinks,
        max_bytes=max_bytes,
        stats=stats if stats is not None else WalkStats(),
    )
    for root in abs_roots:
        if os.path.isdir(root) and not os.path.islink(root):
            yield from _walk_dir(st, root, root)
        elif os.path.islink(root):
            st.links.append((root, os.path.dirname(root)))
        else:
            yield from _file(st, root, os.path.dirname(root), os.lstat(root))
    # Links last: real paths claim their files and folders first.
    while st.links:
        path, root = st.links.pop(0)
        yield from _link(st, path, root)


def _matches(patterns: tuple[str, ...], path: str, root: str) -> bool:
    name = os.path.basename(path)
    rel = os.path.relpath(path, root).replace(os.sep, "/")
    return any(fnmatchcase(name, p) or fnmatchcase(rel, p) for p in patterns)


def _walk_dir(st: _State, path: str, root: str) -> Iterator[Entry]:
    try:
        dst = os.stat(path)
    except OSError as exc:
        yield Entry(path, "skipped", reason=f"folder cannot be read: {exc.strerror or exc}")
        return
    key = (dst.st_dev, dst.st_ino)
    if key in st.seen_dirs:
        yield Entry(
            path,
            "skipped",
            reason=f"link loop or repeat: folder already scanned as {st.seen_dirs[key]}",
        )
        return
    st.seen_dirs[key] = path
    st.stats.folders += 1
    try:
        with os.scandir(path) as it:
            children = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        yield Entry(path, "skipped", reason=f"folder cannot be listed: {exc.strerror or exc}")
        return
    subdirs: list[str] = []
    for child in children:
        if child.is_symlink():
            if st.exclude and _matches(st.exclude, child.path, root):
                st.stats.excluded += 1
                continue
            st.links.append((child.path, root))
            continue
        try:
            cst = child.stat(follow_symlinks=False)
        except OSError as exc:
            yield Entry(child.path, "skipped", reason=f"cannot stat: {exc.strerror or exc}")
            continue
        if stat.S_ISDIR(cst.st_mode):
            if st.exclude and _matches(st.exclude, child.path, root):
                continue
            subdirs.append(child.path)
        else:
            yield from _file(st, child.path, root, cst)
    for sub in subdirs:
        yield from _walk_dir(st, sub, root)


def _file(st: _State, path: str, root: str, fst: os.stat_result) -> Iterator[Entry]:
    if (st.exclude and _matches(st.exclude, path, root)) or (
        st.include and not _matches(st.include, path, root)
    ):
        st.stats.excluded += 1
        return
    if not stat.S_ISREG(fst.st_mode):
        yield Entry(path, "skipped", reason="not a regular file (device, pipe or socket)")
        return
    key = (fst.st_dev, fst.st_ino)
    if key in st.seen_files:
        yield Entry(path, "skipped", size=fst.st_size, reason=f"same file as {st.seen_files[key]}")
        return
    st.seen_files[key] = path
    if fst.st_size == 0:
        yield Entry(path, "skipped", size=0, reason="empty file (0 bytes)")
        return
    if st.max_bytes is not None and fst.st_size > st.max_bytes:
        yield Entry(
            path,
            "skipped",
            size=fst.st_size,
            reason=f"{fst.st_size:,} bytes, over --max-bytes {st.max_bytes:,}",
        )
        return
    try:
        with open(path, "rb") as fh:
            head = fh.read(SNIFF_BYTES)
    except OSError:
        # Unknown type: let the analysis record the reason as a failure.
        yield Entry(path, "media", size=fst.st_size, reason="unreadable")
        return
    sniffed = sniff(head)
    if sniffed.kind == "unknown":
        yield Entry(
            path,
            "skipped",
            size=fst.st_size,
            reason=not_supported_reason(head),
        )
        return
    yield Entry(path, "media", format=sniffed.format, size=fst.st_size)


def _inside(real: str, roots: list[str]) -> bool:
    return any(real == r or real.startswith(r.rstrip(os.sep) + os.sep) for r in roots)


def _link(st: _State, path: str, root: str) -> Iterator[Entry]:
    try:
        target = os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            yield Entry(path, "skipped", reason="symbolic link loop")
        else:
            yield Entry(path, "skipped", reason="broken symbolic link (target missing)")
        return
    real = os.path.realpath(path)
    if not st.follow and not _inside(real, st.roots):
        yield Entry(
            path,
            "skipped",
            reason="symbolic link to outside the scanned folders (use --follow-symlinks)",
        )
        return
    if stat.S_ISDIR(target.st_mode):
        yield from _walk_dir(st, path, root)
    else:
        yield from _file(st, path, root, target)
