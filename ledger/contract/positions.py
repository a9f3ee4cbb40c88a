"""Where the log holds a record: topic, partition and offset.

Written ``topic/partition/offset`` (``pdl.consent/3/41``) wherever a position leaves
the code: in projection states, certificates, reports, dead letters and messages.
Topic names may not contain ``/``, so the text reads back unambiguously.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ledger.errors import InvalidRequest


class Located(Protocol):
    """Anything that knows where the log holds it: a log record, a recorded event, a
    journal entry."""

    @property
    def topic(self) -> str: ...

    @property
    def partition(self) -> int: ...

    @property
    def offset(self) -> int: ...


@dataclass(frozen=True, order=True)
class LogPosition:
    topic: str
    partition: int
    offset: int

    def __str__(self) -> str:
        return f"{self.topic}/{self.partition}/{self.offset}"

    @classmethod
    def of(cls, located: Located) -> LogPosition:
        return cls(located.topic, located.partition, located.offset)

    @classmethod
    def parse(cls, text: str) -> LogPosition:
        """The position ``str`` wrote; ``InvalidRequest`` for anything else."""
        topic, _, rest = text.rpartition("/")
        topic, _, partition = topic.rpartition("/")
        if not (topic and partition.isdigit() and rest.isdigit()):
            raise InvalidRequest(
                "a log position is not topic/partition/offset",
                fix="write it as pdl prints it, e.g. pdl.consent/3/41",
                field="position",
            )
        return cls(topic, int(partition), int(rest))
