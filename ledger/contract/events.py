"""The events operational systems emit, as pydantic models.

These models are the Python source of truth of the contract: the Avro schemas in
``schemas/`` are generated from them (``pdl schemas generate``) and a test proves the
checked-in files agree. Every field carries a description, which becomes its Avro ``doc``.
Personal fields are typed ``Annotated[Secret, Personal()]``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, ClassVar
from uuid import uuid4

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from ledger.contract.secret import Personal, Secret

PersonalText = Annotated[Secret, Personal()]

#: Identifiers of purposes, categories, controllers: short, stable, machine-readable.
Slug = Annotated[
    str,
    Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$", min_length=1, max_length=64),
]

#: The pseudonymous subject id written to the log. Never an e-mail or customer number.
SubjectId = Annotated[str, Field(pattern=r"^sub_[0-9a-f]{32}$")]


def _aware_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("timestamp has no time zone; add one, e.g. 2024-03-12T09:30:00Z")
    return value.astimezone(UTC)


AwareDatetime = Annotated[datetime, AfterValidator(_aware_utc)]


def new_event_id() -> str:
    return str(uuid4())


class LedgerEvent(BaseModel):
    """Fields every event carries. Record time is not here: it comes from the log."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: Kafka topic family the event is appended to.
    topic_family: ClassVar[str]

    event_id: str = Field(
        default_factory=new_event_id,
        pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
        description="Unique id of this event (UUID). Producers may set it to make retries "
        "idempotent; the ledger generates one otherwise.",
    )
    subject_id: SubjectId = Field(
        description="Pseudonymous id of the data subject, assigned by the ledger's key store. "
        "Never a natural identifier."
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


class CollectedValue(BaseModel):
    """One personal value collected, with the category it belongs to."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    field: Slug = Field(description="Name of the value, e.g. 'email', 'last_name', 'phone'.")
    category: Slug = Field(
        description="Data category from the controller's catalog, e.g. 'identity', 'contact'."
    )
    value: PersonalText = Field(description="The value itself. Personal data: ciphertext.")


class DataCollected(LedgerEvent):
    """Personal data was collected about a subject, for one or more purposes."""

    topic_family: ClassVar[str] = "collection"

    values: list[CollectedValue] = Field(
        min_length=1, max_length=64, description="The values collected, at least one."
    )
    purposes: list[Slug] = Field(
        min_length=1, description="Purposes (catalog ids) the data was collected for."
    )
    source: str = Field(
        min_length=1,
        max_length=200,
        description="Where the data came from: a system, form or channel, e.g. 'web-signup'.",
    )


class ConsentGiven(LedgerEvent):
    """The subject consented to a purpose (GDPR Art. 6(1)(a), proof kept per Art. 7(1))."""

    topic_family: ClassVar[str] = "consent"

    purpose: Slug = Field(description="Purpose (catalog id) consented to.")
    channel: str = Field(
        min_length=1, max_length=100, description="How consent was collected: 'web-form', 'phone'."
    )
    notice_version: str = Field(
        min_length=1,
        max_length=100,
        description="Version of the privacy notice or consent wording shown to the subject.",
    )
    proof_ref: str | None = Field(
        default=None,
        max_length=200,
        description="Reference to the stored proof (form submission id, call recording id).",
    )


class ConsentWithdrawn(LedgerEvent):
    """The subject withdrew consent to a purpose (GDPR Art. 7(3))."""

    topic_family: ClassVar[str] = "consent"

    purpose: Slug = Field(description="Purpose (catalog id) whose consent is withdrawn.")
    channel: str = Field(
        min_length=1, max_length=100, description="How the withdrawal was received."
    )
    proof_ref: str | None = Field(
        default=None, max_length=200, description="Reference to the stored proof of withdrawal."
    )


#: Every event type, by the name producers write in the ``type`` field.
EVENT_TYPES: dict[str, type[LedgerEvent]] = {
    cls.__name__: cls for cls in (DataCollected, ConsentGiven, ConsentWithdrawn)
}
