"""``pdl retention``: what falls due under the catalogs' retention rules, and erasing it."""

from __future__ import annotations

import argparse
from typing import Any

from ledger.cli.common import Subparsers, add_command, instant, open_ledger, say
from ledger.cli.terminal import printable_json, printable_tree
from ledger.service.retention import carry_out, schedule

DESCRIPTION = """\
The retention engine. Each catalog purpose has a rule — a duration from an anchor, then
an action (erase, or anonymise: both destroy the keys, the ledger keeps no anonymised
copy) — possibly ending early on another anchor, possibly followed by a next step.
Anchors are RetentionAnchorRecorded events (the latest counts: a later last_contact
postpones the date), the collection time of values, and consent withdrawals. Keys are
per retention class, so a class falls due when its earliest value does.

  due   list what falls due (subject id, scope, rule quoted, due date) as known at
        --now (default: now; any instant, past or future); --before T keeps those due
        before T; classes under an active legal hold are marked held
  run   append ErasureRequested(reason=retention_expiry) for every class due and not
        held, run the erasure processor, and report what it did. Run it from cron; it
        is idempotent. The keys are destroyed now and the certificates say so, with
        when each erasure was due and how late it is. --now T in the past erases what
        was due by T (now, reported late); T in the future is refused: nothing is
        destroyed before it is due (list it with `due`, or `run --dry-run --now T`)."""

EXAMPLES = """\
  pdl retention due --before 2024-06-01T00:00:00Z
  pdl retention run
  pdl retention run --now 2024-05-04T00:00:00Z --json
  pdl retention run --dry-run --now 2040-01-01T00:00:00Z"""


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
    parser.add_argument(
        "--now",
        type=instant,
        help="due: the instant to list at; run: erase what was due by then (default: now)",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="run: list what it would do, destroy nothing"
    )
    parser.add_argument("--before", type=instant, help="due: only what falls due before this")
    parser.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace) -> int:
    ledger = open_ledger(args)
    now = ledger.clock()
    try:
        if args.action == "due":
            at = args.now or now
            items = [
                s
                for s in schedule(ledger, at)
                if args.before is None or (s.due.due is not None and s.due.due < args.before)
            ]
            report = [s.as_json() for s in items]
        else:
            report = carry_out(ledger, args.now, dry_run=args.dry_run)
    finally:
        ledger.close()
    if args.json:
        print(printable_json(report, indent=2))
    else:
        for e in report:
            print(_line(e))
    if args.action == "run":
        done = sum(1 for e in report if e.get("action") == "erased")
        late = sum(1 for e in report if e.get("late_by"))
        by = f", due by {args.now.isoformat()}" if args.now else ""
        if args.dry_run:
            say(f"pdl retention run --dry-run{by}: {len(report)} due, nothing destroyed")
        else:
            say(
                f"pdl retention run at {now.isoformat()}{by}: {done} erased ({late} late), "
                f"{len(report) - done} not"
            )
    return 0 if all(e.get("action") != "pending" for e in report) else 1


def _line(e: dict[str, Any]) -> str:
    e = printable_tree(e)  # hold reasons others typed: nothing a terminal obeys
    action = f"[{e['action']}] " if "action" in e else ""
    if e.get("late_by"):
        action += f"(late by {e['late_by']}) "
    held = " HELD: " + "; ".join(g["reason"] for g in e["held"]) if e["held"] else ""
    return (
        f"{action}{e['due'] or 'not yet due':<26} {e['subject_id']} {e['scope']} "
        f"(class {e['retention_class']}): {e['rule']} — {e['how']}{held}\n"
        f"    « {e['quote']} »"
    )
