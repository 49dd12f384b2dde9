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
    if len(reports) == 1:
        return json.dumps(report_dict(reports[0]), indent=2, ensure_ascii=False) + "\n"
    return json.dumps([report_dict(r) for r in reports], indent=2, ensure_ascii=False) + "\n"


def to_jsonl_line(report: Report | dict[str, Any]) -> str:
    """One complete report (a model or its JSON data) on one line, newline-terminated.

    A file name that is not valid UTF-8 (carried as lone surrogates) makes the line
    ASCII-escaped instead, which round-trips; every other line keeps its characters.
    """
    data = report_dict(report) if isinstance(report, Report) else report
    line = json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n"
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:
        line = json.dumps(data, ensure_ascii=True, separators=(",", ":")) + "\n"
    return line
