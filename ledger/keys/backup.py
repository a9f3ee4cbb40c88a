"""Backups of the key store whose erased keys die on a stated date.

A copy of ``keys.sqlite`` taken before an erasure holds the erased keys; with the
master key it would open the erased data for as long as the copy is kept. So a backup
(``pdl keys backup``) is encrypted (AES-256-GCM) under a *backup key*, one per period of
``period_days`` (``PDL_BACKUP_KEY_PERIOD_DAYS``) counted from 1970-01-01 UTC, and each
backup key is destroyed ``grace_days`` (``PDL_BACKUP_KEY_GRACE_DAYS``) after its period
ends. A key erased at instant *e* can only be in backups taken before *e*, all under
backup keys of *e*'s period or earlier, all destroyed by ``unreadable_by(e)`` = end of
*e*'s period + grace ≤ *e* + period + grace. That instant is what certificates state.

Backup keys live in their own store (``ledger.keys.backup_keys``), wrapped by the master
key and never inside a backup: a backup holding the key of an earlier period would keep
that period's backups readable past their date.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ledger.errors import InvalidRequest, Refused

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FORMAT = "pdl-key-backup/1"


@dataclass(frozen=True)
class BackupSchedule:
    """How long a backup key is used (``period_days``), and kept after (``grace_days``)."""

    period_days: int = 30
    grace_days: int = 7

    def period_start(self, now: datetime) -> datetime:
        days = (now - _EPOCH) // timedelta(days=1)
        return _EPOCH + timedelta(days=days - days % self.period_days)

    def destroyed_at(self, period_start: datetime) -> datetime:
        """When the backup key of the period starting at ``period_start`` is destroyed."""
        return period_start + timedelta(days=self.period_days + self.grace_days)

    def unreadable_by(self, erased_at: datetime) -> datetime:
        """The instant after which no backup holds a key destroyed at ``erased_at``."""
        return self.destroyed_at(self.period_start(erased_at))


@dataclass(frozen=True)
class BackupKey:
    key_id: str
    period_start: datetime
    material: bytes = field(repr=False)


class BackupUnreadable(Refused):
    """A backup whose backup key was destroyed (its period is over) or is not this store's."""


def seal_backup(
    key: BackupKey, taken_at: datetime, master_key_id: str, files: dict[str, bytes]
) -> bytes:
    """The backup file: ``files`` (name → content) encrypted under ``key``. The keys in
    the files stay wrapped by the master key, which restoring needs too."""
    header = {
        "format": FORMAT,
        "backup_key_id": key.key_id,
        "period_start": key.period_start.isoformat(),
        "taken_at": taken_at.isoformat(),
        "master_key_id": master_key_id,
    }
    plain = json.dumps({n: base64.b64encode(c).decode("ascii") for n, c in files.items()})
    nonce = os.urandom(12)
    sealed = AESGCM(key.material).encrypt(nonce, plain.encode(), _ad(header))
    doc = {**header, "ciphertext": base64.b64encode(nonce + sealed).decode("ascii")}
    return json.dumps(doc, sort_keys=True).encode()


def backup_header(blob: bytes, origin: str) -> dict[str, str]:
    """A backup file's clear header: its backup key id, period, time and master key id."""
    try:
        doc = json.loads(blob)
    except (ValueError, UnicodeDecodeError):
        doc = None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise InvalidRequest(
            f"{origin}: not a pdl key backup", "name a file `pdl keys backup` wrote", field="file"
        )
    return {str(k): str(v) for k, v in doc.items()}


def open_backup(blob: bytes, key: BackupKey | None, origin: str) -> dict[str, bytes]:
    """The files of a backup, if its backup key (``key``, None when destroyed) opens it."""
    doc = backup_header(blob, origin)
    if key is None or key.key_id != doc["backup_key_id"]:
        raise BackupUnreadable(
            f"{origin}: its backup key {doc['backup_key_id']} (period from "
            f"{doc['period_start']}) is not in the backup key store: it was destroyed when "
            "its period and grace ended, as the erasure certificates state, or this is "
            "another ledger's backup",
            "restore a backup taken in the current period (`pdl keys status` lists the "
            "backup keys still held)",
        )
    header = {k: v for k, v in doc.items() if k != "ciphertext"}
    sealed = base64.b64decode(doc["ciphertext"])
    try:
        plain = AESGCM(key.material).decrypt(sealed[:12], sealed[12:], _ad(header))
    except InvalidTag:
        raise BackupUnreadable(
            f"{origin}: the backup does not open under its backup key: it was altered",
            "restore another backup",
        ) from None
    return {n: base64.b64decode(c) for n, c in json.loads(plain).items()}


def _ad(header: dict[str, str]) -> bytes:
    return json.dumps(header, sort_keys=True).encode()
