"""`triage analyzers` and `triage schema`."""

from __future__ import annotations

import json
from typing import Any

import typer


def register(app: typer.Typer) -> None:
    app.command("analyzers")(analyzers_command)
    app.command("schema")(schema_command)


def analyzers_command(
    as_json: bool = typer.Option(False, "--json", help="Print as JSON instead of a table."),
) -> None:
    """List the analyzers: name, version, questions they inform, file types, availability."""
    from triage.analyzers import all_analyzers

    rows: list[dict[str, Any]] = []
    for a in all_analyzers():
        rows.append(
            {
                "name": a.name,
                "version": a.version,
                "questions": list(a.questions),
                "applies_to": list(a.formats) if a.formats else list(a.kinds),
                "available": a.available() is None,
                "unavailable_reason": a.available(),
                "description": a.description,
            }
        )
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="triage analyzers", show_lines=False)
    for col in ("name", "version", "questions", "applies to", "status", "what it checks"):
        table.add_column(col, overflow="fold")
    for r in rows:
        status = "ok" if r["available"] else f"unavailable: {r['unavailable_reason']}"
        table.add_row(
            r["name"],
            r["version"],
            ", ".join(r["questions"]),
            ", ".join(r["applies_to"]),
            status,
            r["description"],
        )
    Console().print(table)


def schema_command() -> None:
    """Print the JSON Schema of the report (the contract for scripts; also docs/report-schema.json)."""
    from triage.report import report_json_schema

    typer.echo(json.dumps(report_json_schema(), indent=2, sort_keys=True))
