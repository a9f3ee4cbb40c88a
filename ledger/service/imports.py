"""The rules of an import claim (``imported`` on an event): accepted only from a
submitter who says it is importing, and only when it could be true.

Record time is the log's: an event migrated from an older register is known to the
ledger from the moment it is appended, and every "as known then" answer keeps to that.
What the older register says about when it recorded the fact travels with the event as
``imported.recorded_at``, a claim shown next to the fact for a reader to weigh. The rules
keep the claim possible: a register cannot have recorded a fact before it happened, nor
after the import that copies it; and a claim is never made by accident, only by an
import (``pdl emit --import``), where every event must carry one.
"""

from __future__ import annotations

from datetime import datetime

from ledger.contract.base import LedgerEvent
from ledger.contract.rejection import Rejection

_CLAIM = '"imported": {"source": "<system code>", "recorded_at": "<when it recorded it>"}'


def import_rejections(event: LedgerEvent, importing: bool, now: datetime) -> list[Rejection]:
    """Why ``event``'s import claim (or its absence) is refused; empty when it is not."""
    claim = event.imported
    if claim is None:
        if importing:
            return [
                Rejection(
                    "imported",
                    "an import says, for every event, which system it comes from and when "
                    "that system recorded it",
                    f"add {_CLAIM}, or emit first-hand events without --import",
                )
            ]
        return []
    if not importing:
        return [
            Rejection(
                "imported",
                "an import claim is accepted only from a submitter that says it is importing "
                "records from an older register",
                "emit the file with `pdl emit --import`, or remove `imported` if the ledger "
                "learns this first-hand",
            )
        ]
    found = []
    if claim.recorded_at > now:
        found.append(
            Rejection(
                "imported.recorded_at",
                "the source system cannot have recorded it after the import",
                "give the time the source system recorded the fact, as it holds it",
            )
        )
    if claim.recorded_at < event.occurred_at:
        found.append(
            Rejection(
                "imported.recorded_at",
                "a register cannot have recorded a fact before it happened (occurred_at)",
                "check the source's record time and the event's occurred_at; a fact recorded "
                "later than it happened keeps occurred_at as the time it happened",
            )
        )
    return found
