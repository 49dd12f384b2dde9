"""Registry of analyzers: one line per analyzer, ``name -> "module:Class"``.

Adding an analyzer is adding its file in this folder and one line here. Modules
are imported on first use so that ``triage --help`` stays fast.
"""

from __future__ import annotations

import importlib
import os
from functools import cache

from triage.analyzers.base import Analyzer

REGISTRY: dict[str, str] = {
    "metadata": "triage.analyzers.metadata:MetadataAnalyzer",
    "compression": "triage.analyzers.compression:CompressionAnalyzer",
    "noise": "triage.analyzers.noise:NoiseAnalyzer",
    "copymove": "triage.analyzers.copymove:CopyMoveAnalyzer",
    "resampling": "triage.analyzers.resampling:ResamplingAnalyzer",
    "spectral": "triage.analyzers.spectral:SpectralAnalyzer",
    "credentials": "triage.analyzers.credentials:CredentialsAnalyzer",
    "generator": "triage.analyzers.generator:GeneratorAnalyzer",
    "watermark": "triage.analyzers.watermark:WatermarkAnalyzer",
    "camera": "triage.analyzers.camera:CameraAnalyzer",
    "faces": "triage.analyzers.faces:FacesAnalyzer",
    "synthpix": "triage.analyzers.synthpix:SynthpixAnalyzer",
    "tamper": "triage.analyzers.tamper:TamperAnalyzer",
    "provenance": "triage.analyzers.provenance:ProvenanceAnalyzer",
    "video": "triage.analyzers.video:VideoAnalyzer",
    "frames": "triage.analyzers.frames:FramesAnalyzer",
}


def _register_extra(specs: str) -> None:
    """Extra analyzers from outside the package (tests, local plug-ins), registered
    under each class's ``name``: TRIAGE_EXTRA_ANALYZERS="pkg.module:Class,other:Class"."""
    for spec in filter(None, (s.strip() for s in specs.split(","))):
        module_name, class_name = spec.split(":")
        cls = getattr(importlib.import_module(module_name), class_name)
        REGISTRY[cls.name] = spec


_register_extra(os.environ.get("TRIAGE_EXTRA_ANALYZERS", ""))


@cache
def get(name: str) -> Analyzer:
    module_name, class_name = REGISTRY[name].split(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    return cls()


def all_analyzers() -> list[Analyzer]:
    return [get(name) for name in REGISTRY]


def select(only: list[str] | None = None, skip: list[str] | None = None) -> list[Analyzer]:
    """Analyzers by name, in registry order. Unknown names raise ``ValueError``."""
    for name in (only or []) + (skip or []):
        if name not in REGISTRY:
            known = ", ".join(REGISTRY)
            raise ValueError(f"unknown analyzer {name!r}; known: {known}")
    names = [n for n in REGISTRY if (not only or n in only) and n not in (skip or [])]
    return [get(n) for n in names]
