"""The contract every ``KeyStore`` adapter passes: subclass ``KeyStoreTestCase`` and
implement ``make_store``.

Shipped in the package, like the eventsourcing library's own reusable test cases, so a
key store written anywhere (a KMS, Vault) proves itself by passing this suite
unchanged. It needs pytest (a development dependency, not a runtime one): only tests
import this module. The class name does not start with ``Test``, so pytest collects the
suite only through a subclass.
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator

import pytest
from pydantic import TypeAdapter

from ledger.contract.base import SubjectId
from ledger.keys.store import DataKey, KeyStore, SubjectErased

_SUBJECT_ID: TypeAdapter[str] = TypeAdapter(SubjectId)


def _classes(keys: list[DataKey]) -> dict[str, str]:
    """retention class → key id"""
    return {k.retention_class: k.key_id for k in keys}


class KeyStoreTestCase(ABC):
    @abstractmethod
    def make_store(self) -> KeyStore:
        """A key store on the same storage each call (a second call is a process restart,
        or another process on the same store while the first is open)."""

    @pytest.fixture
    def keys(self) -> Iterator[KeyStore]:
        store = self.make_store()
        yield store
        store.close()

    def restarted(self, store: KeyStore) -> KeyStore:
        """Close ``store`` and open it again, as a restarted process would. (The fixture
        closes ``store`` once more at teardown: closing twice must be harmless.)"""
        store.close()
        return self.make_store()

    @staticmethod
    def new_subject_id() -> str:
        return "sub_" + uuid.uuid4().hex

    # data keys

    def test_a_data_key_is_per_subject_and_retention_class(self, keys: KeyStore) -> None:
        alice, bob = self.new_subject_id(), self.new_subject_id()
        key = keys.data_key(alice, "marketing")
        assert (key.subject_id, key.retention_class) == (alice, "marketing")
        assert len(key.material) == 32, "data keys are AES-256 keys"
        assert keys.data_key(alice, "marketing") == key
        others = [keys.data_key(alice, "accounting"), keys.data_key(bob, "marketing")]
        assert len({key.key_id, *(k.key_id for k in others)}) == 3
        assert len({key.material, *(k.material for k in others)}) == 3
        assert key.fingerprint not in {k.fingerprint for k in others}

    def test_a_key_is_found_by_its_id(self, keys: KeyStore) -> None:
        key = keys.data_key(self.new_subject_id(), "marketing")
        assert keys.key_by_id(key.key_id) == key
        assert keys.key_by_id(uuid.uuid4().hex) is None

    def test_keys_of_lists_one_key_per_retention_class(self, keys: KeyStore) -> None:
        subject = self.new_subject_id()
        assert keys.keys_of(subject) == []
        marketing = keys.data_key(subject, "marketing")
        accounting = keys.data_key(subject, "accounting")
        keys.data_key(self.new_subject_id(), "marketing")  # another subject's
        assert _classes(keys.keys_of(subject)) == {
            "marketing": marketing.key_id,
            "accounting": accounting.key_id,
        }
        assert sorted(keys.keys_of(subject), key=lambda k: k.retention_class) == [
            accounting,
            marketing,
        ]

    # natural identifiers

    def test_a_natural_identifier_maps_to_a_stable_subject_id(self, keys: KeyStore) -> None:
        assert keys.subject_for("nobody@example.org", create=False) is None
        subject = keys.subject_for("camille@example.fr")
        assert subject is not None
        _SUBJECT_ID.validate_python(subject)
        assert keys.subject_for("camille@example.fr") == subject
        assert keys.subject_for("camille@example.fr", create=False) == subject
        assert keys.subject_for("someone-else@example.fr") != subject
        assert keys.subject_for("nobody@example.org", create=False) is None

    def test_new_subjects_are_fresh_subject_ids(self, keys: KeyStore) -> None:
        subjects = {keys.new_subject() for _ in range(5)}
        assert len(subjects) == 5
        for subject in subjects:
            _SUBJECT_ID.validate_python(subject)

    # shredding

    def test_shredding_classes_destroys_only_their_keys(self, keys: KeyStore) -> None:
        subject = keys.subject_for("camille@example.fr")
        assert subject is not None
        marketing = keys.data_key(subject, "marketing")
        accounting = keys.data_key(subject, "accounting")
        shredded = keys.shred(subject, {"marketing"})
        assert [(k.key_id, k.retention_class, k.fingerprint) for k in shredded] == [
            (marketing.key_id, "marketing", marketing.fingerprint)
        ]
        assert keys.key_by_id(marketing.key_id) is None
        assert keys.key_by_id(accounting.key_id) == accounting
        assert keys.keys_of(subject) == [accounting]
        assert keys.subject_for("camille@example.fr", create=False) == subject
        assert not keys.is_erased_subject(subject)

    def test_shredding_a_subject_destroys_every_key_and_the_mapping(self, keys: KeyStore) -> None:
        subject = keys.subject_for("camille@example.fr")
        other = keys.subject_for("dominique@example.fr")
        assert subject is not None and other is not None
        destroyed = [keys.data_key(subject, c) for c in ("marketing", "accounting")]
        kept = keys.data_key(other, "marketing")
        shredded = keys.shred(subject)
        assert sorted((k.key_id, k.fingerprint) for k in shredded) == sorted(
            (k.key_id, k.fingerprint) for k in destroyed
        )
        assert all(keys.key_by_id(k.key_id) is None for k in destroyed)
        assert keys.keys_of(subject) == []
        assert keys.subject_for("camille@example.fr", create=False) is None
        assert keys.key_by_id(kept.key_id) == kept
        assert keys.subject_for("dominique@example.fr", create=False) == other

    def test_shredding_again_or_an_unknown_subject_destroys_nothing(self, keys: KeyStore) -> None:
        subject = self.new_subject_id()
        keys.data_key(subject, "marketing")
        assert len(keys.shred(subject)) == 1
        assert keys.shred(subject) == []
        assert keys.shred(self.new_subject_id()) == []
        assert keys.shred(self.new_subject_id(), {"marketing"}) == []

    def test_a_shredded_key_id_never_comes_back(self, keys: KeyStore) -> None:
        subject = self.new_subject_id()
        old = keys.data_key(subject, "marketing")
        keys.shred(subject, {"marketing"})
        new = keys.data_key(subject, "marketing")  # data collected again later
        assert new.key_id != old.key_id and new.material != old.material
        assert keys.key_by_id(old.key_id) is None
        assert keys.keys_of(subject) == [new]

    def test_a_shredded_key_stops_opening_in_every_open_store(self, keys: KeyStore) -> None:
        subject = self.new_subject_id()
        key = keys.data_key(subject, "marketing")
        elsewhere = self.make_store()  # another process on the same store
        try:
            assert elsewhere.key_by_id(key.key_id) == key
            keys.shred(subject)
            assert elsewhere.key_by_id(key.key_id) is None
        finally:
            elsewhere.close()

    # the erasure fence

    def test_a_fenced_subject_gets_no_key_again(self, keys: KeyStore) -> None:
        subject = keys.subject_for("camille@example.fr")
        other = self.new_subject_id()
        assert subject is not None
        keys.data_key(subject, "marketing")
        assert not keys.is_erased_subject(subject)
        keys.shred(subject)
        keys.fence_erased_subject(subject)
        keys.fence_erased_subject(subject)  # fencing twice is harmless
        assert keys.is_erased_subject(subject)
        with pytest.raises(SubjectErased):
            keys.data_key(subject, "marketing")
        assert keys.keys_of(subject) == []
        assert not keys.is_erased_subject(other)
        keys.data_key(other, "marketing")
        returning = keys.subject_for("camille@example.fr")  # a returning person is new
        assert returning is not None and returning != subject

    # restart

    def test_a_restarted_store_keeps_everything(self, keys: KeyStore) -> None:
        subject = keys.subject_for("camille@example.fr")
        erased = keys.subject_for("dominique@example.fr")
        assert subject is not None and erased is not None
        marketing = keys.data_key(subject, "marketing")
        accounting = keys.data_key(subject, "accounting")
        gone = keys.data_key(erased, "marketing")
        keys.shred(subject, {"accounting"})
        keys.shred(erased)
        keys.fence_erased_subject(erased)

        again = self.restarted(keys)
        try:
            assert again.subject_for("camille@example.fr", create=False) == subject
            assert again.data_key(subject, "marketing") == marketing
            assert again.key_by_id(marketing.key_id) == marketing
            assert again.keys_of(subject) == [marketing]
            assert again.key_by_id(accounting.key_id) is None
            assert again.key_by_id(gone.key_id) is None
            assert again.subject_for("dominique@example.fr", create=False) is None
            assert again.is_erased_subject(erased)
            with pytest.raises(SubjectErased):
                again.data_key(erased, "marketing")
        finally:
            again.close()
