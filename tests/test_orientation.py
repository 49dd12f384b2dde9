"""A picture stored sideways with an EXIF orientation tag (a phone's portrait photo):
the report names the tag, analyzers keep the stored grid, and the HTML report shows
the picture, its maps and its region boxes upright."""

from __future__ import annotations

import base64
import csv
import io
import re
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from triage.orientation import upright_box, upright_pixels, upright_size
from triage.pipeline import Options, analyze_path_with_pictures
from triage.render.html import render_html
from triage.render.text import render_reports
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
    from triage.render.csv import csv_text, rows_from_reports

    table = list(csv.DictReader(io.StringIO(csv_text(rows_from_reports([report, plain.report])))))
    assert {row["path"].rsplit("/", 1)[-1]: row["orientation"] for row in table} == {
        "portrait.jpg": "6",
        "plain.jpg": "",
    }

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


def portrait_video(path: Path, rotation: int | None) -> None:
    """A 2 s video stored landscape (320 x 240), a magenta block at its top right;
    ``rotation`` is the display matrix's angle (anticlockwise, as PyAV writes it)."""
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        if rotation is not None:
            stream.set_display_rotation(rotation)
        for i in range(50):
            frame = np.full((240, 320, 3), 90, np.uint8)
            frame[20:60, 200:300] = (255, 0, 255)
            frame[100:140, i * 4 : i * 4 + 20] = 255
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def test_a_portrait_video_is_named_and_its_frames_shown_upright(tmp_path: Path) -> None:
    import av

    if not hasattr(av.video.stream.VideoStream, "set_display_rotation"):
        pytest.skip("this PyAV cannot write a display matrix (PyAV 17 and older)")
    portrait_video(tmp_path / "portrait.mp4", -90)  # a phone's: turned clockwise to show
    portrait_video(tmp_path / "plain.mp4", None)
    options = Options(keep_artifacts=True, only=["video", "frames"])
    turned = analyze_path_with_pictures(tmp_path / "portrait.mp4", options)
    plain = analyze_path_with_pictures(tmp_path / "plain.mp4", options)
    assert turned.report.file.orientation == 6 and plain.report.file.orientation is None
    assert (turned.report.file.width, turned.report.file.height) == (320, 240)
    assert "turned 90° clockwise (its display matrix" in render_reports([turned.report], width=400)
    video = next(r for r in turned.report.analyzers if r.name == "video")
    assert isinstance(video.metrics, dict)
    assert [s.get("rotation") for s in video.metrics["container"]["streams"]] == [90]

    def strip(analysis) -> np.ndarray:  # type: ignore[no-untyped-def]
        i = next(i for i, a in enumerate(analysis.report.artifacts) if a.kind == "frame_thumbnails")
        return np.asarray(Image.open(io.BytesIO(analysis.artifacts[i])).convert("RGB"))

    upright, stored = strip(turned), strip(plain)
    assert upright.shape[1] < stored.shape[1]  # portrait tiles: a narrower strip
    # The first tile: the magenta block moved from the top right to the bottom right.
    magenta = (upright[..., 0] > 200) & (upright[..., 1] < 60) & (upright[..., 2] > 200)
    tile = magenta[: upright.shape[0] // 4, : upright.shape[1] // 8]
    rows, cols = np.nonzero(tile)
    assert rows.min() > tile.shape[0] / 2 and cols.min() > tile.shape[1] / 2


def test_a_video_gets_a_poster_that_is_not_its_black_first_frames(tmp_path: Path) -> None:
    import av

    from triage.video.poster import poster_frame

    with av.open(str(tmp_path / "fade.mp4"), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 640, 360, "yuv420p"
        for i in range(30):
            frame = np.zeros((360, 640, 3), np.uint8)
            if i >= 10:  # a fade-in: ten black frames first
                frame[:] = scene(640, 360, 3)
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    poster = poster_frame(tmp_path / "fade.mp4", 320)
    assert poster is not None and poster.shape == (180, 320, 3) and poster.mean() > 40
    (tmp_path / "junk.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(200))
    assert poster_frame(tmp_path / "junk.mp4", 320) is None


def test_a_portrait_video_poster_is_shown_upright_in_the_html_report(tmp_path: Path) -> None:
    import av

    if not hasattr(av.video.stream.VideoStream, "set_display_rotation"):
        pytest.skip("this PyAV cannot write a display matrix (PyAV 17 and older)")
    portrait_video(tmp_path / "portrait.mp4", -90)
    options = Options(keep_artifacts=True, only=["video"])
    html = render_html([analyze_path_with_pictures(tmp_path / "portrait.mp4", options)])
    poster = embedded(html, "Thumbnail of portrait.mp4")
    assert poster.height > poster.width  # stored landscape, shown as a player shows it
    assert "first frame that is not dark, shown upright as players show it" in html
