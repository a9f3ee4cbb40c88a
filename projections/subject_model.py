"""The state the ``subject_state`` projection keeps on one subject, and its parts: what
each slot holds and which event says so (``Evidence``).

Only the shapes live here; the fold that fills them is ``projections/subject_state.py``.
Their JSON is the stored state text: a renamed or reordered field changes every stored
state, and needs the projection's ``revision`` bumped.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from projections.base import Recorded


class Evidence(BaseModel):
    """Which event says so, and where the log holds it."""

    model_config = ConfigDict(frozen=True)

    event_id: str
    occurred_at: datetime
    position: str

    @classmethod
    def of(cls, recorded: Recorded) -> Evidence:
        e = recorded.event
        return cls(event_id=e.event_id, occurred_at=e.occurred_at, position=recorded.position)

    def newer_than(self, other: Evidence | None) -> bool:
        return other is None or (self.occurred_at, self.event_id) > (
            other.occurred_at,
            other.event_id,
        )


class HeldValue(BaseModel):
    model_config = ConfigDict(frozen=True, ser_json_bytes="base64", val_json_bytes="base64")

    controller: str
    field: str
    category: str
    sealed: bytes
    path: str
    subject_id: str
    source: str
    purposes: tuple[str, ...]
    rectified: bool
    evidence: Evidence


class SealedUnder(BaseModel):
    """The first value sealed under one key: retention counts from the earliest one, even
    when a newer value of the same field has replaced it in ``values``."""

    model_config = ConfigDict(frozen=True)

    controller: str
    purposes: tuple[str, ...]
    first_at: datetime


class ConsentStatus(BaseModel):
    model_config = ConfigDict(frozen=True)

    controller: str
    purpose: str
    status: Literal["given", "withdrawn", "objected"]
    channel: str
    notice_version: str | None
    evidence: Evidence


class Share(BaseModel):
    model_config = ConfigDict(frozen=True)

    recipient: str
    role: str
    country: str
    safeguard: str | None
    purposes: tuple[str, ...]
    first_at: datetime
    last_at: datetime
    #: the latest share (valid time, then event id) says the role, country and safeguard
    last_event_id: str


class SealedNote(BaseModel):
    """The free-text ``note`` of a restriction or hold event, sealed like a collected
    value: only a reader with the subject's keys opens it, and shredding them erases it."""

    model_config = ConfigDict(frozen=True, ser_json_bytes="base64", val_json_bytes="base64")

    sealed: bytes
    #: the event whose ``note`` it is: with the subject id, the sealing's associated data
    event_id: str


class ScopedStatus(BaseModel):
    """A restriction or legal hold on a scope: active or not, latest event wins."""

    model_config = ConfigDict(frozen=True)

    scope: str
    active: bool
    reason: str
    note: SealedNote | None = None
    article: str | None = None
    until: datetime | None = None
    evidence: Evidence


class LegalHold(ScopedStatus):
    """One legal hold, by its id: placed, and perhaps released. ``evidence`` is its latest
    event; ``active`` says whether it still protects its scope (``until`` aside)."""

    hold_id: str
    #: the ``LegalHoldPlaced``; None while only its release has been applied
    placed: Evidence | None = None
    released: Evidence | None = None


class Erasure(BaseModel):
    model_config = ConfigDict(frozen=True)

    scope: str
    reason: str
    done: bool
    keys_destroyed: tuple[str, ...]
    evidence: Evidence


class Processing(BaseModel):
    model_config = ConfigDict(frozen=True)

    purpose: str
    count: int
    last_at: datetime


class SubjectState(BaseModel):
    model_config = ConfigDict(frozen=True)

    subject_id: str
    values: dict[str, HeldValue] = {}
    sealed_under: dict[str, SealedUnder] = {}
    consents: dict[str, ConsentStatus] = {}
    recipients: dict[str, Share] = {}
    restrictions: dict[str, ScopedStatus] = {}
    #: hold id → hold: holds are individual, several may protect one scope
    holds: dict[str, LegalHold] = {}
    #: scope → latest release naming no hold (written before holds had ids): it released
    #: every hold on the scope placed before it, even one applied after it
    scope_releases: dict[str, Evidence] = {}
    erasures: dict[str, Erasure] = {}
    processing: dict[str, Processing] = {}
    anchors: dict[str, datetime] = {}
    events: int = 0

    @property
    def categories(self) -> list[str]:
        return sorted({v.category for v in self.values.values()})

    @property
    def purposes(self) -> list[str]:
        declared = {p for v in self.values.values() for p in v.purposes}
        return sorted(declared | {c.purpose for c in self.consents.values()})
