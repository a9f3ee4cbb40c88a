"""Deciding one erasure, and what its certificate says. Pure.

The plan maps the request's scope to retention classes (``ledger.erasure.scope``),
keeps the classes a ground of Art. 17(3) protects (``ledger.erasure.holds``) and erases
the rest. A subject scope with nothing retained is a *full erasure*: every key and the
natural-identifier mapping go, and the subject id is fenced.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ledger.contract.base import Scope
from ledger.contract.vocabulary import ScopeKind
from ledger.erasure.certificate import FORMAT
from ledger.erasure.following import SubjectPartition
from ledger.erasure.holds import ActiveHold, RetentionGround, retention_grounds
from ledger.erasure.lateness import iso_duration, late_by
from ledger.erasure.records import SubjectRecord
from ledger.erasure.retention import SubjectFacts
from ledger.erasure.scope import classes_in_scope, purposes_of, sharing_note
from ledger.keys.store import ShreddedKey
from ledger.policy.catalog import Catalog, Catalogs

FULL_ERASURE_NOTE = (
    "full erasure: every key of the subject at this controller and its natural-identifier "
    "mapping there were destroyed; the subject id is fenced (events about it are refused) "
    "and a returning person is given a new subject id; other controllers' data is untouched"
)
LAST_CLASS_NOTE = (
    "the subject's last key at this controller was destroyed, so its natural-identifier "
    "mapping there was destroyed too: the person is no longer found by that identifier at "
    "this controller, and a returning person is given a new subject id"
)
CATEGORY_NOTE = (
    "a category scope erases whole retention classes: the other categories sealed under "
    "the same keys are erased with it"
)


@dataclass(frozen=True)
class ErasurePlan:
    scope: Scope
    #: classes the scope covers and the subject has keys for
    covered: frozenset[str]
    erase: frozenset[str]
    retained: tuple[RetentionGround, ...]
    #: classes the scope covers but the subject holds no key for
    not_held: tuple[str, ...]
    full: bool
    purposes: tuple[str, ...]
    notes: tuple[str, ...]


def plan_erasure(
    scope: Scope,
    catalog: Catalog,
    catalogs: Catalogs,
    facts: SubjectFacts,
    holds: Mapping[str, ActiveHold],
    live_classes: Collection[str],
    now: datetime,
) -> ErasurePlan:
    """What to shred and what to keep for one request, at ``now``."""
    requested = classes_in_scope(scope, catalog, live_classes)
    covered = requested & set(live_classes)
    grounds = retention_grounds(facts, holds, catalogs, catalog, now, covered)
    kept = {g.retention_class for g in grounds}
    erase = covered - kept
    full = scope.kind is ScopeKind.subject and not kept
    notes = list(sharing_note(erase, catalog))
    if scope.kind is ScopeKind.category:
        notes.append(CATEGORY_NOTE)
    if full:
        notes.append(FULL_ERASURE_NOTE)
    if kept:
        notes.append(
            "retained data stays readable while its ground runs; when it lapses the "
            "retention engine (`pdl retention run`) erases it"
        )
    return ErasurePlan(
        scope,
        frozenset(covered),
        frozenset(erase),
        tuple(grounds),
        tuple(sorted(requested - set(live_classes))),
        full,
        tuple(purposes_of(erase, catalog)),
        tuple(notes),
    )


def _positions(records: list[SubjectRecord], key_ids: Collection[str]) -> tuple[list[str], int]:
    wanted = set(key_ids)
    positions, fields = [], 0
    for record in records:
        hits = sum(1 for f in record.fields if f.key_id in wanted)
        if hits:
            positions.append(record.position)
            fields += hits
    return positions, fields


@dataclass(frozen=True)
class RequestFacts:
    """The request a certificate answers (from the ErasureRequested event)."""

    event_id: str
    subject_id: str
    controller: str
    reason: str
    requested_at: datetime
    position: str


def certificate_body(
    plan: ErasurePlan,
    request: RequestFacts,
    *,
    certificate_id: str,
    sequence: int,
    previous_sha256: str,
    erased_at: datetime,
    due_at: datetime | None,
    destroyed: list[ShreddedKey],
    retained_keys: Mapping[str, str],
    records: list[SubjectRecord],
    catalog: Catalog,
    subject_partitions: Sequence[SubjectPartition] = (),
    mapping_destroyed: bool = False,
    backups_unreadable_by: datetime | None = None,
) -> dict[str, Any]:
    """The certificate before signing. ``retained_keys``: key id → class of kept keys;
    ``erased_at`` is the ledger's clock when the keys were destroyed, ``due_at`` when
    that was due; ``subject_partitions``: where ``records`` were read, with their count
    and hash (``ledger.erasure.following``)."""
    positions, fields = _positions(records, [k.key_id for k in destroyed])
    retained = []
    for key_class in sorted({g.retention_class for g in plan.retained}):
        ids = [k for k, c in retained_keys.items() if c == key_class]
        retained.append(
            {
                "retention_class": key_class,
                "purposes": purposes_of([key_class], catalog),
                "grounds": [g.as_json() for g in plan.retained if g.retention_class == key_class],
                "positions": _positions(records, ids)[0],
            }
        )
    return {
        "format": FORMAT,
        "sequence": sequence,
        "previous_sha256": previous_sha256,
        "certificate_id": certificate_id,
        "subject_id": request.subject_id,
        "controller": request.controller,
        "scope": plan.scope.label(),
        "reason": request.reason,
        "request": {
            "event_id": request.event_id,
            "position": request.position,
            "requested_at": request.requested_at.isoformat(),
        },
        "erased_at": erased_at.isoformat(),
        # when it was due, and how late it was done when late (ledger.erasure.lateness)
        "due_at": due_at.isoformat() if due_at else None,
        "late_by": iso_duration(late) if (late := late_by(due_at, erased_at)) else None,
        # when the last backup key that could open a backup holding the destroyed keys is
        # destroyed (ledger.keys.backup): the bound on copies in `pdl keys backup` files
        "backups_unreadable_by": (
            backups_unreadable_by.isoformat() if backups_unreadable_by else None
        ),
        "erased": {
            "retention_classes": sorted(plan.erase),
            "purposes": list(plan.purposes),
            "keys_destroyed": [
                {
                    "key_id": k.key_id,
                    "retention_class": k.retention_class,
                    "fingerprint": k.fingerprint,
                }
                for k in sorted(destroyed, key=lambda k: (k.retention_class, k.key_id))
            ],
            # the controller's mapping of the identifier to this subject id: gone with
            # the subject's last key there (a full erasure, or the last class)
            "identity_mapping_destroyed": mapping_destroyed,
            "subject_fenced": plan.full,
            "positions": positions,
            "fields": fields,
        },
        "retained": retained,
        "not_held": list(plan.not_held),
        "notes": [*plan.notes, *([LAST_CLASS_NOTE] if mapping_destroyed and not plan.full else [])],
        # per event topic, the subject's partition read from its first position: what a
        # verifier recomputes from the raw log (absent from older certificates)
        **(
            {"subject_partitions": [p.as_json() for p in subject_partitions]}
            if subject_partitions
            else {}
        ),
    }
