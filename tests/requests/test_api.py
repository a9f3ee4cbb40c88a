"""``/v1/requests``: the dpo role records and answers requests; others may not."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.api.app import create_app
from ledger.api.auth import Tokens, parse_tokens
from ledger.service.settings import Settings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

DPO, REGULATOR = "dpo-" + "d" * 20, "reg-" + "r" * 20


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    tokens = Tokens(tuple(parse_tokens(f"{DPO}=dpo,{REGULATOR}=regulator", "test")))
    settings = Settings.from_environment(None, tmp_path / "data")
    with TestClient(create_app(settings, tokens)) as test_client:
        yield test_client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_request_is_received_extended_and_answered_by_the_dpo(client: TestClient) -> None:
    received = client.post(
        "/v1/requests",
        json={
            "controller": "bpost-mystamp",
            "subject": "client@example.be",
            "kind": "objection",
            "channel": "letter",
            "received_at": "2024-01-31T10:00:00+01:00",
            "request_id": "bp-1",
        },
        headers=bearer(DPO),
    )
    assert received.status_code == 201, received.text
    assert received.json()["due_at"] == "2024-02-29T23:00:00+00:00"
    path = "/v1/requests/bpost-mystamp/bp-1"
    extended = client.post(
        f"{path}/extension", json={"reason": "many requests"}, headers=bearer(DPO)
    )
    assert extended.json()["due_at"] == "2024-04-30T22:00:00+00:00"
    refused = client.post(f"{path}/answer", json={}, headers=bearer(DPO))
    assert refused.status_code == 409
    assert "identity" in refused.text
    client.post(f"{path}/identity", json={"verified": True, "note": "id card"}, headers=bearer(DPO))
    answered = client.post(f"{path}/answer", json={}, headers=bearer(DPO))
    assert answered.status_code == 200, answered.text
    assert answered.json()["request"]["status"] == "answered"
    assert client.get("/v1/requests", headers=bearer(REGULATOR)).status_code == 403
    paths = client.get("/openapi.json", headers=bearer(DPO)).json()["paths"]
    assert "/v1/requests/{controller}/{request_id}/answer" in paths
