"""Rebuild the projections from offset 0 into a new store, then swap it in.

The new store lives beside the live one (``<name>.rebuild.sqlite``) until it has caught
up; a rebuild that is interrupted (even by SIGKILL) resumes from that store's own
checkpoints when run again. The swap is a rename, so readers see the old projections or
the new ones, never a mixture. Stop ``pdl run`` during a rebuild: it holds the old file.
"""

from __future__ import annotations

import os
from pathlib import Path

from consumers.observe import Observer
from consumers.runner import Progress, ProjectionConsumer
from consumers.sqlite_store import SQLiteProjectionStore
from consumers.store import StaleProjections
from ledger.contract.topics import Topics
from ledger.contract.wire import SchemaRegistry
from ledger.log.base import EventLog
from projections.installed import all_projections


def rebuild_path(live: Path) -> Path:
    return live.with_name(live.stem + ".rebuild.sqlite")


def rebuild(
    log: EventLog,
    registry: SchemaRegistry,
    topics: Topics,
    live: Path,
    observer: Observer | None = None,
) -> Progress:
    """Replay every event into a fresh (or half-built) store and swap it in for ``live``."""
    target = rebuild_path(live)
    store = _fresh_or_resumable(target)
    try:
        runner = ProjectionConsumer(
            log, store, registry, all_projections(), topics, observer=observer, grouped=False
        )
        progress = runner.catch_up()
    finally:
        store.close()  # the last connection: SQLite folds the WAL into the file
    for stale in (Path(f"{live}-wal"), Path(f"{live}-shm")):
        stale.unlink(missing_ok=True)  # a stale WAL must never be replayed onto the new file
    os.replace(target, live)
    return progress


def _fresh_or_resumable(target: Path) -> SQLiteProjectionStore:
    """The half-built store to resume, unless another version of pdl began it."""
    store = SQLiteProjectionStore(target)
    try:
        store.check_versions({p.name: p.version() for p in all_projections()})
    except StaleProjections:
        store.close()
        for path in (target, Path(f"{target}-wal"), Path(f"{target}-shm")):
            path.unlink(missing_ok=True)
        store = SQLiteProjectionStore(target)
    return store


def resuming(live: Path) -> bool:
    return rebuild_path(live).exists()
