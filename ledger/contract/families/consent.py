"""Consent given and withdrawn, and objections (topic family ``consent``).

Consent records cover what a Kantara Consent Receipt and an ISO/IEC TS 27560 consent
record hold: the purpose, the notice and its version, how and where consent was
collected, its type, the categories and recipients it covers, its expiry, and a proof.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from ledger.contract.base import AwareDatetime, Label, PersonalText, Slug, SubjectEvent
from ledger.contract.vocabulary import ConsentType


class ConsentGiven(SubjectEvent):
    """The subject consented to a purpose (GDPR Art. 6(1)(a), proof kept per Art. 7(1))."""

    topic_family: ClassVar[str] = "consent"

    purpose: Slug = Field(description="Purpose (catalog id) consented to.")
    channel: Label = Field(description="How consent was collected: 'web-form', 'phone'.")
    notice_version: Label = Field(
        description="Version of the privacy notice or consent wording shown to the subject."
    )
    proof_ref: Label | None = Field(
        default=None,
        description="Reference to the stored proof (form submission id, call recording id).",
    )
    consent_type: ConsentType = Field(
        default=ConsentType.explicit, description="explicit or implicit (Kantara consentType)."
    )
    language: Label | None = Field(
        default=None, description="Language of the notice shown, BCP 47 (e.g. 'fr-FR')."
    )
    jurisdiction: Label | None = Field(
        default=None, description="Jurisdiction the consent was collected under, e.g. 'FR'."
    )
    categories: list[Slug] = Field(
        default=[], description="Data categories the consent covers (empty: the purpose's)."
    )
    recipients: list[Slug] = Field(
        default=[], description="Recipients named to the subject when consenting."
    )
    expires_at: AwareDatetime | None = Field(
        default=None, description="When the consent lapses, if the notice says so."
    )
    evidence: PersonalText | None = Field(
        default=None,
        description="Proof captured with the consent that identifies the person (IP address, "
        "signature). Personal data: ciphertext.",
    )


class ConsentWithdrawn(SubjectEvent):
    """The subject withdrew consent to a purpose (GDPR Art. 7(3))."""

    topic_family: ClassVar[str] = "consent"

    purpose: Slug = Field(description="Purpose (catalog id) whose consent is withdrawn.")
    channel: Label = Field(description="How the withdrawal was received.")
    proof_ref: Label | None = Field(
        default=None, description="Reference to the stored proof of withdrawal."
    )


class ObjectionRaised(SubjectEvent):
    """The subject objected to processing for a purpose (GDPR Art. 21); it stops that
    purpose like a withdrawal stops a consent-based one."""

    topic_family: ClassVar[str] = "consent"
    #: The label that holds a LabelCode; its free text belongs in the sealed ``note``.
    coded_label: ClassVar[str] = "grounds"

    purpose: Slug = Field(description="Purpose (catalog id) objected to.")
    channel: Label = Field(description="How the objection was received.")
    grounds: Label | None = Field(
        default=None,
        description="Grounds as a code (LabelCode), e.g. 'particular_situation', if any "
        "(none are needed for marketing); what the subject said goes in note.",
    )
    proof_ref: Label | None = Field(
        default=None, description="Reference to the stored proof of the objection."
    )
    note: PersonalText | None = Field(
        default=None,
        description="The grounds as the subject stated them, in free text, if any. "
        "Personal data: ciphertext, shredded "
        "with the subject's keys.",
    )
