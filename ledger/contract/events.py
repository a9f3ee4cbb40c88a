"""The events operational systems emit, as pydantic models: the contract's source of truth.

The Avro schemas in ``schemas/events/`` are generated from these models
(``pdl schemas generate``) and a test proves the checked-in files agree. Every field has
a description, which becomes its Avro ``doc``. Personal fields are
``Annotated[Secret, Personal()]`` and are ciphertext on the wire.
"""

from __future__ import annotations

from ledger.contract.base import (
    AwareDatetime,
    CollectedValue,
    LedgerEvent,
    PersonalText,
    Scope,
    Slug,
    SubjectEvent,
    SubjectId,
    new_event_id,
)
from ledger.contract.families.collection import DataCollected, DataRectified
from ledger.contract.families.consent import ConsentGiven, ConsentWithdrawn, ObjectionRaised
from ledger.contract.families.lifecycle import PolicyPublished, RetentionAnchorRecorded
from ledger.contract.families.processing import DataProcessed, DataShared
from ledger.contract.families.requests import REQUEST_EVENTS
from ledger.contract.families.rights import (
    DataErased,
    ErasureRequested,
    LegalHoldPlaced,
    LegalHoldReleased,
    RestrictionApplied,
    RestrictionLifted,
)

#: Every event type, by the name producers write in the ``type`` field.
EVENT_TYPES: dict[str, type[LedgerEvent]] = {
    cls.__name__: cls
    for cls in (
        DataCollected,
        DataRectified,
        ConsentGiven,
        ConsentWithdrawn,
        ObjectionRaised,
        DataProcessed,
        DataShared,
        RestrictionApplied,
        RestrictionLifted,
        ErasureRequested,
        DataErased,
        LegalHoldPlaced,
        LegalHoldReleased,
        RetentionAnchorRecorded,
        PolicyPublished,
    )
} | {cls.__name__: cls for cls in REQUEST_EVENTS}

__all__ = [
    "EVENT_TYPES",
    "AwareDatetime",
    "CollectedValue",
    "ConsentGiven",
    "ConsentWithdrawn",
    "DataCollected",
    "DataErased",
    "DataProcessed",
    "DataRectified",
    "DataShared",
    "ErasureRequested",
    "LedgerEvent",
    "LegalHoldPlaced",
    "LegalHoldReleased",
    "ObjectionRaised",
    "PersonalText",
    "PolicyPublished",
    "RestrictionApplied",
    "RestrictionLifted",
    "RetentionAnchorRecorded",
    "Scope",
    "Slug",
    "SubjectEvent",
    "SubjectId",
    "new_event_id",
]
