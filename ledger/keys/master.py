"""The master key, which wraps every data key. It comes from configuration, never the repo.

Sources, first found wins (the settings, ``ledger.service.settings``, pass them in):
``PDL_MASTER_KEY`` (32 bytes, base64 or hex), the file named by
``PDL_MASTER_KEY_FILE``, else ``<data dir>/master.key``, created on first use with
mode 0600. The last is a laptop convenience: in production set one of the first two,
from a secret manager, and keep it away from the key store's backups.
"""

from __future__ import annotations

import base64
import binascii
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


def load_master_key(configured: str | None, configured_file: Path | None, fallback: Path) -> bytes:
    """The master key: ``configured`` (the ``PDL_MASTER_KEY`` setting), else the file
    ``configured_file`` (``PDL_MASTER_KEY_FILE``), else ``fallback``, created if absent."""
    if configured:
        return parse_master_key(configured, "PDL_MASTER_KEY")
    if configured_file is not None:
        if not configured_file.is_file():
            raise MasterKeyError(f"PDL_MASTER_KEY_FILE: no file at {configured_file}")
        return parse_master_key(configured_file.read_text(encoding="ascii"), str(configured_file))
    if not fallback.exists():
        fallback.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(fallback, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(secrets.token_hex(MASTER_KEY_BYTES) + "\n")
        print(
            f"pdl: created a master key at {fallback} (set PDL_MASTER_KEY in production)",
            file=sys.stderr,
        )
    return parse_master_key(fallback.read_text(encoding="ascii"), str(fallback))
