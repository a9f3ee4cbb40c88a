"""What we hold on each subject now: values by category, purposes, consent status.

Order-insensitive: for each value and each consent, the event latest in valid time wins
(event id breaks ties), so any interleaving of topics and partitions gives one state.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from ledger.contract.events import ConsentGiven, ConsentWithdrawn, DataCollected
from projections.base import Projection, Recorded, canonical_json


class HeldValue(BaseModel):
    model_config = ConfigDict(frozen=True, ser_json_bytes="base64", val_json_bytes="base64")

    controller: str
    field: str
    category: str
    sealed: bytes
    path: str
    event_id: str
    subject_id: str
    occurred_at: datetime
    source: str
    purposes: tuple[str, ...]
    position: str


class ConsentStatus(BaseModel):
    model_config = ConfigDict(frozen=True)

    controller: str
    purpose: str
    given: bool
    occurred_at: datetime
    event_id: str
    channel: str
    notice_version: str | None
    position: str


class SubjectState(BaseModel):
    model_config = ConfigDict(frozen=True)

    subject_id: str
    values: dict[str, HeldValue] = {}
    consents: dict[str, ConsentStatus] = {}
    events: int = 0

    @property
    def categories(self) -> list[str]:
        return sorted({v.category for v in self.values.values()})

    @property
    def purposes(self) -> list[str]:
        declared = {p for v in self.values.values() for p in v.purposes}
        return sorted(declared | {c.purpose for c in self.consents.values()})


def _later(new: tuple[datetime, str], old: tuple[datetime, str] | None) -> bool:
    return old is None or new > old


class SubjectStateProjection(Projection[SubjectState]):
    name = "subject_state"

    def key_of(self, recorded: Recorded) -> str | None:
        return recorded.event.subject_id

    def initial(self, key: str) -> SubjectState:
        return SubjectState(subject_id=key)

    def apply(self, state: SubjectState, recorded: Recorded) -> SubjectState:
        event = recorded.event
        counted = state.model_copy(update={"events": state.events + 1})
        if isinstance(event, DataCollected):
            return _collected(counted, event, recorded)
        if isinstance(event, ConsentGiven | ConsentWithdrawn):
            return _consent(counted, event, recorded)
        return counted

    def dump(self, state: SubjectState) -> str:
        return canonical_json(state)

    def load(self, text: str) -> SubjectState:
        return SubjectState.model_validate_json(text)


def _collected(state: SubjectState, event: DataCollected, recorded: Recorded) -> SubjectState:
    values = dict(state.values)
    for i, item in enumerate(event.values):
        assert item.value.sealed is not None, "projections only ever see sealed values"
        slot = f"{event.controller}/{item.field}"
        old = values.get(slot)
        if _later(
            (event.occurred_at, event.event_id),
            None if old is None else (old.occurred_at, old.event_id),
        ):
            values[slot] = HeldValue(
                controller=event.controller,
                field=item.field,
                category=item.category,
                sealed=item.value.sealed,
                path=f"values[{i}].value",
                event_id=event.event_id,
                subject_id=event.subject_id,
                occurred_at=event.occurred_at,
                source=event.source,
                purposes=tuple(event.purposes),
                position=recorded.position,
            )
    return state.model_copy(update={"values": values})


def _consent(
    state: SubjectState, event: ConsentGiven | ConsentWithdrawn, recorded: Recorded
) -> SubjectState:
    slot = f"{event.controller}/{event.purpose}"
    old = state.consents.get(slot)
    if not _later(
        (event.occurred_at, event.event_id),
        None if old is None else (old.occurred_at, old.event_id),
    ):
        return state
    status = ConsentStatus(
        controller=event.controller,
        purpose=event.purpose,
        given=isinstance(event, ConsentGiven),
        occurred_at=event.occurred_at,
        event_id=event.event_id,
        channel=event.channel,
        notice_version=event.notice_version if isinstance(event, ConsentGiven) else None,
        position=recorded.position,
    )
    return state.model_copy(update={"consents": {**state.consents, slot: status}})
