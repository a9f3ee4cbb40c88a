"""What every projection is: a named, keyed, pure fold over recorded events."""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from ledger.contract.canonical import projection_version_text
from ledger.contract.events import LedgerEvent
from ledger.contract.positions import LogPosition

S = TypeVar("S")
M = TypeVar("M", bound=BaseModel)


def changed(state: M, update: dict[str, Any]) -> M:
    """``state.model_copy(update=update)`` for the folds' frozen states, without its
    general bookkeeping (copying private and extra attributes these models do not have):
    a fold copies its state once per event. Like ``model_copy``, nothing is validated:
    the folds put in only values of the fields' types."""
    new = object.__new__(type(state))
    fields = dict(state.__dict__)
    fields.update(update)
    object.__setattr__(new, "__dict__", fields)
    fields_set = state.__pydantic_fields_set__ | update.keys()
    object.__setattr__(new, "__pydantic_fields_set__", fields_set)
    object.__setattr__(new, "__pydantic_extra__", None)
    object.__setattr__(new, "__pydantic_private__", None)
    return new


@dataclass(frozen=True)
class Recorded:
    """An event as the log recorded it: valid time is in the event, record time here."""

    event: LedgerEvent
    topic: str
    partition: int
    offset: int
    recorded_at: datetime

    @cached_property  # every projection's evidence names it: written once per record
    def position(self) -> str:
        return str(LogPosition.of(self))


class Projection(ABC, Generic[S]):
    """A fold of recorded events into per-key state. Implementations do no I/O."""

    #: Stable name: the store keeps state under it; renaming one means a rebuild.
    name: str

    #: Bump when ``apply`` changes meaning without the state's shape changing (a changed
    #: shape changes ``version`` by itself). Stores built with another version refuse
    #: to run until rebuilt.
    revision: int = 1

    def version(self) -> str:
        """Name, revision and the state model's JSON schema, digested."""
        (base,) = [
            b
            for b in getattr(type(self), "__orig_bases__", ())
            if getattr(b, "__origin__", None) is Projection
        ]
        (state_type,) = base.__args__
        schema = state_type.model_json_schema() if issubclass(state_type, BaseModel) else {}
        text = projection_version_text(self.name, self.revision, schema)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @abstractmethod
    def key_of(self, recorded: Recorded) -> str | None:
        """Which state this event changes, or None if the projection ignores it."""

    @abstractmethod
    def initial(self, key: str) -> S:
        """State before any event."""

    @abstractmethod
    def apply(self, state: S, recorded: Recorded) -> S:
        """The state after ``recorded``. Must not mutate ``state``."""

    @abstractmethod
    def dump(self, state: S) -> str:
        """``projection_state_text`` of the state; personal values stay sealed (base64
        ciphertext)."""

    @abstractmethod
    def load(self, text: str) -> S:
        """Inverse of ``dump``."""
