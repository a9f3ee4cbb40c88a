"""Consumers already running, each with its own key store and a warm cache of unwrapped
keys, stop decrypting erased data the moment the erasure lands, before they have even
consumed the DataErased event."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.contract.sealed import field_ad
from ledger.keys.sealing import Unreadable, open_sealed, seal
from ledger.keys.sqlite_store import SQLiteKeyStore
from tests.conftest import LedgerFactory
from tests.erasure.helpers import informatique70_customer, request_erasure


class Consumer:
    def __init__(self, store: Path, group: str, log_url: str | None) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.erasure.consumer_process", str(store), group],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=dict(os.environ, **({"PDL_LOG": log_url} if log_url else {})),
        )

    def ask(self, command: str) -> str:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        assert answer, f"consumer died on {command!r}"
        return answer.strip()

    def show(self, subject: str) -> dict[str, str]:
        shown: dict[str, str] = json.loads(self.ask(f"show {subject}"))
        return shown

    def stop(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=60)


@pytest.fixture
def consumers(tmp_path: Path, log_url: str | None) -> Iterator[list[Consumer]]:
    started = [
        Consumer(tmp_path / f"consumer-{i}.sqlite", f"consumer-{i}", log_url) for i in (1, 2)
    ]
    yield started
    for consumer in started:
        consumer.stop()


def test_two_running_consumers_stop_decrypting_when_the_erasure_lands(
    make_ledger: LedgerFactory, consumers: list[Consumer]
) -> None:
    ledger = make_ledger()
    customer = informatique70_customer(ledger)
    subject = customer.subject_id
    for consumer in consumers:
        assert consumer.ask("catchup") == "ok"
        shown = consumer.show(subject)  # decrypts: keys are now cached in that process
        assert shown["call_recording"] == customer.by_label["call_recording"]
        assert shown["email"] == customer.by_label["email"]

    (outcome,) = request_erasure(ledger, subject)
    assert outcome.certificate is not None

    for consumer in consumers:  # no catch-up: they have not seen DataErased yet
        shown = consumer.show(subject)
        assert shown["call_recording"] == shown["email"] == shown["first_name"] == "[erased]"
        assert shown["invoice"] == customer.by_label["invoice"]
    for consumer in consumers:  # and after consuming it, the same
        assert consumer.ask("catchup") == "ok"
        assert consumer.show(subject)["call_recording"] == "[erased]"


def test_a_store_with_the_key_cached_stops_serving_it_once_another_shreds_it(
    tmp_path: Path,
) -> None:
    master = secrets.token_bytes(32)
    path = tmp_path / "keys.sqlite"
    first, second, eraser = (SQLiteKeyStore(path, master) for _ in range(3))
    subject = first.assign_subject(first.new_subject(), "informatique70")
    key = first.data_key(subject, "marketing")
    ad = field_ad(subject, "e", "values[0].value")
    sealed = seal("newsletter address", key, ad)
    assert open_sealed(sealed, first, ad) == open_sealed(sealed, second, ad)  # both cached
    eraser.shred(subject, {"marketing"})
    for store in (first, second):
        with pytest.raises(Unreadable, match="destroyed"):
            open_sealed(sealed, store, ad)
        store.close()
    eraser.close()
