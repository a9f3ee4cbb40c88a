"""What every report is read under: the instant T, the knowledge horizon K, the log
positions the projections had reached, and whether personal fields are opened.

A report states its positions (the projection store's checkpoints after catch-up), so
anyone holding the same log can rebuild the projections to those positions and get the
same report, byte for byte. It states the erasure register's head at those positions
too (the last certificate's SHA-256 and the count): a regulator who keeps a report can
later check that no certificate was removed from the register's end
(``pdl certificates verify --expect-head --expect-count``). No wall-clock time goes
into a report: when K is not given the report is "as known at the stated positions" and
says ``known_at: null``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from ledger.contract.positions import LogPosition
from ledger.erasure.chain import StoredCertificate, register_head
from ledger.errors import InvalidRequest, NotFound
from ledger.log.base import TopicPartition
from ledger.service.backends import Backends
from ledger.service.certificates import stored_register
from ledger.service.queries import applied_positions
from ledger.service.views import iso as iso_utc
from ledger.service.views import open_field, open_value
from projections.subject_state import HeldValue

#: "As known at": everything the log holds up to the stated positions.
EVERYTHING = datetime.max.replace(tzinfo=UTC)
#: What the regulator's view shows in place of a personal value.
WITHHELD = "[withheld]"


class Audience(str, Enum):  # noqa: UP042 (str() of members must not change)
    """Who reads the report: the DPO sees personal fields decrypted, a regulator does not."""

    dpo = "dpo"
    regulator = "regulator"


class ReportRequestError(InvalidRequest):
    """A request a report cannot answer: names the field, the reason and the fix."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}", field=field)


class SubjectNotFound(NotFound):
    """The subject has no events in the ledger as of the report's instant."""


@dataclass(frozen=True)
class Reading:
    ledger: Backends
    at: datetime
    known_at: datetime | None
    positions: Mapping[TopicPartition, int]
    audience: Audience

    @property
    def horizon(self) -> datetime:
        """The record-time limit: K, or everything recorded up to the positions."""
        return self.known_at if self.known_at is not None else EVERYTHING

    @property
    def decrypts(self) -> bool:
        return self.audience is Audience.dpo

    def held_value(self, held: HeldValue) -> str:
        """A held value for this audience: plaintext, ``[erased]`` or ``[withheld]``."""
        return open_value(held, self.ledger.keys) if self.decrypts else WITHHELD

    def personal(self, sealed: bytes | None, subject_id: str, event_id: str, path: str) -> str:
        """A sealed field of an event for this audience (``None`` stays empty)."""
        if sealed is None:
            return ""
        if not self.decrypts:
            return WITHHELD
        return open_field(sealed, self.ledger.keys, subject_id, event_id, path)


def open_reading(
    ledger: Backends,
    at: datetime | None = None,
    known_at: datetime | None = None,
    audience: Audience = Audience.dpo,
    catch_up: bool = True,
) -> Reading:
    """Catch the projections up (unless told not to) and fix T, K and the positions."""
    if catch_up:
        ledger.catch_up()
    return Reading(
        ledger=ledger,
        at=utc(at if at is not None else ledger.clock()),
        known_at=None if known_at is None else utc(known_at),
        positions=applied_positions(ledger),
        audience=audience,
    )


def utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def iso(value: datetime | None) -> str | None:
    """An instant as ISO 8601 in UTC, or None; ``EVERYTHING`` is None too."""
    return None if value == EVERYTHING else iso_utc(value)


def certificates_within(reading: Reading) -> list[StoredCertificate]:
    """The register's records below the report's positions (what the report may see)."""
    found = []
    for stored in stored_register(reading.ledger):
        at = LogPosition.parse(stored.position)
        if at.offset < reading.positions.get(TopicPartition(at.topic, at.partition), 0):
            found.append(stored)
    return found


def envelope(
    reading: Reading,
    report: str,
    title: str,
    article: str,
    parameters: Mapping[str, str | None],
    body: Mapping[str, Any],
) -> dict[str, Any]:
    """The fields every report has, then its own."""
    return {
        "report": report,
        "title": title,
        "article": article,
        "at": iso(reading.at),
        "known_at": iso(reading.known_at),
        "positions": {
            f"{tp.topic}/{tp.partition}": n for tp, n in sorted(reading.positions.items())
        },
        "personal_fields": "decrypted" if reading.decrypts else "withheld",
        "register_head": register_head(certificates_within(reading)).as_json(),
        "parameters": dict(parameters),
        **body,
    }
