"""Signed checkpoints of the audit chain: the Ed25519 key file, signing, checking, publishing.

The private key lives in a file outside the database (``agentdeck audit keygen`` creates it
0600, with the public key beside it as ``<file>.pub``), named by ``--key`` or
``AGENTDECK_AUDIT_KEY``. A checkpoint is published where the database owner cannot reach:
appended as one JSON line to a file, POSTed to a webhook, or printed for the user's own
transparency log. ``audit verify --checkpoint FILE`` checks each line's signature (against
``--public-key`` when given, which pins who signed) and then the chain against it.
"""

from __future__ import annotations

import binascii
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from agentdeck.core.deploy.audit_chain import AuditProblem
from agentdeck.core.deploy.audit_checks import CHECKPOINT_KIND, Checkpoint, checkpoint_message
from agentdeck.core.errors import InputError
from agentdeck.registry.audit import AuditVerifyStore, verify_audit

KEY_ENV = "AGENTDECK_AUDIT_KEY"


@dataclass(frozen=True)
class KeyFiles:
    private: Path
    public: Path
    public_hex: str


def _raw_public(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return raw.hex()


def key_path(option: str | None) -> Path:
    """The private key file: the option, else ``AGENTDECK_AUDIT_KEY``."""
    if option:
        return Path(option).expanduser()
    from agentdeck.settings.env import CliEnv, read

    path = read(CliEnv).audit_key
    if path is None:
        raise InputError(f"--key: give the signing key file (or set {KEY_ENV})")
    return path.expanduser()


def keygen(path: Path) -> KeyFiles:
    """Create a new key: the private key PEM at ``path`` (0600, never overwritten), the public
    key PEM at ``path.pub``."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # ~/.agentdeck on first use
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise InputError(f"{path}: already exists; not overwriting a signing key") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot create ({exc.strerror})") from None
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    public = path.with_name(path.name + ".pub")
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return KeyFiles(path, public, _raw_public(key.public_key()))


def load_private(path: Path) -> Ed25519PrivateKey:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read the signing key ({exc.strerror})") from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise InputError(f"{path}: not an unencrypted PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError(f"{path}: not an Ed25519 key (make one with agentdeck audit keygen)")
    return key


def load_public(path: Path) -> str:
    """The raw public key (hex) from a PEM file (``<key>.pub``)."""
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except OSError as exc:
        raise InputError(f"{path}: cannot read the public key ({exc.strerror})") from None
    except ValueError:
        raise InputError(f"{path}: not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise InputError(f"{path}: not an Ed25519 public key")
    return _raw_public(key)


def make_checkpoint(store: AuditVerifyStore, key: Ed25519PrivateKey) -> Checkpoint:
    """Sign the head of a chain that verifies (a broken chain is not vouched for)."""
    report = verify_audit(store)
    if not report.ok:
        first = report.problems[0]
        raise InputError(
            f"audit chain: not signing a broken chain ({len(report.problems)} problem(s); "
            f"entry {first.seq}: {first.problem}); run agentdeck audit verify"
        )
    entries = store.audit_entries()
    seq, head = (entries[-1].seq, entries[-1].hash) if entries else (0, "0" * 64)
    at = datetime.now(UTC).isoformat(timespec="seconds")
    signature = key.sign(checkpoint_message(seq, head, at)).hex()
    return Checkpoint(seq, head, at, _raw_public(key.public_key()), signature)


def parse_checkpoints(path: Path) -> list[Checkpoint]:
    """The checkpoints of a file of JSON lines; errors name the file and line."""
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read checkpoints ({exc})") from None
    found = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            data = orjson.loads(line)
            if not isinstance(data, dict) or data.get("kind") != CHECKPOINT_KIND:
                raise ValueError("not an agentdeck audit checkpoint")
            cp = Checkpoint(
                int(data["seq"]),
                str(data["hash"]),
                str(data["at"]),
                str(data["public_key"]),
                str(data["signature"]),
            )
        except (orjson.JSONDecodeError, ValueError, KeyError, TypeError) as exc:
            raise InputError(f"{path}:{n}: not a checkpoint ({exc})") from None
        found.append(cp)
    if not found:
        raise InputError(f"{path}: holds no checkpoint")
    return found


def signature_problem(cp: Checkpoint, public_hex: str | None) -> AuditProblem | None:
    """Why ``cp``'s signature does not hold (for the pinned key, when given), else None."""
    if public_hex is not None and cp.public_key != public_hex:
        return AuditProblem(cp.seq, f"checkpoint at {cp.at} was signed by another key")
    try:
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(cp.public_key))
        key.verify(bytes.fromhex(cp.signature), cp.message())
    except (ValueError, binascii.Error, InvalidSignature):
        return AuditProblem(cp.seq, f"checkpoint at {cp.at}: signature does not verify (forged)")
    return None


def append_checkpoint(path: Path, cp: Checkpoint) -> None:
    """Append ``cp`` as one JSON line (the file keeps every checkpoint taken)."""
    try:
        with path.open("ab") as f:
            f.write(orjson.dumps(cp.to_dict()) + b"\n")
    except OSError as exc:
        raise InputError(f"{path}: cannot append the checkpoint ({exc.strerror})") from None


def post_checkpoint(url: str, cp: Checkpoint, timeout_s: float = 10.0) -> None:
    """POST ``cp`` as JSON to a webhook; a non-2xx answer or no answer is an error."""
    import httpx

    if not url.startswith(("http://", "https://")):
        raise InputError(f"--webhook: {url!r} is not an http(s) URL")
    try:
        answer = httpx.post(url, json=cp.to_dict(), timeout=timeout_s)
    except httpx.HTTPError as exc:
        raise InputError(f"--webhook: {url}: {exc}") from None
    if not answer.is_success:
        raise InputError(f"--webhook: {url} answered {answer.status_code}")
