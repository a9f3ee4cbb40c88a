"""``pdl retention``: what falls due under the catalogs' retention rules, and erasing it."""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from consumers.metrics import RETENTION_ACTIONS
from ledger.cli.common import Failure, Subparsers, add_command, open_ledger, say
from ledger.cli.erasure_support import at_instant, instant, run_processor
from ledger.config import Ledger
from ledger.contract.rejection import EventRejected
from ledger.erasure.facts import active_holds, subject_facts
from ledger.erasure.holds import RetentionGround, hold_grounds
from ledger.erasure.retention import RetentionDue, retention_schedule
from ledger.intake import utc_now
from projections.subject_state import SubjectStateProjection

DESCRIPTION = """\
The retention engine. Each catalog purpose has a rule — a duration from an anchor, then
an action (erase, or anonymise: both destroy the keys, the ledger keeps no anonymised
copy) — possibly ending early on another anchor, possibly followed by a next step.
Anchors are RetentionAnchorRecorded events (the latest counts: a later last_contact
postpones the date), the collection time of values, and consent withdrawals. Keys are
per retention class, so a class falls due when its earliest value does.

  due   list what falls due (subject id, scope, rule quoted, due date); --before T
        keeps those due before T; classes under an active legal hold are marked held
  run   append ErasureRequested(reason=retention_expiry) for every class due at --now
        (default: the current time) and not held, run the erasure processor, and
        report what it did. Run it from cron; it is idempotent."""

EXAMPLES = """\
  pdl retention due --before 2024-06-01T00:00:00Z
  pdl retention run
  pdl retention run --now 2024-05-04T00:00:00Z --json"""


@dataclass(frozen=True)
class Scheduled:
    due: RetentionDue
    #: active legal holds keeping the class (catalog obligations are rules of their own)
    held: tuple[RetentionGround, ...]

    def as_json(self) -> dict[str, Any]:
        d = self.due
        return {
            "subject_id": d.subject_id, "controller": d.controller, "scope": d.scope.label(),
            "retention_class": d.retention_class,
            "due": d.due.isoformat() if d.due else None, "rule": d.rule_text(),
            "quote": d.rule.quote, "how": d.explanation, "then": list(d.then),
            "held": [g.as_json() for g in self.held],
        }  # fmt: skip


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers, "retention", run, "list or erase what retention rules make due",
        DESCRIPTION, EXAMPLES,
    )  # fmt: skip
    parser.add_argument("action", choices=["due", "run"])
    parser.add_argument("--now", type=instant, help="the instant to judge at (default: now)")
    parser.add_argument("--before", type=instant, help="due: only what falls due before this")
    parser.add_argument("--json", action="store_true", help="print JSON")


def schedule(ledger: Ledger, now: datetime) -> list[Scheduled]:
    """Every subject's retention entries at ``now``, earliest first."""
    ledger.runner().catch_up()
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
                if catalog else []
            )  # fmt: skip
            found.append(Scheduled(due, tuple(held)))
    return sorted(found, key=lambda s: (s.due.due is None, s.due.due or now, s.due.subject_id))


def carry_out(ledger: Ledger, now: datetime) -> list[dict[str, Any]]:
    """Erase every class due at ``now`` and not held; one report entry per class."""
    run_processor(ledger)  # requests a killed run left behind go first
    items = [s for s in schedule(ledger, now) if s.due.due is not None and s.due.due <= now]
    intake = ledger.intake()
    requested = []
    try:
        for item in (i for i in items if not i.held):
            requested.append((item, intake.prepare({
                "type": "ErasureRequested", "subject_id": item.due.subject_id,
                "controller": item.due.controller, "occurred_at": now.isoformat(),
                "scope": item.due.scope.model_dump(mode="json", exclude_none=True),
                "reason": "retention_expiry", "channel": "pdl retention run",
            })))  # fmt: skip
    except EventRejected as exc:
        raise Failure("pdl retention run: " + "; ".join(str(r) for r in exc.rejections)) from None
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
        if outcome and outcome.problem:
            entry["problem"] = outcome.problem
        RETENTION_ACTIONS.labels(action="shred" if cert else "failed").inc()
    return [entries[id(item)] for item in items]


def run(args: argparse.Namespace) -> int:
    ledger = at_instant(open_ledger(args), args.now or utc_now())
    now = ledger.clock()
    try:
        if args.action == "due":
            items = [
                s for s in schedule(ledger, now)
                if args.before is None or (s.due.due is not None and s.due.due < args.before)
            ]  # fmt: skip
            report = [s.as_json() for s in items]
        else:
            report = carry_out(ledger, now)
    finally:
        ledger.close()
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        for e in report:
            print(_line(e))
    if args.action == "run":
        done = sum(1 for e in report if e.get("action") == "erased")
        say(f"pdl retention run at {now.isoformat()}: {done} erased, {len(report) - done} not")
    return 0 if all(e.get("action") != "pending" for e in report) else 1


def _line(e: dict[str, Any]) -> str:
    action = f"[{e['action']}] " if "action" in e else ""
    held = " HELD: " + "; ".join(g["reason"] for g in e["held"]) if e["held"] else ""
    return (
        f"{action}{e['due'] or 'not yet due':<26} {e['subject_id']} {e['scope']} "
        f"(class {e['retention_class']}): {e['rule']} — {e['how']}{held}\n"
        f"    « {e['quote']} »"
    )
