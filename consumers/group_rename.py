"""Checkpoints a projection store keeps under a consumer group's former name, moved to
the name the group has now.

Consumer groups follow ``PDL_TOPIC_PREFIX`` (``Topics.group``): a ledger with the prefix
``acme.`` reads as ``acme.pdl-projections`` and ``acme.pdl-erasure``. Before, every ledger
read as ``pdl-projections`` and ``pdl-erasure``, and a store kept since then holds its
checkpoints under those names: opened under the new name alone, it would fold the whole
log again from offset 0. ``adopt_checkpoints`` moves them once, through the store port,
in one unit of work, before a consumer opens. Under the default prefix the names did not
change and nothing is done.

Only the checkpoints of this ledger's own topics move: one SQLite store may have been
shared by ledgers with different prefixes. The rows under the former name stay (the port
deletes nothing) and are read by no one; the group's offsets on the broker are the
operator's (docs/OPERATORS.md, "Consumer groups and the topic prefix").
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from consumers.store import CheckpointConflict, ProjectionStore

log = logging.getLogger(__name__)


def adopt_checkpoints(
    store: ProjectionStore, former: str, group: str, topics: Iterable[str]
) -> int:
    """Move the checkpoints ``store`` holds on ``topics`` under the group name ``former``
    to ``group``, if it holds none there yet; returns how many moved (0: nothing to do)."""
    if former == group:
        return 0
    consumed = set(topics)
    if any(tp.topic in consumed for tp in store.checkpoints(group)):
        return 0  # moved already, or the group has made progress of its own
    moving = {tp: n for tp, n in store.checkpoints(former).items() if tp.topic in consumed}
    if not moving:
        return 0
    try:
        with store.unit_of_work() as uow:
            for tp in sorted(moving, key=lambda tp: (tp.topic, tp.partition)):
                uow.set_checkpoint(group, tp, moving[tp])
    except CheckpointConflict:
        # another process sharing the store (PostgreSQL) moved them first: its move stands
        return 0
    log.info(
        "checkpoints of group %s moved to %s (consumer groups follow the topic prefix)",
        former,
        group,
        extra={"group": group, "counts": {"checkpoints": len(moving)}},
    )
    return len(moving)
