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
from ledger.keys.store import DataKey, KeyStore, SubjectOfAnotherController
from ledger.log.base import EventLog, OutgoingRecord
from ledger.policy.catalog import Catalogs
from ledger.policy.check import check, retention_class
from ledger.service.imports import import_rejections
from ledger.service.receipts import EventIdMemory, remembered, remembered_each

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


class SizedRecords(Protocol):
    def __len__(self) -> int: ...

    def __iter__(self) -> Iterator[OutgoingRecord]: ...


class SealedSpool(Protocol):
    """Sealed events a caller keeps outside memory until they are appended."""

    def mark_duplicates(self, known: Callable[[Appended], bool]) -> None:
        """Ask ``known`` of every receipt, in order; mark those it says the log holds."""

    def fresh_records(self) -> SizedRecords:
        """The records not marked duplicate, in order, read lazily."""


#: How many (subject id, controller) pairs an intake remembers as recorded: a cache of
#: key-store reads, cleared when it grows past this.
_RECORDED_KEPT = 20_000


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
        #: provisional subject ids of new people, until ``append`` records them:
        #: (controller, natural identifier) → id, and id → (controller, identifier)
        self._provisional: dict[tuple[str, str], str] = {}
        self._identity_of: dict[str, tuple[str, str]] = {}
        #: subject ids the key store has recorded for the controller named with them
        self._recorded: set[tuple[str, str]] = set()
        #: subject ids the key store does not know yet → the controller named with them
        self._claimed: dict[str, str] = {}
        #: during ``append``: provisional id → the id the key store recorded
        self._resolved: dict[str, str] = {}

    def prepare(self, submitted: Mapping[str, Any]) -> LedgerEvent:
        """A validated event from what a producer submitted, or EventRejected. Writes
        nothing: its personal values are still plaintext, and a new person's subject id is
        provisional until ``append`` records it and seals them."""
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
        event = _coded_label(event)
        now = self._clock()
        rejections = check(event, self._catalogs, now) + import_rejections(
            event, self.importing, now
        )
        if rejections:
            raise EventRejected(rejections)
        if isinstance(event, SubjectEvent):
            self._refuse_other_controller(event)
        _refuse_sealed(event)
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
            self._recorded.clear()  # it may name subjects of the batch that rolled back
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
        self._provisional.clear()
        self._identity_of.clear()
        self._resolved.clear()
        if claims:
            self._claimed.clear()
        if len(self._recorded) > _RECORDED_KEPT:  # a cache of store reads: bounded
            self._recorded.clear()

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

    def _refuse_erased(self, subject_id: Any) -> None:
        """The erasure fence: nothing more is recorded about a fully erased subject id.
        A provisional id was made just now, so no lookup can find it fenced."""
        if subject_id in self._identity_of:
            return
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

    def _refuse_other_controller(self, event: SubjectEvent) -> None:
        """A subject id names a person at one controller: refuse it with another."""
        subject_id, controller = event.subject_id, event.controller
        if (subject_id, controller) in self._recorded:
            return
        identity = self._identity_of.get(subject_id)
        owner = identity[0] if identity else self._keys.controller_of(subject_id)
        confirmed = owner is not None and identity is None
        if owner is None:  # first seen: the batch's first controller for it, on append
            owner = self._claimed.setdefault(subject_id, controller)
        if owner != controller:
            raise EventRejected(
                [
                    Rejection(
                        "controller",
                        f"subject_id {subject_id} belongs to controller {owner}; a subject "
                        "id names a person at one controller only",
                        "submit the natural identifier as subject (the ledger gives the "
                        "person a subject id at this controller), or use the subject id "
                        f"{controller} was given",
                    )
                ]
            )
        if confirmed:
            self._recorded.add((subject_id, controller))

    def _recorded_subject(self, event: LedgerEvent) -> LedgerEvent:
        """The event with its subject recorded in the key store for its controller: a
        provisional id becomes the person's id there (another writer's, if it was first)."""
        if not isinstance(event, SubjectEvent):
            return event
        subject_id, controller = event.subject_id, event.controller
        identity = self._identity_of.pop(subject_id, None)
        if identity is not None:  # the batch's first event about a new person
            self._resolved[subject_id] = self._keys.assign_subject(subject_id, *identity)
        recorded = self._resolved.get(subject_id)
        if recorded is not None:
            self._recorded.add((recorded, controller))
            return (
                event
                if recorded == subject_id
                else event.model_copy(update={"subject_id": recorded})
            )
        if (subject_id, controller) not in self._recorded:
            owner = self._keys.controller_of(subject_id)
            if owner is None:
                self._keys.assign_subject(subject_id, controller)
            elif owner != controller:
                raise SubjectOfAnotherController(subject_id, owner)
            self._recorded.add((subject_id, controller))
        return event

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
        natural = normalise_natural_id(natural)
        controller = fields.get("controller")
        if not isinstance(controller, str):
            return self._keys.new_subject()  # the event is refused for its controller
        found = self._keys.subject_for(natural, controller)
        if found is not None:
            return found
        provisional = self._provisional.get((controller, natural))
        if provisional is None:
            provisional = self._keys.new_subject()
            self._provisional[(controller, natural)] = provisional
            self._identity_of[provisional] = (controller, natural)
        return provisional

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


def normalise_natural_id(natural: str) -> str:
    """E-mail addresses compare case-insensitively; other identifiers are kept as given."""
    natural = natural.strip()
    return natural.lower() if "@" in natural else natural
