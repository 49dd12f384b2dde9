"""`triage compare A B`: two copies of one picture, made here from a generated scene."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from PIL import Image

from triage.comparison import compare_paths

ROOT = Path(__file__).resolve().parent.parent
SCENE = ROOT / "fixtures" / "core" / "scene.png"
ENV = {**os.environ, "NO_COLOR": "1"}


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "triage", "compare", *args],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=120,
    )


def _scene() -> np.ndarray:
    return np.asarray(Image.open(SCENE).convert("RGB"))


def _repost(rgb: np.ndarray, path: Path, quality: int = 75) -> None:
    """Crop 10% off the left and top, shrink to 0.8x, save as JPEG: a platform copy."""
    h, w = rgb.shape[:2]
    crop = rgb[h // 10 :, w // 10 :]
    small = cv2.resize(
        crop, (round(crop.shape[1] * 0.8), round(crop.shape[0] * 0.8)), interpolation=cv2.INTER_AREA
    )
    Image.fromarray(small).save(path, quality=quality)


def _pasted(rgb: np.ndarray) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """The scene with a 120x90 block from elsewhere pasted in; the block's box in it."""
    out = rgb.copy()
    x, y, w, h = 420, 330, 120, 90
    out[y : y + h, x : x + w] = rgb[40 : 40 + h, 360 : 360 + w]
    return out, (x, y, w, h)


def _iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    iw = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    ih = max(0, min(ay + ah, by + bh) - max(ay, by))
    inter = iw * ih
    return inter / float(aw * ah + bw * bh - inter)


def test_a_clean_repost_is_aligned_as_a_smaller_crop_with_no_differing_region(
    tmp_path: Path,
) -> None:
    _repost(_scene(), tmp_path / "b.jpg")
    result = compare_paths(SCENE, tmp_path / "b.jpg")
    assert result.aligned and not result.failed
    assert result.scale == pytest.approx(0.8, abs=0.02)
    assert result.b_shown_in_a == pytest.approx(1.0, abs=0.02)
    assert result.a_shown_in_b == pytest.approx(0.81, abs=0.03)  # 0.9 x 0.9 of A
    assert not result.mirrored and abs(result.rotation_degrees or 0.0) < 0.5
    assert not result.regions and not result.tone_changed
    assert any("B is a crop of A's framing" in s for s in result.statements)
    assert any(
        s.startswith("Signs usual of the earlier copy") and "A: wider framing" in s
        for s in result.statements
    )


def test_a_block_pasted_before_the_repost_is_boxed_in_both_files(tmp_path: Path) -> None:
    edited, box = _pasted(_scene())
    _repost(edited, tmp_path / "b.jpg")
    result = compare_paths(SCENE, tmp_path / "b.jpg", artifacts_dir=tmp_path / "out")
    assert result.aligned and result.regions
    assert _iou(result.regions[0].box_a, box) >= 0.5, result.regions
    # In B the block was moved by the crop (-64, -48) and shrunk by 0.8.
    x, y, w, h = box
    in_b = (round((x - 64) * 0.8), round((y - 48) * 0.8), round(w * 0.8), round(h * 0.8))
    assert _iou(result.regions[0].box_b, in_b) >= 0.5, result.regions
    assert result.artifact and Path(result.artifact).is_file()
    assert Path(result.artifact).parent == tmp_path / "out"


def test_a_brighter_mirrored_copy_is_a_tone_change_and_a_mirror_not_an_edit(tmp_path: Path) -> None:
    rgb = _scene().astype(np.float32)
    copy = np.clip(rgb * 1.12 + 6, 0, 255).astype(np.uint8)[:, ::-1]
    Image.fromarray(copy).save(tmp_path / "b.jpg", quality=85)
    result = compare_paths(SCENE, tmp_path / "b.jpg")
    assert result.aligned and result.mirrored
    assert result.tone_changed and (result.tone_gain or 0) > 1.0
    assert not result.regions, result.regions


def test_a_turned_copy_says_which_way(tmp_path: Path) -> None:
    rgb = _scene()
    h, w = rgb.shape[:2]
    turn = cv2.getRotationMatrix2D((w / 2, h / 2), 6, 1.0)  # OpenCV: positive is anticlockwise
    Image.fromarray(cv2.warpAffine(rgb, turn, (w, h))).save(tmp_path / "b.jpg", quality=90)
    result = compare_paths(SCENE, tmp_path / "b.jpg")
    assert result.aligned and result.rotation_degrees == pytest.approx(-6, abs=0.5)
    assert any("turned 6° anticlockwise" in s for s in result.statements)


def test_different_pictures_are_not_aligned_and_exit_3(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    noise = cv2.GaussianBlur(rng.integers(0, 255, (480, 640, 3), dtype=np.uint8), (0, 0), 3)
    Image.fromarray(noise).save(tmp_path / "other.png")
    result = compare_paths(SCENE, tmp_path / "other.png")
    assert not result.aligned and not result.regions and result.scale is None
    run = _cli(str(SCENE), str(tmp_path / "other.png"), "-f", "json")
    assert run.returncode == 3, run.stderr
    assert json.loads(run.stdout)["aligned"] is False


def test_an_unreadable_file_is_an_error_line_and_exit_1(tmp_path: Path) -> None:
    (tmp_path / "empty.jpg").write_bytes(b"")
    run = _cli(str(SCENE), str(tmp_path / "empty.jpg"), "-f", "text")
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert "the file is empty" in run.stdout


def test_json_is_the_documented_model(tmp_path: Path) -> None:
    _repost(_scene(), tmp_path / "b.jpg")
    run = _cli(str(SCENE), str(tmp_path / "b.jpg"))
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    for key in ("schema_version", "a", "b", "aligned", "scale", "regions", "statements", "caveats"):
        assert key in out
    assert out["a"]["width"] == 640 and out["b"]["jpeg_quality"] == 75


def test_a_phone_photo_stored_sideways_is_compared_as_viewers_show_it(tmp_path: Path) -> None:
    # A phone stores a portrait photo sideways with EXIF orientation 6; its repost is
    # stored upright. Compared as seen, they are the same picture, not turned.
    upright = _scene()
    stored = np.ascontiguousarray(np.rot90(upright, 1))  # turned back 90° clockwise on view
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(stored).save(tmp_path / "phone.jpg", quality=95, exif=exif)
    Image.fromarray(upright).save(tmp_path / "repost.jpg", quality=80)
    result = compare_paths(tmp_path / "phone.jpg", tmp_path / "repost.jpg")
    assert (result.a.width, result.a.height) == (640, 480)
    assert result.aligned and abs(result.rotation_degrees or 0.0) < 0.5
    assert not result.regions


def test_a_picture_without_detail_says_so_rather_than_calling_them_different(
    tmp_path: Path,
) -> None:
    ramp = np.tile(np.linspace(20, 200, 640, dtype=np.uint8)[None, :, None], (480, 1, 3))
    Image.fromarray(cv2.GaussianBlur(ramp, (0, 0), 8)).save(tmp_path / "fog.png")
    result = compare_paths(tmp_path / "fog.png", SCENE)
    assert not result.aligned
    assert "A has too little distinct detail to align" in result.statements[0]


def test_identical_files_are_said_to_be_identical(tmp_path: Path) -> None:
    result = compare_paths(SCENE, SCENE)
    assert result.statements[0] == "A and B are the same file: their bytes are identical."
    assert result.aligned and not result.regions and result.scale == pytest.approx(1.0)


def test_output_file_is_written_and_stdout_stays_empty(tmp_path: Path) -> None:
    _repost(_scene(), tmp_path / "b.jpg")
    target = tmp_path / "cmp.json"
    run = _cli(str(SCENE), str(tmp_path / "b.jpg"), "-o", str(target))
    assert run.returncode == 0 and run.stdout == "", run.stderr
    assert json.loads(target.read_text())["aligned"] is True


def test_a_large_splice_is_a_region_and_a_stylizing_filter_is_called_spread(tmp_path: Path) -> None:
    rgb = _scene()
    big = rgb.copy()
    big[200:460, 300:620] = rgb[0:260, 0:320][::-1]  # over a quarter of the picture
    Image.fromarray(big).save(tmp_path / "big.jpg", quality=85)
    result = compare_paths(SCENE, tmp_path / "big.jpg")
    assert not result.widespread and len(result.regions) == 1
    assert _iou(result.regions[0].box_a, (300, 200, 320, 260)) >= 0.8
    styled = cv2.stylization(np.ascontiguousarray(rgb[..., ::-1]))[..., ::-1]
    Image.fromarray(np.ascontiguousarray(styled)).save(tmp_path / "styled.jpg", quality=85)
    result = compare_paths(SCENE, tmp_path / "styled.jpg")
    assert result.aligned
    assert not result.regions or any("many, small and spread" in s for s in result.statements)


def test_a_screenshot_holding_the_picture_is_a_frame_not_a_wider_framing(tmp_path: Path) -> None:
    from PIL import ImageDraw

    picture = Image.open(SCENE).convert("RGB")
    shot = Image.new("RGB", (640, 900), (255, 255, 255))
    shot.paste(picture, (0, 220))
    draw = ImageDraw.Draw(shot)
    for i in range(4):
        draw.text((20, 40 + 40 * i), "name  caption of the post  12:04", fill=(10, 10, 10))
    shot.save(tmp_path / "shot.jpg", quality=85)
    result = compare_paths(SCENE, tmp_path / "shot.jpg")
    assert result.aligned and result.framed == "B"
    assert any("inside a border, page or interface" in s for s in result.statements)
    assert not any("wider framing" in s for s in result.statements)
    # The scene cropped is a narrower framing of the same scene, not a picture on a page.
    rgb = _scene()
    Image.fromarray(rgb[60:420, 40:560]).save(tmp_path / "crop.jpg", quality=90)
    result = compare_paths(tmp_path / "crop.jpg", SCENE)
    assert result.framed is None
    assert any("B: wider framing" in s for s in result.statements)


def test_html_page_embeds_the_picture_escapes_names_and_loads_nothing(tmp_path: Path) -> None:
    edited, _ = _pasted(_scene())
    hostile = tmp_path / "<img src=x onerror=alert(1)>.jpg"
    _repost(edited, hostile)
    page = tmp_path / "cmp.html"
    run = _cli(str(SCENE), str(hostile), "--html", str(page), "-f", "json")
    assert run.returncode == 0, run.stderr
    html = page.read_text(encoding="utf-8")
    assert "<img src=x" not in html and "&lt;img src=x" in html
    assert 'src="data:image/jpeg;base64,' in html and "Content-Security-Policy" in html
    assert "http://" not in html and "https://" not in html
    assert "1 region differs" in html and "box in B" in html
    bare = tmp_path / "bare.html"
    assert _cli(str(SCENE), str(hostile), "--html", str(bare), "--no-pixels").returncode == 0
    assert "data:image/jpeg" not in bare.read_text(encoding="utf-8")


@settings(max_examples=12, deadline=None)
@given(
    keep=st.floats(0.55, 1.0),
    scale=st.floats(0.5, 1.6),
    mirrored=st.booleans(),
    quality=st.integers(60, 95),
)
def test_any_crop_scale_and_mirror_of_the_scene_is_aligned_and_measured(
    keep: float, scale: float, mirrored: bool, quality: int
) -> None:
    import tempfile

    # The generated scene is mostly flat shapes: under about 290 px wide its copy keeps
    # too few keypoints (camera photos align down to 160 px thumbnails, docs/compare.md).
    assume(keep * scale >= 0.45)
    rgb = _scene()
    h, w = rgb.shape[:2]
    ch, cw = round(h * keep), round(w * keep)
    copy = rgb[(h - ch) // 2 : (h - ch) // 2 + ch, :cw]
    copy = cv2.resize(copy, (round(cw * scale), round(ch * scale)), interpolation=cv2.INTER_AREA)
    if mirrored:
        copy = copy[:, ::-1]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "copy.jpg"
        Image.fromarray(np.ascontiguousarray(copy)).save(path, quality=quality)
        result = compare_paths(SCENE, path)
    assert result.aligned, result.statements
    assert result.scale == pytest.approx(scale, rel=0.03)
    assert result.mirrored is mirrored
    assert result.a_shown_in_b == pytest.approx(keep * keep, abs=0.04)
    # The scene's small coloured caption, in a copy enlarged 1.25x and saved at q60-70,
    # can leave a speck of 0.1-0.3% on its strokes (docs/compare.md, "Where it fails");
    # nothing larger appears on a clean copy.
    assert not [r for r in result.regions if r.share >= 0.005], result.regions


@pytest.mark.parametrize("name", ["truncated.jpg", "bad_crc.png"])
def test_a_file_whose_pixels_are_broken_carries_its_own_error_and_exits_1(name: str) -> None:
    broken = ROOT / "fixtures" / "bad" / name
    result = compare_paths(SCENE, broken)
    assert result.failed and result.b.error and not result.a.error
    assert result.b.format is not None  # its header was read
    run = _cli(str(SCENE), str(broken), "-f", "json")
    assert run.returncode == 1 and "Traceback" not in run.stderr


FPS = 20


def _pan_video(path: Path, frames: int = 40, portrait: bool = False) -> list[np.ndarray]:
    """A 2 s clip panning over the scene, 6 px a frame (H.264); its frames, as written.
    ``portrait``: stored landscape with a display matrix that turns it a quarter turn
    clockwise, as a phone writes a portrait video."""
    import struct

    import av

    rgb = _scene()
    shots = []
    for k in range(frames):
        shot = np.ascontiguousarray(rgb[80:400, 6 * k : 6 * k + 400])
        # Something that moves through the scene, so that each frame differs from its
        # neighbours where a still crop of it lies (a pan alone repeats the scene).
        cv2.circle(shot, (60 + 8 * k, 120 + 3 * k), 30, (250, 240, 120), -1)
        shots.append(shot)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = 400, 320, "yuv420p"
        stream.options = {"crf": "18"}
        for shot in shots:
            out.mux(stream.encode(av.VideoFrame.from_ndarray(shot, format="rgb24")))
        out.mux(stream.encode(None))
    if portrait:  # the track header's matrix (ISO 14496-12 tkhd, version 0)
        data = bytearray(path.read_bytes())
        matrix = data.find(b"tkhd") + 4 + 4 + 8 + 4 + 4 + 4 + 8 + 8
        turn = (0, 1 << 16, 0, -(1 << 16), 0, 0, 320 << 16, 0, 1 << 30)
        data[matrix : matrix + 36] = struct.pack(">9i", *turn)
        path.write_bytes(bytes(data))
    return shots


def test_a_still_from_a_video_is_matched_to_its_frame_and_its_edit_boxed(tmp_path: Path) -> None:
    shots = _pan_video(tmp_path / "clip.mp4")
    still, (x, y, w, h) = _pasted_into(shots[27])
    _repost(still, tmp_path / "still.jpg", quality=85)
    result = compare_paths(tmp_path / "clip.mp4", tmp_path / "still.jpg")
    assert result.aligned and not result.failed
    assert result.a.frame_seconds == pytest.approx(27 / FPS, abs=0.5 / FPS)
    assert result.frames_searched and result.frames_searched >= 20
    assert (result.a.width, result.a.height) == (400, 320)
    assert any("is a video: its frame at 0:01.35" in s for s in result.statements)
    assert result.regions and _iou(result.regions[0].box_a, (x, y, w, h)) >= 0.5
    assert "video" in result.caveats[0]
    # The other way round, and the frame's time in the text the CLI prints.
    run = _cli(str(tmp_path / "still.jpg"), str(tmp_path / "clip.mp4"), "-f", "text")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "frame at 0:01.35" in run.stdout


def _pasted_into(rgb: np.ndarray) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """``rgb`` with a 70x50 block from elsewhere in it pasted at (250, 180)."""
    out = rgb.copy()
    x, y, w, h = 250, 180, 70, 50
    out[y : y + h, x : x + w] = rgb[20 : 20 + h, 20 : 20 + w]
    return out, (x, y, w, h)


def test_a_portrait_video_is_searched_as_players_show_it(tmp_path: Path) -> None:
    shots = _pan_video(tmp_path / "clip.mp4", frames=20, portrait=True)
    Image.fromarray(np.rot90(shots[8], -1)).save(tmp_path / "shown.png")
    result = compare_paths(tmp_path / "shown.png", tmp_path / "clip.mp4")
    assert result.aligned
    assert result.b.frame_seconds == pytest.approx(8 / FPS, abs=0.5 / FPS)
    assert (result.b.width, result.b.height) == (320, 400)
    assert abs(result.rotation_degrees or 0.0) < 1.0 and result.scale == pytest.approx(
        1.0, abs=0.02
    )


def test_a_still_from_elsewhere_matches_no_frame_and_two_videos_are_an_error(
    tmp_path: Path,
) -> None:
    _pan_video(tmp_path / "clip.mp4", frames=20)
    rng = np.random.default_rng(3)
    other = cv2.GaussianBlur(rng.integers(0, 255, (300, 400, 3), np.uint8), (0, 0), 1.5)
    Image.fromarray(other).save(tmp_path / "other.png")
    run = _cli(str(tmp_path / "clip.mp4"), str(tmp_path / "other.png"), "-f", "json")
    assert run.returncode == 3, run.stdout + run.stderr
    out = json.loads(run.stdout)
    assert out["a"]["frame_seconds"] is None and out["frames_searched"] >= 10
    assert any(s.startswith("No frame of A matches B") for s in out["statements"])
    run = _cli(str(tmp_path / "clip.mp4"), str(tmp_path / "clip.mp4"), "-f", "json")
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert "compare reads one video at most" in json.loads(run.stdout)["b"]["error"]


def test_times_read_as_players_show_them() -> None:
    from triage.comparison import clock

    assert clock(0.0) == "0:00.00"
    assert clock(4.0) == "0:04.00"
    assert clock(59.999) == "1:00.00"  # rounded before it is split: never 0:60.00
    assert clock(3725.04) == "1:02:05.04"


def test_a_long_video_is_searched_by_seeking_and_finds_the_same_frame(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from triage.video import stillsearch

    shots = _pan_video(tmp_path / "clip.mp4")
    Image.fromarray(shots[31]).save(tmp_path / "still.png")
    calls: list[tuple[int, int]] = []
    # As if the 2 s clip were over the length from which frames are reached by seeking.
    monkeypatch.setattr(stillsearch, "FORWARD_SECONDS", 0.5)
    result = compare_paths(
        tmp_path / "clip.mp4", tmp_path / "still.png", progress=lambda *a: calls.append(a)
    )
    assert result.aligned and result.a.frame_seconds == pytest.approx(31 / FPS, abs=0.5 / FPS)
    assert calls and calls[-1][0] == result.frames_searched and calls[-1][1] == 64
