"""Generator metadata outside content credentials: what the generator wrote about itself.

Image generators and their web UIs save their settings in the file: Stable Diffusion web
UIs write a PNG ``parameters`` text chunk (or EXIF UserComment in JPEG/WebP), ComfyUI
its node graph (``prompt``/``workflow``), NovelAI ``Software``/``Comment``, InvokeAI
``invokeai_metadata``/``sd-metadata``, and services declare the IPTC Digital Source
Type (``trainedAlgorithmicMedia``) in XMP. This module reads those fields without
decoding pixels and matches them against ``triage/data/generators.tsv`` (one line per
generator), then extracts prompt, model, seed, sampler and steps into the evidence.

Standards followed: PNG 1.2/3rd ed. text chunks (tEXt, zTXt, iTXt); EXIF 2.32
(UserComment with its 8-byte character-code prefix, XP* tags); IPTC Photo Metadata
2023.1 ``Iptc4xmpExt:DigitalSourceType`` and the IPTC NewsCodes digital-source-type
vocabulary (https://cv.iptc.org/newscodes/digitalsourcetype/).

Missing generator metadata proves nothing: almost every platform strips it. Metadata is
also easy to write, so explicit parameters are strong but not absolute evidence.
"""

from __future__ import annotations

import json
import re
import struct
import zlib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PIL import Image

MAX_TEXT = 1 << 20  # per field, for regex search
_MAX_ZTXT = 8 << 20  # decompressed size limit per compressed text chunk
_PROMPT_CHARS = 300

# IPTC NewsCodes digital source types (last path segment of the URI), grouped by what
# they say about generation.
_DST_AI = {
    "trainedAlgorithmicMedia",
    "compositeSynthetic",
    "algorithmicMedia",
}
_DST_AI_PART = {"compositeWithTrainedAlgorithmicMedia"}
_DST_ENHANCED = {"algorithmicallyEnhanced", "dataDrivenMedia"}
_DST_CAPTURE = {
    "digitalCapture",
    "computationalCapture",
    "negativeFilm",
    "positiveFilm",
    "print",
    "compositeCapture",
    "virtualRecording",
}


def classify_source_type(value: str) -> str:
    """Class of an IPTC digital source type.

    Parameters
    ----------
    value : str
        The full NewsCodes URI or its last segment (case-sensitive, as defined).

    Returns
    -------
    str
        ``'ai'`` (trainedAlgorithmicMedia and kin), ``'ai-part'``
        (compositeWithTrainedAlgorithmicMedia), ``'enhanced'``, ``'capture'`` or ``'other'``.

    References
    ----------
    IPTC NewsCodes, Digital Source Type vocabulary,
    https://cv.iptc.org/newscodes/digitalsourcetype/.
    """
    code = value.strip().rstrip("/").rsplit("/", 1)[-1]
    if code in _DST_AI:
        return "ai"
    if code in _DST_AI_PART:
        return "ai-part"
    if code in _DST_ENHANCED:
        return "enhanced"
    if code in _DST_CAPTURE:
        return "capture"
    return "other"


@dataclass(frozen=True)
class Signature:
    name: str
    keys: tuple[str, ...]
    value_re: re.Pattern[str] | None
    text_re: re.Pattern[str] | None
    soft_re: re.Pattern[str] | None
    notes: str


@cache
def signatures() -> tuple[Signature, ...]:
    """The generator signatures of ``triage/data/generators.tsv`` (read once).

    Returns
    -------
    tuple of Signature
        Per generator: its PNG text keys, and the regular expressions for a key's value,
        for free text and for a software/tool string.

    Raises
    ------
    ValueError
        For a line with fewer than six columns.
    """
    text = resources.files("triage.data").joinpath("generators.tsv").read_text("utf-8")
    out: list[Signature] = []
    header_seen = False
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        cols = line.split("\t")
        if not header_seen:
            header_seen = True
            if cols[0] == "name":
                continue
        if len(cols) < 6:
            raise ValueError(f"generators.tsv: expected 6 columns, got {len(cols)}: {line!r}")

        def rx(s: str) -> re.Pattern[str] | None:
            return None if s.strip() in ("", "-") else re.compile(s)

        keys = tuple(k.strip() for k in cols[1].split(",") if k.strip() not in ("", "-"))
        out.append(Signature(cols[0], keys, rx(cols[2]), rx(cols[3]), rx(cols[4]), cols[5]))
    return tuple(out)


def match_software(text: str) -> str | None:
    """The generator a software or tool string names.

    Parameters
    ----------
    text : str
        An EXIF Software, XMP CreatorTool or similar value (the first 1 MiB is read).

    Returns
    -------
    str or None
        The generator's name from ``generators.tsv``, or None.
    """
    for sig in signatures():
        if sig.soft_re is not None and sig.soft_re.search(text[:MAX_TEXT]):
            return sig.name
    return None


# ------------------------------------------------------------------ reading fields
def png_text_chunks(data: bytes) -> dict[str, str]:
    """Keyword -> text of every tEXt, zTXt and iTXt chunk of a PNG (before and after IDAT).

    Bounded: a compressed chunk is inflated to at most 8 MiB; a damaged chunk is
    skipped, never fatal.

    Parameters
    ----------
    data : bytes
        The whole file (anything that is not a PNG gives an empty result).

    Returns
    -------
    dict of str to str
        Text by keyword; a repeated keyword keeps its values joined.

    References
    ----------
    PNG Specification, 3rd ed., textual chunks (tEXt, zTXt, iTXt).
    """
    out: dict[str, str] = {}
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        return out
    pos = 8
    end = len(data)
    while pos + 8 <= end:
        length, ctype = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if ctype == b"IEND" or len(body) < length:
            break
        try:
            if ctype == b"tEXt":
                key, _, value = body.partition(b"\0")
                _put(out, key.decode("latin-1"), value.decode("latin-1"))
            elif ctype == b"zTXt":
                key, _, rest = body.partition(b"\0")
                _put(out, key.decode("latin-1"), _inflate(rest[1:]).decode("latin-1"))
            elif ctype == b"iTXt":
                key, _, rest = body.partition(b"\0")
                compressed, _method = rest[0], rest[1]
                _lang, _, rest = rest[2:].partition(b"\0")
                _tkey, _, value = rest.partition(b"\0")
                raw = _inflate(value) if compressed else value
                _put(out, key.decode("latin-1"), raw.decode("utf-8", "replace"))
        except (IndexError, ValueError, zlib.error):
            continue
    return out


def _put(out: dict[str, str], key: str, value: str) -> None:
    if key in out:
        out[key] += "\n" + value
    else:
        out[key] = value


def _inflate(raw: bytes) -> bytes:
    d = zlib.decompressobj()
    result = d.decompress(raw, _MAX_ZTXT)
    return result


def decode_user_comment(raw: Any) -> str:
    """The text of an EXIF UserComment.

    Parameters
    ----------
    raw : bytes or str
        The tag's value: an 8-byte character code (``UNICODE``, ``ASCII`` or zeros),
        then the text.

    Returns
    -------
    str
        The text; UTF-16 in whichever byte order gives more printable characters
        (writers disagree on it).

    References
    ----------
    CIPA DC-008 (EXIF 2.32), UserComment tag.
    """
    if isinstance(raw, str):
        return raw.strip("\0 ")
    if not isinstance(raw, bytes | bytearray):
        return str(raw)
    raw = bytes(raw)
    prefix, body = raw[:8], raw[8:]
    if prefix.startswith(b"UNICODE"):
        le = body.decode("utf-16-le", "replace")
        be = body.decode("utf-16-be", "replace")
        return (le if _printable(le) >= _printable(be) else be).strip("\0 ")
    if prefix.startswith(b"ASCII") or prefix == b"\0" * 8:
        return body.decode("utf-8", "replace").strip("\0 ")
    return raw.decode("utf-8", "replace").strip("\0 ")


def _printable(s: str) -> int:
    return sum(1 for c in s[:2000] if c.isprintable() and ord(c) < 0x3000)


_EXIF_TEXT = {0x010E: "ImageDescription", 0x9C9C: "XPComment", 0x9C9B: "XPTitle"}
_EXIF_SOFT = {
    0x0131: "Software",
    0x010F: "Make",
    0x0110: "Model",
    0x013B: "Artist",
    0x000B: "ProcessingSoftware",
    0x9C9D: "XPAuthor",
}
_XMP_TEXT = ("description", "UserComment", "Title", "title", "Headline", "Comment", "parameters")
_XMP_SOFT = ("CreatorTool", "Software", "softwareAgent", "Credit", "creator", "Creator")
_PNG_SOFT = ("Software", "Source", "Author", "Generator", "Creator")


@dataclass
class Fields:
    """Text found in the file, by where it came from ("png:parameters", "exif:Software")."""

    text: dict[str, str]
    software: dict[str, str]
    png_keys: dict[str, str]
    source_types: list[tuple[str, str]]  # (field, value)
    containers: list[str]  # which metadata containers exist at all


def read_fields(data: bytes, fmt: str | None, header: Image.Image) -> Fields:
    """The text, software and source-type fields of an image file.

    Parameters
    ----------
    data : bytes
        The whole file.
    fmt : str or None
        Its sniffed format (``"png"`` reads PNG text chunks).
    header : PIL.Image.Image
        The file opened by Pillow (header read; pixels need not be decoded).

    Returns
    -------
    Fields
        Text and software fields by origin, PNG text keys, IPTC digital source types
        and which metadata containers exist.

    References
    ----------
    PNG Specification, 3rd ed., textual chunks (tEXt, zTXt, iTXt); EXIF 2.32
    (UserComment, XP* tags); IPTC Photo Metadata Standard 2023.1 (DigitalSourceType).
    """
    text: dict[str, str] = {}
    software: dict[str, str] = {}
    containers: list[str] = []
    png = png_text_chunks(data) if fmt == "png" else {}
    if png:
        containers.append("png-text")
    for key, value in png.items():
        text[f"png:{key}"] = value
        if key in _PNG_SOFT:
            software[f"png:{key}"] = value
    img = header
    comment = img.info.get("comment")
    if isinstance(comment, bytes | str) and comment:
        containers.append("jpeg-comment")
        text["jpeg:comment"] = (
            comment.decode("utf-8", "replace") if isinstance(comment, bytes) else comment
        )
    try:
        exif = img.getexif()
    except Exception:  # damaged EXIF is the metadata analyzer's business
        exif = None
    if exif:
        containers.append("exif")
        for tag, name in _EXIF_TEXT.items():
            if tag in exif:
                text[f"exif:{name}"] = _exif_str(exif[tag], xp=tag >= 0x9C9B)
        for tag, name in _EXIF_SOFT.items():
            if tag in exif:
                software[f"exif:{name}"] = _exif_str(exif[tag], xp=tag >= 0x9C9B)
        try:
            sub = exif.get_ifd(0x8769)
        except Exception:
            sub = {}
        if 0x9286 in sub:
            text["exif:UserComment"] = decode_user_comment(sub[0x9286])
    from triage.xmp import read_xmp

    props = read_xmp(data)
    # A compressed iTXt XMP packet is not visible in the raw bytes: read it from the chunk.
    packet = png.get("XML:com.adobe.xmp")
    if packet and not props:
        props = read_xmp(packet.encode("utf-8", "replace"))
    source_types: list[tuple[str, str]] = []
    if props:
        containers.append("xmp")
    for key, values in props.items():
        local = key.rsplit("/", 1)[-1].split(":")[-1]
        joined = "\n".join(values)
        if local == "DigitalSourceType" or local == "digitalSourceType":
            source_types.extend((f"xmp:{key}", v) for v in values)
        elif local in _XMP_SOFT:
            software[f"xmp:{key}"] = joined
        elif local in _XMP_TEXT:
            text[f"xmp:{key}"] = joined
    return Fields(text, software, png, source_types, containers)


def _exif_str(value: Any, xp: bool = False) -> str:
    if isinstance(value, bytes | bytearray):
        if xp:
            return bytes(value).decode("utf-16-le", "replace").strip("\0 ")
        return bytes(value).decode("utf-8", "replace").strip("\0 ")
    if isinstance(value, tuple) and xp:  # some writers store XP* as a tuple of ints
        try:
            return bytes(value).decode("utf-16-le", "replace").strip("\0 ")
        except (TypeError, ValueError):
            return str(value)
    return str(value).strip("\0 ")


# -------------------------------------------------------------------- matching
@dataclass
class Match:
    generator: str
    kind: str  # "parameters" or "software"
    field: str
    text: str


def match_fields(fields: Fields) -> list[Match]:
    """Every (generator, field) match, most specific first (parameters before software).

    Parameters
    ----------
    fields : Fields
        What :func:`read_fields` found.

    Returns
    -------
    list of Match
        PNG keys a generator writes (with its value pattern), then free-text fields
        matching a generator's parameter pattern, then software fields naming one;
        each (generator, field) once.
    """
    found: list[Match] = []
    seen: set[tuple[str, str]] = set()

    def add(m: Match) -> None:
        if (m.generator, m.field) not in seen:
            seen.add((m.generator, m.field))
            found.append(m)

    for sig in signatures():
        for key in sig.keys:
            value = fields.png_keys.get(key)
            if value is None:
                continue
            if sig.value_re is None or sig.value_re.search(value[:MAX_TEXT]):
                add(Match(sig.name, "parameters", f"png:{key}", value))
    for name, value in fields.text.items():
        for sig in signatures():
            if sig.text_re is not None and sig.text_re.search(value[:MAX_TEXT]):
                add(Match(sig.name, "parameters", name, value))
                break
    for name, value in fields.software.items():
        for sig in signatures():
            if sig.soft_re is not None and sig.soft_re.search(value[:MAX_TEXT]):
                add(Match(sig.name, "software", name, value))
                break
    return found


AI_LABEL = re.compile(
    r"(?i)\b(?:AI[- ]generated|generated (?:by|with|using) (?:an? )?AI|made with (?:\w+ )?AI|"
    r"imagined with AI|created (?:by|with) (?:an? )?AI)\b"
)


# ----------------------------------------------------------------- extraction
_A1111_PAIR = re.compile(r'\s*([A-Za-z][\w \-/]*?):\s*("(?:[^"\\]|\\.)*"|[^,]*)(?:,|$)')


def parse_a1111(text: str) -> dict[str, Any]:
    """Prompt, negative prompt and settings of A1111-style generation parameters.

    Parameters
    ----------
    text : str
        The ``parameters`` text: prompt lines, ``Negative prompt:`` lines, and a last
        ``Steps: 20, Sampler: ..., Seed: ...`` line.

    Returns
    -------
    dict
        ``prompt``, ``negative_prompt`` and the settings found (steps, sampler, cfg,
        seed, size, model...).

    References
    ----------
    The format written by Stable Diffusion web UI (AUTOMATIC1111) and its forks.
    """
    lines = text.strip().split("\n")
    settings_idx = next(
        (i for i in range(len(lines) - 1, -1, -1) if lines[i].startswith("Steps: ")), None
    )
    out: dict[str, Any] = {}
    head = lines if settings_idx is None else lines[:settings_idx]
    prompt_lines: list[str] = []
    neg_lines: list[str] = []
    target = prompt_lines
    for line in head:
        if line.startswith("Negative prompt:"):
            target = neg_lines
            line = line[len("Negative prompt:") :].strip()
        target.append(line)
    if prompt_lines:
        out["prompt"] = "\n".join(prompt_lines).strip()
    if neg_lines:
        out["negative_prompt"] = "\n".join(neg_lines).strip()
    if settings_idx is not None:
        settings = {
            m.group(1).strip(): m.group(2).strip().strip('"')
            for m in _A1111_PAIR.finditer(lines[settings_idx])
            if m.group(1)
        }
        for src, dst in (
            ("Steps", "steps"),
            ("Sampler", "sampler"),
            ("Schedule type", "scheduler"),
            ("CFG scale", "cfg"),
            ("Seed", "seed"),
            ("Size", "size"),
            ("Model", "model"),
            ("Model hash", "model_hash"),
            ("Denoising strength", "denoising_strength"),
            ("Version", "version"),
        ):
            if src in settings:
                out[dst] = settings[src]
    return out


_JSON_KEYS = {
    "prompt": ("prompt", "positive_prompt", "Prompt", "c", "text_prompt"),
    "negative_prompt": ("negative_prompt", "uc", "negativePrompt", "Negative Prompt"),
    "model": (
        "model_weights",
        "base_model",
        "model_name",
        "ckpt_name",
        "model",
        "Model",
        "Base Model",
    ),
    "seed": ("seed", "noise_seed", "Seed"),
    "sampler": ("sampler", "sampler_name", "scheduler", "Sampler"),
    "steps": ("steps", "Steps", "num_inference_steps"),
    "cfg": ("cfg", "cfg_scale", "scale", "guidance_scale", "Guidance Scale"),
}


def parse_json_params(value: str) -> dict[str, Any]:
    """Settings from a JSON text chunk (NovelAI Comment, InvokeAI, Fooocus, ComfyUI prompt).

    Parameters
    ----------
    value : str
        The chunk's text.

    Returns
    -------
    dict
        A ComfyUI API graph is read by :func:`parse_comfy`; other JSON is searched (to a
        bounded depth) for prompt, model, seed, sampler, steps and cfg keys. Empty for
        text that is not JSON.
    """
    try:
        obj = json.loads(value)
    except (ValueError, RecursionError):
        return {}
    if (
        isinstance(obj, dict)
        and obj
        and all(isinstance(v, dict) and "class_type" in v for v in obj.values())
    ):
        return parse_comfy(obj)
    out: dict[str, Any] = {}
    _search_json(obj, out, depth=0)
    return out


def _search_json(obj: Any, out: dict[str, Any], depth: int) -> None:
    if depth > 6:
        return
    if isinstance(obj, dict):
        for field_name, keys in _JSON_KEYS.items():
            if field_name in out:
                continue
            for key in keys:
                v = obj.get(key)
                if isinstance(v, str | int | float) and not isinstance(v, bool) and v != "":
                    out[field_name] = v
                    break
                if field_name == "model" and isinstance(v, dict):
                    name = v.get("model_name") or v.get("name")
                    if isinstance(name, str):
                        out[field_name] = name
                        break
                if field_name == "prompt" and isinstance(v, list) and v:
                    first = v[0]
                    if isinstance(first, dict) and isinstance(first.get("prompt"), str):
                        out[field_name] = first["prompt"]
                        break
        for v in obj.values():
            if isinstance(v, dict | list):
                _search_json(v, out, depth + 1)
    elif isinstance(obj, list):
        for v in obj[:50]:
            _search_json(v, out, depth + 1)


def parse_comfy(graph: dict[str, Any]) -> dict[str, Any]:
    """Sampler settings, checkpoint and the prompt texts of a ComfyUI API graph.

    Parameters
    ----------
    graph : dict
        Node id -> node (``class_type``, ``inputs``), as ComfyUI writes in ``prompt``.

    Returns
    -------
    dict
        Seed, steps, cfg, sampler and scheduler of the sampler nodes, the checkpoint
        name, and the positive/negative text reached through their conditioning inputs.
    """
    out: dict[str, Any] = {}

    def text_of(ref: Any, depth: int = 0) -> str | None:
        if not (isinstance(ref, list) and ref) or depth > 5:
            return None
        node = graph.get(str(ref[0]))
        if not isinstance(node, dict):
            return None
        inputs = node.get("inputs", {})
        for key in ("text", "text_g", "prompt"):
            if isinstance(inputs.get(key), str):
                return str(inputs[key])
        for key in ("conditioning", "conditioning_1", "positive"):
            if key in inputs:
                return text_of(inputs[key], depth + 1)
        return None

    for node in graph.values():
        if not isinstance(node, dict):
            continue
        cls = str(node.get("class_type", ""))
        inputs = node.get("inputs", {})
        if not isinstance(inputs, dict):
            continue
        if "Sampler" in cls and "seed" not in out:
            for src, dst in (
                ("seed", "seed"),
                ("noise_seed", "seed"),
                ("steps", "steps"),
                ("cfg", "cfg"),
                ("sampler_name", "sampler"),
                ("scheduler", "scheduler"),
                ("denoise", "denoising_strength"),
            ):
                if src in inputs and not isinstance(inputs[src], list):
                    out.setdefault(dst, inputs[src])
            pos = text_of(inputs.get("positive"))
            neg = text_of(inputs.get("negative"))
            if pos:
                out["prompt"] = pos
            if neg:
                out["negative_prompt"] = neg
        if "Checkpoint" in cls or "UNETLoader" in cls:
            for key in ("ckpt_name", "unet_name"):
                if isinstance(inputs.get(key), str):
                    out.setdefault("model", inputs[key])
    return out


def extract_parameters(generator: str, fields: Fields, match: Match) -> dict[str, Any]:
    """Prompt, model, seed, sampler, steps and cfg as far as a generator's fields give them.

    Parameters
    ----------
    generator : str
        The matched generator's name.
    fields : Fields
        All fields of the file (some generators spread their settings over several).
    match : Match
        The field that matched.

    Returns
    -------
    dict
        The parameters found (JSON or A1111 text, plus per-generator keys such as
        NovelAI's ``Description`` and ``Source``), prompts cut to a readable length.
    """
    params: dict[str, Any] = {}
    value = match.text
    stripped = value.lstrip()
    if stripped.startswith("{"):
        params.update(parse_json_params(stripped))
    elif re.search(r"(?m)^Steps: \d+", value):
        params.update(parse_a1111(value))
    png = fields.png_keys
    if generator == "NovelAI":
        comment = png.get("Comment", "")
        if comment.lstrip().startswith("{"):
            for k, v in parse_json_params(comment).items():
                params.setdefault(k, v)
        if "Description" in png:
            params["prompt"] = png["Description"]
        if "Source" in png:
            params.setdefault("model", png["Source"])
    if generator == "ComfyUI" and "prompt" in png:
        for k, v in parse_json_params(png["prompt"]).items():
            params.setdefault(k, v)
    if generator == "InvokeAI":
        for key in ("invokeai_metadata", "sd-metadata"):
            if key in png:
                for k, v in parse_json_params(png[key]).items():
                    params.setdefault(k, v)
        if "Dream" in png:
            dream = png["Dream"]
            m = re.match(r'\s*"((?:[^"\\]|\\.)*)"', dream)
            params.setdefault("prompt", m.group(1) if m else dream)
            for flag, name in (("-S", "seed"), ("-s", "steps"), ("-A", "sampler"), ("-C", "cfg")):
                fm = re.search(rf"(?:^|\s){flag}\s*(\S+)", dream)
                if fm:
                    params.setdefault(name, fm.group(1))
    if generator == "Midjourney":
        m = re.match(r"(?s)\s*(.*?)\s*Job ID:\s*([0-9a-f-]{36})", value)
        if m:
            params.setdefault("prompt", m.group(1))
            params["job_id"] = m.group(2)
    if generator == "Easy Diffusion":
        for k in (
            "prompt",
            "seed",
            "sampler_name",
            "num_inference_steps",
            "use_stable_diffusion_model",
        ):
            if k in png:
                params.setdefault(
                    {
                        "sampler_name": "sampler",
                        "num_inference_steps": "steps",
                        "use_stable_diffusion_model": "model",
                    }.get(k, k),
                    png[k],
                )
    keep = (
        "prompt",
        "negative_prompt",
        "model",
        "model_hash",
        "seed",
        "sampler",
        "scheduler",
        "steps",
        "cfg",
        "size",
        "denoising_strength",
        "version",
        "job_id",
    )
    out: dict[str, Any] = {}
    for k in keep:
        if k in params and params[k] not in (None, ""):
            v = params[k]
            if isinstance(v, str) and len(v) > _PROMPT_CHARS:
                v = v[:_PROMPT_CHARS] + f"… ({len(params[k])} chars)"
            out[k] = v
    return out
