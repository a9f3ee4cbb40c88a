"""The erasure fence: after a full erasure the old subject id is refused, a returning
person (same e-mail) gets a new id, and nothing can resurrect the old keys."""

from __future__ import annotations

import json

import pytest

from ledger.keys.store import SubjectErased
from ledger.service.submission import submit_lines
from tests.conftest import LedgerFactory
from tests.erasure.helpers import CONTROLLER, pdl, request_erasure, subject_raw_records
from tests.scenario import canary, collected, consent, lines


def test_full_erasure_fences_the_id_and_a_returning_person_is_new(
    make_ledger: LedgerFactory, log_url: str | None
) -> None:
    ledger = make_ledger()
    email = canary("email") + "@example.fr"
    submit_lines(ledger.intake(), lines(collected(email, email), consent(email)))
    old = ledger.keys.subject_for(email, CONTROLLER)
    assert old is not None
    (outcome,) = request_erasure(ledger, old)
    cert = outcome.certificate
    assert cert is not None and cert["retained"] == []
    assert cert["erased"]["identity_mapping_destroyed"] is cert["erased"]["subject_fenced"] is True
    assert ledger.keys.subject_for(email, CONTROLLER) is None
    assert ledger.keys.is_erased_subject(old) and ledger.keys.keys_of(old) == []
    with pytest.raises(SubjectErased, match="fenced"):
        ledger.keys.data_key(old, "marketing")  # no key can be made for it again
    ledger.close()

    late = {**consent(email, False, when="2024-05-01T00:00:00Z"), "subject_id": old}
    del late["subject"]
    refused = pdl("emit", "-", log_url=log_url, stdin="\n".join(lines(late)))
    assert refused.returncode == 1
    assert "subject_id: this subject was fully erased" in refused.stderr
    assert "a returning person is a new subject" in refused.stderr
    assert email not in refused.stderr

    again = pdl("emit", "-", log_url=log_url, stdin="\n".join(lines(collected(email, email))))
    assert again.returncode == 0, again.stderr
    state = json.loads(pdl("state", email, "--json", log_url=log_url).stdout)
    assert state["subject_id"] != old and state["values"][0]["value"] == email

    verified = pdl("verify-erasure", old, log_url=log_url)
    assert verified.returncode == 0, verified.stdout
    assert "subject id fenced                     yes" in verified.stdout
    assert "keys still held                       none" in verified.stdout


def test_producers_cannot_write_data_erased(
    make_ledger: LedgerFactory, log_url: str | None
) -> None:
    ledger = make_ledger()
    forged = {
        "type": "DataErased",
        "subject_id": "sub_" + "2" * 32,
        "controller": CONTROLLER,
        "occurred_at": "2024-05-02T09:00:01Z",
        "scope": {"kind": "subject"},
        "reason": "request",
    }
    ledger.close()
    result = pdl("emit", "-", stdin=json.dumps(forged), log_url=log_url)
    assert result.returncode == 1
    assert "type: DataErased is written only by the erasure processor" in result.stderr
    assert subject_raw_records(make_ledger(), "sub_" + "2" * 32) == []
