"""``pdl retention``: what falls due under the catalogs' retention rules, and erasing it."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ledger.cli.common import Subparsers, add_command, instant, open_ledger, say
from ledger.service.erasure import at_instant
from ledger.service.intake import utc_now
from ledger.service.retention import carry_out, schedule

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


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "retention",
        run,
        "list or erase what retention rules make due",
        DESCRIPTION,
        EXAMPLES,
    )
    parser.add_argument("action", choices=["due", "run"])
    parser.add_argument("--now", type=instant, help="the instant to judge at (default: now)")
    parser.add_argument("--before", type=instant, help="due: only what falls due before this")
    parser.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace) -> int:
    ledger = at_instant(open_ledger(args), args.now or utc_now())
    now = ledger.clock()
    try:
        if args.action == "due":
            items = [
                s
                for s in schedule(ledger, now)
                if args.before is None or (s.due.due is not None and s.due.due < args.before)
            ]
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
