"""Content-credential trust and validation codes (issue 17): --trust-anchors makes a
signer trusted; present / valid / trusted / bound are stated apart; a valid manifest
yields a finding; every validation code becomes a fact. The signing CA, certificate
and signed file are made here (cryptography + c2pa-python's Builder)."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
CAPTURE = "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"


def _sign(tmp: Path) -> tuple[Path, Path]:
    """(signed JPEG, PEM of the root that issued its signer)."""
    c2pa = pytest.importorskip("c2pa")
    pytest.importorskip("cryptography")
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.UTC)

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    def usage(ca: bool) -> x509.KeyUsage:
        return x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
            encipher_only=False, decipher_only=False,
        )  # fmt: skip

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("Desk Test Root"))
        .issuer_name(name("Desk Test Root"))
        .public_key(ca_key.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(days=30))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(usage(True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name("Desk Test Signer"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage(False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )

    def pem(c: x509.Certificate) -> bytes:
        return c.public_bytes(serialization.Encoding.PEM)

    anchors = tmp / "anchors.pem"
    anchors.write_bytes(pem(ca))
    buf = io.BytesIO()
    rgb = (np.random.default_rng(5).random((96, 128, 3)) * 255).astype(np.uint8)
    Image.fromarray(rgb).save(buf, "JPEG", quality=90)
    manifest = {
        "claim_generator_info": [{"name": "desk-test", "version": "1"}],
        "title": "signed.jpg",
        "assertions": [
            {
                "label": "c2pa.actions",
                "data": {"actions": [{"action": "c2pa.created", "digitalSourceType": CAPTURE}]},
            }
        ],
    }
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    signer = c2pa.Signer.from_info(
        c2pa.C2paSignerInfo(b"es256", pem(cert) + pem(ca), private, None)
    )
    out = io.BytesIO()
    try:
        c2pa.Builder(json.dumps(manifest)).sign(
            signer, "image/jpeg", io.BytesIO(buf.getvalue()), out
        )
    except Exception as exc:  # an SDK that refuses test certificates
        pytest.skip(f"c2pa-python could not sign with a test certificate: {exc}")
    signed = tmp / "signed.jpg"
    signed.write_bytes(out.getvalue())
    return signed, anchors


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "triage", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "NO_COLOR": "1", "COLUMNS": "200", **(env or {})},
        timeout=300,
    )


def _credentials(report: dict) -> tuple[dict, set[str]]:  # type: ignore[type-arg]
    run = next(r for r in report["analyzers"] if r["name"] == "credentials")
    return run["metrics"], {f["id"] for f in report["findings"]}


def test_trust_anchors_make_the_signer_trusted(tmp_path: Path) -> None:
    signed, anchors = _sign(tmp_path)
    plain = run_cli("check", str(signed), "--only", "credentials", "-f", "json")
    assert plain.returncode == 0, plain.stderr
    facts, ids = _credentials(json.loads(plain.stdout))
    assert facts["present"] and facts["valid"] and facts["bound_to_bytes"]
    assert facts["trusted"] is False and facts["trust_anchors_supplied"] is False
    assert "credentials.valid" in ids
    assert "signingCredential.untrusted" in facts["validation_codes"]["failure"]
    assert facts["validation_codes"]["success"]

    trusted = run_cli(
        "check", str(signed), "--only", "credentials", "-f", "json",
        "--trust-anchors", str(anchors),
    )  # fmt: skip
    assert trusted.returncode == 0, trusted.stderr
    report = json.loads(trusted.stdout)
    facts, ids = _credentials(report)
    assert facts["trusted"] is True and facts["validation_state"] == "Trusted"
    assert "credentials.valid" in ids and "credentials.capture_unedited" in ids
    valid = next(f for f in report["findings"] if f["id"] == "credentials.valid")
    assert "trusted" in valid["title"] and valid["llr"] == 0.0

    env = {"TRIAGE_TRUST_ANCHORS": str(anchors)}
    text = run_cli("check", str(signed), "--only", "credentials", "-f", "text", env=env)
    assert "content credentials: present · valid · trusted · bound to the bytes" in text.stdout

    page = tmp_path / "page.html"
    out = run_cli("check", str(signed), "--only", "credentials", "--html", str(page), env=env)
    assert out.returncode == 0 and "valid · trusted · bound to the bytes" in page.read_text()


def test_bytes_changed_after_signing_are_not_bound(tmp_path: Path) -> None:
    signed, anchors = _sign(tmp_path)
    data = bytearray(signed.read_bytes())
    data[-200] ^= 0xFF  # inside the entropy-coded picture, covered by the hard binding
    changed = tmp_path / "changed.jpg"
    changed.write_bytes(bytes(data))
    out = run_cli(
        "check", str(changed), "--only", "credentials", "-f", "text",
        "--trust-anchors", str(anchors),
    )  # fmt: skip
    assert "not bound (the bytes changed after signing)" in out.stdout
    assert "credentials.valid" not in out.stdout


def test_bad_trust_anchor_file_is_a_usage_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate")
    out = run_cli(
        "check", str(ROOT / "fixtures" / "core" / "stripped.jpg"), "--trust-anchors", str(junk)
    )
    assert out.returncode == 2 and "no PEM certificate" in out.stderr
    missing = run_cli(
        "check",
        str(ROOT / "fixtures" / "core" / "stripped.jpg"),
        "--trust-anchors",
        str(tmp_path / "none.pem"),
    )
    assert missing.returncode == 2


def test_every_validation_code_becomes_a_fact() -> None:
    from triage.forensics.c2pa import Store
    from triage.forensics.c2pa_judge import judge

    codes = [
        "signingCredential.expired",
        "cawg.ica.signature_mismatch",
        "signingCredential.untrusted",
        "some.future.code",
    ]
    store = Store(
        data={
            "active_manifest": "urn:a",
            "manifests": {"urn:a": {"label": "urn:a", "claim_generator": "cam/1"}},
            "validation_results": {
                "activeManifest": {
                    "success": [{"code": "claimSignature.validated"}],
                    "informational": [{"code": "signingCredential.ocsp.skipped"}],
                    "failure": [{"code": c} for c in codes],
                }
            },
        },
        active="urn:a",
        state="Invalid",
        failures=codes,
    )
    judged = judge(store, trusted_anchors=False)
    ids = {f.id for f in judged.findings}
    assert "credentials.signing_credential_invalid" in ids
    assert "credentials.identity_invalid" in ids
    assert "credentials.valid" not in ids  # an expired credential: state Invalid
    by_id = {f.id: f for f in judged.findings}
    assert by_id["credentials.signing_credential_invalid"].evidence["codes"] == [codes[0]]
    assert by_id["credentials.identity_invalid"].evidence["codes"] == [codes[1]]
    reported = judged.metrics["validation_codes"]
    assert reported["failure"] == codes and reported["success"] == ["claimSignature.validated"]
    assert judged.metrics["present"] is True and judged.metrics["valid"] is False
    # "some.future.code" is a failure the integrity finding names
    assert any("some.future.code" in f.detail for f in judged.findings)


def test_corpus_c2pa_samples_state_their_facts(corpus_dir: Path) -> None:
    import triage

    files = sorted((corpus_dir / "c2pa").rglob("*.jpg"))
    if not files:
        pytest.skip("no C2PA samples")
    valid = 0
    for path in files:
        report = triage.analyze(path, only=["credentials"])
        run = next(r for r in report.analyzers if r.name == "credentials")
        if run.metrics.get("validation_state"):
            ids = {f.id for f in report.findings}
            assert ids, path  # a store never yields silence
            valid += "credentials.valid" in ids
    assert valid >= 1


def test_scan_workers_read_credentials_after_the_forkserver_preload(tmp_path: Path) -> None:
    """The scan's forkserver imports c2pa and loads every model before it forks
    (``runner.warm_up``); the C2PA reader must still work in the forked workers."""
    from triage.scan import scan

    signed, _ = _sign(tmp_path)
    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / "signed.jpg").write_bytes(signed.read_bytes())
    rgb = (np.random.default_rng(6).random((96, 128, 3)) * 255).astype(np.uint8)
    Image.fromarray(rgb).save(folder / "plain.jpg", quality=90)
    out = tmp_path / "scan.jsonl"
    result = scan([folder], jobs=2, output=out)
    assert not result.summary.failures
    reports = {
        Path(r["file"]["path"]).name: r for r in map(json.loads, out.read_text().splitlines())
    }
    facts, ids = _credentials(reports["signed.jpg"])
    assert facts["present"] and facts["valid"] and "credentials.valid" in ids
    assert not _credentials(reports["plain.jpg"])[0].get("present")
