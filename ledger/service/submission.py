"""Submitting a batch of events: every line validated first, then all appended as one
batch, or none (the all-or-nothing rule of ``pdl emit``, and of every entry point)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NoReturn

from ledger.contract.events import LedgerEvent
from ledger.contract.rejection import EventRejected
from ledger.errors import Refused
from ledger.service.intake import Appended, Intake, Screened
from ledger.service.spools import Receipts, Scratch, ScreenedSpool

MAX_LINE_BYTES = 1 << 20


def submit_lines(intake: Intake, lines: Iterable[bytes | str]) -> Receipts:
    """Validate every line, then append them all as one batch; Refused lists the problems.
    Lines are bytes as read from a file (decoded here, line by line) or text.

    Memory stays bounded whatever the input's size: a first pass validates and checks
    each line, and keeps the validated events on disk encrypted under a key held only in
    memory (``ScreenedSpool``) and their event ids in a scratch file; nothing is written
    to the key store or the log unless every line passes. A second pass reads the events
    back in chunks, resolves their subjects again against the key store (another writer
    may have recorded a person meanwhile), records subjects and keys (one key-store batch
    per chunk), seals and encodes, and spools the sealed records (ciphertext only); the
    log then takes them in one transaction, streamed from that spool. Each event is
    validated once: the event_id the first pass checked is the one appended."""
    with Scratch.created() as scratch:
        with ScreenedSpool.created(scratch.directory) as spool:
            count = _screened(intake, lines, spool, scratch)
            if not count:
                raise Refused("pdl emit: no events in the input; nothing appended")
            chunk: list[LedgerEvent] = []
            for number, screened in spool.events():
                chunk.append(_reconfirmed(intake, screened, number))
                if len(chunk) == CHUNK:
                    scratch.add(intake.seal(chunk))
                    chunk = []
            if chunk:
                scratch.add(intake.seal(chunk))
        intake.append_spooled(scratch)
        return scratch.receipts()


#: Events prepared, sealed and spooled together in the second pass: what memory holds.
CHUNK = 1_000
#: Problems a refused input lists one by one; the count says how many there were.
LISTED = 1_000


def _screened(
    intake: Intake, lines: Iterable[bytes | str], spool: ScreenedSpool, scratch: Scratch
) -> int:
    """The first pass: every line validated and checked, the events spooled, nothing
    recorded. Returns how many events the input holds; Refused lists the problems."""
    problems: list[str] = []
    found = 0
    events = 0
    for number, line in enumerate(lines, start=1):
        if line.strip():
            try:
                screened = intake.screen(_parse(line))
                first = scratch.first_line_of(screened.event.event_id, number)
                if first != number:
                    raise ValueError(
                        f"event_id: the same as line {first}'s — fix: give each event its own "
                        "event_id (a retry of the whole file is fine: it appends nothing again)"
                    )
            except EventRejected as exc:
                found += len(exc.rejections)
                problems.extend(f"line {number}: {r}" for r in exc.rejections)
            except ValueError as exc:
                found += 1
                problems.append(f"line {number}: {exc}")
            else:
                events += 1
                if not found:  # once a line is refused nothing is appended: keep no more
                    spool.keep(number, screened)
            del problems[LISTED:]
        if number % CHUNK == 0:
            # new people's provisional ids are not needed past their own line here
            intake.forget_provisional()
    intake.forget_provisional(claims=True)
    if found:
        more = [f"... and {found - LISTED} more"] if found > LISTED else []
        raise Refused(
            "\n".join([*problems, *more, f"pdl emit: {found} problem(s); nothing appended"])
        )
    return events


def _reconfirmed(intake: Intake, screened: Screened, number: int) -> LedgerEvent:
    """An event the first pass accepted, its subject resolved again for sealing. Refused
    only if another writer changed the key store in between (the subject erased, or its
    id claimed for another controller meanwhile)."""
    try:
        return intake.reconfirm(screened)
    except EventRejected as exc:
        problems = [f"line {number}: {r}" for r in exc.rejections]
    raise Refused(
        "\n".join(
            [
                *problems,
                "pdl emit: the key store changed while the input was being appended; "
                "nothing appended",
            ]
        ),
        "re-run the same command: it is validated again against the store as it is now",
    )


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
    if _may_nest_deep_or_hold_surrogates(line):
        _check_values(obj)
    return obj


#: A JSON escape of a UTF-16 surrogate (\ud800 to \udfff).
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _may_nest_deep_or_hold_surrogates(text: str) -> bool:
    """Whether the values parsed from ``text`` need ``_check_values``' walk: a line with
    at most MAX_DEPTH brackets cannot nest deeper, and one with no surrogate, escaped
    or raw, cannot hold a lone one. Most lines need no walk."""
    if text.count("{") + text.count("[") > MAX_DEPTH or _SURROGATE_ESCAPE.search(text):
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


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
