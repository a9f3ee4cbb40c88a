"""Rebuilds, dumps and consumer groups: the same projections however they are built."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from consumers.rebuild import rebuild
from consumers.runner import ProjectionConsumer
from consumers.sqlite_store import SQLiteProjectionStore
from consumers.store import ProjectionStore
from ledger.service.backends import Backends
from ledger.service.settings import Settings
from ledger.service.submission import submit_lines
from projections.installed import all_projections
from tests.cli.test_cli import pdl
from tests.conftest import LedgerFactory
from tests.scenario import collected, consent, doc_examples, lines


def dump(store: ProjectionStore) -> list[str]:
    return list(store.canonical_dump())


def test_rebuild_reproduces_the_projections(make_ledger: LedgerFactory, tmp_path: Path) -> None:
    ledger = make_ledger()
    producible = [e for e in doc_examples() if e["type"] != "DataErased"]
    submit_lines(ledger.intake(), [json.dumps(e) for e in producible])
    ledger.runner().catch_up()
    before = dump(ledger.store)
    progress = rebuild(ledger.log, ledger.registry, ledger.topics, tmp_path / "rebuilt.sqlite")
    assert progress.applied == len(producible)
    rebuilt = SQLiteProjectionStore(tmp_path / "rebuilt.sqlite")
    assert dump(rebuilt) == before
    rebuilt.close()


def test_cli_rebuild_dump_and_basis(log_url: str | None) -> None:
    events = lines(collected("cli@example.fr", "cli@example.fr"), consent("cli@example.fr"))
    assert pdl("emit", "-", stdin="\n".join(events), log_url=log_url).returncode == 0
    first = pdl("dump", log_url=log_url)
    assert first.returncode == 0 and "state\tsubject_state\tsub_" in first.stdout
    assert pdl("rebuild", log_url=log_url).returncode == 0
    assert pdl("dump", log_url=log_url).stdout == first.stdout
    answer = pdl(
        "basis", "cli@example.fr", "newsletter", "--at", "2024-03-02", "--json", log_url=log_url
    )
    assert answer.returncode == 0, answer.stderr
    view = json.loads(answer.stdout)
    answer = view["basis_at"]
    assert answer["basis"] == "consent" and answer["evidence"][0]["kind"] == "consent_given"
    bad = pdl("basis", "cli@example.fr", "newsletter", "--at", "last tuesday", log_url=log_url)
    assert bad.returncode == 2 and "not an ISO 8601 instant" in bad.stderr


@pytest.mark.kafka
def test_two_consumers_in_a_group_share_partitions(kafka_address: str, tmp_path: Path) -> None:
    ledger = Backends(Settings.from_environment(f"kafka://{kafka_address}", tmp_path / "data"))
    stores = [SQLiteProjectionStore(ledger.store_path) for _ in range(2)]
    runners = [
        ProjectionConsumer(ledger.log, s, ledger.registry, all_projections(), ledger.topics)
        for s in stores
    ]
    consumers = [r.open_consumer() for r in runners]
    # each member keeps polling (so the group's rebalance can complete) until both hold
    # partitions at the same time; only then is anything appended
    holding = [False, False]

    def consume(i: int) -> None:
        while not all(holding):
            runners[i].step(consumers[i], timeout_s=0.2)
            holding[i] = bool(consumers[i].positions())
        while not runners[i].caught_up() or not done.is_set():
            runners[i].step(consumers[i], timeout_s=0.2)

    done = threading.Event()
    threads = [threading.Thread(target=consume, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 120
    while not all(holding) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert all(holding), "both members joined the group"
    subjects = [f"group{i}@example.fr" for i in range(40)]
    submit_lines(ledger.intake(), lines(*(consent(s) for s in subjects)))
    done.set()
    for t in threads:
        t.join(timeout=180)
    for c in consumers:
        c.close()
    assert all(r.progress.applied > 0 for r in runners), "both members made progress"
    assert sum(r.progress.applied for r in runners) == len(subjects)
    shared = dump(stores[0])
    alone = tmp_path / "alone.sqlite"
    rebuild(ledger.log, ledger.registry, ledger.topics, alone)
    single = SQLiteProjectionStore(alone)
    assert dump(single) == shared
    for s in [*stores, single]:
        s.close()
    ledger.close()
