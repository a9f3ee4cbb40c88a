"""Labels carry no personal data: the grounds of an objection and the reasons of
restrictions, holds and rectifications are codes in clear and free text in a sealed
``note``. A producer that still writes free text in the label has it moved into the note,
so after a full erasure none of it is readable anywhere: topics, projections, keys,
certificates, reports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ledger.contract.rejection import EventRejected
from ledger.service.submission import submit_lines
from tests.conftest import LedgerFactory
from tests.erasure.helpers import CONTROLLER, informatique70_customer, pdl
from tests.scenario import canary


def _labelled(email: str, spoken: dict[str, str]) -> list[dict[str, Any]]:
    """One event of each labelled type; free text in the label (as producers wrote before
    the vocabulary) or in ``note`` beside a code."""
    base = {"subject": email, "controller": CONTROLLER}
    identity = {"kind": "category", "category": "identity"}
    newsletter = {"kind": "purpose", "purpose": "newsletter"}
    return [
        {
            **base,
            "type": "ObjectionRaised",
            "occurred_at": "2024-03-06T09:00:00Z",
            "purpose": "call-recording",
            "channel": "ivr-key-0",
            "grounds": spoken["grounds"],
        },
        {
            **base,
            "type": "RestrictionApplied",
            "occurred_at": "2024-03-07T09:00:00Z",
            "scope": identity,
            "reason": "Accuracy contested",
            "note": spoken["restricted"],
        },
        {
            **base,
            "type": "RestrictionLifted",
            "occurred_at": "2024-03-08T09:00:00Z",
            "scope": identity,
            "reason": spoken["lifted"],
        },
        {
            **base,
            "type": "DataRectified",
            "occurred_at": "2024-03-09T09:00:00Z",
            "purposes": ["newsletter"],
            "values": [{"field": "first_name", "category": "identity", "value": canary("fix")}],
            "reason": spoken["rectified"],
        },
        {
            **base,
            "type": "LegalHoldPlaced",
            "occurred_at": "2024-03-10T09:00:00Z",
            "scope": newsletter,
            "reason": spoken["held"],
            "article": "Art. 17(3)(e)",
            "hold_id": "hold_sealedlabels1",
        },
        {
            **base,
            "type": "LegalHoldReleased",
            "occurred_at": "2024-03-11T09:00:00Z",
            "scope": newsletter,
            "reason": spoken["released"],
            "hold_id": "hold_sealedlabels1",
        },
    ]


def _files_holding(root: Path, needles: list[str]) -> dict[str, list[str]]:
    """Every file under ``root`` (log segments, projection store, key store, certificates)
    whose raw bytes contain a needle."""
    found: dict[str, list[str]] = {}
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            hits = [n for n in needles if n.encode() in data]
            if hits:
                found[str(path.relative_to(root))] = hits
    return found


def test_no_label_text_survives_a_full_erasure(
    make_ledger: LedgerFactory, log_url: str | None, tmp_path: Path
) -> None:
    ledger = make_ledger()
    customer = informatique70_customer(ledger)
    spoken = {
        name: canary(f"says-{name}")
        for name in ("grounds", "restricted", "lifted", "rectified", "held", "released")
    }
    submit_lines(ledger.intake(), [json.dumps(e) for e in _labelled(customer.email, spoken)])
    ledger.runner().catch_up()
    ledger.close()
    canaries = list(spoken.values())
    assert _files_holding(tmp_path, ["ivr-key-0"]), "the scan must see the log's bytes"
    assert _files_holding(tmp_path, canaries) == {}, "free text reached the log in clear"

    subject = customer.subject_id
    before = pdl("state", subject, "--json", log_url=log_url)
    assert before.returncode == 0, before.stderr
    state = json.loads(before.stdout)
    assert [r["reason"] for r in state["restrictions"]] == ["other"]  # the lifting's
    assert state["restrictions"][0]["note"] == spoken["lifted"]  # opened for the DPO
    (hold,) = state["holds"]
    assert (hold["reason"], hold["note"]) == ("other", spoken["held"])

    erased = pdl("erase", subject, "--reason", "request", "--json", log_url=log_url)
    assert erased.returncode == 0, erased.stderr
    after = pdl("state", subject, "--json", log_url=log_url)
    assert after.returncode == 0, after.stderr
    shown = json.loads(after.stdout)
    assert shown["restrictions"][0]["note"] == "[erased]"
    assert shown["holds"][0]["note"] == "[erased]"
    verified = pdl("verify-erasure", subject, log_url=log_url)
    outputs = [erased.stdout, after.stdout, verified.stdout, verified.stderr]
    reports: list[tuple[str, ...]] = [
        ("access", subject, "--format", "json"),
        ("access", subject, "--format", "csv"),
        ("access", subject, "--format", "csv", "--withhold"),
        ("erasure", "--format", "json"),
        ("erasure", "--format", "csv"),
        ("retention", "--format", "csv"),
    ]
    for args in reports:
        report = pdl("report", *args, log_url=log_url)
        assert report.returncode == 0, (args, report.stderr)
        outputs.append(report.stdout)
    listings: list[tuple[str, ...]] = [("list",), ("show", "--subject", subject)]
    for args in listings:
        certificates = pdl("certificates", *args, log_url=log_url)
        outputs.append(certificates.stdout + certificates.stderr)
    leaked = [c for c in canaries for text in outputs if c in text]
    assert leaked == [], "a label's free text is readable after the erasure"
    assert _files_holding(tmp_path, canaries) == {}


def test_free_text_in_the_label_and_a_note_is_refused(make_ledger: LedgerFactory) -> None:
    ledger = make_ledger()
    customer = informatique70_customer(ledger)
    event: dict[str, Any] = {
        "type": "RestrictionApplied",
        "subject": customer.email,
        "controller": CONTROLLER,
        "occurred_at": "2024-03-07T09:00:00Z",
        "scope": {"kind": "subject"},
        "reason": canary("reason"),
        "note": canary("note"),
    }
    with pytest.raises(EventRejected) as refused:
        ledger.intake().prepare(event)
    (rejection,) = refused.value.rejections
    assert rejection.field == "reason" and "note" in rejection.fix
    assert event["reason"] not in str(refused.value)
