"""Training examples made by code: realistic edits of real photos, with masks, sent
through the chain a platform applies.

Every source photo yields its camera file untouched, unedited copies and
``edits_per_source`` edited ones, and all the copies go through the same kind of
platform chain (resize, JPEG re-encode, metadata dropped; or an editor's export),
so that "re-saved" is never what a model learns as "edited". Deterministic for a
seed. Sources are cropped (on the 8x8 grid, so the
camera's JPEG history is kept), never resized before the edit.

Which sources: camera JPEGs listed in ../shared/training/MANIFEST.tsv with a camera
make and model, whose EXIF Software and file name match no editor or raw converter in
``triage/data/editors.tsv`` (Photoshop, Lightroom, GIMP, Canon DPP ... are dropped),
and whose size is at least ``MIN_PIXELS``. A file without make and model is usually
a library's test image with an unknown history, so it is not taken as a camera file.
"""

from __future__ import annotations

import csv
import functools
import io
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

KINDS = ("splice", "copymove", "inpaint", "retouch", "overlay")
PLATFORM_CHAINS = "platform"  # every copy through platform_chain (tamper model 4.3)
MIXED_CHAINS = "mixed"  # mixed_route: those, small copies, PNG saves, edits on a web copy
NEW_CHAINS = "new"  # mixed_route without the platform chains (its other routes only)
MIN_PIXELS = 300_000
MAX_CROP = 2048


@dataclass(frozen=True)
class Example:
    """One training or validation file: JPEG bytes as a platform would serve them."""

    jpeg: bytes  # the served file: JPEG, or PNG for the lossless chains of MIXED_CHAINS
    mask: np.ndarray  # bool (H, W) at the served size; all False when unedited
    kind: str  # "none" or one of KINDS
    chain: str  # e.g. "resize1080+q72"
    source_id: str


def list_sources(training_dir: Path) -> list[Path]:
    """Camera photos of ../shared/training fit to edit (see the module docstring)."""
    manifest = training_dir / "MANIFEST.tsv"
    out = []
    with manifest.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            if not is_plain_camera_photo(row):
                continue
            try:
                pixels = int(row.get("width") or 0) * int(row.get("height") or 0)
            except ValueError:
                continue
            path = training_dir / row["path"]
            if pixels >= MIN_PIXELS and path.is_file():
                out.append(path)
    return sorted(out)


def is_plain_camera_photo(row: dict[str, str]) -> bool:
    """Whether a MANIFEST.tsv row is a camera file no editor has touched, as far as its
    metadata and name tell: category camera, a make and a model, and no editor or raw
    converter of ``editors.tsv`` in its Software field or its file name."""
    if row.get("category") != "camera":
        return False
    if not (row.get("make") or "").strip() or not (row.get("model") or "").strip():
        return False
    software = row.get("software") or ""
    stem = Path(row.get("path") or "").stem.replace("_", " ")
    return not any(p.search(software) or p.search(stem) for p in _editor_patterns())


@functools.cache
def _editor_patterns() -> tuple[re.Pattern[str], ...]:
    # editors.tsv columns: pattern, name, kind, strength
    from importlib import resources

    text = resources.files("triage.data").joinpath("editors.tsv").read_text("utf-8")
    pats = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) >= 3 and fields[2].strip() in ("editor", "raw-converter"):
            pats.append(re.compile(fields[0], re.IGNORECASE))
    return tuple(pats)


def split_sources(sources: list[Path], holdout: float = 0.25) -> tuple[list[Path], list[Path]]:
    """Train / validation split by source photo, stable across runs (hash of the name)."""
    val = [p for p in sources if zlib.crc32(p.name.encode()) % 1000 < holdout * 1000]
    train = [p for p in sources if p not in val]
    return train, val


def decode(path: Path, rng: np.random.Generator) -> np.ndarray | None:
    """RGB of a source photo, cropped on the 8x8 grid to at most MAX_CROP square."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            rgb = np.asarray(im.convert("RGB"))
    except Exception:
        return None
    h, w = rgb.shape[:2]
    ch, cw = min(h, MAX_CROP), min(w, MAX_CROP)
    y = int(rng.integers(0, (h - ch) // 8 + 1)) * 8
    x = int(rng.integers(0, (w - cw) // 8 + 1)) * 8
    return np.ascontiguousarray(rgb[y : y + ch, x : x + cw])


def generate(
    sources: list[Path],
    seed: int = 0,
    edits_per_source: int = 2,
    unedited_per_source: int = 1,
    original: bool = True,
    chains: str = PLATFORM_CHAINS,
) -> Iterator[Example]:
    """Unedited and edited examples of every source, each through a platform chain.

    Parameters
    ----------
    sources : list of Path
        Camera JPEGs (see :func:`list_sources`); donors for splices are drawn from
        the same list, so a train/validation split by source stays clean.
    seed : int
        Everything random derives from it and the source's position.
    edits_per_source : int
        Edited examples per source (kinds drawn in rotation over :data:`KINDS`).
    unedited_per_source : int
        Unedited examples per source, each through its own platform chain.
    original : bool
        Also yield each camera file untouched (once per source, whatever the seed).
    chains : str
        :data:`PLATFORM_CHAINS` (every copy through :func:`platform_chain`, the
        chains of tamper model 4.3), :data:`MIXED_CHAINS` (:func:`mixed_route`:
        those, small copies, lossless saves and edits made on a web copy) or
        :data:`NEW_CHAINS` (those three alone).
    """
    for i in range(len(sources)):
        yield from examples_of(
            sources, i, seed, edits_per_source, unedited_per_source, original, chains
        )


def examples_of(
    sources: list[Path],
    i: int,
    seed: int = 0,
    edits_per_source: int = 2,
    unedited_per_source: int = 1,
    original: bool = True,
    chains: str = PLATFORM_CHAINS,
) -> list[Example]:
    """The examples :func:`generate` makes of ``sources[i]`` (independent of the
    other sources' examples, so they can be made in parallel)."""
    path = sources[i]
    rng = np.random.default_rng([seed, i])
    rgb = decode(path, rng)
    if rgb is None or min(rgb.shape[:2]) < 256:
        return []
    sid = path.stem
    out = []
    camera_file = _original(path) if original else None
    if camera_file is not None:
        out.append(camera_file)
    for _ in range(unedited_per_source):
        if chains in (MIXED_CHAINS, NEW_CHAINS):
            route = mixed_route(rgb, rng, chains == NEW_CHAINS)
            jpeg, mask, chain = route.finish(route.base, np.zeros(route.base.shape[:2], bool), rng)
        else:
            jpeg, mask, chain = platform_chain(rgb, np.zeros(rgb.shape[:2], bool), rng)
        out.append(Example(jpeg, mask, "none", chain, sid))
    for k in range(edits_per_source):
        kind = KINDS[(i * edits_per_source + k + seed) % len(KINDS)]
        donor_path = sources[
            (i + 1 + int(rng.integers(0, max(1, len(sources) - 1)))) % len(sources)
        ]
        if chains in (MIXED_CHAINS, NEW_CHAINS):
            route = mixed_route(rgb, rng, chains == NEW_CHAINS)
            edited, mask = apply_edit(kind, route.base, donor_path, rng)
            if mask.sum() < 64:
                continue
            jpeg, mask, chain = route.finish(edited, mask, rng)
        else:
            edited, mask = apply_edit(kind, rgb, donor_path, rng)
            if mask.sum() < 64:
                continue
            jpeg, mask, chain = platform_chain(edited, mask, rng)
        out.append(Example(jpeg, mask, kind, chain, sid))
    return out


def _original(path: Path) -> Example | None:
    """The camera file itself, bytes untouched: what a desk gets straight from a
    camera (one compression, the maker's tables), a negative the chains never make."""
    from PIL import Image

    data = path.read_bytes()
    try:
        with Image.open(io.BytesIO(data)) as im:
            if im.format != "JPEG":
                return None
            w, h = im.size
    except Exception:
        return None
    return Example(data, np.zeros((h, w), bool), "none", "original", path.stem)


def random_mask(
    h: int, w: int, rng: np.random.Generator, lo: float = 0.01, hi: float = 0.3
) -> np.ndarray:
    """A box, ellipse or object-like polygon covering ``lo``..``hi`` of the image."""
    import cv2

    area = float(rng.uniform(lo, hi)) * h * w
    aspect = float(rng.uniform(0.5, 2.0))
    bh = int(min(h - 2, max(8, np.sqrt(area / aspect))))
    bw = int(min(w - 2, max(8, area / max(bh, 1))))
    y0 = int(rng.integers(0, max(1, h - bh)))
    x0 = int(rng.integers(0, max(1, w - bw)))
    m = np.zeros((h, w), np.uint8)
    shape = int(rng.integers(0, 3))
    if shape == 0:
        m[y0 : y0 + bh, x0 : x0 + bw] = 1
    elif shape == 1:
        cv2.ellipse(m, (x0 + bw // 2, y0 + bh // 2), (bw // 2, bh // 2), 0, 0, 360, 1, -1)
    else:
        n = int(rng.integers(5, 10))
        ang = np.sort(rng.uniform(0, 2 * np.pi, n))
        rad = rng.uniform(0.6, 1.0, n)
        pts = np.stack(
            [x0 + bw / 2 + np.cos(ang) * rad * bw / 2, y0 + bh / 2 + np.sin(ang) * rad * bh / 2], 1
        ).astype(np.int32)
        cv2.fillPoly(m, [pts], 1)
    return m.astype(bool)


def apply_edit(
    kind: str, rgb: np.ndarray, donor_path: Path, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Apply one edit of ``kind``; returns the edited RGB and the edited-pixel mask."""
    if kind == "splice":
        return _splice(rgb, donor_path, rng)
    if kind == "copymove":
        return _copymove(rgb, rng)
    if kind == "inpaint":
        return _inpaint(rgb, rng)
    if kind == "retouch":
        return _retouch(rgb, rng)
    if kind == "overlay":
        return _overlay(rgb, rng)
    raise ValueError(f"unknown edit kind {kind!r}")


def _blend(
    host: np.ndarray, patch: np.ndarray, mask: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    import cv2

    alpha: np.ndarray = mask.astype(np.float32)
    if rng.random() < 0.5:
        alpha = cv2.GaussianBlur(alpha, (0, 0), float(rng.uniform(1.0, 3.0)))
    out = (
        host.astype(np.float32) * (1 - alpha[..., None])
        + patch.astype(np.float32) * alpha[..., None]
    )
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def _jpeg_roundtrip(rgb: np.ndarray, quality: int) -> np.ndarray:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def _splice(
    rgb: np.ndarray, donor_path: Path, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    import cv2

    h, w = rgb.shape[:2]
    donor = decode(donor_path, rng)
    if donor is None:
        return rgb, np.zeros((h, w), bool)
    donor = _jpeg_roundtrip(donor, int(rng.integers(50, 96)))
    scale = float(np.exp(rng.uniform(np.log(0.5), np.log(2.0))))
    donor = cv2.resize(donor, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
    reps = (int(np.ceil(h / donor.shape[0])), int(np.ceil(w / donor.shape[1])), 1)
    donor = np.tile(donor, reps)[:h, :w]
    mask = random_mask(h, w, rng)
    if rng.random() < 0.3:
        ys, xs = np.nonzero(mask)
        center = (int(xs.mean()), int(ys.mean()))
        try:
            m8 = (mask * 255).astype(np.uint8)
            out = cv2.seamlessClone(donor, rgb, m8, center, cv2.NORMAL_CLONE)
            return out, mask
        except cv2.error:
            pass
    return _blend(rgb, donor, mask, rng), mask


def _copymove(rgb: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    import cv2

    h, w = rgb.shape[:2]
    mask = random_mask(h, w, rng, 0.01, 0.12)
    angle = float(rng.uniform(-20, 20))
    scale = float(rng.uniform(0.85, 1.2))
    ys, xs = np.nonzero(mask)
    cx, cy = float(xs.mean()), float(ys.mean())
    tx, ty = float(rng.uniform(0.2, 0.8) * w), float(rng.uniform(0.2, 0.8) * h)
    mat = cv2.getRotationMatrix2D((cx, cy), angle, scale)
    mat[:, 2] += np.array([tx - cx, ty - cy])
    moved = cv2.warpAffine(rgb, mat, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    target = cv2.warpAffine(mask.astype(np.uint8), mat, (w, h), flags=cv2.INTER_NEAREST) > 0
    return _blend(rgb, moved, target, rng), target


def _inpaint(rgb: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    import cv2

    h, w = rgb.shape[:2]
    mask = random_mask(h, w, rng, 0.005, 0.06)
    m8 = mask.astype(np.uint8) * 255
    choice = int(rng.integers(0, 3))
    if choice == 2:  # patch-copy fill from a neighbouring area
        dy = int(rng.choice([-1, 1]) * mask.any(axis=1).sum())
        src = np.roll(rgb, dy, axis=0)
        return _blend(rgb, src, mask, rng), mask
    flag = cv2.INPAINT_TELEA if choice == 0 else cv2.INPAINT_NS
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    out = cv2.inpaint(bgr, m8, 5, flag)
    return cv2.cvtColor(out, cv2.COLOR_BGR2RGB), mask


def _retouch(rgb: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    import cv2

    h, w = rgb.shape[:2]
    mask = random_mask(h, w, rng, 0.02, 0.25)
    op = int(rng.integers(0, 3))
    f = rgb.astype(np.float32)
    if op == 0:
        changed = cv2.GaussianBlur(f, (0, 0), float(rng.uniform(1.2, 3.0)))
    elif op == 1:
        soft = cv2.GaussianBlur(f, (0, 0), 1.5)
        changed = f + float(rng.uniform(0.8, 2.0)) * (f - soft)
    else:
        changed = (f - 128) * float(rng.uniform(0.75, 1.3)) + 128 + float(rng.uniform(-25, 25))
    return _blend(rgb, np.clip(changed, 0, 255).astype(np.uint8), mask, rng), mask


def _overlay(rgb: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    import cv2

    h, w = rgb.shape[:2]
    canvas = rgb.copy()
    mask = np.zeros((h, w), np.uint8)
    scale = max(0.6, min(h, w) / 400 * float(rng.uniform(0.6, 1.4)))
    words = ["BREAKING", "EXCLUSIVE", "LEAKED", "2026", "NEWS", "LIVE", "@source"]
    for _ in range(int(rng.integers(1, 4))):
        text = " ".join(rng.choice(words, int(rng.integers(1, 3))))
        org = (int(rng.integers(0, max(1, w // 2))), int(rng.integers(h // 8, h - 8)))
        color = tuple(int(c) for c in rng.integers(0, 256, 3))
        thick = max(1, int(scale * 2))
        if rng.random() < 0.4:
            (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
            box_color = tuple(int(c) for c in rng.integers(0, 256, 3))
            cv2.rectangle(
                canvas, (org[0] - 4, org[1] - th - 6), (org[0] + tw + 4, org[1] + 6), box_color, -1
            )
            cv2.rectangle(mask, (org[0] - 4, org[1] - th - 6), (org[0] + tw + 4, org[1] + 6), 1, -1)
        cv2.putText(canvas, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, color, thick, cv2.LINE_AA)
        cv2.putText(mask, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, 1, thick + 2, cv2.LINE_8)
    return canvas, mask.astype(bool)


def long_side_size(height: int, width: int, target: int | None) -> tuple[int, int] | None:
    """(width, height) for cv2.resize that brings the long side down to ``target``
    (sides at least 8 px), or None when there is no target or the image is no
    larger: a platform shrinks, it never enlarges."""
    if target is None or max(height, width) <= target:
        return None
    s = target / max(height, width)
    return max(8, round(width * s)), max(8, round(height * s))


def platform_chain(
    rgb: np.ndarray, mask: np.ndarray, rng: np.random.Generator
) -> tuple[bytes, np.ndarray, str]:
    """Resize to a long side of 1080 / 1600 / 2048 or keep, then JPEG q65-95 (4:2:0),
    no metadata: what a social platform serves; or, one time in six, an editor's
    export at q90-100 (4:4:4 or 4:2:0) with no resize. Returns bytes, resized mask, chain name."""
    import cv2
    from PIL import Image

    h, w = rgb.shape[:2]
    if rng.random() < 1 / 6:  # an editor's export, straight to the desk
        quality = int(rng.integers(90, 101))
        buf = io.BytesIO()
        sub = int(rng.choice([0, 2]))
        Image.fromarray(rgb).save(buf, "JPEG", quality=quality, subsampling=sub)
        return buf.getvalue(), mask, f"export+q{quality}"
    target = [None, None, 2048, 1600, 1080][int(rng.integers(0, 5))]
    name = "orig"
    size = long_side_size(h, w, target)
    if size is not None:
        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        mask = cv2.resize(mask.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
        name = f"resize{target}"
    quality = int(rng.integers(65, 96))
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=quality, subsampling=2)
    return buf.getvalue(), mask, f"{name}+q{quality}"


# The routes of MIXED_CHAINS and their shares. The chains of model 4.3 keep 45% so what
# it learned there is still taught; the rest is what arrives at a desk and what the
# third-party sets hold: edits made on a web copy (download, edit, re-upload: the
# commonest real-life case, 25%), small copies by one of several kernels (thumbnails,
# web copies, academic sets: 20%) and lossless PNG saves at native size (10%). Every
# copy, edited or not, draws its route the same way.
ROUTE_SHARES = (("platform", 0.45), ("web", 0.25), ("small", 0.20), ("png", 0.10))
SMALL_SIDES = (400, 1000)  # long side of a small copy, px
# Downscaling kernels: OpenCV's (area; bilinear and bicubic without anti-aliasing, as
# many tools resize; Lanczos) and Pillow's anti-aliased bicubic and Lanczos.
KERNELS = ("area", "linear", "cubic", "lanczos", "pil-bicubic", "pil-lanczos")


@dataclass(frozen=True)
class Route:
    """How one copy is made: ``base`` is the picture the edit is made on (the camera
    decode, or the decode of a web copy of it); :meth:`finish` saves the (edited or
    unedited) ``base`` as the desk receives it."""

    base: np.ndarray
    name: str  # "platform", "web", "small" or "png"
    prefix: str  # the web copy's history, e.g. "web1080-q85" ("" for other routes)

    def finish(
        self, rgb: np.ndarray, mask: np.ndarray, rng: np.random.Generator
    ) -> tuple[bytes, np.ndarray, str]:
        """(file bytes, mask at the served size, chain name)."""
        if self.name == "platform":
            return platform_chain(rgb, mask, rng)
        if self.name == "png":
            return encode_png(rgb), mask, "png"
        if self.name == "small":
            rgb, mask, label = small_copy(rgb, mask, rng)
            if rng.random() < 0.5:
                return encode_png(rgb), mask, f"{label}+png"
            quality = int(rng.integers(65, 96))
            sub = 2 if rng.random() < 0.75 else 0
            return encode_jpeg(rgb, quality, sub), mask, f"{label}+q{quality}"
        # web: saved again at another quality (the web copy's own drawn once more
        # when equal), or lossless one time in three
        if rng.random() < 1 / 3:
            return encode_png(rgb), mask, f"{self.prefix}+png"
        first = int(self.prefix.rsplit("-q", 1)[1])
        quality = int(rng.integers(65, 96))
        if quality == first:
            quality = int(rng.integers(65, 96))
        return encode_jpeg(rgb, quality, 2), mask, f"{self.prefix}+q{quality}"


def mixed_route(rgb: np.ndarray, rng: np.random.Generator, new_only: bool = False) -> Route:
    """Draw one copy's route of :data:`MIXED_CHAINS` (shares :data:`ROUTE_SHARES`;
    with ``new_only``, of :data:`NEW_CHAINS`: the platform route left out, the other
    shares in the same proportions).

    A web copy is the camera decode resized (long side 2048 / 1600 / 1080, a small
    side of :data:`SMALL_SIDES`, or kept) and saved as JPEG q70-95 (4:2:0); the edit is
    then made on its decode, so the file carries that copy's compression as its first
    one, not the camera's."""
    shares = [(r, v) for r, v in ROUTE_SHARES if not (new_only and r == "platform")]
    u = float(rng.random()) * sum(v for _, v in shares)
    name = shares[-1][0]
    for route, share in shares:
        if u < share:
            name = route
            break
        u -= share
    if name != "web":
        return Route(rgb, name, "")
    h, w = rgb.shape[:2]
    pick = int(rng.integers(0, 5))
    label = "web"
    if pick == 4:
        dummy = np.zeros((h, w), bool)
        rgb, _, label = small_copy(rgb, dummy, rng)
        label = "web" + label.removeprefix("small")
    elif pick > 0:
        target = (2048, 1600, 1080)[pick - 1]
        size = long_side_size(h, w, target)
        if size is not None:
            rgb = _resize(rgb, size, "area")
            label = f"web{target}"
    quality = int(rng.integers(70, 96))
    base = _decode_bytes(encode_jpeg(rgb, quality, 2))
    return Route(base, "web", f"{label}-q{quality}")


def small_copy(
    rgb: np.ndarray, mask: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, str]:
    """Downscale to a long side drawn in :data:`SMALL_SIDES` (the short side kept at
    256 px or more, the analyzer's floor) by one of :data:`KERNELS`; the mask by
    nearest neighbour. Returns the copy, its mask and a label like "small640-cubic"."""
    import cv2

    h, w = rgb.shape[:2]
    kernel = KERNELS[int(rng.integers(0, len(KERNELS)))]
    target = int(rng.integers(SMALL_SIDES[0], SMALL_SIDES[1] + 1))
    target = max(target, int(np.ceil(256 * max(h, w) / min(h, w))))
    size = long_side_size(h, w, target)
    if size is None:
        return rgb, mask, f"small{max(h, w)}-{kernel}"
    small = _resize(rgb, size, kernel)
    m = cv2.resize(mask.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
    return small, m, f"small{target}-{kernel}"


def _resize(rgb: np.ndarray, size: tuple[int, int], kernel: str) -> np.ndarray:
    import cv2

    if kernel.startswith("pil-"):
        from PIL import Image

        resample = Image.Resampling.BICUBIC if kernel == "pil-bicubic" else Image.Resampling.LANCZOS
        return np.asarray(Image.fromarray(rgb).resize(size, resample))
    flags = {
        "area": cv2.INTER_AREA,
        "linear": cv2.INTER_LINEAR,
        "cubic": cv2.INTER_CUBIC,
        "lanczos": cv2.INTER_LANCZOS4,
    }[kernel]
    return np.ascontiguousarray(cv2.resize(rgb, size, interpolation=flags))


def encode_jpeg(rgb: np.ndarray, quality: int, subsampling: int = 2) -> bytes:
    """JPEG bytes (Pillow's IJG tables at ``quality``), no metadata."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=quality, subsampling=subsampling)
    return buf.getvalue()


def encode_png(rgb: np.ndarray) -> bytes:
    """Lossless PNG bytes (fast deflate: the pixels are what matters)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "PNG", compress_level=1)
    return buf.getvalue()


def _decode_bytes(data: bytes) -> np.ndarray:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB"))
