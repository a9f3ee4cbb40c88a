"""What a consumer loop reports about itself, for metrics and progress displays.

The loop calls an ``Observer``; the default does nothing. Metrics (Prometheus) and
progress bars are observers, so the loop itself stays free of either.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ledger.log.base import LogRecord, TopicPartition
from projections.base import Recorded


class Observer:
    """No-op base: override what you need. Called from the consumer's own thread."""

    def batch_applied(
        self,
        group: str,
        outcomes: Sequence[tuple[LogRecord, Recorded | str]],
        apply_seconds: float,
        commit_seconds: float,
    ) -> None:
        """A batch was committed: each record with its event, or the dead-letter reason."""

    def positions(self, group: str, positions: Mapping[TopicPartition, int]) -> None:
        """Where the consumer now is on each partition it owns (after a commit or poll)."""


class Observers(Observer):
    """Several observers as one."""

    def __init__(self, *observers: Observer) -> None:
        self._all = observers

    def batch_applied(
        self,
        group: str,
        outcomes: Sequence[tuple[LogRecord, Recorded | str]],
        apply_seconds: float,
        commit_seconds: float,
    ) -> None:
        for o in self._all:
            o.batch_applied(group, outcomes, apply_seconds, commit_seconds)

    def positions(self, group: str, positions: Mapping[TopicPartition, int]) -> None:
        for o in self._all:
            o.positions(group, positions)
