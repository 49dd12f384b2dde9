"""The code's layout rules (DESIGN.md, issue 18): analyzers import no other analyzer."""

from __future__ import annotations

import ast
from pathlib import Path

import triage
from triage.analyzers import REGISTRY

PACKAGE = Path(triage.__file__).resolve().parent


def _imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, at the top or inside functions."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            out.update(f"{node.module}.{alias.name}" for alias in node.names)
    return out


def test_analyzers_import_no_other_analyzer() -> None:
    analyzer_modules = {spec.split(":")[0] for spec in REGISTRY.values()}
    offenders = []
    for module in sorted(analyzer_modules):
        if not module.startswith("triage."):
            continue  # a plug-in registered from outside the package
        path = PACKAGE.parent / (module.replace(".", "/") + ".py")
        for imported in sorted(_imported_modules(path) & (analyzer_modules - {module})):
            offenders.append(f"{module} imports {imported}")
    assert not offenders, "shared code goes to triage/analyzers/common.py or forensics/: " + (
        "; ".join(offenders)
    )
