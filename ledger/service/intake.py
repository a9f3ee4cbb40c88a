"""The append path: validate, check policy, then pseudonymise, seal, encode, append.

A batch is all-or-nothing, and a rejected batch leaves no trace: ``prepare`` validates
an event and reads the key store only (a new person gets a *provisional* subject id,
recorded nowhere), and ``append``, given the whole validated batch, records the subject
ids and identity mappings, creates the data keys, seals the personal values and appends
the batch atomically (one SQLite transaction, or one Kafka transaction).

Controllers are tenants: a subject id belongs to the one controller it was first
recorded for (``KeyStore.assign_subject``), and an event naming another controller is
refused (field ``controller``). A natural identifier has one subject id per controller.
A processor's event (``processor`` set) names the controller it acts for, and works in
that controller's subjects and keys.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from pydantic import ValidationError

from consumers.schema_topic import publish
from ledger.contract.events import EVENT_TYPES, DataErased, LedgerEvent, SubjectEvent
from ledger.contract.rejection import EventRejected, Rejection, rejections_from
from ledger.contract.sealed import field_ad
from ledger.contract.secret import Secret
from ledger.contract.topics import Topics
from ledger.contract.vocabulary import LabelCode, label_code
from ledger.contract.walk import personal_fields, replace_personal
from ledger.contract.wire import SchemaRegistry
from ledger.keys.sealing import seal
from ledger.keys.store import DataKey, KeyStore
from ledger.log.base import EventLog, OutgoingRecord
from ledger.policy.catalog import Catalogs
from ledger.policy.check import check, retention_class
from ledger.service.imports import import_rejections
from ledger.service.receipts import EventIdMemory, remembered, remembered_each
from ledger.service.subjects import Subjects
from ledger.service.subjects import normalise_natural_id as normalise_natural_id

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
    #: True: the log already held this event_id (a retry); it was not appended again
    duplicate: bool = False


@dataclass(frozen=True)
class Sealed:
    """An event ready for the log: its record (personal values sealed) and receipt."""

    record: OutgoingRecord
    receipt: Appended


@dataclass(frozen=True)
class Screened:
    """An event validated and checked against the policy, its subject not yet recorded:
    ``natural`` is the identifier (normalised) it named its subject by, whose id was
    found or made provisional, or None when it gave the subject id itself."""

    event: LedgerEvent
    natural: str | None = None


class SizedRecords(Protocol):
    def __len__(self) -> int: ...

    def __iter__(self) -> Iterator[OutgoingRecord]: ...


class SealedSpool(Protocol):
    """Sealed events a caller keeps outside memory until they are appended."""

    def mark_duplicates(self, known: Callable[[Appended], bool]) -> None:
        """Ask ``known`` of every receipt, in order; mark those it says the log holds."""

    def fresh_records(self) -> SizedRecords:
        """The records not marked duplicate, in order, read lazily."""


class Intake:
    def __init__(
        self,
        log: EventLog,
        keys: KeyStore,
        catalogs: Catalogs,
        registry: SchemaRegistry,
        topics: Topics,
        clock: Clock = utc_now,
        event_ids: EventIdMemory | None = None,
        importing: bool = False,
    ) -> None:
        self._log = log
        #: whether the submitter is importing from an older register: only then may
        #: events carry an import claim, and then every one must (``ledger.service.imports``)
        self.importing = importing
        self._event_ids = event_ids
        self._topics = topics
        self._keys = keys
        self._catalogs = catalogs
        self._registry = registry
        self._clock = clock
        self._schemas_published = False
        self._subjects = Subjects(keys)

    def prepare(self, submitted: Mapping[str, Any]) -> LedgerEvent:
        """A validated event from what a producer submitted, or EventRejected. Writes
        nothing: its personal values are still plaintext, and a new person's subject id is
        provisional until ``append`` records it and seals them."""
        return self.screen(submitted).event

    def screen(self, submitted: Mapping[str, Any]) -> Screened:
        """``prepare``, keeping the natural identifier the event named its subject by, so
        that the subject can be resolved again later (``reconfirm``) without validating
        or checking the event again."""
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
        natural = None
        if issubclass(model, SubjectEvent):
            fields["subject_id"], natural = self._subjects.of_submitted(fields)
            self._subjects.refuse_erased(fields["subject_id"])
        try:
            event = model.model_validate(fields)
        except ValidationError as exc:
            raise EventRejected(rejections_from(exc)) from None
        event = _coded_label(event)
        now = self._clock()
        rejections = check(event, self._catalogs, now) + import_rejections(
            event, self.importing, now
        )
        if rejections:
            raise EventRejected(rejections)
        if isinstance(event, SubjectEvent):
            self._subjects.refuse_other_controller(event)
        _refuse_sealed(event)
        return Screened(event, natural)

    def reconfirm(self, screened: Screened) -> LedgerEvent:
        """An event ``screen`` accepted, its subject resolved again against the key store
        as it is now, for ``seal``: another writer may have recorded the person since
        (their id is taken), erased the subject or claimed its id for another controller
        (EventRejected, as ``prepare`` would say now). The event itself was validated and
        checked against the policy by ``screen``, and is not again."""
        event = screened.event
        if not isinstance(event, SubjectEvent):
            return event
        if screened.natural is not None:
            subject_id = self._subjects.known_as(screened.natural, event.controller)
            if subject_id != event.subject_id:
                event = event.model_copy(update={"subject_id": subject_id})
        self._subjects.refuse_erased(event.subject_id)
        self._subjects.refuse_other_controller(event)
        return event

    def append(self, events: Sequence[LedgerEvent]) -> list[Appended]:
        """Append prepared events as one batch; the log stamps their record time. An
        event whose event_id the log already holds is not appended again: its receipt
        says ``duplicate`` (``ledger.service.receipts``)."""
        sealed = self.seal(events)
        self._publish_schemas()
        receipts = [s.receipt for s in sealed]
        with remembered(self._event_ids, receipts) as known:
            fresh = [s.record for s, seen in zip(sealed, known, strict=True) if not seen]
            if fresh:
                self._log.append(fresh)
        return [replace(r, duplicate=seen) for r, seen in zip(receipts, known, strict=True)]

    def seal(self, events: Iterable[LedgerEvent]) -> list[Sealed]:
        """Prepared events as records for the log: their subjects and data keys recorded
        in one key-store batch, their personal values sealed, their values encoded.
        The key store commits before any record reaches the log, so no record is ever
        sealed under a key the store could still lose; keys of a batch the log then
        refuses stay, unused until a retry. Spends the provisional ids ``prepare`` gave."""
        try:
            with self._keys.batch():
                return [self._record_of(self._sealed(self._recorded_subject(e))) for e in events]
        except BaseException:
            self._subjects.forget_recorded()  # it may name subjects of the batch rolled back
            raise
        finally:
            self.forget_provisional(claims=True)

    def append_spooled(self, spool: SealedSpool) -> None:
        """Append a batch ``seal`` made and the caller kept (on disk: ciphertext only) as
        one transaction, streamed from the spool. Duplicates are marked in the spool."""
        self._publish_schemas()
        with remembered_each(self._event_ids) as known:
            spool.mark_duplicates(known)
            fresh = spool.fresh_records()
            if len(fresh):
                self._log.append(fresh)

    def forget_provisional(self, claims: bool = False) -> None:
        """Drop the provisional ids of new people (the identifiers leave memory) and,
        with ``claims``, the controllers claimed for subject ids the store does not know:
        what ``prepare`` remembers between the events of one batch."""
        self._subjects.forget_provisional(claims)

    def _recorded_subject(self, event: LedgerEvent) -> LedgerEvent:
        return self._subjects.recorded(event) if isinstance(event, SubjectEvent) else event

    def _record_of(self, event: LedgerEvent) -> Sealed:
        topic = self._topics.of(event.topic_family)
        type_name = event.type_name()
        key = event.log_key
        value = self._registry.encode(type_name, event.model_dump(mode="python"))
        return Sealed(
            OutgoingRecord(topic, key.encode(), value),
            Appended(event.event_id, type_name, key, topic),
        )

    def _publish_schemas(self) -> None:
        if not self._schemas_published:
            publish(self._log, self._topics, self._registry.current())
            self._schemas_published = True

    def _sealed(self, event: LedgerEvent) -> LedgerEvent:
        if not isinstance(event, SubjectEvent):
            return event  # events about no subject carry no personal fields
        subject_id = event.subject_id
        key: DataKey | None = None  # one event, one retention class: one key for its fields

        def seal_one(path: str, secret: Secret) -> Secret:
            nonlocal key
            if secret.plaintext is None:
                return secret  # sealed already (``prepare`` refuses sealed submissions)
            if key is None:
                key = self._keys.data_key(subject_id, retention_class(event, self._catalogs))
            ad = field_ad(subject_id, event.event_id, path)
            return Secret(sealed=seal(secret.plaintext, key, ad))

        return replace_personal(event, seal_one)


def _coded_label(event: LedgerEvent) -> LedgerEvent:
    """Labels are read in clear (reports, certificates), so they hold a LabelCode. Free
    text a producer puts there is about the person: it moves into the sealed ``note``,
    and the label becomes ``other`` — producers written before the vocabulary keep
    working, and their words are shredded with the subject's keys."""
    name = getattr(type(event), "coded_label", None)
    text = getattr(event, name, None) if name else None
    if name is None or text is None:
        return event
    code = label_code(text)
    if code is not None:
        return event.model_copy(update={name: code.value})
    if getattr(event, "note", None) is not None:
        raise EventRejected(
            [
                Rejection(
                    name,
                    "free text, and note is given too",
                    f"put a code in {name} ({', '.join(c.value for c in LabelCode)}) "
                    "and the free text in note",
                )
            ]
        )
    return event.model_copy(update={name: LabelCode.other.value, "note": Secret(plaintext=text)})


def _refuse_sealed(event: LedgerEvent) -> None:
    """Producers submit plaintext; the ledger seals it (on ``append``)."""
    for path, secret in personal_fields(event):
        if secret.sealed is not None:
            raise EventRejected(
                [Rejection(path, "already sealed bytes", "submit the plaintext value")]
            )


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
