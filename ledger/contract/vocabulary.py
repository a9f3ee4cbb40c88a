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
