"""The analyzer contract.

An analyzer is a class with ``name``, ``version``, ``questions``, ``kinds``,
``finding_ids`` (every finding id it can emit) and two methods, ``applies_to(media)``
and ``run(media, ctx)``. It returns an :class:`AnalyzerResult`: findings, raw
metrics, artifacts, and which questions it could actually examine on this file
(``examined``). It knows nothing of other
analyzers, of scoring or of output formats.

A finding's weight is not invented by the analyzer: its log-odds contribution is
fitted on labelled data and kept in the calibration file (``triage/data/calibration.json``)
under the finding's id; every id an analyzer can emit is declared in its
``finding_ids``. An analyzer reports ``strength`` (0..1+) when its own
statistic says the effect is weaker or stronger than typical; it is the feature value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from triage.analyzers.options import AnalyzerOptions
from triage.evidence import RawFinding
from triage.report import Question

if TYPE_CHECKING:
    import numpy as np

    from triage.media import Media


@dataclass
class Artifact:
    """A visual piece of evidence (heatmap, overlay, timeline), kept as PNG bytes."""

    kind: str
    title: str
    png: bytes
    contains_pixels: bool = True  # derived from the image's pixels (omitted with --no-pixels)


@dataclass
class AnalyzerResult:
    findings: list[RawFinding] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    artifacts: list[Artifact] = field(default_factory=list)
    # Share (0..1) of each question this analyzer could examine on this file.
    # Missing = 0 (nothing examined). 1 means "looked everywhere it knows how to".
    examined: dict[str, float] = field(default_factory=dict)
    not_checked: list[str] = field(default_factory=list)
    # Status "skipped" with this message when it could not examine anything.
    skipped_reason: str | None = None


ARTIFACT_MAX_SIDE = 1600


@dataclass
class Context:
    """Per-run options an analyzer may read. Never holds other analyzers' results."""

    want_artifacts: bool = False
    no_pixels: bool = False
    db_path: Path | None = None
    # Typed per analyzer; a mapping of dotted keys ("video.frames") is parsed.
    options: AnalyzerOptions = field(default_factory=AnalyzerOptions)

    def __post_init__(self) -> None:
        self.options = AnalyzerOptions.of(self.options)

    def png(self, image: np.ndarray, max_side: int = ARTIFACT_MAX_SIDE) -> bytes:
        """Encode an H x W (x 3 RGB) uint8 array as PNG bytes, at most ``max_side`` px.

        Heatmaps of a 16 MP photo would be ~8 MB each at full size; reviewers see the
        same thing at 1600 px and the HTML report stays light.
        """
        import cv2
        import numpy as np

        arr = np.ascontiguousarray(image)
        h, w = arr.shape[:2]
        if max(h, w) > max_side:
            scale = max_side / max(h, w)
            size = (max(1, round(w * scale)), max(1, round(h * scale)))
            arr = cv2.resize(arr, size, interpolation=cv2.INTER_AREA)
        if arr.ndim == 3:
            arr = cv2.cvtColor(arr, cv2.COLOR_RGB2BGR)
        ok, buf = cv2.imencode(".png", arr)
        if not ok:
            raise RuntimeError("PNG encoding failed")
        return buf.tobytes()


class Analyzer:
    """Base class. Subclasses set the class attributes and implement ``run``."""

    name: ClassVar[str]
    version: ClassVar[str] = "1"
    questions: ClassVar[tuple[Question, ...]]
    kinds: ClassVar[tuple[str, ...]] = ("image",)  # "image", "video"
    formats: ClassVar[tuple[str, ...] | None] = None  # None = every format of its kinds
    description: ClassVar[str] = ""
    # Every finding id ``run`` can emit. Each has a weight in the calibration data and
    # a line in the card (tests/test_layout.py checks both ways); the pipeline refuses
    # an undeclared id, so a typo is an error instead of a silent zero weight.
    finding_ids: ClassVar[tuple[str, ...]] = ()
    # Plain words for what this analyzer's metrics measure, for the report's statement
    # when the calibration reads them as leaning one way (scoring.metric_drivers).
    metrics_title: ClassVar[str] = ""
    # Plain words, per question, for the trait of a file this analyzer could examine
    # (a camera named in its metadata, a face), for the statement when the
    # calibration's term for that examination leans the score (scoring.trait_drivers).
    trait_words: ClassVar[dict[str, str]] = {}

    def applies_to(self, media: Media) -> bool:
        if media.kind not in self.kinds:
            return False
        return self.formats is None or media.format in self.formats

    def run(self, media: Media, ctx: Context) -> AnalyzerResult:
        raise NotImplementedError

    def available(self) -> str | None:
        """None when usable here; otherwise a one-line reason (missing library)."""
        return None

    def preload(self) -> None:
        """Load once what :meth:`run` loads on first use: its model, its libraries.

        A scan's forkserver calls this before it forks any worker, so that every
        worker starts with the models in memory instead of loading them on its first
        file. It is called with every native thread pool at one thread, and must not
        start threads itself (an OpenMP team would not survive the fork). Default:
        nothing to load.
        """
