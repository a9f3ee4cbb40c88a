"""The master key, which wraps every data key. It comes from configuration, never the repo.

Sources, first found wins (the settings, ``ledger.service.settings``, pass them in):
``PDL_MASTER_KEY`` (32 bytes, base64 or hex), the file named by
``PDL_MASTER_KEY_FILE``, else ``<data dir>/master.key``, created with mode 0600 only
while no key store exists yet. The last is a laptop convenience: in production set one
of the first two, from a secret manager, and keep it away from the key store's backups.

A master key is never replaced behind the operator's back: a key store records the id
of the master key that wraps it (``master_key_id``), and a missing or different key is
refused — a new key would open none of the stored keys, and the next event would give a
known person a second pseudonym that no later erasure reaches. ``pdl keys
rotate-master`` is the one way to change it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
import sys
from pathlib import Path

from ledger.errors import ConfigError

MASTER_KEY_BYTES = 32


class MasterKeyError(ConfigError):
    """The configured master key is missing or malformed."""


def parse_master_key(text: str, origin: str) -> bytes:
    text = text.strip()
    for decode in (bytes.fromhex, base64.b64decode, base64.urlsafe_b64decode):
        try:
            key = decode(text)
        except (ValueError, binascii.Error):
            continue
        if len(key) == MASTER_KEY_BYTES:
            return key
    raise MasterKeyError(
        f"{origin}: master key must be {MASTER_KEY_BYTES} bytes, hex or base64 encoded; "
        'generate one with: python -c "import secrets; print(secrets.token_hex(32))"'
    )


def master_key_id(master_key: bytes) -> str:
    """The master key's public id (its key-check value): 32 hex digits of a SHA-256 of
    the key under a label of its own, which tells keys apart and reveals nothing of them."""
    return hashlib.sha256(b"pdl-master-key-id\x00" + master_key).hexdigest()[:32]


def load_master_key(
    configured: str | None,
    configured_file: Path | None,
    fallback: Path,
    *,
    may_create: bool = True,
) -> bytes:
    """The master key: ``configured`` (the ``PDL_MASTER_KEY`` setting), else the file
    ``configured_file`` (``PDL_MASTER_KEY_FILE``), else ``fallback``, created if absent
    and ``may_create`` (the service allows it only while no key store exists)."""
    if configured:
        return parse_master_key(configured, "PDL_MASTER_KEY")
    if configured_file is not None:
        if not configured_file.is_file():
            raise MasterKeyError(f"PDL_MASTER_KEY_FILE: no file at {configured_file}")
        return parse_master_key(configured_file.read_text(encoding="ascii"), str(configured_file))
    if not fallback.exists():
        if not may_create:
            raise MasterKeyError(
                f"no master key: {fallback} is missing, PDL_MASTER_KEY and "
                "PDL_MASTER_KEY_FILE are unset, and the data directory already holds keys "
                "wrapped by a master key; a new one would open none of them (and would give "
                "known people second pseudonyms), so none is made",
                f"put the master key back at {fallback} (mode 0600), or set PDL_MASTER_KEY "
                "or PDL_MASTER_KEY_FILE to it",
            )
        fallback.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(fallback, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(secrets.token_hex(MASTER_KEY_BYTES) + "\n")
        print(
            f"pdl: created a master key at {fallback} (set PDL_MASTER_KEY in production)",
            file=sys.stderr,
        )
    return parse_master_key(fallback.read_text(encoding="ascii"), str(fallback))
