"""What an analyzer says it saw, before scoring: the one type that the analyzers, the
pure judging code under them (forensics/, store/) and scoring all share."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from triage.report import Question


@dataclass
class RawFinding:
    """What an analyzer says it saw; scoring turns it into a report ``Finding``."""

    id: str
    question: Question
    title: str
    detail: str
    evidence: dict[str, Any] = field(default_factory=dict)
    strength: float = 1.0
