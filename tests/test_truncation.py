"""A file cut short in a download or a copy: the error says so, and what to do."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from triage.forensics.truncation import ends_early
from triage.pipeline import Options, analyze_path

FORMATS = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP", "bmp": "BMP", "gif": "GIF"}


def _encoded(fmt: str, progressive: bool = False) -> bytes:
    rng = np.random.default_rng(7)
    pixels = (rng.random((96, 128, 3)) * 60 + np.linspace(0, 180, 128)[None, :, None]).astype(
        np.uint8
    )
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, FORMATS[fmt], progressive=progressive)
    return out.getvalue()


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_a_whole_file_is_not_called_truncated(fmt: str) -> None:
    assert ends_early(_encoded(fmt), fmt) is None


@settings(max_examples=60, deadline=None)
@given(fmt=st.sampled_from(sorted(FORMATS)), keep=st.floats(0.3, 0.97))
def test_a_file_cut_after_its_header_is_called_truncated(fmt: str, keep: float) -> None:
    data = _encoded(fmt)
    said = ends_early(data[: int(len(data) * keep)], fmt)
    assert said is not None and said.split()[0] in ("it", "its"), said


@pytest.mark.parametrize(
    ("fmt", "progressive"),
    [("jpeg", False), ("jpeg", True), ("png", False), ("webp", False), ("bmp", False)],
)
def test_a_cut_short_file_gets_one_error_that_says_to_get_the_complete_file(
    tmp_path: Path, fmt: str, progressive: bool
) -> None:
    data = _encoded(fmt, progressive)
    path = tmp_path / f"cut.{fmt}"
    path.write_bytes(data[: len(data) // 2])
    report = analyze_path(path, Options(threads=1))
    assert report.failed
    messages = [e.message for e in report.errors]
    assert any(
        m.startswith("the file is truncated: it") and "get the complete file" in m for m in messages
    ), messages
