"""``pdl erase``: request erasure (Art. 17) and carry it out, printing the certificate."""

from __future__ import annotations

import argparse
import json

from ledger.cli.common import Subparsers, add_command, open_ledger, resolve_subject, say
from ledger.contract.vocabulary import ErasureReason
from ledger.erasure.certificate import render
from ledger.service.erasure import carry_out, erasure_scope, request_erasure

DESCRIPTION = """\
Erase a subject's data, or one purpose's or one category's, by destroying the keys it
is sealed with (crypto-shredding): every copy — topics, projections, backups, dead
letters — becomes unreadable at once. Appends an ErasureRequested, then runs the
erasure processor until it has carried it out, and prints the signed certificate.
The subject's records are read from its own partition of each topic only, from its
first position (the projections' journal and the dead letters say where that is);
the certificate states per partition the range read and the count and SHA-256 of the
subject's records there, which `pdl verify-erasure` recomputes from the raw log.

Data kept under a legal obligation (catalog purposes on legal_obligation or marked
legal_hold) or under an active legal hold (`pdl hold place`) survives, GDPR Art.
17(3); the certificate lists it with the article and the date it expires.

Controllers are tenants: a person has one subject id per controller, keys are per
subject id (so per controller) and retention class, and an erasure touches only the
named controller's keys (--controller, needed when several know the identifier).
Purposes sharing a class are erased together, and a category scope erases the whole
classes of the purposes collecting it. When the subject's last key at the controller
goes (a whole-subject erasure, or its last class) the controller's natural-identifier
mapping goes too, and the certificate says so; a whole-subject erasure with nothing
retained also fences the subject id: later events about it are refused, and a
returning person gets a new id. Exit status: 0 carried out, 1 refused or not carried
out."""

EXAMPLES = """\
  pdl erase camille.martin@example.fr --reason request
  pdl erase camille.martin@example.fr --purpose newsletter --reason consent_withdrawn
  pdl erase sub_5f0c8a1e9b2d4c6f8a0b1c2d3e4f5a6b --category voice_recording --reason objection
  pdl erase C-1042 --reason request --no-wait     # append the request only"""


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "erase",
        run,
        "erase a subject's data and print the certificate",
        DESCRIPTION,
        EXAMPLES,
    )
    parser.add_argument("subject", help="subject id (sub_…) or natural identifier")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--purpose", help="erase only this purpose's data (and its class's)")
    which.add_argument("--category", help="erase only the classes collecting this category")
    parser.add_argument(
        "--reason",
        required=True,
        choices=[r.value for r in ErasureReason],
        help="Art. 17(1) ground, or retention_expiry",
    )
    parser.add_argument(
        "--controller",
        help="the controller whose data to erase (needed when several know the identifier; "
        "an erasure touches only that controller's keys)",
    )
    parser.add_argument("--channel", help="how the request was received, e.g. 'e-mail to dpo@'")
    parser.add_argument("--no-wait", action="store_true", help="append the request only")
    parser.add_argument("--json", action="store_true", help="print the certificate as JSON")


def run(args: argparse.Namespace) -> int:
    ledger = open_ledger(args)
    try:
        subject_id = resolve_subject(ledger, args.subject, args.controller)
        scope = erasure_scope(args.purpose, args.category)
        request = request_erasure(
            ledger, subject_id, args.reason, scope, args.controller, args.channel
        )
        say(f"pdl erase: erasure requested ({request.event_id})")
        if args.no_wait:
            print(request.event_id)
            return 0
        cert = carry_out(ledger, request)
    finally:
        ledger.close()
    print(json.dumps(cert, indent=2, sort_keys=True) if args.json else render(cert))
    return 0
