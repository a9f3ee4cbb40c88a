"""A purpose's legal basis over valid time, as known at K, and the judgements of its
processing as of T. Pure: facts and catalogs in, data out (the JSON views of answers,
facts and judgements are ``ledger.service.views``).

The timeline evaluates ``projections.lawfulness.status`` at every instant where the
answer can change (a fact's valid time, a catalog version taking effect) and merges the
runs that give the same answer, so it agrees with ``basis_at`` at every instant.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ledger.policy.catalog import Catalogs
from ledger.reports.reading import iso
from projections.basis import BasisFacts
from projections.lawfulness import Judgement, judge, status


@dataclass(frozen=True)
class Segment:
    """The basis held from ``start`` (inclusive) to ``end`` (exclusive)."""

    start: datetime
    end: datetime
    basis: str | None
    reason: str
    evidence: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "from": iso(self.start),
            "to": iso(self.end),
            "basis": self.basis,
            "reason": self.reason,
            "evidence": list(self.evidence),
        }


def basis_timeline(
    facts: BasisFacts, catalogs: Catalogs, known_at: datetime, start: datetime, end: datetime
) -> list[Segment]:
    """The basis from ``start`` to ``end`` as known at ``known_at``, in merged runs."""
    if end <= start:
        return []
    changes = {f.valid_at for f in facts.facts if f.recorded_at <= known_at}
    changes |= {c.effective_from for c in catalogs.versions(facts.controller)}
    points = [start, *sorted(p for p in changes if start < p < end)]
    segments: list[Segment] = []
    for i, point in enumerate(points):
        answer = status(facts, catalogs, point, known_at)
        identity = (answer.basis, tuple(f.event_id for f in answer.evidence))
        stop = points[i + 1] if i + 1 < len(points) else end
        last = segments[-1] if segments else None
        if last is not None and (last.basis, last.evidence) == identity:
            segments[-1] = Segment(last.start, stop, last.basis, last.reason, last.evidence)
        else:
            segments.append(Segment(point, stop, identity[0], answer.reason, identity[1]))
    return segments


def first_fact_at(facts: BasisFacts) -> datetime | None:
    return min((f.valid_at for f in facts.facts), default=None)


def judgements_as_of(
    facts: BasisFacts, catalogs: Catalogs, at: datetime, known_at: datetime
) -> list[Judgement]:
    """Every processing valid by ``at``, judged as known when recorded and as known at K
    (``facts`` must hold only what was recorded by K)."""
    return [j for j in judge(facts, catalogs, known_at) if j.processed.valid_at <= at]


def unlawful(judgements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The processing found unlawful as known then or as known at K."""
    return [j for j in judgements if "unlawful" in (j["verdict_then"], j["verdict_now"])]
