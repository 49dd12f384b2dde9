"""The command line's allocator setting (triage.allocator): applied where it can be,
left alone where the user tunes the allocator, and reports that do not change with it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from untimed import untimed

ROOT = Path(__file__).resolve().parent.parent
PHOTO = ROOT / "fixtures" / "core" / "camera_edited.jpg"
glibc = pytest.mark.skipif(
    not sys.platform.startswith("linux") or os.confstr("CS_GNU_LIBC_VERSION") is None,
    reason="glibc only",
)


def _python(code: str, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    clean.pop("GLIBC_TUNABLES", None)
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**clean, **env},
        timeout=300,
        check=True,
    )
    return out.stdout.strip()


@glibc
def test_applied_on_glibc_and_not_over_the_users_own_setting() -> None:
    code = "from triage.allocator import keep_freed_memory as k; print(k())"
    assert _python(code) == "True"
    assert _python(code, MALLOC_ARENA_MAX="4") == "False"
    assert _python(code, GLIBC_TUNABLES="glibc.malloc.check=0") == "False"


@glibc
def test_reports_do_not_change_with_the_setting() -> None:
    # `check` sets it; MALLOC_TOP_PAD_ at glibc's own default keeps it from doing so.
    code = (
        "import json, sys\n"
        "from triage.allocator import keep_freed_memory\n"
        "from triage.pipeline import Options, analyze_path\n"
        "applied = keep_freed_memory()\n"
        f"rep = analyze_path({str(PHOTO)!r}, Options(threads=2))\n"
        "print(json.dumps({'applied': applied, 'report': rep.model_dump(mode='json')}))\n"
    )
    tuned = json.loads(_python(code))
    plain = json.loads(_python(code, MALLOC_TOP_PAD_=str(128 * 1024)))
    assert tuned["applied"] and not plain["applied"]
    assert untimed(tuned["report"]) == untimed(plain["report"])
