"""Compression analyzer: what JPEG compression left behind.

JPEG files: marker structure and encoder fingerprint, quantization-table quality,
"camera named in EXIF but a generic library's tables", aligned double compression
(with the primary quality), non-aligned double compression (a crop on a shifted
grid), and localized evidence: error-level outliers, JPEG ghosts and regions
carrying a shifted 8x8 grid. Other formats (PNG, WebP, TIFF...): whether the
pixels carry an earlier JPEG compression (hidden history), and if they do, the
same localized checks against that earlier compression.

Re-encoding is processing, not proof of editing: the global findings carry small
log-odds fitted in the calibration file. The pure functions
live in :mod:`triage.forensics.jpeg`, :mod:`triage.forensics.dct` and
:mod:`triage.forensics.ela`; docs/analyzers/compression.md is the card.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from triage.analyzers.base import Analyzer, AnalyzerResult, Artifact, Context, RawFinding
from triage.report import Question

if TYPE_CHECKING:
    import numpy as np

    from triage.forensics.jpeg import JpegInfo
    from triage.media import Media

MIN_SIDE = 64
TERMS = 21  # zig-zag DCT terms kept per block (DC + 20 AC carry the evidence)
# Thresholds measured on fixtures/compression and scenes (see the card).
DOUBLE_RATIO = 0.85  # best double model / single model distance (singles >= 1.0)
DOUBLE_RATIO_SPARSE = 0.3  # the same when < SPARSE of the AC terms are non-zero
SPARSE = 0.2
MIN_SCALE_GAP = 1.25  # primary and current IJG table scales must differ by this factor
NONALIGNED_FIT = 0.25  # integer periodicity on the best shifted grid
ELA_Z = 4.0  # lossless file with a known earlier quality (confirmed by lattice)
ELA_Z_JPEG = 6.0  # JPEG: error levels vary more with content there, so stricter
GHOST_Z = 4.0
GHOST_LATTICE = 0.2  # region's table fit minus the rest's, at the ghost quality
# ... and at the earlier quality for an error-level region (text with clipped
# strokes in a re-saved image measured down to -0.45; pastes -0.56 to -0.69).
ELA_LATTICE = -0.5
GRID_FIT = 0.35  # integer periodicity of a region on its own (shifted) grid phase
ELA_QUALITY_DEFAULT = 90


class CompressionAnalyzer(Analyzer):
    name: ClassVar[str] = "compression"
    finding_ids = (
        "compression.generic_resave",
        "compression.double_compressed",
        "compression.nonaligned_double",
        "compression.previously_compressed",
        "compression.ela_region",
        "compression.ghost_region",
        "compression.grid_shift_region",
    )
    version: ClassVar[str] = "1.3"
    questions: ClassVar[tuple[Question, ...]] = ("manipulation",)
    kinds: ClassVar[tuple[str, ...]] = ("image",)
    formats = None
    description: ClassVar[str] = (
        "JPEG structure and quantization tables, double compression, error levels, "
        "JPEG ghosts and block-grid alignment; hidden JPEG history in lossless files."
    )

    def run(self, media: Media, ctx: Context) -> AnalyzerResult:
        res = AnalyzerResult()
        w, h = media.width or 0, media.height or 0
        if min(w, h) < MIN_SIDE:
            res.skipped_reason = f"image too small ({w}x{h}) for 8x8 block statistics"
            return res
        if media.format == "jpeg":
            self._run_jpeg(media, ctx, res)
        else:
            self._run_other(media, ctx, res)
        return res

    # ------------------------------------------------------------------ JPEG
    def _run_jpeg(self, media: Media, ctx: Context, res: AnalyzerResult) -> None:
        from triage.forensics import encoders
        from triage.forensics.dct import double_compression, phase_scan
        from triage.forensics.jpeg import JpegError, fingerprint, parse_jpeg

        try:
            info = parse_jpeg(media.data)
        except JpegError as exc:  # sniffed as JPEG, so this is unlikely
            res.not_checked.append(f"JPEG structure: {exc}")
            info = None
        fp: dict[str, Any] = fingerprint(info) if info else {}
        known = encoders.match(info) if info else {"libraries": [], "cameras": []}
        res.metrics["fingerprint"] = fp
        res.metrics["known_encoders"] = known
        if info and info.warnings:
            res.metrics["structure_warnings"] = info.warnings[:5]

        make, model = _exif_camera(media)
        if info:
            self._check_resave(info, fp, known, make, model, res)

        clock = _Clock(res)
        gray = media.luma
        clock.lap("decode")
        stride = _block_stride(gray)
        coeffs = media.block_dct(terms=TERMS, row_step=stride, col_step=stride)
        clock.lap("block_dct")
        q2 = info.luma_table() if info else None
        quality = fp["quant_tables"][0]["quality"] if fp.get("quant_tables") else None
        res.metrics["quality"] = quality
        lossy_ok = bool(info and info.frame and info.frame.kind in _DCT_KINDS and q2)
        components = len(info.frame.components) if info and info.frame else 0
        if lossy_ok and components not in (1, 3):
            lossy_ok = False
            res.not_checked.append(
                f"double compression, ghosts and error levels: a {components}-component "
                "(CMYK/YCCK) JPEG has no luma plane to compare with the decoded pixels"
            )
        elif not lossy_ok:
            res.not_checked.append(
                "double compression, ghosts and error levels: no usable DCT quantization table"
            )
        if not lossy_ok:
            res.examined["manipulation"] = 0.4
            return
        assert q2 is not None

        # Aligned double compression on a subsample of block rows.
        nblocks = coeffs.shape[1] * coeffs.shape[2]
        step = max(1, nblocks // 12_000)
        cal = media.block_dct(4, 4, row_step=step * stride, col_step=stride, terms=13)
        dc = double_compression(coeffs[:, ::step], cal, q2)
        clock.lap("double_compression")
        res.metrics["double_compression"] = dc
        # On sparse (smooth or coarsely quantized) content the 4-pixel calibration
        # itself is off by ratios down to ~0.45: demand a much clearer fit there.
        limit = DOUBLE_RATIO if dc.get("nonzero_fraction", 0.0) >= SPARSE else DOUBLE_RATIO_SPARSE
        if (
            dc.get("ratio") is not None
            and dc["ratio"] < limit
            and dc["primary_quality"] < 100
            # A "primary" whose tables are within ~25% of the current ones is what
            # the calibration's own error looks like.
            and _scale_gap(dc["primary_quality"], quality) >= MIN_SCALE_GAP
        ):
            strength = min(1.5, 0.5 + (limit - dc["ratio"]) * 2.0)
            pq = dc["primary_quality"]
            res.findings.append(
                RawFinding(
                    id="compression.double_compressed",
                    question="manipulation",
                    title="Compressed twice (aligned double JPEG)",
                    detail=(
                        f"The DCT coefficient histograms show the periodic gaps and peaks of a "
                        f"second quantization: the file is at quality ~{quality}, an earlier "
                        f"compression was at about quality {pq}. Re-saving (editing, messaging "
                        "apps, platforms) causes this; it is processing, not proof of editing."
                    ),
                    evidence={
                        "current_quality": quality,
                        "primary_quality": pq,
                        "model_ratio": dc["ratio"],
                    },
                    strength=round(strength, 3),
                )
            )

        # Non-aligned double compression: an earlier grid at another phase.
        scan = phase_scan(gray, interior_only=True)
        self._check_nonaligned(scan, quality, res)
        clock.lap("phase_scan")

        # Localized: error levels and ghosts against the current grid.
        ela_q = ELA_QUALITY_DEFAULT if (quality or 100) <= 85 else 75
        ghost_qs = [q for q in range(40, 100, 10) if quality is None or q <= quality - 5]
        # Error levels of a JPEG are judged against its earlier compression: a region
        # that lacks the primary quantization the rest carries. Without a detected
        # primary quality only the map is produced (as an artifact), no finding.
        primary = (
            dc.get("primary_quality")
            if res.findings and any(f.id == "compression.double_compressed" for f in res.findings)
            else None
        )
        if primary is not None:
            ela_q = int(primary)  # re-save where the rest of the image changes least
        if _graphic(media, res):
            res.examined["manipulation"] = 0.6
            return
        self._localize(media, ctx, coeffs, (0, 0), ela_q, ghost_qs, res, primary, stride, jpeg=True)
        clock.lap("ela_ghosts")
        self._local_grid(media, gray, (0, 0), True, res)
        clock.lap("local_grid")
        res.examined["manipulation"] = 1.0

    def _check_resave(
        self,
        info: JpegInfo,
        fp: dict[str, Any],
        known: dict[str, Any],
        make: str,
        model: str,
        res: AnalyzerResult,
    ) -> None:
        if not (make or model) or not fp.get("quant_tables"):
            return
        standard = all(t["standard"] for t in fp["quant_tables"])
        first_app = info.apps[0][1] if info.apps else None
        same_camera = any(
            c["make"].lower() == make.lower() and c["model"].lower() == model.lower()
            for c in known["cameras"]
        )
        if same_camera:
            res.metrics["camera_tables"] = "match the measured tables of this camera model"
            return
        # Cameras write EXIF in APP1 right after SOI (Exif 2.3, 4.5.4); libraries
        # write a JFIF APP0 first. Generic IJG-scaled tables plus a JFIF-first
        # layout is what a library re-save of a camera file looks like.
        if standard and first_app == "JFIF":
            q = fp["quant_tables"][0]["quality"]
            libs = sorted({lib["encoder"] for lib in known["libraries"]})
            res.findings.append(
                RawFinding(
                    id="compression.generic_resave",
                    question="manipulation",
                    title="Re-encoded after capture by a generic JPEG library",
                    detail=(
                        f"EXIF names a camera ({make} {model}".strip()
                        + f") but the quantization tables are the standard IJG tables at "
                        f"quality {q} and the file starts with a JFIF segment, the layout of "
                        "a library re-save (editor, converter, resizer). Re-encoding is "
                        "processing, not proof of editing."
                    ),
                    evidence={
                        "make": make,
                        "model": model,
                        "quality": q,
                        "huffman": fp["huffman"],
                        "subsampling": fp["subsampling"],
                        "first_app_segment": first_app,
                        "matching_libraries": libs,
                    },
                )
            )

    def _check_nonaligned(self, scan: np.ndarray, quality: int | None, res: AnalyzerResult) -> None:
        import numpy as np

        inner = scan[1:, 1:]
        iy, ix = np.unravel_index(int(inner.argmax()), inner.shape)
        best = float(inner.max())
        med = float(np.median(inner))
        res.metrics["grid_scan"] = {
            "best_shifted_phase": [int(iy) + 1, int(ix) + 1],
            "best_shifted_fit": round(best, 3),
            "median_fit": round(med, 3),
        }
        measurable = int((inner > 0).sum())  # phases with enough texture to measure
        res.metrics["grid_scan"]["measurable_phases"] = measurable
        if best >= NONALIGNED_FIT and best >= 3.0 * med and measurable >= inner.size // 2:
            res.findings.append(
                RawFinding(
                    id="compression.nonaligned_double",
                    question="manipulation",
                    title="Earlier compression on a shifted 8x8 grid",
                    detail=(
                        f"Besides its own grid, the image carries JPEG quantization on a grid "
                        f"shifted by ({int(iy) + 1}, {int(ix) + 1}) pixels (rows, columns): it "
                        "was compressed, then cropped or shifted, then compressed again. "
                        "Cropping a photo before re-saving does this innocently."
                    ),
                    evidence={"shift": [int(iy) + 1, int(ix) + 1], "fit": round(best, 3)},
                    strength=round(min(1.5, 0.5 + best), 3),
                )
            )

    # ------------------------------------------------------------- non-JPEG
    def _run_other(self, media: Media, ctx: Context, res: AnalyzerResult) -> None:
        import numpy as np

        from triage.analyzers.common import phase_scan_of
        from triage.forensics.dct import earlier_grid, prior_quality

        gray = media.luma
        scan = phase_scan_of(media)
        dy, dx = (int(v) for v in np.unravel_index(int(scan.argmax()), scan.shape))
        best = float(scan.max())
        med = float(np.median(scan))
        res.metrics["grid_scan"] = {
            "best_phase": [dy, dx],
            "best_fit": round(best, 3),
            "median_fit": round(med, 3),
        }
        res.not_checked.append(
            f"JPEG structure, quantization tables and encoder fingerprint: the file is "
            f"{media.format.upper()}, not JPEG"
        )
        measurable = int((scan > 0).sum())
        res.metrics["grid_scan"]["measurable_phases"] = measurable
        if earlier_grid(scan) is None:
            res.not_checked.append(
                "double compression, error levels and ghosts: no trace of earlier JPEG "
                "compression in the pixels"
            )
            # A JPEG fragment in an otherwise lossless picture still shows its grid.
            if not _graphic(media, res):
                self._local_grid(media, gray, None, False, res)
            res.examined["manipulation"] = 0.3
            return
        stride = _block_stride(gray)
        coeffs = media.block_dct(dy, dx, terms=TERMS, row_step=stride, col_step=stride)
        pq = prior_quality(coeffs)
        res.metrics["prior_quality"] = pq
        quality = pq["quality"]
        res.findings.append(
            RawFinding(
                id="compression.previously_compressed",
                question="manipulation",
                title=f"{media.format.upper()} that was a JPEG before",
                detail=(
                    f"The pixels carry 8x8 JPEG quantization (grid offset {dy},{dx}"
                    + (f", quality about {quality}" if quality else ", non-standard tables")
                    + f"): the image was JPEG-compressed, then stored as "
                    f"{media.format.upper()}, which hides its compression history. "
                    "Screenshots and format converters do this innocently."
                ),
                evidence={"grid_offset": [dy, dx], "fit": round(best, 3), "quality": quality},
            )
        )
        ela_q = quality or ELA_QUALITY_DEFAULT
        ghost_qs = [q for q in range(40, 100, 10) if quality is None or abs(q - quality) >= 5]
        if not _graphic(media, res):
            self._localize(media, ctx, coeffs, (dy, dx), ela_q, ghost_qs, res, quality, stride)
            self._local_grid(media, gray, (dy, dx), False, res)
        res.examined["manipulation"] = 0.6

    # ------------------------------------------------------------ localized
    def _localize(
        self,
        media: Media,
        ctx: Context,
        coeffs: np.ndarray,
        origin: tuple[int, int],
        ela_q: int,
        ghost_qs: list[int],
        res: AnalyzerResult,
        history_quality: int | None = None,
        stride: int = 1,
        jpeg: bool = False,
    ) -> None:
        """Error-level outliers (high) and ghost minima (low), each confirmed.

        A ghost region must also sit on the lattice of the ghost quality's table
        clearly more than the rest of the image does; an error-level region of a
        file with a known earlier quality must sit on that lattice clearly less.
        Content alone (foliage, flat sky, text) passes neither test.
        """
        from triage.forensics.ela import (
            heatmap,
            low_terms,
            normalized_error,
            outlier_regions,
            texture_map,
        )

        low = low_terms(coeffs)
        texture = texture_map(low)
        informative = float((texture >= 60.0).mean()) if texture.size else 0.0
        res.metrics["informative_blocks"] = round(informative, 3)
        if informative < 0.1:
            res.not_checked.append("error levels and ghosts: the image is too flat")
            return
        ela = normalized_error(low, ela_q, texture)
        z_ela = ELA_Z_JPEG if jpeg else ELA_Z
        cell = 8 * stride
        regions, _ = outlier_regions(ela, +1, origin, z_threshold=z_ela, block=cell)
        res.metrics["ela_quality"] = ela_q
        if history_quality:
            regions = [
                r
                for r in regions
                if _lattice_contrast(coeffs, r.cells, history_quality) <= ELA_LATTICE
            ]
        else:
            regions = []
        if regions:
            res.findings.append(_region_finding("compression.ela_region", regions, ela_q, "ela"))
        best: tuple[float, int, list[Any], Any] | None = None
        checked: dict[str, Any] = {}

        def ghost_at(q: int) -> None:
            nonlocal best
            g = normalized_error(low, q, texture)
            regs, _ = outlier_regions(g, -1, origin, z_threshold=GHOST_Z, block=cell)
            confirmed = []
            for r in regs[:3]:
                contrast = _lattice_contrast(coeffs, r.cells, q)
                checked[f"q{q}"] = round(contrast, 3)
                if contrast >= GHOST_LATTICE:
                    confirmed.append(r)
            if confirmed:
                score = confirmed[0].score * confirmed[0].blocks
                if best is None or score > best[0]:
                    best = (score, q, confirmed, g)

        # Coarse qualities first, then refine around the best one.
        for q in ghost_qs:
            ghost_at(q)
        if best is not None:
            coarse = best[1]
            for q in (coarse - 5, coarse + 5):
                if q not in ghost_qs and 20 <= q <= max(ghost_qs):
                    ghost_at(q)
        res.metrics["ghost_qualities"] = ghost_qs
        if checked:
            res.metrics["ghost_candidates_lattice_contrast"] = checked
        if best is not None:
            res.findings.append(
                _region_finding("compression.ghost_region", best[2], best[1], "ghost")
            )
        if ctx.want_artifacts:
            shape = (media.height or 0, media.width or 0)
            res.artifacts.append(
                Artifact(
                    "ela_map",
                    f"Error levels (re-save at quality {ela_q}; bright = more change)",
                    ctx.png(heatmap(ela, shape, origin, cell)),
                )
            )
            if best is not None:
                res.artifacts.append(
                    Artifact(
                        "ghost_map",
                        f"JPEG ghost at quality {best[1]} (dark = low error)",
                        ctx.png(heatmap(best[3], shape, origin, cell)),
                    )
                )

    def _local_grid(
        self,
        media: Media,
        gray: np.ndarray,
        origin: tuple[int, int] | None,
        exclude_aligned: bool,
        res: AnalyzerResult,
    ) -> None:
        """Regions whose blocking grid sits at another phase than the image's,
        confirmed by integer periodicity of their DCT on that phase.

        In a screenshot or a meme (:func:`triage.analyzers.common.framed_photo`) only
        the photo is read, and its own dominant grid counts as the image's too: a
        photo pasted into a frame carries the grid of its earlier JPEG, at whatever
        offset it was pasted, and that says nothing about whether it was edited. The
        box's corner lies on the 8-pixel grid, so phases are unchanged by the crop.
        """
        import dataclasses

        import numpy as np

        from triage.analyzers.common import framed_photo
        from triage.forensics.dct import block_dct, integer_periodicity, local_grid
        from triage.forensics.ela import outlier_regions

        tile = 32
        refs = [(0, 0)] if exclude_aligned else ([] if origin is None else [origin])
        box = framed_photo(media, MIN_SIDE)
        ox, oy = (0, 0) if box is None else (box[0], box[1])
        if box is not None:
            gray = gray[oy : box[3], ox : box[2]]
        lg = local_grid(gray, tile=tile, exclude_aligned=exclude_aligned)
        if lg["strength"].size < 16:
            return
        strong = lg["strength"] >= 0.25
        if box is not None:
            res.metrics["framed_photo"] = list(box)
            res.not_checked.append(
                f"shifted block grids: looked for only inside the photo at {list(box)}, "
                "set in a flat surround, against the photo's own grid"
            )
            if strong.any():
                phases = lg["phase_y"][strong] * 8 + lg["phase_x"][strong]
                own = int(np.bincount(phases, minlength=64).argmax())
                if (own // 8, own % 8) not in refs:
                    refs.append((own // 8, own % 8))
        other = np.ones(lg["strength"].shape, bool)
        for ry, rx in refs:
            other &= (lg["phase_y"] != ry) | (lg["phase_x"] != rx)
        m = np.where(other & strong, lg["strength"], 0.0).astype(np.float32)
        regions, _ = outlier_regions(
            m, +1, (0, 0), z_threshold=5.0, min_blocks=4, block=tile, smooth=False
        )
        confirmed = []
        for r in regions[:3]:
            r0, c0, r1, c1 = r.cells
            py = lg["phase_y"][r0:r1, c0:c1].ravel()
            px = lg["phase_x"][r0:r1, c0:c1].ravel()
            dy = int(np.bincount(py, minlength=8).argmax())
            dx = int(np.bincount(px, minlength=8).argmax())
            if any(dy == ry or dx == rx for ry, rx in refs):
                continue  # shares rows or columns with the image's own grid
            x0, y0, x1, y1 = r.box
            patch = gray[y0:y1, x0:x1]
            fit = integer_periodicity(block_dct(patch, (dy - y0) % 8, (dx - x0) % 8, terms=11))
            control = integer_periodicity(
                block_dct(patch, (dy - y0 + 4) % 8, (dx - x0 + 4) % 8, terms=11)
            )
            # A control of 0 means its terms had too little spread to measure (flat,
            # heavily quantized content): the comparison then says nothing.
            if control > 0.0 and fit >= GRID_FIT and fit >= 2.5 * control:
                r = _grow(r, lg, dy, dx, tile)
                bx0, by0, bx1, by1 = r.box
                r = dataclasses.replace(r, box=(bx0 + ox, by0 + oy, bx1 + ox, by1 + oy))
                confirmed.append(r)
                res.metrics.setdefault("grid_regions", []).append(
                    {"box": list(r.box), "phase": [dy, dx], "fit": round(fit, 3)}
                )
        if confirmed:
            res.findings.append(
                _region_finding("compression.grid_shift_region", confirmed, None, "grid")
            )


def _grow(region: Any, lg: dict[str, np.ndarray], dy: int, dx: int, tile: int) -> Any:
    """Extend a confirmed grid region over touching tiles on the same phase."""
    import cv2
    import numpy as np

    from triage.forensics.ela import Region

    same = (lg["phase_y"] == dy) & (lg["phase_x"] == dx) & (lg["strength"] >= 0.2)
    r0, c0, r1, c1 = region.cells
    same[r0:r1, c0:c1] = True
    _, labels = cv2.connectedComponents(same.astype(np.uint8), connectivity=8)
    lab = labels[(r0 + r1) // 2, (c0 + c1) // 2]
    ys, xs = np.nonzero(labels == lab)
    cells = (int(ys.min()), int(xs.min()), int(ys.max()) + 1, int(xs.max()) + 1)
    if (cells[2] - cells[0]) * (cells[3] - cells[1]) > 0.5 * same.size:
        return region
    box = (cells[1] * tile, cells[0] * tile, cells[3] * tile, cells[2] * tile)
    n = int((labels == lab).sum())
    return Region(box, n, n / same.size, region.score, cells)


def _lattice_contrast(coeffs: np.ndarray, cells: tuple[int, int, int, int], quality: int) -> float:
    """Table fit inside a block region minus the fit in the rest of the image."""
    import numpy as np

    from triage.forensics.dct import table_fit

    r0, c0, r1, c1 = cells
    inside = table_fit(coeffs[:, r0:r1, c0:c1], quality)
    # The rest, on a regular subsample of at most ~20k blocks.
    step = max(1, int(np.sqrt(coeffs.shape[1] * coeffs.shape[2] / 20_000)))
    sub = coeffs[:, ::step, ::step]
    ys = np.arange(sub.shape[1])[:, None] * step
    xs = np.arange(sub.shape[2])[None, :] * step
    outside_mask = ~((ys >= r0) & (ys < r1) & (xs >= c0) & (xs < c1))
    outside = table_fit(sub[:, outside_mask], quality)
    if inside is None or outside is None:
        return 0.0
    return inside - outside


def _scale_gap(q1: int, q2: int | None) -> float:
    """Ratio (>= 1) of the IJG table scale factors of two qualities."""

    def scale(q: int) -> float:
        return max(5000.0 / q if q < 50 else 200.0 - 2.0 * q, 1.0)

    if q2 is None:
        return float("inf")
    a, b = scale(q1), scale(q2)
    return max(a, b) / min(a, b)


def _graphic(media: Media, res: AnalyzerResult) -> bool:
    """Whether the image is a graphic (a chart, a slide), whose flat colour and sharp
    edges the region checks (error levels, ghosts, local grids) read as anomalies;
    if so, say in ``res`` that they were not run."""
    from triage.analyzers.common import graphic_reason, graphic_share

    share = graphic_share(media)
    if share is None:
        return False
    res.metrics["graphic_share"] = round(share, 3)
    res.not_checked.append(graphic_reason(share, "error levels, ghosts and local grids"))
    return True


def _block_stride(gray: np.ndarray) -> int:
    """Every block up to ~4 MP; beyond, every other block row and column
    (:func:`triage.forensics.dct.map_stride`)."""
    from triage.forensics.dct import map_stride

    return map_stride(*gray.shape[:2])


class _Clock:
    """Stage timings (ms) into ``metrics["timings_ms"]`` (for bench/compression.py)."""

    def __init__(self, res: AnalyzerResult) -> None:
        import time

        self._now = time.perf_counter
        self._t = self._now()
        self._out: dict[str, float] = res.metrics.setdefault("timings_ms", {})

    def lap(self, name: str) -> None:
        t = self._now()
        self._out[name] = round((t - self._t) * 1000.0, 1)
        self._t = t


_DCT_KINDS = {"baseline", "extended-sequential", "progressive"}


def _region_finding(fid: str, regions: list[Any], quality: int | None, kind: str) -> RawFinding:
    top = regions[:3]
    area = sum(r.area_fraction for r in top)
    boxes = [list(r.box) for r in top]
    if kind == "ela":
        title = "Region with an outlying error level"
        detail = (
            f"Re-saving at quality {quality}, {len(top)} region(s) covering {area:.1%} of the "
            "image change much more than the rest (robust z-score over blocks): their "
            "compression history differs. Very different texture or sharpening can do "
            "this too."
        )
    elif kind == "ghost":
        title = "Region with a different compression history (JPEG ghost)"
        detail = (
            f"At quality {quality}, {len(top)} region(s) covering {area:.1%} of the image "
            "re-compress with much less error than the rest: they were compressed at about "
            "that quality before, the rest was not (Farid 2009)."
        )
    else:
        title = "Region on a shifted 8x8 block grid"
        detail = (
            f"{len(top)} region(s) covering {area:.1%} of the image show JPEG blocking on "
            "another grid phase than the rest: typical of a pasted JPEG fragment."
        )
    zs = max(r.score for r in top)
    strength = min(1.5, max(0.5, zs / 8.0))
    evidence: dict[str, Any] = {
        "boxes": boxes,
        "area_fraction": round(area, 4),
        "z": round(min(zs, 99.0), 2),
    }
    if quality is not None:
        evidence["quality"] = quality
    return RawFinding(fid, "manipulation", title, detail, evidence, round(strength, 3))


def _exif_camera(media: Media) -> tuple[str, str]:
    """EXIF Make and Model (0x010F, 0x0110), cheaply from the Pillow header."""
    try:
        exif = media.pil_header.getexif()
        make = str(exif.get(0x010F, "") or "")
        model = str(exif.get(0x0110, "") or "")
    except Exception:  # damaged EXIF is the metadata analyzer's business
        return "", ""
    return make.strip("\x00 ").strip()[:64], model.strip("\x00 ").strip()[:64]
