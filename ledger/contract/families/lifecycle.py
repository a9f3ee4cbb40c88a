"""Retention anchors and policy versions (topic families ``retention`` and ``policy``)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from ledger.contract.base import AwareDatetime, Label, LedgerEvent, Slug, SubjectEvent


class RetentionAnchorRecorded(SubjectEvent):
    """Something a retention rule counts from happened: a contact, a contract's start or
    end, a transaction, a request closed, an app connection, a debt settled..."""

    topic_family: ClassVar[str] = "retention"

    anchor: Slug = Field(
        description="The anchor, as the catalog's rules name it: last_contact, "
        "contract_start, contract_end, transaction, request_closed, app_connection, "
        "settlement, last_order, termination, contest_end, request_received."
    )
    purpose: Slug | None = Field(
        default=None, description="Only this purpose's rules move; empty: every rule with it."
    )


class PolicyPublished(LedgerEvent):
    """A version of a controller's policy catalog takes effect. Not about any subject."""

    topic_family: ClassVar[str] = "policy"

    version: Label = Field(description="Catalog version, e.g. '2023-08-01'.")
    effective_from: AwareDatetime = Field(description="When this version takes effect.")
    catalog_sha256: str = Field(
        pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the catalog JSON below."
    )
    catalog_json: str = Field(
        min_length=2, max_length=1_000_000, description="The catalog, as canonical JSON."
    )
