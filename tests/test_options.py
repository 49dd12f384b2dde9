"""Typed analyzer options: dotted keys parsed into namespaces, typos refused."""

from __future__ import annotations

import pytest

from triage.analyzers.base import Context
from triage.analyzers.options import AnalyzerOptions, VideoOptions
from triage.pipeline import Options


def test_dotted_keys_fill_their_namespace() -> None:
    opts = AnalyzerOptions.of({"video.frames": 96, "credentials.trust_anchors": "a.pem"})
    assert opts.video == VideoOptions(frames=96)
    assert opts.credentials.trust_anchors == "a.pem"
    assert opts.provenance.max_keyframes is None


def test_context_and_pipeline_options_parse_mappings() -> None:
    assert Context(options={"video_frames": 8}).options.video.frames == 8  # the old key
    assert Options(analyzer_options={"provenance.max_keyframes": 3}).analyzer_options == (
        AnalyzerOptions.of({"provenance.max_keyframes": 3})
    )
    assert Context().options == AnalyzerOptions()


@pytest.mark.parametrize("key", ["video.frame", "vide.frames", "c2pa_anchors", "frames"])
def test_unknown_option_is_an_error(key: str) -> None:
    with pytest.raises(ValueError, match="unknown analyzer option"):
        AnalyzerOptions.of({key: 1})
