"""End-to-end behaviour of `triage check`, `analyzers`, `schema` and bad input."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from triage.report import SCHEMA_VERSION, report_json_schema

ROOT = Path(__file__).resolve().parent.parent
CORE = ROOT / "fixtures" / "core"
BAD = ROOT / "fixtures" / "bad"


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "triage", *args],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        env={**os.environ, "NO_COLOR": "1", "TRIAGE_DB": str(ROOT / "no-such-store.sqlite")},
        timeout=300,
    )


def _fingerprint(path: Path) -> tuple[str, float]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime


def test_version_and_help() -> None:
    out = run_cli("--version")
    assert out.returncode == 0 and out.stdout.startswith("triage ")
    helped = run_cli("check", "--help")
    assert helped.returncode == 0
    assert "Examples" in helped.stdout and "--format" in helped.stdout


def test_check_json_single_file_is_an_object_and_valid() -> None:
    out = run_cli("check", str(CORE / "camera_original.jpg"), "--format", "json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["schema_version"] == SCHEMA_VERSION
    assert report["file"]["format"] == "jpeg"
    assert set(report["questions"]) == {"manipulation", "synthetic", "provenance"}
    for q in report["questions"].values():
        lo, hi = q["interval"]
        assert 0 <= lo <= q["score"] <= hi <= 1
    assert "Traceback" not in out.stderr


def test_bad_inputs_give_one_line_errors_and_exit_1(tmp_path: Path) -> None:
    weird = tmp_path / "a folder with spaces ünïcode"
    weird.mkdir()
    good = weird / "phōto copy.jpg"
    good.write_bytes((CORE / "camera_original.jpg").read_bytes())
    unreadable = tmp_path / "locked.jpg"
    unreadable.write_bytes((CORE / "stripped.jpg").read_bytes())
    unreadable.chmod(0)
    inputs = [
        *sorted(BAD.iterdir()),
        tmp_path,  # a directory
        tmp_path / "missing.jpg",
        unreadable,
        good,
        CORE / "stripped.jpg",
    ]
    before = {p: _fingerprint(p) for p in inputs if p.is_file() and os.access(p, os.R_OK)}
    out = run_cli("check", *map(str, inputs), "--format", "jsonl")
    assert out.returncode == 1, out.stderr
    assert "Traceback" not in out.stderr + out.stdout
    reports = {r["file"]["path"]: r for r in map(json.loads, out.stdout.splitlines())}
    assert len(reports) == len(inputs)
    for name in (
        "empty.jpg",
        "random_bytes.jpg",
        "truncated.jpg",
        "bad_crc.png",
        "bomb_60000x60000.png",
    ):
        errs = reports[str(BAD / name)]["errors"]
        assert errs, name
        assert all("\n" not in e["message"] for e in errs)
        assert all(
            q["band"] == "insufficient-evidence"
            for q in reports[str(BAD / name)]["questions"].values()
        )
    assert "directory" in reports[str(tmp_path)]["errors"][0]["message"]
    assert "no such file" in reports[str(tmp_path / "missing.jpg")]["errors"][0]["message"]
    if os.geteuid() != 0:  # root reads anything; the check is meaningful for users only
        assert "permission" in reports[str(unreadable)]["errors"][0]["message"]
    assert "MP limit" in reports[str(BAD / "bomb_60000x60000.png")]["errors"][0]["message"]
    # the good files in the same call were analyzed
    assert reports[str(good)]["errors"] == []
    assert reports[str(good)]["findings"]
    assert reports[str(CORE / "stripped.jpg")]["errors"] == []
    # inputs untouched
    for path, fp in before.items():
        assert _fingerprint(path) == fp, path


def test_output_is_written_atomically_and_text_mode_renders(tmp_path: Path) -> None:
    target = tmp_path / "out" / "reports.jsonl"
    out = run_cli("check", str(CORE / "camera_edited.jpg"), "--output", str(target))
    assert out.returncode == 0, out.stderr
    lines = target.read_text().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["file"]["format"] == "jpeg"
    assert not [p for p in target.parent.iterdir() if p.name.endswith(".tmp")]
    text = run_cli("check", str(CORE / "camera_edited.jpg"), "--format", "text")
    assert text.returncode == 0
    for word in (
        "manipulation",
        "synthetic",
        "provenance",
        "Findings",
        "metadata.editing_software",
    ):
        assert word in text.stdout


def test_usage_errors_exit_2() -> None:
    assert run_cli("check", str(CORE / "stripped.jpg"), "--only", "nonsense").returncode == 2
    assert run_cli("check", str(CORE / "stripped.jpg"), "--prior", "2").returncode == 2
    assert run_cli("check").returncode == 2


def test_only_and_skip_select_analyzers() -> None:
    out = run_cli("check", str(CORE / "camera_original.jpg"), "-f", "json", "--only", "metadata")
    names = [a["name"] for a in json.loads(out.stdout)["analyzers"]]
    assert names == ["metadata"]
    out = run_cli("check", str(CORE / "camera_original.jpg"), "-f", "json", "--skip", "metadata")
    assert "metadata" not in [a["name"] for a in json.loads(out.stdout)["analyzers"]]


def test_prior_is_reported_and_moves_the_score() -> None:
    low = json.loads(
        run_cli(
            "check", str(CORE / "camera_edited.jpg"), "-f", "json", "--prior", "manipulation=0.1"
        ).stdout
    )
    mid = json.loads(run_cli("check", str(CORE / "camera_edited.jpg"), "-f", "json").stdout)
    assert low["questions"]["manipulation"]["prior"] == pytest.approx(0.1)
    assert low["questions"]["manipulation"]["score"] < mid["questions"]["manipulation"]["score"]


def test_analyzers_command_lists_registry() -> None:
    out = run_cli("analyzers", "--json")
    rows = json.loads(out.stdout)
    assert any(r["name"] == "metadata" and "manipulation" in r["questions"] for r in rows)


def test_schema_command_matches_committed_schema() -> None:
    out = run_cli("schema")
    assert json.loads(out.stdout) == report_json_schema()
    committed = json.loads((ROOT / "docs" / "report-schema.json").read_text())
    assert committed == report_json_schema(), "run: triage schema > docs/report-schema.json"


def test_every_fixture_report_validates_against_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = report_json_schema()
    paths = sorted(p for p in (ROOT / "fixtures").rglob("*") if p.is_file() and p.suffix != ".py")
    paths = [p for p in paths if "mask" not in p.name][:80]
    out = run_cli("check", *map(str, paths), "-f", "jsonl")
    assert out.returncode in (0, 1)
    lines = out.stdout.splitlines()
    assert len(lines) == len(paths)
    for line in lines:
        jsonschema.validate(json.loads(line), schema)


def test_help_texts_carry_no_markup_and_keep_examples_on_their_own_lines() -> None:
    for command in ("check", "scan", "evaluate", "db"):
        res = run_cli(command, "--help")
        assert res.returncode == 0, command
        assert "[bold]" not in res.stdout and "[dim]" not in res.stdout, command
    lines = run_cli("evaluate", "--help").stdout.splitlines()
    examples = [ln.strip() for ln in lines if ln.strip().startswith("triage evaluate")]
    assert len(examples) == 3


def test_failed_files_are_named_on_stderr_when_stdout_is_machine_output(tmp_path: Path) -> None:
    bad = tmp_path / "bad\x1b[31mname.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    good = CORE / "stripped.jpg"
    out = run_cli("check", str(bad), str(good), "--format", "json")
    assert out.returncode == 1
    lines = [ln for ln in out.stderr.splitlines() if ln.startswith("triage: ")]
    assert len(lines) == 1
    assert "\x1b" not in out.stderr and "\\x1b[31mname.jpg" in lines[0]
    assert len(json.loads(out.stdout)) == 2


def test_check_reads_one_file_piped_on_standard_input(tmp_path: Path) -> None:
    """`curl -s URL | triage check -`: the same report as the file's, named "-", in a
    worker as any file (its copy is private and removed)."""
    data = (CORE / "camera_original.jpg").read_bytes()
    env = {**os.environ, "NO_COLOR": "1", "TRIAGE_DB": str(ROOT / "no-such-store.sqlite")}
    env["TMPDIR"] = str(tmp_path)
    piped = subprocess.run(
        [sys.executable, "-m", "triage", "check", "-", str(CORE / "scene.png"), "-f", "jsonl"],
        input=data,
        capture_output=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )
    assert piped.returncode == 0, piped.stderr
    stdin_report, other = (json.loads(line) for line in piped.stdout.splitlines())
    assert stdin_report["file"]["path"] == "-" and stdin_report["file"]["mtime"] is None
    assert other["file"]["path"].endswith("scene.png")
    direct = json.loads(run_cli("check", str(CORE / "camera_original.jpg"), "-f", "json").stdout)
    assert stdin_report["file"]["sha256"] == direct["file"]["sha256"]
    assert stdin_report["questions"] == direct["questions"]
    assert not list(tmp_path.glob("triage-*"))  # the private copy is gone
    twice = subprocess.run(
        [sys.executable, "-m", "triage", "check", "-", "-"],
        input=data,
        capture_output=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )
    assert twice.returncode == 2 and b"can be given once" in twice.stderr
