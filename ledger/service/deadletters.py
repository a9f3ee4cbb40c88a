"""The dead-letter topic, read back: what consumers could not apply, and why."""

from __future__ import annotations

from ledger.contract.deadletter import DeadLetter
from ledger.contract.positions import LogPosition
from ledger.contract.wire import UndecodableMessage
from ledger.service.backends import Backends


def dead_letters(ledger: Backends) -> list[DeadLetter | str]:
    """Dead letters in log order, each once (a record dead-lettered twice, by a consumer
    restarted before its checkpoint, is one); a string where a dead letter is unreadable."""
    found: dict[str, DeadLetter | str] = {}
    for record in ledger.log.scan([ledger.topics.dead_letter]):
        try:
            _, fields = ledger.registry.decode(record.value)
            letter: DeadLetter | str = DeadLetter.model_validate(fields)
        except (UndecodableMessage, ValueError) as exc:
            letter = f"{LogPosition.of(record)}: unreadable ({exc})"
        key = letter.dead_letter_id if isinstance(letter, DeadLetter) else letter
        found.setdefault(key, letter)
    return list(found.values())
