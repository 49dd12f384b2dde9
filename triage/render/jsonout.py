"""JSON and JSONL renderings of reports (the contract is docs/report-schema.json)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from triage.report import Report


def report_dict(report: Report) -> dict[str, object]:
    return report.model_dump(mode="json")


def to_json(reports: Sequence[Report]) -> str:
    """One object for one report, an array for several."""
    data = report_dict(reports[0]) if len(reports) == 1 else [report_dict(r) for r in reports]
    return _dumps(data, indent=2) + "\n"


def to_jsonl_line(report: Report | dict[str, Any]) -> str:
    """One complete report (a model or its JSON data) on one line, newline-terminated."""
    data = report_dict(report) if isinstance(report, Report) else report
    return _dumps(data, separators=(",", ":")) + "\n"


def _dumps(data: object, **layout: Any) -> str:
    """JSON text that is valid UTF-8. A file name that is not valid UTF-8 (carried as
    lone surrogates) makes the text ASCII-escaped instead (``\\udcff``), which a JSON
    parser reads back as the same name; every other text keeps its characters."""
    text = json.dumps(data, ensure_ascii=False, **layout)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(data, ensure_ascii=True, **layout)
    return text
