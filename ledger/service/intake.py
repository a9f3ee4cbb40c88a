"""The append path: validate, pseudonymise, check policy, seal, encode, append.

A batch is all-or-nothing: every event is prepared (and so validated) before any is
appended, and the log appends the batch atomically (one SQLite transaction, or one
Kafka transaction).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from consumers.schema_topic import publish
from ledger.contract.events import EVENT_TYPES, DataErased, LedgerEvent, SubjectEvent
from ledger.contract.rejection import EventRejected, Rejection, rejections_from
from ledger.contract.sealed import field_ad
from ledger.contract.secret import Secret
from ledger.contract.topics import Topics
from ledger.contract.walk import replace_personal
from ledger.contract.wire import SchemaRegistry
from ledger.keys.sealing import seal
from ledger.keys.store import KeyStore
from ledger.log.base import EventLog, OutgoingRecord
from ledger.policy.catalog import Catalogs
from ledger.policy.check import check, retention_class

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Appended:
    event_id: str
    type_name: str
    #: the record key: the subject id, or the controller for events about no subject
    key: str
    topic: str


class Intake:
    def __init__(
        self,
        log: EventLog,
        keys: KeyStore,
        catalogs: Catalogs,
        registry: SchemaRegistry,
        topics: Topics,
        clock: Clock = utc_now,
    ) -> None:
        self._log = log
        self._topics = topics
        self._keys = keys
        self._catalogs = catalogs
        self._registry = registry
        self._clock = clock
        self._schemas_published = False

    def prepare(self, submitted: Mapping[str, Any]) -> LedgerEvent:
        """A validated, sealed event from what a producer submitted, or EventRejected."""
        fields = dict(submitted)
        model = _event_type(fields.pop("type", None))
        if model is DataErased:
            raise EventRejected(
                [
                    Rejection(
                        "type",
                        "DataErased is written only by the erasure processor, with its "
                        "signed certificate",
                        "submit ErasureRequested (or run `pdl erase`)",
                    )
                ]
            )
        if issubclass(model, SubjectEvent):
            fields["subject_id"] = self._subject_id(fields)
            self._refuse_erased(fields["subject_id"])
        try:
            event = model.model_validate(fields)
        except ValidationError as exc:
            raise EventRejected(rejections_from(exc)) from None
        rejections = check(event, self._catalogs, self._clock())
        if rejections:
            raise EventRejected(rejections)
        return self._sealed(event)

    def append(
        self, events: Sequence[LedgerEvent], record_time: datetime | None = None
    ) -> list[Appended]:
        """Append prepared events as one batch. ``record_time`` is for imports and tests."""
        stamp = None if record_time is None else int(record_time.timestamp() * 1000)
        records = []
        receipts = []
        for event in events:
            topic = self._topics.of(event.topic_family)
            value = self._registry.encode(event.type_name(), event.model_dump(mode="python"))
            records.append(OutgoingRecord(topic, event.log_key.encode(), value, stamp))
            receipts.append(Appended(event.event_id, event.type_name(), event.log_key, topic))
        if not self._schemas_published:
            publish(self._log, self._topics, self._registry.current())
            self._schemas_published = True
        self._log.append(records)
        return receipts

    def _refuse_erased(self, subject_id: Any) -> None:
        """The erasure fence: nothing more is recorded about a fully erased subject id."""
        if isinstance(subject_id, str) and self._keys.is_erased_subject(subject_id):
            raise EventRejected(
                [
                    Rejection(
                        "subject_id",
                        "this subject was fully erased (Art. 17); its id is fenced",
                        "a returning person is a new subject: submit the natural identifier as "
                        "subject, and the ledger assigns a new id",
                    )
                ]
            )

    def _subject_id(self, fields: dict[str, Any]) -> Any:
        natural = fields.pop("subject", None)
        given = fields.get("subject_id")
        if natural is not None and given is not None:
            raise EventRejected(
                [
                    Rejection(
                        "subject",
                        "both subject and subject_id given",
                        "give the natural identifier as subject, "
                        "or the pseudonymous id as subject_id",
                    )
                ]
            )
        if natural is None:
            if given is None:
                raise EventRejected(
                    [
                        Rejection(
                            "subject",
                            "no subject",
                            "add subject (e-mail or customer number; the ledger pseudonymises it) "
                            "or subject_id (sub_…)",
                        )
                    ]
                )
            return given
        if not isinstance(natural, str) or not natural.strip():
            raise EventRejected(
                [
                    Rejection(
                        "subject",
                        "must be a non-empty string",
                        "give the e-mail or customer number as a string",
                    )
                ]
            )
        return self._keys.subject_for(normalise_natural_id(natural))

    def _sealed(self, event: LedgerEvent) -> LedgerEvent:
        if not isinstance(event, SubjectEvent):
            return event  # events about no subject carry no personal fields
        subject_id = event.subject_id
        key_class: str | None = None

        def seal_one(path: str, secret: Secret) -> Secret:
            nonlocal key_class
            if secret.sealed is not None:
                raise EventRejected(
                    [Rejection(path, "already sealed bytes", "submit the plaintext value")]
                )
            assert secret.plaintext is not None
            key_class = key_class or retention_class(event, self._catalogs)
            key = self._keys.data_key(subject_id, key_class)
            ad = field_ad(subject_id, event.event_id, path)
            return Secret(sealed=seal(secret.plaintext, key, ad))

        return replace_personal(event, seal_one)


def _event_type(name: Any) -> type[LedgerEvent]:
    if name is None:
        raise EventRejected(
            [Rejection("type", "missing", f"add type, one of: {', '.join(EVENT_TYPES)}")]
        )
    model = EVENT_TYPES.get(name) if isinstance(name, str) else None
    if model is None:
        raise EventRejected(
            [Rejection("type", "unknown event type", f"use one of: {', '.join(EVENT_TYPES)}")]
        )
    return model


def normalise_natural_id(natural: str) -> str:
    """E-mail addresses compare case-insensitively; other identifiers are kept as given."""
    natural = natural.strip()
    return natural.lower() if "@" in natural else natural
