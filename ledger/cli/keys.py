"""``pdl keys``: the master key's id, its rotation, and backups of the key store."""

from __future__ import annotations

import argparse
from pathlib import Path

from ledger.cli.common import Subparsers, add_command, open_ledger, say
from ledger.errors import InvalidRequest
from ledger.service.keys import (
    key_status,
    prune_backup_keys,
    restore_backup,
    rotate_master,
    take_backup,
)

DESCRIPTION = """\
status: the id of the master key the key store needs, and the backup keys held, each
with the date it is destroyed.

rotate-master --new-key-file FILE: rewrap every key (data keys, the identity lookups'
secret, backup keys, the signing key) by the new master key; afterwards only the new key
opens them. With the data directory's own master.key, the file is replaced; otherwise
point PDL_MASTER_KEY or PDL_MASTER_KEY_FILE at the new key at once.

backup --into DIR: a backup of the key store and signing key, encrypted under the
current period's backup key (PDL_BACKUP_KEY_PERIOD_DAYS). Backup keys are destroyed
PDL_BACKUP_KEY_GRACE_DAYS after their period: older backups then open no more, which is
what bounds how long an erased key survives in backups (the certificates state the
date). Never copy keys.sqlite or backup-keys.sqlite by other means.

restore FILE: the key store from a backup whose backup key is still held (move the
damaged keys.sqlite aside first), then run `pdl certificates reapply`. A backup taken
before a rotate-master needs the master key of its time too (--old-master-key-file
FILE); the restored keys are rewrapped by the current one.

prune-backup-keys: destroy the backup keys whose period and grace are over (`pdl run`
does it hourly, `pdl retention run` and every `backup` too; without a running `pdl run`,
run it daily, e.g. from cron)."""

EXAMPLES = """\
  pdl keys status
  python -c "import secrets; print(secrets.token_hex(32))" > /etc/pdl/master.key.new
  pdl keys rotate-master --new-key-file /etc/pdl/master.key.new
  pdl keys backup --into /srv/backups/pdl
  pdl keys restore /srv/backups/pdl/pdl-keys-20261205T040000Z-1a2b3c4d.backup"""


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "keys",
        run,
        "master key status and rotation; bounded backups of the key store",
        DESCRIPTION,
        EXAMPLES,
    )
    parser.add_argument(
        "action", choices=["status", "rotate-master", "backup", "restore", "prune-backup-keys"]
    )
    parser.add_argument("file", nargs="?", type=Path, help="restore: the backup file")
    parser.add_argument("--new-key-file", type=Path, help="rotate-master: the new master key")
    parser.add_argument("--into", type=Path, help="backup: the directory to write it into")
    parser.add_argument(
        "--old-master-key-file",
        type=Path,
        help="restore: the master key a backup taken before a rotate-master needs",
    )


def run(args: argparse.Namespace) -> int:
    ledger = open_ledger(args)
    try:
        if args.action == "status":
            status = key_status(ledger)
            print(f"master key id: {status.master_key_id}")
            for key_id, start, destroyed in status.backup_keys:
                print(
                    f"backup key {key_id}: period from {start:%Y-%m-%d}, "
                    f"destroyed {destroyed:%Y-%m-%d}"
                )
        elif args.action == "rotate-master":
            new_key_file = _required(
                args.new_key_file, "--new-key-file", "a file holding the new key"
            )
            say(f"pdl: every key rewrapped by master key {rotate_master(ledger, new_key_file)}")
        elif args.action == "backup":
            into = _required(args.into, "--into", "the directory to write the backup into")
            print(take_backup(ledger, into))
        elif args.action == "restore":
            backup = _required(args.file, "file", "the backup file to restore")
            needed = restore_backup(ledger, backup, args.old_master_key_file)
            say(
                f"pdl: key store restored (backup taken under master key {needed}); "
                "now run `pdl certificates reapply`"
            )
        else:
            for key in prune_backup_keys(ledger):
                say(
                    f"pdl: destroyed backup key {key.key_id} "
                    f"(period from {key.period_start:%Y-%m-%d})"
                )
    finally:
        ledger.close()
    return 0


def _required(value: Path | None, name: str, what: str) -> Path:
    if value is None:
        raise InvalidRequest(f"{name}: missing", f"give {name}: {what}", field=name)
    return value
