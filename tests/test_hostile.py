"""Hostile inputs (issue 19): memory bombs, a JPEG whose SOF lies, unreadable files,
truncated PNGs, control characters in names. Every crafted file is made here."""

from __future__ import annotations

import io
import json
import os
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from triage.media import Media
from triage.pipeline import Options, analyze_path

ROOT = Path(__file__).resolve().parent.parent
SCENE = ROOT / "fixtures" / "core" / "scene.png"
CAMERA = ROOT / "fixtures" / "core" / "camera_edited.jpg"


def _chunk(ctype: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(ctype + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", crc)


def bilevel_png(side: int, text: dict[str, str] | None = None) -> bytes:
    """A 1-bit PNG of ``side`` x ``side`` zeros: a few KB declaring side**2 pixels."""
    row = b"\x00" * (1 + (side + 7) // 8)
    comp = zlib.compressobj(9)
    idat = b"".join(comp.compress(row) for _ in range(side)) + comp.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    extra = b"".join(
        _chunk(b"tEXt", k.encode("latin-1") + b"\0" + v.encode("latin-1"))
        for k, v in (text or {}).items()
    )
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", ihdr)
        + extra
        + _chunk(b"IDAT", idat)
        + _chunk(b"IEND", b"")
    )


def sof_patched_jpeg(side: int, keep_scan: bool) -> bytes:
    """A 64x64 JPEG whose SOF is patched to claim ``side`` x ``side`` pixels."""
    buf = io.BytesIO()
    Image.fromarray(np.full((64, 64, 3), 128, np.uint8)).save(buf, "JPEG", quality=90)
    data = bytearray(buf.getvalue())
    sof = data.find(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, side, side)
    if not keep_scan:
        data = data[: data.find(b"\xff\xda")] + b"\xff\xd9"
    return bytes(data)


def _errors(report) -> list[str]:  # type: ignore[no-untyped-def]
    return [f"{e.stage}: {e.message}" for e in report.errors]


# ------------------------------------------------------------------ memory
def test_bilevel_png_over_the_decode_budget_is_analyzed_on_a_reduction(tmp_path: Path) -> None:
    path = tmp_path / "bilevel.png"
    path.write_bytes(bilevel_png(3000, {"Software": "crafted"}))
    opts = Options(max_decoded_bytes=24 * 2**20, threads=1)
    report = analyze_path(path, opts)
    errs = _errors(report)
    assert any("over the 24 MB decode budget" in e for e in errs), errs
    runs = {r.name: r for r in report.analyzers}
    # Full-resolution analyzers say why they did not run; reduction-based ones ran.
    assert runs["compression"].status == "skipped"
    assert "decode budget" in (runs["compression"].message or "")
    assert runs["provenance"].status == "ok"
    assert runs["metadata"].status == "ok"
    media = Media.open(path, max_decoded_bytes=24 * 2**20)
    assert media.decoded_bytes == 3000 * 3000 * (1 + 3 + 4)
    small = media.reduced(512)
    assert max(small.shape[:2]) <= 512 and small.dtype == np.uint8
    assert "_decoded" not in media.__dict__  # the full-size image never existed


def test_bilevel_png_bomb_stays_under_a_memory_cap(tmp_path: Path) -> None:
    """The issue's 196 MP 1-bit PNG (24 KB) took 2.3-2.8 GB; now it runs under 1.2 GB."""
    path = tmp_path / "bomb.png"
    path.write_bytes(bilevel_png(14000))
    code = (
        "import json, resource, sys\n"
        "from triage.pipeline import Options, analyze_path\n"
        "r = analyze_path(sys.argv[1], Options(threads=1))\n"
        "peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024\n"
        "print(json.dumps({'peak_mb': peak, 'errors': [e.message for e in r.errors]}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["peak_mb"] < 1200, result
    assert any("decode budget" in m for m in result["errors"]), result


@pytest.mark.parametrize("keep_scan", [True, False])
def test_jpeg_whose_sof_claims_more_than_its_scan_holds_is_an_error(
    tmp_path: Path, keep_scan: bool
) -> None:
    path = tmp_path / "sof.jpg"
    path.write_bytes(sof_patched_jpeg(14000, keep_scan))
    assert path.stat().st_size < 4096
    report = analyze_path(path, Options(threads=1))
    errs = _errors(report)
    want = "is truncated" if keep_scan else "no compressed image data"
    assert any(e.startswith("decode: ") and want in e for e in errs), errs
    assert report.failed
    # Every pixel analyzer says why, instead of decoding 14000 x 14000 grey pixels.
    runs = {r.name: r for r in report.analyzers}
    for name in ("compression", "provenance", "noise"):
        assert runs[name].status == "skipped" and want in (runs[name].message or ""), name


def test_entropy_bound_holds_for_real_jpegs(tmp_path: Path) -> None:
    """Flat, tiny, progressive, grey and subsampled JPEGs all pass the lower bound."""
    from triage.forensics.jpeg import min_entropy_bytes, parse_jpeg

    rng = np.random.default_rng(0)
    cases = {
        "flat": np.full((2000, 3000, 3), 200, np.uint8),
        "noise": rng.integers(0, 255, (300, 500, 3), dtype=np.uint8),
        "tiny": np.zeros((1, 1, 3), np.uint8),
    }
    for name, arr in cases.items():
        for kw in ({}, {"progressive": True}, {"subsampling": 0}, {"quality": 5}):
            for mode in ("RGB", "L"):
                buf = io.BytesIO()
                Image.fromarray(arr).convert(mode).save(buf, "JPEG", **kw)
                info = parse_jpeg(buf.getvalue())
                assert info.frame is not None
                need = min_entropy_bytes(info.frame) or 0
                assert info.entropy_bytes >= need, (name, kw, mode)


# --------------------------------------------------------------- unreadable
def _can_drop_dac() -> str | None:
    if os.geteuid() != 0:
        return None
    if shutil.which("setpriv") is None:
        return "running as root and setpriv is not installed to drop CAP_DAC_OVERRIDE"
    drop = "-dac_override,-dac_read_search"
    probe = subprocess.run(
        ["setpriv", f"--bounding-set={drop}", f"--inh-caps={drop}", "--", "true"],
        capture_output=True,
    )
    if probe.returncode != 0:
        return "running as root and this container does not let setpriv drop capabilities"
    return None


def test_unreadable_file_is_a_per_file_error(tmp_path: Path) -> None:
    reason = _can_drop_dac()
    if reason:
        pytest.skip(reason)
    locked = tmp_path / "locked.png"
    shutil.copy(SCENE, locked)
    locked.chmod(0)
    ok = tmp_path / "ok.png"
    shutil.copy(SCENE, ok)
    cmd = [sys.executable, "-m", "triage", "check", "-f", "json", "--only", "metadata"]
    cmd += [str(locked), str(ok)]
    if os.geteuid() == 0:  # root reads anything: run without DAC override instead
        drop = "-dac_override,-dac_read_search"
        cmd = ["setpriv", f"--bounding-set={drop}", f"--inh-caps={drop}", "--", *cmd]
    env = {**os.environ, "NO_COLOR": "1"}
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 1, out.stderr
    reports = json.loads(out.stdout)
    assert [r["file"]["path"] for r in reports] == [str(locked), str(ok)]
    assert "permission denied" in reports[0]["errors"][0]["message"]
    assert reports[1]["errors"] == []
    assert "locked.png: open: permission denied" in out.stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_pipe_given_to_check_is_a_per_file_error_not_a_hang(tmp_path: Path) -> None:
    # The worker's error entry, then the parent's identity fill (hash and sniff) of a
    # failed file, both opened the path: open() on a FIFO waits for a writer for ever.
    pipe = tmp_path / "pipe.jpg"
    os.mkfifo(pipe)
    ok = tmp_path / "ok.png"
    shutil.copy(SCENE, ok)
    cmd = [sys.executable, "-m", "triage", "check", "-f", "json", "--only", "metadata"]
    out = subprocess.run(
        [*cmd, "--timeout", "20", str(pipe), str(ok)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert out.returncode == 1, out.stderr
    reports = json.loads(out.stdout)
    assert [r["file"]["path"] for r in reports] == [str(pipe), str(ok)]
    assert reports[0]["errors"][0]["message"] == "not a regular file (device, pipe or socket)"
    assert reports[0]["file"]["sha256"] is None
    assert reports[1]["errors"] == []


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_open_input_refuses_pipes_and_folders_at_once(tmp_path: Path) -> None:
    from triage.fileio import open_input, sha256_of

    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    with pytest.raises(OSError, match="not a regular file"):
        open_input(pipe)  # would block in open() without O_NONBLOCK
    assert sha256_of(pipe) is None
    with pytest.raises(IsADirectoryError):
        open_input(tmp_path)
    with open_input(SCENE) as fh:
        assert fh.read(8) == SCENE.read_bytes()[:8]


# ----------------------------------------------------------- truncated PNG
def test_truncated_png_keeps_its_metadata_and_says_what_was_cut(tmp_path: Path) -> None:
    rgb = io.BytesIO()
    img = Image.open(SCENE)
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Software", "Adobe Photoshop 25.0")
    img.save(rgb, "PNG", pnginfo=info)
    data = rgb.getvalue()
    path = tmp_path / "cut.png"
    path.write_bytes(data[: len(data) // 2])
    report = analyze_path(path, Options(threads=1))
    runs = {r.name: r for r in report.analyzers}
    assert runs["metadata"].status == "ok", runs["metadata"].message
    cut = [n for n in runs["metadata"].not_checked if "ends at byte" in n]
    assert cut and "inside chunk IDAT" in cut[0], runs["metadata"].not_checked
    assert "Software" in runs["metadata"].metrics["png_text_keys"]
    assert any("truncated" in e for e in _errors(report))


def test_png_text_reader_matches_pillow_on_complete_files() -> None:
    from triage.forensics.png import read_png_text

    for path in sorted((ROOT / "fixtures" / "synthetic").glob("*.png")):
        got = read_png_text(path.read_bytes())
        assert got.iend and got.cut is None
        assert got.text == dict(Image.open(path).text), path.name


# ------------------------------------------------------- terminal injection
ESC_NAME = "evil\x1b[31mRED\x1b]0;pwned\x07\rx[bold]b.jpg"


def test_control_characters_never_reach_the_terminal(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(CAMERA, folder / ESC_NAME)
    (folder / "bad\x1b[2J.jpg").write_bytes(b"junk")
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    base = [sys.executable, "-m", "triage"]
    names = sorted(str(p) for p in folder.iterdir())
    check = subprocess.run(
        [*base, "check", "-f", "text", "--only", "metadata", *names],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    scan = subprocess.run(
        [*base, "scan", str(folder), "--only", "metadata", "-o", str(tmp_path / "o.jsonl")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    for out in (check, scan):
        text = out.stdout + out.stderr
        assert "\x1b" not in text and "\r" not in text and "\x07" not in text
        assert "bad\\x1b[2J.jpg" in text
    assert "evil\\x1b[31mRED\\x1b]0;pwned\\x07\\x0dx[bold]b.jpg" in check.stdout
    # The JSONL keeps the real name (escaped by JSON, not altered).
    names_out = [
        json.loads(line)["file"]["path"] for line in (tmp_path / "o.jsonl").read_text().splitlines()
    ]
    assert str(folder / ESC_NAME) in names_out


# ------------------------------------------------------------ limits per file
def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    tests = str(ROOT / "tests")
    env["PYTHONPATH"] = os.pathsep.join([tests, str(ROOT), env.get("PYTHONPATH", "")])
    env["NO_COLOR"] = "1"
    env.update(extra)
    return env


def _copies(folder: Path, names: list[str]) -> list[Path]:
    folder.mkdir(exist_ok=True)
    out = []
    for name in names:
        shutil.copy(CAMERA, folder / name)
        out.append(folder / name)
    return out


@pytest.mark.parametrize("command", ["scan", "check"])
def test_timeout_does_not_count_a_workers_start_up(tmp_path: Path, command: str) -> None:
    files = _copies(tmp_path / "in", ["a.jpg", "b.jpg"])
    env = _env(TRIAGE_EXTRA_ANALYZERS="slow_start:LazyImportAnalyzer", TRIAGE_TEST_START_SLEEP="3")
    args = ["--timeout", "2", "--only", "metadata,test_lazy", "-j", "1"]
    target = [str(tmp_path / "in"), "-o", str(tmp_path / "o.jsonl")]
    if command == "check":
        target = ["-f", "jsonl", *map(str, files)]
    out = subprocess.run(
        [sys.executable, "-m", "triage", command, *target, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    text = out.stdout if command == "check" else (tmp_path / "o.jsonl").read_text()
    reports = [json.loads(line) for line in text.splitlines()]
    assert len(reports) == 2 and all(r["errors"] == [] for r in reports), out.stderr
    assert out.returncode == 0


def test_check_timeout_and_memory_limit_are_per_file(tmp_path: Path) -> None:
    files = _copies(tmp_path / "in", ["hang.jpg", "hog.jpg", "fine.jpg"])
    env = _env(TRIAGE_EXTRA_ANALYZERS="scan_analyzers:HangAnalyzer,scan_analyzers:HogAnalyzer")
    out = subprocess.run(
        [
            *(sys.executable, "-m", "triage", "check", "-f", "json", *map(str, files)),
            *("--timeout", "4", "--max-memory", "3072", "--only", "metadata,test_hang,test_hog"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert out.returncode == 1, out.stderr
    reports = {Path(r["file"]["path"]).name: r for r in json.loads(out.stdout)}
    assert [e["stage"] for e in reports["hang.jpg"]["errors"]] == ["timeout"]
    hog = reports["hog.jpg"]["errors"]
    assert [e["stage"] for e in hog] == ["test_hog"]
    assert hog[0]["message"].startswith("exceeded the memory limit (3,072 MB)")
    assert reports["fine.jpg"]["errors"] == []
    assert {a["name"]: a["status"] for a in reports["hog.jpg"]["analyzers"]}["metadata"] == "ok"


# -------------------------------------------------------------------- resume
def _scan_lines(out: Path) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in out.read_text().splitlines()]


def test_resume_replaces_changed_damaged_and_retried_records(tmp_path: Path) -> None:
    from triage.scan import scan

    folder = tmp_path / "in"
    files = _copies(folder, ["a.jpg", "b.jpg", "c.jpg", "d.jpg"])
    (folder / "broken.jpg").write_bytes(CAMERA.read_bytes()[:30])
    out = tmp_path / "out.jsonl"
    opts = Options(only=["metadata"], threads=1)
    first = scan([folder], opts, jobs=1, output=out, timeout=60)
    assert len(first.summary.rows) == 5
    lines = out.read_text().splitlines()
    # b.jpg changes content; c.jpg's line is damaged in the middle of the file.
    Image.open(CAMERA).save(files[1], quality=70)
    c_line = next(i for i, x in enumerate(lines) if x.find("c.jpg") >= 0)
    lines[c_line] = lines[c_line][: len(lines[c_line]) // 2] + "\x00garbage"
    out.write_text("\n".join(lines) + "\n")
    notes: list[str] = []

    class Notes:
        def note(self, text: str) -> None:
            notes.append(text)

        def start(self, total: int) -> None:
            notes.append(f"todo {total}")

        def advance(self, path: str, failed: bool) -> None:
            pass

        def stop(self) -> None:
            pass

    again = scan([folder], opts, jobs=1, output=out, resume=True, timeout=60, progress=Notes())
    assert "todo 2" in notes  # b.jpg (changed) and c.jpg (damaged line), nothing else
    assert any(f"line {c_line + 1} of" in n and "c.jpg is analyzed again" in n for n in notes)
    assert again.superseded == 1 and again.invalid_lines == 1
    reports = _scan_lines(out)
    paths = [Path(r["file"]["path"]).name for r in reports]
    assert sorted(paths) == ["a.jpg", "b.jpg", "broken.jpg", "c.jpg", "d.jpg"]
    assert len(again.summary.rows) == 5 and again.summary.resumed == 3
    b = next(r for r in reports if r["file"]["path"].endswith("b.jpg"))
    assert b["file"]["sha256"] == __import__("hashlib").sha256(files[1].read_bytes()).hexdigest()

    # --retry-failed: the failed record is analyzed again and replaced, once.
    retry = scan([folder], opts, jobs=1, output=out, resume=True, retry_failed=True, timeout=60)
    assert retry.summary.resumed == 4 and retry.superseded == 1
    reports = _scan_lines(out)
    assert sorted(Path(r["file"]["path"]).name for r in reports) == sorted(paths)


# ------------------------------------------------------------ crafted seeds
def _noisy_tiff(path: Path) -> None:
    """A deflate TIFF whose strip is cut short: libtiff prints 'ZIPDecode: ...'."""
    arr = np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "TIFF", compression="tiff_adobe_deflate")
    data = bytearray(buf.getvalue())
    (ifd,) = struct.unpack("<I", data[4:8])
    (count,) = struct.unpack("<H", data[ifd : ifd + 2])
    for i in range(count):
        entry = ifd + 2 + 12 * i
        tag, _typ, _n, value = struct.unpack("<HHII", data[entry : entry + 12])
        if tag == 279:  # StripByteCounts
            struct.pack_into("<I", data, entry + 8, value // 3)
    path.write_bytes(bytes(data))


# ---------------------------------------------------------------------- fuzz
FUZZ_SEEDS = [
    ROOT / "fixtures" / "core" / "dates_forged.jpg",
    ROOT / "fixtures" / "synthetic" / "a1111.png",
    ROOT / "fixtures" / "provenance" / "clip_small.mp4",
    ROOT / "fixtures" / "video" / "clean.mp4",
]


def test_fuzzed_files_never_raise_and_stay_under_the_memory_cap(tmp_path: Path) -> None:
    """A fixed budget (seeded mutants of JPEG, PNG, TIFF and MP4 files, ~30 s): no
    exception escapes analyze_path, no reason is a raw exception, peak RSS < cap."""
    tiff = tmp_path / "seed.tif"
    _noisy_tiff(tiff)
    cap_mb = 3072
    out = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "fuzz_run.py"), "19", "36", str(cap_mb)]
        + [str(p) for p in [*FUZZ_SEEDS, tiff]],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["escaped"] == [], result
    assert result["raw"] == [], result
    assert result["peak_mb"] < cap_mb, result
