"""What every event carries, and the field types events share."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, ClassVar
from uuid import uuid4

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

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


#: A free-text label (channel, source, system): not personal data, bounded.
Label = Annotated[str, Field(min_length=1, max_length=200)]

Country = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]


def _aware_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("timestamp has no time zone; add one, e.g. 2024-03-12T09:30:00Z")
    return value.astimezone(UTC)


AwareDatetime = Annotated[datetime, AfterValidator(_aware_utc)]


def new_event_id() -> str:
    return str(uuid4())


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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
