"""``pdl requests``: requests from people exercising their rights (GDPR Art. 12, 15–22)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ledger.cli.common import Subparsers, add_command, instant, open_ledger, say
from ledger.cli.terminal import printable_json
from ledger.contract.families.requests import RefusalGround
from ledger.errors import InvalidRequest, NotFound
from ledger.reports.request_answers import answer
from ledger.service import requests as rq
from ledger.service.backends import Backends

DESCRIPTION = """\
Record a request from a person (access, rectification, erasure, restriction,
portability, objection, post-mortem directive) and follow it to its answer.

A request is due one calendar month after receipt, in the controller's time zone (Art.
12(3)): received on 31 January, due when the last day of February ends. `extend` moves
it to three months from receipt, once, with the reason. A catalog whose notice makes an
identity check a condition (bpost) refuses `answer` until `verify-identity` is recorded.

`answer` records the answer and produces it: for access, the Art. 15 report as HTML in
French or English (--language); for portability, the JSON export of what the person
provided (docs/schemas/portability.schema.json); for erasure, the link to its
certificate. For erasure, rectification and restriction it lists the recipients to tell
(Art. 19); record each with `notify`."""

EXAMPLES = """\
  pdl requests receive camille.martin@example.fr --controller informatique70 \\
      --kind access --channel e-mail --at 2024-01-31T10:00:00+01:00
  pdl requests list
  pdl requests due
  pdl requests show req_3f6c… --controller informatique70
  pdl requests extend req_3f6c… --reason 'three archives to search'
  pdl requests verify-identity req_3f6c… --method 'identity card, number masked'
  pdl requests answer req_3f6c… --language fr --out acces.html
  pdl requests notify req_3f6c… --recipient sendinblue --channel API"""

ACTIONS = (
    "receive",
    "list",
    "due",
    "show",
    "verify-identity",
    "reject-identity",
    "extend",
    "refuse",
    "withdraw",
    "answer",
    "notify",
)


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "requests",
        run,
        "requests from people: receive, follow, answer (Art. 12, 15-22)",
        DESCRIPTION,
        EXAMPLES,
    )
    parser.add_argument("action", choices=ACTIONS)
    parser.add_argument(
        "target",
        nargs="?",
        help="receive: the person (natural identifier or sub_…); else the request id",
    )
    parser.add_argument("--controller", help="controller id (default: the one the id is known to)")
    parser.add_argument("--kind", choices=rq.request_kinds(), help="receive: the right exercised")
    parser.add_argument("--channel", help="receive, notify: how, e.g. 'e-mail'")
    parser.add_argument("--details", help="receive: what the person wrote (sealed)")
    parser.add_argument("--id", dest="request_id", help="receive: your reference for it")
    parser.add_argument("--at", type=instant, help="when it happened (default: now)")
    parser.add_argument("--reason", help="extend, reject-identity, refuse, withdraw: why")
    parser.add_argument("--method", help="verify-identity: how the identity was checked")
    parser.add_argument(
        "--ground", choices=[g.value for g in RefusalGround], help="refuse: Art. 12(5) ground"
    )
    parser.add_argument("--recipient", help="notify: recipient id from the catalog")
    parser.add_argument(
        "--language", choices=["en", "fr"], default="en", help="answer: access report language"
    )
    parser.add_argument("--out", type=Path, help="answer: write the document to this file")
    parser.add_argument("--json", action="store_true", help="print JSON")


_NEEDS = {
    "receive": ("target", "controller", "kind", "channel"),
    "show": ("target",),
    "verify-identity": ("target", "method"),
    "reject-identity": ("target", "reason"),
    "extend": ("target", "reason"),
    "refuse": ("target", "ground", "reason"),
    "withdraw": ("target",),
    "answer": ("target",),
    "notify": ("target", "recipient", "channel"),
}

_FACTS = {
    "verify-identity": ("RequestIdentityVerified", {"method": "method"}),
    "reject-identity": ("RequestIdentityRejected", {"reason": "reason"}),
    "extend": ("RequestExtended", {"reason": "reason"}),
    "refuse": ("RequestRefused", {"ground": "ground", "explanation": "reason"}),
    "withdraw": ("RequestWithdrawn", {"reason": "reason"}),
    "notify": ("RecipientNotified", {"recipient": "recipient", "channel": "channel"}),
}


def run(args: argparse.Namespace) -> int:
    for name in _NEEDS.get(args.action, ()):
        if getattr(args, name) is None:
            flag = "REQUEST" if name == "target" else f"--{name}"
            raise InvalidRequest(
                f"{flag}: `pdl requests {args.action}` needs it",
                fix="see `pdl requests --help`",
                field=name,
            )
    ledger = open_ledger(args)
    try:
        return _run(ledger, args)
    finally:
        ledger.close()


def _run(ledger: Backends, args: argparse.Namespace) -> int:
    now = ledger.clock()
    if args.action == "receive":
        request_id = rq.receive(
            ledger,
            args.controller,
            args.target,
            args.kind,
            args.channel,
            args.at,
            args.details,
            args.request_id,
        )
        state = rq.request_state(ledger, args.controller, request_id)
        due = rq.request_view(ledger, state, now)["due_at"]
        say(f"pdl requests: received {request_id}, due {due}")
        print(request_id)
        return 0
    if args.action in ("list", "due"):
        found = rq.requests(ledger, args.controller)
        views = [rq.request_view(ledger, s, now) for s in found]
        if args.action == "due":
            views = sorted((v for v in views if v["status"] == "open"), key=lambda v: v["due_at"])
        if args.json:
            print(printable_json(views, indent=2))
            return 0
        for v in views:
            late = " OVERDUE" if v["overdue"] else ""
            print(
                f"{v['controller']} {v['request_id']} {v['kind']:<21} {v['status']:<9} "
                f"due {v['due_at']}{late}"
            )
        return 0
    controller = _controller_of(ledger, args.target, args.controller)
    if args.action == "show":
        state = rq.request_state(ledger, controller, args.target)
        shown = rq.request_view(ledger, state, now)
        shown["recipients_to_notify"] = rq.recipients_to_notify(ledger, state)
        print(printable_json(shown, indent=2))
        return 0
    if args.action == "answer":
        done = answer(ledger, controller, args.target, args.language)
        document = done.document
        if document is not None:
            text = document if isinstance(document, str) else json.dumps(document, indent=2)
            if args.out is not None:
                args.out.write_text(text, "utf-8")
                say(f"pdl requests: wrote {args.out} ({done.media_type})")
            else:
                say("pdl requests: the document is not printed (personal data); use --out FILE")
        print(printable_json(done.summary(), indent=2))
        return 0
    type_name, fields = _FACTS[args.action]
    state = rq.record(
        ledger,
        controller,
        args.target,
        type_name,
        at=args.at,
        **{field: getattr(args, option) for field, option in fields.items()},
    )
    print(printable_json(rq.request_view(ledger, state, now), indent=2))
    return 0


def _controller_of(ledger: Backends, request_id: str, given: str | None) -> str:
    if given:
        return given
    known = sorted({s.controller for s in rq.requests(ledger) if s.request_id == request_id})
    if len(known) == 1:
        return known[0]
    raise NotFound(
        f"request: {request_id} is "
        + (f"a request of {', '.join(known)}" if known else "no request received")
        + " — fix: name its controller with --controller (see `pdl requests list`)"
    )
