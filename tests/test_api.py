"""The Python API (issue 17): analyze() on a path, bytes or a stream; analyze_many()
in worker processes; py.typed; scan --group-distance."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import triage
from triage.report import Report

ROOT = Path(__file__).resolve().parent.parent
CORE = ROOT / "fixtures" / "core"
PROV = ROOT / "fixtures" / "provenance"
FAST = {"only": ["metadata", "compression"]}


def _scores(report: Report) -> dict[str, float]:
    return {q: r.score for q, r in report.questions.items()}


def test_analyze_takes_a_path_bytes_or_a_stream_alike() -> None:
    path = CORE / "camera_edited.jpg"
    by_path = triage.analyze(path, **FAST)
    by_bytes = triage.analyze(path.read_bytes(), name="upload.jpg", **FAST)
    with open(path, "rb") as fh:
        by_stream = triage.analyze(fh, **FAST)
    by_buffer = triage.analyze(io.BytesIO(path.read_bytes()), **FAST)
    assert isinstance(by_path, Report) and not by_path.failed
    for other in (by_bytes, by_stream, by_buffer):
        assert other.file.sha256 == by_path.file.sha256
        assert _scores(other) == _scores(by_path)
        assert [f.id for f in other.findings] == [f.id for f in by_path.findings]
    assert by_bytes.file.path == "upload.jpg" and by_bytes.file.mtime is None
    assert by_stream.file.path == str(path)
    assert by_buffer.file.path == "<stream>"


def test_analyze_bad_content_is_an_error_entry_not_an_exception() -> None:
    report = triage.analyze(b"\x00" * 100, name="junk.jpg")
    assert report.failed and report.errors[0].message
    too_big = triage.analyze(io.BytesIO(b"\xff" * 5000), max_bytes=1000)
    assert too_big.failed and "limit" in too_big.errors[0].message
    with pytest.raises(TypeError):
        triage.analyze(42)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        triage.analyze(CORE / "stripped.jpg", only=["no-such-analyzer"])


def test_a_file_nothing_could_examine_reads_the_prior_not_the_model(tmp_path: Path) -> None:
    # The fitted fusion's intercept and "not examined" terms alone read 0.06 for
    # manipulation and 0.60 for synthetic: a newsroom script must not see those for a
    # file that was never examined.
    for report in (
        triage.analyze(b"\x00" * 100, name="junk.jpg"),
        triage.analyze(tmp_path / "missing.png"),
    ):
        assert report.failed
        for result in report.questions.values():
            assert result.score == result.prior == 0.5
            assert tuple(result.interval) == (0.0, 1.0)
            assert result.band == "insufficient-evidence" and result.coverage == 0.0


def test_analyze_many_yields_one_report_per_path_in_order(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8\xff garbage")
    paths = [CORE / "stripped.jpg", bad, CORE / "camera_edited.jpg", CORE / "scene.png"]
    got = list(triage.analyze_many(paths, jobs=2, **FAST))
    assert [r.file.path for r in got] == [str(p) for p in paths]
    assert [r.failed for r in got] == [False, True, False, False]
    single = list(triage.analyze_many(paths[:2], jobs=1, **FAST))
    assert _scores(single[0]) == _scores(got[0])
    unordered = list(triage.analyze_many(paths, jobs=2, ordered=False, **FAST))
    assert sorted(r.file.path for r in unordered) == sorted(str(p) for p in paths)


def test_package_is_typed() -> None:
    assert (ROOT / "triage" / "py.typed").is_file()


def test_scan_group_distance_sets_the_near_duplicate_threshold(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    # orig_a and its brightened copy: pHashes 4 bits apart; orig_b: 30 bits away.
    for name in ("orig_a.jpg", "orig_a_bright15.jpg", "orig_b.jpg"):
        shutil.copy(PROV / name, folder / name)

    def summary(*extra: str) -> str:
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "triage",
                "scan",
                str(folder),
                "-j",
                "1",
                "--only",
                "provenance",
                "-o",
                str(tmp_path / "s.jsonl"),
                *extra,
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env={**os.environ, "NO_COLOR": "1", "COLUMNS": "200"},
            timeout=300,
        )
        assert out.returncode == 0, out.stderr
        return out.stdout + out.stderr

    default = summary()
    assert "Near-duplicate groups (pHash within 8 bits): 1" in default
    assert "triage compare FILE1 FILE2" in default  # the next step, named
    strict = summary("--group-distance", "3")
    assert "Near-duplicate groups: none" in strict
    loose = summary("--group-distance", "40")
    assert "(pHash within 40 bits): 1" in loose  # all three in one group
    assert json.loads((tmp_path / "s.jsonl").read_text().splitlines()[0])["file"]["path"]


def test_readme_example_compiles_and_names_real_api() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Python API", 1)[1].split("\n## ", 1)[0]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    compile(code, "README.md", "exec")
    assert "triage.analyze(" in code and "triage.analyze_many(" in code
    for name in ("camera_edited.jpg", "stripped.jpg"):
        assert (CORE / name).is_file()


@pytest.mark.parametrize("how", ["script without a main guard", "script on standard input"])
def test_analyze_many_works_from_any_caller_script(tmp_path: Path, how: str) -> None:
    """A newsroom's quick script has no ``if __name__ == "__main__":`` guard, or is
    piped to python: its workers used to import it again (or fail to find it) and every
    file read "the worker process exited (code 1)"."""
    code = (
        "import triage\n"
        f"paths = [{str(ROOT / 'fixtures/core/scene.png')!r}, "
        f"{str(ROOT / 'fixtures/core/stripped.jpg')!r}]\n"
        "reports = list(triage.analyze_many(paths, jobs=2))\n"
        "print('errors:', sum(len(r.errors) for r in reports), 'reports:', len(reports))\n"
    )
    if how.startswith("script without"):
        script = tmp_path / "quick.py"
        script.write_text(code)
        run = subprocess.run(
            [sys.executable, str(script)], capture_output=True, text=True, timeout=300
        )
    else:
        run = subprocess.run(
            [sys.executable, "-"], input=code, capture_output=True, text=True, timeout=300
        )
    assert run.returncode == 0, run.stderr[-2000:]
    assert "errors: 0 reports: 2" in run.stdout, run.stderr[-2000:]
