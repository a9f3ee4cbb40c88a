"""Topic and consumer-group names, and partition counts. One topic per event family,
keyed by subject id.

Names are ``<prefix><family>``, so several ledgers (or test runs) can share one cluster.
Consumer groups follow the prefix too (``<prefix>pdl-projections``), so ledgers sharing
a cluster never share a group: no rebalance across unrelated ledgers, no mixed lag.
Under the default prefix the groups keep the names they had before they followed it
(``pdl-projections``, ``pdl-erasure``), so existing installations go on as they were.
The prefix and the partition count are settings (``ledger.service.settings``); this
module only names topics from them and never reads the environment.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.contract.events import EVENT_TYPES

DEFAULT_PREFIX = "pdl."
DEFAULT_PARTITIONS = 3

#: the consumer groups as named under the default prefix (and by every ledger before
#: group names followed the prefix: ``consumers.group_rename`` moves their checkpoints)
PROJECTIONS_GROUP = "pdl-projections"
ERASURE_GROUP = "pdl-erasure"


@dataclass(frozen=True)
class Topics:
    """The topics of one ledger: ``Topics("pdl.", 3).of("consent") == "pdl.consent"``."""

    prefix: str = DEFAULT_PREFIX
    partitions: int = DEFAULT_PARTITIONS

    def of(self, family: str) -> str:
        return self.prefix + family

    @property
    def dead_letter(self) -> str:
        return self.of("deadletter")

    @property
    def schemas(self) -> str:
        """Compacted: every writer schema ever used, keyed by its fingerprint."""
        return self.of("schemas")

    @property
    def policy(self) -> str:
        return self.of("policy")

    @property
    def erasure(self) -> str:
        return self.of("erasure")

    def group(self, name: str) -> str:
        """The consumer group ``name`` (as named under the default prefix) of this ledger."""
        return name if self.prefix == DEFAULT_PREFIX else self.prefix + name

    @property
    def projections_group(self) -> str:
        """The group the projection consumers read the event topics as."""
        return self.group(PROJECTIONS_GROUP)

    @property
    def erasure_group(self) -> str:
        """The group the erasure processor reads the erasure topic as."""
        return self.group(ERASURE_GROUP)

    def event_topics(self) -> list[str]:
        """Every topic events are appended to, sorted."""
        return sorted({self.of(cls.topic_family) for cls in EVENT_TYPES.values()})

    def compacted(self) -> list[str]:
        return [self.schemas]

    def all(self) -> dict[str, int]:
        """Every topic the ledger uses, with its partition count."""
        topics = dict.fromkeys(self.event_topics(), self.partitions)
        topics[self.dead_letter] = 1
        topics[self.schemas] = 1
        return topics
