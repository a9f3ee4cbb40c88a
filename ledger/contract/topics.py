"""Topic names and partition counts. One topic per event family, keyed by subject id.

Names are ``<prefix><family>`` with the prefix from ``PDL_TOPIC_PREFIX`` (default
``pdl.``), so several ledgers (or test runs) can share one cluster.
"""

from __future__ import annotations

import os

from ledger.contract.events import EVENT_TYPES

DEFAULT_PREFIX = "pdl."
DEFAULT_PARTITIONS = 3


def prefix() -> str:
    return os.environ.get("PDL_TOPIC_PREFIX", DEFAULT_PREFIX)


def topic_of(family: str) -> str:
    return prefix() + family


def dead_letter_topic() -> str:
    return topic_of("deadletter")


def schema_topic() -> str:
    """Compacted: every writer schema ever used, keyed by its fingerprint."""
    return topic_of("schemas")


def compacted_topics() -> list[str]:
    return [schema_topic()]


def event_topics() -> list[str]:
    """Every topic events are appended to, sorted."""
    return sorted({topic_of(cls.topic_family) for cls in EVENT_TYPES.values()})


def partitions() -> int:
    return int(os.environ.get("PDL_PARTITIONS", DEFAULT_PARTITIONS))


def all_topics() -> dict[str, int]:
    """Every topic the ledger uses, with its partition count."""
    topics = {name: partitions() for name in event_topics()}
    topics[dead_letter_topic()] = 1
    topics[schema_topic()] = 1
    return topics
