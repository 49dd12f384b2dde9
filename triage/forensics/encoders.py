"""Known JPEG encoder fingerprints (``triage/data/encoders.json``): load, match, rebuild.

The data file is measured, not typed in: ``python -m triage.forensics.encoders
[CORPUS_DIR]`` encodes a test image with Pillow and OpenCV at every quality 1-100
and reads the quantization tables and structure back with our own parser, then
records the tables of camera originals found under ``CORPUS_DIR/camera`` (make,
model and numbers only; no image data). Camera files whose manifest notes say
they were re-saved by an editor or reduced to placeholders are left out.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from triage.forensics.jpeg import JpegInfo, fingerprint, parse_jpeg, tables_hash

__all__ = ["load", "match"]


@cache
def load() -> dict[str, Any]:
    """The measured encoder tables shipped in ``triage/data/encoders.json`` (read once).

    Returns
    -------
    dict
        ``libraries`` (encoder, quality, tables) and ``cameras`` (make, model, tables).
    """
    text = resources.files("triage.data").joinpath("encoders.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def match(info: JpegInfo) -> dict[str, Any]:
    """Which known encoders produce a JPEG's quantization tables.

    Parameters
    ----------
    info : JpegInfo
        The parsed JPEG (:func:`triage.forensics.jpeg.parse_jpeg`).

    Returns
    -------
    dict
        ``libraries``: [{encoder, quality}...] and ``cameras``: [{make, model}...] whose
        tables equal the file's (empty lists when nothing matches).

    References
    ----------
    H. Farid, "Digital image ballistics from JPEG quantization", Dartmouth TR2006-583,
    2006 (quantization tables identify the encoder).
    """
    db = load()
    key = tables_hash(info.qtables) if info.qtables else None
    libs = [
        {"encoder": e["encoder"], "quality": e["quality"]}
        for e in db.get("libraries", [])
        if key and e["quant_hash"] == key
    ]
    cams = [
        {"make": c["make"], "model": c["model"]}
        for c in db.get("cameras", [])
        if key and c["quant_hash"] == key
    ]
    return {"libraries": libs, "cameras": cams}


def _measure_libraries() -> list[dict[str, Any]]:
    import io

    import cv2
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    arr = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    out: list[dict[str, Any]] = []
    for q in range(1, 101):
        buf = io.BytesIO()
        Image.fromarray(arr).save(buf, "JPEG", quality=q)
        ok, enc = cv2.imencode(".jpg", arr, [cv2.IMWRITE_JPEG_QUALITY, q])
        assert ok
        for name, data in (("Pillow", buf.getvalue()), ("OpenCV", enc.tobytes())):
            info = parse_jpeg(data)
            fp = fingerprint(info)
            out.append(
                {
                    "encoder": name,
                    "quality": q,
                    "quant_hash": fp["quant_hash"],
                    "subsampling": fp["subsampling"],
                    "huffman": fp["huffman"],
                    "app_segments": fp["app_segments"],
                    "tables": [list(info.qtables[t]) for t in sorted(info.qtables)],
                }
            )
    return out


def _measure_cameras(corpus: Path) -> list[dict[str, Any]]:
    import io

    from PIL import Image

    notes: dict[str, str] = {}
    manifest = corpus / "MANIFEST.tsv"
    if manifest.is_file():
        for line in manifest.read_text("utf-8").splitlines()[1:]:
            parts = line.split("\t")
            if len(parts) >= 7:
                notes[parts[0]] = parts[6]
    cams: dict[str, dict[str, Any]] = {}
    for path in sorted((corpus / "camera").rglob("*.jp*g")):
        rel = str(path.relative_to(corpus))
        note = notes.get(rel, "").lower()
        if "gimp" in note or "placeholder" in note:
            continue
        data = path.read_bytes()
        try:
            info = parse_jpeg(data)
            exif = Image.open(io.BytesIO(data)).getexif()
        except Exception:
            continue
        make = str(exif.get(0x010F, "")).strip("\x00 ").strip()
        model = str(exif.get(0x0110, "")).strip("\x00 ").strip()
        if not (make or model) or not info.qtables:
            continue
        fp = fingerprint(info)
        key = f"{make}|{model}|{fp['quant_hash']}"
        cams[key] = {
            "make": make,
            "model": model,
            "quant_hash": fp["quant_hash"],
            "subsampling": fp["subsampling"],
            "huffman": fp["huffman"],
            "quality_estimate": [t["quality"] for t in fp["quant_tables"]],
            "standard_tables": all(t["standard"] for t in fp["quant_tables"]),
            "tables": [list(info.qtables[t]) for t in sorted(info.qtables)],
        }
    return list(cams.values())


def build(corpus: Path | None) -> dict[str, Any]:
    """Measure the tables of the encoders installed here (and of a corpus's cameras).

    Parameters
    ----------
    corpus : Path or None
        A folder of camera JPEGs whose tables are recorded per make and model.

    Returns
    -------
    dict
        The content of ``encoders.json``: a note, ``libraries`` and ``cameras``.
    """
    libs = _measure_libraries()
    # Identical tables from both libraries: keep the numbers once per quality.
    return {
        "note": "Measured by `python -m triage.forensics.encoders`; tables in natural "
        "(row-major) order, one per table id. Numbers only.",
        "libraries": libs,
        "cameras": _measure_cameras(corpus) if corpus else [],
    }


def _main(argv: list[str]) -> int:
    corpus = Path(argv[0]) if argv else None
    data = build(corpus)
    target = Path(__file__).resolve().parent.parent / "data" / "encoders.json"
    lines = ["{"]
    lines.append(f'  "note": {json.dumps(data["note"])},')
    for key in ("libraries", "cameras"):
        lines.append(f'  "{key}": [')
        rows = [json.dumps(r, separators=(",", ":")) for r in data[key]]
        lines.append(",\n".join("    " + r for r in rows))
        lines.append("  ]" + ("," if key == "libraries" else ""))
    lines.append("}")
    target.write_text("\n".join(lines) + "\n", "utf-8")
    print(f"{len(data['libraries'])} library entries, {len(data['cameras'])} cameras -> {target}")
    return 0


if __name__ == "__main__":
    import sys

    raise SystemExit(_main(sys.argv[1:]))
