"""The contract every ``KeyStore`` adapter passes: subclass ``KeyStoreTestCase`` and
implement ``make_store``.

Shipped in the package, like the eventsourcing library's own reusable test cases, so a
key store written anywhere (a KMS, Vault) proves itself by passing this suite
unchanged. It needs pytest (a development dependency, not a runtime one): only tests
import this module. The class name does not start with ``Test``, so pytest collects the
suite only through a subclass.
"""

from __future__ import annotations

import secrets
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator

import pytest
from pydantic import TypeAdapter

from ledger.contract.base import SubjectId
from ledger.errors import Conflict
from ledger.keys.master import MasterKeyError, master_key_id
from ledger.keys.store import (
    DataKey,
    KeyStore,
    SubjectErased,
    SubjectOfAnotherController,
    UnknownSubject,
)

_SUBJECT_ID: TypeAdapter[str] = TypeAdapter(SubjectId)


def _classes(keys: list[DataKey]) -> dict[str, str]:
    """retention class → key id"""
    return {k.retention_class: k.key_id for k in keys}


class KeyStoreTestCase(ABC):
    #: the master key ``make_store`` opens the store with (a test may change it)
    master_key: bytes

    @abstractmethod
    def make_store(self) -> KeyStore:
        """A key store on the same storage each call (a second call is a process restart,
        or another process on the same store while the first is open), opened with
        ``self.master_key``."""

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

    #: the controllers the suite records subjects for
    A, B = "controller-a", "controller-b"

    def new_subject_id(self, keys: KeyStore, controller: str = A) -> str:
        """A fresh subject id, recorded for ``controller``."""
        return keys.assign_subject(keys.new_subject(), controller)

    @classmethod
    def known(cls, keys: KeyStore, natural_id: str, controller: str = A) -> str:
        """The person's subject id at ``controller``, recorded on first use."""
        found = keys.subject_for(natural_id, controller)
        return found or keys.assign_subject(keys.new_subject(), controller, natural_id)

    # data keys

    def test_a_data_key_is_per_subject_and_retention_class(self, keys: KeyStore) -> None:
        alice, bob = self.new_subject_id(keys), self.new_subject_id(keys)
        key = keys.data_key(alice, "marketing")
        assert (key.subject_id, key.retention_class) == (alice, "marketing")
        assert key.controller == self.A
        assert len(key.material) == 32, "data keys are AES-256 keys"
        assert keys.data_key(alice, "marketing") == key
        others = [keys.data_key(alice, "accounting"), keys.data_key(bob, "marketing")]
        assert len({key.key_id, *(k.key_id for k in others)}) == 3
        assert len({key.material, *(k.material for k in others)}) == 3
        assert key.fingerprint not in {k.fingerprint for k in others}

    def test_no_key_is_made_for_a_subject_of_no_controller(self, keys: KeyStore) -> None:
        with pytest.raises(UnknownSubject):
            keys.data_key(keys.new_subject(), "marketing")

    def test_a_key_is_found_by_its_id(self, keys: KeyStore) -> None:
        key = keys.data_key(self.new_subject_id(keys), "marketing")
        assert keys.key_by_id(key.key_id) == key
        assert keys.key_by_id(uuid.uuid4().hex) is None

    def test_keys_of_lists_one_key_per_retention_class(self, keys: KeyStore) -> None:
        subject = self.new_subject_id(keys)
        assert keys.keys_of(subject) == []
        marketing = keys.data_key(subject, "marketing")
        accounting = keys.data_key(subject, "accounting")
        keys.data_key(self.new_subject_id(keys), "marketing")  # another subject's
        assert _classes(keys.keys_of(subject)) == {
            "marketing": marketing.key_id,
            "accounting": accounting.key_id,
        }
        assert sorted(keys.keys_of(subject), key=lambda k: k.retention_class) == [
            accounting,
            marketing,
        ]

    # natural identifiers and controllers

    def test_a_natural_identifier_maps_to_a_stable_subject_id(self, keys: KeyStore) -> None:
        assert keys.subject_for("nobody@example.org", self.A) is None
        subject = self.known(keys, "camille@example.fr")
        _SUBJECT_ID.validate_python(subject)
        assert keys.subject_for("camille@example.fr", self.A) == subject
        assert self.known(keys, "camille@example.fr") == subject
        assert self.known(keys, "someone-else@example.fr") != subject
        assert keys.subject_for("nobody@example.org", self.A) is None

    def test_one_person_is_one_subject_per_controller(self, keys: KeyStore) -> None:
        at_a = self.known(keys, "camille@example.fr", self.A)
        assert keys.subject_for("camille@example.fr", self.B) is None
        at_b = self.known(keys, "camille@example.fr", self.B)
        assert at_a != at_b
        assert (keys.controller_of(at_a), keys.controller_of(at_b)) == (self.A, self.B)
        assert keys.subjects_known_as("camille@example.fr") == {self.A: at_a, self.B: at_b}
        assert keys.subjects_known_as("nobody@example.org") == {}
        assert keys.data_key(at_a, "customer") != keys.data_key(at_b, "customer")

    def test_the_first_mapping_of_a_person_wins(self, keys: KeyStore) -> None:
        first = keys.assign_subject(keys.new_subject(), self.A, "camille@example.fr")
        second = keys.assign_subject(keys.new_subject(), self.A, "camille@example.fr")
        assert second == first  # a concurrent writer's provisional id gives way

    def test_a_subject_id_belongs_to_one_controller(self, keys: KeyStore) -> None:
        subject = self.new_subject_id(keys, self.A)
        assert keys.assign_subject(subject, self.A) == subject  # again: harmless
        with pytest.raises(SubjectOfAnotherController):
            keys.assign_subject(subject, self.B)
        assert keys.controller_of(subject) == self.A
        assert keys.controller_of(keys.new_subject()) is None

    def test_new_subjects_are_fresh_subject_ids(self, keys: KeyStore) -> None:
        subjects = {keys.new_subject() for _ in range(5)}
        assert len(subjects) == 5
        for subject in subjects:
            _SUBJECT_ID.validate_python(subject)

    # shredding

    def test_shredding_classes_destroys_only_their_keys(self, keys: KeyStore) -> None:
        subject = self.known(keys, "camille@example.fr")
        marketing = keys.data_key(subject, "marketing")
        accounting = keys.data_key(subject, "accounting")
        shredded = keys.shred(subject, {"marketing"})
        assert [(k.key_id, k.retention_class, k.fingerprint) for k in shredded] == [
            (marketing.key_id, "marketing", marketing.fingerprint)
        ]
        assert keys.key_by_id(marketing.key_id) is None
        assert keys.key_by_id(accounting.key_id) == accounting
        assert keys.keys_of(subject) == [accounting]
        assert keys.subject_for("camille@example.fr", self.A) == subject
        assert keys.has_identity(subject)
        assert not keys.is_erased_subject(subject)

    def test_shredding_the_last_class_destroys_the_mapping(self, keys: KeyStore) -> None:
        subject = self.known(keys, "camille@example.fr", self.A)
        elsewhere = self.known(keys, "camille@example.fr", self.B)
        keys.data_key(subject, "marketing")
        keys.data_key(elsewhere, "marketing")
        assert keys.shred(subject, {"accounting"}) == []  # nothing destroyed: mapping stays
        assert keys.has_identity(subject)
        assert len(keys.shred(subject, {"marketing"})) == 1
        assert not keys.has_identity(subject)
        assert keys.subject_for("camille@example.fr", self.A) is None
        assert keys.subject_for("camille@example.fr", self.B) == elsewhere
        assert len(keys.keys_of(elsewhere)) == 1

    def test_shredding_a_subject_destroys_every_key_and_the_mapping(self, keys: KeyStore) -> None:
        subject = self.known(keys, "camille@example.fr")
        other = self.known(keys, "dominique@example.fr")
        elsewhere = self.known(keys, "camille@example.fr", self.B)
        destroyed = [keys.data_key(subject, c) for c in ("marketing", "accounting")]
        kept = [keys.data_key(other, "marketing"), keys.data_key(elsewhere, "marketing")]
        shredded = keys.shred(subject)
        assert sorted((k.key_id, k.fingerprint) for k in shredded) == sorted(
            (k.key_id, k.fingerprint) for k in destroyed
        )
        assert all(keys.key_by_id(k.key_id) is None for k in destroyed)
        assert keys.keys_of(subject) == []
        assert keys.subject_for("camille@example.fr", self.A) is None
        assert all(keys.key_by_id(k.key_id) == k for k in kept)
        assert keys.subject_for("dominique@example.fr", self.A) == other
        assert keys.subject_for("camille@example.fr", self.B) == elsewhere

    def test_shredding_again_or_an_unknown_subject_destroys_nothing(self, keys: KeyStore) -> None:
        subject = self.new_subject_id(keys)
        keys.data_key(subject, "marketing")
        assert len(keys.shred(subject)) == 1
        assert keys.shred(subject) == []
        assert keys.shred(keys.new_subject()) == []
        assert keys.shred(keys.new_subject(), {"marketing"}) == []

    def test_a_shredded_key_id_never_comes_back(self, keys: KeyStore) -> None:
        subject = self.new_subject_id(keys)
        old = keys.data_key(subject, "marketing")
        keys.shred(subject, {"marketing"})
        new = keys.data_key(subject, "marketing")  # data collected again later
        assert new.key_id != old.key_id and new.material != old.material
        assert keys.key_by_id(old.key_id) is None
        assert keys.keys_of(subject) == [new]

    def test_a_shredded_key_stops_opening_in_every_open_store(self, keys: KeyStore) -> None:
        subject = self.new_subject_id(keys)
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
        subject = self.known(keys, "camille@example.fr")
        other = self.new_subject_id(keys)
        keys.data_key(subject, "marketing")
        assert not keys.is_erased_subject(subject)
        keys.shred(subject)
        keys.fence_erased_subject(subject)
        keys.fence_erased_subject(subject)  # fencing twice is harmless
        assert keys.is_erased_subject(subject)
        with pytest.raises(SubjectErased):
            keys.data_key(subject, "marketing")
        with pytest.raises(SubjectErased):
            keys.assign_subject(subject, self.A)
        assert keys.keys_of(subject) == []
        assert not keys.is_erased_subject(other)
        keys.data_key(other, "marketing")
        returning = self.known(keys, "camille@example.fr")  # a returning person is new
        assert returning != subject

    def test_shred_and_fence_are_one_operation(self, keys: KeyStore) -> None:
        subject = self.known(keys, "camille@example.fr")
        key = keys.data_key(subject, "marketing")
        shredded = keys.shred(subject, fence=True)
        assert [k.key_id for k in shredded] == [key.key_id]
        assert keys.is_erased_subject(subject)
        assert not keys.has_identity(subject)
        with pytest.raises(SubjectErased):
            keys.data_key(subject, "marketing")
        assert keys.shred(subject, fence=True) == []  # again: harmless

    def test_forgotten_keys_are_read_again(self, keys: KeyStore) -> None:
        subject = self.known(keys, "camille@example.fr")
        key = keys.data_key(subject, "marketing")
        keys.forget(subject)
        keys.forget()
        assert keys.key_by_id(key.key_id) == key

    # restart

    def test_a_restarted_store_keeps_everything(self, keys: KeyStore) -> None:
        subject = self.known(keys, "camille@example.fr")
        erased = self.known(keys, "dominique@example.fr")
        marketing = keys.data_key(subject, "marketing")
        accounting = keys.data_key(subject, "accounting")
        gone = keys.data_key(erased, "marketing")
        keys.shred(subject, {"accounting"})
        keys.shred(erased)
        keys.fence_erased_subject(erased)

        again = self.restarted(keys)
        try:
            assert again.subject_for("camille@example.fr", self.A) == subject
            assert again.controller_of(subject) == self.A
            assert again.data_key(subject, "marketing") == marketing
            assert again.key_by_id(marketing.key_id) == marketing
            assert again.keys_of(subject) == [marketing]
            assert again.key_by_id(accounting.key_id) is None
            assert again.key_by_id(gone.key_id) is None
            assert again.subject_for("dominique@example.fr", self.A) is None
            assert again.is_erased_subject(erased)
            with pytest.raises(SubjectErased):
                again.data_key(erased, "marketing")
        finally:
            again.close()

    # the master key

    def test_another_master_key_is_refused_not_answered(self, keys: KeyStore) -> None:
        subject = self.known(keys, "camille@example.fr")
        keys.data_key(subject, "marketing")
        assert keys.master_key_id == master_key_id(self.master_key)
        right = self.master_key
        self.master_key = secrets.token_bytes(32)
        with pytest.raises(MasterKeyError):
            self.make_store()  # never "no such subject", never a new key
        self.master_key = right
        again = self.make_store()
        try:
            assert again.subject_for("camille@example.fr", self.A) == subject
        finally:
            again.close()

    def test_after_rotation_keys_open_with_the_new_master_key_only(self, keys: KeyStore) -> None:
        subject = self.known(keys, "camille@example.fr")
        marketing = keys.data_key(subject, "marketing")
        old, new = self.master_key, secrets.token_bytes(32)
        keys.rotate_master(new)
        assert keys.master_key_id == master_key_id(new)
        assert keys.key_by_id(marketing.key_id) == marketing
        keys.close()
        with pytest.raises(MasterKeyError):
            self.make_store()  # the old key opens nothing any more
        self.master_key = new
        again = self.make_store()
        try:
            assert again.subject_for("camille@example.fr", self.A) == subject
            assert again.key_by_id(marketing.key_id) == marketing
            assert again.data_key(subject, "marketing") == marketing
            assert again.keys_of(subject) == [marketing]
        finally:
            again.close()
        assert old != new

    # batches

    def test_a_batch_commits_its_writes_together(self, keys: KeyStore) -> None:
        elsewhere = self.make_store()  # another process on the same store
        try:
            with keys.batch():
                subject = self.known(keys, "camille@example.fr")
                key = keys.data_key(subject, "marketing")
                fenced = self.new_subject_id(keys)
                keys.fence_erased_subject(fenced)
                # the block reads its own writes
                assert keys.subject_for("camille@example.fr", self.A) == subject
                assert keys.controller_of(subject) == self.A
                assert keys.data_key(subject, "marketing") == key
                assert keys.key_by_id(key.key_id) == key
                assert keys.is_erased_subject(fenced)
                # nothing is visible elsewhere before the block ends
                assert elsewhere.subject_for("camille@example.fr", self.A) is None
                assert elsewhere.controller_of(subject) is None
                assert elsewhere.key_by_id(key.key_id) is None
                assert not elsewhere.is_erased_subject(fenced)
            assert elsewhere.subject_for("camille@example.fr", self.A) == subject
            assert elsewhere.controller_of(subject) == self.A
            assert elsewhere.key_by_id(key.key_id) == key
            assert elsewhere.is_erased_subject(fenced)
        finally:
            elsewhere.close()
        again = self.restarted(keys)
        try:
            assert again.data_key(subject, "marketing") == key
        finally:
            again.close()

    def test_an_exception_leaving_a_batch_undoes_all_of_it(self, keys: KeyStore) -> None:
        before = self.known(keys, "dominique@example.fr")
        kept = keys.data_key(before, "marketing")
        made: list[DataKey] = []
        with pytest.raises(RuntimeError, match="the caller gave up"), keys.batch():
            subject = self.known(keys, "camille@example.fr")
            made += [keys.data_key(subject, "marketing"), keys.data_key(before, "accounting")]
            keys.fence_erased_subject(before)
            raise RuntimeError("the caller gave up")
        assert keys.subject_for("camille@example.fr", self.A) is None
        assert keys.controller_of(subject) is None
        assert all(keys.key_by_id(k.key_id) is None for k in made)
        assert keys.keys_of(before) == [kept]
        assert not keys.is_erased_subject(before)
        again = self.restarted(keys)
        try:
            assert again.subject_for("camille@example.fr", self.A) is None
            assert again.keys_of(before) == [kept]
        finally:
            again.close()

    def test_a_nested_batch_joins_the_outer_one(self, keys: KeyStore) -> None:
        elsewhere = self.make_store()
        try:
            with keys.batch():
                outer = self.known(keys, "camille@example.fr")
                with keys.batch():
                    inner = self.known(keys, "dominique@example.fr")
                    key = keys.data_key(inner, "marketing")
                assert elsewhere.subject_for("dominique@example.fr", self.A) is None
                assert elsewhere.key_by_id(key.key_id) is None  # the inner end commits nothing
                with pytest.raises(RuntimeError), keys.batch():
                    undone = self.known(keys, "alix@example.fr")
                    raise RuntimeError("only this block is undone")
                assert keys.subject_for("alix@example.fr", self.A) is None
                assert keys.controller_of(undone) is None
            assert elsewhere.subject_for("camille@example.fr", self.A) == outer
            assert elsewhere.subject_for("dominique@example.fr", self.A) == inner
            assert elsewhere.key_by_id(key.key_id) == key
            assert elsewhere.subject_for("alix@example.fr", self.A) is None
        finally:
            elsewhere.close()

    def test_a_refused_call_in_a_batch_leaves_nothing_and_the_batch_goes_on(
        self, keys: KeyStore
    ) -> None:
        theirs = self.new_subject_id(keys, self.B)
        with keys.batch():
            with pytest.raises(SubjectOfAnotherController):
                keys.assign_subject(theirs, self.A, "camille@example.fr")
            assert keys.subject_for("camille@example.fr", self.A) is None
            with pytest.raises(UnknownSubject):
                keys.data_key(keys.new_subject(), "marketing")
            subject = self.known(keys, "dominique@example.fr")
            key = keys.data_key(subject, "marketing")
        assert keys.controller_of(theirs) == self.B
        assert keys.subject_for("camille@example.fr", self.A) is None
        assert keys.key_by_id(key.key_id) == key

    def test_shredding_is_refused_inside_a_batch(self, keys: KeyStore) -> None:
        subject = self.new_subject_id(keys)
        key = keys.data_key(subject, "marketing")
        with keys.batch():
            with pytest.raises(Conflict):
                keys.shred(subject)
            with pytest.raises(Conflict):
                keys.rotate_master(secrets.token_bytes(32))
        assert keys.key_by_id(key.key_id) == key
        assert keys.master_key_id == master_key_id(self.master_key)
