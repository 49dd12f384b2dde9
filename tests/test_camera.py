"""Camera-likeness statistics, the smooth-region comparison and the face analyzer.

Every image is made by code (fixtures/generators/camera.py): a scene through a
simulated sensor (Bayer, shot and read noise, demosaicing, gamma) stands for a camera
photo, a blurred noise-free rendering for a generated patch, a schematic drawing for a
face. No photo of a person.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from triage.analyzers.base import Context
from triage.analyzers.camera import CameraAnalyzer
from triage.analyzers.faces import FacesAnalyzer
from triage.calibration import packaged
from triage.forensics.camera import (
    FEATURE_NAMES,
    compare_region,
    features,
    find_faces,
    load_model,
    region_maps,
    shipped_model,
)
from triage.media import Media
from triage.pipeline import Options, analyze_path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "fixtures"))

from generators.camera import (
    camera_like,
    camera_pipeline,
    drawn_face,
    jpeg,
    paste_smooth,
    scene,
)
from generators.trainingfolder import write_training_folder

BOX = (400, 200, 720, 520)


def _save(tmp_path: Path, name: str, rgb: np.ndarray, quality: int | None = 92) -> Path:
    path = tmp_path / name
    if quality is None:
        Image.fromarray(rgb).save(path, "PNG")
    else:
        path.write_bytes(jpeg(rgb, quality))
    return path


def _decoded(rgb: np.ndarray, quality: int) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(jpeg(rgb, quality))).convert("RGB"))


@pytest.fixture(scope="module")
def base() -> np.ndarray:
    return camera_like(768, 1024, seed=3)


@pytest.mark.parametrize("quality", [None, 92, 85])
def test_region_comparison_with_given_box(base: np.ndarray, quality: int | None) -> None:
    model, _ = shipped_model()
    pasted = paste_smooth(base, BOX)
    if quality is not None:
        base, pasted = _decoded(base, quality), _decoded(pasted, quality)
    twin = compare_region(region_maps(model, base, 32), BOX)
    edit = compare_region(region_maps(model, pasted, 32), BOX)
    assert twin.smoother_z < 1.5
    assert edit.smoother_z > 3.0
    assert edit.excess_z < 0 and edit.noise_z < 0


def test_pasted_region_raises_synthetic_score_with_box(base: np.ndarray, tmp_path: Path) -> None:
    twin = _save(tmp_path, "twin.jpg", base)
    edit = _save(tmp_path, "edit.jpg", paste_smooth(base, BOX))
    r_twin = CameraAnalyzer().run(Media.open(twin), Context())
    r_edit = CameraAnalyzer().run(Media.open(edit), Context())
    assert r_twin.findings == []
    (finding,) = r_edit.findings
    assert finding.id == "camera.smooth_region"
    x0, y0, x1, y1 = finding.evidence["box"]
    ix = max(0, min(x1, BOX[2]) - max(x0, BOX[0])) * max(0, min(y1, BOX[3]) - max(y0, BOX[1]))
    union = (x1 - x0) * (y1 - y0) + (BOX[2] - BOX[0]) * (BOX[3] - BOX[1]) - ix
    assert ix / union > 0.5
    q_twin = analyze_path(twin, Options(only=["camera"])).questions["synthetic"]
    q_edit = analyze_path(edit, Options(only=["camera"])).questions["synthetic"]
    # The finding enters the fusion as its fitted log-odds term. Its sign is the data's:
    # since calibration 1905 it is negative for synthetic (it fires on edited camera
    # photos, never on the labelled generated images, which are generated whole;
    # docs/analyzers/camera.md), so the edit's summed terms move by exactly that term.
    model = packaged().models["synthetic"]
    coef = model.coef[model.features.index("camera.smooth_region")]
    term = q_edit.contributions.get("camera.smooth_region", 0)
    assert term != 0 and term == pytest.approx(coef * finding.strength, abs=1e-3)
    moved = sum(q_edit.contributions.values()) - sum(q_twin.contributions.values())
    assert moved == pytest.approx(term, abs=0.05)


def test_metrics_are_named_and_finite(base: np.ndarray, tmp_path: Path) -> None:
    result = CameraAnalyzer().run(Media.open(_save(tmp_path, "c.png", base, None)), Context())
    for key in ("coding_cost_z", "noise_level_z", "distance2", *FEATURE_NAMES):
        assert np.isfinite(result.metrics[key]), key
    assert result.examined["synthetic"] > 0


def test_small_image_skipped(tmp_path: Path) -> None:
    path = tmp_path / "s.png"
    Image.new("RGB", (64, 64), (9, 9, 9)).save(path)
    assert CameraAnalyzer().run(Media.open(path), Context()).skipped_reason
    assert FacesAnalyzer().run(Media.open(path), Context()).skipped_reason


def test_face_finder_fires_on_a_drawn_face() -> None:
    import cv2

    gray = cv2.cvtColor(drawn_face(240), cv2.COLOR_RGB2GRAY)
    faces = find_faces(gray, 24)
    assert faces, "the Haar cascade should find the schematic face"
    x0, y0, x1, y1 = faces[0]
    assert x0 < 120 < x1 and y0 < 120 < y1


def _with_face(base: np.ndarray, noisy: bool) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """A drawn face on the camera-like photo: smooth (as generated) or through the same
    simulated sensor as the rest (as photographed)."""
    face = drawn_face(320).astype(np.float64) / 255.0
    out = base.copy()
    y0, x0 = 200, 360
    if noisy:
        lin = scene(768, 1024, seed=3)
        lin[y0 : y0 + 320, x0 : x0 + 320] = face**2.2
        out = camera_pipeline(lin, seed=3)
    else:
        out[y0 : y0 + 320, x0 : x0 + 320] = (face * 255).astype(np.uint8)
    return out, (x0, y0, x0 + 320, y0 + 320)


def test_smooth_face_on_camera_photo_is_reported_with_its_box(
    base: np.ndarray, tmp_path: Path
) -> None:
    smooth, box = _with_face(base, noisy=False)
    photographed, _ = _with_face(base, noisy=True)
    r_smooth = FacesAnalyzer().run(Media.open(_save(tmp_path, "f1.jpg", smooth)), Context())
    r_photo = FacesAnalyzer().run(Media.open(_save(tmp_path, "f2.jpg", photographed)), Context())
    assert r_smooth.metrics["faces"] >= 1 and r_photo.metrics["faces"] >= 1
    (finding,) = r_smooth.findings
    assert finding.id == "faces.face_unlike_rest"
    fx0, fy0, fx1, fy1 = finding.evidence["box"]
    assert fx0 < (box[0] + box[2]) / 2 < fx1 and fy0 < (box[1] + box[3]) / 2 < fy1
    assert r_photo.findings == []


def test_tiny_model_trains_on_generated_photos(tmp_path: Path) -> None:
    """The training command end to end on a folder of generated camera-like JPEGs."""
    from triage.train.__main__ import main

    training = tmp_path / "training"
    write_training_folder(
        training,
        [
            (f"camera/gen{i}.jpg", jpeg(camera_like(480, 640, seed=10 + i), 90), 640, 480)
            for i in range(6)
        ],
    )
    out = tmp_path / "models"
    assert main(["camera", "--training", str(training), "--out", str(out)]) == 0
    manifest = json.loads((out / "camera.manifest.json").read_text())
    assert manifest["features"] == list(FEATURE_NAMES)
    model, fusion = load_model(out)
    v = features(model, camera_like(256, 256, seed=99)).vector()
    assert np.isfinite(fusion.distance2(v))
