"""Provenance: perceptual hashes, the SQLite reference store, its search index, the
analyzer and the `triage db` commands, on real fixture files."""

from __future__ import annotations

import io
import json
import multiprocessing
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from triage import hashing as H
from triage.analyzers.base import Context
from triage.analyzers.provenance import ProvenanceAnalyzer
from triage.media import Media
from triage.store import HashRow, HashStore, StoreError
from triage.store.exchange import export_rows, import_file
from triage.store.hashes import media_hashes, reference_rows
from triage.store.index import BandIndex, scan

ROOT = Path(__file__).resolve().parent.parent
PROV = ROOT / "fixtures" / "provenance"
TRUTH: dict[str, str] = json.loads((PROV / "truth.json").read_text())


def _rgb(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def _add_files(store: HashStore, names: list[str], label: str = "debunked") -> None:
    for name in names:
        media = Media.open(PROV / name)
        frames = media_hashes(media, reference=True)
        store.add(reference_rows(media, frames, label, "fact-check 12"))


@pytest.fixture(scope="module")
def ref_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with orig_a.jpg and clip.mp4 (debunked) and orig_b.jpg (original)."""
    db = tmp_path_factory.mktemp("provenance") / "refs.sqlite"
    with HashStore.open(db) as store:
        _add_files(store, ["orig_a.jpg", "clip.mp4"], "debunked")
        _add_files(store, ["orig_b.jpg"], "original")
    return db


# ------------------------------------------------------------------- hashes
def test_phash_dhash_equal_imagehash() -> None:
    imagehash = pytest.importorskip("imagehash")
    for name in ("orig_a.jpg", "orig_b_border.jpg", "orig_a_resize50.jpg"):
        img = Image.open(PROV / name).convert("RGB")
        rgb = np.asarray(img)
        assert H.phash(rgb) == str(imagehash.phash(img))
        assert H.dhash(rgb) == str(imagehash.dhash(img))


def test_pdq_equals_reference_pdqhash() -> None:
    pdqhash = pytest.importorskip("pdqhash")  # optional extra triage[pdq]
    for name in ("orig_a.jpg", "orig_b_q60.jpg", "orig_a_border.jpg"):
        rgb = _rgb(PROV / name)
        mine, quality = H.pdq(rgb)
        ref_bits, ref_quality = pdqhash.compute(rgb)
        assert H.hamming(mine, H.bits_to_hex(ref_bits)) <= 2
        assert abs(quality - ref_quality) <= 1
        variants, _ = H.pdq_dihedral(rgb)
        ref_variants, _ = pdqhash.compute_dihedral(rgb)
        ref_hex = [H.bits_to_hex(v) for v in ref_variants]
        for v in variants:  # same set of eight, in another order
            assert min(H.hamming(v, r) for r in ref_hex) <= 2


def test_dihedral_variants_equal_hashes_of_transformed_pixels() -> None:
    # Derived from the DCT without touching pixels (as the PDQ reference does):
    # exact at 64 x 64; at other sizes PDQ's box filter and decimation grid are not
    # mirror-symmetric, so the variant lands near, well inside the match line.
    small = np.asarray(Image.open(PROV / "orig_a.jpg").convert("RGB").resize((64, 64)))
    for rgb, pdq_tolerance in ((small, 0), (_rgb(PROV / "orig_a.jpg"), 20)):
        pdq_vars, _ = H.pdq_dihedral(rgb)
        ph_vars = H.phash_dihedral(rgb)
        for t in (rgb[:, ::-1], rgb[::-1], np.rot90(rgb), np.rot90(rgb, 2), rgb.transpose(1, 0, 2)):
            t = np.ascontiguousarray(t)
            assert min(H.hamming(H.pdq(t)[0], v) for v in pdq_vars) <= pdq_tolerance
            assert min(H.hamming(H.phash(t), v) for v in ph_vars) <= 2


def test_hashes_of_odd_pictures() -> None:
    for arr in (
        np.zeros((1, 1, 3), np.uint8),
        np.full((3, 5, 3), 200, np.uint8),
        np.random.default_rng(0).integers(0, 255, (40, 7), dtype=np.uint8),  # grey 2-D
    ):
        hashes = H.image_hashes(arr)
        assert len(hashes.pdq) == 64 and len(hashes.phash) == 16 and len(hashes.dhash) == 16
        assert 0 <= hashes.pdq_quality <= 100
    flat_q = H.pdq(np.full((64, 64, 3), 128, np.uint8))[1]
    assert flat_q < H.PDQ_MIN_QUALITY


def test_hex_helpers() -> None:
    bits = np.zeros(64, bool)
    bits[0] = bits[63] = True
    text = H.bits_to_hex(bits)
    assert text == "8000000000000001"
    assert (H.hex_to_bits(text) == bits).all()
    assert H.hamming(text, "0" * 16) == 2
    assert H.normalize_hex("0xABCDEF0123456789", 64) == "abcdef0123456789"
    with pytest.raises(ValueError):
        H.normalize_hex("abc", 64)
    with pytest.raises(ValueError):
        H.normalize_hex("zz" * 8, 64)
    assert H.chance_match_probability("pdq", 10) <= H.chance_match_probability("pdq", 31)
    assert H.chance_match_probability("phash", 8) > 0


def test_border_trim_recovers_the_content() -> None:
    framed = _rgb(PROV / "orig_b_border.jpg")
    inner = H.trim_uniform_border(framed)
    assert inner is not None
    orig = _rgb(PROV / "orig_b.jpg")
    assert abs(inner.shape[0] - orig.shape[0]) <= 4 and abs(inner.shape[1] - orig.shape[1]) <= 4
    assert H.trim_uniform_border(orig) is None


def test_near_duplicate_groups() -> None:
    items = [
        ("a", "ffffffffffffffff"),
        ("b", "0000000000000000"),
        ("c", "fffffffffffffff0"),  # 4 bits from a
        ("d", "00000000000000ff"),  # 8 bits from b
        ("e", ""),
        ("f", "7ffffffffffffff0"),  # 1 bit from c, 5 from a: chained
    ]
    hashes = [h for _, h in items]
    assert H.near_duplicate_groups(hashes, 4) == [[0, 2, 5]]
    assert H.near_duplicate_groups(hashes, 8) == [[0, 2, 5], [1, 3]]
    assert H.near_duplicate_groups(hashes[:1], 4) == []
    assert H.near_duplicate_groups(hashes, 0, sha256=["x", "y", "", "", "", "x"]) == [[0, 5]]


# -------------------------------------------------------------------- index
@pytest.mark.parametrize(
    ("words_per_hash", "radii"), [(4, (0, 15, 31, 40, 60)), (1, (0, 3, 4, 8, 12))]
)
def test_band_index_is_exact(words_per_hash: int, radii: tuple[int, ...]) -> None:
    rng = np.random.default_rng(words_per_hash)
    n = 6000
    words = rng.integers(
        0, np.iinfo(np.uint64).max, (n, words_per_hash), dtype=np.uint64, endpoint=True
    )
    idx = BandIndex.build(words, np.arange(100, 100 + n), min_rows=0)
    assert idx.banded
    queries = words[rng.integers(0, n, 40)].copy()
    for k, q in enumerate(queries):  # plant near-duplicates at varying distances
        for b in rng.choice(words_per_hash * 64, k % (words_per_hash * 16), replace=False):
            q[b // 64] ^= np.uint64(1) << np.uint64(b % 64)
    for r in radii:
        got = idx.search_many(queries, r)
        for q, res in zip(queries, got, strict=True):
            ref = scan(words, q, r)
            assert sorted(res.positions.tolist()) == sorted(ref.positions.tolist())
            assert list(res.distances) == sorted(res.distances)


# -------------------------------------------------------------------- store
def test_store_add_lookup_dedupe_remove(tmp_path: Path) -> None:
    db = tmp_path / "s.sqlite"
    with HashStore.open(db) as store:
        rows = [
            HashRow("pdq", "f" * 64, 90, "debunked", "desk"),
            HashRow("phash", "0" * 16, None, "original"),
        ]
        assert store.add(rows) == 2
        assert store.add([HashRow("pdq", "F" * 64, 90, "debunked", "desk")]) == 0  # duplicate
        matches = store.lookup("pdq", ["f" * 63 + "0", "0" * 64], 31)
        assert [(m.distance, m.variant, m.row.label) for m in matches] == [(4, 0, "debunked")]
        assert store.lookup("phash", ["0" * 15 + "f"], 3) == []
        assert store.remove(label="original") == 1
        assert store.count() == 1
        with pytest.raises(ValueError):
            store.add([HashRow("pdq", "f" * 10)])
    mode = sqlite3.connect(db).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_index_cache_beside_store_is_rebuilt_on_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import triage.store.index as index_mod

    monkeypatch.setattr(index_mod, "MIN_INDEXED_ROWS", 0)
    db = tmp_path / "c.sqlite"
    with HashStore.open(db) as store:
        store.add([HashRow("pdq", "a" * 64, 100)])
        assert len(store.lookup("pdq", ["a" * 64], 0)) == 1
    cache = tmp_path / "c.sqlite.index"
    assert len(list(cache.glob("pdq-*.ok"))) == 1 and len(list(cache.glob("pdq-*.npy"))) == 4
    with HashStore.open(db) as store:  # another process adds: the cache must not go stale
        store.add([HashRow("pdq", "a" * 63 + "b", 100)])
    with HashStore.open(db) as store:
        assert len(store.lookup("pdq", ["a" * 64], 1)) == 2
        store.remove(ids=[1])
        assert [m.row.id for m in store.lookup("pdq", ["a" * 64], 1)] == [2]
    assert len(list(cache.glob("pdq-*.ok"))) == 1  # the stale set was removed
    with HashStore.open(db) as store:  # a fresh process maps the cached arrays
        assert [m.row.id for m in store.lookup("pdq", ["a" * 64], 1)] == [2]


def test_migration_from_v1_and_newer_schema_refused(tmp_path: Path) -> None:
    from triage.store.schema import MIGRATIONS, SCHEMA_VERSION

    db = tmp_path / "old.sqlite"
    conn = sqlite3.connect(db)
    conn.executescript(MIGRATIONS[0])
    conn.execute("PRAGMA user_version = 1")
    conn.execute(
        "INSERT INTO hashes (algorithm, hash, label, added_at) VALUES ('phash', ?, 'old', 'x')",
        (bytes(8),),
    )
    conn.commit()
    conn.close()
    with HashStore.open(db) as store:
        assert store.stats()["schema_version"] == SCHEMA_VERSION
        assert store.count() == 1
    names = {r[0] for r in sqlite3.connect(db).execute("SELECT name FROM sqlite_master")}
    assert "hashes_sha256" in names
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="schema version"):
        HashStore.open(db)


def test_export_import_round_trip_and_bad_rows(tmp_path: Path, ref_store: Path) -> None:
    with HashStore.open(ref_store) as store:
        original = [r.as_dict() for r in store.rows()]
        for fmt in ("csv", "jsonl"):
            out = tmp_path / f"refs.{fmt}"
            with open(out, "w", encoding="utf-8", newline="") as fh:
                assert export_rows(store, fh, fmt) == len(original)
            with HashStore.open(tmp_path / f"copy-{fmt}.sqlite") as copy:
                res = import_file(copy, out)
                assert res.errors == [] and res.added == len(original)
                back = [r.as_dict() for r in copy.rows()]
            strip = [{k: v for k, v in d.items() if k != "id"} for d in original]
            assert [{k: v for k, v in d.items() if k != "id"} for d in back] == strip
    pdq_list = tmp_path / "list.csv"
    pdq_list.write_text(
        "# a PDQ list\n"
        + "ab" * 32
        + ",87\n"
        + "xyz,10\n"
        + "cd" * 32
        + ",100\n"
        + "ef" * 32
        + ",300\n"
    )
    with HashStore.open(tmp_path / "p.sqlite") as store:
        res = import_file(store, pdq_list, default_label="circulating")
        assert res.added == 2
        assert [line for line, _ in res.errors] == [3, 5]
        assert {r.label for r in store.rows()} == {"circulating"}
    bad_jsonl = tmp_path / "bad.jsonl"
    bad_jsonl.write_text(
        '{"algorithm": "phash", "hash": "00000000000000ff"}\n{oops\n[1]\n{"algorithm": "md5", "hash": "00"}\n'
    )
    with HashStore.open(tmp_path / "j.sqlite") as store:
        res = import_file(store, bad_jsonl)
        assert res.added == 1 and [line for line, _ in res.errors] == [2, 3, 4]


def _adder(db: str, worker: int) -> None:
    with HashStore.open(db) as store:
        for batch in range(20):
            rows = [
                HashRow("phash", f"{worker:02x}{batch:04x}{i:010x}", None, f"w{worker}")
                for i in range(25)
            ]
            store.add(rows)


def test_two_processes_adding_at_once_leave_a_consistent_store(tmp_path: Path) -> None:
    db = str(tmp_path / "busy.sqlite")
    HashStore.open(db).close()
    ctx = multiprocessing.get_context("spawn" if sys.platform == "darwin" else "fork")
    procs = [ctx.Process(target=_adder, args=(db, w)) for w in (1, 2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    with HashStore.open(db) as store:
        assert store.count() == 2 * 20 * 25
        assert store.stats()["by_label"] == {"w1": 500, "w2": 500}
        assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert len(store.lookup("phash", [f"{2:02x}{7:04x}{3:010x}"], 0)) == 1


# ----------------------------------------------------------------- analyzer
@pytest.mark.parametrize("name", sorted(n for n in TRUTH if n.endswith(".jpg")))
def test_transformed_picture_matches_its_original(name: str, ref_store: Path) -> None:
    result = ProvenanceAnalyzer().run(Media.open(PROV / name), Context(db_path=ref_store))
    assert result.examined == {"provenance": 1.0}
    assert [f.id for f in result.findings] == ["provenance.known_match"]
    ev = result.findings[0].evidence
    expected = Media.open(PROV / TRUTH[name]).sha256
    assert ev["reference_sha256"] == expected
    assert ev["label"] == ("debunked" if TRUTH[name] == "orig_a.jpg" else "original")
    assert 0.5 <= result.findings[0].strength <= 1.5
    if name.endswith("_mirror.jpg"):
        assert ev["variant"] == "mirrored left-right"


def test_exact_file_and_metrics(ref_store: Path) -> None:
    media = Media.open(PROV / "orig_a.jpg")
    result = ProvenanceAnalyzer().run(media, Context(db_path=ref_store))
    assert {f.id for f in result.findings} == {"provenance.exact_file", "provenance.known_match"}
    m = result.metrics
    assert len(m["pdq"]) == 64 and len(m["phash"]) == 16 and len(m["dhash"]) == 16
    assert m["pdq_quality"] == 100 and m["nearest_distance"] == 0


def test_two_hundred_unrelated_scenes_do_not_match(ref_store: Path) -> None:
    sys.path.insert(0, str(ROOT / "fixtures"))
    from generators.scenes import scene

    from triage.store.hashes import frame_hashes
    from triage.store.match import lookup_frames

    items = []
    with HashStore.open(ref_store) as store:
        for seed in range(200):
            fh = frame_hashes(scene(160, 120, 20_000 + seed))
            assert lookup_frames(store, [fh], False) is None
            items.append((str(seed), fh.phash))
            items.append((f"{seed}/pdq", ""))
    assert H.near_duplicate_groups([h for _, h in items], H.PHASH_RADIUS) == []


def test_video_keyframes_match_with_time_offsets(ref_store: Path) -> None:
    result = ProvenanceAnalyzer().run(
        Media.open(PROV / "clip_small.mp4"), Context(db_path=ref_store)
    )
    frames = result.metrics["keyframes"]
    assert len(frames) >= 3 and all({"time", "phash", "pdq"} <= set(f) for f in frames)
    assert [f.id for f in result.findings] == ["provenance.known_match"]
    ev = result.findings[0].evidence
    assert ev["reference_sha256"] == Media.open(PROV / "clip.mp4").sha256
    matched = ev["keyframe_matches"]
    assert matched and all(m["ref_time"] is not None for m in matched)
    assert any(abs(m["time"] - m["ref_time"]) < 0.6 for m in matched)


def test_no_store_means_not_examined_and_nothing_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "none" / "refs.sqlite"
    monkeypatch.setenv("TRIAGE_DB", str(missing))
    result = ProvenanceAnalyzer().run(Media.open(PROV / "orig_a.jpg"), Context())
    assert result.examined == {"provenance": 0.0}
    assert result.findings == [] and "triage db add" in result.not_checked[0]
    assert len(result.metrics["pdq"]) == 64  # hashes are always computed
    assert not missing.exists() and not missing.parent.exists()
    empty = tmp_path / "empty.sqlite"
    HashStore.open(empty).close()
    result = ProvenanceAnalyzer().run(Media.open(PROV / "orig_a.jpg"), Context(db_path=empty))
    assert result.examined == {"provenance": 0.0}
    future = tmp_path / "future.sqlite"
    with HashStore.open(future) as store:
        store.add([HashRow("phash", "0" * 16)])
        store.conn.execute("PRAGMA user_version = 99")
    result = ProvenanceAnalyzer().run(Media.open(PROV / "orig_a.jpg"), Context(db_path=future))
    assert result.examined == {"provenance": 0.0}
    assert "could not be opened" in result.not_checked[0]


def test_pipeline_bands(ref_store: Path) -> None:
    from triage.pipeline import Options, analyze_path

    opts = Options(only=["provenance"], db_path=ref_store)
    hit = analyze_path(PROV / "orig_b_q60.jpg", opts).questions["provenance"]
    assert hit.band in ("notable-indicators", "strong-indicators")
    sys.path.insert(0, str(ROOT / "fixtures"))
    from generators.scenes import scene

    buf = io.BytesIO()
    Image.fromarray(scene(200, 150, 31337)).save(buf, "JPEG", quality=90)
    other = ref_store.parent / "unrelated.jpg"
    other.write_bytes(buf.getvalue())
    miss = analyze_path(other, opts).questions["provenance"]
    assert miss.band == "no-indicators"


# ---------------------------------------------------------------------- CLI
def test_cli_db_commands(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from triage.cli import app

    runner = CliRunner()
    db = str(tmp_path / "cli.sqlite")
    r = runner.invoke(app, ["db", "lookup", str(PROV / "orig_a.jpg"), "--db", db])
    assert r.exit_code == 2 and not Path(db).exists()
    r = runner.invoke(
        app,
        [
            "db",
            "add",
            str(PROV / "orig_a.jpg"),
            "--label",
            "debunked",
            "--source",
            "afp",
            "--db",
            db,
        ],
    )
    assert r.exit_code == 0, r.output
    r = runner.invoke(
        app,
        [
            "db",
            "lookup",
            "--json",
            str(PROV / "orig_a_crop5.jpg"),
            str(PROV / "orig_b.jpg"),
            "--db",
            db,
        ],
    )
    assert r.exit_code == 0
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert lines[0]["match"]["label"] == "debunked" and lines[1]["match"] is None
    out = tmp_path / "x.jsonl"
    assert runner.invoke(app, ["db", "export", str(out), "--db", db]).exit_code == 0
    assert len(out.read_text().splitlines()) == 7  # 3 hashes + 2 x 2 of central crops
    r = runner.invoke(app, ["db", "import", str(out), "--db", str(tmp_path / "b.sqlite")])
    assert r.exit_code == 0
    r = runner.invoke(app, ["db", "stats", "--json"], env={"TRIAGE_DB": db})
    assert json.loads(r.stdout)["rows"] == 7
    r = runner.invoke(app, ["db", "remove", str(PROV / "orig_a.jpg"), "--db", db])
    assert r.exit_code == 0
    assert json.loads(runner.invoke(app, ["db", "stats", "--json", "--db", db]).stdout)["rows"] == 0
    # A folder: its notes and sidecars (truth.json here) are left out, not errors.
    folder_db = str(tmp_path / "folder.sqlite")
    r = runner.invoke(app, ["db", "add", str(PROV), "--label", "original", "--db", folder_db])
    assert r.exit_code == 0 and "16 file(s) hashed" in r.output
    r = runner.invoke(
        app, ["db", "lookup", "--json", str(PROV / "orig_b_crop5.jpg"), "--db", folder_db]
    )
    best = json.loads(r.stdout)["match"]
    assert (
        best["distance"] == 0
        and best["reference_sha256"] == Media.open(PROV / "orig_b_crop5.jpg").sha256
    )


def test_long_video_keyframes_are_spread_over_its_duration(tmp_path: Path) -> None:
    from fractions import Fraction

    import av

    sys.path.insert(0, str(ROOT / "fixtures"))
    from generators.scenes import scene

    path = tmp_path / "long.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=5)
        stream.width, stream.height, stream.pix_fmt = 96, 64, "yuv420p"
        stream.codec_context.gop_size = 10
        stream.options = {"x264-params": "scenecut=0", "preset": "ultrafast"}
        for i in range(300):  # 60 s, a keyframe and a new scene every 2 s
            frame = av.VideoFrame.from_ndarray(scene(96, 64, 900 + i // 10, 1.0), format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, 5)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    frames = media_hashes(Media.open(path), max_keyframes=6)
    times = [f.time for f in frames]
    assert len(frames) == 6 and times == sorted(times)
    assert times[0] is not None and times[0] <= 6 and times[-1] is not None and times[-1] >= 48


def test_bulk_add_with_deferred_indexes_matches_row_by_row_insert(tmp_path: Path) -> None:
    """A large import (here: batches of 4) appends without the key triggers and adds
    the new keys at the end; duplicates within the import and against stored rows
    are skipped as before."""

    def rows(n: int, start: int = 0) -> list[HashRow]:
        out = [HashRow("pdq", f"{i:064x}", 90, "lab", "src") for i in range(start, start + n)]
        out.append(HashRow("pdq", f"{start:064x}", 10, "lab", "src"))  # duplicate key
        out.append(HashRow("phash", f"{start:016x}", None, "lab", "src", sha256="c" * 64))
        return out

    stores = []
    for name, batch in (("slow", 100_000), ("bulk", 4)):
        with HashStore.open(tmp_path / f"{name}.sqlite") as store:
            assert store.add(rows(3)) == 4
            assert store.add(rows(30, start=2), batch=batch) == 30  # row 2 is known already
            assert store.add(rows(5, start=40), batch=batch) == 6
            names = {r[0] for r in store.conn.execute("SELECT name FROM sqlite_master")}
            assert {"hash_keys", "hashes_sha256", "hashes_key_check", "hashes_key_add"} <= names
            keys = store.conn.execute("SELECT COUNT(*) FROM hash_keys").fetchone()[0]
            assert keys == store.count()
            assert store.add([HashRow("pdq", f"{7:064x}", 1, "lab", "src")]) == 0
            stores.append([(r.algorithm, r.hash, r.quality, r.sha256) for r in store.rows()])
            assert len(store.lookup("pdq", [f"{7:064x}"], 0)) == 1
    assert stores[0] == stores[1]


def test_bulk_add_without_duplicates_builds_the_indexes_once(tmp_path: Path) -> None:
    """A large import of distinct rows: the new keys are added by one sorted insert
    (no duplicate search), and the store then refuses a duplicate as before."""
    rows = [HashRow("pdq", f"{i:064x}", 90, "lab", "src") for i in range(50)]
    with HashStore.open(tmp_path / "s.sqlite") as store:
        statements: list[str] = []
        store.conn.set_trace_callback(statements.append)
        assert store.add(rows, batch=8) == 50
        store.conn.set_trace_callback(None)
        assert not any(s.startswith("DELETE") for s in statements)
        assert sum(s.startswith("INSERT OR IGNORE INTO hash_keys") for s in statements) == 1
        assert store.add([HashRow("pdq", f"{3:064x}", 1, "lab", "src")]) == 0
        assert store.count() == 50


def test_bulk_add_error_in_a_later_batch_adds_nothing(tmp_path: Path) -> None:
    """A bad row or a failing reader after some batches are inserted: the error
    reaches the caller and the whole import is rolled back."""

    def rows(bad_at: int) -> Iterator[HashRow]:
        for i in range(40):
            if i == bad_at:
                raise OSError("the list file went away")
            yield HashRow("pdq", f"{i:064x}", 90, "lab", "src")

    with HashStore.open(tmp_path / "s.sqlite") as store:
        bad = [HashRow("pdq", f"{i:064x}", 90, "lab", "src") for i in range(30)]
        bad[25].quality = 500
        with pytest.raises(ValueError, match="quality"):
            store.add(bad, batch=4)
        with pytest.raises(OSError, match="went away"):
            store.add(rows(bad_at=33), batch=4)
        assert store.count() == 0
        assert store.add(rows(bad_at=-1), batch=4) == 40


def test_multi_row_inserts_skip_duplicates_like_single_rows(tmp_path: Path) -> None:
    """Bulk adds insert 64 rows per statement; with the key indexes in place (a small
    add to a large store) a duplicate inside a statement, or of a stored row, is
    skipped alone, and ids follow the input order, as with one row at a time."""
    base = [HashRow("pdq", f"{i:064x}", 90, "lab", "src") for i in range(1000)]
    extra = [HashRow("pdq", f"{i:064x}", 50, "lab", "src") for i in range(990, 1140)]
    extra[70] = HashRow("pdq", f"{1100:064x}", 1, "lab", "src")  # later in the same add
    extra[130] = HashRow("pdq", f"{1000:064x}", 2, "lab", "src")
    results = []
    for name, one_by_one in (("single", True), ("multi", False)):
        with HashStore.open(tmp_path / f"{name}.sqlite") as store:
            assert store.add(base) == 1000
            added = sum(store.add([r]) for r in extra) if one_by_one else store.add(extra)
            assert added == 138  # 10 stored already, 2 repeated within the add
            results.append([(r.id, r.hash, r.quality) for r in store.rows()])
    assert results[0] == results[1]
