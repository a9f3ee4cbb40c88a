"""Restriction, erasure and legal holds (topic families ``rights`` and ``erasure``)."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from ledger.contract.base import AwareDatetime, Label, PersonalText, Scope, SubjectEvent
from ledger.contract.vocabulary import ErasureReason

#: A legal hold's id: ``hold_`` and a UUID when the ledger names it, or the id of the
#: ``LegalHoldPlaced`` for holds placed before holds had ids.
HoldId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$", max_length=64)]


class RestrictionApplied(SubjectEvent):
    """Processing of the scope is restricted (GDPR Art. 18): kept, not used."""

    topic_family: ClassVar[str] = "rights"
    #: The label that holds a LabelCode; its free text belongs in the sealed ``note``.
    coded_label: ClassVar[str] = "reason"

    scope: Scope = Field(description="What is restricted.")
    reason: Label = Field(
        description="Art. 18(1) ground as a code (LabelCode), e.g. 'accuracy_contested'; "
        "free text goes in note. Clear free text only in records written before codes."
    )
    note: PersonalText | None = Field(
        default=None,
        description="The restriction's ground, in free text, if any. "
        "Personal data: ciphertext, shredded "
        "with the subject's keys.",
    )


class RestrictionLifted(SubjectEvent):
    """A restriction ends; the subject is told before (Art. 18(3))."""

    topic_family: ClassVar[str] = "rights"
    #: The label that holds a LabelCode; its free text belongs in the sealed ``note``.
    coded_label: ClassVar[str] = "reason"

    scope: Scope = Field(description="What is no longer restricted.")
    reason: Label = Field(
        description="Why the restriction ends, as a code (LabelCode); free text goes in note."
    )
    note: PersonalText | None = Field(
        default=None,
        description="Why the restriction ends, in free text, if any. "
        "Personal data: ciphertext, shredded "
        "with the subject's keys.",
    )


class ErasureRequested(SubjectEvent):
    """Erasure of the scope is asked for: by the subject (Art. 17) or by the ledger itself
    when retention expires or consent is withdrawn. ``controller`` is the controller whose
    data is erased, and must be the subject id's controller."""

    topic_family: ClassVar[str] = "erasure"

    scope: Scope = Field(description="What is to be erased.")
    reason: ErasureReason = Field(description="Why: request, retention_expiry, ...")
    channel: Label | None = Field(default=None, description="How a request was received.")


class DataErased(SubjectEvent):
    """The scope's keys were destroyed: its personal fields are unreadable everywhere.
    Only the keys of the subject id, and so of ``controller``, its one controller: other
    controllers' data about the same person is untouched."""

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
    identity_mapping_destroyed: bool = Field(
        default=False,
        description="Whether the controller's mapping of the natural identifier to this "
        "subject id was destroyed: it goes with the subject's last key at the controller "
        "(a full erasure, or the last class by retention or request). False in erasures "
        "recorded before it was stated; the certificate says it too.",
    )


class LegalHoldPlaced(SubjectEvent):
    """Data in the scope must survive erasure requests (Art. 17(3)) until this hold is
    released or its ``until`` passes. Holds are individual: two holds on one scope (two
    cases) each keep it until each is released."""

    topic_family: ClassVar[str] = "erasure"
    #: The label that holds a LabelCode; its free text belongs in the sealed ``note``.
    coded_label: ClassVar[str] = "reason"

    scope: Scope = Field(description="What is held.")
    reason: Label = Field(
        description="Why, as a code (LabelCode), e.g. 'litigation', 'accounting'; the case "
        "reference and any free text go in note."
    )
    article: Label = Field(description="The exemption relied on, e.g. 'Art. 17(3)(b)'.")
    until: AwareDatetime | None = Field(default=None, description="When the hold lapses.")
    hold_id: HoldId | None = Field(
        default=None,
        description="Names this hold among others on the same scope; its release names it. "
        "Empty only in holds placed before holds had ids: the placing event's id names them.",
    )
    note: PersonalText | None = Field(
        default=None,
        description="Why the data is held (case reference, matter), in free text, if any. "
        "Personal data: ciphertext, shredded "
        "with the subject's keys.",
    )


class LegalHoldReleased(SubjectEvent):
    """A legal hold ends; held data falls back under its retention rules."""

    topic_family: ClassVar[str] = "erasure"
    #: The label that holds a LabelCode; its free text belongs in the sealed ``note``.
    coded_label: ClassVar[str] = "reason"

    scope: Scope = Field(description="What is no longer held.")
    reason: Label = Field(
        description="Why the hold ends, as a code (LabelCode); free text goes in note."
    )
    hold_id: HoldId | None = Field(
        default=None,
        description="The hold released; the other holds on the scope stay. Empty only in "
        "releases written before holds had ids, which released every hold on the scope.",
    )
    note: PersonalText | None = Field(
        default=None,
        description="Why the hold ends, in free text, if any. "
        "Personal data: ciphertext, shredded "
        "with the subject's keys.",
    )
