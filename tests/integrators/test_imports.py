"""Importing from an older register: an event may carry an import claim (``imported``:
the source system and when it recorded the fact) only when the submitter says it is
importing (`pdl emit --import`), and only a claim that could be true. The ledger's "as
known then" stays on its own record time; the basis report shows the claim next to the
fact."""

from __future__ import annotations

import json
from typing import Any

from tests.command import pdl
from tests.scenario import collected, consent

CLAIM = {"source": "crm-legacy", "recorded_at": "2023-06-03T08:00:00Z"}
#: the claim as reports show it (their instants are ISO 8601 in UTC, +00:00)
SHOWN = {"source": "crm-legacy", "recorded_at": "2023-06-03T08:00:00+00:00"}
EMAIL = "imported@example.fr"


def _lines(*events: dict[str, Any]) -> str:
    return "".join(json.dumps(e) + "\n" for e in events)


def _imported(event: dict[str, Any], claim: dict[str, str] | None = None) -> dict[str, Any]:
    return {**event, "imported": claim or CLAIM}


def _old_events() -> list[dict[str, Any]]:
    when = "2023-06-01T10:00:00Z"
    return [collected(EMAIL, EMAIL, when=when), consent(EMAIL, when="2023-06-01T10:00:05Z")]


def test_a_claim_without_the_import_flag_is_refused_naming_the_flag() -> None:
    done = pdl("emit", "-", stdin=_lines(*(_imported(e) for e in _old_events())))
    assert done.returncode == 1, done.stderr
    assert "imported: an import claim is accepted only from a submitter" in done.stderr
    assert "pdl emit --import" in done.stderr
    assert EMAIL not in done.stderr


def test_an_import_refuses_claims_that_cannot_be_true_and_events_without_one() -> None:
    future = _imported(
        _old_events()[1], {"source": "crm-legacy", "recorded_at": "2999-01-01T00:00:00Z"}
    )
    done = pdl("emit", "--import", "-", stdin=_lines(future))
    assert done.returncode == 1, done.stderr
    assert "imported.recorded_at: the source system cannot have recorded it after the import" in (
        done.stderr
    )

    early = _imported(
        _old_events()[1], {"source": "crm-legacy", "recorded_at": "2023-01-01T00:00:00Z"}
    )
    done = pdl("emit", "--import", "-", stdin=_lines(early))
    assert done.returncode == 1, done.stderr
    assert "imported.recorded_at: a register cannot have recorded a fact before it happened" in (
        done.stderr
    )

    done = pdl("emit", "--import", "-", stdin=_lines(_old_events()[1]))
    assert done.returncode == 1, done.stderr
    assert "imported: an import says, for every event" in done.stderr
    assert "appended" not in done.stdout + done.stderr.replace("nothing appended", "")


def test_an_imported_fact_is_known_from_its_import_and_shows_its_claim() -> None:
    done = pdl("emit", "--import", "-", stdin=_lines(*(_imported(e) for e in _old_events())))
    assert done.returncode == 0, done.stderr

    now = pdl("basis", EMAIL, "newsletter", "--at", "2023-07-01T00:00:00Z", "--json")
    assert now.returncode == 0, now.stderr
    view = json.loads(now.stdout)
    assert view["basis_at"]["basis"] == "consent"
    (fact,) = [f for f in view["facts"] if f["kind"] == "consent_given"]
    assert fact["imported"] == SHOWN
    # record time is the ledger's: when the import appended it, never the claimed 2023
    assert fact["recorded_at"] > "2024-01-01"
    (evidence,) = view["basis_at"]["evidence"]
    assert evidence["imported"] == SHOWN

    text = pdl("basis", EMAIL, "newsletter", "--at", "2023-07-01T00:00:00Z")
    assert (
        "(imported from crm-legacy, which says it recorded it 2023-06-03T08:00:00+00:00)"
        in text.stdout
    )

    # as known in 2024 the ledger knew nothing of it, whatever the source claims
    then = pdl(
        "basis",
        EMAIL,
        "newsletter",
        "--at",
        "2023-07-01T00:00:00Z",
        "--known-at",
        "2024-01-01T00:00:00Z",
        "--json",
    )
    assert then.returncode == 0, then.stderr
    assert json.loads(then.stdout)["basis_at"]["basis"] is None
