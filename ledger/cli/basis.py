"""``pdl basis``: the legal basis of a purpose for a subject at an instant, with evidence."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ledger.cli.common import Subparsers, add_command, open_ledger, resolve_subject
from ledger.service.queries import basis_answer, parse_instant
from projections.lawfulness import BasisAnswer, Judgement

DESCRIPTION = """\
Answer "on what legal basis was purpose P of subject S processed at instant T, as the
ledger knew it at instant K?" (K defaults to now). Valid time is when things happened;
record time is when the ledger learned them: a withdrawal phoned in on day 40 and
recorded on day 45 counts from day 40, but only for questions asked as known at day 45
or later. Prints the basis (or none, and why), its interval in valid time, the
record-time interval during which the ledger gave this answer, the evidence (event ids
and log positions), and every processing of the purpose judged as known then and now."""

EXAMPLES = """\
  pdl basis camille.martin@example.fr newsletter --at 2024-03-15
  pdl basis camille.martin@example.fr newsletter --at 2024-04-12T08:00Z --known-at 2024-04-12
  pdl basis sub_5f0c8a1e9b2d4c6f8a0b1c2d3e4f5a6b marketing --at 2024-03-15 --json"""


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "basis",
        run,
        "the legal basis of a purpose for a subject at an instant",
        DESCRIPTION,
        EXAMPLES,
    )
    parser.add_argument("subject", help="subject id (sub_…) or natural identifier")
    parser.add_argument("purpose", help="purpose id from the controller's catalog")
    parser.add_argument("--at", required=True, help="the instant asked about (ISO 8601)")
    parser.add_argument("--known-at", help="as the ledger knew it then (default: now)")
    parser.add_argument("--controller", help="the controller, if several have this purpose")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")


def run(args: argparse.Namespace) -> int:
    ledger = open_ledger(args)
    try:
        subject_id = resolve_subject(ledger, args.subject)
        ledger.runner().catch_up()
        answer, judgements = basis_answer(
            ledger,
            subject_id,
            args.purpose,
            parse_instant(args.at, "--at"),
            parse_instant(args.known_at, "--known-at") if args.known_at else None,
            args.controller,
        )
    finally:
        ledger.close()
    view = {
        "subject_id": subject_id,
        "purpose": args.purpose,
        **answer_view(answer),
        "processing": [judgement_view(j) for j in judgements],
    }
    print(json.dumps(view, indent=2) if args.json else render(view))
    return 0


def _iso(value: Any) -> str | None:
    return None if value is None else str(value.isoformat())


def answer_view(a: BasisAnswer) -> dict[str, Any]:
    return {
        "at": _iso(a.at),
        "known_at": _iso(a.known_at),
        "basis": a.status.basis,
        "reason": a.status.reason,
        "catalog_version": a.status.catalog_version,
        "valid_from": _iso(a.valid_from),
        "valid_to": _iso(a.valid_to),
        "believed_from": _iso(a.believed_from),
        "believed_until": _iso(a.believed_until),
        "evidence": [
            {
                "event_id": f.event_id,
                "kind": f.kind,
                "occurred_at": _iso(f.valid_at),
                "recorded_at": _iso(f.recorded_at),
                "position": f.position,
            }
            for f in a.status.evidence
        ],
    }


def judgement_view(j: Judgement) -> dict[str, Any]:
    return {
        "event_id": j.processed.event_id,
        "occurred_at": _iso(j.processed.valid_at),
        "recorded_at": _iso(j.processed.recorded_at),
        "position": j.processed.position,
        "claimed_basis": j.processed.claimed_basis,
        "system": j.processed.system,
        "verdict_then": j.verdict_then,
        "reason_then": j.then.status.reason,
        "verdict_now": j.verdict_now,
        "reason_now": j.now.status.reason,
        "note": j.note,
        "evidence_now": [f.event_id for f in j.now.status.evidence],
    }


def render(v: dict[str, Any]) -> str:
    lines = [
        f"subject    {v['subject_id']}",
        f"purpose    {v['purpose']}",
        f"at         {v['at']} (as known at {v['known_at']})",
        f"basis      {v['basis'] or 'none'}: {v['reason']}",
        f"valid      from {v['valid_from'] or 'the beginning'} to {v['valid_to'] or 'now'}",
        f"believed   from {v['believed_from'] or 'the beginning'} "
        f"until {v['believed_until'] or 'now'} (record time)",
        "evidence",
        *(
            f"  {e['kind']:<18} {e['occurred_at']} recorded {e['recorded_at']} "
            f"{e['position']} event {e['event_id']}"
            for e in v["evidence"]
        ),
    ]
    if not v["evidence"]:
        lines.append("  the catalog alone" if v["basis"] else "  -")
    lines.append("processing")
    for j in v["processing"]:
        lines.append(
            f"  {j['occurred_at']} {j['position']} by {j['system']}: "
            f"{j['verdict_then']} as known then, {j['verdict_now']} now "
            f"({j['reason_now']})" + (f"; {j['note']}" if j["note"] else "")
        )
    if not v["processing"]:
        lines.append("  -")
    return "\n".join(lines)
