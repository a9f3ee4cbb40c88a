"""Issue 14: a missing or wrong master key is refused, never replaced; rotation; backups
whose erased keys die on the stated date."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ledger.errors import LedgerError
from ledger.keys.backup import BackupSchedule, BackupUnreadable
from ledger.keys.master import MasterKeyError, master_key_id
from ledger.service.backends import Backends
from ledger.service.keys import prune_backup_keys, restore_backup, rotate_master, take_backup
from ledger.service.settings import Settings
from tests.command import pdl

CONTROLLER = "controller-a"


def _ledger(data: Path, clock: list[datetime] | None = None, **env: str) -> Backends:
    settings = Settings.from_environment(data_dir=data)
    if clock is None:
        return Backends(settings)
    return Backends(settings, clock=lambda: clock[0])


def _with_a_subject(ledger: Backends) -> tuple[str, str]:
    subject = ledger.keys.assign_subject(ledger.keys.new_subject(), CONTROLLER, "camille@ex.fr")
    return subject, ledger.keys.data_key(subject, "marketing").key_id


def test_a_deleted_master_key_is_refused_and_never_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PDL_MASTER_KEY")
    data = tmp_path / "data"
    first = _ledger(data)
    _with_a_subject(first)
    first.close()
    (data / "master.key").unlink()
    for args in (["state", "camille@ex.fr"], ["keys", "status"]):
        done = pdl(*args)
        assert done.returncode != 0
        assert "no master key" in done.stderr and "no subject is known" not in done.stderr
    assert not (data / "master.key").exists()  # never replaced


def test_a_wrong_master_key_is_refused_by_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    first = _ledger(data)
    _with_a_subject(first)
    right = first.keys.master_key_id
    first.close()
    monkeypatch.setenv("PDL_MASTER_KEY", secrets.token_hex(32))
    done = pdl("state", "camille@ex.fr")
    assert done.returncode != 0 and right in done.stderr
    assert "no subject is known" not in done.stderr
    with pytest.raises(MasterKeyError):
        _ledger(data).keys  # noqa: B018


def test_after_rotate_master_only_the_new_key_opens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    ledger = _ledger(data)
    subject, key_id = _with_a_subject(ledger)
    ledger.signing_key  # noqa: B018 — made, so rotation must rewrap it
    backup = take_backup(ledger, tmp_path / "backups")
    new = secrets.token_hex(32)
    (tmp_path / "new.key").write_text(new)
    assert rotate_master(ledger, tmp_path / "new.key") == master_key_id(bytes.fromhex(new))
    ledger.close()
    with pytest.raises(MasterKeyError):
        _ledger(data).keys  # noqa: B018 — the old key
    monkeypatch.setenv("PDL_MASTER_KEY", new)
    again = _ledger(data)
    try:
        assert again.keys.subject_for("camille@ex.fr", CONTROLLER) == subject
        assert again.keys.key_by_id(key_id) is not None
        assert again.signing_key.key_id
        assert again.backup_keys.held()  # rewrapped too
        assert backup.exists()
    finally:
        again.close()


def test_a_backup_from_before_an_erasure_stops_opening_after_the_period(tmp_path: Path) -> None:
    data = tmp_path / "data"
    now = [datetime(2026, 3, 10, 12, tzinfo=UTC)]
    ledger = _ledger(data, now)
    subject, key_id = _with_a_subject(ledger)
    backup = take_backup(ledger, tmp_path / "backups")
    now[0] += timedelta(days=1)
    ledger.keys.shred(subject)  # the erasure
    schedule: BackupSchedule = ledger.backup_schedule
    bound = schedule.unreadable_by(now[0])
    assert bound <= now[0] + timedelta(days=37)
    ledger.close()

    # within the period the backup still restores (the erased key with it)
    aside = tmp_path / "aside"
    aside.mkdir()
    (data / "keys.sqlite").rename(aside / "keys.sqlite")
    restore_backup(_ledger(data, now), backup)
    assert _ledger(data, now).keys.key_by_id(key_id) is not None
    (data / "keys.sqlite").unlink()

    # after the bound, the sweep has destroyed its backup key: it opens no more
    now[0] = bound
    later = _ledger(data, now)
    assert prune_backup_keys(later)
    with pytest.raises(BackupUnreadable):
        restore_backup(later, backup)
    assert not (data / "keys.sqlite").exists()


def test_certificates_state_the_backup_bound() -> None:
    schedule = BackupSchedule(period_days=30, grace_days=7)
    erased = datetime(2026, 3, 11, tzinfo=UTC)
    bound = schedule.unreadable_by(erased)
    assert erased < bound <= erased + timedelta(days=37)
    assert schedule.destroyed_at(schedule.period_start(erased)) == bound


def test_restore_refuses_to_overwrite_a_key_store(tmp_path: Path) -> None:
    ledger = _ledger(tmp_path / "data")
    _with_a_subject(ledger)
    backup = take_backup(ledger, tmp_path / "backups")
    with pytest.raises(LedgerError, match="move"):
        restore_backup(ledger, backup)
    ledger.close()
