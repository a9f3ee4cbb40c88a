"""The same log and the same T (and K) give byte-identical JSON: built twice, and built
again from projections rebuilt from offset 0 into a fresh store."""

from __future__ import annotations

from typing import Any

from consumers.rebuild import rebuild
from tests.conftest import LedgerFactory
from tests.reports.support import REQUESTS, instant, json_bytes, report, seeded


def _all_reports(make_ledger: LedgerFactory, subject_id: str, **extra: Any) -> dict[str, bytes]:
    ledger = make_ledger()
    built = {}
    for kind, given in REQUESTS.items():
        subject = subject_id if kind == "access" else None
        built[kind] = json_bytes(report(ledger, kind, subject_id=subject, **given, **extra))
    ledger.close()
    return built


def test_every_report_is_byte_identical_twice_and_after_a_rebuild(
    make_ledger: LedgerFactory,
) -> None:
    ledger = make_ledger()
    subject_id = seeded(ledger)
    ledger.close()
    first = _all_reports(make_ledger, subject_id)
    second = _all_reports(make_ledger, subject_id)
    assert first == second
    rebuilding = make_ledger()
    live = rebuilding.store_path
    rebuilding.close()
    rebuild(make_ledger().log, rebuilding.registry, rebuilding.topics, live)
    after = _all_reports(make_ledger, subject_id)
    assert after == first
    for kind, data in first.items():
        assert b'"positions":{"' in data, f"{kind} states no log positions"
        assert b"generated" not in data


def test_known_at_is_part_of_the_answer_and_is_reproducible(make_ledger: LedgerFactory) -> None:
    ledger = make_ledger()
    subject_id = seeded(ledger)
    ledger.close()
    k = instant("2030-01-01T00:00:00Z")  # after everything was recorded
    with_k = _all_reports(make_ledger, subject_id, known_at=k)
    assert with_k == _all_reports(make_ledger, subject_id, known_at=k)
    assert b'"known_at":"2030-01-01T00:00:00+00:00"' in with_k["ropa"]
    without = _all_reports(make_ledger, subject_id)
    assert b'"known_at":null' in without["ropa"]
