"""``pdl report``, ``pdl serve`` and ``pdl demo`` as a user runs them."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.cli.test_cli import pdl

DEMO_REPORTS = {
    "record-of-processing.html",
    "subject-access.html",
    "legal-basis-newsletter.html",
    "consent-proof-newsletter.html",
    "erasure-register.html",
    "retention.html",
    "transfers.html",
    "requests-overdue.html",
}


@pytest.mark.parametrize("command", ["report", "serve"])
def test_help_gives_examples(command: str) -> None:
    result = pdl(command, "--help")
    assert result.returncode == 0 and "examples:" in result.stdout
    assert f"pdl {command}" in result.stdout.split("examples:")[1]


def test_demo_writes_the_html_reports_and_names_the_folder(tmp_path: Path) -> None:
    result = pdl("--data-dir", str(tmp_path / "demo"), "demo", "--reports", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    assert "newsletter           withdrawn" in result.stdout
    assert f"HTML reports as of 2024-04-30T12:00:00+00:00 in {tmp_path / 'out'}" in result.stderr
    assert {p.name for p in (tmp_path / "out").iterdir()} == DEMO_REPORTS
    access = (tmp_path / "out" / "subject-access.html").read_text("utf-8")
    assert "<svg" in access and "recording://2024/03/04/call-1187.wav" in access
    default = pdl("--data-dir", str(tmp_path / "again"), "demo")
    assert default.returncode == 0 and (tmp_path / "again" / "reports" / "retention.html").exists()


def test_report_writes_each_format_and_refuses_what_it_cannot_answer(tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path / "demo")]
    assert pdl(*data, "demo").returncode == 0
    at = ["--at", "2024-04-30T12:00:00Z"]
    html = tmp_path / "access.html"
    made = pdl(
        *data,
        "report",
        "access",
        "camille.martin@example.fr",
        *at,
        "--format",
        "html",
        "--out",
        str(html),
    )
    assert made.returncode == 0, made.stderr and "written to" in made.stderr
    assert "<svg" in html.read_text("utf-8")
    csv = pdl(*data, "report", "consent", "--purpose", "newsletter", *at, "--format", "csv")
    assert csv.returncode == 0 and csv.stdout.startswith("# report: consent_proof")
    first = pdl(*data, "report", "ropa", *at, "--withhold")
    again = pdl(*data, "report", "ropa", *at, "--withhold")
    assert first.returncode == 0 and first.stdout == again.stdout
    assert json.loads(first.stdout)["personal_fields"] == "withheld"
    missing = pdl(*data, "report", "consent")
    assert missing.returncode == 2 and "purpose: the consent report is about one purpose" in (
        missing.stderr
    )
    bad_at = pdl(*data, "report", "ropa", "--at", "yesterday")
    assert bad_at.returncode == 2 and "--at" in bad_at.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_serve_needs_tokens_then_answers_on_loopback(tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path / "demo")]
    assert pdl(*data, "demo").returncode == 0
    refused = pdl(*data, "serve")
    assert refused.returncode == 2 and "no API tokens configured" in refused.stderr
    token = "cnil-" + "c" * 24
    port = _free_port()
    env = dict(os.environ, PDL_API_TOKENS=f"{token}=regulator")
    server = subprocess.Popen(
        [sys.executable, "-m", "ledger.cli.main", *data, "serve", "--port", str(port)],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/health", timeout=5).close()
                break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline, "pdl serve did not start within 60 s"
                time.sleep(0.2)
        request = urllib.request.Request(
            f"{base}/reports/transfers?at=2024-04-30T12:00:00Z",
            headers={"Authorization": f"Bearer {token}"},
        )
        with urllib.request.urlopen(request, timeout=60) as answer:
            body = json.loads(answer.read())
        assert body["observed"][0]["recipient"] == "infosys"
    finally:
        server.send_signal(signal.SIGINT)
        _, err = server.communicate(timeout=60)
    assert token not in err  # tokens are never logged
