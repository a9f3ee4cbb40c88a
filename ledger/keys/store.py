"""The key store interface.

Controllers are tenants. A person known to two controllers is two subjects: one
pseudonymous subject id per controller, each recorded with the one controller it
belongs to. Data keys are held per subject id (so per controller) and per retention
class, so that data kept under a legal obligation (invoices) can outlive data kept for
marketing, and one controller's erasure or retention never touches another's keys. The
store also holds the only mapping from natural identifiers (e-mail, customer number) to
subject ids, one per controller; it dies with the subject's last key there. An embedded
SQLite store is the default; a KMS or Vault can implement the same interface.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Collection
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

from ledger.errors import Refused, Unavailable


@dataclass(frozen=True)
class DataKey:
    """A subject's data key for one retention class, at the subject's controller.
    ``material`` never leaves the process."""

    key_id: str
    subject_id: str
    controller: str
    retention_class: str
    material: bytes = field(repr=False)

    @property
    def fingerprint(self) -> str:
        """A public, non-reversible fingerprint of the key, for certificates and logs."""
        return hashlib.sha256(b"pdl-key-fingerprint\x00" + self.material).hexdigest()[:32]


@dataclass(frozen=True)
class ShreddedKey:
    """What may be said of a destroyed key: its id, class and public fingerprint."""

    key_id: str
    retention_class: str
    fingerprint: str


class KeyStoreError(Unavailable):
    """The key store could not be read or written; names the store and the fix. Adapters
    raise it in place of their driver's errors."""


class SubjectErased(Refused):
    """The subject was fully erased: its id is fenced and no key may be made for it again."""

    def __init__(self, subject_id: str) -> None:
        super().__init__(
            f"subject_id: {subject_id} was fully erased (Art. 17) and is fenced — fix: a "
            "returning person is a new subject; submit the natural identifier as subject"
        )
        self.subject_id = subject_id


class SubjectOfAnotherController(Refused):
    """A subject id belongs to the controller it was first recorded for; an event naming
    another controller is refused, so that controllers' data never mix under one key."""

    def __init__(self, subject_id: str, controller: str) -> None:
        super().__init__(
            f"subject_id: {subject_id} belongs to controller {controller}; a subject id "
            "names a person at one controller only — fix: submit the natural identifier "
            "as subject (the ledger gives the person a subject id at this controller), "
            f"or use the subject id this controller was given"
        )
        self.subject_id = subject_id
        self.controller = controller


class UnknownSubject(Refused):
    """A key was asked for a subject id no controller was recorded for."""

    def __init__(self, subject_id: str) -> None:
        super().__init__(
            f"subject_id: {subject_id} has no controller in the key store — fix: record "
            "the subject first (``KeyStore.assign_subject``; the intake does it on append)"
        )
        self.subject_id = subject_id


class KeyStore(ABC):
    """Holds per-subject data keys, each subject id's controller, and the
    (controller, natural identifier) → subject mapping."""

    @abstractmethod
    def batch(self) -> AbstractContextManager[None]:
        """Writes made inside the block (``assign_subject``, ``data_key``,
        ``fence_erased_subject``) commit together, durably, when the outermost block ends,
        or not at all if an exception leaves it: one durable commit per batch of events
        instead of one per new subject and per new key. Until then no other store on the
        same storage sees them, and its writers may wait for the block's end: keep the
        block to the key-store work (no log I/O inside). Reads inside see the block's own
        writes. A nested block joins the outer one (nothing commits at its end); an
        exception leaving it undoes its writes only, as a call that raises inside a block
        leaves nothing of its own behind. ``shred``, ``rotate_master`` (and an adapter's
        backups) must be durable when they return, so they are refused inside a block
        (``Conflict``). A data key handed out inside a block must not seal anything that
        leaves the process before the block has committed."""

    @abstractmethod
    def subject_for(self, natural_id: str, controller: str) -> str | None:
        """The subject id a natural identifier has at ``controller``, if any. Reads only."""

    @abstractmethod
    def subjects_known_as(self, natural_id: str) -> dict[str, str]:
        """Every controller that knows this natural identifier → its subject id there."""

    @abstractmethod
    def assign_subject(
        self, subject_id: str, controller: str, natural_id: str | None = None
    ) -> str:
        """Record ``subject_id`` as a subject of ``controller`` and, with ``natural_id``,
        map the identifier to it at that controller. Returns the subject id in force: one
        the identifier already had at the controller (another writer was first) wins.
        Raises ``SubjectOfAnotherController`` if the id belongs to another controller,
        ``SubjectErased`` if it is fenced."""

    @abstractmethod
    def controller_of(self, subject_id: str) -> str | None:
        """The controller a subject id belongs to, or None if it was never recorded."""

    @abstractmethod
    def new_subject(self) -> str:
        """A fresh pseudonymous subject id, recorded nowhere yet (``assign_subject``)."""

    @abstractmethod
    def data_key(self, subject_id: str, retention_class: str) -> DataKey:
        """The subject's key for a retention class, created on first use. The subject
        must be recorded (``UnknownSubject``) and not fenced (``SubjectErased``)."""

    @abstractmethod
    def key_by_id(self, key_id: str) -> DataKey | None:
        """A key by id, or None if it was never created or has been shredded."""

    @abstractmethod
    def shred(
        self,
        subject_id: str,
        retention_classes: Collection[str] | None = None,
        *,
        fence: bool = False,
    ) -> list[ShreddedKey]:
        """Destroy the subject's keys durably: all of them when ``retention_classes`` is
        None, else those classes'. When no key of the subject remains afterwards (a full
        erasure, or its last class erased by retention or request), its natural-identifier
        mapping is destroyed too: nothing outlives its purpose, the identity included.
        With ``fence`` (a full erasure) the subject is fenced in the same transaction, so
        no key can be made for it between the shredding and the fence. Returns what was
        destroyed only once no copy remains recoverable from the store's files; if that
        cannot be ensured yet (a reader holds an old snapshot), raises
        ``KeyStoreError`` and the caller retries (the keys are gone from the store)."""

    @abstractmethod
    def forget(self, subject_id: str | None = None) -> None:
        """Drop every unwrapped key of the subject (of every subject with None) this
        process holds in memory: the next use reads the store again, so a key shredded
        by another process is no longer at hand here."""

    @abstractmethod
    def has_identity(self, subject_id: str) -> bool:
        """Whether a natural identifier still maps to the subject id."""

    @abstractmethod
    def keys_of(self, subject_id: str) -> list[DataKey]:
        """The subject's keys the store still holds, one per retention class."""

    @abstractmethod
    def fence_erased_subject(self, subject_id: str) -> None:
        """Record the erasure fence: the subject was fully erased, so its pseudonymous id
        is refused from now on (a tombstone holding the id only) and ``data_key`` raises
        ``SubjectErased`` for it."""

    @abstractmethod
    def is_erased_subject(self, subject_id: str) -> bool:
        """Whether the subject id is behind the erasure fence."""

    @property
    @abstractmethod
    def master_key_id(self) -> str:
        """The id of the master key that wraps the store's keys (``master_key_id``). A
        store is opened only with that master key: any other is refused with
        ``MasterKeyError``, never answered with "unknown subject"."""

    @abstractmethod
    def rotate_master(self, new_master_key: bytes) -> None:
        """Rewrap every wrapped key (and the identity lookups' secret) by
        ``new_master_key``, all or nothing; from then on the store opens with the new key
        only, and every lookup and key still answers as before."""

    @abstractmethod
    def close(self) -> None:
        """Release files and connections."""
