from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
CORPUS = Path(os.environ.get("TRIAGE_CORPUS", ROOT.parent / "shared" / "corpus"))


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """../shared/corpus, or skip when it is absent (the main suite never needs it)."""
    if not (CORPUS / "MANIFEST.tsv").is_file():
        pytest.skip("../shared/corpus is absent")
    return CORPUS
