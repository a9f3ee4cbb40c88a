"""Topic names and partition counts. One topic per event family, keyed by subject id."""

from __future__ import annotations

import os

from ledger.contract.events import EVENT_TYPES

PREFIX = "pdl."
DEAD_LETTER_TOPIC = PREFIX + "deadletter"
DEFAULT_PARTITIONS = 3


def topic_of(family: str) -> str:
    return PREFIX + family


def event_topics() -> list[str]:
    """Every topic events are appended to, sorted."""
    return sorted({topic_of(cls.topic_family) for cls in EVENT_TYPES.values()})


def partitions() -> int:
    return int(os.environ.get("PDL_PARTITIONS", DEFAULT_PARTITIONS))


def all_topics() -> dict[str, int]:
    """Every topic the ledger uses, with its partition count."""
    topics = {name: partitions() for name in event_topics()}
    topics[DEAD_LETTER_TOPIC] = 1
    return topics
