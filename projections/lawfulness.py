"""Questions about the past, answered from basis facts. Pure functions, deterministic.

"What was the basis for purpose P of subject S at instant T, as known at instant K?"
Only facts recorded by K count, and only those valid by T; the catalog in force is the
latest version effective at T among those published by K. It gives the purpose's basis:
consent-based purposes need a consent given and not withdrawn or expired;
legitimate-interest and public-task purposes hold unless the subject objected; an active
restriction (Art. 18) of the purpose or of the whole subject suspends any basis.

Each processing and each disclosure is then judged (``judge``): it is lawful when the
basis held and nothing else breaks the rules: a restriction of a category it used, a
consent that does not cover its categories or its recipient, a claimed basis other than
the declared one, a transfer outside the EEA without a valid safeguard (``breaches``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from ledger.contract.vocabulary import LegalBasis
from ledger.policy.adequacy import adequacy_decisions
from ledger.policy.catalog import EEA, Catalogs
from projections.basis import BasisFacts, Fact

OBJECTABLE = frozenset({LegalBasis.legitimate_interest, LegalBasis.public_task})
_CONSENT_KINDS = ("consent_given", "consent_withdrawn")
_ACTS = ("processed", "shared")
_RESTRICTION_KINDS = ("restricted", "unrestricted")
_INSTANT = timedelta(microseconds=1)


@dataclass(frozen=True)
class Status:
    basis: str | None
    reason: str
    evidence: tuple[Fact, ...]
    catalog_version: str | None
    #: the basis the catalog in force declares for the purpose (whether or not it held)
    declared: str | None = None

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
    #: what else made it unlawful, as known then and as known now (basis aside)
    breaches_then: tuple[str, ...] = ()
    breaches_now: tuple[str, ...] = ()


def status(facts: BasisFacts, catalogs: Catalogs, at: datetime, known_at: datetime) -> Status:
    catalog = catalogs.in_force(facts.controller, at, known_at)
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
        if f.recorded_at <= known_at and f.valid_at <= at and f.kind not in _ACTS
    ]
    version, declared = catalog.version, purpose.basis.value
    restriction = _suspending(known)
    if restriction is not None:
        what = "the subject's data" if restriction.scope == "subject" else "processing"
        return Status(
            None,
            f"{what} restricted (Art. 18) since {restriction.valid_at.isoformat()}",
            (restriction,),
            version,
            declared,
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
                declared,
            )
    return Status(
        purpose.basis.value,
        f"{purpose.basis.value}, as catalog {facts.controller} {version} declares",
        (),
        version,
        declared,
    )


def active_restrictions(known: Sequence[Fact]) -> dict[str, Fact]:
    """The restrictions in force among ``known``, by scope: each scope's latest event."""
    latest: dict[str, Fact] = {}
    for f in known:
        if f.kind in _RESTRICTION_KINDS:
            scope = f.scope or "purpose"  # facts recorded before scopes were kept
            if scope not in latest or f.order > latest[scope].order:
                latest[scope] = f
    return {scope: f for scope, f in latest.items() if f.kind == "restricted"}


def _suspending(known: Sequence[Fact]) -> Fact | None:
    """The restriction of the purpose or of the whole subject in force, if any."""
    found = [f for s, f in active_restrictions(known).items() if not s.startswith("category:")]
    return min(found, key=lambda f: f.order) if found else None


def _consent_status(last: Fact | None, at: datetime, version: str) -> Status:
    declared = LegalBasis.consent.value
    if last is None:
        return Status(None, "no consent recorded", (), version, declared)
    when = last.valid_at.isoformat()
    if last.kind == "consent_withdrawn":
        return Status(None, f"consent withdrawn on {when}", (last,), version, declared)
    if last.expires_at is not None and at >= last.expires_at:
        return Status(
            None,
            f"consent given on {when} expired on {last.expires_at.isoformat()}",
            (last,),
            version,
            declared,
        )
    return Status(declared, f"consent given on {when}", (last,), version, declared)


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
    record_points = sorted(
        {f.recorded_at for f in facts.facts} | set(catalogs.record_times(facts.controller))
    )
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
    """Every processing and disclosure of the purpose, judged as known when it was
    recorded and as known now."""
    judgements = []
    for act in (f for f in facts.facts if f.kind in _ACTS):
        then = basis_at(facts, catalogs, act.valid_at, act.recorded_at)
        later = basis_at(facts, catalogs, act.valid_at, now)
        breaches_then = breaches(act, facts, catalogs, then.status, act.recorded_at)
        breaches_now = breaches(act, facts, catalogs, later.status, now)
        judgements.append(
            Judgement(
                act,
                then,
                later,
                _verdict(then.status, breaches_then),
                _verdict(later.status, breaches_now),
                breaches_then,
                breaches_now,
            )
        )
    return judgements


def _verdict(basis: Status, found: tuple[str, ...]) -> Literal["lawful", "unlawful"]:
    return "lawful" if basis.basis and not found else "unlawful"


def breaches(
    act: Fact, facts: BasisFacts, catalogs: Catalogs, basis: Status, known_at: datetime
) -> tuple[str, ...]:
    """Every rule a processing or disclosure breaks besides its purpose's basis, as the
    ledger knew it at ``known_at``."""
    known = [f for f in facts.facts if f.recorded_at <= known_at and f.valid_at <= act.valid_at]
    found: list[str] = []
    for scope, restriction in sorted(active_restrictions(known).items()):
        category = scope.removeprefix("category:")
        if scope.startswith("category:") and category in act.categories:
            found.append(
                f"category {category} restricted (Art. 18) since {restriction.valid_at.isoformat()}"
            )
    consent = next((f for f in basis.evidence if f.kind == "consent_given"), None)
    if basis.basis == LegalBasis.consent.value and consent is not None:
        found.extend(_outside_consent(act, consent))
    if act.kind == "processed" and basis.declared and act.claimed_basis != basis.declared:
        found.append(
            f"the system claimed {act.claimed_basis}; the catalog declares {basis.declared}"
        )
    if act.kind == "shared" and act.country is not None and act.country not in EEA:
        found.extend(_transfer_breaches(act, facts.controller, catalogs, known_at))
    return tuple(found)


def _outside_consent(act: Fact, consent: Fact) -> list[str]:
    """What the act does that the consent (Art. 7, 4(11): specific) does not cover."""
    given = consent.valid_at.isoformat()
    found = []
    if consent.categories:
        outside = sorted(set(act.categories) - set(consent.categories))
        if outside:
            found.append(
                f"the consent given on {given} covers {', '.join(consent.categories)}, "
                f"not {', '.join(outside)}"
            )
    if act.recipient is not None and consent.recipients and act.recipient not in consent.recipients:
        found.append(
            f"the consent given on {given} names recipients {', '.join(consent.recipients)}, "
            f"not {act.recipient}"
        )
    return found


def _transfer_breaches(
    act: Fact, controller: str, catalogs: Catalogs, known_at: datetime
) -> list[str]:
    """A transfer outside the EEA (GDPR Chapter V) without a ground that holds at T."""
    where = f"{act.recipient} in {act.country}"
    if act.safeguard is None:
        return [f"transfer to {where}, outside the EEA, without a safeguard (Art. 44)"]
    catalog = catalogs.in_force(controller, act.valid_at, known_at)
    declared = (
        None
        if catalog is None
        else next((r for r in catalog.recipients if r.id == act.recipient), None)
    )
    declared_safeguard = None if declared is None else declared.safeguard
    if act.safeguard == "adequacy":
        decision = adequacy_decisions().in_force(act.country or "", act.valid_at)
        if decision is None:
            return [f"transfer to {where} claims adequacy: no EU adequacy decision in force"]
        if decision.scope and declared_safeguard != "adequacy":
            return [
                f"transfer to {where} claims adequacy: {decision.decision} covers only "
                f"{decision.scope}, and the catalog does not declare {act.recipient} so"
            ]
        return []
    if declared_safeguard != act.safeguard:
        what = {
            "scc": "standard contractual clauses (Art. 46(2)(c))",
            "bcr": "binding corporate rules (Art. 47)",
            "derogation": "an Art. 49 derogation with its ground",
        }[act.safeguard]
        return [
            f"transfer to {where} claims {what}; the catalog declares "
            f"{declared_safeguard or 'no safeguard'} for {act.recipient}"
        ]
    if act.safeguard == "derogation" and (declared is None or not declared.safeguard_quote):
        return [f"transfer to {where} claims an Art. 49 derogation; the catalog states no ground"]
    return []
