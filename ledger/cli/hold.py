"""``pdl hold``: place or release a legal hold (Art. 17(3)) on a subject's data."""

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
from ledger.erasure.holds import LEGAL_CLAIMS_ARTICLE
from ledger.service.erasure import append_one, controller_for, subject_state

DESCRIPTION = f"""\
Place a legal hold on a subject's data, or release it. While a hold is active, erasure
requests and retention expiry leave the held data readable and the certificate lists
it with the hold's reason, article and end (GDPR Art. 17(3)). The scope is the whole
subject, one purpose (purpose:P, which holds its whole retention class) or one
category (category:C, which holds every class collecting it). The article defaults to
{LEGAL_CLAIMS_ARTICLE} (legal claims); name 'Art. 17(3)(b)' for a legal obligation.
A hold lapses at --until if given, else when released."""

EXAMPLES = """\
  pdl hold place camille.martin@example.fr --scope subject --reason 'litigation 2024-118'
  pdl hold place C-1042 --scope purpose:accounting --reason 'tax audit' \\
      --article 'Art. 17(3)(b)' --until 2026-12-31T00:00:00Z
  pdl hold release C-1042 --scope purpose:accounting --reason 'audit closed'"""


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "hold",
        run,
        "place or release a legal hold (Art. 17(3))",
        DESCRIPTION,
        EXAMPLES,
    )
    parser.add_argument("action", choices=["place", "release"])
    parser.add_argument("subject", help="subject id (sub_…) or natural identifier")
    parser.add_argument(
        "--scope",
        required=True,
        type=scope_argument,
        help="subject, purpose:PURPOSE or category:CATEGORY",
    )
    parser.add_argument("--reason", required=True, help="why, e.g. 'litigation 2024-118'")
    parser.add_argument("--article", help=f"exemption relied on (default {LEGAL_CLAIMS_ARTICLE})")
    parser.add_argument("--until", type=instant, help="when the hold lapses (ISO 8601)")
    parser.add_argument("--controller", help="controller id (default: the only one known)")


def run(args: argparse.Namespace) -> int:
    ledger = open_ledger(args)
    try:
        subject_id = resolve_subject(ledger, args.subject)
        controller = controller_for(subject_state(ledger, subject_id), args.controller)
        fields = {
            "subject_id": subject_id,
            "controller": controller,
            "occurred_at": ledger.clock().isoformat(),
            "scope": args.scope,
            "reason": args.reason,
        }
        if args.action == "place":
            fields |= {"type": "LegalHoldPlaced", "article": args.article or LEGAL_CLAIMS_ARTICLE}
            if args.until:
                fields["until"] = args.until.isoformat()
        else:
            fields["type"] = "LegalHoldReleased"
        event = append_one(ledger, fields)
    finally:
        ledger.close()
    say(f"pdl hold: {fields['type']} on {subject_id} ({_label(args.scope)})")
    print(event.event_id)
    return 0


def _label(scope: dict[str, str]) -> str:
    name = scope.get("purpose") or scope.get("category")
    return f"{scope['kind']}:{name}" if name else scope["kind"]
