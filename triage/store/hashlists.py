"""Hash lists as the field exchanges them: delimited text with or without a header.

Trust-and-safety teams trade PDQ hashes as ThreatExchange-style lists: one hash per
line, ``hash,quality`` and often further columns (``hash,quality,label,url...``),
comma- or tab-separated, with or without a header line such as ``pdq_hash,quality``.
Programmes such as StopNCII share MD5 digests of files beside PDQ. This module turns
such a list into records (dicts with ``hash``, ``algorithm``, ``quality``, ...) for
:mod:`triage.store.exchange`, and says what it left out and why.

Rules:

* ``#`` lines and blank lines are comments; the delimiter is a tab when the first
  data line has one, else a comma;
* a first line whose first cell is not hexadecimal is a header. Its names are matched
  loosely (``pdq_hash``, ``pdq``, ``signal_value`` -> hash with algorithm pdq; ``md5``,
  ``md5_hash`` -> hash with algorithm md5; ``quality``, ``pdq_quality``); columns it
  does not know are ignored and listed once;
* without a header, the first column is the hash, the second the quality when it is
  a whole number, and further columns are ignored;
* a hash's algorithm comes from the header, the row's own ``algorithm`` column, the
  caller's default, or its length (64 hex digits = PDQ, 32 = MD5).
"""

from __future__ import annotations

import csv
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, TextIO

# Header names -> (record key, algorithm the column implies).
_HASH_NAMES = {
    "hash": None,
    "signal": None,
    "signal_value": None,
    "value": None,
    "pdq": "pdq",
    "pdq_hash": "pdq",
    "pdqhash": "pdq",
    "hash_pdq": "pdq",
    "md5": "md5",
    "md5_hash": "md5",
    "md5hash": "md5",
    "hash_md5": "md5",
    "phash": "phash",
    "dhash": "dhash",
}
_FIELD_NAMES = {
    "quality": "quality",
    "pdq_quality": "quality",
    "algorithm": "algorithm",
    "signal_type": "algorithm",
    "label": "label",
    "source": "source",
    "first_seen": "first_seen",
    "note": "note",
    "sha256": "sha256",
    "time": "time",
    "added_at": "added_at",
    "derived": "derived",
}
_ALGORITHM_WORDS = {
    "pdq": "pdq",
    "pdq_hash": "pdq",
    "video_md5": "md5",
    "md5": "md5",
    "phash": "phash",
    "dhash": "dhash",
}
_HEX = re.compile(r"^(0x)?[0-9a-fA-F]+$")
_LENGTH_ALGORITHM = {64: "pdq", 32: "md5"}


@dataclass
class ListNotes:
    """What a list held besides hashes: ignored columns, the header seen."""

    header: list[str] | None = None
    ignored_columns: list[str] = field(default_factory=list)
    delimiter: str = ","


def algorithm_for_length(hex_digits: int) -> str | None:
    """The algorithm a bare hex hash of this length names: 64 = PDQ, 32 = MD5."""
    return _LENGTH_ALGORITHM.get(hex_digits)


def normalize_algorithm(word: str) -> str:
    """``PDQ``, ``pdq_hash``, ``video_md5`` ... -> the store's algorithm name."""
    key = word.strip().lower().replace("-", "_").replace(" ", "_")
    return _ALGORITHM_WORDS.get(key, key)


MAX_LINE_CHARS = 1 << 16
"""A hash list's line is a hash and a few fields; a longer one is not read whole."""


def bounded_lines(text: TextIO, overlong: set[int], limit: int = MAX_LINE_CHARS) -> Iterator[str]:
    """The lines of ``text``, none held in memory beyond ``limit`` characters.

    A longer line is read in pieces and dropped: its number goes into ``overlong`` and
    an empty line stands in for it, so the numbers of the lines after it hold.
    """
    number = 0
    while line := text.readline(limit):
        number += 1
        if len(line) >= limit and not line.endswith("\n"):
            while (rest := text.readline(limit)) and not rest.endswith("\n"):
                pass
            overlong.add(number)
            line = "\n"
        yield line


def delimited_records(
    text: TextIO, notes: ListNotes | None = None
) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """(line number, record or reason to skip) for each data line of a hash list."""
    notes = notes if notes is not None else ListNotes()
    # Streamed: only the lines up to the first data line are held (for the delimiter),
    # so a list of millions of hashes is never in memory at once, nor one long line.
    overlong: set[int] = set()
    lines = bounded_lines(text, overlong)
    head: list[str] = []
    first = ""
    for line in lines:
        head.append(line)
        if line.strip() and not line.lstrip().startswith("#"):
            first = line
            break
    notes.delimiter = "\t" if "\t" in first else ","
    reader = csv.reader(itertools.chain(head, lines), delimiter=notes.delimiter)
    columns: list[tuple[str, str | None] | None] | None = None  # per column: (key, algorithm)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # e.g. a quote left open over many lines
            yield reader.line_num, f"unreadable line ({exc})"
            continue
        line_no = reader.line_num
        if line_no in overlong:
            yield line_no, f"line longer than {MAX_LINE_CHARS:,} characters: not a hash list row"
            continue
        cells = [c.strip() for c in row]
        if not cells or all(not c for c in cells) or cells[0].startswith("#"):
            continue
        if columns is None:
            if not _HEX.match(cells[0]):
                if not _names_a_column(cells):
                    yield line_no, f"not a hash ({cells[0][:40]!r}) and not a header line"
                    continue
                columns = _header_columns(cells, notes)
                if not any(c is not None and c[0] == "hash" for c in columns):
                    yield line_no, f"the header names no hash column ({', '.join(cells)})"
                    return
                continue
            columns = []  # headerless
        yield line_no, _record(cells, columns)


def _names_a_column(cells: list[str]) -> bool:
    keys = {c.lower().replace("-", "_").replace(" ", "_") for c in cells}
    return bool(keys & (set(_HASH_NAMES) | set(_FIELD_NAMES)))


def _header_columns(cells: list[str], notes: ListNotes) -> list[tuple[str, str | None] | None]:
    notes.header = cells
    out: list[tuple[str, str | None] | None] = []
    for name in cells:
        key = name.lower().replace("-", "_").replace(" ", "_")
        if key in _HASH_NAMES and not any(c is not None and c[0] == "hash" for c in out):
            out.append(("hash", _HASH_NAMES[key]))
        elif key in _FIELD_NAMES:
            out.append((_FIELD_NAMES[key], None))
        else:
            out.append(None)
            notes.ignored_columns.append(name)
    return out


def _record(cells: list[str], columns: list[tuple[str, str | None] | None]) -> dict[str, Any]:
    rec: dict[str, Any] = {}
    if not columns:  # headerless: hash[, quality[, anything...]]
        rec["hash"] = cells[0]
        if len(cells) > 1 and cells[1].isdigit():
            rec["quality"] = cells[1]
        return rec
    for cell, col in zip(cells, columns, strict=False):
        if col is None or cell == "":
            continue
        key, algo = col
        rec[key] = cell
        if key == "hash" and algo is not None:
            rec.setdefault("algorithm", algo)
    if "algorithm" in rec:
        rec["algorithm"] = normalize_algorithm(str(rec["algorithm"]))
    return rec
