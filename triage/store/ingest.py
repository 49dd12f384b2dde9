"""Filling the reference store from files, and looking files up in it.

The library side of ``triage db add`` and ``triage db lookup``: which files a list of
paths names (folders walked by the batch walker, hidden files and non-media left
out), hashing each into reference rows, and one file's lookup as plain data.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from triage.store.db import HashStore

_NOT_MEDIA = "not a supported image or video"


def media_files(paths: Sequence[Path]) -> tuple[list[Path], list[str]]:
    """Files given, and media files under folders given (hidden ones skipped), sorted.

    Inside folders, files that are not images or videos (notes, sidecars) are left
    out silently; a file named explicitly is always tried. Returns the files and one
    line per path that could not be used.
    """
    from triage.scan.walker import discover

    files: list[Path] = []
    problems: list[str] = []
    for p in paths:
        if p.is_dir():
            root = os.path.abspath(p)
            found: list[Path] = []
            for entry in discover([p], exclude=(".*",)):
                rel = Path(os.path.relpath(entry.path, root))
                if entry.status == "media":
                    found.append(p / rel)
                elif entry.reason and not entry.reason.startswith(_NOT_MEDIA):
                    problems.append(f"{p / rel}: {entry.reason}")
            files.extend(sorted(found))
        elif p.exists():
            files.append(p)
        else:
            problems.append(f"{p}: no such file or folder")
    return files, problems


@dataclass
class AddSummary:
    hashed: int = 0  # files hashed
    added: int = 0  # new rows in the store
    problems: list[str] = field(default_factory=list)  # "path: reason" per file skipped


def add_files(
    store: HashStore,
    files: Sequence[Path],
    label: str,
    source: str,
    note: str = "",
    first_seen: str | None = None,
    max_keyframes: int = 24,
    on_file: Callable[[Path], None] | None = None,
) -> AddSummary:
    """Hash each file (keyframes of videos) and add its reference rows to ``store``.

    A file that is not analyzable media is listed in ``problems`` and the others go
    on. ``on_file`` is called once per file, after it is done (progress display).
    """
    from triage.errors import MediaError
    from triage.media import Media
    from triage.store.hashes import media_hashes, reference_rows

    out = AddSummary()
    for f in files:
        try:
            media = Media.open(f)
            frames = media_hashes(media, max_keyframes, reference=True)
        except MediaError as exc:
            out.problems.append(f"{f}: {exc}")
            continue
        finally:
            if on_file is not None:
                on_file(f)
        rows = reference_rows(media, frames, label, source, note, first_seen)
        out.added += store.add(rows)
        out.hashed += 1
    return out


def lookup_file(
    store: HashStore, path: Path, max_distance: int | None = None
) -> tuple[dict[str, Any], str]:
    """One file's hashes, its nearest match in ``store`` and any MD5 listing, as plain
    data, and a one-sentence description of what matched ("" without a match).

    With ``max_distance`` the match is PDQ alone within that many bits (a
    ThreatExchange-style lookup) instead of the provenance rules. Raises
    :class:`~triage.errors.MediaError` for a file that is not analyzable media and
    ``OSError`` for one that cannot be read.
    """
    from triage.media import Media
    from triage.store.hashes import media_hashes
    from triage.store.lookup import digest_rows, file_md5, pdq_within, row_summary
    from triage.store.match import lookup_frames

    media = Media.open(path)
    frames = media_hashes(media)
    result: dict[str, Any] = {"path": str(path), "sha256": media.sha256, "match": None}
    result.update({k: v for k, v in frames[0].metrics().items() if k != "time"})
    result["md5"] = file_md5(path)
    md5_rows = digest_rows(store, "md5", result["md5"])
    detail = ""
    if max_distance is None:
        finding = lookup_frames(store, frames, media.kind == "video")
        if finding is not None:
            ev = finding.evidence
            result["match"] = {k: v for k, v in ev.items() if k != "other_matches"}
            result["other_matches"] = ev.get("other_matches", [])
            detail = result["detail"] = finding.detail
    else:
        near = pdq_within(store, (fr.pdq_variants for fr in frames), max_distance)
        if near:
            result["match"] = row_summary(near[0].row, near[0].distance)
            result["other_matches"] = [row_summary(m.row, m.distance) for m in near[1:20]]
            top = near[0]
            detail = result["detail"] = (
                f"PDQ within {top.distance} bits (limit {max_distance}) of a stored hash"
                f" labelled {top.row.label or '(no label)'}"
                + (f" from {top.row.source}" if top.row.source else "")
                + (f"; {len(near) - 1} more" if len(near) > 1 else "")
            )
    if md5_rows:
        result["md5_matches"] = [row_summary(r) for r in md5_rows]
        exact = f"MD5 listed ({', '.join(sorted({r.label or '(no label)' for r in md5_rows}))})"
        detail = f"{exact}; {detail}" if detail else exact
    return result, detail
