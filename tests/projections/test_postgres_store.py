"""The PostgreSQL projection store passes the port's contract and eventsourcing's
TrackingRecorder test case, against a real server (``PDL_TEST_POSTGRES``), each test in
schemas of its own that are dropped after it."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from eventsourcing.persistence import TrackingRecorder
from eventsourcing.tests.persistence import TrackingRecorderTestCase
from psycopg import sql

from consumers import postgres_schema, postgres_store
from consumers.postgres_store import PostgreSQLProjectionStore, schema_for
from consumers.sqlite_store import SQLiteProjectionStore
from consumers.store import ProjectionStore, StoreError
from consumers.store_testcase import (
    ALICE,
    BOB,
    EVENTS_0,
    GROUP,
    OTHER,
    T0,
    ProjectionStoreTestCase,
    entry,
)
from ledger.log.base import TopicPartition
from tests.conftest import require_postgres

pytestmark = pytest.mark.postgres


def drop_schemas(url: str, prefix: str) -> None:
    with psycopg.connect(url, autocommit=True) as db:
        names = db.execute(
            "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, %s)", (prefix,)
        ).fetchall()
        for (name,) in names:
            db.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(name)))


class PostgreSQLStores:
    """Stores in this test's own schemas (``make_store(name)``), dropped afterwards."""

    @pytest.fixture(autouse=True)
    def _schemas(self) -> Iterator[None]:
        self.url = require_postgres()
        self.prefix = f"t{uuid.uuid4().hex[:12]}"
        yield
        drop_schemas(self.url, self.prefix)

    def make_store(self, name: str = "projections") -> ProjectionStore:
        return PostgreSQLProjectionStore(self.url, schema_for(self.prefix, name))


class TestPostgreSQLProjectionStore(PostgreSQLStores, ProjectionStoreTestCase):
    pass


class TestPostgreSQLStoreIsATrackingRecorder(TrackingRecorderTestCase):
    def setUp(self) -> None:
        self.url = require_postgres()
        self.schema = f"t{uuid.uuid4().hex[:12]}"
        self.opened: list[PostgreSQLProjectionStore] = []

    def tearDown(self) -> None:
        for store in self.opened:
            store.close()
        drop_schemas(self.url, self.schema)

    def create_recorder(self) -> TrackingRecorder:
        self.opened.append(PostgreSQLProjectionStore(self.url, self.schema))
        return self.opened[-1]


class TestWhatOnlyAServerStoreDoes(PostgreSQLStores):
    def test_members_on_different_partitions_lose_no_update(self) -> None:
        """Two members (each its own pool, as two processes would be) fold one subject's
        state from their own partitions, concurrently: every increment is kept."""
        members = [self.make_store() for _ in range(2)]
        rounds = 40
        failures: list[BaseException] = []

        def member(store: ProjectionStore, tp: TopicPartition) -> None:
            try:
                for _ in range(rounds):
                    with store.unit_of_work() as uow:
                        count = int(uow.state("subject_state", ALICE) or "0")
                        uow.put_state("subject_state", ALICE, str(count + 1))
                        uow.set_checkpoint(GROUP, tp, uow.checkpoint(GROUP, tp) + 1)
            except BaseException as exc:  # reported by the main thread
                failures.append(exc)

        threads = [
            threading.Thread(target=member, args=(store, tp))
            for store, tp in zip(members, (EVENTS_0, OTHER), strict=True)
        ]
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(60)
            assert not failures
            assert members[0].state("subject_state", ALICE) == str(2 * rounds)
            assert members[1].checkpoints(GROUP) == {EVENTS_0: rounds, OTHER: rounds}
        finally:
            for store in members:
                store.close()

    def test_the_canonical_dump_is_the_sqlite_stores(self, tmp_path: Path) -> None:
        """Line for line: a store moved from one adapter to the other can be compared."""
        server = self.make_store()
        embedded = SQLiteProjectionStore(tmp_path / "projections.sqlite")
        try:
            for store in (server, embedded):
                with store.unit_of_work() as uow:
                    uow.put_state("basis", "sub_a|é", "s1")
                    uow.journal(entry(ALICE, T0, "e1", offset=3))
                    uow.journal(entry(BOB, T0, "e2", offset=4))
                    uow.set_checkpoint(GROUP, EVENTS_0, 5)
            assert list(server.canonical_dump()) == list(embedded.canonical_dump())
        finally:
            server.close()
            embedded.close()

    def test_states_are_read_in_pages(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(postgres_store, "_PAGE", 3)
        store = self.make_store()
        try:
            keys = [f"sub_a|{i:02}" for i in range(10)] + ["sub_b"]
            with store.unit_of_work() as uow:
                for key in keys:
                    uow.put_state("basis", key, key.upper())
            assert [k for k, _ in store.states("basis")] == keys
            assert [k for k, _ in store.states_with_prefix("basis", "sub_a|")] == keys[:-1]
            assert list(store.states_with_prefix("basis", "sub_a|0"))[-1] == (
                "sub_a|09",
                "SUB_A|09",
            )
        finally:
            store.close()

    def test_schemas_keep_stores_apart(self) -> None:
        one, two = self.make_store("one"), self.make_store("two")
        try:
            with one.unit_of_work() as uow:
                uow.put_state("basis", "k", "s")
                uow.set_checkpoint(GROUP, EVENTS_0, 1)
            assert two.state("basis", "k") is None
            assert two.checkpoints(GROUP) == {}
        finally:
            one.close()
            two.close()

    def test_a_group_is_not_read_as_the_prefix_of_another(self) -> None:
        store = self.make_store()
        try:
            with store.unit_of_work() as uow:
                uow.set_checkpoint("a|b", EVENTS_0, 4)
                uow.set_checkpoint("a", EVENTS_0, 2)
            assert store.checkpoints("a") == {EVENTS_0: 2}
            assert store.checkpoints("a|b") == {EVENTS_0: 4}
        finally:
            store.close()

    def test_a_closed_store_says_so(self) -> None:
        store = self.make_store()
        store.close()
        store.close()
        with pytest.raises(StoreError, match="closed"):
            store.state("basis", "k")


def test_an_unreachable_server_is_a_store_error_without_the_password() -> None:
    # port 1 on loopback: nothing listens there, the connection is refused at once
    with pytest.raises(StoreError) as refused:
        PostgreSQLProjectionStore("postgresql://pdl:s3cret-word@127.0.0.1:1/pdl")
    assert "s3cret-word" not in str(refused.value)
    assert "127.0.0.1:1" in refused.value.message
    assert refused.value.fix and "PostgreSQL runs" in refused.value.fix


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (("pdl", "projections"), "pdl_projections"),
        (("t0a1b2c3d4e5f", "dump-a"), None),
        (("kafka-127.0.0.1:9092", "x" * 80), None),
    ],
)
def test_schema_names_are_sql_names(names: tuple[str, ...], expected: str | None) -> None:
    name = schema_for(*names)
    assert postgres_schema.SCHEMA_NAME.fullmatch(name), name
    if expected is not None:
        assert name == expected
    assert schema_for(*names) == name
    assert schema_for(*names, "other") != name


def test_a_schema_that_is_not_a_sql_name_is_refused() -> None:
    with pytest.raises(ValueError, match="schema"):
        PostgreSQLProjectionStore("postgresql://127.0.0.1:1/pdl", schema='x"; DROP')
