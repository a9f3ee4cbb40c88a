"""Closed vocabularies of the contract, shared by events and catalogs.

They are Avro enums on the wire: adding a symbol is a schema change that
``pdl schemas check`` judges like any other.
"""

from __future__ import annotations

from enum import Enum


class LegalBasis(str, Enum):  # noqa: UP042 (str() of members must not change)
    """GDPR Art. 6(1) legal basis."""

    consent = "consent"  # (a)
    contract = "contract"  # (b)
    legal_obligation = "legal_obligation"  # (c)
    vital_interests = "vital_interests"  # (d)
    public_task = "public_task"  # (e)
    legitimate_interest = "legitimate_interest"  # (f)


class RecipientRole(str, Enum):  # noqa: UP042
    """Who receives shared data: a processor acting for the controller, a third party
    (another controller), a public authority, or an internal team."""

    processor = "processor"
    third_party = "third_party"
    authority = "authority"
    internal = "internal"


class TransferSafeguard(str, Enum):  # noqa: UP042
    """GDPR Chapter V ground for a transfer outside the EEA: adequacy decision (Art. 45),
    standard contractual clauses (Art. 46(2)(c)), binding corporate rules (Art. 47), or a
    derogation (Art. 49)."""

    adequacy = "adequacy"
    scc = "scc"
    bcr = "bcr"
    derogation = "derogation"


class ScopeKind(str, Enum):  # noqa: UP042
    """What an erasure, restriction or hold covers: all of the subject's data, one
    purpose's, or one category's."""

    subject = "subject"
    purpose = "purpose"
    category = "category"


class ErasureReason(str, Enum):  # noqa: UP042
    """Why data is erased (GDPR Art. 17(1) grounds, and retention expiry)."""

    request = "request"
    retention_expiry = "retention_expiry"
    consent_withdrawn = "consent_withdrawn"
    objection = "objection"
    unlawful = "unlawful"
    legal_obligation = "legal_obligation"


class ConsentType(str, Enum):  # noqa: UP042
    """How consent was expressed (Kantara Consent Receipt 'consentType')."""

    explicit = "explicit"
    implicit = "implicit"


class LabelCode(str, Enum):  # noqa: UP042
    """Codes for the ``reason`` of restrictions, holds and rectifications and the
    ``grounds`` of objections. These fields are clear text read by regulators and
    certificates, so they hold only a code; anything said about the person goes in the
    event's sealed ``note``. On the wire the fields stay strings (records written before
    the vocabulary hold free text), so this list can grow without a schema release."""

    accuracy_contested = "accuracy_contested"  # Art. 18(1)(a)
    unlawful_processing = "unlawful_processing"  # Art. 18(1)(b)
    legal_claims = "legal_claims"  # Art. 18(1)(c), Art. 17(3)(e)
    objection_pending = "objection_pending"  # Art. 18(1)(d)
    litigation = "litigation"
    accounting = "accounting"
    legal_obligation = "legal_obligation"  # Art. 17(3)(b)
    subject_request = "subject_request"
    data_quality_check = "data_quality_check"
    particular_situation = "particular_situation"  # Art. 21(1)
    direct_marketing = "direct_marketing"  # Art. 21(2)
    resolved = "resolved"
    expired = "expired"
    other = "other"


def label_code(text: str) -> LabelCode | None:
    """The code a label names, tolerant of case, spaces and hyphens ('Accuracy contested'),
    or None when the label is free text."""
    normalised = "_".join(text.strip().lower().replace("-", " ").split())
    try:
        return LabelCode(normalised)
    except ValueError:
        return None
