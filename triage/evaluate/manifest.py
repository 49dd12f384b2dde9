"""Read a labeled manifest: ``path, label[, mask]`` as TSV or CSV.

The corpus's ``labels.tsv`` is the reference format::

    path<TAB>label<TAB>mask
    camera/x/Canon_40D.jpg<TAB>authentic<TAB>
    manipulated/comofod/020_forged.png<TAB>manipulated<TAB>manipulated/comofod/020_mask.png

Paths (and masks) are relative to the manifest's folder unless absolute. The header
line is optional; the delimiter is a tab when the first line has one, else a comma.
Blank lines and lines starting with ``#`` are ignored.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Label = Literal["authentic", "manipulated", "synthetic", "malformed", "unknown"]
LABELS: tuple[Label, ...] = ("authentic", "manipulated", "synthetic", "malformed", "unknown")
_ALIASES: dict[str, Label] = {
    "real": "authentic",
    "original": "authentic",
    "pristine": "authentic",
    "camera": "authentic",
    "edited": "manipulated",
    "tampered": "manipulated",
    "forged": "manipulated",
    "fake": "manipulated",
    "ai": "synthetic",
    "generated": "synthetic",
    "broken": "malformed",
    "corrupt": "malformed",
    "": "unknown",
}


class ManifestError(ValueError):
    """The manifest cannot be read; the message names the line and the problem."""


@dataclass(frozen=True)
class Item:
    """One labeled file of a manifest."""

    path: Path  # resolved against the manifest's folder
    label: Label
    mask: Path | None = None
    name: str = ""  # the path as written in the manifest (for tables)

    @property
    def group(self) -> str:
        """First folder of the manifest path (``camera``, ``manipulated``...), or ``.``."""
        parts = Path(self.name).parts
        return parts[0] if len(parts) > 1 else "."


def parse_label(text: str) -> Label:
    key = text.strip().lower()
    if key in LABELS:
        return key  # type: ignore[return-value]
    if key in _ALIASES:
        return _ALIASES[key]
    raise ValueError(f"unknown label {text!r}; use one of {', '.join(LABELS)}")


def parse_manifest(text: str, base: Path) -> list[Item]:
    """Items of a manifest given as text; relative paths resolve against ``base``."""
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        return []
    delimiter = "\t" if "\t" in lines[0] else ","
    rows = list(csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter))
    columns = {"path": 0, "label": 1, "mask": 2}
    first = [c.strip().lower() for c in rows[0]]
    start = 0
    if "path" in first and "label" in first:
        columns = {name: first.index(name) for name in ("path", "label", "mask") if name in first}
        start = 1
    items: list[Item] = []
    for number, row in enumerate(rows[start:], start=start + 1):
        cells = [c.strip() for c in row]

        def cell(name: str, cells: list[str] = cells) -> str:
            idx = columns.get(name)
            return cells[idx] if idx is not None and idx < len(cells) else ""

        name = cell("path")
        if not name:
            raise ManifestError(f"line {number}: no path")
        try:
            label = parse_label(cell("label"))
        except ValueError as exc:
            raise ManifestError(f"line {number}: {exc}") from None
        mask_name = cell("mask")
        items.append(
            Item(
                path=_resolve(base, name),
                label=label,
                mask=_resolve(base, mask_name) if mask_name else None,
                name=name,
            )
        )
    return items


def read_manifest(path: str | Path) -> list[Item]:
    """Items of the manifest file at ``path`` (paths relative to its folder)."""
    p = Path(path)
    try:
        text = p.read_text("utf-8-sig")
    except FileNotFoundError:
        raise ManifestError(f"{p}: no such manifest") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError(f"{p}: cannot read the manifest ({exc})") from None
    return parse_manifest(text, p.resolve().parent)


def _resolve(base: Path, name: str) -> Path:
    p = Path(name).expanduser()
    return p if p.is_absolute() else base / p
