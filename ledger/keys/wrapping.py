"""Keys wrapped (AES-256-GCM) by the master key, in a format that names the master key.

A wrapped key is ``master key id (16 bytes) || nonce (12) || ciphertext``; the associated
data binds a label, the master key id and the key's context (its id, subject, controller,
class), so a row moved elsewhere or a key wrapped by another master key never opens.
Naming the master key in every wrapped key is what lets ``pdl keys rotate-master`` tell
rewrapped keys from the rest, and an operator see which key a store needs.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ledger.keys.master import MasterKeyError, master_key_id

_ID_BYTES = 16
_NONCE_BYTES = 12


def wrong_master_key(where: str, expected: str, given: str) -> MasterKeyError:
    return MasterKeyError(
        f"{where} is wrapped by master key {expected}, but the configured master key is "
        f"{given}; pdl refuses it rather than make new keys (a known person would get a "
        "second pseudonym that no erasure reaches)",
        "set PDL_MASTER_KEY (or PDL_MASTER_KEY_FILE, or restore <data dir>/master.key) to "
        f"the key whose id is {expected} (`pdl keys status` prints the id of each); to "
        "change keys use `pdl keys rotate-master`",
    )


class MasterWrap:
    """Wraps and unwraps keys under one master key."""

    def __init__(self, master_key: bytes) -> None:
        self.key_id = master_key_id(master_key)
        self._aead = AESGCM(master_key)

    def wrap(self, material: bytes, label: str, *context: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        ad = self._ad(label, context)
        return bytes.fromhex(self.key_id) + nonce + self._aead.encrypt(nonce, material, ad)

    def unwrap(self, wrapped: bytes, where: str, label: str, *context: str) -> bytes:
        wrapped_by = wrapped[:_ID_BYTES].hex()
        if wrapped_by != self.key_id:
            raise wrong_master_key(where, wrapped_by, self.key_id)
        body = wrapped[_ID_BYTES:]
        try:
            return self._aead.decrypt(
                body[:_NONCE_BYTES], body[_NONCE_BYTES:], self._ad(label, context)
            )
        except InvalidTag:
            raise MasterKeyError(
                f"{where}: a wrapped key does not open under master key {self.key_id} "
                "although it names it: the row was altered or moved",
                "restore the key store from a backup (`pdl keys restore`), then run "
                "`pdl certificates reapply`",
            ) from None

    def unwrap_legacy(self, wrapped: bytes, ad: bytes) -> bytes:
        """A key in the format of schema 2 (``nonce || ciphertext``, no master key id)."""
        return self._aead.decrypt(wrapped[:_NONCE_BYTES], wrapped[_NONCE_BYTES:], ad)

    def _ad(self, label: str, context: tuple[str, ...]) -> bytes:
        return "\x00".join((label, self.key_id, *context)).encode()
