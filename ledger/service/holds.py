"""Legal holds (GDPR Art. 17(3)): placing one, releasing one by its id, listing them.

Holds are individual. Each has an id the ledger gives it when it is placed; a release
names that id, so closing one case leaves another case's hold on the same scope in
force. What the log cannot tell by itself is checked here, against the subject's state:
a release must name a hold placed on the subject and still in force, and a hold must
lapse after the moment it is placed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import uuid4

from ledger.contract.events import LedgerEvent, LegalHoldPlaced
from ledger.erasure.holds import LEGAL_CLAIMS_ARTICLE
from ledger.errors import Conflict, InvalidRequest, NotFound
from ledger.service.backends import Backends
from ledger.service.erasure import append_one, controller_for, subject_state
from projections.subject_state import LegalHold


@dataclass(frozen=True)
class HoldChange:
    """A hold placed or released, and the event that says so."""

    hold_id: str
    scope: str
    event: LedgerEvent


def new_hold_id() -> str:
    return f"hold_{uuid4().hex}"


def place_hold(
    ledger: Backends,
    subject_id: str,
    scope: Mapping[str, str],
    reason: str,
    *,
    article: str | None = None,
    until: datetime | None = None,
    controller: str | None = None,
) -> HoldChange:
    """Place a new hold on ``scope``; it protects it until released or ``until``."""
    state = subject_state(ledger, subject_id)
    now = ledger.clock()
    if until is not None and until <= now:
        raise InvalidRequest(
            f"until: {until.isoformat()} is not after now ({now.isoformat()}); a hold that "
            "has already lapsed protects nothing",
            fix="give an --until in the future, or none (the hold lasts until released)",
            field="until",
        )
    hold_id = new_hold_id()
    fields: dict[str, Any] = {
        "type": "LegalHoldPlaced",
        "subject_id": subject_id,
        "controller": controller_for(state, controller),
        "occurred_at": now.isoformat(),
        "scope": dict(scope),
        "reason": reason,
        "article": article or LEGAL_CLAIMS_ARTICLE,
        "hold_id": hold_id,
    }
    if until is not None:
        fields["until"] = until.isoformat()
    event = append_one(ledger, fields)
    assert isinstance(event, LegalHoldPlaced)
    return HoldChange(hold_id, event.scope.label(), event)


def release_hold(
    ledger: Backends,
    subject_id: str,
    hold_id: str,
    reason: str,
    *,
    controller: str | None = None,
) -> HoldChange:
    """Release the hold ``hold_id``; other holds on its scope stay in force."""
    state = subject_state(ledger, subject_id)
    hold = state.holds.get(hold_id)
    if hold is None or hold.placed is None:
        raise NotFound(
            f"hold: no legal hold {hold_id} was placed on this subject",
            fix=_listing_fix(state.holds),
        )
    if not hold.active:
        released = hold.released.occurred_at.isoformat() if hold.released else "before"
        raise Conflict(
            f"hold: {hold_id} was already released ({released}); releasing it again "
            "changes nothing",
            fix=_listing_fix(state.holds),
        )
    event = append_one(
        ledger,
        {
            "type": "LegalHoldReleased",
            "subject_id": subject_id,
            "controller": controller_for(state, controller),
            "occurred_at": ledger.clock().isoformat(),
            "scope": _scope_object(hold.scope),
            "reason": reason,
            "hold_id": hold_id,
        },
    )
    return HoldChange(hold_id, hold.scope, event)


def holds_of(ledger: Backends, subject_id: str) -> list[dict[str, Any]]:
    """The subject's holds, in force first, then by when they were placed."""
    now = ledger.clock()
    found = []
    for hold in subject_state(ledger, subject_id).holds.values():
        if hold.placed is None:
            continue
        lapsed = hold.until is not None and hold.until <= now
        found.append(
            {
                "hold_id": hold.hold_id,
                "scope": hold.scope,
                "status": "released" if not hold.active else "lapsed" if lapsed else "in force",
                "reason": hold.reason,
                "article": hold.article,
                "until": hold.until.isoformat() if hold.until else None,
                "placed_at": hold.placed.occurred_at.isoformat(),
                "released_at": hold.released.occurred_at.isoformat() if hold.released else None,
            }
        )
    return sorted(found, key=lambda h: (h["status"] != "in force", h["placed_at"], h["hold_id"]))


def _listing_fix(holds: Mapping[str, LegalHold]) -> str:
    active = sorted(h.hold_id for h in holds.values() if h.active and h.placed is not None)
    named = f" (in force: {', '.join(active)})" if active else " (none is in force)"
    return f"name a hold in force, as `pdl hold list SUBJECT` shows them{named}"


def _scope_object(label: str) -> dict[str, str]:
    kind, _, name = label.partition(":")
    if not name:
        return {"kind": kind}
    return {"kind": kind, kind: name}
