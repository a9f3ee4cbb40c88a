"""Property: every interleaving that keeps each partition's order gives identical
projections. Events of several subjects are spread over topics by family and over
partitions by Kafka's partitioner, as the log would place them.

One subject's events on one topic share a partition, so their order never varies; what
varies is the order across topics (consent vs processing vs rights), which is where a
fold that depended on arrival order would show (checked by mutation: appending basis
facts unsorted, or keeping the last record time seen, fails this test)."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.contract import events as ev
from ledger.contract.secret import Secret
from ledger.log.base import keyed_partition
from projections.base import Projection, Recorded
from projections.installed import all_projections

SUBJECTS = [f"sub_{i:032x}" for i in range(1, 5)]
T0 = datetime(2024, 1, 1, tzinfo=UTC)
PARTITIONS = 3


def _common(subject: int, day: int, n: int) -> dict[str, Any]:
    return {
        "event_id": f"00000000-0000-4000-8000-{n:012x}",
        "subject_id": SUBJECTS[subject],
        "controller": "informatique70",
        "occurred_at": T0 + timedelta(days=day),
    }


def _scope() -> dict[str, Any]:
    return {"kind": "purpose", "purpose": "newsletter"}


MAKERS: dict[str, Callable[[dict[str, Any], int], ev.LedgerEvent]] = {
    "collected": lambda c, v: ev.DataCollected(
        **c,
        purposes=["newsletter"],
        source="form",
        values=[
            ev.CollectedValue(
                field=f"f{v % 3}", category="contact", value=Secret(sealed=bytes([1, v]))
            )
        ],
    ),
    "rectified": lambda c, v: ev.DataRectified(
        **c,
        purposes=["newsletter"],
        values=[
            ev.CollectedValue(
                field=f"f{v % 3}", category="contact", value=Secret(sealed=bytes([2, v]))
            )
        ],
    ),
    "given": lambda c, v: ev.ConsentGiven(
        **c, purpose="newsletter", channel=f"c{v}", notice_version="v1"
    ),
    "withdrawn": lambda c, v: ev.ConsentWithdrawn(**c, purpose="newsletter", channel="link"),
    "objection": lambda c, v: ev.ObjectionRaised(**c, purpose="call-recording", channel="ivr"),
    "processed": lambda c, v: ev.DataProcessed(
        **c, purpose="newsletter", categories=["contact"], claimed_basis="consent", system=f"s{v}"
    ),
    "shared": lambda c, v: ev.DataShared(
        **c,
        recipient="sendinblue",
        purpose="newsletter",
        recipient_role=["processor", "third_party"][v % 2],
        country="FR",
        categories=["contact"],
    ),
    "restricted": lambda c, v: ev.RestrictionApplied(**c, scope=_scope(), reason="contested"),
    "unrestricted": lambda c, v: ev.RestrictionLifted(**c, scope=_scope(), reason="verified"),
    "held": lambda c, v: ev.LegalHoldPlaced(**c, scope=_scope(), reason="r", article="17(3)"),
    "erasure": lambda c, v: ev.ErasureRequested(**c, scope=_scope(), reason="request"),
    "anchor": lambda c, v: ev.RetentionAnchorRecorded(**c, anchor="last_contact"),
}

event_specs = st.lists(
    st.tuples(
        st.sampled_from(sorted(MAKERS)),
        st.integers(0, len(SUBJECTS) - 1),
        st.integers(0, 30),
        st.integers(0, 255),
    ),
    min_size=1,
    max_size=40,
)


def partitioned(specs: list[tuple[str, int, int, int]]) -> dict[tuple[str, int], list[Recorded]]:
    """Events placed as the log places them: topic by family, partition by subject."""
    queues: dict[tuple[str, int], list[Recorded]] = {}
    for n, (kind, subject, day, value) in enumerate(specs):
        event = MAKERS[kind](_common(subject, day, n), value)
        assert isinstance(event, ev.SubjectEvent)
        tp = (event.topic_family, keyed_partition(event.subject_id.encode(), PARTITIONS))
        queue = queues.setdefault(tp, [])
        recorded_at = T0 + timedelta(days=40, seconds=n)
        queue.append(Recorded(event, tp[0], tp[1], len(queue), recorded_at))
    return queues


def fold(order: list[Recorded]) -> dict[str, dict[str, str]]:
    projections: list[Projection[Any]] = all_projections()
    states: list[dict[str, Any]] = [{} for _ in projections]
    for recorded in order:
        for p, mine in zip(projections, states, strict=True):
            key = p.key_of(recorded)
            if key is not None:
                mine[key] = p.apply(mine.get(key) or p.initial(key), recorded)
    return {
        p.name: {k: p.dump(s) for k, s in sorted(mine.items())}
        for p, mine in zip(projections, states, strict=True)
    }


def interleave(queues: dict[tuple[str, int], list[Recorded]], rng: random.Random) -> list[Recorded]:
    pending = {tp: list(q) for tp, q in queues.items()}
    merged: list[Recorded] = []
    while pending:
        tp = rng.choice(sorted(pending))
        merged.append(pending[tp].pop(0))
        if not pending[tp]:
            del pending[tp]
    return merged


@settings(max_examples=150, deadline=None)
@given(event_specs, st.randoms(use_true_random=False), st.randoms(use_true_random=False))
def test_every_interleaving_gives_the_same_projections(
    specs: list[tuple[str, int, int, int]], first: random.Random, second: random.Random
) -> None:
    queues = partitioned(specs)
    in_log_order = [r for tp in sorted(queues) for r in queues[tp]]
    expected = fold(in_log_order)
    assert fold(interleave(queues, first)) == expected
    assert fold(interleave(queues, second)) == expected
