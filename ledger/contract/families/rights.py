"""Restriction, erasure and legal holds (topic families ``rights`` and ``erasure``)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from ledger.contract.base import AwareDatetime, Label, Scope, SubjectEvent
from ledger.contract.vocabulary import ErasureReason


class RestrictionApplied(SubjectEvent):
    """Processing of the scope is restricted (GDPR Art. 18): kept, not used."""

    topic_family: ClassVar[str] = "rights"

    scope: Scope = Field(description="What is restricted.")
    reason: Label = Field(description="Art. 18(1) ground, e.g. 'accuracy contested'.")


class RestrictionLifted(SubjectEvent):
    """A restriction ends; the subject is told before (Art. 18(3))."""

    topic_family: ClassVar[str] = "rights"

    scope: Scope = Field(description="What is no longer restricted.")
    reason: Label = Field(description="Why the restriction ends.")


class ErasureRequested(SubjectEvent):
    """Erasure of the scope is asked for: by the subject (Art. 17) or by the ledger itself
    when retention expires or consent is withdrawn."""

    topic_family: ClassVar[str] = "erasure"

    scope: Scope = Field(description="What is to be erased.")
    reason: ErasureReason = Field(description="Why: request, retention_expiry, ...")
    channel: Label | None = Field(default=None, description="How a request was received.")


class DataErased(SubjectEvent):
    """The scope's keys were destroyed: its personal fields are unreadable everywhere."""

    topic_family: ClassVar[str] = "erasure"

    scope: Scope = Field(description="What was erased.")
    reason: ErasureReason = Field(description="Why it was erased.")
    request_event_id: str | None = Field(
        default=None, description="The ErasureRequested this answers, if any."
    )
    keys_destroyed: list[str] = Field(
        default=[], description="Ids of the data keys destroyed (never key material)."
    )
    certificate: str | None = Field(
        default=None, description="The signed erasure certificate, as JSON text."
    )


class LegalHoldPlaced(SubjectEvent):
    """Data in the scope must survive erasure requests (Art. 17(3)) until released."""

    topic_family: ClassVar[str] = "erasure"

    scope: Scope = Field(description="What is held.")
    reason: Label = Field(description="Why, e.g. 'litigation 2024-118', 'accounting'.")
    article: Label = Field(description="The exemption relied on, e.g. 'Art. 17(3)(b)'.")
    until: AwareDatetime | None = Field(default=None, description="When the hold lapses.")


class LegalHoldReleased(SubjectEvent):
    """A legal hold ends; held data falls back under its retention rules."""

    topic_family: ClassVar[str] = "erasure"

    scope: Scope = Field(description="What is no longer held.")
    reason: Label = Field(description="Why the hold ends.")
