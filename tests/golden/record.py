"""Record each analyzer's output on the fixtures, for ``tests/test_golden.py``.

    python tests/golden/record.py              # every analyzer
    python tests/golden/record.py ANALYZER ... # only these (after changing one on purpose)

One JSON file per analyzer (``tests/golden/NAME.json``): per fixture file, the
finding ids, titles, details, evidence and strengths, raw metrics, examined shares,
not_checked, skipped reason and artifact kinds. Timings and scores are left out:
scores come from the calibration, not from the analyzer. Each (file, analyzer) pair
runs on a fresh ``Media`` so an analyzer's record does not depend on which others ran.
The provenance analyzer looks up a store built here from two fixture originals.
"""

from __future__ import annotations

import json
import math
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures"
GOLDEN = Path(__file__).resolve().parent
# Media fixtures only; masks are inputs of the evaluation, not files to check.
SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".mp4", ".mov", ".tif", ".tiff", ".gif"}
# Video fixtures are long to analyze; two cover the video paths.
VIDEOS = {"video/clean.mp4", "video/spliced_copy.mp4", "provenance/clip_small.mp4"}
# The reference store the provenance analyzer looks up.
STORE_FILES = ("provenance/orig_a.jpg", "provenance/clip.mp4")
# The day the records were made, given to the store as every reference's first sighting.
FIRST_SEEN = "2026-12-05"
# Keys that hold wall-clock facts of this run (timings, when the store was built).
VOLATILE = {"timings_ms", "added_at"}
SIGNIFICANT = 6  # float digits kept: enough to see a change, not platform noise


def fixture_files() -> list[str]:
    """Fixture paths (relative, POSIX) the golden records cover, sorted."""
    out = []
    for p in sorted(FIXTURES.rglob("*")):
        rel = p.relative_to(FIXTURES).as_posix()
        if not p.is_file() or p.suffix.lower() not in SUFFIXES or "_mask" in p.stem:
            continue
        if p.suffix.lower() in {".mp4", ".mov"} and rel not in VIDEOS:
            continue
        out.append(rel)
    return out


def plain(value: Any) -> Any:
    """JSON-ready copy of ``value``: numpy scalars and arrays unwrapped, floats rounded."""
    import numpy as np

    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return plain(value.tolist())
    if isinstance(value, np.generic):
        return plain(value.item())
    if isinstance(value, Path):
        return value.as_posix()
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            return repr(value)
        return float(f"{value:.{SIGNIFICANT}g}")
    return repr(value)


@contextmanager
def reference_store() -> Iterator[Path]:
    """A temporary store holding ``STORE_FILES`` (label ``original``)."""
    from typer.testing import CliRunner

    from triage.cli import app

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "golden.sqlite"
        files = [str(FIXTURES / f) for f in STORE_FILES]
        res = CliRunner().invoke(
            app,
            # A fixed date: the records name it, and they must not change at midnight.
            [
                "db",
                "add",
                *files,
                "--db",
                str(db),
                "--label",
                "original",
                "--source",
                "golden",
                "--first-seen",
                FIRST_SEEN,
            ],
        )
        if res.exit_code != 0:
            raise RuntimeError(f"db add failed: {res.output}")
        yield db


def record_one(rel: str, name: str, db: Path) -> dict[str, Any] | None:
    """What analyzer ``name`` says about fixture ``rel``; None when it does not apply."""
    from triage.analyzers import get
    from triage.analyzers.base import Context
    from triage.errors import MediaError
    from triage.media import Media

    analyzer = get(name)
    try:
        media = Media.open(FIXTURES / rel)
    except MediaError:
        return None
    if not analyzer.applies_to(media):
        return None
    ctx = Context(want_artifacts=True, db_path=db)
    try:
        result = analyzer.run(media, ctx)
    except MediaError as exc:
        return {"media_error": str(exc)}
    text = json.dumps(
        plain(
            {
                "findings": [
                    {
                        "id": f.id,
                        "question": f.question,
                        "title": f.title,
                        "detail": f.detail,
                        "evidence": f.evidence,
                        "strength": f.strength,
                    }
                    for f in result.findings
                ],
                "metrics": result.metrics,
                "examined": result.examined,
                "not_checked": result.not_checked,
                "skipped_reason": result.skipped_reason,
                "artifacts": [[a.kind, a.title, a.contains_pixels] for a in result.artifacts],
            }
        )
    )
    # The temporary store's path appears in some messages; it is not the analyzer's output.
    return json.loads(text.replace(str(db), "<store>").replace(str(FIXTURES), "<fixtures>"))


def record(names: list[str]) -> dict[str, dict[str, Any]]:
    """Records of the analyzers ``names``: name -> fixture -> record."""
    out: dict[str, dict[str, Any]] = {n: {} for n in names}
    with reference_store() as db:
        for rel in fixture_files():
            for name in names:
                rec = record_one(rel, name, db)
                if rec is not None:
                    out[name][rel] = rec
    return out


def library_versions() -> dict[str, str]:
    """Versions of the libraries whose numbers and messages the records hold."""
    import cv2
    import numpy as np
    import PIL

    return {"numpy": np.__version__, "Pillow": PIL.__version__, "opencv": cv2.__version__}


def available_analyzers() -> list[str]:
    from triage.analyzers import REGISTRY, get

    return [n for n in REGISTRY if get(n).available() is None]


def main(argv: list[str]) -> int:
    from triage.analyzers import REGISTRY

    names = argv or available_analyzers()
    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        print(f"unknown analyzer(s): {', '.join(unknown)}", file=sys.stderr)
        return 2
    for name, records in record(names).items():
        path = GOLDEN / f"{name}.json"
        path.write_text(json.dumps(records, indent=1, sort_keys=True) + "\n")
        print(f"{path.relative_to(ROOT)}: {len(records)} files")
    versions = GOLDEN / "versions.json"
    if versions.exists() and json.loads(versions.read_text()) != library_versions() and argv:
        print("warning: versions.json differs from this machine; re-record all", file=sys.stderr)
    if not argv or not versions.exists():
        versions.write_text(json.dumps(library_versions(), indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
