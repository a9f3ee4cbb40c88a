"""The key store interface.

Data keys are held per subject and per retention class, so that data kept under a
legal obligation (invoices) can outlive data kept for marketing. The store also holds
the only mapping from natural identifiers (e-mail, customer number) to pseudonymous
subject ids; it dies with the subject. An embedded SQLite store is the default; a KMS
or Vault can implement the same interface.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Collection
from dataclasses import dataclass, field

from ledger.errors import Refused, Unavailable


@dataclass(frozen=True)
class DataKey:
    """A subject's data key for one retention class. ``material`` never leaves the process."""

    key_id: str
    subject_id: str
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


class KeyStore(ABC):
    """Holds per-subject data keys and the natural-identifier → subject mapping."""

    @abstractmethod
    def subject_for(self, natural_id: str, *, create: bool = True) -> str | None:
        """The subject id of a natural identifier; a new one is assigned if ``create``."""

    @abstractmethod
    def new_subject(self) -> str:
        """A fresh pseudonymous subject id with no natural identifier attached."""

    @abstractmethod
    def data_key(self, subject_id: str, retention_class: str) -> DataKey:
        """The subject's key for a retention class, created on first use."""

    @abstractmethod
    def key_by_id(self, key_id: str) -> DataKey | None:
        """A key by id, or None if it was never created or has been shredded."""

    @abstractmethod
    def shred(
        self, subject_id: str, retention_classes: Collection[str] | None = None
    ) -> list[ShreddedKey]:
        """Destroy the subject's keys durably: all of them (and its natural-identifier
        mapping) when ``retention_classes`` is None, else those classes'. Returns what was
        destroyed; no copy may remain recoverable from the store's files."""

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

    @abstractmethod
    def close(self) -> None:
        """Release files and connections."""
