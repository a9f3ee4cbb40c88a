"""Submitting a batch of events: every line validated first, then all appended as one
batch, or none (the all-or-nothing rule of ``pdl emit``, and of every entry point)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NoReturn

from ledger.contract.events import LedgerEvent
from ledger.contract.rejection import EventRejected
from ledger.errors import Refused
from ledger.service.intake import Appended, Intake

MAX_LINE_BYTES = 1 << 20


def submit_lines(intake: Intake, lines: Iterable[bytes | str]) -> list[Appended]:
    """Validate every line, then append them all as one batch; Refused lists the problems.
    Lines are bytes as read from a file (decoded here, line by line) or text."""
    events: list[LedgerEvent] = []
    problems: list[str] = []
    lines_of: dict[str, int] = {}  # event_id → the line that gave it
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            event = intake.prepare(_parse(line))
            first = lines_of.setdefault(event.event_id, number)
            if first != number:
                raise ValueError(
                    f"event_id: the same as line {first}'s — fix: give each event its own "
                    "event_id (a retry of the whole file is fine: it appends nothing again)"
                )
            events.append(event)
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


#: How deep objects and arrays may nest in one event: events nest three or four levels;
#: a deeper line is a mistake or an attack (json.loads recurses, and 5,000 levels
#: overflow its stack).
MAX_DEPTH = 32


def _parse(line: bytes | str) -> dict[str, object]:
    """One line as a JSON object, or ValueError saying what is wrong with it and the fix.
    Bytes are decoded as UTF-8, strictly: a file in another encoding is refused, not
    guessed at."""
    if isinstance(line, bytes):
        if len(line) > MAX_LINE_BYTES:
            raise ValueError(f"(line): longer than {MAX_LINE_BYTES} bytes — fix: split the event")
        try:
            line = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValueError(
                f"(line): not UTF-8 at byte {exc.start + 1} — fix: encode the file as UTF-8"
            ) from None
    elif len(line.encode("utf-8", "surrogatepass")) > MAX_LINE_BYTES:
        raise ValueError(f"(line): longer than {MAX_LINE_BYTES} bytes — fix: split the event")
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"(line): not valid JSON ({exc.msg} at column {exc.colno}) — "
            "fix: one JSON object per line"
        ) from None
    except RecursionError:
        _refuse_deep()  # nested far deeper than MAX_DEPTH
    except ValueError:  # json.loads's other refusal: an integer of thousands of digits
        raise ValueError(
            "(line): a number too long to read — fix: no event field takes a number that long"
        ) from None
    if not isinstance(obj, dict):
        raise ValueError("(line): not a JSON object — fix: one JSON object per line")
    _check_values(obj)
    return obj


def _check_values(obj: dict[str, object]) -> None:
    """Refuse nesting deeper than MAX_DEPTH, and strings no UTF-8 text can hold (a lone
    surrogate escape such as \\ud800), before anything recurses into the event or
    encodes it. Iterative, so a deep line cannot overflow this check either."""
    pending: list[tuple[object, int]] = [(obj, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict):
            if depth > MAX_DEPTH:
                _refuse_deep()
            pending.extend((k, depth) for k in value)
            pending.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            if depth > MAX_DEPTH:
                _refuse_deep()
            pending.extend((v, depth + 1) for v in value)
        elif isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError(
                    "(line): a string holds an unpaired surrogate escape (\\ud800-\\udfff) — "
                    "fix: escape the whole character, or write it as UTF-8"
                ) from None


def _refuse_deep() -> NoReturn:
    raise ValueError(
        f"(line): objects and arrays nested more than {MAX_DEPTH} levels deep — "
        "fix: flatten the event (see docs/EVENTS.md for its fields)"
    )


@dataclass(frozen=True)
class BatchProblem:
    """Why one event of a batch was refused: its index (from 0), the field, the rule and
    the fix — never the value sent."""

    index: int
    field: str
    rule: str
    fix: str


class BatchRejected(Refused):
    """Some events of a batch were refused, so none was appended; ``problems`` lists
    every one."""

    def __init__(self, problems: list[BatchProblem]) -> None:
        listed = [f"event {p.index}: {p.field}: {p.rule} — fix: {p.fix}" for p in problems]
        super().__init__(
            "\n".join([*listed, f"{len(problems)} problem(s) in the batch; nothing appended"])
        )
        self.problems = problems


def submit_events(
    intake: Intake, submitted: Sequence[object], controllers: frozenset[str] | None = None
) -> list[Appended]:
    """Validate every parsed event (JSON objects, as from ``json.loads``), then append
    them all as one batch, or none: BatchRejected lists every problem by index. With
    ``controllers``, an event for any other controller is refused before anything about
    it is looked up (the scope of an API token). The entry point for already parsed
    events: ``pdl serve``'s ``POST /v1/events`` and ``ledger.service.api``."""
    events: list[LedgerEvent] = []
    problems: list[BatchProblem] = []
    first_of: dict[str, int] = {}  # event_id → the index that gave it
    for index, obj in enumerate(submitted):
        if not isinstance(obj, dict):
            problems.append(
                BatchProblem(index, "(event)", "not a JSON object", "give each event as an object")
            )
            continue
        if controllers is not None and obj.get("controller") not in controllers:
            problems.append(
                BatchProblem(
                    index,
                    "controller",
                    "outside the controllers this caller may write for",
                    "send it with a token scoped to its controller",
                )
            )
            continue
        try:
            _check_values(obj)
            event = intake.prepare(obj)
        except EventRejected as exc:
            problems.extend(BatchProblem(index, r.field, r.rule, r.fix) for r in exc.rejections)
            continue
        except ValueError as exc:
            rule, _, fix = str(exc).removeprefix("(line): ").partition(" — fix: ")
            problems.append(BatchProblem(index, "(event)", rule, fix))
            continue
        first = first_of.setdefault(event.event_id, index)
        if first != index:
            problems.append(
                BatchProblem(
                    index,
                    "event_id",
                    f"the same as event {first}'s",
                    "give each event its own event_id (a retry of the whole batch is fine)",
                )
            )
            continue
        events.append(event)
    if problems:
        raise BatchRejected(problems)
    if not events:
        raise Refused("no events in the batch; nothing appended", "send at least one event")
    return intake.append(events)
