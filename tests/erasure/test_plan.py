"""Planning one erasure, as a pure function: what is shredded, what is kept and why."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ledger.contract.base import Scope
from ledger.contract.vocabulary import ScopeKind
from ledger.erasure.holds import ActiveHold
from ledger.erasure.plan import plan_erasure
from ledger.erasure.retention import Collected, SubjectFacts
from ledger.erasure.scope import ScopeError, held_classes, parse_scope
from ledger.policy.catalog import Catalogs

CATALOGS = Catalogs.packaged()
NOW = datetime(2024, 6, 1, tzinfo=UTC)
CATALOG = CATALOGS.in_force("informatique70", NOW)
SUBJECT = Scope(kind=ScopeKind.subject)
NOTHING = SubjectFacts("sub_" + "3" * 32, (), {}, {})


def test_an_obligation_is_kept_even_before_the_projections_know_its_data() -> None:
    assert CATALOG is not None
    plan = plan_erasure(SUBJECT, CATALOG, CATALOGS, NOTHING, {}, {"accounting", "marketing"}, NOW)
    assert plan.erase == {"marketing"} and not plan.full
    (ground,) = plan.retained
    assert (ground.retention_class, ground.article, ground.expires) == (
        "accounting",
        "Art. 17(3)(b)",
        None,
    )
    assert "not recorded yet" in ground.reason


def test_an_obligation_that_has_run_out_keeps_nothing() -> None:
    assert CATALOG is not None
    invoiced = datetime(2010, 1, 1, tzinfo=UTC)
    facts = SubjectFacts(
        NOTHING.subject_id,
        (Collected("informatique70", ("accounting",), "accounting", invoiced),),
        {},
        {},
    )
    plan = plan_erasure(SUBJECT, CATALOG, CATALOGS, facts, {}, {"accounting"}, NOW)
    assert plan.erase == {"accounting"} and plan.full and plan.retained == ()


def test_a_hold_naming_a_purpose_no_longer_declared_keeps_everything() -> None:
    assert CATALOG is not None
    assert held_classes("purpose:retired", CATALOG, {"marketing", "cctv"}) == {"marketing", "cctv"}
    hold = ActiveHold("hold_1", "purpose:retired", True, "audit", None, None, "e", "p/0/1")
    plan = plan_erasure(
        SUBJECT, CATALOG, CATALOGS, NOTHING, {"purpose:retired": hold}, {"marketing"}, NOW
    )
    assert plan.erase == frozenset() and plan.retained[0].article == "Art. 17(3)(e)"


def test_scope_labels_round_trip_and_bad_ones_say_how_to_write_them() -> None:
    for label in ("subject", "purpose:newsletter", "category:contact"):
        assert parse_scope(label).label() == label
    with pytest.raises(ScopeError, match="fix: write subject, purpose:PURPOSE or category"):
        parse_scope("newsletter")
