"""The retention engine: when each subject's data falls due, from the catalog's rules.
Pure functions: facts in, dates out; the clock is an argument.

A rule is *duration from anchor, then action* (``P60D`` from ``collection``, erase),
possibly ending sooner on another anchor (``ends_early_on``) and followed by a next step
(``then``). Anchors come from the subject's ``RetentionAnchorRecorded`` events (the
latest wins, so a later ``last_contact`` postpones the date), from the collection time
of the values, and from consent withdrawals — the rule's own purpose's, or another's
it names (``anchor_purpose``). Anchors a collection implies (a collection
is a contact, a transaction is when an invoice is collected) count from the collection
when no later anchor was recorded; anchors in the future (``contract_end``,
``settlement``...) leave the data not yet due until they are recorded.

Data sealed under one key goes together, so a class falls due when its *earliest* value
does: no value outlives its rule. Purposes sharing a class share one rule (a catalog
test checks it).

Durations are counted by ``ledger.policy.calendar.add_period``: months and years as
calendar periods ending with the promised date in the controller's time zone (Regulation
1182/71, Art. 3), days and hours as elapsed time. Due dates and the anchors explaining
them are expressed in the controller's zone, so ``due.isoformat()`` shows its offset.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from ledger.contract.base import Scope
from ledger.contract.vocabulary import ScopeKind
from ledger.policy.calendar import add_period, parse_period
from ledger.policy.catalog import Catalogs, RetentionRule

#: Anchors that a collection implies happened at least then.
IMPLIED_BY_COLLECTION = frozenset(
    {
        "collection",
        "last_contact",
        "transaction",
        "last_order",
        "contract_start",
        "request_received",
        "app_connection",
        "event",
    }
)


@dataclass(frozen=True)
class Collected:
    """A value the subject still has readable (its key is held), as retention sees it."""

    controller: str
    purposes: tuple[str, ...]
    retention_class: str
    occurred_at: datetime


@dataclass(frozen=True)
class SubjectFacts:
    subject_id: str
    collected: tuple[Collected, ...]
    #: ``anchor/purpose`` or ``anchor/*`` → latest occurrence (subject-state ``anchors``)
    anchors: Mapping[str, datetime]
    #: ``controller/purpose`` → when consent was withdrawn (or the subject objected)
    withdrawn: Mapping[str, datetime]


@dataclass(frozen=True)
class RetentionDue:
    """When one class of one subject falls due, and the rule that says so."""

    subject_id: str
    controller: str
    purpose: str
    retention_class: str
    due: datetime | None
    rule: RetentionRule
    explanation: str
    then: tuple[str, ...] = ()

    @property
    def scope(self) -> Scope:
        return Scope(kind=ScopeKind.purpose, purpose=self.purpose)

    def rule_text(self) -> str:
        rule = self.rule
        early = f", or at {rule.ends_early_on} if sooner" if rule.ends_early_on else ""
        of = f" of {rule.anchor_purpose}" if rule.anchor_purpose else ""
        return f"{rule.duration} from {rule.anchor}{of}{early}, then {rule.action}"


def anchor_time(
    anchor: str, facts: SubjectFacts, controller: str, purpose: str, collected_at: datetime | None
) -> datetime | None:
    """When ``anchor`` last happened for this purpose's data, or None if not yet."""
    if anchor == "consent_withdrawn":
        return facts.withdrawn.get(f"{controller}/{purpose}")
    recorded = [t for k in (f"{anchor}/{purpose}", f"{anchor}/*") if (t := facts.anchors.get(k))]
    if anchor in IMPLIED_BY_COLLECTION and collected_at is not None:
        recorded.append(collected_at)
    return max(recorded) if recorded else None


#: what separates the last instant kept from the due instant (datetime's resolution)
_INSTANT = timedelta(microseconds=1)


def rule_due(
    rule: RetentionRule,
    facts: SubjectFacts,
    controller: str,
    purpose: str,
    collected_at: datetime | None,
    zone: ZoneInfo,
) -> tuple[datetime | None, str]:
    """The due date of one rule for one value in the controller's ``zone``, and how it
    was reached (for people). The anchor is the rule's purpose's own event unless the
    rule names another purpose (``anchor_purpose``: a suppression list counts from the
    newsletter's withdrawal)."""
    anchored = rule.anchor_purpose or purpose
    # another purpose's event is not implied by collecting this purpose's values
    start = anchor_time(
        rule.anchor, facts, controller, anchored, collected_at if anchored == purpose else None
    )
    name = rule.anchor if anchored == purpose else f"{rule.anchor} of {anchored}"
    if start is None:
        due, text = None, f"{rule.duration} from {name} (not recorded yet)"
    else:
        due = add_period(start, rule.duration, zone)
        text = f"{rule.duration} from {name} ({start.astimezone(zone).isoformat()})"
        if parse_period(rule.duration).is_calendar:
            # the due instant is the start of the next day: name the promised date itself
            text += f", kept through {(due - _INSTANT).date().isoformat()} {zone.key}"
    if rule.ends_early_on:
        early = anchor_time(rule.ends_early_on, facts, controller, purpose, None)
        if early is not None and (due is None or early < due):
            due = early.astimezone(zone)
            text = f"{text}; ended early by {rule.ends_early_on} ({due.isoformat()})"
    return due, text


def _then_steps(
    rule: RetentionRule,
    facts: SubjectFacts,
    controller: str,
    purpose: str,
    at: datetime,
    zone: ZoneInfo,
) -> tuple[str, ...]:
    steps = []
    step = rule.then
    while step is not None:
        due, text = rule_due(step, facts, controller, purpose, at, zone)
        when = due.isoformat() if due else "not yet known"
        steps.append(f"then {step.action} at {when} ({text})")
        step = step.then
    return tuple(steps)


def retention_schedule(
    facts: SubjectFacts, catalogs: Catalogs, now: datetime
) -> list[RetentionDue]:
    """One entry per controller and class the subject has readable data in, earliest first
    (entries whose anchor has not happened yet last). Facts later than ``now`` are not
    known yet at ``now`` and are left out."""
    facts = as_of(facts, now)
    best: dict[tuple[str, str], RetentionDue] = {}
    for value in facts.collected:
        catalog = catalogs.in_force(value.controller, now)
        for purpose_id in value.purposes:
            source = catalog
            purpose = source.purpose(purpose_id) if source else None
            if purpose is None:  # retired since: the rule in force at collection applies
                source = catalogs.in_force(value.controller, value.occurred_at)
                purpose = source.purpose(purpose_id) if source else None
            if source is None or purpose is None:
                continue
            rule, zone = purpose.retention, source.controller.zone
            due, text = rule_due(rule, facts, value.controller, purpose_id, value.occurred_at, zone)
            entry = RetentionDue(
                facts.subject_id,
                value.controller,
                purpose_id,
                value.retention_class,
                due,
                rule,
                text,
                _then_steps(rule, facts, value.controller, purpose_id, value.occurred_at, zone),
            )
            slot = (value.controller, value.retention_class)
            if slot not in best or _sooner(entry, best[slot]):
                best[slot] = entry
    return sorted(best.values(), key=_order)


def as_of(facts: SubjectFacts, now: datetime) -> SubjectFacts:
    """The facts as known at ``now``: collections, anchors and withdrawals up to it."""
    return SubjectFacts(
        facts.subject_id,
        tuple(c for c in facts.collected if c.occurred_at <= now),
        {k: t for k, t in facts.anchors.items() if t <= now},
        {k: t for k, t in facts.withdrawn.items() if t <= now},
    )


def due_by(schedule: list[RetentionDue], instant: datetime) -> list[RetentionDue]:
    """The entries due at or before ``instant``."""
    return [d for d in schedule if d.due is not None and d.due <= instant]


def _sooner(a: RetentionDue, b: RetentionDue) -> bool:
    return _order(a) < _order(b)


def _order(d: RetentionDue) -> tuple[int, datetime | str, str, str]:
    # in UTC: two instants of one zone compare by their clocks, wrong in the hour repeated
    # when summer time ends
    return (
        (0, d.due.astimezone(UTC), d.subject_id, d.retention_class)
        if d.due
        else (1, d.subject_id, d.retention_class, d.purpose)
    )
