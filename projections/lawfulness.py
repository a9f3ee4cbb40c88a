"""Questions about the past, answered from basis facts. Pure functions, deterministic.

"What was the basis for purpose P of subject S at instant T, as known at instant K?"
Only facts recorded by K count, and only those valid by T. The catalog version in force
at T gives the purpose's basis: consent-based purposes need a consent given and not
withdrawn or expired; legitimate-interest and public-task purposes hold unless the
subject objected; an active restriction (Art. 18) suspends any basis.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from ledger.contract.vocabulary import LegalBasis
from ledger.policy.catalog import Catalogs
from projections.basis import BasisFacts, Fact

OBJECTABLE = frozenset({LegalBasis.legitimate_interest, LegalBasis.public_task})
_CONSENT_KINDS = ("consent_given", "consent_withdrawn")
_INSTANT = timedelta(microseconds=1)


@dataclass(frozen=True)
class Status:
    basis: str | None
    reason: str
    evidence: tuple[Fact, ...]
    catalog_version: str | None

    @property
    def identity(self) -> tuple[str | None, tuple[str, ...]]:
        return self.basis, tuple(f.event_id for f in self.evidence)


@dataclass(frozen=True)
class BasisAnswer:
    at: datetime
    known_at: datetime
    status: Status
    valid_from: datetime | None  # None: since before anything the ledger knows
    valid_to: datetime | None  # None: still holds
    believed_from: datetime | None  # record time from which the ledger gave this answer
    believed_until: datetime | None  # record time at which it stopped (None: still does)


@dataclass(frozen=True)
class Judgement:
    processed: Fact
    then: BasisAnswer
    now: BasisAnswer
    verdict_then: Literal["lawful", "unlawful"]
    verdict_now: Literal["lawful", "unlawful"]
    note: str | None


def status(facts: BasisFacts, catalogs: Catalogs, at: datetime, known_at: datetime) -> Status:
    catalog = catalogs.in_force(facts.controller, at)
    purpose = None if catalog is None else catalog.purpose(facts.purpose)
    if catalog is None or purpose is None:
        return Status(
            None,
            f"no policy of {facts.controller} in force declares {facts.purpose!r} at that instant",
            (),
            None,
        )
    known = [
        f
        for f in facts.facts
        if f.recorded_at <= known_at and f.valid_at <= at and f.kind != "processed"
    ]
    version = catalog.version
    restriction = _last(known, ("restricted", "unrestricted"))
    if restriction is not None and restriction.kind == "restricted":
        return Status(
            None,
            f"processing restricted (Art. 18) since {restriction.valid_at.isoformat()}",
            (restriction,),
            version,
        )
    if purpose.basis is LegalBasis.consent:
        return _consent_status(_last(known, _CONSENT_KINDS), at, version)
    if purpose.basis in OBJECTABLE:
        objection = _last(known, ("objection",))
        if objection is not None:
            return Status(
                None,
                f"the subject objected (Art. 21) on {objection.valid_at.isoformat()}",
                (objection,),
                version,
            )
    return Status(
        purpose.basis.value,
        f"{purpose.basis.value}, as catalog {facts.controller} {version} declares",
        (),
        version,
    )


def _consent_status(last: Fact | None, at: datetime, version: str) -> Status:
    if last is None:
        return Status(None, "no consent recorded", (), version)
    when = last.valid_at.isoformat()
    if last.kind == "consent_withdrawn":
        return Status(None, f"consent withdrawn on {when}", (last,), version)
    if last.expires_at is not None and at >= last.expires_at:
        return Status(
            None,
            f"consent given on {when} expired on {last.expires_at.isoformat()}",
            (last,),
            version,
        )
    return Status(LegalBasis.consent.value, f"consent given on {when}", (last,), version)


def _last(facts: Sequence[Fact], kinds: Sequence[str]) -> Fact | None:
    matching = [f for f in facts if f.kind in kinds]
    return max(matching, key=lambda f: f.order) if matching else None


def basis_at(
    facts: BasisFacts, catalogs: Catalogs, at: datetime, known_at: datetime
) -> BasisAnswer:
    """The basis at ``at`` as known at ``known_at``, with its interval in valid time and
    the interval in record time during which the ledger gave this answer."""
    current = status(facts, catalogs, at, known_at)
    valid_points = sorted(
        {f.valid_at for f in facts.facts if f.recorded_at <= known_at}
        | set(_catalog_points(facts, catalogs))
    )
    before = [p for p in valid_points if p <= at]
    after = [p for p in valid_points if p > at]
    valid_from = _run_start(before, lambda p: status(facts, catalogs, p, known_at), current)
    valid_to = next(
        (p for p in after if status(facts, catalogs, p, known_at).identity != current.identity),
        None,
    )
    record_points = sorted({f.recorded_at for f in facts.facts})
    believed_from = _run_start(
        [p for p in record_points if p <= known_at],
        lambda k: status(facts, catalogs, at, k),
        current,
    )
    believed_until = next(
        (
            k
            for k in record_points
            if k > known_at and status(facts, catalogs, at, k).identity != current.identity
        ),
        None,
    )
    return BasisAnswer(at, known_at, current, valid_from, valid_to, believed_from, believed_until)


def _run_start(
    points: Sequence[datetime], status_at: Callable[[datetime], Status], current: Status
) -> datetime | None:
    """Where the run of ``current`` that reaches the last point began: the earliest point
    from which every later point gives the same answer; None if it held before them all."""
    start: datetime | None = None
    for point in reversed(points):
        if status_at(point).identity != current.identity:
            return start
        start = point
    if start is not None and status_at(start - _INSTANT).identity == current.identity:
        return None
    return start


def _catalog_points(facts: BasisFacts, catalogs: Catalogs) -> list[datetime]:
    return [c.effective_from for c in catalogs.versions(facts.controller)]


def judge(facts: BasisFacts, catalogs: Catalogs, now: datetime) -> list[Judgement]:
    """Every processing of the purpose, judged as known when it was recorded and now."""
    judgements = []
    for p in (f for f in facts.facts if f.kind == "processed"):
        then = basis_at(facts, catalogs, p.valid_at, p.recorded_at)
        later = basis_at(facts, catalogs, p.valid_at, now)
        actual = later.status.basis
        note = None
        if actual is not None and p.claimed_basis != actual:
            note = f"the system claimed {p.claimed_basis}; the basis was {actual}"
        judgements.append(
            Judgement(
                p,
                then,
                later,
                "lawful" if then.status.basis else "unlawful",
                "lawful" if actual else "unlawful",
                note,
            )
        )
    return judgements
