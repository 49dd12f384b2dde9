"""JSON and JSONL renderings of reports (the contract is docs/report-schema.json)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from triage.report import Report


def report_dict(report: Report) -> dict[str, object]:
    return report.model_dump(mode="json")


def to_json(reports: Sequence[Report]) -> str:
    """One object for one report, an array for several."""
    if len(reports) == 1:
        return json.dumps(report_dict(reports[0]), indent=2, ensure_ascii=False) + "\n"
    return json.dumps([report_dict(r) for r in reports], indent=2, ensure_ascii=False) + "\n"


def to_jsonl_line(report: Report) -> str:
    """One complete report on one line, newline-terminated."""
    return json.dumps(report_dict(report), ensure_ascii=False, separators=(",", ":")) + "\n"
