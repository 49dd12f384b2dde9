"""Outputs a desk relies on (issue 17): streaming JSONL, format from the -o extension,
check --csv, file modes that honour the umask, an additive schema, scan summary counts."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORE = ROOT / "fixtures" / "core"
ENV = {**os.environ, "NO_COLOR": "1", "TRIAGE_DB": str(ROOT / "no-such-store.sqlite")}


def run_cli(*args: str, umask: int | None = None) -> subprocess.CompletedProcess[str]:
    def set_umask() -> None:
        if umask is not None:
            os.umask(umask)

    return subprocess.run(
        [sys.executable, "-m", "triage", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=ENV,
        timeout=300,
        preexec_fn=set_umask,
    )


def test_check_jsonl_on_stdout_streams_each_report() -> None:
    files = [str(CORE / name) for name in ("stripped.jpg", "camera_original.jpg") * 2]
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "triage", "check", *files, "-f", "jsonl"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
        env=ENV,
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    first_at = time.monotonic()
    rest = proc.stdout.read()
    proc.wait(timeout=300)
    ended = time.monotonic()
    assert json.loads(first)["file"]["path"] == files[0]
    assert len(rest.splitlines()) == 3
    # Buffered output would arrive only at exit; streamed, the first line comes while
    # three more files are still being analyzed.
    assert ended - first_at > 0.25 * (ended - started), (first_at - started, ended - started)


@pytest.mark.parametrize(
    ("suffix", "check"),
    [
        (".json", lambda text: json.loads(text)["file"]["format"] == "jpeg"),
        (".jsonl", lambda text: len(text.splitlines()) == 1 and json.loads(text)),
        (
            ".csv",
            lambda text: next(csv.reader(io.StringIO(text)))[:3] == ["path", "sha256", "format"],
        ),
        (".html", lambda text: text.lstrip().lower().startswith("<!doctype html")),
        (
            ".txt",
            lambda text: "manipulation" in text and "\x1b[" not in text and "{" not in text[:5],
        ),
    ],
)
def test_output_format_follows_the_extension_and_the_umask(
    tmp_path: Path, suffix: str, check: object
) -> None:
    target = tmp_path / f"report{suffix}"
    out = run_cli(
        "check",
        str(CORE / "camera_edited.jpg"),
        "--only",
        "metadata",
        "-o",
        str(target),
        umask=0o027,
    )
    assert out.returncode == 0, out.stderr
    assert callable(check) and check(target.read_text(encoding="utf-8"))
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_check_writes_csv_and_html_beside_json(tmp_path: Path) -> None:
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 not a jpeg")
    table, page = tmp_path / "summary.csv", tmp_path / "page.html"
    out = run_cli(
        "check",
        str(CORE / "camera_edited.jpg"),
        str(bad),
        "--only",
        "metadata",
        "--csv",
        str(table),
        "--html",
        str(page),
        umask=0o002,
    )
    assert out.returncode == 1
    assert len(json.loads(out.stdout)) == 2
    rows = list(csv.DictReader(io.StringIO(table.read_text(encoding="utf-8"))))
    assert {r["status"] for r in rows} == {"ok", "failed"}
    good = next(r for r in rows if r["status"] == "ok")
    assert good["kind"] == "image" and int(good["width"]) > 0 and int(good["height"]) > 0
    for q in ("manipulation", "synthetic", "provenance"):
        assert float(good[f"{q}_low"]) <= float(good[f"{q}_score"]) <= float(good[f"{q}_high"])
    for path in (table, page):
        assert stat.S_IMODE(path.stat().st_mode) == 0o664


def test_write_atomic_gives_the_mode_open_would(tmp_path: Path) -> None:
    from triage.fileio import write_atomic

    old = os.umask(0o077)
    try:
        write_atomic(tmp_path / "private.json", "{}")
        os.umask(0o022)
        write_atomic(tmp_path / "shared.json", "{}")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "private.json").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "shared.json").stat().st_mode) == 0o644


def test_a_1_0_consumer_validates_a_current_report() -> None:
    """tests/data/report-schema-1.0.json is the 1.0 contract as it is meant: the 1.0
    schema with its `additionalProperties: false` taken out (issue 17). A consumer holding
    it validates what this version writes, and the current schema accepts additions a
    later minor version may make."""
    jsonschema = pytest.importorskip("jsonschema")
    from triage import analyze
    from triage.report import SCHEMA_VERSION, report_json_schema

    assert SCHEMA_VERSION == "1.3"
    report = analyze(str(CORE / "camera_edited.jpg")).model_dump(mode="json")
    old = json.loads((ROOT / "tests" / "data" / "report-schema-1.0.json").read_text())
    jsonschema.validate(report, old)
    later = {**report, "something_new": {"added": "in 1.2"}}
    later["file"] = {**report["file"], "new_field": 1}
    jsonschema.validate(later, report_json_schema())
    jsonschema.validate(later, old)
    assert '"additionalProperties": false' not in json.dumps(report_json_schema())


def test_scan_summary_counts_failed_files() -> None:
    from rich.console import Console

    from triage.render.scansummary import render_summary
    from triage.scan.summary import ScanSummary, row_from_report

    def report(path: str, errors: list[dict[str, str]]) -> dict[str, object]:
        return {
            "file": {"path": path},
            "attention": 0.2,
            "questions": {
                q: {"score": 0.2, "interval": [0.1, 0.3], "band": "no-indicators"}
                for q in ("manipulation", "synthetic", "provenance")
            },
            "errors": errors,
        }

    summary = ScanSummary(
        rows=[
            row_from_report(report("a.jpg", [])),
            row_from_report(report("b.jpg", [])),
            row_from_report(report("c.jpg", [{"stage": "decode", "message": "truncated"}])),
        ]
    )
    buf = io.StringIO()
    render_summary(summary, Console(file=buf, width=200, no_color=True), top=25)
    text = buf.getvalue()
    assert "top 2 of 3; 1 failed" in text and "Failed (1)" in text


def _tiff_with_a_tag_past_the_end(path: Path) -> None:
    """An 8x8 grey TIFF whose ImageDescription points 99999 bytes past the end."""
    import struct

    entries = [
        (256, 3, 1, 8), (257, 3, 1, 8), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1),
        (270, 2, 1000, 99999), (273, 4, 1, 0), (277, 3, 1, 1), (278, 3, 1, 8), (279, 4, 1, 64),
    ]  # fmt: skip
    data_offset = 8 + 2 + 12 * len(entries) + 4
    out = b"II*\x00" + struct.pack("<IH", 8, len(entries))
    for tag, kind, count, value in entries:
        value = data_offset if tag == 273 else value
        if kind == 3 and count == 1:
            out += struct.pack("<HHIHH", tag, kind, count, value, 0)
        else:
            out += struct.pack("<HHII", tag, kind, count, value)
    path.write_bytes(out + struct.pack("<I", 0) + bytes(range(64)))


def test_decoder_warnings_go_into_the_report_not_stderr(tmp_path: Path) -> None:
    odd = tmp_path / "odd.tif"
    _tiff_with_a_tag_past_the_end(odd)
    out = run_cli(
        "check", str(odd), str(CORE / "stripped.jpg"), "--only", "metadata", "-f", "jsonl"
    )
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""
    odd_report, plain = map(json.loads, out.stdout.splitlines())
    assert any("Tag data larger than file" in w for w in odd_report["warnings"])
    assert "warnings" not in plain  # left out when there are none, as in 1.0


def test_native_stderr_is_captured_and_python_stderr_is_not() -> None:
    from triage.libwarnings import captured

    with captured() as caught:
        os.write(2, b"TIFFReadDirectory: a C library speaking\n")
        print("a progress bar", file=sys.stderr)
    assert caught == ["TIFFReadDirectory: a C library speaking"]


def test_text_report_keeps_wrapped_details_and_gaps_indented() -> None:
    # A desk reads the text report at any terminal width: a detail or a "not checked"
    # line that wraps must stay under its finding or beside its dash, not at the margin.
    from triage.pipeline import analyze_path
    from triage.render.text import render_reports

    report = analyze_path(str(ROOT / "fixtures" / "core" / "stripped.jpg"))
    lines = render_reports([report], width=60).splitlines()
    inner = [line.strip("│").rstrip() for line in lines if line.startswith("│")]
    start = inner.index(" Not checked")
    after_dash = False
    for line in inner[start + 1 :]:
        if not line.strip():
            break
        assert line.startswith("   - ") or (after_dash and line.startswith("     ")), line
        after_dash = True
    detail = next(i for i, line in enumerate(inner) if "carries no EXIF" in line)
    assert inner[detail].startswith("       ") and inner[detail + 1].startswith("       ")


def test_an_animated_image_says_how_many_frames_and_that_the_first_is_examined(
    tmp_path: Path,
) -> None:
    from PIL import Image

    from triage import analyze
    from triage.render.text import render_reports

    frames = [Image.new("RGB", (320, 240), (40 * i, 90, 200 - 40 * i)) for i in range(5)]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:], duration=80)
    frames[0].save(tmp_path / "still.gif")
    animated, still = analyze(tmp_path / "anim.gif"), analyze(tmp_path / "still.gif")
    assert animated.file.frames == 5 and still.file.frames is None
    assert "5 frames, the first examined" in render_reports([animated], width=400)
    assert "frames" not in still.model_dump(mode="json")["file"]
    assert animated.model_dump(mode="json")["file"]["frames"] == 5
    from triage.render.csv import csv_text, rows_from_reports

    table = csv_text(rows_from_reports([animated, still])).splitlines()
    column = table[0].split(",").index("frames")
    assert sorted(line.split(",")[column] for line in table[1:]) == ["", "5"]


def test_a_jpeg_with_a_second_mpf_image_is_not_counted_as_frames(tmp_path: Path) -> None:
    """A phone's JPEG often carries a gain map or a depth map as a second MPF image."""
    from PIL import Image

    from triage import analyze

    photo = Image.new("RGB", (320, 240), (120, 90, 60))
    path = tmp_path / "phone.jpg"
    photo.save(path, "MPO", save_all=True, append_images=[photo.convert("L").convert("RGB")])
    assert Image.open(path).n_frames == 2
    assert analyze(path).file.frames is None


def test_score_table_keeps_its_words_and_numbers_whole_at_80_columns() -> None:
    # 80 columns is a default terminal and any pipe: the bar used to squeeze the table
    # until the question, band and interval read "manip…", "insuf…", "[0.0…".
    from triage.pipeline import analyze_path
    from triage.render.text import bar_scale, render_reports

    report = analyze_path(str(CORE / "stripped.jpg"))
    for width, with_bar in ((80, False), (110, True)):
        text = render_reports([report], width=width)
        assert "…" not in text.split("┏")[1].split("manipulation:")[0], width
        for q in ("manipulation", "synthetic", "provenance"):
            r = report.questions[q]
            row = next(line for line in text.splitlines() if line.startswith(f"│ │{q} "))
            assert r.band in row and f"[{r.interval[0]:.2f}, {r.interval[1]:.2f}]" in row
            assert ("|" in row.split("]")[1]) is with_bar, row
    scale = bar_scale(21)
    assert len(scale) == 21 and scale.startswith("0") and scale.endswith("1")
    assert scale[9:12] == "0.5"
