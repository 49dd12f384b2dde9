"""A picture stored sideways with an EXIF orientation tag (a phone's portrait photo):
the report names the tag, analyzers keep the stored grid, and the HTML report shows
the picture, its maps and its region boxes upright."""

from __future__ import annotations

import base64
import io
import re
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from triage.pipeline import Options, analyze_path_with_pictures
from triage.render.html import render_html
from triage.render.text import render_reports
from triage.render.upright import upright_box, upright_pixels, upright_size
from triage.report import ArtifactRef, Finding

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "fixtures"))
from generators.scenes import scene  # noqa: E402


def tagged(pixels: np.ndarray, orientation: int) -> Image.Image:
    image = Image.fromarray(pixels)
    exif = image.getexif()
    exif[0x0112] = orientation
    image.info["exif"] = exif.tobytes()
    return image


@pytest.mark.parametrize("orientation", range(1, 9))
def test_pixels_and_boxes_turn_as_pillow_turns_the_picture(orientation: int) -> None:
    h, w = 30, 50
    stored = np.zeros((h, w, 3), np.uint8)
    stored[5:12, 30:44] = 255
    stored[0, 0] = (255, 0, 0)  # tells every turn and mirror apart
    pillow = np.asarray(ImageOps.exif_transpose(tagged(stored, orientation)))
    mine = upright_pixels(stored, orientation)
    assert mine.shape == pillow.shape and (mine == pillow).all()
    ys, xs = np.nonzero(mine[..., 1])
    moved = (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
    assert upright_box((30, 5, 44, 12), w, h, orientation) == tuple(float(v) for v in moved)
    assert upright_size(w, h, orientation) == (mine.shape[1], mine.shape[0])


def embedded(html: str, alt: str) -> Image.Image:
    match = re.search(rf'<img src="data:image/\w+;base64,([^"]+)"[^>]*alt="{alt}"', html)
    assert match, alt
    return Image.open(io.BytesIO(base64.b64decode(match.group(1))))


def test_a_sideways_photo_is_named_and_shown_upright_with_its_boxes(tmp_path: Path) -> None:
    upright = scene(480, 320, 5)
    marker = (slice(40, 100), slice(300, 420))  # rows, columns of the upright picture
    upright[marker] = (255, 0, 255)
    # Stored turned 90 degrees anticlockwise; tag 6 tells viewers to turn it back.
    stored = np.ascontiguousarray(np.rot90(upright, 1))
    tagged(stored, 6).save(
        tmp_path / "portrait.jpg", quality=92, exif=tagged(stored, 6).info["exif"]
    )
    Image.fromarray(upright).save(tmp_path / "plain.jpg", quality=92)
    analysis = analyze_path_with_pictures(tmp_path / "portrait.jpg", Options(keep_artifacts=True))
    plain = analyze_path_with_pictures(tmp_path / "plain.jpg", Options(keep_artifacts=True))
    report = analysis.report
    assert report.file.orientation == 6 and (report.file.width, report.file.height) == (320, 480)
    assert report.model_dump(mode="json")["file"]["orientation"] == 6
    assert "orientation" not in plain.report.model_dump(mode="json")["file"]
    assert "viewers show it turned 90° clockwise" in render_reports([report], width=400)

    # The marker in the stored grid, as a finding would name it, and a map of the stored
    # grid with the marker's spot lit.
    ys, xs = np.nonzero((stored == (255, 0, 255)).all(axis=2))
    box = [int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1]
    report.findings.append(
        Finding(
            id="test.region",
            analyzer="zz_test",
            question="manipulation",
            llr=1.0,
            llr_range=(0.5, 1.5),
            title="The marker",
            detail="Injected by the test.",
            evidence={"boxes": [box]},
        )
    )
    lit = np.zeros(stored.shape[:2], np.uint8)
    lit[box[1] : box[3], box[0] : box[2]] = 255
    png = io.BytesIO()
    Image.fromarray(lit).save(png, "PNG")
    report.artifacts.append(ArtifactRef(kind="test_map", analyzer="zz_test", title="Lit map"))
    analysis.artifacts.append(png.getvalue())
    html = render_html([analysis, plain])

    thumb = embedded(html, "Thumbnail of portrait.jpg")
    assert thumb.width > thumb.height  # upright: landscape, as stored it is portrait
    svg = re.search(r'<svg class="boxes" viewBox="0 0 (\d+) (\d+)".*?</svg>', html, re.S)
    assert svg and svg.group(1, 2) == ("480", "320")
    rect = re.search(
        r'<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"[^>]*>'
        r"<title>The marker",
        svg.group(0),
    )
    assert rect and [round(float(v)) for v in rect.groups()] == [300, 40, 120, 60]
    lit_shown = np.asarray(embedded(html, "Lit map").convert("L")) > 128
    rows, cols = np.nonzero(lit_shown)
    assert (rows.min(), rows.max() + 1, cols.min(), cols.max() + 1) == (40, 100, 300, 420)
    assert "EXIF 6: viewers show it turned 90° clockwise" in html
    assert html.count("shown upright as viewers show it") == 1  # the plain file: no note
