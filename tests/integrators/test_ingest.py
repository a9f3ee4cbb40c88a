"""``POST /v1/events`` as producers meet it: all-or-nothing, every rejection listed
without values, retries append nothing, and tokens scoped to controllers."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.api.app import create_app
from ledger.api.auth import TokenConfigError, Tokens, parse_tokens
from ledger.api.local import open_ledger
from ledger.service.settings import Settings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

SHOP = "emit-" + "s" * 20  # informatique70's producer
OTHER = "emit-" + "o" * 20  # negomarkets' producer
SCOPED_DPO = "dpo-" + "n" * 20  # negomarkets' DPO
EVENT = {
    "type": "ConsentGiven",
    "event_id": "0b7e7c4e-3f7a-4d8e-9a51-2f6a8c1d9e01",
    "subject": "camille.martin@example.fr",
    "controller": "informatique70",
    "purpose": "newsletter",
    "channel": "web-form",
    "notice_version": "politique-2023-01",
    "occurred_at": "2024-03-12T09:30:00Z",
}


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def client(data_dir: Path) -> Iterator[TestClient]:
    entries = f"{SHOP}=emitter:informatique70,{OTHER}=emitter:negomarkets\n"
    entries += f"{SCOPED_DPO}=dpo:negomarkets"
    tokens = Tokens(tuple(parse_tokens(entries, "test")))
    settings = Settings.from_environment(None, data_dir)
    with TestClient(create_app(settings, tokens, max_body=1 << 20)) as test_client:
        yield test_client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def events_held(data_dir: Path) -> int:
    with open_ledger(data_dir=data_dir) as ledger:
        return int(ledger.state("camille.martin@example.fr", "informatique70")["events"])


def test_an_event_posted_is_appended_once_however_often_it_is_retried(
    client: TestClient, data_dir: Path
) -> None:
    first = client.post("/v1/events", json=EVENT, headers=bearer(SHOP))
    assert first.status_code == 201, first.text
    assert first.json()["appended"] == 1
    (receipt,) = first.json()["receipts"]
    assert receipt["event_id"] == EVENT["event_id"] and receipt["key"].startswith("sub_")
    again = client.post("/v1/events", json=[EVENT], headers=bearer(SHOP))
    assert again.status_code == 200
    assert again.json()["receipts"] == [{**receipt, "duplicate": True}]
    assert again.json()["appended"] == 0
    assert events_held(data_dir) == 1


def test_json_lines_are_one_batch(client: TestClient, data_dir: Path) -> None:
    second = {**EVENT, "event_id": "0b7e7c4e-3f7a-4d8e-9a51-2f6a8c1d9e02"}
    body = "\n".join(json.dumps(e) for e in (EVENT, second)) + "\n"
    got = client.post(
        "/v1/events",
        content=body,
        headers={**bearer(SHOP), "Content-Type": "application/x-ndjson"},
    )
    assert got.status_code == 201 and got.json()["appended"] == 2
    assert events_held(data_dir) == 2


def test_a_bad_batch_appends_nothing_and_lists_every_problem_without_values(
    client: TestClient, data_dir: Path
) -> None:
    bad_time = {**EVENT, "occurred_at": "2024-03-12 09:30", "notice_version": None}
    foreign = {**EVENT, "controller": "negomarkets", "event_id": None}
    body = [EVENT, bad_time, "not an object", foreign]
    got = client.post("/v1/events", json=body, headers=bearer(SHOP))
    assert got.status_code == 422
    problems = got.json()["detail"]
    assert {(p["index"], p["field"]) for p in problems} >= {
        (1, "occurred_at"),
        (1, "notice_version"),
        (2, "(event)"),
        (3, "controller"),
    }
    assert all(p["rule"] and p["fix"] for p in problems)
    assert "camille" not in got.text and "2024-03-12 09:30" not in got.text
    with open_ledger(data_dir=data_dir) as ledger, pytest.raises(Exception, match="no subject"):
        ledger.state("camille.martin@example.fr", "informatique70")


def test_unreadable_bodies_are_422s(client: TestClient) -> None:
    got = client.post(
        "/v1/events",
        content=b'{"type": ',
        headers={**bearer(SHOP), "Content-Type": "application/json"},
    )
    assert got.status_code == 422 and got.json()["detail"][0]["field"] == "(body)"
    lines = b'{"type": "x"\n' + json.dumps(EVENT).encode()
    got = client.post(
        "/v1/events",
        content=lines,
        headers={**bearer(SHOP), "Content-Type": "application/x-ndjson"},
    )
    assert got.status_code == 422 and [p["index"] for p in got.json()["detail"]] == [0]


def test_a_token_writes_and_reads_only_its_controllers(client: TestClient) -> None:
    got = client.post("/v1/events", json=EVENT, headers=bearer(OTHER))
    assert got.status_code == 422 and got.json()["detail"][0]["field"] == "controller"
    assert client.get("/reports/ropa", headers=bearer(SHOP)).status_code == 403
    ropa = "/reports/ropa?controller="
    assert client.get(ropa + "informatique70", headers=bearer(SCOPED_DPO)).status_code == 403
    assert client.get("/reports/ropa", headers=bearer(SCOPED_DPO)).status_code == 403
    assert client.get(ropa + "negomarkets", headers=bearer(SCOPED_DPO)).status_code == 200
    assert client.post("/v1/events", json=EVENT, headers=bearer(SCOPED_DPO)).status_code == 403


def test_token_scopes_are_parsed_and_an_emitter_needs_one() -> None:
    (entry,) = parse_tokens("t" * 20 + "=emitter:a+b", "test")
    assert entry[1].controllers == frozenset({"a", "b"})
    (entry,) = parse_tokens("t" * 20 + "=emitter:*", "test")
    assert entry[1].controllers is None
    (entry,) = parse_tokens("t" * 20 + "=dpo", "test")
    assert entry[1].controllers is None  # unscoped dpo: every controller, as before
    for bad in ("t" * 20 + "=emitter", "t" * 20 + "=emitter:", "t" * 20 + "=emitter:a+*"):
        with pytest.raises(TokenConfigError) as caught:
            parse_tokens(bad, "test")
        assert "t" * 20 not in str(caught.value)


def test_the_openapi_document_shows_examples(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/v1/events"]["post"]
    content = operation["requestBody"]["content"]
    assert set(content) == {"application/json", "application/x-ndjson"}
    assert "example" in operation["responses"]["422"]["content"]["application/json"]
