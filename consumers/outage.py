"""Riding out an outage of the log: capped exponential backoff, and what each loop of a
long-running process last knew of the log (served as metrics by ``consumers.metrics``).

A one-shot command fails on the first ``Unavailable``; ``pdl run`` must not: its loops
wait, report the outage in the log and the metrics, and resume by themselves.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ledger.errors import Unavailable

log = logging.getLogger(__name__)


@dataclass
class Backoff:
    """Delays between retries: ``first_s``, doubling up to ``cap_s``; ``reset`` on success."""

    first_s: float = 0.5
    cap_s: float = 10.0
    _next_s: float = field(init=False, default=0.0)

    def __post_init__(self) -> None:
        self._next_s = self.first_s

    def delay(self) -> float:
        """The delay before the next retry; each call doubles the one after, up to the cap."""
        now = self._next_s
        self._next_s = min(self.cap_s, self._next_s * 2)
        return now

    def reset(self) -> None:
        self._next_s = self.first_s


class LogHealth:
    """Whether one loop reached the log the last time it tried, and when it last did.

    Every instance is listed in ``LOOPS`` by its loop name, for the metrics collector."""

    def __init__(self, loop: str, clock: Callable[[], float] = time.time) -> None:
        self.loop = loop
        self._clock = clock
        self.reachable = True
        self.last_success = clock()
        self._lost_at: float | None = None
        LOOPS[loop] = self

    def succeeded(self) -> None:
        now = self._clock()
        if self._lost_at is not None:
            log.warning(
                "%s: the log is reachable again after %.0f s; resuming",
                self.loop,
                now - self._lost_at,
            )
            self._lost_at = None
        self.reachable = True
        self.last_success = now

    def failed(self, problem: Unavailable, retry_in_s: float) -> None:
        if self._lost_at is None:
            self._lost_at = self._clock()
            log.warning(
                "%s: the log is unreachable (%s); waiting for it, retrying with backoff",
                self.loop,
                problem.message,
            )
        else:
            log.info("%s: the log is still unreachable; next try in %.1f s", self.loop, retry_in_s)
        self.reachable = False

    def seconds_since_success(self) -> float:
        return max(0.0, self._clock() - self.last_success)


#: the loops of this process, by name (``pdl run``: projections and erasure processor)
LOOPS: dict[str, LogHealth] = {}


def keep_going(
    step: Callable[[], object],
    stop: threading.Event,
    health: LogHealth,
    every_s: float,
    backoff: Backoff | None = None,
) -> None:
    """Call ``step`` every ``every_s`` until ``stop`` is set; while it raises
    ``Unavailable``, retry with backoff instead. Any other error ends the loop."""
    backoff = backoff or Backoff()
    while not stop.is_set():
        try:
            step()
        except Unavailable as exc:
            delay = backoff.delay()
            health.failed(exc, delay)
            stop.wait(delay)
            continue
        health.succeeded()
        backoff.reset()
        stop.wait(every_s)
