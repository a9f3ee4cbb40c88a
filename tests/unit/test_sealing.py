"""Sealed values open only for their subject, event and field, and never after shredding."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from pydantic_core import PydanticSerializationError

from ledger.contract.sealed import (
    HEADER_LEN,
    MalformedSealedValue,
    field_ad,
    is_well_formed,
    key_id_of,
)
from ledger.contract.secret import PlaintextLeak, Secret
from ledger.keys.master import MasterKeyError
from ledger.keys.sealing import Unreadable, open_sealed, seal
from ledger.keys.sqlite_store import SQLiteKeyStore

CONTROLLER = "informatique70"


@pytest.fixture
def keys(tmp_path: Path) -> SQLiteKeyStore:
    store = SQLiteKeyStore(tmp_path / "keys.sqlite", secrets.token_bytes(32))
    for digit in "ab":  # subjects of one controller: keys are made for recorded subjects
        store.assign_subject("sub_" + digit * 32, CONTROLLER)
    return store


def known(keys: SQLiteKeyStore, natural_id: str) -> str:
    """The person's subject id at CONTROLLER, recorded on first use (as the intake does)."""
    found = keys.subject_for(natural_id, CONTROLLER)
    return found or keys.assign_subject(keys.new_subject(), CONTROLLER, natural_id)


def test_round_trip(keys: SQLiteKeyStore) -> None:
    key = keys.data_key("sub_" + "a" * 32, "marketing")
    ad = field_ad(key.subject_id, "event-1", "values[0].value")
    sealed = seal("camille@example.fr", key, ad)
    assert b"camille" not in sealed
    assert key_id_of(sealed) == key.key_id
    assert open_sealed(sealed, keys, ad) == "camille@example.fr"


@pytest.mark.parametrize(
    "moved",
    [
        ("sub_" + "b" * 32, "event-1", "values[0].value"),
        ("sub_" + "a" * 32, "event-2", "values[0].value"),
        ("sub_" + "a" * 32, "event-1", "values[1].value"),
    ],
)
def test_ciphertext_cannot_move(keys: SQLiteKeyStore, moved: tuple[str, str, str]) -> None:
    key = keys.data_key("sub_" + "a" * 32, "marketing")
    sealed = seal("x", key, field_ad(key.subject_id, "event-1", "values[0].value"))
    with pytest.raises(Unreadable):
        open_sealed(sealed, keys, field_ad(*moved))


def test_the_envelope_names_its_key_without_the_key(keys: SQLiteKeyStore) -> None:
    key = keys.data_key("sub_" + "a" * 32, "marketing")
    sealed = seal("x", key, field_ad(key.subject_id, "event-1", "values[0].value"))
    assert is_well_formed(sealed) and len(sealed) == HEADER_LEN + len("x") + 16
    for malformed in (b"", b"\x02" + sealed[1:], sealed[: HEADER_LEN - 1]):
        assert not is_well_formed(malformed)
        with pytest.raises(MalformedSealedValue):
            key_id_of(malformed)
        with pytest.raises(Unreadable, match="not a pdl-aead-v1 sealed value"):
            open_sealed(malformed, keys, b"")


def test_keys_are_per_subject_and_retention_class(keys: SQLiteKeyStore) -> None:
    a = keys.data_key("sub_" + "a" * 32, "marketing")
    assert keys.data_key("sub_" + "a" * 32, "marketing") == a
    assert keys.data_key("sub_" + "a" * 32, "accounting").key_id != a.key_id
    assert keys.data_key("sub_" + "b" * 32, "marketing").key_id != a.key_id


def test_key_store_is_durable_and_needs_the_master_key(tmp_path: Path) -> None:
    master = secrets.token_bytes(32)
    first = SQLiteKeyStore(tmp_path / "k.sqlite", master)
    first.assign_subject("sub_" + "c" * 32, CONTROLLER)
    key = first.data_key("sub_" + "c" * 32, "marketing")
    first.close()
    again = SQLiteKeyStore(tmp_path / "k.sqlite", master)
    assert again.key_by_id(key.key_id) == key
    again.close()
    # refused on opening, before any lookup could answer "unknown" (issue 14)
    with pytest.raises(MasterKeyError, match="is wrapped by master key"):
        SQLiteKeyStore(tmp_path / "k.sqlite", secrets.token_bytes(32))


def test_natural_identifiers_map_to_stable_pseudonyms(keys: SQLiteKeyStore, tmp_path: Path) -> None:
    subject = known(keys, "camille@example.fr")
    assert subject.startswith("sub_")
    assert known(keys, "camille@example.fr") == subject
    assert known(keys, "someone-else@example.fr") != subject
    assert keys.subject_for("unknown@example.fr", CONTROLLER) is None
    keys.close()
    assert b"camille" not in (tmp_path / "keys.sqlite").read_bytes()


def test_secret_never_shows_plaintext() -> None:
    secret = Secret(plaintext="camille@example.fr")
    assert "camille" not in repr(secret) and "camille" not in str(secret)
    assert "camille" not in repr([secret, {"v": secret}])


def test_unsealed_secret_cannot_be_serialised() -> None:
    from ledger.contract.events import CollectedValue

    value = CollectedValue(field="email", category="contact", value="camille@example.fr")
    with pytest.raises(PydanticSerializationError, match=PlaintextLeak.__name__):
        value.model_dump()


def test_shredding_a_class_leaves_the_others_readable(keys: SQLiteKeyStore) -> None:
    subject = known(keys, "camille@example.fr")
    marketing = keys.data_key(subject, "marketing")
    accounting = keys.data_key(subject, "accounting")
    ad = field_ad(subject, "e", "values[0].value")
    sealed = seal("newsletter address", marketing, ad)
    invoice = seal("FA-2024-0311", accounting, ad)
    shredded = keys.shred(subject, {"marketing"})
    assert [(k.key_id, k.fingerprint) for k in shredded] == [
        (marketing.key_id, marketing.fingerprint)
    ]
    with pytest.raises(Unreadable, match="destroyed"):
        open_sealed(sealed, keys, ad)
    assert open_sealed(invoice, keys, ad) == "FA-2024-0311"
    assert keys.subject_for("camille@example.fr", CONTROLLER) == subject


def test_shredding_a_subject_destroys_keys_and_identity_durably(tmp_path: Path) -> None:
    master = secrets.token_bytes(32)
    store = SQLiteKeyStore(tmp_path / "keys.sqlite", master)
    subject = known(store, "camille@example.fr")
    key = store.data_key(subject, "marketing")
    wrapped = store._db.execute(  # the bytes that must not survive on disk
        "SELECT wrapped FROM data_keys WHERE key_id = ?", (key.key_id,)
    ).fetchone()[0]
    store.shred(subject)
    assert store.key_by_id(key.key_id) is None
    assert store.subject_for("camille@example.fr", CONTROLLER) is None
    store.close()
    reopened = SQLiteKeyStore(tmp_path / "keys.sqlite", master)
    assert reopened.key_by_id(key.key_id) is None
    reopened.close()
    for path in tmp_path.iterdir():
        data = path.read_bytes()
        assert bytes(wrapped) not in data and key.material not in data, f"key left in {path}"
