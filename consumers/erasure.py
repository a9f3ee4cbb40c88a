"""The erasure processor: carries out ``ErasureRequested`` and writes ``DataErased``.

It reads the erasure topic as its own consumer group (``Topics.erasure_group``:
``pdl-erasure`` under the default prefix) through a ``ProjectionConsumer`` folding
``projections/erasure_register.py`` into its own store, so checkpoints are the runner's.
A pass (``process_pending``), under a lock on the data directory so the certificate
chain never forks:

1. catch up: pending requests and the head of the certificate chain;
2. catch the subject-state projection up (holds, anchors, values);
3. for each pending request: plan it (``ledger.erasure.plan``), write an *intent* (the
   keys about to be destroyed, ids and fingerprints only), shred (and, on a full
   erasure, fence the subject in the same transaction; a shredding whose keys may still
   be in the store's write-ahead log fails, and the request waits for the next pass),
   sign the certificate chained to the head, append ``DataErased``,
   drop the intent. A pass killed after shredding finds the intent next time, so the
   certificate still lists keys it destroyed before the crash;
4. catch up again, so the answered requests leave the queue.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from consumers.metrics import ERASURE_BACKLOG_OVERDUE, ERASURES
from consumers.runner import ProjectionConsumer
from consumers.store import ProjectionStore
from consumers.subject_positions import first_positions
from ledger.contract.base import new_event_id
from ledger.contract.certificate_chain import certificate_sha256
from ledger.contract.events import DataErased, LedgerEvent
from ledger.contract.positions import LogPosition
from ledger.contract.topics import Topics
from ledger.contract.wire import SchemaRegistry
from ledger.erasure.certificate import sign
from ledger.erasure.following import FollowedSubject, follow_subject
from ledger.erasure.holds import ActiveHold
from ledger.erasure.lateness import erasure_due
from ledger.erasure.plan import RequestFacts, certificate_body, plan_erasure
from ledger.erasure.retention import SubjectFacts
from ledger.erasure.scope import ScopeError, parse_scope
from ledger.erasure.signing import SigningKey
from ledger.keys.backup import BackupSchedule
from ledger.keys.store import KeyStore, KeyStoreError, ShreddedKey
from ledger.log.base import EventLog, TopicPartition
from ledger.policy.catalog import Catalogs
from ledger.policy.deadlines import answer_due, controller_zone
from projections.erasure_queue import (
    HEAD_KEY,
    ErasureRequest,
    ErasureRequestsProjection,
    RegisterHead,
    RegisterHeadProjection,
    RequestStatus,
)

log = logging.getLogger(__name__)

WAITING_FOR_PROJECTIONS = (
    "waiting for the subject-state projection to apply the request (its holds come first)"
)


@dataclass(frozen=True)
class ErasureOutcome:
    """What became of one request: its certificate, or why it is still pending."""

    request: ErasureRequest
    certificate: dict[str, Any] | None = None
    problem: str | None = None


#: Appends prepared events as one batch (``Intake.append``).
EventAppender = Callable[[Sequence[LedgerEvent]], object]


#: What the subject-state projection holds on a subject, given the key ids still held
#: (and their retention classes): the facts retention weighs, and the legal holds.
SubjectReader = Callable[[str, Mapping[str, str]], tuple[SubjectFacts, Mapping[str, ActiveHold]]]


@dataclass(frozen=True)
class ErasureFiles:
    """The lock (one pass at a time per key store) and the intent of a pass."""

    lock: Path
    intent: Path


class ErasureProcessor:
    """Built by the service layer (``ledger.service.erasure.erasure_processor``) from the
    adapters of one ``Backends``; it opens nothing itself."""

    def __init__(
        self,
        *,
        log: EventLog,
        registry: SchemaRegistry,
        topics: Topics,
        keys: KeyStore,
        queue: ProjectionConsumer,
        queue_store: ProjectionStore,
        projections: ProjectionConsumer,
        projection_store: ProjectionStore,
        read_subject: SubjectReader,
        catalogs: Callable[[], Catalogs],
        append: EventAppender,
        signer: SigningKey,
        clock: Callable[[], datetime],
        files: ErasureFiles,
        stall_timeout_s: float,
        backups: BackupSchedule | None = None,
    ) -> None:
        """``queue`` folds the erasure topic into ``queue_store`` (its own group);
        ``projections`` keeps ``projection_store`` (subject state) current; ``catalogs``
        is asked when a request is carried out, so catalogs published meanwhile count.
        ``stall_timeout_s`` (``PDL_STALL_TIMEOUT``) bounds each of its catch-ups, as it
        bounds every other catch-up of the command running it."""
        self._log = log
        self._registry = registry
        self._topics = topics
        self._keys = keys
        self._queue = queue
        self.store = queue_store
        self._projections = projections
        self._projection_store = projection_store
        self._read_subject = read_subject
        self._catalogs = catalogs
        self._append = append
        self._signer = signer
        self._clock = clock
        self._files = files
        self._stall_timeout_s = stall_timeout_s
        self._backups = backups

    def pending(self) -> list[ErasureRequest]:
        """Requests not answered yet, oldest first (as of the last catch-up)."""
        projection = ErasureRequestsProjection()
        found = [projection.load(t) for _, t in self.store.states(projection.name)]
        return sorted(
            (s.request for s in found if s.pending and s.request is not None),
            key=lambda r: (r.occurred_at, r.event_id),
        )

    def status(self, request_event_id: str) -> RequestStatus | None:
        text = self.store.state(ErasureRequestsProjection.name, request_event_id)
        return None if text is None else ErasureRequestsProjection().load(text)

    def process_pending(self, catch_up_projections: bool = True) -> list[ErasureOutcome]:
        """Carry out every pending request; returns one outcome per request handled.
        ``catch_up_projections=False`` where a running consumer keeps them current."""
        with self._register_lock():
            self._queue.catch_up(self._stall_timeout_s)
            requests = self._interrupted_first(self.pending())
            outcomes = []
            if requests:
                if catch_up_projections:
                    self._projections.catch_up(self._stall_timeout_s)
                head = self._head()
                followed = {s: self._follow(s) for s in sorted({r.subject_id for r in requests})}
                for request in requests:
                    outcome, head = self._carry_out(request, head, followed[request.subject_id])
                    outcomes.append(outcome)
                self._queue.catch_up(self._stall_timeout_s)
            now = self._clock()
            catalogs = self._catalogs()
            overdue = [
                r
                for r in self.pending()
                if answer_due(r.occurred_at, controller_zone(catalogs, r.controller, r.occurred_at))
                < now
            ]
            ERASURE_BACKLOG_OVERDUE.set(len(overdue))
        return outcomes

    def keep_carrying_out(self, stop: threading.Event, every_s: float = 5.0) -> int:
        """Carry out requests as they arrive until ``stop`` is set, next to a running
        projection consumer (``pdl run``); returns how many were carried out."""
        done = 0
        while not stop.is_set():
            outcomes = self.process_pending(catch_up_projections=False)
            done += sum(1 for o in outcomes if o.certificate is not None)
            stop.wait(every_s)
        return done

    def _follow(self, subject_id: str) -> FollowedSubject:
        """The subject's records, read from its partitions from its first positions (the
        projections' index says where they start; the raw log says what they are)."""
        firsts = first_positions(
            self._log,
            self._registry,
            self._topics,
            self._projection_store,
            self._projections.group,
            subject_id,
        )
        return follow_subject(self._log, self._registry, subject_id, firsts)

    def _carry_out(
        self, request: ErasureRequest, head: RegisterHead, followed: FollowedSubject
    ) -> tuple[ErasureOutcome, RegisterHead]:
        keys, now = self._keys, self._clock()
        if not self._projected(request):
            return ErasureOutcome(request, problem=WAITING_FOR_PROJECTIONS), head
        catalogs = self._catalogs()
        catalog = catalogs.in_force(request.controller, now) or catalogs.in_force(
            request.controller, request.occurred_at
        )
        if catalog is None:
            problem = (
                f"controller: no catalog of {request.controller} in force — fix: publish "
                "its catalog (`pdl catalog publish`), then run the erasure again"
            )
            return ErasureOutcome(request, problem=problem), head
        subject = request.subject_id
        live = {k.key_id: k for k in keys.keys_of(subject)}
        facts, holds = self._read_subject(subject, {i: k.retention_class for i, k in live.items()})
        try:
            plan = plan_erasure(
                parse_scope(request.scope),
                catalog,
                catalogs,
                facts,
                holds,
                {k.retention_class for k in live.values()},
                now,
            )
        except ScopeError as exc:
            log.warning("erasure request %s stays pending: %s", request.event_id, exc)
            return ErasureOutcome(request, problem=str(exc)), head
        planned = [
            ShreddedKey(k.key_id, k.retention_class, k.fingerprint)
            for k in live.values()
            if plan.full or k.retention_class in plan.erase
        ]
        earlier = self._read_intent(request.event_id)
        self._write_intent(request, [*earlier, *planned])
        mapped = keys.has_identity(subject)
        try:
            # a full erasure fences the subject in the shredding's own transaction; the
            # shredding returns only once no copy is left in the store's files
            destroyed = (
                keys.shred(subject, fence=True)  # every key, and the identifier mapping
                if plan.full
                else keys.shred(subject, plan.erase)
                if planned
                else []
            )
        except KeyStoreError as exc:
            # no certificate until the keys are gone from the files too; the intent
            # keeps what was destroyed, so the retry's certificate still lists it
            log.warning("erasure request %s stays pending: %s", request.event_id, exc)
            return ErasureOutcome(request, problem=str(exc)), head
        still = {k.key_id for k in keys.keys_of(subject)}
        gone = {k.key_id: k for k in [*earlier, *planned, *destroyed] if k.key_id not in still}
        event_id = new_event_id()
        body = certificate_body(
            plan,
            RequestFacts(
                request.event_id,
                subject,
                request.controller,
                request.reason,
                request.occurred_at,
                request.position,
            ),
            certificate_id=event_id,
            sequence=head.sequence + 1,
            previous_sha256=head.sha256,
            erased_at=now,
            due_at=erasure_due(
                request.reason,
                request.occurred_at,
                request.controller,
                plan.erase,
                facts,
                catalogs,
                now,
            ),
            destroyed=list(gone.values()),
            retained_keys={i: k.retention_class for i, k in live.items() if i in still},
            records=followed.records,
            subject_partitions=followed.partitions,
            catalog=catalog,
            mapping_destroyed=(mapping_destroyed := mapped and not keys.has_identity(subject)),
            backups_unreadable_by=self._backups.unreadable_by(now) if self._backups else None,
        )
        text = sign(body, self._signer)
        self._append(
            [
                DataErased(
                    event_id=event_id,
                    subject_id=subject,
                    controller=request.controller,
                    occurred_at=now,
                    scope=plan.scope,
                    reason=request.reason,
                    request_event_id=request.event_id,
                    keys_destroyed=sorted(gone),
                    certificate=text,
                    identity_mapping_destroyed=mapping_destroyed,
                )
            ]
        )
        self._files.intent.unlink(missing_ok=True)
        ERASURES.labels(scope_kind=plan.scope.kind.value).inc()
        log.info("erasure %s: %d key(s) destroyed", request.event_id, len(gone))
        return ErasureOutcome(request, json.loads(text)), RegisterHead(
            sequence=head.sequence + 1, sha256=certificate_sha256(text)
        )

    def _projected(self, request: ErasureRequest) -> bool:
        """Whether the subject-state projection has applied the request's partition up
        to the request: the subject's holds are on that partition, before it."""
        position = LogPosition.parse(request.position)
        applied = self._projection_store.checkpoint(
            self._projections.group, TopicPartition(position.topic, position.partition)
        )
        return applied > position.offset

    def _head(self) -> RegisterHead:
        text = self.store.state(RegisterHeadProjection.name, HEAD_KEY)
        return RegisterHead() if text is None else RegisterHeadProjection().load(text)

    @contextmanager
    def _register_lock(self) -> Iterator[None]:
        """One pass at a time per data directory (where the key store lives)."""
        self._files.lock.parent.mkdir(parents=True, exist_ok=True)
        with open(self._files.lock, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    # the intent: which keys a pass is about to destroy (public ids and fingerprints)

    def _write_intent(self, request: ErasureRequest, planned: list[ShreddedKey]) -> None:
        doc = {
            "request_event_id": request.event_id,
            "keys": [[k.key_id, k.retention_class, k.fingerprint] for k in planned],
        }
        tmp = self._files.intent.with_suffix(".tmp")
        with open(tmp, "w", encoding="ascii") as out:
            json.dump(doc, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, self._files.intent)

    def _read_intent(self, request_event_id: str) -> list[ShreddedKey]:
        try:
            doc = json.loads(self._files.intent.read_text(encoding="ascii"))
        except (OSError, ValueError):
            return []
        if doc.get("request_event_id") != request_event_id:
            return []
        return [ShreddedKey(str(i), str(c), str(f)) for i, c, f in doc.get("keys", [])]

    def _interrupted_first(self, pending: list[ErasureRequest]) -> list[ErasureRequest]:
        """The request a killed pass was carrying out goes first, so its intent is used;
        an intent whose request was answered (killed after the append) is dropped."""
        path = self._files.intent
        try:
            wanted = json.loads(path.read_text(encoding="ascii")).get("request_event_id")
        except (OSError, ValueError):
            wanted = None
        if path.exists() and wanted not in {r.event_id for r in pending}:
            path.unlink(missing_ok=True)
        return sorted(pending, key=lambda r: r.event_id != wanted)
