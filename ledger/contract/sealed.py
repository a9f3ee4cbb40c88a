"""The sealed-value envelope: how a personal value looks once sealed, without the key.

A sealed value is ``01`` (format version) + the 16-byte key id + a 12-byte nonce + the
AES-GCM ciphertext and tag. The header is public: any reader (a projection, the erasure
verifier, a report) may learn which key a value needs without holding any key. Sealing
and opening, which do need the key, live in ``ledger/keys/sealing.py``.

The associated data binds the subject, the event and the field path, so a ciphertext
moved to another subject, event or field fails to open.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from ledger.errors import IntegrityError

FORMAT_V1 = b"\x01"
KEY_ID_LEN = 16
NONCE_LEN = 12
HEADER_LEN = len(FORMAT_V1) + KEY_ID_LEN + NONCE_LEN


class MalformedSealedValue(IntegrityError):
    """Bytes that are not a pdl-aead-v1 sealed value: no key can open or shred them."""

    def __init__(self) -> None:
        super().__init__(
            "not a pdl-aead-v1 sealed value",
            fix="personal values are sealed by the ledger on append; re-submit the event",
        )


@dataclass(frozen=True)
class SealedParts:
    """A sealed value taken apart: the key it needs, its nonce, ciphertext and tag."""

    key_id: str
    nonce: bytes
    ciphertext: bytes


def is_well_formed(sealed: bytes) -> bool:
    """Whether ``sealed`` has a pdl-aead-v1 header (it says nothing of whether it opens)."""
    return len(sealed) >= HEADER_LEN and sealed[: len(FORMAT_V1)] == FORMAT_V1


def envelope(key_id: str, nonce: bytes, ciphertext: bytes) -> bytes:
    """The sealed value for an AES-GCM ``ciphertext`` (tag included) under ``key_id``."""
    if len(nonce) != NONCE_LEN:
        raise ValueError(f"a pdl-aead-v1 nonce is {NONCE_LEN} bytes, not {len(nonce)}")
    return FORMAT_V1 + uuid.UUID(key_id).bytes + nonce + ciphertext


def parts_of(sealed: bytes) -> SealedParts:
    """The envelope's parts; ``MalformedSealedValue`` if it has no pdl-aead-v1 header."""
    if not is_well_formed(sealed):
        raise MalformedSealedValue()
    start = len(FORMAT_V1)
    return SealedParts(
        key_id=uuid.UUID(bytes=sealed[start : start + KEY_ID_LEN]).hex,
        nonce=sealed[start + KEY_ID_LEN : HEADER_LEN],
        ciphertext=sealed[HEADER_LEN:],
    )


def key_id_of(sealed: bytes) -> str:
    """The id of the key a value was sealed with (public information)."""
    return parts_of(sealed).key_id


def field_ad(subject_id: str, event_id: str, path: str) -> bytes:
    """The associated data of one personal field: subject, event and field path."""
    return "\x00".join(("pdl-field-v1", subject_id, event_id, path)).encode()
