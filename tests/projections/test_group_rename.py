"""Consumer groups follow the topic prefix; a store kept under the former group names is
picked up where it stopped (issue 16). Embedded log: the store's checkpoints are what
moves; the broker's own group offsets are the operator's (docs/OPERATORS.md)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from consumers.group_rename import adopt_checkpoints
from consumers.runner import ProjectionConsumer
from consumers.sqlite_store import SQLiteProjectionStore
from ledger.contract.topics import DEFAULT_PREFIX, ERASURE_GROUP, PROJECTIONS_GROUP, Topics
from ledger.log.base import TopicPartition
from ledger.service.backends import Backends
from ledger.service.settings import Settings
from projections.installed import all_projections
from tests.scenario import collected, consent


def test_groups_follow_the_prefix_and_keep_their_names_under_the_default() -> None:
    assert Topics().projections_group == "pdl-projections" == PROJECTIONS_GROUP
    assert Topics(DEFAULT_PREFIX).erasure_group == "pdl-erasure" == ERASURE_GROUP
    acme, other = Topics("acme."), Topics("other.")
    assert acme.projections_group == "acme.pdl-projections"
    assert acme.erasure_group == "acme.pdl-erasure"
    assert {acme.projections_group, acme.erasure_group}.isdisjoint(
        {other.projections_group, other.erasure_group, PROJECTIONS_GROUP, ERASURE_GROUP}
    )


def _ledger(tmp_path: Path) -> Backends:
    return Backends(Settings.from_environment(None, tmp_path / "data"))


def test_a_store_kept_under_the_former_group_name_resumes_where_it_stopped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ledger = _ledger(tmp_path)
    topics = ledger.topics
    assert topics.prefix != DEFAULT_PREFIX  # each test has a prefix of its own (conftest)
    intake = ledger.intake()
    subject = "a@example.fr"
    intake.append([intake.prepare(e) for e in (collected(subject, subject), consent(subject))])
    # what a ledger of an earlier version left: its projections folded as pdl-projections
    earlier = SQLiteProjectionStore(ledger.store_path)
    ProjectionConsumer(
        ledger.log,
        earlier,
        ledger.registry,
        all_projections(),
        topics,
        group=PROJECTIONS_GROUP,
        grouped=False,
    ).catch_up()
    folded = earlier.checkpoints(PROJECTIONS_GROUP)
    earlier.close()
    assert sum(folded.values()) == 2
    ledger.close()

    now = _ledger(tmp_path)
    with caplog.at_level(logging.INFO, logger="consumers.group_rename"):
        store = now.store
    assert store.checkpoints(topics.projections_group) == folded
    assert f"moved to {topics.projections_group}" in caplog.text
    # nothing is applied twice: the consumer opens at the moved checkpoints
    assert now.catch_up().applied == 0
    # once: with checkpoints under the new name, the former ones are left alone
    moved_again = adopt_checkpoints(
        store, PROJECTIONS_GROUP, topics.projections_group, topics.event_topics()
    )
    assert moved_again == 0
    now.close()


def test_only_this_ledgers_topics_move_and_the_erasure_group_too(tmp_path: Path) -> None:
    topics = Topics("acme.")
    store = SQLiteProjectionStore(tmp_path / "erasure.sqlite")
    try:
        ours = TopicPartition(topics.erasure, 0)
        theirs = TopicPartition("other.erasure", 0)  # a ledger with another prefix, same file
        with store.unit_of_work() as uow:
            uow.set_checkpoint(ERASURE_GROUP, ours, 7)
            uow.set_checkpoint(ERASURE_GROUP, theirs, 3)
        moved = adopt_checkpoints(store, ERASURE_GROUP, topics.erasure_group, [topics.erasure])
        assert moved == 1
        assert store.checkpoints(topics.erasure_group) == {ours: 7}
        # under the default prefix the name did not change: nothing to do
        assert adopt_checkpoints(store, ERASURE_GROUP, ERASURE_GROUP, [topics.erasure]) == 0
    finally:
        store.close()
