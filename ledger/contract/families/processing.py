"""Data processed for a purpose and shared with recipients (``processing``, ``sharing``)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from ledger.contract.base import Country, Label, Slug, SubjectEvent
from ledger.contract.vocabulary import LegalBasis, RecipientRole, TransferSafeguard


class DataProcessed(SubjectEvent):
    """A subject's data was used for a purpose. The lawfulness projection judges it against
    the basis in force at ``occurred_at``."""

    topic_family: ClassVar[str] = "processing"

    purpose: Slug = Field(description="Purpose (catalog id) of the processing.")
    claimed_basis: LegalBasis = Field(description="The legal basis the system relied on.")
    categories: list[Slug] = Field(min_length=1, description="Data categories used.")
    system: Label = Field(description="System or job that processed it, e.g. 'crm-campaigns'.")


class DataShared(SubjectEvent):
    """A subject's data was disclosed to a recipient, possibly outside the EEA."""

    topic_family: ClassVar[str] = "sharing"

    recipient: Slug = Field(description="Recipient id from the controller's catalog.")
    recipient_role: RecipientRole = Field(description="processor, third_party, authority...")
    country: Country = Field(description="Where the recipient receives it (ISO 3166 alpha-2).")
    safeguard: TransferSafeguard | None = Field(
        default=None, description="Transfer ground, required when country is outside the EEA."
    )
    purpose: Slug = Field(description="Purpose (catalog id) the data was shared for.")
    categories: list[Slug] = Field(min_length=1, description="Data categories shared.")
