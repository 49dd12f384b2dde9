"""Hash lists as trust-and-safety teams exchange them (issue 17): ThreatExchange-style
PDQ lists (CSV, TSV, headers, extra columns), MD5 lists, pdq-csv export, and
`db lookup` exit codes and --max-distance. The lists are written by the tests."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from triage.media import Media
from triage.store import HashStore
from triage.store.exchange import import_file
from triage.store.hashes import media_hashes

ROOT = Path(__file__).resolve().parent.parent
PROV = ROOT / "fixtures" / "provenance"


def _pdq(name: str) -> tuple[str, int]:
    frame = media_hashes(Media.open(PROV / name))[0]
    return frame.pdq, frame.pdq_quality


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()


def run_db(*args: str, db: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "triage", "db", *args, "--db", str(db)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "NO_COLOR": "1"},
        timeout=300,
    )


def test_threatexchange_lists_with_headers_tabs_and_extra_columns(tmp_path: Path) -> None:
    pdq_a, q_a = _pdq("orig_a.jpg")
    pdq_b, q_b = _pdq("orig_b.jpg")
    lists = {
        "header.csv": f"pdq_hash,quality,url,reviewed\n{pdq_a},{q_a},https://x.example/1,yes\n",
        "plain.csv": f"# exported 2026-12-01\n{pdq_a},{q_a},anything,else\n{pdq_b},{q_b}\n",
        "plain.tsv": f"{pdq_a}\t{q_a}\tlabel words\n\n{pdq_b}\t{q_b}\n",
        "header.tsv": f"PDQ\tQuality\n{pdq_a}\t{q_a}\n",
        "bare.txt": f"{pdq_a}\n0x{pdq_b.upper()}\n",
    }
    for name, text in lists.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        with HashStore.open(tmp_path / f"{name}.sqlite") as store:
            res = import_file(store, path, default_label="circulating")
            assert res.errors == [], (name, res.errors)
            rows = list(store.rows())
        assert {r.hash for r in rows} <= {pdq_a, pdq_b} and rows, name
        assert {r.algorithm for r in rows} == {"pdq"}, name
        assert all(r.quality in (q_a, q_b, None) for r in rows), name
        assert {r.label for r in rows} == {"circulating"}
    with HashStore.open(tmp_path / "h.sqlite") as store:
        res = import_file(store, tmp_path / "header.csv")
    assert res.ignored_columns == ["url", "reviewed"]


def test_bad_lines_are_reported_and_skipped(tmp_path: Path) -> None:
    pdq_a, q_a = _pdq("orig_a.jpg")
    path = tmp_path / "mixed.csv"
    path.write_text(
        f"not-a-hash,10\n{pdq_a},{q_a}\n{'ab' * 10},50\n{'cd' * 32},101\n{'ef' * 16}\n",
        encoding="utf-8",
    )
    with HashStore.open(tmp_path / "m.sqlite") as store:
        res = import_file(store, path)
        kinds = {r.algorithm for r in store.rows()}
    assert res.added == 2 and kinds == {"pdq", "md5"}
    assert [line for line, _ in res.errors] == [1, 3, 4]
    assert "hex digits do not name one" in res.errors[1][1]


def test_md5_list_beside_pdq_and_lookup_exit_codes(tmp_path: Path) -> None:
    db = tmp_path / "desk.sqlite"
    pdq_a, q_a = _pdq("orig_a.jpg")
    pdq_list = tmp_path / "partner.csv"
    pdq_list.write_text(f"pdq_hash,quality\n{pdq_a},{q_a}\n", encoding="utf-8")
    md5_list = tmp_path / "stopncii.txt"
    md5_list.write_text(f"md5\n{_md5(PROV / 'orig_b.jpg')}\n{'0' * 31}\n", encoding="utf-8")

    out = run_db("import", str(pdq_list), "--label", "circulating", db=db)
    assert out.returncode == 0, out.stderr
    out = run_db("import", str(md5_list), "--label", "ncii", db=db)
    assert out.returncode == 1  # one bad row, reported with its line number
    assert f"{md5_list}:3: skipped" in out.stderr and "1 md5" in out.stderr

    hit = run_db("lookup", "--json", str(PROV / "orig_a_q60.jpg"), db=db)
    assert hit.returncode == 0, hit.stderr
    assert json.loads(hit.stdout)["match"] is not None

    exact = run_db("lookup", "--json", str(PROV / "orig_b.jpg"), db=db)
    assert exact.returncode == 0
    rec = json.loads(exact.stdout)
    assert rec["match"] is None and rec["md5_matches"][0]["label"] == "ncii"

    # orig_b cropped by 5 %: neither its PDQ nor its bytes are listed.
    none = run_db("lookup", str(PROV / "orig_b_crop5.jpg"), db=db)
    assert none.returncode == 3 and "no match" in none.stdout

    # --max-distance: PDQ alone within the given bits.
    near = run_db("lookup", "--json", "--max-distance", "31", str(PROV / "orig_a.jpg"), db=db)
    assert near.returncode == 0
    assert json.loads(near.stdout)["match"]["distance"] == 0
    strict = run_db("lookup", "--max-distance", "2", str(PROV / "orig_a_q60.jpg"), db=db)
    assert strict.returncode == 3  # 6 bits away

    missing = run_db("lookup", str(tmp_path / "gone.jpg"), str(PROV / "orig_a.jpg"), db=db)
    assert missing.returncode == 1


def test_pdq_csv_export_is_plain_and_round_trips(tmp_path: Path) -> None:
    db = tmp_path / "refs.sqlite"
    out = run_db("add", str(PROV / "orig_a.jpg"), str(PROV / "orig_b.jpg"), db=db)
    assert out.returncode == 0, out.stderr
    target = tmp_path / "share.csv"
    out = run_db("export", str(target), "--format", "pdq-csv", db=db)
    assert out.returncode == 0, out.stderr
    lines = target.read_text().splitlines()
    assert len(lines) == 2  # the two pictures, not their derived crops or pHashes
    for line in lines:
        digest, quality = line.split(",")
        assert len(digest) == 64 and 0 <= int(quality) <= 100
    assert {ln.split(",")[0] for ln in lines} == {_pdq("orig_a.jpg")[0], _pdq("orig_b.jpg")[0]}
    with HashStore.open(tmp_path / "partner.sqlite") as store:
        res = import_file(store, target)
    assert res.added == 2 and res.errors == []


def test_store_v3_migrates_to_md5_capable_v4_keeping_ids(tmp_path: Path) -> None:
    from triage.store.db import HashRow, _statements
    from triage.store.schema import MIGRATIONS

    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path, isolation_level=None)
    for step in MIGRATIONS[:3]:
        for statement in _statements(step):
            conn.execute(statement)
    conn.execute("PRAGMA user_version = 3")
    for i in range(4):
        conn.execute(
            "INSERT INTO hashes (algorithm, hash, label, added_at) VALUES ('pdq', ?, 'x', 'now')",
            (bytes([i]) * 32,),
        )
    conn.execute("DELETE FROM hashes WHERE id = 4")
    conn.close()
    with HashStore.open(path) as store:
        assert [r.id for r in store.rows()] == [1, 2, 3]
        assert store.add([HashRow(algorithm="md5", hash="d41d8cd98f00b204e9800998ecf8427e")]) == 1
        assert [r.id for r in store.rows("md5")] == [5]  # no id reused


@pytest.mark.parametrize("bad", ["xyz", "md5,quality\n" + "00" * 16 + ",oops"])
def test_odd_lists_never_raise(tmp_path: Path, bad: str) -> None:
    path = tmp_path / "odd.csv"
    path.write_text(bad, encoding="utf-8")
    with HashStore.open(tmp_path / "o.sqlite") as store:
        res = import_file(store, path)
    assert res.errors


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_an_overlong_line_is_a_bad_row_not_a_crash_or_its_size_in_memory(
    tmp_path: Path, suffix: str
) -> None:
    # csv raised "field larger than field limit" (a traceback), and both readers held
    # the whole line; a hash list line is never longer than a few hundred characters.
    from triage.store.hashlists import MAX_LINE_CHARS

    good = "ab" * 32
    long_line = "c" * (3 * MAX_LINE_CHARS)
    if suffix == ".csv":
        text = f"pdq_hash,quality\n{long_line}\n{good},100\n"
    else:
        text = f'{{"hash": "{long_line}"}}\n{{"hash": "{good}", "quality": 100}}\n'
    path = tmp_path / f"long{suffix}"
    path.write_text(text, encoding="utf-8")
    with HashStore.open(tmp_path / "l.sqlite") as store:
        res = import_file(store, path, default_label="x")
        assert [r.hash for r in store.rows()] == [good]
    assert res.added == 1
    line = 2 if suffix == ".csv" else 1
    assert res.errors == [(line, res.errors[0][1])] and "line longer than" in res.errors[0][1]


def test_bounded_lines_keeps_line_numbers_and_a_csv_error_is_a_bad_row() -> None:
    import io

    from triage.store.hashlists import bounded_lines, delimited_records

    overlong: set[int] = set()
    lines = list(bounded_lines(io.StringIO("a\n" + "x" * 50 + "\nb\nlast"), overlong, limit=8))
    assert lines == ["a\n", "\n", "b\n", "last"] and overlong == {2}
    # A quote left open grows one field past csv's limit: reported, and reading goes on.
    text = "ab" * 32 + ",1\n" + '"' + ("y" * 60000 + "\n") * 3 + "cd" * 32 + ",2\n"
    out = list(delimited_records(io.StringIO(text)))
    assert isinstance(out[0][1], dict)
    assert any(isinstance(r, str) and r.startswith("unreadable line") for _, r in out)
    assert out[-1] == (5, {"hash": "cd" * 32, "quality": "2"})


def test_check_flags_a_file_on_an_md5_list(tmp_path: Path) -> None:
    import triage

    listed = tmp_path / "ncii.txt"
    listed.write_text(f"{_md5(PROV / 'orig_b.jpg')}\n", encoding="utf-8")
    db = tmp_path / "refs.sqlite"
    with HashStore.open(db) as store:
        assert import_file(store, listed, default_label="ncii").added == 1
    hit = triage.analyze(PROV / "orig_b.jpg", only=["provenance"], db_path=db)
    exact = [f for f in hit.findings if f.id == "provenance.exact_file"]
    assert exact and exact[0].evidence["md5"] == _md5(PROV / "orig_b.jpg")
    assert exact[0].evidence["label"] == "ncii"
    miss = triage.analyze(PROV / "orig_b_q60.jpg", only=["provenance"], db_path=db)
    assert not [f for f in miss.findings if f.id == "provenance.exact_file"]
