"""The regulator's CSV shows an import claim next to the fact it is about: the legal-basis
report's `facts` table and the consent proof carry `imported_source` and
`imported_recorded_at` (empty for a first-hand fact), as the last columns, so a reader of
the columns from before finds them where they were."""

from __future__ import annotations

import csv
import json
from typing import Any

from tests.command import pdl
from tests.scenario import collected, consent

CLAIM = {"source": "crm-legacy", "recorded_at": "2023-06-03T08:00:00Z"}
IMPORTED = "imported-csv@example.fr"
FIRST_HAND = "first-hand-csv@example.fr"
AT = ("--at", "2023-07-01T00:00:00Z")

#: the header rows before import claims were in the CSV: still their first columns
BASIS_COLUMNS_BEFORE = (
    "table,subject_id,from,to,basis,reason,evidence,occurred_at,recorded_at,system,"
    "claimed_basis,verdict_then,reason_then,verdict_now,reason_now,note,event_id,position"
)
CONSENT_COLUMNS_BEFORE = (
    "subject_id,record,controller,purpose,channel,notice_version,proof_ref,consent_type,"
    "language,jurisdiction,categories,recipients,expires_at,grounds,evidence,valid_time,"
    "record_time,event_id,position"
)


def _lines(*events: dict[str, Any]) -> str:
    return "".join(json.dumps(e) + "\n" for e in events)


def _emit(email: str, *flags: str, claim: dict[str, str] | None = None) -> None:
    events = [
        collected(email, email, when="2023-06-01T10:00:00Z"),
        consent(email, when="2023-06-01T10:00:05Z"),
    ]
    if claim is not None:
        events = [{**e, "imported": claim} for e in events]
    done = pdl("emit", *flags, "-", stdin=_lines(*events))
    assert done.returncode == 0, done.stderr


def _subject_id(email: str) -> str:
    done = pdl("state", email, "--json")
    assert done.returncode == 0, done.stderr
    return str(json.loads(done.stdout)["subject_id"])


def _csv(*args: str) -> tuple[str, list[dict[str, str]]]:
    """The header line and the rows of a CSV report (its `#` lines skipped)."""
    done = pdl("report", *args, *AT, "--format", "csv", "--withhold")
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if not line.startswith("#")]
    return lines[0], list(csv.DictReader(lines))


def test_the_csv_exports_show_an_import_claim_after_the_columns_they_had() -> None:
    _emit(IMPORTED, "--import", claim=CLAIM)
    _emit(FIRST_HAND)
    imported, first_hand = _subject_id(IMPORTED), _subject_id(FIRST_HAND)

    header, rows = _csv("basis", "--purpose", "newsletter")
    assert header.startswith(BASIS_COLUMNS_BEFORE + ",")
    assert header.endswith(",imported_source,imported_recorded_at")
    facts = {(r["subject_id"], r["kind"]): r for r in rows if r["table"] == "facts"}
    claimed = facts[(imported, "consent_given")]
    assert (claimed["imported_source"], claimed["imported_recorded_at"]) == (
        "crm-legacy",
        "2023-06-03T08:00:00+00:00",
    )
    # the ledger's record time stays its own: when the import appended it
    assert claimed["recorded_at"] > "2024-01-01"
    own = facts[(first_hand, "consent_given")]
    assert (own["imported_source"], own["imported_recorded_at"]) == ("", "")
    assert any(r["table"] == "intervals" and r["basis"] == "consent" for r in rows)

    header, rows = _csv("consent", "--purpose", "newsletter")
    assert header == CONSENT_COLUMNS_BEFORE + ",imported_source,imported_recorded_at"
    by_subject = {r["subject_id"]: r for r in rows}
    assert by_subject[imported]["imported_source"] == "crm-legacy"
    assert by_subject[imported]["imported_recorded_at"] == "2023-06-03T08:00:00+00:00"
    assert by_subject[first_hand]["imported_source"] == ""
