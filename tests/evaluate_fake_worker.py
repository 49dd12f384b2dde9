"""A stand-in for ``analyze_record`` that misbehaves on purpose (test_evaluate.py):
it hangs, dies, raises or grabs memory depending on the file name."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any


def fake_record(path: str, options: Any) -> dict[str, Any]:
    name = Path(path).name
    if name == "hang":
        time.sleep(60)
    if name == "die":
        os._exit(3)
    if name == "raise":
        raise RuntimeError("boom")
    if name == "hog":
        bytearray(3 * 1024**3)  # over the 1 GB cap the test sets
    return {"outcome": "ok", "questions": {}, "findings": [], "analyzers": {}}
