"""Each analyzer's output on the fixtures equals the recorded one (``tests/golden``).

A refactor must leave findings, details, evidence, metrics, examined shares and
artifact kinds as they were. A deliberate change re-records that analyzer:
``python tests/golden/record.py ANALYZER`` (and the commit says why). The records
were made with the library versions in ``versions.json``; decoders and OpenCV change
their numbers and messages between releases, so other versions skip.
"""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path
from typing import Any

import pytest

GOLDEN = Path(__file__).resolve().parent / "golden"
_spec = importlib.util.spec_from_file_location("golden_record", GOLDEN / "record.py")
assert _spec and _spec.loader
record = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(record)

NAMES = sorted(p.stem for p in GOLDEN.glob("*.json") if p.stem != "versions")


def _differences(want: Any, got: Any, where: str, out: list[str]) -> None:
    if len(out) >= 8:
        return
    if isinstance(want, dict) and isinstance(got, dict):
        for key in sorted(set(want) | set(got)):
            if key not in got:
                out.append(f"{where}/{key}: missing (was {want[key]!r:.120})")
            elif key not in want:
                out.append(f"{where}/{key}: new ({got[key]!r:.120})")
            else:
                _differences(want[key], got[key], f"{where}/{key}", out)
    elif isinstance(want, list) and isinstance(got, list):
        if len(want) != len(got):
            out.append(f"{where}: {len(want)} items recorded, {len(got)} now")
        for i, (w, g) in enumerate(zip(want, got, strict=False)):
            _differences(w, g, f"{where}[{i}]", out)
    elif isinstance(want, float) and isinstance(got, (int, float)) and not isinstance(got, bool):
        if not math.isclose(want, got, rel_tol=1e-4, abs_tol=1e-9):
            out.append(f"{where}: {want!r} recorded, {got!r} now")
    elif want != got or type(want) is not type(got):
        out.append(f"{where}: {want!r:.120} recorded, {got!r:.120} now")


@pytest.fixture(scope="module")
def store():  # type: ignore[no-untyped-def]
    if record.library_versions() != json.loads((GOLDEN / "versions.json").read_text()):
        pytest.skip("golden records were made with other library versions (versions.json)")
    with record.reference_store() as db:
        yield db


@pytest.mark.parametrize("name", NAMES)
def test_analyzer_output_unchanged(name: str, store: Path) -> None:
    from triage.analyzers import get

    if get(name).available() is not None:
        pytest.skip(f"{name} unavailable here")
    want = json.loads((GOLDEN / f"{name}.json").read_text())
    got = {}
    for rel in record.fixture_files():
        rec = record.record_one(rel, name, store)
        if rec is not None:
            got[rel] = rec
    problems: list[str] = []
    _differences(want, got, name, problems)
    assert not problems, (
        "analyzer output changed; if on purpose, re-record with "
        f"`python tests/golden/record.py {name}` and say why:\n" + "\n".join(problems)
    )


def test_recorder_covers_every_analyzer() -> None:
    from triage.analyzers import REGISTRY

    assert set(NAMES) >= set(record.available_analyzers()) & set(REGISTRY)
