"""Submitting a batch of events: every line validated first, then all appended as one
batch, or none (the all-or-nothing rule of ``pdl emit``, and of every entry point)."""

from __future__ import annotations

import json
from collections.abc import Iterable

from ledger.contract.events import LedgerEvent
from ledger.contract.rejection import EventRejected
from ledger.errors import Refused
from ledger.service.intake import Appended, Intake

MAX_LINE_BYTES = 1 << 20


def submit_lines(intake: Intake, lines: Iterable[str]) -> list[Appended]:
    """Validate every line, then append them all as one batch; Refused lists the problems."""
    events: list[LedgerEvent] = []
    problems: list[str] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            events.append(intake.prepare(_parse(line)))
        except EventRejected as exc:
            problems.extend(f"line {number}: {r}" for r in exc.rejections)
        except ValueError as exc:
            problems.append(f"line {number}: {exc}")
    if problems:
        raise Refused(
            "\n".join([*problems, f"pdl emit: {len(problems)} problem(s); nothing appended"])
        )
    if not events:
        raise Refused("pdl emit: no events in the input; nothing appended")
    return intake.append(events)


def _parse(line: str) -> dict[str, object]:
    if len(line.encode()) > MAX_LINE_BYTES:
        raise ValueError(f"(line): longer than {MAX_LINE_BYTES} bytes — fix: split the event")
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"(line): not valid JSON ({exc.msg} at column {exc.colno}) — "
            "fix: one JSON object per line"
        ) from None
    if not isinstance(obj, dict):
        raise ValueError("(line): not a JSON object — fix: one JSON object per line")
    return obj
