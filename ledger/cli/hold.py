"""``pdl hold``: place, release or list legal holds (Art. 17(3)) on a subject's data."""

from __future__ import annotations

import argparse

from ledger.cli.common import (
    Subparsers,
    add_command,
    instant,
    open_ledger,
    resolve_subject,
    say,
    scope_argument,
)
from ledger.cli.terminal import printable_json, printable_tree
from ledger.erasure.holds import LEGAL_CLAIMS_ARTICLE
from ledger.errors import InvalidRequest
from ledger.service.holds import holds_of, place_hold, release_hold

DESCRIPTION = f"""\
Place a legal hold on a subject's data, release one, or list them. While a hold is in
force, erasure requests and retention expiry leave the held data readable and the
certificate lists it with the hold's reason, article and end (GDPR Art. 17(3)).

Holds are individual: `place` prints the new hold's id, and `release` names the hold it
ends (--hold), so two holds on one scope (two cases) each keep the data until each is
released or its --until passes. Releasing a hold that is unknown or already released is
refused, and so is placing one whose --until has passed.

The scope is the whole subject, one purpose (purpose:P, which holds its whole retention
class) or one category (category:C, which holds every class collecting it). The article
defaults to {LEGAL_CLAIMS_ARTICLE} (legal claims); name 'Art. 17(3)(b)' for a legal
obligation."""

EXAMPLES = """\
  pdl hold place camille.martin@example.fr --scope subject --reason 'litigation 2024-118'
  pdl hold place C-1042 --scope purpose:accounting --reason 'tax audit' \\
      --article 'Art. 17(3)(b)' --until 2026-12-31T00:00:00Z
  pdl hold list C-1042
  pdl hold release C-1042 --hold hold_3f6c1d2e9a8b4c7d --reason 'audit closed'"""


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "hold",
        run,
        "place, release or list legal holds (Art. 17(3))",
        DESCRIPTION,
        EXAMPLES,
    )
    parser.add_argument("action", choices=["place", "release", "list"])
    parser.add_argument("subject", help="subject id (sub_…) or natural identifier")
    parser.add_argument(
        "--scope", type=scope_argument, help="place: subject, purpose:PURPOSE or category:CATEGORY"
    )
    parser.add_argument("--hold", help="release: the id `place` printed (see `list`)")
    parser.add_argument("--reason", help="why, e.g. 'litigation 2024-118'")
    parser.add_argument("--article", help=f"exemption relied on (default {LEGAL_CLAIMS_ARTICLE})")
    parser.add_argument("--until", type=instant, help="when the hold lapses (ISO 8601)")
    parser.add_argument("--controller", help="controller id (default: the only one known)")
    parser.add_argument("--json", action="store_true", help="list: print JSON")


def run(args: argparse.Namespace) -> int:
    _check_arguments(args)
    ledger = open_ledger(args)
    try:
        subject_id = resolve_subject(ledger, args.subject, args.controller)
        if args.action == "list":
            holds = holds_of(ledger, subject_id)
        elif args.action == "place":
            change = place_hold(
                ledger,
                subject_id,
                args.scope,
                args.reason,
                article=args.article,
                until=args.until,
                controller=args.controller,
            )
        else:
            change = release_hold(
                ledger, subject_id, args.hold, args.reason, controller=args.controller
            )
    finally:
        ledger.close()
    if args.action == "list":
        if args.json:
            print(printable_json(holds, indent=2))
        for h in [] if args.json else printable_tree(holds):  # reasons others typed
            until = f" until {h['until']}" if h["until"] else ""
            print(f"{h['hold_id']} {h['status']:<9} {h['scope']}{until}: {h['reason']}")
        return 0
    verb = "placed" if args.action == "place" else "released"
    say(f"pdl hold: {verb} {change.hold_id} on {subject_id} ({change.scope})")
    print(change.hold_id)
    return 0


def _check_arguments(args: argparse.Namespace) -> None:
    needed = {"place": ("scope", "reason"), "release": ("hold", "reason"), "list": ()}
    for name in needed[args.action]:
        if getattr(args, name) is None:
            raise InvalidRequest(
                f"--{name}: `pdl hold {args.action}` needs it",
                fix=f"add --{name} (see `pdl hold --help`)",
                field=name,
            )
