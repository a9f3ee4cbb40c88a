"""The ledger's signing key: Ed25519, for erasure certificates.

Generated on first use and kept in ``<data dir>/signing.key``: the public key in clear,
the private key wrapped (AES-256-GCM) by the master key — never plaintext on disk.
Export the public key with ``pdl certificates public-key`` and give it to whoever must
verify certificates without trusting the ledger's files.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ledger.errors import ConfigError
from ledger.keys.master import MasterKeyError

_FORMAT = "pdl-signing-key-v1"
_RAW = serialization.Encoding.Raw, serialization.PublicFormat.Raw
_DAMAGED = (
    "{path}: field {field} is not a key of the right length — fix: restore the file from "
    "backup; without it new certificates cannot extend the register"
)


class SigningKeyError(ConfigError):
    """The signing key file or an exported public key cannot be used; says why and the fix."""


def public_key_id(public: Ed25519PublicKey) -> str:
    """A short public name for a verification key: SHA-256 of its raw bytes, 32 hex digits."""
    return hashlib.sha256(public.public_bytes(*_RAW)).hexdigest()[:32]


def public_key_pem(public: Ed25519PublicKey) -> str:
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def public_key_from_pem(text: bytes) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(text)
    except ValueError:
        key = None
    if not isinstance(key, Ed25519PublicKey):
        raise SigningKeyError(
            "public key: not an Ed25519 public key in PEM — fix: export it with "
            "`pdl certificates public-key > ledger-signing.pem`"
        )
    return key


def signature_valid(public: Ed25519PublicKey, signature: bytes, data: bytes) -> bool:
    try:
        public.verify(signature, data)
    except InvalidSignature:
        return False
    return True


@dataclass(frozen=True)
class SigningKey:
    private: Ed25519PrivateKey

    @property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()

    @property
    def key_id(self) -> str:
        return public_key_id(self.public)

    def sign(self, data: bytes) -> bytes:
        return self.private.sign(data)


def load_public_key(path: Path) -> Ed25519PublicKey | None:
    """The ledger's public key from its key file (no master key needed), if one exists."""
    doc = _read(path)
    return None if doc is None else _public_key(doc)


def signing_key(path: Path, master_key: bytes) -> SigningKey:
    """The ledger's signing key, kept in the file ``path`` (``DataDirectory.signing_key``),
    created (and wrapped by the master key) on first use."""
    doc = _read(path)
    if doc is None:
        _create(path, master_key)
        doc = _read(path)
        assert doc is not None
    public = _public_key(doc).public_bytes(*_RAW)
    wrapped = _b64(doc, "wrapped_private_key")
    if len(wrapped) <= 12:
        raise SigningKeyError(_DAMAGED.format(field="wrapped_private_key", path=path))
    try:
        raw = AESGCM(master_key).decrypt(wrapped[:12], wrapped[12:], _ad(public))
    except InvalidTag:
        raise MasterKeyError(
            f"{path}: the master key does not open the signing key — fix: set PDL_MASTER_KEY "
            "(or PDL_MASTER_KEY_FILE) to the key this data directory was created with"
        ) from None
    return SigningKey(Ed25519PrivateKey.from_private_bytes(raw))


def rewrap_signing_key(path: Path, old_master_key: bytes, new_master_key: bytes) -> bool:
    """Rewrap the private key in ``path`` from the old master key to the new (``pdl keys
    rotate-master``), replacing the file atomically. False if there is no key file; a
    file already under the new key is left as it is, so an interrupted rotation resumes."""
    doc = _read(path)
    if doc is None:
        return False
    public = _public_key(doc).public_bytes(*_RAW)
    wrapped = _b64(doc, "wrapped_private_key")
    try:
        AESGCM(new_master_key).decrypt(wrapped[:12], wrapped[12:], _ad(public))
        return True  # rewrapped already
    except InvalidTag:
        pass
    raw = signing_key(path, old_master_key).private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    nonce = os.urandom(12)
    rewrapped = nonce + AESGCM(new_master_key).encrypt(nonce, raw, _ad(public))
    doc["wrapped_private_key"] = base64.b64encode(rewrapped).decode("ascii")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".signing-")  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="ascii") as out:
            json.dump(doc, out, sort_keys=True)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return True


def _ad(public: bytes) -> bytes:
    return _FORMAT.encode() + b"\x00" + public


def _create(path: Path, master_key: bytes) -> None:
    private = Ed25519PrivateKey.generate()
    raw = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    public = private.public_key().public_bytes(*_RAW)
    nonce = os.urandom(12)
    wrapped = nonce + AESGCM(master_key).encrypt(nonce, raw, _ad(public))
    doc = {
        "format": _FORMAT,
        "public_key": base64.b64encode(public).decode("ascii"),
        "wrapped_private_key": base64.b64encode(wrapped).decode("ascii"),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".signing-")  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="ascii") as out:
            json.dump(doc, out, sort_keys=True)
            out.flush()
            os.fsync(out.fileno())
        os.link(tmp, path)  # atomic, and never replaces a key another process made first
    except FileExistsError:
        pass
    finally:
        os.unlink(tmp)


def _read(path: Path) -> dict[str, str] | None:
    if not path.exists():
        return None
    try:
        doc = json.loads(path.read_text(encoding="ascii"))
    except (ValueError, UnicodeDecodeError):
        doc = None
    if not isinstance(doc, dict) or doc.get("format") != _FORMAT:
        raise SigningKeyError(
            f"{path}: not a pdl signing key file — fix: restore it from backup; without it "
            "new certificates cannot extend the register"
        )
    return {str(k): str(v) for k, v in doc.items()}


def _public_key(doc: dict[str, str]) -> Ed25519PublicKey:
    try:
        return Ed25519PublicKey.from_public_bytes(_b64(doc, "public_key"))
    except ValueError:  # not 32 bytes
        problem = _DAMAGED.format(field="public_key", path="signing key file")
        raise SigningKeyError(problem) from None


def _b64(doc: dict[str, str], name: str) -> bytes:
    try:
        return base64.b64decode(doc[name], validate=True)
    except (KeyError, ValueError):
        raise SigningKeyError(
            f"signing key file: field {name} is missing or not base64 — fix: restore the "
            "file from backup"
        ) from None
