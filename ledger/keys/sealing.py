"""Sealing personal fields: AES-GCM under the subject's data key.

The envelope (format byte, key id, nonce) and the associated data are the contract's,
``ledger/contract/sealed.py``: readers without keys need them too. Only the parts that
hold key material, sealing and opening, live here.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ledger.contract.sealed import NONCE_LEN, MalformedSealedValue, envelope, parts_of
from ledger.errors import IntegrityError
from ledger.keys.store import DataKey, KeyStore


class Unreadable(IntegrityError):
    """A sealed value cannot be opened: its key is gone (shredded) or it was tampered with.

    Expected once a key is shredded: views show ``[erased]`` in its place."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def seal(plaintext: str, key: DataKey, ad: bytes) -> bytes:
    nonce = os.urandom(NONCE_LEN)
    ciphertext = AESGCM(key.material).encrypt(nonce, plaintext.encode("utf-8"), ad)
    return envelope(key.key_id, nonce, ciphertext)


def open_sealed(sealed: bytes, keys: KeyStore, ad: bytes) -> str:
    try:
        parts = parts_of(sealed)
    except MalformedSealedValue as exc:
        raise Unreadable(exc.message) from None
    key = keys.key_by_id(parts.key_id)
    if key is None:
        raise Unreadable("key destroyed or unknown")
    try:
        return AESGCM(key.material).decrypt(parts.nonce, parts.ciphertext, ad).decode("utf-8")
    except InvalidTag:
        raise Unreadable("authentication failed (wrong subject, event or field)") from None


def opens_with(sealed: bytes, key: DataKey, ad: bytes) -> bool:
    """Whether ``key`` opens ``sealed``, whatever key id its header names: the erasure
    verifier tries every key the store still holds, not only the named one."""
    try:
        parts = parts_of(sealed)
        AESGCM(key.material).decrypt(parts.nonce, parts.ciphertext, ad)
    except (MalformedSealedValue, InvalidTag, ValueError):
        return False
    return True
