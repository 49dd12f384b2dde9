"""The self-contained HTML report: structure, embedded images, escaping, size, and
a real headless Chromium load (skipped when chromium is not installed)."""

from __future__ import annotations

import base64
import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import html5lib
import numpy as np
import pytest
from PIL import Image

from triage.analyzers.base import Context
from triage.pipeline import Options, analyze_path_with_pictures
from triage.render import html as html_render
from triage.render.html import CSP, evidence_rows, render_html, write_html
from triage.report import AnalyzerRun, ArtifactRef, Finding, Report
from triage.scan.summary import report_groups

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "fixtures"))
from generators.scenes import scene  # noqa: E402

EVIL = "<img src=x onerror=alert(1)>.jpg"
MEDIA_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".tif", ".tiff", ".bmp", ".mp4", ".mov", ".webm", ".mkv", ".avi"}  # fmt: skip
SVG = "{http://www.w3.org/2000/svg}"  # html5lib puts inline SVG in its own namespace


# ------------------------------------------------------------------ helpers
def parse(text: str):  # type: ignore[no-untyped-def]
    return html5lib.parse(text, namespaceHTMLElements=False)


def text_of(el) -> str:  # type: ignore[no-untyped-def]
    return "".join(el.itertext())


def by_id(doc, ident: str):  # type: ignore[no-untyped-def]
    found = doc.find(f".//*[@id='{ident}']")
    assert found is not None, f"no element with id {ident!r}"
    return found


def file_sections(doc) -> list:  # type: ignore[no-untyped-def]
    return [s for s in doc.iter("section") if "file" in (s.get("class") or "").split()]


def decode_data_uri(src: str) -> Image.Image:
    match = re.fullmatch(r"data:image/(png|jpeg);base64,([A-Za-z0-9+/=]+)", src)
    assert match, src[:60]
    img = Image.open(io.BytesIO(base64.b64decode(match.group(2))))
    img.load()
    return img


# Fixtures that exercise the page (artifacts, a near-duplicate pair, a video, a broken
# file); whichever exist are used, else the first file of each fixture folder.
PREFERRED_FIXTURES = [
    "core/camera_edited.jpg",
    "pixels/copymove.jpg",
    "synthetic/a1111.png",
    "provenance/orig_a.jpg",
    "provenance/orig_a_q60.jpg",
    "video/dropped.mp4",
    "bad/truncated.jpg",
]


def fixture_files(limit: int = 8) -> list[Path]:
    fixtures = ROOT / "fixtures"
    picked = [fixtures / p for p in PREFERRED_FIXTURES if (fixtures / p).is_file()]
    if len(picked) >= 3:
        return picked
    for folder in sorted(p for p in fixtures.iterdir() if p.is_dir() and p.name != "generators"):
        files = sorted(
            p
            for p in folder.rglob("*")
            if p.is_file() and p.suffix.lower() in MEDIA_SUFFIXES and "mask" not in p.name
        )
        picked.extend(files[:1])
    return picked[:limit]


def artifact_png(width: int, height: int, seed: int) -> bytes:
    """A heatmap-like PNG: smooth colour ramps with a noisy patch."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width]
    img = np.stack([xx * 255 // width, yy * 255 // height, (xx + yy) * 127 // (width + height)], -1)
    img = img.astype(np.uint8)
    img[: height // 4, : width // 4] = rng.integers(0, 255, (height // 4, width // 4, 3))
    return Context().png(img)


def set_phash(report: Report, value: str) -> None:
    for run in report.analyzers:
        if run.name == "provenance":
            run.metrics["phash"] = value
            return
    report.analyzers.append(
        AnalyzerRun(
            name="provenance", version="1", status="ok", seconds=0.0, metrics={"phash": value}
        )
    )


# ------------------------------------------------------------------ data
@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Reports for temp images (incl. odd ones) and the fixtures, with a few additions
    that do not depend on which analyzers exist yet: artifacts, boxes, hashes."""
    d = tmp_path_factory.mktemp("html_inputs")
    Image.fromarray(scene(480, 360, 11)).save(d / "scene.jpg", quality=90)
    Image.fromarray(scene(400, 300, 12)).save(d / "other.png")
    rgba = Image.fromarray(scene(200, 150, 13)).convert("RGBA")
    rgba.putalpha(128)
    rgba.save(d / "alpha.png")
    Image.fromarray(np.arange(64 * 48, dtype=np.uint16).reshape(48, 64) * 20).save(d / "deep16.png")
    (d / EVIL).write_bytes((d / "scene.jpg").read_bytes())
    data = (d / "scene.jpg").read_bytes()
    (d / "truncated.jpg").write_bytes(data[: len(data) // 2])  # header fine, pixels cut
    (d / "notes.txt.jpg").write_bytes(b"this is not an image at all")
    temp_files = sorted(d.iterdir())
    fixtures = fixture_files()
    from triage.analyzers import REGISTRY

    # the temp images only need cheap analyzers; the fixtures get every analyzer
    light = Options(keep_artifacts=True, skip=[n for n in ("copymove",) if n in REGISTRY])
    full = Options(keep_artifacts=True)
    analyses = [analyze_path_with_pictures(p, light) for p in temp_files]
    analyses += [analyze_path_with_pictures(p, full) for p in fixtures]
    reports = [a.report for a in analyses]
    by_name = {Path(r.file.path).name: r for r in reports}

    scene_report = by_name["scene.jpg"]
    scene_report.findings.append(
        Finding(
            id="test.region",
            analyzer="zz_test",
            question="manipulation",
            llr=1.2,
            llr_range=(0.2, 2.0),
            title="A region with odd statistics",
            detail="Injected by the test to check boxes and evidence rendering.",
            evidence={
                "boxes": [[40, 30, 200, 150], [300, 200, 420, 330]],
                "area_fraction": 0.1234567,
                "per_block": {"q": [70, 92], "note": "<b>not bold</b>"},
                "flag": True,
            },
        )
    )
    refs = [
        ArtifactRef(kind="ela", analyzer="zz_test", title="Error levels (test)"),
        ArtifactRef(kind="noise_map", analyzer="zz_test", title="Noise <map> & residue"),
    ]
    pngs = [artifact_png(1600, 1200, 1), artifact_png(300, 200, 2)]
    scene_report.artifacts.extend(refs)
    analyses[reports.index(scene_report)].artifacts.extend(pngs)
    set_phash(scene_report, "ffffffffffff0000")
    set_phash(by_name[EVIL], "ffffffffffff000f")  # distance 4: near-duplicates
    set_phash(by_name["other.png"], "0123456789abcdef")  # far from both
    return {
        "reports": reports,  # the reports alone
        "analyses": analyses,  # the same, with their pictures (what the page shows)
        "by_name": by_name,
        "fixtures": fixtures,
        "n_temp": len(temp_files),
    }


@pytest.fixture(scope="module")
def batch_html(batch: dict[str, object]) -> str:
    return render_html(batch["analyses"])  # type: ignore[arg-type]


# ------------------------------------------------------------------ tests
def test_batch_page_has_every_section_and_links(batch, batch_html) -> None:  # type: ignore[no-untyped-def]
    reports: list[Report] = batch["reports"]
    doc = parse(batch_html)
    meta = doc.find(".//meta[@http-equiv='Content-Security-Policy']")
    assert meta is not None and meta.get("content") == CSP
    for ident in ("summary", "duplicates", "failures", "files-table", "legend"):
        by_id(doc, ident)
    sections = file_sections(doc)
    assert len(sections) == len(reports)
    ids = {s.get("id") for s in sections}
    rows = doc.findall(".//table[@id='files-table']/tbody/tr")
    assert len(rows) == len(reports)
    links = [a.get("href") for a in doc.findall(".//table[@id='files-table']//a")]
    assert sorted(h.lstrip("#") for h in links) == sorted(ids)
    # rows come sorted by attention, highest first
    shown = [float(r.findall("td")[2].get("data-sort")) for r in rows]
    assert shown == sorted(shown, reverse=True)
    for section, report in zip(sections, reports, strict=True):
        assert section.get("id") == f"file-{reports.index(report) + 1}"
        assert section.find(".//dl[@class='facts']") is not None
        if report.file.sha256 is None:  # could not even be opened: a short section
            assert "Nothing could be examined" in text_of(section)
            assert section.find(".//*[@class='errors']") is not None
            continue
        assert section.find(".//table[@class='questions']") is not None
        assert section.find(".//div[@class='findings']") is not None
        assert section.find(".//figure[@class='thumb']") is not None
        assert len(section.findall(f".//table[@class='questions']//{SVG}svg[@role='img']")) == 3
        # bands are always words, never colour alone
        words = {text_of(b) for b in section.findall(".//span") if "band" in (b.get("class") or "")}
        assert words and words <= set(html_render.BAND_WORDS.values())
    # no external anything: every link is in-page, every image is a data URI
    for el in doc.iter():
        for attr in ("href", "src", "action", "srcset", "poster"):
            value = el.get(attr)
            if value is not None and attr == "href" and el.tag == "link":
                assert value == "data:," and el.get("rel") == "icon"  # no favicon request
            elif value is not None and attr == "href":
                assert value.startswith("#"), value
            elif value is not None:
                assert value.startswith("data:image/"), value[:40]
        assert not any(k.lower().startswith("on") for k in el.attrib), el.attrib
    scripts = doc.findall(".//script")
    assert len(scripts) == 1 and scripts[0].get("src") is None
    assert len(doc.findall(".//link")) == 1


def test_page_parses_without_errors(batch, batch_html) -> None:  # type: ignore[no-untyped-def]
    for text in (batch_html, render_html(batch["analyses"][:1]), render_html([])):
        parser = html5lib.HTMLParser()
        parser.parse(text)
        assert parser.errors == []


def test_images_are_embedded_and_small(batch, batch_html) -> None:  # type: ignore[no-untyped-def]
    doc = parse(batch_html)
    by_name = batch["by_name"]
    for name, report in by_name.items():
        section = by_id(doc, f"file-{batch['reports'].index(report) + 1}")
        thumb = section.find(".//figure[@class='thumb']//img")
        decodable = report.file.kind == "image" and not report.errors
        if decodable:
            assert thumb is not None, name
            img = decode_data_uri(thumb.get("src"))
            assert max(img.size) <= html_render.THUMB_SIDE
            assert thumb.get("alt") == f"Thumbnail of {name}"
        if name == "truncated.jpg":  # opened, but its pixels cannot be decoded
            assert thumb is None and "no thumbnail" in text_of(section)
        if name == "notes.txt.jpg":  # not an image at all
            assert thumb is None and "Nothing could be examined" in text_of(section)
        # every artifact of the report is there, and shrunk
        figures = section.findall(".//figure[@class='artifact']")
        refs = list(report.artifacts)
        if report.file.kind == "video" and any("contact" in a.kind for a in refs):
            # its contact sheet, small, is the video's thumbnail
            assert thumb is not None and max(decode_data_uri(thumb.get("src")).size) <= 320
        assert len(figures) == len(refs), name
        for fig, ref in zip(figures, refs, strict=True):
            assert ref.title in text_of(fig)
            img_el = fig.find(".//img")
            assert img_el is not None, ref.title
            assert decode_data_uri(img_el.get("src")).width <= html_render.ARTIFACT_WIDTH
    scene = by_id(doc, f"file-{batch['reports'].index(by_name['scene.jpg']) + 1}")
    big = scene.find(".//img[@alt='Error levels (test)']")
    assert big is not None and decode_data_uri(big.get("src")).size == (640, 480)
    assert len(big.get("src")) < 200_000
    assert scene.find(".//img[@alt='Noise <map> & residue']") is not None
    # the boxes of a finding are drawn over the thumbnail, in original coordinates
    rects = scene.findall(f".//{SVG}svg[@class='boxes']/{SVG}rect")
    assert [r.get("x") for r in rects] == ["40.0", "300.0"]
    assert scene.find(f".//{SVG}svg[@class='boxes']").get("viewBox") == "0 0 480 360"
    evidence = text_of(scene.find(".//table[@class='evidence']"))
    assert "<b>not bold</b>" in evidence and "0.1235" in evidence


def test_untrusted_file_name_is_escaped(batch, batch_html) -> None:  # type: ignore[no-untyped-def]
    assert "<img src=x onerror" not in batch_html
    assert "&lt;img src=x onerror=alert(1)&gt;.jpg" in batch_html
    doc = parse(batch_html)
    for img in doc.iter("img"):
        assert img.get("src", "").startswith("data:image/")
        assert img.get("onerror") is None
    index = batch["reports"].index(batch["by_name"][EVIL]) + 1
    heading = by_id(doc, f"file-{index}-h")
    assert text_of(heading).strip().endswith(EVIL)
    link = doc.find(f".//table[@id='files-table']//a[@href='#file-{index}']")
    assert text_of(link) == EVIL
    assert "<b>not bold</b>" not in batch_html


def test_near_duplicates_and_failures(batch, batch_html) -> None:  # type: ignore[no-untyped-def]
    reports = batch["reports"]
    by_name = batch["by_name"]
    i_scene, i_evil, i_other = (reports.index(by_name[n]) for n in ("scene.jpg", EVIL, "other.png"))
    groups = report_groups(reports)
    mine = [g for g in groups if i_scene in g]
    assert len(mine) == 1 and i_evil in mine[0] and i_other not in mine[0]
    doc = parse(batch_html)
    dup = by_id(doc, "duplicates")
    hrefs = [
        {a.get("href") for a in li.findall(".//a")} for li in dup.findall(".//li[@class='group']")
    ]
    assert any({f"#file-{i_scene + 1}", f"#file-{i_evil + 1}"} <= h for h in hrefs)
    failures = by_id(doc, "failures")
    failed_names = {text_of(a) for a in failures.findall(".//a")}
    assert {"truncated.jpg", "notes.txt.jpg"} <= failed_names
    assert failed_names == {Path(r.file.path).name for r in reports if r.errors}


def test_near_duplicate_groups_by_hash_and_bytes(batch) -> None:  # type: ignore[no-untyped-def]
    base = batch["by_name"]["other.png"]
    clones = [base.model_copy(deep=True) for _ in range(4)]
    for i, h in enumerate(
        ["00000000000000ff", "00000000000001ff", "ffff000000000000", "0f0f0f0f0f0f0f0f"]
    ):
        clones[i].file.sha256 = f"{i:064x}"
        set_phash(clones[i], h)
    assert report_groups(clones) == [[0, 1]]
    clones[3].file.sha256 = clones[2].file.sha256  # identical bytes, whatever the hashes
    assert report_groups(clones) == [[0, 1], [2, 3]]
    assert report_groups(clones[:1]) == []


def test_single_file_page(batch) -> None:  # type: ignore[no-untyped-def]
    report = batch["by_name"]["scene.jpg"]
    text = render_html([batch["analyses"][batch["reports"].index(report)]])
    doc = parse(text)
    assert doc.find(".//table[@id='files-table']") is None
    assert doc.find(".//*[@id='duplicates']") is None
    (section,) = file_sections(doc)
    assert "scene.jpg" in text_of(doc.find(".//title"))
    bars = section.findall(f".//table[@class='questions']//{SVG}svg[@role='img']")
    assert [b.get("aria-label").startswith("score ") for b in bars] == [True] * 3
    for q in ("manipulation", "synthetic", "provenance"):
        body = section.find(f".//tbody[@class='question q-{q}']")
        assert report.questions[q].statement in text_of(body)
    groups = [text_of(h) for h in section.findall(".//section[@class='analyzer']/h4")]
    assert "zz_test" in groups
    assert section.find(".//figure[@class='thumb']//img") is not None


def test_no_pixels_page_has_no_images(batch) -> None:  # type: ignore[no-untyped-def]
    text = render_html(batch["analyses"], no_pixels=True, title="sensitive <batch>")
    doc = parse(text)
    assert doc.find(".//img") is None
    assert "data:image" not in text
    by_id(doc, "no-pixels")
    assert text_of(doc.find(".//title")) == "sensitive <batch>"
    assert "Pixels omitted (--no-pixels)" in text


def test_page_never_opens_the_inputs(tmp_path: Path) -> None:
    """The thumbnail is the one the analysis kept: a file changed, removed or turned
    into a pipe since does not change the page (and cannot hang it)."""
    path = tmp_path / "gone.png"
    Image.fromarray(scene(120, 90, 3)).save(path)
    analysis = analyze_path_with_pictures(path, Options(keep_artifacts=True))
    assert analysis.thumbnail is not None
    first = render_html([analysis])
    Image.fromarray(scene(120, 90, 4)).save(path)  # another picture under the same name
    assert _undated(render_html([analysis])) == _undated(first)
    path.unlink()
    out = tmp_path / "out" / "page.html"
    write_html([analysis, analysis], out)
    assert out.is_file() and [p.name for p in out.parent.iterdir()] == ["page.html"]
    assert parse(out.read_text("utf-8")).find(".//figure[@class='thumb']//img") is not None
    os.mkfifo(path)  # a path that became a pipe must not hang the page
    assert parse(render_html([analysis])).find(".//figure[@class='thumb']//img") is not None
    bare = parse(render_html([analysis.report]))  # a report without its pictures
    assert bare.find(".//figure[@class='thumb']//img") is None
    assert "No thumbnail was kept" in text_of(bare.find(".//figure[@class='thumb']"))


def _undated(page: str) -> str:
    return re.sub(r"Generated \S+ by", "Generated by", page)


def test_empty_batch_renders() -> None:
    doc = parse(render_html([]))
    by_id(doc, "no-files")


def test_evidence_rows_formats_and_cuts() -> None:
    rows = {
        r["key"]: r
        for r in evidence_rows(
            {
                "f": 0.000123456,
                "n": 12,
                "xs": list(range(30)),
                "boxes": [[1, 2, 3, 4]],
                "deep": {"a": {"b": [1.23456789]}},
                "long": "x" * 5000,
                "none": None,
            }
        )
    }
    assert rows["f"]["text"] == "0.0001235" or rows["f"]["text"] == "1.235e-04"
    assert rows["n"]["text"] == "12"
    assert rows["xs"]["text"].endswith("… (6 more)]")
    assert rows["boxes"] == {"key": "boxes", "text": "[1, 2, 3, 4]", "pre": True}
    assert rows["deep"]["pre"] and "1.235" in rows["deep"]["text"]
    assert len(rows["long"]["text"]) < 1600 and rows["long"]["text"].endswith("whole)")
    assert rows["none"]["text"] == "null"


def test_cli_check_writes_html(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from triage.cli import app

    img = tmp_path / "cli.jpg"
    Image.fromarray(scene(160, 120, 5)).save(img, quality=90)
    out = tmp_path / "cli.html"
    result = CliRunner().invoke(app, ["check", str(img), "--format", "json", "--html", str(out)])
    assert result.exit_code == 0, result.output
    doc = parse(out.read_text("utf-8"))
    assert doc.find(".//figure[@class='thumb']//img") is not None
    assert text_of(file_sections(doc)[0].find("h2")).strip() == "cli.jpg"


# ------------------------------------------------------------------ browser
def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _run_chromium(exe: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [
        exe,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-extensions",
        "--disable-dev-shm-usage",  # containers often have a tiny /dev/shm
        # networking off: no name resolves and every proxy-able request goes nowhere
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--proxy-server=127.0.0.1:9",
        f"--user-data-dir={profile}",
        "--enable-logging=stderr",
        "--v=0",
        *args,
    ]
    env = {**os.environ, "HOME": str(profile)}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env, check=False)


@pytest.mark.slow
def test_headless_chromium_renders_page(batch, batch_html, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    exe = _chromium()
    if exe is None:
        pytest.skip("chromium is not installed (.ci/run installs it with apt-get)")
    page = tmp_path / "report.html"
    # After the page's own script: sort by file name, then filter, and note the results.
    probe = """<script>
(function () {
  var t = document.getElementById("files-table");
  t.tHead.rows[0].cells[1].querySelector("button").click();
  var names = [].map.call(t.tBodies[0].rows, function (r) {
    return r.cells[1].textContent.trim().toLowerCase();
  });
  var ok = names.every(function (n, i) { return i === 0 || names[i - 1] <= n; });
  document.documentElement.setAttribute("data-test-sorted", String(ok));
  var f = document.getElementById("filter");
  f.value = "scene.jpg";
  f.dispatchEvent(new Event("input"));
  var shown = [].filter.call(t.tBodies[0].rows, function (r) { return !r.hidden; });
  document.documentElement.setAttribute("data-test-shown", String(shown.length));
}());
</script>
</body>"""
    page.write_text(batch_html, encoding="utf-8")
    probed = tmp_path / "probed.html"
    probed.write_text(batch_html.replace("</body>", probe), encoding="utf-8")
    url = page.resolve().as_uri()
    dom = _run_chromium(exe, tmp_path / "profile1", "--dump-dom", probed.resolve().as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    doc = parse(dom.stdout)
    root = doc.getroot() if hasattr(doc, "getroot") else doc
    html_el = root if root.tag == "html" else root.find(".//html")
    # the script ran to its end (no exception before it) and showed the controls
    assert html_el.get("data-js") == "ready"
    assert html_el.get("data-test-sorted") == "true"
    assert 1 <= int(html_el.get("data-test-shown")) < len(batch["reports"])
    assert by_id(doc, "controls").get("hidden") is None
    assert "shown" in text_of(by_id(doc, "shown"))
    for ident in ("summary", "duplicates", "failures"):
        by_id(doc, ident)
    assert len(file_sections(doc)) == len(batch["reports"])
    assert len(doc.findall(".//table[@id='files-table']//th/button")) >= 6
    console = [ln for ln in dom.stderr.splitlines() if ":CONSOLE" in ln]
    bad = [
        ln
        for ln in console
        if re.search(r"Uncaught|Content Security Policy|Refused|error", ln, re.I)
    ]
    assert not bad, bad

    shot = tmp_path / "shot.png"
    run = _run_chromium(
        exe,
        tmp_path / "profile2",
        "--hide-scrollbars",
        "--window-size=1280,1600",
        f"--screenshot={shot}",
        url,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert shot.is_file() and shot.stat().st_size > 10_000
    with Image.open(shot) as img:
        assert img.size == (1280, 1600)
        # not a blank page: the rendered page has text and pictures
        assert np.asarray(img.convert("L")).std() > 10

    pdf = tmp_path / "page.pdf"  # printing: one page per analyzed file, and more
    run = _run_chromium(
        exe, tmp_path / "profile3", "--no-pdf-header-footer", f"--print-to-pdf={pdf}", url
    )
    assert run.returncode == 0, run.stderr[-2000:]
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", data))
    analyzed = sum(1 for r in batch["reports"] if r.file.sha256)
    assert pages >= analyzed  # each analyzed file starts a new page


def test_page_size_budget_leaves_out_low_attention_images_first(batch, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    assert html_render.sizing_for(1)[0] == html_render.ARTIFACT_WIDTH
    assert html_render.sizing_for(500)[0] < html_render.sizing_for(50)[0]
    analyses = batch["analyses"][: batch["n_temp"]]  # the cheap ones: temp images only
    reports = [a.report for a in analyses]
    full = render_html(analyses)
    images = re.findall(r'src="(data:image/[^"]+)"', full)
    # allow about half of the images: the rest must be left out, with a note
    monkeypatch.setattr(html_render, "IMAGE_BUDGET", sum(map(len, images)) // 2)
    doc = parse(render_html(analyses))
    kept = [img for img in doc.iter("img") if "mini" not in (img.get("class") or "")]
    assert 0 < len(kept) < len(images)
    assert "left out" in text_of(doc.getroot() if hasattr(doc, "getroot") else doc).lower()
    scene_index = reports.index(batch["by_name"]["scene.jpg"]) + 1
    top = max(reports, key=lambda r: r.attention)
    top_section = by_id(doc, f"file-{reports.index(top) + 1}")
    if top.file.kind == "image" and not top.errors:
        assert top_section.find(".//figure[@class='thumb']//img") is not None
    assert by_id(doc, f"file-{scene_index}") is not None


def test_raw_metrics_are_shown_and_trimmed(batch) -> None:  # type: ignore[no-untyped-def]
    report = batch["by_name"]["other.png"].model_copy(deep=True)
    report.analyzers.append(
        AnalyzerRun(
            name="zz_metrics",
            version="1",
            status="ok",
            seconds=0.1,
            metrics={"series": [0.5] * 10_000, "nested": {"k": {"deeper": ["<script>"] * 3}}},
        )
    )
    text = render_html([report])
    doc = parse(text)
    tables = doc.findall(".//details[@class='metrics']/table")
    mine = [t for t in tables if text_of(t.find("caption")) == "zz_metrics"]
    assert len(mine) == 1
    body = text_of(mine[0])
    assert "more)" in body and "<script>" in body
    assert len(body) < 4000
    assert '<script>"' not in text and text.count("<script>") == 1


def test_non_utf8_file_name(tmp_path: Path) -> None:
    raw = os.fsencode(tmp_path) + b"/caf\xe9.jpg"  # Latin-1 bytes: not UTF-8
    with open(raw, "wb") as fh:
        Image.fromarray(scene(120, 90, 6)).save(fh, "JPEG")
    analysis = analyze_path_with_pictures(os.fsdecode(raw), Options(keep_artifacts=True))
    out = tmp_path / "page.html"
    write_html([analysis], out)
    text = out.read_text("utf-8")
    assert "caf\\udce9.jpg" in text
    assert parse(text).find(".//figure[@class='thumb']//img") is not None


def test_budget_order() -> None:
    def view(i: int, attention: float, thumb: int, arts: list[int]) -> dict[str, object]:
        return {
            "index": i,
            "attention": attention,
            "thumb": {"src": "x" * thumb} if thumb else None,
            "mini": None,
            "thumb_dropped": False,
            "artifacts": [{"image": {"src": "y" * a}, "dropped": False} for a in arts],
        }

    files = [view(1, 0.1, 10, [50]), view(2, 0.9, 10, [50]), view(3, 0.5, 10, [50])]
    html_render._apply_budget(files, 100)  # thumbnails first, then the top file's artifact
    assert [bool(f["artifacts"][0]["image"]) for f in files] == [False, True, False]
    assert all(f["thumb"] for f in files)
    files = [view(1, 0.1, 10, []), view(2, 0.9, 10, []), view(3, 0.5, 10, [])]
    html_render._apply_budget(files, 15)  # too many thumbnails: the lowest attention lose theirs
    assert [bool(f["thumb"]) for f in files] == [False, True, False]
