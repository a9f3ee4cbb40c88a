"""Who each submitted event is about, against the key store: the subject id a natural
identifier names at a controller, a *provisional* id for a new person (recorded nowhere
until the batch is appended), the erasure fence, and the rule that a subject id names a
person at one controller only.

An ``Intake`` keeps one ``Subjects`` for the batches it takes: what it remembers between
the events of one batch (provisional ids, claims) and a bounded cache of store reads.
"""

from __future__ import annotations

from typing import Any

from ledger.contract.base import SubjectEvent
from ledger.contract.rejection import EventRejected, Rejection
from ledger.keys.store import KeyStore, SubjectOfAnotherController

#: How many (subject id, controller) pairs are remembered as recorded: a cache of
#: key-store reads, cleared when it grows past this.
_RECORDED_KEPT = 20_000


class Subjects:
    def __init__(self, keys: KeyStore) -> None:
        self._keys = keys
        #: provisional subject ids of new people, until ``recorded`` records them:
        #: (controller, natural identifier) → id, and id → (controller, identifier)
        self._provisional: dict[tuple[str, str], str] = {}
        self._identity_of: dict[str, tuple[str, str]] = {}
        #: subject ids the key store has recorded for the controller named with them
        self._recorded: set[tuple[str, str]] = set()
        #: subject ids the key store does not know yet → the controller named with them
        self._claimed: dict[str, str] = {}
        #: while a batch is recorded: provisional id → the id the key store recorded
        self._resolved: dict[str, str] = {}

    def of_submitted(self, fields: dict[str, Any]) -> tuple[Any, str | None]:
        """The subject id a submitted event names (found, provisional, or as given; not
        yet validated) and the natural identifier it named it by, normalised, if any.
        Takes ``subject`` out of ``fields``."""
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
            return given, None
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
            return self._keys.new_subject(), natural  # the event is refused for its controller
        return self.known_as(natural, controller), natural

    def known_as(self, natural: str, controller: str) -> str:
        """The provisional id this batch gave the person already, or the subject id the
        key store holds for ``natural`` at ``controller``, or a new provisional id. A
        provisional id is resolved when it is recorded (``recorded``), to another
        writer's id if that writer recorded the person first: the store is not asked
        again for a person it did not know a moment ago."""
        provisional = self._provisional.get((controller, natural))
        if provisional is not None:
            return provisional
        found = self._keys.subject_for(natural, controller)
        if found is not None:
            return found
        provisional = self._keys.new_subject()
        self._provisional[(controller, natural)] = provisional
        self._identity_of[provisional] = (controller, natural)
        return provisional

    def refuse_erased(self, subject_id: Any) -> None:
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

    def refuse_other_controller(self, event: SubjectEvent) -> None:
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

    def recorded(self, event: SubjectEvent) -> SubjectEvent:
        """The event with its subject recorded in the key store for its controller: a
        provisional id becomes the person's id there (another writer's, if it was first).
        Call inside the key store's batch."""
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

    def forget_recorded(self) -> None:
        """Drop the cache of recorded subjects: it may name some of a batch rolled back."""
        self._recorded.clear()

    def forget_provisional(self, claims: bool = False) -> None:
        """Drop the provisional ids of new people (the identifiers leave memory) and,
        with ``claims``, the controllers claimed for subject ids the store does not know:
        what is remembered between the events of one batch."""
        self._provisional.clear()
        self._identity_of.clear()
        self._resolved.clear()
        if claims:
            self._claimed.clear()
        if len(self._recorded) > _RECORDED_KEPT:  # a cache of store reads: bounded
            self._recorded.clear()


def normalise_natural_id(natural: str) -> str:
    """E-mail addresses compare case-insensitively; other identifiers are kept as given."""
    natural = natural.strip()
    return natural.lower() if "@" in natural else natural
