"""docs/INTEGRATORS.md as a producer would use it: every Python block runs (in-process
against a temporary data directory, or against a real ``pdl serve``), the curl block
and the Node.js script run against ``pdl serve``, and ``pdl state`` then shows what
they appended."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import unavailable

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "INTEGRATORS.md"
TOKEN = "emitter-" + "e" * 24


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text("utf-8"), re.S)


@dataclass(frozen=True)
class Server:
    url: str
    env: dict[str, str]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    port = _free_port()
    env = {
        **os.environ,
        "PDL_DATA_DIR": str(tmp_path / "data"),
        "PDL_API_TOKENS": f"{TOKEN}=emitter:informatique70",
        "PDL_MASTER_KEY": "ab" * 32,
    }
    for name in ("PDL_LOG", "PDL_STORE"):
        env.pop(name, None)
    process = subprocess.Popen(
        [sys.executable, "-m", "ledger.cli.main", "serve", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(url + "/health", timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("pdl serve did not start") from None
                time.sleep(0.2)
        yield Server(url, {**env, "LEDGER_URL": url, "LEDGER_TOKEN": TOKEN})
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stderr:
            process.stderr.close()


def pdl_state(server: Server, subject: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-m", "ledger.cli.main", "state", subject, "--json"],
        env=server.env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    state: dict[str, object] = json.loads(done.stdout)
    return state


def test_the_in_process_python_example_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PDL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PDL_MASTER_KEY", "cd" * 32)
    monkeypatch.delenv("PDL_LOG", raising=False)
    monkeypatch.delenv("PDL_STORE", raising=False)
    (block,) = [b for b in blocks("python") if "open_ledger" in b]
    exec(compile(block, str(DOC), "exec"), {})
    printed = capsys.readouterr().out
    assert "['given']" in printed and "consent" in printed and "purpose" in printed


def test_curl_node_and_the_http_client_append_what_pdl_state_shows(server: Server) -> None:
    if shutil.which("curl") is None or shutil.which("node") is None:
        unavailable("curl and node are needed (Debian's curl and nodejs)")
    (curl,) = blocks("sh")[1:2]
    for attempt in (1, 2):  # the second is a retry: nothing appended
        done = subprocess.run(
            ["bash", "-c", curl], env=server.env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert json.loads(done.stdout)["appended"] == (2 if attempt == 1 else 0)
    state = pdl_state(server, "camille.martin@example.fr")
    assert state["events"] == 2

    script = ROOT / "docs" / "examples" / "emit.mjs"
    done = subprocess.run(
        ["node", str(script)], env=server.env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "appended 1" in done.stdout
    assert pdl_state(server, "ines.moreau@example.fr")["events"] == 1

    (remote,) = [b for b in blocks("python") if "LedgerClient" in b]
    done = subprocess.run(
        [sys.executable, "-c", remote],
        env=server.env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("1 sub_") and "occurred_at" in done.stdout
    assert pdl_state(server, "C-1042")["events"] == 1
