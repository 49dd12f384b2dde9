"""The code's layout rules (issue 18): analyzers import no other analyzer, and each
declares the finding ids it can emit, checked against the calibration data and its card."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

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


def calibrated_finding_ids(analyzer: str) -> set[str]:
    """The finding ids the shipped calibration weighs for ``analyzer`` (fitted features).

    The one place this test reads the calibration: when its file or format changes,
    only this accessor follows.
    """
    from triage.calibration import packaged

    return {
        f
        for m in packaged().models.values()
        for f in m.features
        if ":" not in f and f.split(".", 1)[0] == analyzer
    }


def _card_ids(name: str) -> set[str]:
    card = (PACKAGE.parent / "docs" / "analyzers" / f"{name}.md").read_text("utf-8")
    found = set(re.findall(rf"`({re.escape(name)}\.[a-z0-9_]+)`", card))
    return {i for i in found if i.rsplit(".", 1)[1] not in _FILE_SUFFIXES}  # not file names


_FILE_SUFFIXES = {"py", "jpg", "png", "mp4", "json", "md", "txt", "tsv", "manifest"}


def _golden_ids(name: str) -> set[str]:
    path = PACKAGE.parent / "tests" / "golden" / f"{name}.json"
    if not path.exists():
        return set()
    records = json.loads(path.read_text("utf-8"))
    return {f["id"] for rec in records.values() for f in rec.get("findings", [])}


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_declared_finding_ids_match_calibration_and_card(name: str) -> None:
    from triage.analyzers import get

    declared = set(get(name).finding_ids)
    assert declared, f"{name}: declare finding_ids"
    assert len(declared) == len(get(name).finding_ids), f"{name}: an id is declared twice"
    assert all(i.startswith(f"{name}.") for i in declared)
    # A declared id the calibration has no data for (it never fired where it was fitted)
    # widens the interval instead of weighing; one it weighs must be declared.
    calibrated = calibrated_finding_ids(name)
    assert calibrated - declared == set(), f"{name}: weighed but never emitted"
    card = _card_ids(name)
    assert declared - card == set(), f"{name}: declared but not in docs/analyzers/{name}.md"
    assert card - declared == set(), f"{name}: in the card but not declared"
    assert _golden_ids(name) <= declared, f"{name}: the fixtures raise undeclared ids"


def test_nothing_outside_the_registry_imports_an_analyzer_module() -> None:
    """Library code (CLI, store, renderers) uses forensics/ and store/, not analyzers."""
    analyzer_modules = {spec.split(":")[0] for spec in REGISTRY.values()}
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.parent == PACKAGE / "analyzers":
            continue
        hits = _imported_modules(path) & analyzer_modules
        offenders.extend(f"{path.relative_to(PACKAGE.parent)} imports {m}" for m in sorted(hits))
    assert not offenders, "; ".join(offenders)


MAX_FUNCTION_LINES = 120
# Functions still over the limit, and why they wait. The list only shrinks.
LONG_FUNCTIONS_WAITING: set[str] = set()


def test_no_function_over_the_line_limit() -> None:
    long = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long[f"{path.relative_to(PACKAGE).as_posix()}:{node.name}"] = lines
    over = {k: v for k, v in long.items() if k not in LONG_FUNCTIONS_WAITING}
    assert not over, f"split these (at most {MAX_FUNCTION_LINES} lines): {over}"


def test_forensics_functions_have_numpydoc_sections() -> None:
    missing = []
    for path in sorted((PACKAGE / "forensics").glob("*.py")):
        for node in ast.parse(path.read_text("utf-8")).body:
            if not isinstance(node, ast.FunctionDef) or node.name.startswith("_"):
                continue
            doc = ast.get_docstring(node) or ""
            if "Returns\n-------" not in doc and "Parameters\n----------" not in doc:
                missing.append(f"{path.stem}.{node.name}")
    assert not missing, f"add Parameters/Returns (and References) to: {missing}"


# The lower layers (README "Layout"): what each may not import. store/ingest reuses the
# batch walker (scan/walker.py) to find files for `db add` / `db lookup`.
LOWER_LAYERS = {
    "forensics": ("triage.analyzers", "triage.pipeline", "triage.scan", "triage.render"),
    "store": ("triage.analyzers", "triage.pipeline", "triage.render", "triage.cli"),
    "video": ("triage.pipeline", "triage.scan", "triage.render", "triage.cli"),
}
ALLOWED_UPWARD = {"store/ingest.py": {"triage.scan.walker"}}


def test_lower_layers_import_nothing_above_them() -> None:
    offenders = []
    for folder, banned in LOWER_LAYERS.items():
        for path in sorted((PACKAGE / folder).glob("*.py")):
            rel = path.relative_to(PACKAGE).as_posix()
            allowed = ALLOWED_UPWARD.get(rel, set())
            for module in sorted(_imported_modules(path)):
                if module.startswith(banned) and not module.startswith(tuple(allowed)):
                    offenders.append(f"{rel} imports {module}")
    assert not offenders, "; ".join(offenders)
