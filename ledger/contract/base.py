"""What every event carries, and the field types events share."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Annotated, ClassVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    model_validator,
)

from ledger.contract.secret import Personal, Secret
from ledger.contract.vocabulary import ScopeKind

PersonalText = Annotated[Secret, Personal()]

#: Identifiers of purposes, categories, controllers: short, stable, machine-readable.
Slug = Annotated[
    str,
    Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$", min_length=1, max_length=64),
]

#: The shape of the pseudonymous subject id the key store assigns: ``sub_`` and 32 hex
#: digits. What matches it is an id; anything else a user types is a natural identifier.
SUBJECT_ID_PATTERN = r"^sub_[0-9a-f]{32}$"
_SUBJECT_ID = re.compile(SUBJECT_ID_PATTERN)

#: The pseudonymous subject id written to the log. Never an e-mail or customer number.
SubjectId = Annotated[str, Field(pattern=SUBJECT_ID_PATTERN)]


def is_subject_id(text: str) -> bool:
    """Whether ``text`` is a subject id (the whole of it, not a natural identifier)."""
    return _SUBJECT_ID.fullmatch(text) is not None


#: Characters that move a terminal's cursor, break a line or reorder text: C0 and C1
#: controls (escape, new line, tab…), DEL, the Unicode line and paragraph separators and
#: the bidirectional overrides and isolates. Labels may not hold them; terminal output
#: escapes them (``ledger.cli.terminal``).
CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")

#: The validation context of events read back from the log: what was recorded before a
#: rule was tightened is still read (it is history), and only new events meet the rule.
RECORDED: Mapping[str, bool] = MappingProxyType({"recorded": True})


def _one_line_of_text(value: str, info: ValidationInfo) -> str:
    if CONTROL_CHARACTERS.search(value) and not (info.context or {}).get("recorded"):
        raise ValueError(
            "a label may not contain control characters (tab, new line, escape, "
            "bidirectional overrides); write it as one line of plain text"
        )
    return value


#: A free-text label (channel, source, system, reason): not personal data, bounded, and
#: one line of plain text, so that it prints as itself in a terminal or a report.
Label = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_one_line_of_text)]

Country = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]


_TIMESTAMP_FIX = "use an ISO 8601 timestamp with a zone, e.g. 2024-03-12T09:30:00Z"
#: an ISO 8601 date and time; the zone is optional here so that its absence gets its own
#: message (pydantic alone would also take epoch numbers, even as strings)
_ISO_DATE_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?P<zone>Z|[+-]\d{2}:?\d{2})?",
    re.IGNORECASE,
)


def _iso_8601(value: object) -> object:
    # epoch numbers are refused: seconds or milliseconds, a number cannot say which, and
    # the docs promise ISO 8601 with a zone
    if isinstance(value, datetime):
        return value  # from Python callers and the wire; the zone is checked after
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError(f"a number is not a timestamp (no epoch times); {_TIMESTAMP_FIX}")
    if not isinstance(value, str):
        raise ValueError(f"a timestamp must be a string; {_TIMESTAMP_FIX}")
    match = _ISO_DATE_TIME.fullmatch(value)
    if match is None:
        raise ValueError(f"not an ISO 8601 date and time; {_TIMESTAMP_FIX}")
    if match.group("zone") is None:
        raise ValueError(f"timestamp has no time zone; {_TIMESTAMP_FIX}")
    return value


def _aware_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"timestamp has no time zone; {_TIMESTAMP_FIX}")
    return value.astimezone(UTC)


#: Every timestamp in the contract: ISO 8601 with a zone, kept in UTC.
AwareDatetime = Annotated[datetime, BeforeValidator(_iso_8601), AfterValidator(_aware_utc)]


def random_uuid_hex() -> str:
    """A random UUID (version 4, RFC 4122 variant) as 32 hex digits, as
    ``uuid.uuid4().hex`` gives it from the same 16 bytes of ``os.urandom``, at a fifth
    of its cost: ``uuid.UUID`` checks what it is given, which fresh random bytes do not
    need, and ids are made per event and per new subject."""
    raw = bytearray(os.urandom(16))
    raw[6] = raw[6] & 0x0F | 0x40  # version 4
    raw[8] = raw[8] & 0x3F | 0x80  # RFC 4122 variant
    return raw.hex()


def new_event_id() -> str:
    """A fresh event id: a random UUID in its usual form, ``str(uuid.uuid4())``."""
    digits = random_uuid_hex()
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Imported(Record):
    """Where an imported event comes from: a claim of the system it was migrated from.

    Record time stays the log's (when the ledger learned the fact, at import); this says
    when the older register says it recorded the fact, for a reader to weigh, never for
    the ledger to date what it knew."""

    source: Slug = Field(
        description="Code of the system the record was imported from, e.g. 'crm-2019'. "
        "A system's name, never personal data."
    )
    recorded_at: AwareDatetime = Field(
        description="When the source system says it recorded the fact (UTC on the wire): "
        "its claim, not the ledger's record time. Not after the import, not before "
        "occurred_at."
    )


class LedgerEvent(Record):
    """Fields every event carries. Record time is not here: it comes from the log."""

    #: Kafka topic family the event is appended to.
    topic_family: ClassVar[str]

    event_id: str = Field(
        default_factory=new_event_id,
        pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
        description="Unique id of this event (UUID). Producers may set it to make retries "
        "idempotent; the ledger generates one otherwise.",
    )
    controller: Slug = Field(
        description="Id of the controller that decides the purposes, as in the policy catalog."
    )
    processor: Slug | None = Field(
        default=None,
        description="Id of the processor acting on the controller's behalf, if one did this.",
    )
    occurred_at: AwareDatetime = Field(
        description="Valid time: when this happened in the world (UTC on the wire)."
    )
    imported: Imported | None = Field(
        default=None,
        description="Set only on an event imported from an older register (`pdl emit "
        "--import`): the system it comes from and when that system recorded it. Null on "
        "everything the ledger learned first-hand.",
    )

    @classmethod
    def type_name(cls) -> str:
        return cls.__name__

    @property
    def log_key(self) -> str:
        """The record key: what orders this event with others in one partition."""
        return self.controller


class SubjectEvent(LedgerEvent):
    """An event about one data subject; keyed and ordered by the subject id."""

    subject_id: SubjectId = Field(
        description="Pseudonymous id of the data subject, assigned by the ledger's key store. "
        "Never a natural identifier."
    )

    @property
    def log_key(self) -> str:
        return self.subject_id


class Scope(Record):
    """What an erasure, restriction or legal hold covers."""

    kind: ScopeKind = Field(description="subject (everything), purpose or category.")
    purpose: Slug | None = Field(default=None, description="The purpose, when kind is purpose.")
    category: Slug | None = Field(
        default=None, description="The data category, when kind is category."
    )

    @model_validator(mode="after")
    def _names_what_kind_needs(self) -> Scope:
        wanted = {
            ScopeKind.subject: (None, None),
            ScopeKind.purpose: ("purpose", None),
            ScopeKind.category: (None, "category"),
        }[self.kind]
        given = ("purpose" if self.purpose else None, "category" if self.category else None)
        if given != wanted:
            needs = [n for n in wanted if n] or ["neither purpose nor category"]
            raise ValueError(
                f"a {self.kind.value} scope takes {' and '.join(needs)}; set exactly those"
            )
        return self

    def label(self) -> str:
        return {
            ScopeKind.subject: "subject",
            ScopeKind.purpose: f"purpose:{self.purpose}",
            ScopeKind.category: f"category:{self.category}",
        }[self.kind]


class CollectedValue(Record):
    """One personal value, with the category it belongs to."""

    field: Slug = Field(description="Name of the value, e.g. 'email', 'last_name', 'phone'.")
    category: Slug = Field(
        description="Data category from the controller's catalog, e.g. 'identity', 'contact'."
    )
    value: PersonalText = Field(description="The value itself. Personal data: ciphertext.")
