"""Policy in both times (issue 12): a catalog version published with an effective date in
the past changes what the ledger believes from its record time on, never before. "Basis
at T as known at K" uses the latest version effective at T among those published by K."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path

from ledger.contract.vocabulary import LegalBasis
from ledger.policy.catalog import PACKAGED_DIR, Catalog, Catalogs, Publication, load_catalog
from ledger.policy.publish import publication
from ledger.service import queries
from ledger.service.backends import Backends
from projections.lawfulness import basis_at, judge
from tests.cli.test_cli import pdl
from tests.conftest import LedgerFactory
from tests.lawfulness.test_judged import I70, consent_scenario, emit


def back_dated_version() -> Catalog:
    """Informatique 70's catalog, re-published as if the newsletter had rested on
    legitimate interest since 1 January 2024."""
    packaged = load_catalog(PACKAGED_DIR / "informatique70.toml")
    purposes = [
        p.model_copy(update={"basis": LegalBasis.legitimate_interest})
        if p.id == "newsletter"
        else p
        for p in packaged.purposes
    ]
    effective = packaged.effective_from.replace(year=2024)
    return packaged.model_copy(
        update={"version": "2024-01-01", "effective_from": effective, "purposes": purposes}
    )


Answer = tuple[str | None, str, str | None, datetime | None, datetime | None]


def answers(ledger: Backends, instants: list[datetime]) -> dict[tuple[str, str], Answer]:
    subject = queries.resolve_subject(ledger, "p@example.fr", I70)
    facts = queries.basis_facts(ledger, subject, "newsletter", I70)
    found: dict[tuple[str, str], Answer] = {}
    for act in (f for f in facts.facts if f.kind in ("processed", "shared")):
        for k in instants:
            a = basis_at(facts, ledger.catalogs, act.valid_at, k)
            found[(act.event_id, str(k))] = (
                a.status.basis,
                a.status.reason,
                a.status.catalog_version,
                a.valid_from,
                a.valid_to,
            )
    return found


def test_a_back_dated_publication_leaves_what_was_known_before_it(
    make_ledger: LedgerFactory,
) -> None:
    ledger = make_ledger()
    emit(ledger, *consent_scenario())
    subject = queries.resolve_subject(ledger, "p@example.fr", I70)
    facts = queries.basis_facts(ledger, subject, "newsletter", I70)
    before_publication = ledger.clock()
    instants = sorted({f.recorded_at for f in facts.facts} | {before_publication})
    believed = answers(ledger, instants)
    judged_then = [
        (j.verdict_then, j.breaches_then) for j in judge(facts, ledger.catalogs, before_publication)
    ]
    time.sleep(0.01)  # the publication's record time comes strictly after K

    ledger.intake().append([publication(back_dated_version(), ledger.clock())])
    ledger.catch_up()
    reopened = make_ledger()
    reopened.catch_up()
    assert [p.catalog.version for p in reopened.catalogs.publications(I70) if p.retroactive] == [
        "2024-01-01"
    ]
    assert answers(reopened, instants) == believed, "as known at K before it: unchanged"
    again = queries.basis_facts(reopened, subject, "newsletter", I70)
    now = reopened.clock() + timedelta(seconds=1)
    judged = judge(again, reopened.catalogs, now)
    assert [(j.verdict_then, j.breaches_then) for j in judged] == judged_then
    # as known now, the new version governs: the withdrawal no longer ends the basis
    after = judged[-1]
    assert after.now.status.catalog_version == "2024-01-01"
    assert after.now.status.basis == "legitimate_interest"


def test_publishing_into_the_past_needs_the_flag(log_url: str | None, tmp_path: Path) -> None:
    text = (PACKAGED_DIR / "informatique70.toml").read_text("utf-8")
    text = text.replace('version = "2023-01-01"', 'version = "2024-06-01"').replace(
        "effective_from = 2023-01-01T00:00:00Z", "effective_from = 2024-06-01T00:00:00Z"
    )
    path = tmp_path / "back-dated.toml"
    path.write_text(text, "utf-8")
    refused = pdl("catalog", "publish", str(path), log_url=log_url)
    assert refused.returncode != 0 and "--retroactive" in refused.stderr
    done = pdl("catalog", "publish", str(path), "--retroactive", log_url=log_url)
    assert done.returncode == 0, done.stderr


def test_versions_unknown_at_k_do_not_count() -> None:
    catalog = back_dated_version()
    packaged = Catalogs.packaged()
    recorded = catalog.effective_from.replace(year=2025)
    both = packaged.including([Publication(catalog, recorded)])
    t = recorded.replace(year=2024, month=6)
    found = [both.in_force(I70, t, k) for k in (None, recorded - timedelta(days=1), recorded)]
    assert [c.version if c else None for c in found] == ["2024-01-01", "2023-01-01", "2024-01-01"]
