"""The configuration a ledger topic is created with, and read back as, on a Kafka
cluster, whichever client library creates it (``ledger.log.kafka``,
``ledger.log.confluent``): the topic contract (``ledger_topic_config``) plus the
replication the cluster can give.
"""

from __future__ import annotations

from collections.abc import Callable

from ledger.log.base import MIN_INSYNC_REPLICAS, ledger_topic_config

#: the configuration names a topic's ``TopicSettings`` report
SETTING_NAMES = (*ledger_topic_config(compacted=False), MIN_INSYNC_REPLICAS)


def replication_of(
    replication_factor: int | None, min_insync_replicas: int | None, brokers: Callable[[], int]
) -> tuple[int, int]:
    """The replication factor and min.insync.replicas new topics get: the settings, else
    the cluster's broker count (asked only then) up to 3, and one less (at least 1)."""
    replication = min(3, max(1, brokers())) if replication_factor is None else replication_factor
    return replication, min_insync_replicas or max(1, replication - 1)


def new_topic_config(compacted: bool, min_insync: int) -> dict[str, str]:
    """A new topic's configuration: the topic contract and its in-sync minimum."""
    return {**ledger_topic_config(compacted), MIN_INSYNC_REPLICAS: str(min_insync)}
