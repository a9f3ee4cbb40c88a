"""Issue 14: the certificate of an erasure states when the last `pdl keys backup` that
could hold the destroyed keys stops opening (``backups_unreadable_by``), that date is the
one docs/DPO.md documents (the end of the erasure's backup-key period, plus the grace),
and `pdl keys prune-backup-keys` makes it true.

The clock is injected through the service functions; the sweep is run as a user runs it,
by the real clock, so the erasure is placed a few periods in the past."""

from __future__ import annotations

import os
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ledger.keys.backup import backup_header, open_backup
from ledger.keys.sqlite_store import SQLiteKeyStore
from ledger.service.backends import Backends
from ledger.service.erasure import carry_out, request_erasure
from ledger.service.keys import prune_backup_keys, rotate_master, take_backup
from ledger.service.settings import Settings
from tests.command import pdl
from tests.erasure.helpers import CONTROLLER, informatique70_customer

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
PERIOD_DAYS, GRACE_DAYS = 30, 7  # the documented defaults, set explicitly below


def _documented_bound(erased_at: datetime) -> datetime:
    """docs/DPO.md: periods of PERIOD_DAYS counted from 1970-01-01 UTC; the backup key
    of the erasure's period is destroyed GRACE_DAYS after that period ends."""
    days = (erased_at - EPOCH) // timedelta(days=1)
    period_end = EPOCH + timedelta(days=(days // PERIOD_DAYS + 1) * PERIOD_DAYS)
    return period_end + timedelta(days=GRACE_DAYS)


def _held_in_backup(backup: Path, ledger: Backends, key_id: str, scratch: Path) -> bool:
    """Whether ``backup`` still opens, with the data key ``key_id`` inside it."""
    blob = backup.read_bytes()
    backup_key = ledger.backup_keys.by_id(backup_header(blob, str(backup))["backup_key_id"])
    files = open_backup(blob, backup_key, str(backup))
    copy = scratch / "peek.sqlite"
    copy.write_bytes(files["keys.sqlite"])
    store = SQLiteKeyStore(copy, ledger.master_key)
    try:
        return store.key_by_id(key_id) is not None
    finally:
        store.close()


def test_the_certificate_states_the_documented_bound_and_the_sweep_keeps_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PDL_BACKUP_KEY_PERIOD_DAYS", str(PERIOD_DAYS))
    monkeypatch.setenv("PDL_BACKUP_KEY_GRACE_DAYS", str(GRACE_DAYS))
    # noon on the first day of the period that began three periods ago: the backup and
    # the erasure a day later share a period, and its bound is in the real past
    days = (datetime.now(UTC) - EPOCH) // timedelta(days=1)
    start = EPOCH + timedelta(days=(days // PERIOD_DAYS - 3) * PERIOD_DAYS, hours=12)
    now = [start]
    ledger = Backends(Settings.from_environment(), clock=lambda: now[0])
    customer = informatique70_customer(ledger)
    erased = {
        k.key_id
        for k in ledger.keys.keys_of(customer.subject_id)
        if k.retention_class == "marketing"
    }
    assert erased
    backup = take_backup(ledger, tmp_path / "backups")  # made before the erasure

    now[0] = start + timedelta(days=1)
    request = request_erasure(
        ledger,
        customer.subject_id,
        "consent_withdrawn",
        {"kind": "purpose", "purpose": "newsletter"},
    )
    certificate = carry_out(ledger, request)
    bound = _documented_bound(now[0])
    assert {k["key_id"] for k in certificate["erased"]["keys_destroyed"]} >= erased
    assert datetime.fromisoformat(certificate["backups_unreadable_by"]) == bound
    assert now[0] < bound <= now[0] + timedelta(days=PERIOD_DAYS + GRACE_DAYS)
    for key_id in erased:  # the key store's row is gone at once
        assert ledger.keys.key_by_id(key_id) is None

    # until the bound, the backup made before the erasure still holds the erased key
    now[0] = bound - timedelta(seconds=1)
    assert prune_backup_keys(ledger) == []
    assert all(_held_in_backup(backup, ledger, k, tmp_path) for k in erased)
    held = pdl("keys", "status")
    assert held.returncode == 0, held.stderr
    assert f"destroyed {bound:%Y-%m-%d}" in held.stdout
    ledger.close()

    # after the bound, as an operator runs it (the real clock, past the bound)
    pruned = pdl("keys", "prune-backup-keys")
    assert pruned.returncode == 0, pruned.stderr
    assert "destroyed backup key" in pruned.stderr + pruned.stdout
    data = tmp_path / "data"
    aside = tmp_path / "aside"
    aside.mkdir()
    for name in ("keys.sqlite", "keys.sqlite-wal", "keys.sqlite-shm"):
        if (data / name).exists():
            (data / name).rename(aside / name)
    restored = pdl("keys", "restore", str(backup))
    assert restored.returncode != 0
    assert not (data / "keys.sqlite").exists()


@pytest.mark.parametrize(
    "command",
    [["run", "--until-caught-up", "--metrics-port", "0"], ["retention", "run"]],
    ids=["run", "retention-run"],
)
def test_the_scheduled_commands_sweep_expired_backup_keys(command: list[str]) -> None:
    """The bound holds without anyone remembering `prune-backup-keys`: `pdl run` and
    `pdl retention run` destroy expired backup keys themselves, and log their ids."""
    long_ago = datetime.now(UTC) - timedelta(days=3 * (PERIOD_DAYS + GRACE_DAYS))
    ledger = Backends(Settings.from_environment(), clock=lambda: long_ago)
    expired = ledger.backup_keys.current(long_ago)
    ledger.close()
    done = pdl("-v", *command)
    assert done.returncode == 0, done.stderr
    assert f"destroyed backup key {expired.key_id}" in done.stderr
    again = Backends(Settings.from_environment())
    try:
        assert again.backup_keys.by_id(expired.key_id) is None
    finally:
        again.close()


def test_a_backup_from_before_a_rotation_restores_with_the_old_master_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """docs/OPERATORS.md: restoring a backup taken before `rotate-master` needs the master
    key of its time; without it nothing is written, with it the keys are rewrapped."""
    old = os.environ["PDL_MASTER_KEY"]
    (tmp_path / "old.key").write_text(old)
    (tmp_path / "new.key").write_text(new := secrets.token_hex(32))
    ledger = Backends(Settings.from_environment())
    customer = informatique70_customer(ledger)
    backup = take_backup(ledger, tmp_path / "backups")
    rotate_master(ledger, tmp_path / "new.key")
    ledger.close()
    monkeypatch.setenv("PDL_MASTER_KEY", new)
    data = tmp_path / "data"
    for name in ("keys.sqlite", "keys.sqlite-wal", "keys.sqlite-shm"):
        if (data / name).exists():
            (data / name).unlink()

    refused = pdl("keys", "restore", str(backup))
    assert refused.returncode != 0 and "--old-master-key-file" in refused.stderr
    assert not (data / "keys.sqlite").exists()
    done = pdl("keys", "restore", str(backup), "--old-master-key-file", str(tmp_path / "old.key"))
    assert done.returncode == 0, done.stderr
    again = Backends(Settings.from_environment())
    try:
        assert again.keys.subject_for(customer.email, CONTROLLER) == customer.subject_id
    finally:
        again.close()
