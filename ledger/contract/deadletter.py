"""Dead letters: records a consumer could not apply, with the reason.

A dead letter points at the bad record (topic, partition, offset) and fingerprints it
rather than copying it, so that a record which happened to carry plaintext personal
data is not copied into one more place.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import ClassVar, Protocol

from pydantic import BaseModel, ConfigDict, Field

from ledger.contract.positions import Located, LogPosition


class BadRecord(Located, Protocol):
    """A record as the log returned it (``ledger.log``'s ``LogRecord``): where, and what."""

    @property
    def value(self) -> bytes: ...


class DeadLetter(BaseModel):
    """A record a consumer could not apply, and why."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    topic_family: ClassVar[str] = "deadletter"

    dead_letter_id: str = Field(description="topic/partition/offset of the bad record: unique.")
    topic: str = Field(description="Topic of the bad record.")
    partition: int = Field(description="Partition of the bad record.")
    offset: int = Field(description="Offset of the bad record.")
    group: str = Field(description="Consumer group that met it.")
    reason: str = Field(description="Why it could not be applied; never contains its content.")
    sha256: str = Field(description="SHA-256 of the record value, to match it without a copy.")
    size: int = Field(description="Length of the record value in bytes.")
    recorded_at: datetime = Field(description="Record time of the bad record.")

    @classmethod
    def type_name(cls) -> str:
        return cls.__name__

    @classmethod
    def of(cls, record: BadRecord, group: str, reason: str, recorded_at: datetime) -> DeadLetter:
        return cls(
            dead_letter_id=str(LogPosition.of(record)),
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            group=group,
            reason=reason,
            sha256=hashlib.sha256(record.value).hexdigest(),
            size=len(record.value),
            recorded_at=recorded_at,
        )
