"""Topic names and partition counts. One topic per event family, keyed by subject id.

Names are ``<prefix><family>``, so several ledgers (or test runs) can share one cluster.
The prefix and the partition count are settings (``ledger.service.settings``); this
module only names topics from them and never reads the environment.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.contract.events import EVENT_TYPES

DEFAULT_PREFIX = "pdl."
DEFAULT_PARTITIONS = 3


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
