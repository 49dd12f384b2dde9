"""Provenance: has this picture (or video keyframe) been seen before?

Computes pHash, dHash and PDQ from one shared 512 px decode (keyframes for video),
always, and reports them in the metrics. When a non-empty reference store exists
(``--db``, ``$TRIAGE_DB`` or the per-user default), looks the hashes up, with the
eight mirror/rotation variants and, when the picture has a flat frame around it
(screenshots, letterboxing), the hashes of the framed content too. The analyzer
never creates a store.

A match is a fact ("a stored reference labelled 'debunked' is 6 bits away"), not
a judgment of the picture; the label is reported as the user wrote it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from triage.analyzers.base import Analyzer, AnalyzerResult, Context
from triage.hashing import PDQ_MIN_QUALITY
from triage.report import Question
from triage.store.hashes import DEFAULT_MAX_KEYFRAMES, FrameHashes, media_hashes
from triage.store.match import exact_file, listed_md5, lookup_frames

if TYPE_CHECKING:
    from pathlib import Path

    from triage.media import Media
    from triage.store import HashStore


class ProvenanceAnalyzer(Analyzer):
    name = "provenance"
    finding_ids = (
        "provenance.known_match",
        "provenance.exact_file",
    )
    version = "1"
    questions: ClassVar[tuple[Question, ...]] = ("provenance",)
    kinds: ClassVar[tuple[str, ...]] = ("image", "video")
    description = (
        "Perceptual hashes (pHash, dHash, PDQ; keyframes for video) looked up in the "
        "local reference store, mirrors and rotations included."
    )

    def run(self, media: Media, ctx: Context) -> AnalyzerResult:
        from triage.store import resolve_db_path, store_has_rows

        max_kf = ctx.options.provenance.max_keyframes or DEFAULT_MAX_KEYFRAMES
        frames = media_hashes(media, max_kf)
        result = AnalyzerResult(metrics=_metrics(media, frames))
        path = resolve_db_path(ctx.db_path)
        if not store_has_rows(path):
            result.examined = {"provenance": 0.0}
            result.not_checked.append(
                f"no reference hashes to compare with (no store or an empty one at {path}); "
                "add known pictures with `triage db add FILES --label LABEL --source SOURCE`"
            )
            return result
        from triage.store import StoreError

        try:
            store = _open_store(path)
        except StoreError as exc:
            result.examined = {"provenance": 0.0}
            result.not_checked.append(f"the reference store could not be opened: {exc}")
            return result
        finding = exact_file(store, media.sha256) or listed_md5(store, lambda: _md5(media))
        if finding is not None:
            result.findings.append(finding)
        found = lookup_frames(store, frames, media.kind == "video")
        result.metrics["reference_hashes"] = sum(len(store.index(a)) for a in ("pdq", "phash"))
        result.examined = {"provenance": 1.0}
        if any(f.pdq_quality < PDQ_MIN_QUALITY for f in frames):
            result.not_checked.append(
                "PDQ quality below 50 (a flat or tiny picture): its PDQ bits are unreliable, "
                "so only pHash was compared"
            )
        if found is not None:
            result.findings.append(found)
            result.metrics["nearest_distance"] = found.evidence["distance"]
        return result


_STORES: dict[tuple[str, int], HashStore] = {}


def _open_store(path: Path) -> HashStore:
    """One open store per path and thread, so a batch loads the search index once."""
    import threading

    from triage.store import HashStore

    key = (str(path.resolve()), threading.get_ident())
    store = _STORES.get(key)
    if store is None:
        store = HashStore.open(path, create=False)
        _STORES[key] = store
    return store


def _md5(media: Media) -> str:
    import hashlib

    from triage.store.lookup import file_md5

    if media.kind == "image":
        return hashlib.md5(media.data, usedforsecurity=False).hexdigest()
    return file_md5(media.path)


def _metrics(media: Media, frames: list[FrameHashes]) -> dict[str, Any]:
    first = frames[0]
    metrics: dict[str, Any] = {
        "phash": first.phash,
        "dhash": first.dhash,
        "pdq": first.pdq,
        "pdq_quality": first.pdq_quality,
    }
    if media.kind == "video":
        metrics["keyframes"] = [f.metrics() for f in frames]
    if first.trimmed:
        metrics["border_trimmed"] = True
    return metrics
