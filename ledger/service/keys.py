"""The key store's own use cases (``pdl keys``): status, master key rotation, backups
whose erased keys die on a stated date, and their restore."""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ledger.erasure.signing import rewrap_signing_key
from ledger.errors import Conflict
from ledger.keys.backup import BackupKey, backup_header, open_backup, seal_backup
from ledger.keys.master import master_key_id, parse_master_key
from ledger.keys.sqlite_store import SQLiteKeyStore
from ledger.service.backends import Backends

_STORE, _SIGNING = "keys.sqlite", "signing.key"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class KeyStatus:
    master_key_id: str
    backup_keys: list[tuple[str, datetime, datetime]]  # key id, period start, destroyed at


def key_status(ledger: Backends) -> KeyStatus:
    """The master key's id and the backup keys held, each with the date it is destroyed."""
    schedule = ledger.backup_schedule
    held = [
        (k.key_id, k.period_start, schedule.destroyed_at(k.period_start))
        for k in ledger.backup_keys.held()
    ]
    return KeyStatus(ledger.keys.master_key_id, held)


def rotate_master(ledger: Backends, new_key_file: Path) -> str:
    """Rewrap every key the data directory holds (data keys, identity lookup secret,
    backup keys, signing key) by the master key in ``new_key_file``; returns its id. When
    the master key is the data directory's own master.key, that file is replaced too;
    otherwise the operator points PDL_MASTER_KEY(_FILE) at the new key afterwards."""
    new = parse_master_key(new_key_file.read_text(encoding="ascii"), str(new_key_file))
    old = ledger.master_key
    if new == old:
        raise Conflict(
            f"{new_key_file} holds the master key in use ({master_key_id(old)})",
            'generate a new one: python -c "import secrets; print(secrets.token_hex(32))"',
        )
    # the signing key first: it can be rewrapped again (resumable), the store cannot
    rewrap_signing_key(ledger.layout.signing_key, old, new)
    ledger.backup_keys.rotate_master(new)
    ledger.keys.rotate_master(new)
    settings = ledger.settings
    if not settings.master_key and settings.master_key_file is None:
        _write_private(ledger.layout.master_key, new.hex().encode() + b"\n")
    return master_key_id(new)


def take_backup(ledger: Backends, directory: Path) -> Path:
    """A backup of the key store and signing key, encrypted under the current period's
    backup key, written into ``directory``; expired backup keys are destroyed first."""
    prune_backup_keys(ledger)
    now = ledger.clock()
    key = ledger.backup_keys.current(now)
    with tempfile.TemporaryDirectory(dir=ledger.layout.root) as scratch:
        copy = Path(scratch) / _STORE
        ledger.keys.snapshot(copy)
        files = {_STORE: copy.read_bytes()}
        copy.unlink()
    signing = ledger.layout.signing_key
    if signing.exists():
        files[_SIGNING] = signing.read_bytes()
    blob = seal_backup(key, now, ledger.keys.master_key_id, files)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"pdl-keys-{now.strftime('%Y%m%dT%H%M%SZ')}-{key.key_id[:8]}.backup"
    _write_private(path, blob)
    return path


def restore_backup(ledger: Backends, backup: Path, old_master_key_file: Path | None = None) -> str:
    """Restore the key store (and the signing key, if absent) from ``backup``, which its
    backup key must still open; refused while a key store exists. A backup taken before a
    ``rotate-master`` holds keys wrapped by the master key of its time: it is restored
    only with that key (``old_master_key_file``), and rewrapped by the current one at
    once. Returns the master key id the backup was taken under."""
    layout = ledger.layout
    if layout.keys.exists():
        raise Conflict(
            f"a key store exists at {layout.keys}; restoring over it could bring back keys "
            "destroyed since the backup",
            f"move {layout.keys} (and its -wal and -shm files) aside first, then restore, "
            "then run `pdl certificates reapply`",
        )
    blob = backup.read_bytes()
    header = backup_header(blob, str(backup))
    key: BackupKey | None = ledger.backup_keys.by_id(header["backup_key_id"])
    files = open_backup(blob, key, str(backup))
    current = ledger.master_key
    taken_under = _master_key_of(backup, header["master_key_id"], current, old_master_key_file)
    _write_private(layout.keys, files[_STORE])
    if _SIGNING in files and not layout.signing_key.exists():
        _write_private(layout.signing_key, files[_SIGNING])
        if taken_under != current:
            rewrap_signing_key(layout.signing_key, taken_under, current)
    # opened once: a store that does not match the backup's header is reported now
    store = SQLiteKeyStore(layout.keys, taken_under)
    try:
        if taken_under != current:
            store.rotate_master(current)
    finally:
        store.close()
    return header["master_key_id"]


def _master_key_of(
    backup: Path, needed: str, current: bytes, old_master_key_file: Path | None
) -> bytes:
    """The master key ``backup``'s keys are wrapped by: the current one, or the old one
    given after a rotation (checked by id before anything is written)."""
    if needed == master_key_id(current):
        return current
    flag = "--old-master-key-file"
    if old_master_key_file is None:
        raise Conflict(
            f"{backup} was taken under master key {needed}, not the current one "
            f"({master_key_id(current)}): a master key rotation happened since",
            f"give the old master key: pdl keys restore {backup} {flag} FILE (the key whose "
            "id is " + needed + "); the restored keys are rewrapped by the current one",
        )
    old = parse_master_key(
        old_master_key_file.read_text(encoding="ascii"), str(old_master_key_file)
    )
    if master_key_id(old) != needed:
        raise Conflict(
            f"{flag}: {old_master_key_file} holds master key {master_key_id(old)}, but "
            f"{backup} was taken under {needed}",
            f"give the file holding the master key whose id is {needed}",
        )
    return old


def prune_backup_keys(ledger: Backends) -> list[BackupKey]:
    """Destroy the backup keys whose period and grace are over: the backups they opened
    become unreadable, as the erasure certificates state."""
    return ledger.backup_keys.destroy_expired(ledger.clock())


def sweep_backup_keys(ledger: Backends) -> list[BackupKey]:
    """``prune_backup_keys`` for the long-running and scheduled commands (``pdl run``,
    ``pdl retention run``): the date a certificate states as ``backups_unreadable_by``
    holds only if something destroys the keys on time, so these run it unasked. Logs the
    ids destroyed (a backup key is not personal data; its id is all the log needs)."""
    destroyed = prune_backup_keys(ledger)
    for key in destroyed:
        log.info(
            "destroyed backup key %s (period from %s); backups under it open no more",
            key.key_id,
            key.period_start.date().isoformat(),
        )
    return destroyed


def _write_private(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".pdl-")  # mode 0600
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
