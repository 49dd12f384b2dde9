#!/usr/bin/env python3
"""Assemble one tamper ensemble from the members of several model folders.

    python bench/tamper_bag.py --from DIR [DIR ...] --out DIR [--seed 1] [--jobs 2]

Each ``--from`` folder is a model written by ``python -m triage.train tamper`` (a
``tamper.manifest.json`` and its members); ``--out`` gets every member of all of them
(renamed ``tamper.mK.txt`` / ``tamper.image.mK.txt`` in order, the first folder's first
member keeping the v4 names) and a manifest listing them, the first folder's manifest
with the members, the held-out figures and the command replaced. The held-out figures
are those of ``triage.train.tamper.validate`` on the validation sources' files of
generator seed ``--seed`` (1: the shipped 4.3's own validation files), so thresholds and
region fraction are chosen on the first half as the training chooses them. Used to
measure a larger bag (docs/analyzers/tamper.md, "Six members"). The members' files are
copied byte for byte, never refitted.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TRAINING = ROOT.parent / "shared" / "training"


def copy_members(folders: list[Path], out: Path) -> list[dict[str, Any]]:
    """Copy every member's two files into ``out`` under the bag's names; their entries."""
    from triage.train.tamper import MANIFEST_FILE, member_files

    out.mkdir(parents=True, exist_ok=True)
    entries: list[dict[str, Any]] = []
    for folder in folders:
        manifest = json.loads((folder / MANIFEST_FILE).read_text("utf-8"))
        for m in manifest["members"]:
            tile, image = member_files(len(entries))
            shutil.copyfile(folder / m["tile_model"], out / tile)
            shutil.copyfile(folder / m["image_model"], out / image)
            entries.append(
                {"tile_model": tile, "image_model": image, "seed": m["seed"], "from": folder.name}
            )
    return entries


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="folders", type=Path, nargs="+", required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    if not (TRAINING / "MANIFEST.tsv").is_file():
        print("../shared/training is absent: skipped")
        return 0
    import lightgbm as lgb

    from triage.train import tamper
    from triage.train.edits import list_sources, split_sources

    entries = copy_members(args.folders, args.out)
    members = [
        (
            lgb.Booster(model_file=str(args.out / e["tile_model"])),
            lgb.Booster(model_file=str(args.out / e["image_model"])),
        )
        for e in entries
    ]
    _, val_src = split_sources(list_sources(TRAINING))
    val = tamper.featurize_sources(
        val_src, args.seed, 4, tamper.VALIDATION_UNEDITED, original=True, jobs=args.jobs
    )
    manifest = json.loads((args.folders[0] / tamper.MANIFEST_FILE).read_text("utf-8"))
    manifest["members"] = [
        {k: e[k] for k in ("tile_model", "image_model", "seed")} for e in entries
    ]
    manifest["held_out"] = tamper.validate(members, val)
    manifest["data"]["validation_files"] = len(val)
    manifest["train_seconds"] = None  # the members were trained apart
    manifest["command"] = (
        "python -m triage.train tamper (per folder, --seed S), then python bench/tamper_bag.py "
        f"--from {' '.join(f.name for f in args.folders)} --seed {args.seed}"
    )
    (args.out / tamper.MANIFEST_FILE).write_text(
        json.dumps(manifest, indent=2) + "\n", encoding="utf-8"
    )
    print(tamper.summary(manifest))
    return 0


if __name__ == "__main__":
    sys.exit(main())
