"""Self-contained HTML report for one file or a batch.

One file, no external requests: thumbnails and artifacts are embedded as
``data:`` URIs (shrunk so that a page for 500 files stays light), CSS and the
small sorting script are inline, and a Content-Security-Policy forbids anything
else. The page reads fully without JavaScript and prints to PDF.

File names, metadata and finding texts are untrusted: the Jinja2 environment
autoescapes everything, and nothing user-controlled is marked safe.

Thumbnails are made here from the original file (opened read-only) unless
``no_pixels`` is set; a file that cannot be decoded simply gets no thumbnail.
"""

from __future__ import annotations

import base64
import io
import json
import math
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from triage.fileio import write_atomic
from triage.hashing import NEAR_DUPLICATE_RADIUS
from triage.orientation import (
    ORIENTATION_WORDS,
    turns,
    upright_box,
    upright_pixels,
    upright_size,
)
from triage.pipeline import THUMBNAIL_SIDE, Analysis
from triage.report import BANDS, QUESTIONS, Finding, Report

if TYPE_CHECKING:
    pass

THUMB_SIDE = THUMBNAIL_SIDE  # long side of a file's thumbnail (made by the pipeline), px
MINI_SIDE = 72  # long side of the tiny thumbnails in the batch table and duplicate groups
# Artifact width (px) and JPEG quality by batch size, so that a page stays light:
# (up to N files, width, quality). Measured on 12 camera photos with two full-size
# heatmaps each: ~320 KB per file at 640 px, ~93 KB at 320 px (docs/html-report.md).
SIZE_TIERS: tuple[tuple[float, int, int], ...] = (
    (20, 640, 82),
    (100, 480, 75),
    (250, 400, 70),
    (math.inf, 320, 55),
)
ARTIFACT_WIDTH = SIZE_TIERS[0][1]  # the widest an embedded artifact ever is
ARTIFACT_SMALL_BYTES = 60_000  # a PNG artifact up to this size is kept as PNG
ARTIFACT_MAX_BYTES = 120_000  # past this it becomes JPEG whatever the savings
IMAGE_BUDGET = 38_000_000  # bytes of embedded images per page; past it, images are left out
EVIDENCE_MAX_CHARS = 1500  # longer evidence values are cut (the JSON report has them whole)
EVIDENCE_MAX_ITEMS = 60  # items of a list or keys of a dict shown before cutting

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'"

BAND_WORDS = {
    "insufficient-evidence": "insufficient evidence",
    "no-indicators": "no indicators",
    "weak-indicators": "weak indicators",
    "notable-indicators": "notable indicators",
    "strong-indicators": "strong indicators",
}
BAND_MEANING = {
    "insufficient-evidence": "too little could be checked, or the interval spans most of the range",
    "no-indicators": "the whole interval stays below 0.5 with enough checks run",
    "weak-indicators": "the score is above 0.5 but the interval still reaches below it",
    "notable-indicators": "even the low end of the interval is above 0.5",
    "strong-indicators": "even the low end of the interval is at or above 0.8",
}
QUESTION_WORDS = {
    "manipulation": "Edited after capture?",
    "synthetic": "Made or altered by a generator?",
    "provenance": "Seen before?",
}
STATUS_WORDS = {
    "ok": "ran",
    "not-applicable": "not applicable",
    "skipped": "could not examine",
    "unavailable": "unavailable",
    "error": "failed",
}


# ------------------------------------------------------------------ public API
def write_html(
    reports: Sequence[Analysis | Report],
    path: Path,
    no_pixels: bool = False,
    title: str | None = None,
    group_distance: int = NEAR_DUPLICATE_RADIUS,
) -> None:
    """Render ``reports`` to one self-contained HTML file at ``path`` (atomically)."""
    text = render_html(reports, no_pixels=no_pixels, title=title, group_distance=group_distance)
    write_atomic(path, text)


def render_html(
    reports: Sequence[Analysis | Report],
    no_pixels: bool = False,
    title: str | None = None,
    group_distance: int = NEAR_DUPLICATE_RADIUS,
) -> str:
    """The HTML page for ``reports``: a file page for one, a batch page for more.

    Pictures (thumbnails, artifacts) come only from :class:`~triage.pipeline.Analysis`
    items (``keep_artifacts``); a bare report is shown without them. Input files are
    never opened here.
    """
    analyses = [r if isinstance(r, Analysis) else Analysis(r) for r in reports]
    shown = [a.report for a in analyses]
    batch = len(shown) > 1
    width, quality = sizing_for(len(shown))

    def view(item: tuple[int, Analysis]) -> dict[str, Any]:
        return _file_view(item[0], item[1], no_pixels, width, quality)

    numbered = list(enumerate(analyses, start=1))
    workers = min(4, os.cpu_count() or 1)
    if len(shown) > 2 and workers > 1:
        from concurrent.futures import ThreadPoolExecutor

        # decoding and resizing release the GIL: threads give the cores real work
        with ThreadPoolExecutor(workers) as pool:
            files = list(pool.map(view, numbered))
    else:
        files = [view(item) for item in numbered]
    _apply_budget(files, IMAGE_BUDGET)
    if title is None:
        if len(shown) == 1:
            title = f"triage report: {Path(shown[0].file.path).name}"
        else:
            title = f"triage report: {len(shown)} files"
    rows = sorted(files, key=lambda f: (-f["attention"], f["index"]))
    failures = [f for f in files if f["errors"]]
    template = _environment().get_template("page.html")
    return template.render(
        title=title,
        csp=CSP,
        batch=batch,
        files=files,
        rows=rows,
        failures=failures,
        groups=_duplicate_view(shown, files, group_distance) if batch else [],
        questions=QUESTIONS,
        question_words=QUESTION_WORDS,
        bands=BANDS,
        band_words=BAND_WORDS,
        band_meaning=BAND_MEANING,
        no_pixels=no_pixels,
        generated=datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        tool_version=shown[0].tool.version if shown else "",
        radius=group_distance,
        style=_resource("style.css"),
        script=_resource("sort.js"),
    )


def sizing_for(n_files: int) -> tuple[int, int]:
    """(artifact width in px, JPEG quality) for a page of ``n_files`` files."""
    for limit, width, quality in SIZE_TIERS:
        if n_files <= limit:
            return width, quality
    return SIZE_TIERS[-1][1], SIZE_TIERS[-1][2]


def _apply_budget(files: list[dict[str, Any]], budget: int) -> None:
    """Leave out images once the page holds ``budget`` bytes of them: the files with
    the highest attention keep theirs longest; thumbnails go last."""

    def size(image: dict[str, Any] | None) -> int:
        return len(image["src"]) if image else 0

    ordered = sorted(files, key=lambda f: (-f["attention"], f["index"]))
    used = sum(size(f["thumb"]) + size(f["mini"]) for f in files)
    for f in reversed(ordered):  # only when thumbnails alone are too many
        if used <= budget:
            break
        if f["thumb"]:
            used -= size(f["thumb"])
            f["thumb"], f["thumb_dropped"] = None, True
    for f in ordered:
        for a in f["artifacts"]:
            if a["image"] is None:
                continue
            if used + size(a["image"]) > budget:
                a["image"], a["dropped"] = None, True
            else:
                used += size(a["image"])


# ------------------------------------------------------------------ one file
def _file_view(
    index: int, analysis: Analysis, no_pixels: bool, artifact_width: int, quality: int
) -> dict[str, Any]:
    report = analysis.report
    f = report.file
    anchor = f"file-{index}"
    pngs = analysis.artifacts
    artifacts: list[dict[str, Any]] = []
    thumb: dict[str, Any] | None = None
    why_not = ""  # why there is no thumbnail
    omitted = 0
    orientation = f.orientation if turns(f.orientation) else None
    # The maps of a still are drawn on its stored grid; a video's sheets come upright.
    map_turn = orientation if f.kind == "image" else None
    poster = analysis.thumbnail is not None  # a video's poster frame, when one decoded
    for i, ref in enumerate(report.artifacts):
        png = pngs[i] if i < len(pngs) else b""
        item: dict[str, Any] = {
            "title": ref.title,
            "kind": ref.kind,
            "analyzer": ref.analyzer,
            "path": ref.path,
            "image": None,
            "dropped": False,
        }
        if no_pixels and ref.contains_pixels:
            omitted += 1
            continue
        if png:
            turn = map_turn if ref.contains_pixels else None
            item["image"] = _embed_artifact(png, artifact_width, quality, turn)
        if (
            thumb is None
            and not poster
            and f.kind == "video"
            and png
            and _is_contact_sheet(ref.kind)
        ):
            # no poster frame decoded: the contact sheet, small (the sheet itself follows)
            small = _embed_artifact(png, THUMB_SIDE, 75)
            if small is not None:
                thumb = {**small, "caption": f"{ref.title} (small; full size beside)", "boxes": []}
        artifacts.append(item)
    if thumb is None and not no_pixels and f.kind in ("image", "video"):
        made = _thumbnail(analysis.thumbnail, report, orientation) if analysis.thumbnail else None
        if made is not None:
            thumb = {**made, "caption": _thumbnail_caption(orientation, f.kind)}
            boxes = f.kind == "image" and f.width and f.height
            thumb["boxes"] = _boxes(report, orientation) if boxes else []
        elif report.errors:
            why_not = "The picture could not be decoded."
        else:
            why_not = "No thumbnail was kept with this report."
    mini = _mini(thumb["src"]) if thumb else None
    questions = []
    for q in QUESTIONS:
        r = report.questions.get(q)
        if r is None:
            continue
        questions.append(
            {
                "key": q,
                "words": QUESTION_WORDS[q],
                "score": r.score,
                "low": r.interval[0],
                "high": r.interval[1],
                "band": r.band,
                "band_words": BAND_WORDS.get(r.band, r.band),
                "coverage": r.coverage,
                "prior": r.prior,
                "statement": r.statement,
                "bar": _bar(r.interval[0], r.score, r.interval[1]),
            }
        )
    gaps: list[dict[str, str]] = []
    for run in report.analyzers:
        if run.status in ("error", "skipped", "unavailable") and run.message:
            gaps.append(
                {"analyzer": run.name, "text": f"{STATUS_WORDS[run.status]}: {run.message}"}
            )
        gaps.extend({"analyzer": run.name, "text": nc} for nc in run.not_checked)
    top = _top_finding(report.findings)
    return {
        "index": index,
        "anchor": anchor,
        "path": f.path,
        "name": Path(f.path).name or f.path,
        "folder": _short_folder(f.path),
        "facts": _facts(report),
        "attention": report.attention,
        "questions": questions,
        "qmap": {q["key"]: q for q in questions},
        "findings": _findings_view(report.findings),
        "artifacts": artifacts,
        "omitted_artifacts": omitted,
        "thumb": thumb,
        "thumb_dropped": False,
        "mini": mini,
        "why_no_thumb": why_not,
        "gaps": gaps,
        "runs": [
            {
                "name": r.name,
                "version": r.version,
                "status": r.status,
                "status_words": STATUS_WORDS.get(r.status, r.status),
                "seconds": r.seconds,
                "message": r.message or "",
                "n_findings": sum(1 for x in report.findings if x.analyzer == r.name),
                "metrics": evidence_rows(r.metrics) if isinstance(r.metrics, dict) else [],
            }
            for r in report.analyzers
        ],
        "errors": [{"stage": e.stage, "message": e.message} for e in report.errors],
        "analyzed": f.sha256 is not None,
        "top": top,
        "kind": f.kind or "unknown",
        "seconds": report.seconds,
    }


def _short_folder(path: str) -> str:
    """The last two folders of a path, to tell apart files of the same name."""
    parts = Path(path).parent.parts
    if not parts or parts == (".",):
        return ""
    tail = "/".join(p for p in parts[-2:] if p != "/")
    return ("…/" if len(parts) > 2 else "") + tail


def _is_contact_sheet(kind: str) -> bool:
    return "contact" in kind or "sheet" in kind


def _facts(report: Report) -> list[tuple[str, str]]:
    f = report.file
    facts: list[tuple[str, str]] = [("path", f.path)]
    if f.format:
        facts.append(("format", f"{f.format} ({f.kind})" if f.kind else f.format))
    if f.extension:
        facts.append(("extension", f.extension))
    if f.width and f.height:
        facts.append(("size", f"{f.width} × {f.height} px ({f.width * f.height / 1e6:.1f} MP)"))
    if f.duration:
        facts.append(("duration", f"{f.duration:.2f} s"))
    if f.frames:
        facts.append(("frames", f"{f.frames} (only the first was examined)"))
    if turns(f.orientation) and f.orientation is not None:
        facts.append(
            (
                "orientation",
                f"{'display matrix' if f.kind == 'video' else f'EXIF {f.orientation}'}: "
                f"viewers show it {ORIENTATION_WORDS[f.orientation]}; the analyzers read it "
                "as stored",
            )
        )
    if f.bytes is not None:
        facts.append(("bytes", f"{f.bytes:,}"))
    if f.sha256:
        facts.append(("sha256", f.sha256))
    if f.mtime:
        when = datetime.fromtimestamp(f.mtime, UTC).replace(microsecond=0)
        facts.append(("modified", when.isoformat().replace("+00:00", "Z")))
    from triage.render.credstate import credential_state

    state = credential_state(report)
    if state:
        facts.append(("content credentials", state))
    facts.append(("analyzed", f"{report.analyzed_at} in {report.seconds:.2f} s"))
    facts.append(("attention", f"{report.attention:.2f} (orders a batch; not a verdict)"))
    return facts


def _bar(low: float, point: float, high: float) -> dict[str, float]:
    """Geometry (in a 0..100 viewBox) of an interval bar."""

    def pct(v: float) -> float:
        return round(min(max(float(v), 0.0), 1.0) * 100, 2)

    lo, hi = pct(min(low, high)), pct(max(low, high))
    width = max(hi - lo, 0.8)  # a very tight interval stays visible
    return {"x": min(lo, 100 - width), "w": round(width, 2), "p": pct(point)}


def _top_finding(findings: list[Finding]) -> dict[str, Any] | None:
    positive = [x for x in findings if x.llr > 0]
    if not positive:
        return None
    top = max(positive, key=lambda x: x.llr)
    return {"title": top.title, "question": top.question, "llr": top.llr, "id": top.id}


def _findings_view(findings: list[Finding]) -> list[dict[str, Any]]:
    groups: dict[str, list[Finding]] = {}
    for x in findings:
        groups.setdefault(x.analyzer, []).append(x)
    out = []
    for name, items in sorted(groups.items(), key=lambda g: -max(abs(x.llr) for x in g[1])):
        out.append(
            {
                "analyzer": name,
                "findings": [
                    {
                        "id": x.id,
                        "question": x.question,
                        "title": x.title,
                        "detail": x.detail,
                        "llr": x.llr,
                        "lo": x.llr_range[0],
                        "hi": x.llr_range[1],
                        "direction": "for"
                        if x.llr > 0
                        else ("against" if x.llr < 0 else "neutral"),
                        "evidence": evidence_rows(x.evidence),
                    }
                    for x in sorted(items, key=lambda x: -abs(x.llr))
                ],
            }
        )
    return out


def evidence_rows(evidence: dict[str, Any]) -> list[dict[str, Any]]:
    """Evidence as (key, text, preformatted) rows: scalars and short lists inline,
    nested structures as indented JSON, everything cut at EVIDENCE_MAX_CHARS."""
    rows = []
    for key, value in evidence.items():
        pre = False
        if isinstance(value, bool) or value is None:
            text = json.dumps(value)
        elif isinstance(value, float):
            text = _num(value)
        elif isinstance(value, int | str):
            text = str(value)
        elif isinstance(value, list | tuple) and all(
            isinstance(v, int | float | str | bool) or v is None for v in value
        ):
            shown = [_num(v) if isinstance(v, float) else str(v) for v in value[:24]]
            text = ", ".join(shown)
            if len(value) > 24:
                text += f", … ({len(value) - 24} more)"
            text = f"[{text}]"
        elif isinstance(value, list | tuple) and all(
            len(json.dumps(_rounded(v), ensure_ascii=False, default=str)) <= 120 for v in value[:24]
        ):
            # e.g. boxes or cuts: one compact line per item
            lines = [json.dumps(_rounded(v), ensure_ascii=False, default=str) for v in value[:24]]
            if len(value) > 24:
                lines.append(f"… ({len(value) - 24} more)")
            text, pre = "\n".join(lines), True
        else:
            text, pre = _pretty(_rounded(value)), True
        if len(text) > EVIDENCE_MAX_CHARS:
            text = text[:EVIDENCE_MAX_CHARS] + " … (cut; the JSON report has it whole)"
        rows.append({"key": str(key), "text": text, "pre": pre})
    return rows


def _pretty(value: Any, level: int = 0, width: int = 90) -> str:
    """JSON, indented only where a one-line form would be longer than ``width``."""
    flat = json.dumps(value, ensure_ascii=False, default=str)
    if len(flat) + 2 * level <= width or not isinstance(value, dict | list) or not value:
        return flat
    pad = "  " * (level + 1)
    if isinstance(value, dict):
        inner = [
            f"{pad}{json.dumps(str(k), ensure_ascii=False)}: {_pretty(v, level + 1, width)}"
            for k, v in value.items()
        ]
        return "{\n" + ",\n".join(inner) + "\n" + "  " * level + "}"
    inner = [pad + _pretty(v, level + 1, width) for v in value]
    return "[\n" + ",\n".join(inner) + "\n" + "  " * level + "]"


def _num(v: float) -> str:
    if not math.isfinite(v):
        return str(v)
    if v == 0 or 1e-3 <= abs(v) < 1e6:
        return f"{v:.4g}" if abs(v) < 1 else f"{v:,.4g}".replace(",", "")
    return f"{v:.3e}"


def _rounded(value: Any, depth: int = 0) -> Any:
    """Floats to 4 significant digits; long lists and deep nesting trimmed (cheap to dump)."""
    if depth > 6:
        return "…"
    if isinstance(value, float):
        return float(_num(value)) if math.isfinite(value) else str(value)
    if isinstance(value, list | tuple):
        items = [_rounded(v, depth + 1) for v in value[:EVIDENCE_MAX_ITEMS]]
        if len(value) > EVIDENCE_MAX_ITEMS:
            items.append(f"… ({len(value) - EVIDENCE_MAX_ITEMS} more)")
        return items
    if isinstance(value, dict):
        keys = list(value)[:EVIDENCE_MAX_ITEMS]
        out = {str(k): _rounded(value[k], depth + 1) for k in keys}
        if len(value) > EVIDENCE_MAX_ITEMS:
            out["…"] = f"{len(value) - EVIDENCE_MAX_ITEMS} more keys"
        return out
    return value


def _thumbnail_caption(orientation: int | None, kind: str | None) -> str:
    if kind == "video":
        what = "The video's first frame that is not dark"
        if orientation is None:
            return what
        return (
            f"{what}, shown upright as players show it ({ORIENTATION_WORDS[orientation]}, its "
            "display matrix), as are the frames beside it; the analyzers read the frames as "
            "stored, and the coordinates in the JSON report are in that grid"
        )
    if orientation is None:
        return "The file as analyzed"
    return (
        f"The file as analyzed, shown upright as viewers show it ({ORIENTATION_WORDS[orientation]}"
        f", EXIF orientation {orientation}), and so are the maps beside it; the analyzers "
        "read the pixels as stored, and the coordinates in the JSON report are in that grid"
    )


def _boxes(report: Report, orientation: int | None = None) -> list[dict[str, Any]]:
    """Regions named by findings (``evidence["boxes"]``), in the coordinates of the
    thumbnail's full-size picture: the stored grid, turned upright for ``orientation``."""
    w, h = report.file.width or 0, report.file.height or 0
    out: list[dict[str, Any]] = []
    for x in report.findings:
        boxes = x.evidence.get("boxes") if isinstance(x.evidence, dict) else None
        if not isinstance(boxes, list):
            continue
        for box in boxes[:20]:
            try:
                x0, y0, x1, y1 = (float(v) for v in box)
            except (TypeError, ValueError):
                continue
            x0, x1 = sorted((min(max(x0, 0), w), min(max(x1, 0), w)))
            y0, y1 = sorted((min(max(y0, 0), h), min(max(y1, 0), h)))
            if x1 - x0 < 1 or y1 - y0 < 1:
                continue
            x0, y0, x1, y1 = upright_box((x0, y0, x1, y1), w, h, orientation)
            out.append({"x": x0, "y": y0, "w": x1 - x0, "h": y1 - y0, "label": x.title, "id": x.id})
    return out[:40]


# ------------------------------------------------------------------ pixels
def _thumbnail(jpeg: bytes, report: Report, orientation: int | None) -> dict[str, Any] | None:
    """The thumbnail the pipeline kept (a small JPEG of the analyzed picture), turned
    upright for ``orientation``."""
    try:
        from PIL import Image

        with Image.open(io.BytesIO(jpeg)) as img:
            if orientation is not None:
                import numpy as np

                turned = upright_pixels(np.asarray(img.convert("RGB")), orientation)
                buf = io.BytesIO()
                Image.fromarray(np.ascontiguousarray(turned)).save(buf, "JPEG", quality=85)
                jpeg = buf.getvalue()
                w, h = turned.shape[1], turned.shape[0]
            else:
                w, h = img.size
    except Exception:
        return None
    orig_w, orig_h = upright_size(report.file.width or w, report.file.height or h, orientation)
    return {
        "src": _data_uri(jpeg, "image/jpeg"),
        "width": w,
        "height": h,
        "orig_w": orig_w,
        "orig_h": orig_h,
    }


def _embed_artifact(
    png: bytes, max_width: int, quality: int = 82, orientation: int | None = None
) -> dict[str, Any] | None:
    """An artifact as a data URI, at most ``max_width`` wide, turned upright for
    ``orientation`` (a map drawn on the stored grid).

    Flat charts stay PNG (sharp text); photographic maps become JPEG when that is
    much smaller. Decoded with OpenCV, which is faster than Pillow on the large
    PNGs analyzers produce and releases the GIL.
    """
    try:
        import cv2
        import numpy as np

        arr = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_UNCHANGED)
        if arr is None or arr.size == 0:
            return None
        if arr.dtype != np.uint8:
            top = max(float(np.nanmax(arr)), 1.0)
            arr = (np.nan_to_num(arr.astype(np.float64)).clip(0, top) * (255.0 / top)).astype(
                np.uint8
            )
        if arr.ndim == 3 and arr.shape[2] == 4:  # BGRA over white
            alpha = arr[..., 3:].astype(np.float32) / 255.0
            arr = (arr[..., :3] * alpha + 255.0 * (1.0 - alpha)).astype(np.uint8)
        if orientation is not None:
            arr = np.ascontiguousarray(upright_pixels(arr, orientation))
        h, w = arr.shape[:2]
        if w > max_width:
            size = (max_width, max(1, round(h * max_width / w)))
            arr = cv2.resize(arr, size, interpolation=cv2.INTER_AREA)
        out_h, out_w = arr.shape[:2]
        if (out_w, out_h) == (w, h) and orientation is None:
            data = png  # not resized or turned: the analyzer's own PNG
        else:
            ok, enc = cv2.imencode(".png", arr, [cv2.IMWRITE_PNG_COMPRESSION, 6])
            if not ok:
                return None
            data = enc.tobytes()
        media = "image/png"
        if len(data) > ARTIFACT_SMALL_BYTES:
            ok, jpg = cv2.imencode(".jpg", arr, [cv2.IMWRITE_JPEG_QUALITY, quality])
            if ok and (len(jpg) * 2 < len(data) or len(data) > ARTIFACT_MAX_BYTES):
                data, media = jpg.tobytes(), "image/jpeg"
        return {"src": _data_uri(data, media), "width": out_w, "height": out_h}
    except Exception:
        return None


def _mini(src: str, side: int = MINI_SIDE) -> dict[str, Any] | None:
    """A tiny JPEG made from an embedded thumbnail (near-duplicate groups)."""
    try:
        from PIL import Image

        raw = base64.b64decode(src.split(",", 1)[1])
        with Image.open(io.BytesIO(raw)) as img:
            small = img.convert("RGB")
        small.thumbnail((side, side), Image.Resampling.LANCZOS)
        buf = io.BytesIO()
        small.save(buf, "JPEG", quality=75)
        return {
            "src": _data_uri(buf.getvalue(), "image/jpeg"),
            "width": small.width,
            "height": small.height,
        }
    except Exception:
        return None


def _data_uri(data: bytes, media_type: str) -> str:
    return f"data:{media_type};base64,{base64.b64encode(data).decode('ascii')}"


# ------------------------------------------------------------------ batch
def _duplicate_view(
    reports: Sequence[Report], files: list[dict[str, Any]], radius: int = NEAR_DUPLICATE_RADIUS
) -> list[dict[str, Any]]:
    from triage.scan.summary import report_groups, report_phash

    out = []
    for group in report_groups(reports, radius):
        first = reports[group[0]]
        h0 = report_phash(first)
        members = []
        for i in group:
            r = reports[i]
            h = report_phash(r)
            if i != group[0] and r.file.sha256 and r.file.sha256 == first.file.sha256:
                relation = "identical bytes"
            elif i != group[0] and h and h0 and len(h) == len(h0):
                relation = f"pHash distance {(int(h, 16) ^ int(h0, 16)).bit_count()}"
            elif i != group[0]:
                relation = "linked through another member"
            else:
                relation = "first in group"
            members.append({"file": files[i], "relation": relation, "phash": h or ""})
        out.append({"members": members})
    return out


# ------------------------------------------------------------------ plumbing
def _environment():  # type: ignore[no-untyped-def]
    from jinja2 import Environment, PackageLoader, StrictUndefined

    env = Environment(
        loader=PackageLoader("triage.render", "templates"),
        autoescape=True,  # every file name, tag and text is untrusted
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["f2"] = lambda v: f"{float(v):.2f}"
    env.filters["pct"] = lambda v: f"{float(v):.0%}"
    env.filters["signed"] = lambda v: f"{float(v):+.2f}"
    return env


def _resource(name: str) -> Any:
    """Static CSS/JS shipped beside the templates, inserted verbatim (our own text)."""
    from importlib import resources

    from markupsafe import Markup

    text = resources.files("triage.render").joinpath("templates", name).read_text("utf-8")
    return Markup(text)
