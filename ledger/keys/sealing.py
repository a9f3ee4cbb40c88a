"""Sealing personal fields: AES-GCM under the subject's data key.

A sealed value is ``01`` (format version) + the 16-byte key id + a 12-byte nonce + the
ciphertext and tag. The associated data binds the subject, the event and the field
path, so a ciphertext moved to another subject, event or field fails to open.
"""

from __future__ import annotations

import os
import uuid

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ledger.keys.store import DataKey, KeyStore

FORMAT_V1 = b"\x01"
_KEY_ID_LEN = 16
_NONCE_LEN = 12
_HEADER_LEN = 1 + _KEY_ID_LEN + _NONCE_LEN


class Unreadable(Exception):
    """A sealed value cannot be opened: its key is gone (shredded) or it was tampered with."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def field_ad(subject_id: str, event_id: str, path: str) -> bytes:
    return "\x00".join(("pdl-field-v1", subject_id, event_id, path)).encode()


def seal(plaintext: str, key: DataKey, ad: bytes) -> bytes:
    nonce = os.urandom(_NONCE_LEN)
    body = AESGCM(key.material).encrypt(nonce, plaintext.encode("utf-8"), ad)
    return FORMAT_V1 + uuid.UUID(key.key_id).bytes + nonce + body


def key_id_of(sealed: bytes) -> str:
    """The id of the key a value was sealed with (public information)."""
    if len(sealed) < _HEADER_LEN or sealed[:1] != FORMAT_V1:
        raise Unreadable("not a pdl-aead-v1 sealed value")
    return uuid.UUID(bytes=sealed[1 : 1 + _KEY_ID_LEN]).hex


def open_sealed(sealed: bytes, keys: KeyStore, ad: bytes) -> str:
    key = keys.key_by_id(key_id_of(sealed))
    if key is None:
        raise Unreadable("key destroyed or unknown")
    nonce = sealed[1 + _KEY_ID_LEN : _HEADER_LEN]
    try:
        return AESGCM(key.material).decrypt(nonce, sealed[_HEADER_LEN:], ad).decode("utf-8")
    except InvalidTag:
        raise Unreadable("authentication failed (wrong subject, event or field)") from None
