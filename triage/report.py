"""The report: pydantic models whose JSON Schema is the contract (``triage schema``).

Field names are stable; additions must be backward compatible. Bump
``SCHEMA_VERSION``'s minor number for additions and its major for removals.

The schema allows additional properties everywhere: a consumer that validates
against 1.0 keeps validating 1.1 reports, and reports read back (scan --resume,
HTML of a JSONL) keep fields a newer version added.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
)

SCHEMA_VERSION = "1.3"

Question = Literal["manipulation", "synthetic", "provenance"]
QUESTIONS: tuple[Question, ...] = ("manipulation", "synthetic", "provenance")
Band = Literal[
    "insufficient-evidence",
    "no-indicators",
    "weak-indicators",
    "notable-indicators",
    "strong-indicators",
]
BANDS: tuple[Band, ...] = (
    "insufficient-evidence",
    "no-indicators",
    "weak-indicators",
    "notable-indicators",
    "strong-indicators",
)
AnalyzerStatus = Literal["ok", "not-applicable", "skipped", "unavailable", "error"]


class _Model(BaseModel):
    # "allow", not "forbid": additionalProperties false would turn every promised
    # backward-compatible addition into a validation failure for existing consumers.
    model_config = ConfigDict(extra="allow")


class ToolInfo(_Model):
    name: str = "triage"
    version: str


class FileInfo(_Model):
    path: str = Field(description="The path as given on the command line or to analyze().")
    sha256: str | None = Field(default=None, description="Hex SHA-256 of the file's bytes.")
    format: str | None = Field(default=None, description="Format sniffed from magic bytes.")
    kind: Literal["image", "video", "unknown"] | None = None
    extension: str | None = Field(default=None, description="Lower-cased file name suffix.")
    bytes: int | None = None
    width: int | None = None
    height: int | None = None
    duration: float | None = Field(default=None, description="Seconds, for video.")
    frames: int | None = Field(
        default=None,
        description="Frames of an animated image (GIF, WebP, PNG) or pages of a TIFF, when "
        "more than one: only the first is examined.",
    )
    orientation: int | None = Field(
        default=None,
        ge=2,
        le=8,
        description="The EXIF orientation tag (2-8), when it asks viewers to turn or mirror "
        "the picture (6: a phone's portrait photo, turned 90 degrees clockwise); for a video, "
        "the quarter turn of its display matrix as the same tag value (6, 3 or 8). Analyzers "
        "read the pixels as stored, and every coordinate in this report is in that grid.",
    )
    mtime: float | None = Field(default=None, description="Modification time, Unix seconds.")

    @model_serializer(mode="wrap")
    def _leave_out_unset(self, handler: SerializerFunctionWrapHandler) -> Any:
        # Added in 1.2 and 1.3 and absent for most files: such reports look as in 1.1.
        data = handler(self)
        if isinstance(data, dict):
            for name in ("frames", "orientation"):
                if data.get(name) is None:
                    data.pop(name, None)
        return data


class Finding(_Model):
    id: str = Field(description="Stable id, `analyzer.check`; filter on it downstream.")
    analyzer: str
    question: Question
    llr: float = Field(
        description="Signed natural log-likelihood ratio; positive = evidence for editing, "
        "synthesis or a prior sighting, negative = evidence against."
    )
    llr_range: tuple[float, float] = Field(description="Plausible [low, high] of llr.")
    title: str
    detail: str
    evidence: dict[str, Any] = Field(default_factory=dict)


class QuestionResult(_Model):
    score: float = Field(ge=0.0, le=1.0, description="Posterior probability under the prior.")
    interval: tuple[float, float]
    band: Band
    coverage: float = Field(
        ge=0.0,
        le=1.0,
        description="Share of the analyzers able to speak to this question that could.",
    )
    prior: float = Field(ge=0.0, le=1.0)
    statement: str
    contributions: dict[str, float] = Field(
        default_factory=dict,
        description="Additive log-odds terms of the fitted fusion (calibration file): "
        "`intercept`, each finding id (coef x strength), `ANALYZER:examined` and "
        "`ANALYZER:metric:NAME`. Their sum is mapped to the score by the calibration.",
    )


class AnalyzerRun(_Model):
    name: str
    version: str
    status: AnalyzerStatus
    seconds: float
    message: str | None = Field(default=None, description="Why it did not run, or its error.")
    not_checked: list[str] = Field(
        default_factory=list, description="What it could not check on this file, and why."
    )
    metrics: dict[str, Any] = Field(default_factory=dict)


class ArtifactRef(_Model):
    kind: str
    analyzer: str
    title: str
    path: str | None = Field(default=None, description="Where it was written (--artifacts).")
    media_type: str = "image/png"
    contains_pixels: bool = Field(
        default=True,
        description="Drawn from the file's pixels (heatmap, overlay, contact sheet); "
        "false for charts such as a video timeline. --no-pixels omits those that are true.",
    )


class CalibrationInfo(_Model):
    name: str
    version: str
    sha256: str = Field(description="SHA-256 of the calibration file's text.")
    source: str = Field(description="`triage/data/calibration.json` or the file given.")


class ErrorEntry(_Model):
    stage: str = Field(description="`open`, `decode` or an analyzer's name.")
    message: str = Field(description="One line, says what happened and what to do.")


class Report(_Model):
    schema_version: str = SCHEMA_VERSION
    tool: ToolInfo
    file: FileInfo
    analyzed_at: str = Field(description="UTC, ISO 8601.")
    seconds: float
    questions: dict[Question, QuestionResult]
    attention: float = Field(
        ge=0.0, le=1.0, description="Orders files in a batch for human review; not a verdict."
    )
    findings: list[Finding] = Field(default_factory=list)
    analyzers: list[AnalyzerRun] = Field(default_factory=list)
    artifacts: list[ArtifactRef] = Field(default_factory=list)
    errors: list[ErrorEntry] = Field(default_factory=list)
    warnings: list[str] = Field(
        default_factory=list,
        description="What decoding libraries warned about while reading the file (e.g. a "
        "malformed TIFF tag), kept here instead of on stderr (added in 1.1).",
    )
    metadata: dict[str, Any] | None = Field(
        default=None,
        description="Every metadata tag, keyed 'Group:Tag' as exiftool -j -G writes them "
        "(File, EXIF, GPS, MakerNotes, XMP, IPTC, ICC_Profile, PNG, QuickTime, C2PA). "
        "Only with --with-metadata (added in 1.1).",
    )
    calibration: CalibrationInfo | None = Field(
        default=None,
        description="The calibration that turned findings into scores (added in 1.1).",
    )

    @property
    def failed(self) -> bool:
        """True when the file could not be analyzed as a whole or in part."""
        return bool(self.errors)

    @model_serializer(mode="wrap")
    def _leave_out_absent_metadata(self, handler: SerializerFunctionWrapHandler) -> Any:
        # Optional 1.1 blocks are left out when empty, so most reports look as in 1.0.
        data = handler(self)
        if isinstance(data, dict):
            if data.get("metadata") is None:
                data.pop("metadata", None)
            if not data.get("warnings"):
                data.pop("warnings", None)  # most files have none: keep reports as in 1.0
        return data


def report_json_schema() -> dict[str, Any]:
    schema = Report.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"triage-report-{SCHEMA_VERSION}"
    return schema
