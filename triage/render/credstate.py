"""The content-credential facts of a report in words, as c2patool states them apart:
present, valid (signature and assertions verify), trusted (chains to a supplied trust
anchor), bound (the manifest still matches the file's bytes)."""

from __future__ import annotations

from typing import Any

from triage.report import Report


def credential_facts(report: Report) -> dict[str, Any] | None:
    """The credentials analyzer's facts, or None when it did not run on this file."""
    for run in report.analyzers:
        if run.name == "credentials" and run.status == "ok":
            return run.metrics if isinstance(run.metrics, dict) else None
    return None


def credential_state(report: Report) -> str | None:
    """``present · valid · not trusted (no trust anchors given) · bound to the bytes``,
    ``none`` without a manifest store, None when the analyzer did not run."""
    m = credential_facts(report)
    if m is None:
        return None
    if not m.get("manifest_store"):
        return "none"
    if "validation_state" not in m:
        return "present · unreadable" + (" (stored remotely)" if "remote" in str(m) else "")
    valid = m.get("valid", m.get("signature_intact", False))
    if m.get("trusted"):
        trust = "trusted"
    elif m.get("trust_anchors_supplied"):
        trust = "not trusted (signer not under the trust anchors given)"
    else:
        trust = "not trusted (no trust anchors given)"
    bound = (
        "bound to the bytes"
        if m.get("bound_to_bytes")
        else "not bound (the bytes changed after signing)"
    )
    return " · ".join(["present", "valid" if valid else "not valid", trust, bound])
