"""The HTTP API as clients meet it: each role, tokens, malformed requests, OpenAPI."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.api.app import create_app
from ledger.api.auth import TokenConfigError, Tokens, load_tokens, parse_tokens
from ledger.service.backends import Backends
from ledger.service.settings import Settings
from tests.reports.support import AT, CALL_RECORDING, json_bytes, report, seeded

with warnings.catch_warnings():  # starlette suggests httpx2; httpx is what FastAPI documents
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

DPO, REGULATOR, OPS = "dpo-" + "d" * 20, "reg-" + "r" * 20, "ops-" + "o" * 20
AT_QUERY = {"at": AT.isoformat()}


@pytest.fixture
def seeded_dir(tmp_path: Path) -> tuple[Path, str]:
    ledger = Backends(Settings.from_environment(None, tmp_path / "data"))
    try:
        return tmp_path / "data", seeded(ledger)
    finally:
        ledger.close()


@pytest.fixture
def client(seeded_dir: tuple[Path, str]) -> Iterator[TestClient]:
    tokens = Tokens(tuple(parse_tokens(f"{DPO}=dpo,{REGULATOR}=regulator\n{OPS}=ops", "test")))
    settings = Settings.from_environment(None, seeded_dir[0])
    with TestClient(create_app(settings, tokens)) as test_client:
        yield test_client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_the_dpo_reads_decrypted_values(client: TestClient, seeded_dir: tuple[Path, str]) -> None:
    subject_id = seeded_dir[1]
    got = client.get(f"/reports/access/{subject_id}", params=AT_QUERY, headers=bearer(DPO))
    assert got.status_code == 200 and got.headers["content-type"] == "application/json"
    assert CALL_RECORDING in got.text and '"personal_fields":"decrypted"' in got.text
    ledger = Backends(Settings.from_environment(None, seeded_dir[0]))
    try:  # one code path: the API's bytes are the builder's
        assert got.content == json_bytes(report(ledger, "access", subject_id=subject_id))
    finally:
        ledger.close()
    found = client.post(
        "/subjects/lookup", json={"identifier": "Camille.Martin@example.fr"}, headers=bearer(DPO)
    )
    assert found.json() == {"subject_id": subject_id}


def test_a_regulator_reads_reports_with_personal_fields_withheld(
    client: TestClient, seeded_dir: tuple[Path, str]
) -> None:
    subject_id = seeded_dir[1]
    got = client.get(f"/reports/access/{subject_id}", params=AT_QUERY, headers=bearer(REGULATOR))
    assert got.status_code == 200
    assert CALL_RECORDING not in got.text and "Vesoul" not in got.text
    assert '"value":"[withheld]"' in got.text
    for path in (
        "/reports/ropa",
        "/reports/erasure",
        "/reports/retention",
        "/reports/transfers",
        "/reports/basis/newsletter",
        "/reports/consent/newsletter",
    ):
        answer = client.get(path, params=AT_QUERY, headers=bearer(REGULATOR))
        assert answer.status_code == 200, (path, answer.text)
    csv = client.get(
        "/reports/consent/newsletter",
        params={**AT_QUERY, "format": "csv"},
        headers=bearer(REGULATOR),
    )
    assert csv.headers["content-type"].startswith("text/csv") and "consent_given" in csv.text
    html = client.get(
        "/reports/basis/newsletter", params={"format": "html"}, headers=bearer(REGULATOR)
    )
    assert html.headers["content-type"].startswith("text/html") and "<svg" in html.text
    lookup = client.post(
        "/subjects/lookup", json={"identifier": "x@example.fr"}, headers=bearer(REGULATOR)
    )
    assert lookup.status_code == 403
    assert client.get("/metrics", headers=bearer(REGULATOR)).status_code == 403


def test_ops_reads_metrics_only(client: TestClient) -> None:
    denied = client.get("/reports/ropa", headers=bearer(OPS))
    assert denied.status_code == 403 and "ops" in denied.json()["detail"]
    assert client.get("/reports/erasure", headers=bearer(OPS)).status_code == 403
    metrics = client.get("/metrics", headers=bearer(OPS))
    assert metrics.status_code == 200 and metrics.headers["content-type"].startswith("text/plain")
    assert "pdl_build_info" in metrics.text and "pdl_consumer_lag_messages" in metrics.text
    assert "sub_" not in metrics.text  # no subject id in any label


def test_no_or_unknown_token_is_401(client: TestClient) -> None:
    for headers in ({}, bearer("not-a-configured-token-at-all"), {"Authorization": "Basic eA=="}):
        got = client.get("/reports/ropa", headers=headers)
        assert got.status_code == 401 and got.headers["www-authenticate"] == "Bearer"
    assert client.get("/metrics").status_code == 401
    assert client.get("/health").json() == {"status": "ok"}


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/reports/ropa", {"at": "yesterday"}, "at"),
        ("/reports/ropa", {"known_at": "2024-13-45"}, "known_at"),
        ("/reports/ropa", {"format": "pdf"}, "format"),
        ("/reports/horoscope", {}, "kind"),
        ("/reports/consent", {}, "purpose"),
        ("/reports/access/camille.martin@example.fr", {}, "subject"),
        ("/reports/ropa", {"controller": "acme"}, "controller"),
        ("/reports/basis/astrology", {"controller": "informatique70"}, "purpose"),
    ],
)
def test_a_malformed_request_is_422_naming_the_field(
    client: TestClient, path: str, params: dict[str, str], field: str
) -> None:
    got = client.get(path, params=params, headers=bearer(REGULATOR))
    assert got.status_code == 422, got.text
    [problem] = got.json()["detail"]
    assert problem["field"] == field and problem["reason"]
    assert "camille" not in got.text  # the value sent is never echoed


def test_unknown_subject_is_404(client: TestClient) -> None:
    got = client.get("/reports/access/sub_" + "0" * 32, headers=bearer(DPO))
    assert got.status_code == 404


def test_the_openapi_document_lists_every_report_endpoint(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    paths = set(doc["paths"])
    assert {
        "/reports/ropa",
        "/reports/access/{subject}",
        "/reports/basis/{purpose}",
        "/reports/consent/{purpose}",
        "/reports/erasure",
        "/reports/retention",
        "/reports/transfers",
        "/reports/{kind}",
        "/metrics",
    } <= paths
    assert "HTTPBearer" in doc["components"]["securitySchemes"]
    params = {p["name"] for p in doc["paths"]["/reports/ropa"]["get"]["parameters"]}
    assert {"at", "known_at", "format", "controller"} <= params


def test_tokens_come_from_the_environment_and_a_file_and_never_show(tmp_path: Path) -> None:
    secret_file = tmp_path / "tokens"
    secret_file.write_text(f"# the ops team\n{OPS}=ops\n")
    environ = {"PDL_API_TOKENS": f"{DPO}=dpo", "PDL_API_TOKENS_FILE": str(secret_file)}
    settings = Settings.from_environment(environ=environ)
    tokens = load_tokens(settings.api_tokens, settings.api_tokens_file)
    assert tokens.role_of(DPO) == "dpo" and tokens.role_of(OPS) == "ops"
    assert tokens.role_of(DPO + "x") is None and tokens.role_of(None) is None
    assert DPO not in repr(tokens)
    for bad in (f"{DPO}=root", "tiny-tok=dpo", DPO):
        with pytest.raises(TokenConfigError) as raised:
            parse_tokens(bad, "PDL_API_TOKENS")
        assert DPO not in str(raised.value) and "tiny-tok" not in str(raised.value)
