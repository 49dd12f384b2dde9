"""Looking a file's hashes up in the reference store, and what a match says.

Match rules (PDQ, pHash, and the two together), ranking of the references reached,
and the finding that reports the nearest one with the label, source and date the
user stored. A match is a fact ("a stored reference labelled 'debunked' is 6 bits
away"), not a judgment of the picture.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from triage.evidence import RawFinding
from triage.hashing import PDQ_MIN_QUALITY

if TYPE_CHECKING:
    from triage.store.db import HashStore, Match
    from triage.store.hashes import FrameHashes

MAX_MATCHES_REPORTED = 5


def exact_file(store: HashStore, sha256: str) -> RawFinding | None:
    """The finding of a file whose exact bytes (SHA-256) are in the store, if they are."""
    rec = store.conn.execute(
        "SELECT label, source, first_seen, note FROM hashes WHERE sha256 = ? LIMIT 1",
        (sha256,),
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
            "sha256": sha256,
            "label": label,
            "source": source,
            "first_seen": first_seen,
            "note": note,
        },
        strength=1.0,
    )


def listed_md5(store: HashStore, md5_of: Callable[[], str]) -> RawFinding | None:
    """The finding of a file whose MD5 is on an imported digest list (StopNCII-style
    sharing of hashes of files): exact bytes. ``md5_of`` is called only when the store
    holds MD5 rows, so most files are not hashed a third time."""
    if (
        store.conn.execute("SELECT 1 FROM hashes WHERE algorithm = 'md5' LIMIT 1").fetchone()
        is None
    ):
        return None
    from triage.store.lookup import digest_rows

    digest = md5_of()
    rows = digest_rows(store, "md5", digest)
    if not rows:
        return None
    top = rows[0]
    return RawFinding(
        id="provenance.exact_file",
        question="provenance",
        title="This exact file is on an imported MD5 list",
        detail=(
            f"The file's MD5 is listed{_described(top.label, top.source, top.first_seen)}. "
            "Byte-identical: the same file, not merely a similar picture."
        ),
        evidence={
            "md5": digest,
            "label": top.label,
            "source": top.source,
            "first_seen": top.first_seen,
            "note": top.note,
            "lists": len(rows),
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
        use_pdq = frame.pdq_quality >= PDQ_MIN_QUALITY
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
                            ref_quality is not None and ref_quality < PDQ_MIN_QUALITY
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
    return m.row.quality is None or m.row.quality >= PDQ_MIN_QUALITY


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
        if q is None or q >= PDQ_MIN_QUALITY
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
