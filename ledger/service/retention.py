"""The retention engine's use cases: what the catalogs' retention rules make due at an
instant, and carrying it out through erasure requests and the erasure processor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from consumers.metrics import RETENTION_ACTIONS
from ledger.contract.rejection import EventRejected
from ledger.erasure.holds import RetentionGround, hold_grounds
from ledger.erasure.retention import RetentionDue, retention_schedule
from ledger.errors import Refused
from ledger.service.backends import Backends
from ledger.service.erasure import run_processor
from ledger.service.erasure_facts import active_holds, subject_facts
from ledger.service.keys import sweep_backup_keys
from projections.subject_state import SubjectStateProjection


@dataclass(frozen=True)
class Scheduled:
    due: RetentionDue
    #: active legal holds keeping the class (catalog obligations are rules of their own)
    held: tuple[RetentionGround, ...]

    def as_json(self) -> dict[str, Any]:
        d = self.due
        return {
            "subject_id": d.subject_id,
            "controller": d.controller,
            "scope": d.scope.label(),
            "retention_class": d.retention_class,
            "due": d.due.isoformat() if d.due else None,
            "rule": d.rule_text(),
            "quote": d.rule.quote,
            "how": d.explanation,
            "then": list(d.then),
            "held": [g.as_json() for g in self.held],
        }


def schedule(ledger: Backends, now: datetime) -> list[Scheduled]:
    """Every subject's retention entries at ``now``, earliest first."""
    ledger.catch_up()
    projection = SubjectStateProjection()
    found = []
    for subject_id, text in ledger.store.states(projection.name):
        live = {k.key_id: k.retention_class for k in ledger.keys.keys_of(subject_id)}
        if not live:
            continue  # nothing readable left: nothing to erase
        state = projection.load(text)
        for due in retention_schedule(subject_facts(state, live), ledger.catalogs, now):
            catalog = ledger.catalogs.in_force(due.controller, now)
            held = (
                hold_grounds(active_holds(state), catalog, now, {due.retention_class})
                if catalog
                else []
            )
            found.append(Scheduled(due, tuple(held)))
    return sorted(found, key=lambda s: (s.due.due is None, s.due.due or now, s.due.subject_id))


def carry_out(
    ledger: Backends, by: datetime | None = None, *, dry_run: bool = False
) -> list[dict[str, Any]]:
    """Erase every class due by ``by`` (default: the ledger's clock) and not held; one
    report entry per class.

    The keys are destroyed now, by the ledger's clock, and the certificates say so: a
    ``by`` in the past picks what was due by then and reports it late; a ``by`` in the
    future is only for listing (``dry_run``), since nothing may be destroyed before it
    is due."""
    now = ledger.clock()
    by = by or now
    if dry_run:
        return [_planned(item) for item in _due_by(schedule(ledger, by), by)]
    if by > now:
        raise Refused(
            f"retention run: {by.isoformat()} is in the future (the ledger's clock says "
            f"{now.isoformat()}); nothing is destroyed before it is due",
            fix="list what will fall due with `pdl retention due --now T` or "
            "`pdl retention run --dry-run --now T`; run without --now to erase what is due",
        )
    # the run is scheduled (cron): the bound certificates state on backups holds only
    # if expired backup keys are destroyed on time too
    sweep_backup_keys(ledger)
    run_processor(ledger)  # requests a killed run left behind go first
    items = _due_by(schedule(ledger, now), by)
    intake = ledger.intake()
    requested = []
    try:
        for item in (i for i in items if not i.held):
            requested.append(
                (
                    item,
                    intake.prepare(
                        {
                            "type": "ErasureRequested",
                            "subject_id": item.due.subject_id,
                            "controller": item.due.controller,
                            "occurred_at": now.isoformat(),
                            "scope": item.due.scope.model_dump(mode="json", exclude_none=True),
                            "reason": "retention_expiry",
                            "channel": "pdl retention run",
                        }
                    ),
                )
            )
    except EventRejected as exc:
        raise Refused("pdl retention run: " + "; ".join(str(r) for r in exc.rejections)) from None
    if requested:
        intake.append([event for _, event in requested])
    outcomes = {o.request.event_id: o for o in run_processor(ledger)}
    entries = {id(item): item.as_json() for item in items}
    for item in items:
        if item.held:
            entries[id(item)]["action"] = "held"
            RETENTION_ACTIONS.labels(action="hold_kept").inc()
    for item, event in requested:
        entry = entries[id(item)]
        outcome = outcomes.get(event.event_id)
        cert = outcome.certificate if outcome else None
        entry["action"] = "erased" if cert else "pending"
        entry["certificate"] = cert["sequence"] if cert else None
        entry["keys_destroyed"] = len(cert["erased"]["keys_destroyed"]) if cert else 0
        entry["retained"] = [r["retention_class"] for r in cert["retained"]] if cert else []
        entry["erased_at"] = cert["erased_at"] if cert else None
        entry["late_by"] = cert.get("late_by") if cert else None
        if outcome and outcome.problem:
            entry["problem"] = outcome.problem
        RETENTION_ACTIONS.labels(action="shred" if cert else "failed").inc()
    return [entries[id(item)] for item in items]


def _due_by(items: list[Scheduled], by: datetime) -> list[Scheduled]:
    return [s for s in items if s.due.due is not None and s.due.due <= by]


def _planned(item: Scheduled) -> dict[str, Any]:
    """A dry run's entry: what a run at that instant would do."""
    return item.as_json() | {"action": "would be held" if item.held else "would be erased"}
