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

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from triage.analyzers.base import Analyzer, AnalyzerResult, Context, RawFinding
from triage.report import Question

if TYPE_CHECKING:
    from pathlib import Path

    import numpy as np

    from triage.media import Media
    from triage.store import HashRow, HashStore, Match

DEFAULT_MAX_KEYFRAMES = 24
MAX_MATCHES_REPORTED = 5


@dataclass
class FrameHashes:
    """Hashes of one picture or keyframe, with the lookup variants."""

    time: float | None
    phash: str
    dhash: str
    pdq: str
    pdq_quality: int
    pdq_variants: list[str] = field(default_factory=list)  # 8 dihedral (+8 of the trimmed)
    phash_variants: list[str] = field(default_factory=list)
    trimmed: bool = False
    # Reference side only: (name, pdq, pdq quality, phash) of central crops.
    crops: list[tuple[str, str, int, str]] = field(default_factory=list)

    def metrics(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "phash": self.phash,
            "dhash": self.dhash,
            "pdq": self.pdq,
            "pdq_quality": self.pdq_quality,
        }
        if self.time is not None:
            out = {"time": round(self.time, 3), **out}
        return out


# Central crops hashed for a reference (share of width and height kept): a copy
# cropped by a few percent moves PDQ by 40-70 bits and pHash by 8-14, but lands
# near the reference's crop of about the same size.
REFERENCE_CROPS = (("crop95", 0.95), ("crop90", 0.90))


def frame_hashes(
    rgb: np.ndarray, time: float | None = None, reference: bool = False
) -> FrameHashes:
    """All hashes of one RGB picture (pass the <= 512 px decode).

    ``reference``: also hash the central crops of ``REFERENCE_CROPS`` (for storing).
    """
    from triage import hashing

    pdq_vars, quality = hashing.pdq_dihedral(rgb)
    ph_vars = hashing.phash_dihedral(rgb)
    fh = FrameHashes(
        time=time,
        phash=ph_vars[0],
        dhash=hashing.dhash(rgb),
        pdq=pdq_vars[0],
        pdq_quality=quality,
        pdq_variants=list(pdq_vars),
        phash_variants=list(ph_vars),
    )
    inner = hashing.trim_uniform_border(rgb)
    if inner is not None:
        import numpy as np

        inner = np.ascontiguousarray(inner)
        more_pdq, _ = hashing.pdq_dihedral(inner)
        fh.pdq_variants.extend(more_pdq)
        fh.phash_variants.extend(hashing.phash_dihedral(inner))
        fh.trimmed = True
    if reference:
        import numpy as np

        h, w = rgb.shape[:2]
        for name, keep in REFERENCE_CROPS:
            dy, dx = round(h * (1 - keep) / 2), round(w * (1 - keep) / 2)
            if dy < 1 or dx < 1:
                continue
            crop = np.ascontiguousarray(rgb[dy : h - dy, dx : w - dx])
            cp, cq = hashing.pdq(crop)
            fh.crops.append((name, cp, cq, hashing.phash(crop)))
    return fh


def media_hashes(
    media: Media, max_keyframes: int = DEFAULT_MAX_KEYFRAMES, reference: bool = False
) -> list[FrameHashes]:
    """Hashes of a picture (one entry) or of up to ``max_keyframes`` video keyframes.

    ``reference``: also hash central crops, for adding to a store.
    """
    from triage.hashing import WORKING_SIZE

    if media.kind == "video":
        return keyframe_hashes(media, max_keyframes, reference)
    return [frame_hashes(media.reduced(WORKING_SIZE), reference=reference)]


def reference_rows(
    media: Media,
    frames: list[FrameHashes],
    label: str = "",
    source: str = "",
    note: str = "",
    first_seen: str | None = None,
) -> list[HashRow]:
    """Store rows for a reference file: PDQ, pHash, dHash per frame, and the crops."""
    from triage.store import HashRow

    rows: list[HashRow] = []

    def row(algo: str, value: str, quality: int | None, time: float | None, derived: str) -> None:
        rows.append(
            HashRow(
                algorithm=algo,
                hash=value,
                quality=quality,
                label=label,
                source=source,
                first_seen=first_seen,
                note=note,
                sha256=media.sha256,
                time=time,
                derived=derived,
            )
        )

    for fr in frames:
        row("pdq", fr.pdq, fr.pdq_quality, fr.time, "")
        row("phash", fr.phash, None, fr.time, "")
        row("dhash", fr.dhash, None, fr.time, "")
        for name, cp, cq, cph in fr.crops:
            row("pdq", cp, cq, fr.time, name)
            row("phash", cph, None, fr.time, name)
    return rows


def keyframe_hashes(media: Media, max_keyframes: int, reference: bool = False) -> list[FrameHashes]:
    """Decode only keyframes (PyAV ``skip_frame = NONKEY``), spread over the duration.

    Short videos (under 2 s per wanted keyframe) are read forward, keeping
    keyframes at least ``duration / max_keyframes`` apart; longer ones seek to
    ``max_keyframes`` evenly spaced times and take the keyframe at or before each
    (falling back to reading forward when the container cannot seek). A keyframe
    whose PDQ is within 8 bits of the previous kept one (a static shot) is dropped.
    Raises ``MediaError`` when no keyframe decodes.
    """
    import av

    from triage.errors import MediaError

    duration = media.duration or 0.0
    out: list[FrameHashes] = []
    try:
        with av.open(str(media.path), mode="r") as container:
            if not container.streams.video:
                raise MediaError("the container holds no video stream")
            stream = container.streams.video[0]
            stream.codec_context.skip_frame = "NONKEY"
            if duration > 2.0 * max_keyframes:
                try:
                    out = _keyframes_by_seeking(
                        container, stream, duration, max_keyframes, reference
                    )
                except av.error.FFmpegError:
                    out = []
                    container.seek(0, stream=stream)
            if not out:
                out = _keyframes_forward(container, stream, duration, max_keyframes, reference)
    except MediaError:
        raise
    except (av.error.FFmpegError, OSError) as exc:
        if not out:
            raise MediaError(f"no keyframe could be decoded ({exc})") from None
    if not out:
        raise MediaError("no keyframe could be decoded")
    return out


def _keep(out: list[FrameHashes], frame: Any, reference: bool) -> None:
    from triage.hashing import WORKING_SIZE, hamming

    w, h = frame.width, frame.height
    scale = min(1.0, WORKING_SIZE / max(w, h, 1))
    rgb = frame.to_ndarray(
        format="rgb24", width=max(1, round(w * scale)), height=max(1, round(h * scale))
    )
    t = float(frame.time) if frame.time is not None else 0.0
    fh = frame_hashes(rgb, t, reference)
    if not out or hamming(fh.pdq, out[-1].pdq) > 8:
        out.append(fh)


def _keyframes_forward(
    container: Any, stream: Any, duration: float, max_keyframes: int, reference: bool
) -> list[FrameHashes]:
    out: list[FrameHashes] = []
    min_gap = duration / max(1, max_keyframes)
    last_time = -1e18
    for decoded, frame in enumerate(container.decode(stream), start=1):
        t = float(frame.time) if frame.time is not None else 0.0
        if decoded > 1 and t - last_time < min_gap:
            continue
        last_time = t
        _keep(out, frame, reference)
        if len(out) >= max_keyframes or decoded >= 20 * max_keyframes:
            break
    return out


def _keyframes_by_seeking(
    container: Any, stream: Any, duration: float, max_keyframes: int, reference: bool
) -> list[FrameHashes]:
    out: list[FrameHashes] = []
    seen: set[float] = set()
    base = float(stream.time_base) if stream.time_base else 1e-6
    start = float(stream.start_time * stream.time_base) if stream.start_time else 0.0
    for i in range(max_keyframes):
        target = start + duration * (i + 0.5) / max_keyframes
        container.seek(int(target / base), stream=stream, backward=True, any_frame=False)
        frame = next(iter(container.decode(stream)), None)
        if frame is None:
            continue
        t = round(float(frame.time) if frame.time is not None else target, 3)
        if t in seen:
            continue
        seen.add(t)
        _keep(out, frame, reference)
    return out


class ProvenanceAnalyzer(Analyzer):
    name = "provenance"
    version = "1"
    questions: ClassVar[tuple[Question, ...]] = ("provenance",)
    kinds: ClassVar[tuple[str, ...]] = ("image", "video")
    description = (
        "Perceptual hashes (pHash, dHash, PDQ; keyframes for video) looked up in the "
        "local reference store, mirrors and rotations included."
    )

    def run(self, media: Media, ctx: Context) -> AnalyzerResult:
        from triage.store import resolve_db_path, store_has_rows

        max_kf = int(ctx.options.get("provenance.max_keyframes", DEFAULT_MAX_KEYFRAMES))
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
        finding = _exact_file(store, media)
        if finding is not None:
            result.findings.append(finding)
        found = lookup_frames(store, frames, media.kind == "video")
        result.metrics["reference_hashes"] = sum(len(store.index(a)) for a in ("pdq", "phash"))
        result.examined = {"provenance": 1.0}
        if any(f.pdq_quality < _min_quality() for f in frames):
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


def _min_quality() -> int:
    from triage.hashing import PDQ_MIN_QUALITY

    return PDQ_MIN_QUALITY


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


def _exact_file(store: HashStore, media: Media) -> RawFinding | None:
    rec = store.conn.execute(
        "SELECT label, source, first_seen, note FROM hashes WHERE sha256 = ? LIMIT 1",
        (media.sha256,),
    ).fetchone()
    if rec is None:
        return None
    label, source, first_seen, note = rec
    return RawFinding(
        id="provenance.exact_file",
        question="provenance",
        title="This exact file is in the reference store",
        detail=(
            f"A reference with the same SHA-256 is stored{_described(label, source, first_seen)}. "
            "Byte-identical: the same file, not merely a similar picture."
        ),
        evidence={
            "sha256": media.sha256,
            "label": label,
            "source": source,
            "first_seen": first_seen,
            "note": note,
        },
        strength=1.0,
    )


@dataclass
class MatchedReference:
    """One stored reference (a file, or one keyframe of it) reached by a lookup."""

    key: str
    best: dict[str, Match] = field(default_factory=dict)  # algorithm -> nearest match
    pair_pdq: int | None = None  # nearest PDQ among the reference rows pHash reached
    best_phash_pdq: int | None = None  # PDQ distance of the row with the best pHash
    low_detail: bool = False  # the best pHash pairs a nearly flat picture (PDQ quality < 50)
    times: list[dict[str, Any]] = field(default_factory=list)

    def rules(self) -> dict[str, float]:
        """Match rules this reference meets -> distance as a fraction of the line."""
        from triage.hashing import (
            PDQ_CONTRADICTS,
            PDQ_PAIR_RADIUS,
            PDQ_RADIUS,
            PHASH_PAIR_RADIUS,
            PHASH_RADIUS,
            PHASH_RADIUS_LOW_DETAIL,
        )

        out: dict[str, float] = {}
        pdq = self.best.get("pdq")
        ph = self.best.get("phash")
        if pdq is not None and pdq.distance <= PDQ_RADIUS:
            out["pdq"] = pdq.distance / PDQ_RADIUS
        ph_radius = PHASH_RADIUS_LOW_DETAIL if self.low_detail else PHASH_RADIUS
        contradicted = self.best_phash_pdq is not None and self.best_phash_pdq > PDQ_CONTRADICTS
        if ph is not None and ph.distance <= ph_radius and not contradicted:
            out["phash"] = ph.distance / max(ph_radius, 1)
        pair = self.pair_pdq if pdq is None else min(pdq.distance, self.pair_pdq or 999)
        if ph is not None and pair is not None and pair <= PDQ_PAIR_RADIUS:
            out["phash+pdq"] = max(ph.distance / PHASH_PAIR_RADIUS, pair / PDQ_PAIR_RADIUS)
        return out


def match_references(
    store: HashStore, frames: list[FrameHashes], is_video: bool
) -> list[MatchedReference]:
    """Every stored reference meeting a match rule, strongest first.

    Rules: PDQ within 31 (both pictures with PDQ quality >= 50); or pHash within 4
    (within 2 when either picture is nearly flat), unless the same reference's
    PDQ is over 96 bits away (then PDQ says they differ); or pHash within 8 and
    the same reference's PDQ within 50.
    """
    from triage.hashing import PDQ_RADIUS, PHASH_PAIR_RADIUS

    refs: dict[str, MatchedReference] = {}
    for frame in frames:
        use_pdq = frame.pdq_quality >= _min_quality()
        per_algo: list[tuple[str, list[Match]]] = [
            ("phash", store.lookup("phash", frame.phash_variants, PHASH_PAIR_RADIUS))
        ]
        if use_pdq:
            pdq_matches = store.lookup("pdq", frame.pdq_variants, PDQ_RADIUS)
            per_algo.append(("pdq", [m for m in pdq_matches if _reliable(m)]))
        for algo, matches in per_algo:
            for m in matches:
                key = m.row.sha256 or f"row{m.row.id}"  # one reference file
                ref = refs.setdefault(key, MatchedReference(key))
                prev = ref.best.get(algo)
                is_best = prev is None or m.distance < prev.distance
                if is_best:
                    ref.best[algo] = m
                if algo == "phash":
                    d, ref_quality = _companion_pdq(store, m, frame.pdq_variants if use_pdq else [])
                    if d is not None and (ref.pair_pdq is None or d < ref.pair_pdq):
                        ref.pair_pdq = d
                    if is_best:
                        ref.best_phash_pdq = d
                        ref.low_detail = not use_pdq or (
                            ref_quality is not None and ref_quality < _min_quality()
                        )
                if is_video:
                    ref.times.append(
                        {
                            "time": frame.time,
                            "ref_time": m.row.time,
                            "algorithm": algo,
                            "distance": m.distance,
                        }
                    )
    return sorted((r for r in refs.values() if r.rules()), key=_rank)


def _rank(ref: MatchedReference) -> tuple[float, ...]:
    """Strongest first; then nearest by PDQ, by pHash, by both; the picture as is
    before its stored crops."""
    rules = ref.rules()
    derived = any(m.row.derived for m in ref.best.values())
    return (
        -_strength(ref),
        rules.get("pdq", 2.0),
        rules.get("phash", 2.0),
        rules.get("phash+pdq", 2.0),
        float(derived),
    )


def lookup_frames(store: HashStore, frames: list[FrameHashes], is_video: bool) -> RawFinding | None:
    """The ``provenance.known_match`` finding for the best matching reference, or None."""
    ranked = match_references(store, frames, is_video)
    if not ranked:
        return None
    top = ranked[0]
    algo, m = _headline(top)
    return _finding(algo, m, top, ranked, is_video)


def _reliable(m: Match) -> bool:
    """A stored PDQ of a nearly flat picture (quality < 50) is mostly noise."""
    return m.row.quality is None or m.row.quality >= _min_quality()


def _companion_pdq(
    store: HashStore, ph: Match, variants: list[str]
) -> tuple[int | None, int | None]:
    """(PDQ distance to the query, PDQ quality) of the PDQ row stored with a pHash row.

    The distance is None when the row has no reliable PDQ (or no ``variants``
    are given); the quality is None when the reference has no PDQ row at all.
    """
    from triage.hashing import hamming

    if not ph.row.sha256:
        return None, None
    recs = store.conn.execute(
        "SELECT hash, quality FROM hashes WHERE algorithm = 'pdq' AND sha256 = ? "
        "AND IFNULL(media_time, -1.0) = IFNULL(?, -1.0) AND derived = ?",
        (ph.row.sha256, ph.row.time, ph.row.derived),
    ).fetchall()
    if not recs:
        return None, None
    quality = max((q for _, q in recs if q is not None), default=None)
    dists = [
        hamming(bytes(h).hex(), v)
        for h, q in recs
        if q is None or q >= _min_quality()
        for v in variants
    ]
    return (min(dists) if dists else None), quality


def _strength(ref: MatchedReference) -> float:
    """1.5 at distance 0 down to 0.5 at the match line; +0.25 when two rules agree."""
    rules = ref.rules()
    if not rules:
        return 0.0
    agree = 0.25 if len(rules) > 1 else 0.0
    return round(min(1.5, agree + 1.5 - min(rules.values())), 3)


def _headline(ref: MatchedReference) -> tuple[str, Match]:
    rules = ref.rules()
    if "pdq" in rules or ("phash" not in rules and "pdq" in ref.best):
        return "pdq", ref.best["pdq"]
    return "phash", ref.best["phash"]


_NAMES = {"pdq": "PDQ", "phash": "pHash", "dhash": "dHash"}

_VARIANT_NAMES = (
    "as is",
    "mirrored left-right",
    "flipped top-bottom",
    "rotated 180 degrees",
    "transposed",
    "rotated 90 degrees",
    "rotated 270 degrees",
    "transposed and rotated 180 degrees",
)


def _variant_name(v: int, derived: str = "") -> str:
    base = _VARIANT_NAMES[v % 8]
    if v >= 8:
        base += " (after removing a flat border)"
    if derived.startswith("crop") and derived[4:].isdigit():
        base += f", against the reference's central {derived[4:]}% crop"
    return base


def _finding(
    algo: str, m: Match, top: MatchedReference, ranked: list[MatchedReference], is_video: bool
) -> RawFinding:
    from triage.hashing import (
        PDQ_PAIR_RADIUS,
        PDQ_RADIUS,
        PHASH_PAIR_RADIUS,
        PHASH_RADIUS,
        chance_match_probability,
    )

    bits = 256 if algo == "pdq" else 64
    if algo == "pdq":
        radius = PDQ_RADIUS
    else:
        radius = PHASH_RADIUS if "phash" in top.rules() else PHASH_PAIR_RADIUS
    chance = chance_match_probability(algo, m.distance)
    row = m.row
    others = []
    for ref in ranked[1:MAX_MATCHES_REPORTED]:
        a, om = _headline(ref)
        others.append(_match_evidence(a, om))
    evidence: dict[str, Any] = {
        **_match_evidence(algo, m),
        "threshold": radius,
        "chance_probability": float(f"{chance:.3g}"),
        "rules_met": sorted(top.rules()),
        "reference_pdq_distance": top.pair_pdq,
        "other_matches": others,
        "matched_references": len(ranked),
    }
    detail = (
        f"{_NAMES[algo]} distance {m.distance} of {bits} bits (match line {radius}) to a stored "
        f"reference{_described(row.label, row.source, row.first_seen)}; matched "
        f"{_variant_name(m.variant, m.row.derived)}."
    )
    if algo == "phash" and "phash" not in top.rules() and top.pair_pdq is not None:
        detail += (
            f" Matched by two hashes together: pHash within {PHASH_PAIR_RADIUS} and the "
            f"reference's PDQ at distance {top.pair_pdq} (within {PDQ_PAIR_RADIUS})."
        )
    elif len(top.best) == 2:
        other = "phash" if algo == "pdq" else "pdq"
        detail += f" {_NAMES[other]} agrees (distance {top.best[other].distance})."
    detail += (
        f" Unrelated pictures come this close at a measured rate of at most {chance:.1g} "
        "per stored reference (pairs of unrelated pictures; see the analyzer's card)."
    )
    if row.note:
        detail += f" Note: {row.note}."
    if is_video and top.times:
        times = sorted(top.times, key=lambda t: t["distance"])[:10]
        evidence["keyframe_matches"] = times
        t0 = times[0]
        where = f" at {t0['ref_time']:.1f} s in the reference" if t0["ref_time"] is not None else ""
        detail += f" Keyframe at {t0['time']:.1f} s of this video matches{where}."
    if len(ranked) > 1:
        detail += f" {len(ranked) - 1} more stored reference(s) also match."
    label = f" (labelled '{row.label}')" if row.label else ""
    return RawFinding(
        id="provenance.known_match",
        question="provenance",
        title=f"Matches a picture already in the reference store{label}",
        detail=detail,
        evidence=evidence,
        strength=_strength(top),
    )


def _match_evidence(algo: str, m: Match) -> dict[str, Any]:
    r = m.row
    return {
        "algorithm": algo,
        "distance": m.distance,
        "variant": _variant_name(m.variant, r.derived),
        "label": r.label,
        "source": r.source,
        "first_seen": r.first_seen,
        "note": r.note,
        "reference_sha256": r.sha256,
        "reference_time": r.time,
        "added_at": r.added_at,
        "row_id": r.id,
    }


def _described(label: str | None, source: str | None, first_seen: str | None) -> str:
    parts = []
    if label:
        parts.append(f"labelled '{label}'")
    if source:
        parts.append(f"source '{source}'")
    if first_seen:
        parts.append(f"first seen {first_seen}")
    return (" (" + ", ".join(parts) + ")") if parts else ""
