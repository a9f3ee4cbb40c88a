"""Writers publish their schemas; a reader finds a schema it was never shipped."""

from __future__ import annotations

import json
from typing import Any

from consumers.schema_topic import published
from ledger.contract.events import ConsentGiven
from ledger.contract.wire import SchemaRegistry, schema_fingerprint
from ledger.log.base import OutgoingRecord
from ledger.service.queries import subject_view
from ledger.service.submission import submit_lines
from tests.conftest import LedgerFactory, per_test_topics
from tests.scenario import consent, lines


def test_appending_publishes_every_current_schema_once(make_ledger: LedgerFactory) -> None:
    ledger = make_ledger()
    submit_lines(ledger.intake(), lines(consent("s@example.fr")))
    submit_lines(ledger.intake(), lines(consent("s@example.fr")))
    on_topic = published(ledger.log, ledger.topics)
    assert set(on_topic) == {schema_fingerprint(s) for s in ledger.registry.current()}
    assert sum(1 for _ in ledger.log.scan([per_test_topics().schemas])) == len(on_topic)
    personal = on_topic[schema_fingerprint(ledger.registry.current()[0])]
    assert "fields" in personal  # the full schema, not a bare fingerprint


def test_reader_resolves_a_foreign_writer_schema_from_the_topic(
    make_ledger: LedgerFactory,
) -> None:
    """A producer in another language adds an optional field and publishes its schema."""
    ledger = make_ledger()
    submit_lines(ledger.intake(), lines(consent("f@example.fr")))  # publishes ours
    ours = next(s for s in ledger.registry.current() if s["name"] == "ConsentGiven")
    theirs: dict[str, Any] = json.loads(json.dumps(ours))
    theirs["fields"].append(
        {
            "name": "campaign",
            "type": ["null", "string"],
            "default": None,
            "doc": "Added by a newer producer.",
        }
    )
    ledger.log.append(
        [
            OutgoingRecord(
                per_test_topics().schemas,
                schema_fingerprint(theirs).hex().encode(),
                json.dumps(theirs).encode(),
            )
        ]
    )
    view = subject_view(ledger, "f@example.fr")
    event = ConsentGiven(
        subject_id=view["subject_id"],
        controller="informatique70",
        occurred_at="2024-06-01T00:00:00Z",
        purpose="newsletter",
        channel="app",
        notice_version="v2",
    )
    fields = {**event.model_dump(mode="python"), "campaign": "spring"}
    message = SchemaRegistry({"ConsentGiven": theirs}).encode("ConsentGiven", fields)
    ledger.log.append(
        [OutgoingRecord(ledger.topics.of("consent"), event.subject_id.encode(), message)]
    )
    runner = ledger.runner()  # a fresh registry: it has never seen their schema
    progress = runner.catch_up()
    assert progress.dead_letters == 0 and progress.applied >= 1
    after = subject_view(ledger, "f@example.fr", catch_up=False)
    assert [c["channel"] for c in after["consents"]] == ["app"]
