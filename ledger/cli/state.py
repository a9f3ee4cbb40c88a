"""``pdl state``: what the ledger holds on one subject now, decrypted for the reader."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

from ledger.cli.common import Subparsers, add_command, instant, open_ledger
from ledger.cli.terminal import printable_tree
from ledger.errors import InvalidRequest
from ledger.service.queries import subject_view

DESCRIPTION = """\
Print the current state of one subject: data categories held and their values
(decrypted with the subject's keys; "[erased]" where the keys were shredded), purposes,
and consent status per purpose with its evidence (event id and log position).

Before reading, the projections catch up with everything appended so far (unless
--no-catch-up), so `pdl emit` followed by `pdl state` needs no running consumer.
With --at T it shows the state at a past instant, folded from the events valid by T;
add --known-at K to count only the events the ledger had recorded by K.

A person has one subject id per controller (controllers are tenants): a natural
identifier known to several controllers needs --controller, and the answer names them."""

EXAMPLES = """\
  pdl state camille.martin@example.fr
  pdl state sub_5f0c8a1e9b2d4c6f8a0b1c2d3e4f5a6b --json
  pdl state camille.martin@example.fr --at 2024-04-01 --known-at 2024-04-01
  pdl state camille.martin@example.fr --controller informatique70
  pdl --log kafka://127.0.0.1:9092 state C-1042"""


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers, "state", run, "print what is held on one subject now", DESCRIPTION, EXAMPLES
    )
    parser.add_argument("subject", help="subject id (sub_…) or natural identifier")
    parser.add_argument(
        "--controller",
        help="the controller whose record to show (needed when several know the identifier)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.add_argument(
        "--at", type=instant, help="the state at this past instant (valid time, ISO 8601)"
    )
    parser.add_argument("--known-at", type=instant, help="with --at: as the ledger knew it then")
    parser.add_argument(
        "--no-catch-up",
        action="store_true",
        help="read the projections as they are, without consuming first",
    )


def run(args: argparse.Namespace) -> int:
    ledger = open_ledger(args)
    try:
        at, known_at = args.at, args.known_at
        if known_at is not None and at is None:
            raise InvalidRequest("--known-at goes with --at", field="--known-at")
        view = subject_view(
            ledger, args.subject, not args.no_catch_up, at, known_at, args.controller
        )
    finally:
        ledger.close()
    print(json.dumps(view, indent=2, ensure_ascii=False) if args.json else render(view))
    return 0


def render(view: dict[str, Any]) -> str:
    view = printable_tree(view)  # values others typed, decrypted: nothing a terminal obeys
    lines = [
        f"subject     {view['subject_id']}",
        f"events      {view['events']}",
        f"categories  {', '.join(view['categories']) or '-'}",
        f"purposes    {', '.join(view['purposes']) or '-'}",
        "",
        "data held",
    ]
    for v in view["values"]:
        lines.append(f"  {v['category']:<16} {v['field']:<16} {v['value']}")
        lines.append(
            f"  {'':<16} {'':<16} for {', '.join(v['purposes'])}; from {v['source']}"
            f" on {v['occurred_at']} ({v['position']})"
        )
    lines += _section(
        "consent",
        view["consents"],
        lambda c: (
            f"{c['purpose']:<20} {c['status']:<10} since {c['occurred_at']} via {c['channel']} "
            f"({c['position']}, event {c['event_id']})"
        ),
    )
    lines += _section(
        "shared with",
        view["recipients"],
        lambda r: (
            f"{r['recipient']:<20} {r['role']:<12} {r['country']} "
            f"{r['safeguard'] or ''} for {', '.join(r['purposes'])}, last {r['last_at']}"
        ),
    )
    for name in ("restrictions", "holds"):
        lines += _section(
            name,
            view[name],
            lambda s: (
                f"{s['scope']:<20} {'active' if s['active'] else 'lifted':<10} {s['reason']} "
                f"{s['article'] or ''} ({s['position']})"
            ),
        )
    lines += _section(
        "erasures",
        view["erasures"],
        lambda e: (
            f"{e['scope']:<20} {'erased' if e['done'] else 'requested':<10} {e['reason']} "
            f"on {e['occurred_at']} ({e['position']})"
        ),
    )
    return "\n".join(lines)


def _section(
    title: str, items: list[dict[str, Any]], line: Callable[[dict[str, Any]], str]
) -> list[str]:
    if not items and title not in ("consent",):
        return []
    return ["", title, *(f"  {line(item)}" for item in items)] if items else ["", title, "  -"]
