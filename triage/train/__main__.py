"""``python -m triage.train NAME [options]``: retrain a shipped model."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

MODELS = ("tamper", "camera", "synthpix")


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``python -m triage.train``."""
    parser = argparse.ArgumentParser(
        prog="python -m triage.train",
        description="Retrain a model that ships with triage, from real photos on this machine.",
    )
    parser.add_argument("name", choices=MODELS)
    parser.add_argument(
        "--training",
        type=Path,
        default=Path(__file__).resolve().parents[2].parent / "shared" / "training",
        help="folder with MANIFEST.tsv and camera/ (default: ../shared/training)",
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="model folder (default: the package's)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--limit", type=int, default=0, help="use at most N source photos (0 = all)"
    )
    parser.add_argument("--edits", type=int, default=4, help="edited examples per source photo")
    parser.add_argument(
        "--variants", type=int, default=16, help="synthpix: platform variants per generated panel"
    )
    parser.add_argument(
        "--graphics",
        type=int,
        default=None,
        help="synthpix: code-drawn graphics on the camera side (default: the shipped count)",
    )
    parser.add_argument(
        "--no-smooth",
        dest="smooth",
        action="store_false",
        help="synthpix: leave out the smoothed chains (down-up 1.5-4x, blur) that every "
        "class gets (model 3's rows, version 5, instead of the shipped 5s)",
    )
    parser.add_argument(
        "--denoise",
        action="store_true",
        help="synthpix: add denoised chains (non-local means, bilateral) to every class "
        "alike: candidate 3sd, measured, not shipped",
    )
    parser.add_argument(
        "--folds",
        type=int,
        default=0,
        help="tamper: train cross-fitting models instead, one per fold of the training "
        "sources (each without its fold), into --out/fold-K (--out required)",
    )
    parser.add_argument(
        "--chains",
        choices=("platform", "mixed"),
        default=None,
        help="tamper: the generator's chains (default platform, model 4.3's; mixed adds "
        "small copies, PNG saves and edits made on a web copy)",
    )
    parser.add_argument(
        "--content",
        action="store_true",
        help="tamper: fit on the content features too (overlay, retouch and copy-move "
        "features of triage/forensics/tilecontent.py; measured, not shipped)",
    )
    parser.add_argument(
        "--form",
        type=int,
        choices=(1, 2),
        default=None,
        help="tamper: the block features' form (default the shipped model's; 2: features "
        "that a turn or mirror of the picture leaves unchanged, "
        "triage/forensics/blockfeatures.py BlockForm)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    out = args.out or Path(__file__).resolve().parents[1] / "data" / "models"
    if args.name == "synthpix":
        from triage.train import synthpix

        print(
            synthpix.summary(
                synthpix.train_from_folder(
                    args.training,
                    out,
                    seed=args.seed,
                    limit=args.limit,
                    variants=args.variants,
                    graphics=synthpix.GRAPHICS if args.graphics is None else args.graphics,
                    smooth_rows=args.smooth,
                    denoise_rows=args.denoise,
                )
            )
        )
        return 0
    if args.name == "camera":
        from triage.train import camera

        cam = camera.train_from_folder(args.training, out, seed=args.seed, limit=args.limit)
        print(camera.summary(cam))
        return 0
    from triage.train import tamper

    if args.chains:
        tamper.CHAINS = args.chains
    tamper.CONTENT = args.content
    if args.form:
        tamper.FORM = args.form
    if args.folds:
        if args.out is None:
            parser.error("--folds writes cross-fitting models, never the shipped one: give --out")
        for m in tamper.train_folds(
            args.training,
            args.out,
            args.folds,
            seed=args.seed,
            limit=args.limit,
            edits_per_source=args.edits,
        ):
            print(f"fold {m['data']['fold']['fold']}: " + tamper.summary(m).splitlines()[1])
        return 0
    manifest = tamper.train_from_folder(
        args.training, out, seed=args.seed, limit=args.limit, edits_per_source=args.edits
    )
    print(tamper.summary(manifest))
    return 0


if __name__ == "__main__":
    sys.exit(main())
