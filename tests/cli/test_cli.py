"""The command line as a user meets it: exit codes, messages, help, process output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.scenario import canary, collected, consent, lines

COMMANDS = ["demo", "emit", "state", "run", "deadletters", "schemas"]


def pdl(
    *args: str, stdin: str = "", log_url: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if log_url:
        env["PDL_LOG"] = log_url
    return subprocess.run(
        [sys.executable, "-m", "ledger.cli.main", "-v", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_says_what_and_gives_an_example(command: str | None) -> None:
    result = pdl(*([command] if command else []), "--help")
    assert result.returncode == 0
    assert "examples:" in result.stdout and "pdl " in result.stdout.split("examples:")[1]


def test_emit_then_state_shows_decrypted_values_and_leaks_nothing(
    log_url: str | None, tmp_path: Path
) -> None:
    email = canary("email") + "@example.fr"
    emitted = pdl(
        "emit",
        "-",
        stdin="\n".join(lines(collected(email, email), consent(email))),
        log_url=log_url,
    )
    assert emitted.returncode == 0, emitted.stderr
    assert "appended 2 event(s)" in emitted.stderr
    shown = pdl("state", email, "--json", log_url=log_url)
    assert shown.returncode == 0, shown.stderr
    view = json.loads(shown.stdout)
    assert view["values"][0]["value"] == email
    # the only place the canary may appear is the decrypted value printed on request
    assert email not in emitted.stdout + emitted.stderr + shown.stderr
    for path in (tmp_path / "data").rglob("*"):
        if path.is_file():
            assert email.encode() not in path.read_bytes(), f"plaintext in {path}"


def test_malformed_line_exits_non_zero_naming_line_field_and_rule(log_url: str | None) -> None:
    good = collected("x@example.fr", "x@example.fr")
    bad = {**consent("x@example.fr"), "purpose": "astrology"}
    result = pdl(
        "emit", "-", stdin="\n".join([*lines(good), "not json", *lines(bad)]), log_url=log_url
    )
    assert result.returncode == 1
    assert "line 2: (line): not valid JSON" in result.stderr
    assert (
        "line 3: purpose: unknown purpose" in result.stderr and "fix: use one of:" in result.stderr
    )
    assert "nothing appended" in result.stderr
    state = pdl("state", "x@example.fr", log_url=log_url)
    assert state.returncode == 1  # the good line was not appended either


def test_unknown_subject_and_bad_log_url_fail_clearly() -> None:
    assert "no subject is known" in pdl("state", "nobody@example.fr").stderr
    bad = pdl("--log", "http://localhost:9092", "state", "x")
    assert bad.returncode == 2 and "use kafka://HOST:PORT" in bad.stderr


def test_demo_runs_on_the_embedded_log(tmp_path: Path) -> None:
    result = pdl("--data-dir", str(tmp_path / "demo"), "demo")
    assert result.returncode == 0, result.stderr
    assert "newsletter           withdrawn" in result.stdout
    assert "recording://2024/03/04/call-1187.wav" in result.stdout  # decrypted on read
    assert b"call-1187" not in (tmp_path / "demo" / "log.sqlite").read_bytes()


def test_run_applies_events_and_stops_cleanly_on_ctrl_c(log_url: str | None) -> None:
    import signal
    import time

    env = dict(os.environ, **({"PDL_LOG": log_url} if log_url else {}))
    runner = subprocess.Popen(
        [sys.executable, "-m", "ledger.cli.main", "run"], env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        assert (
            pdl(
                "emit", "-", stdin="\n".join(lines(consent("r@example.fr"))), log_url=log_url
            ).returncode
            == 0
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # wait for the running consumer, not a catch-up
            if pdl("state", "r@example.fr", "--no-catch-up", log_url=log_url).returncode == 0:
                break
            time.sleep(0.5)
        else:
            pytest.fail("pdl run did not apply the event within 60 s")
    finally:
        runner.send_signal(signal.SIGINT)
        _, err = runner.communicate(timeout=60)
    assert runner.returncode == 0, err
    assert "stopping after the current batch" in err and "applied 1" in err


def test_every_example_in_events_md_is_accepted(tmp_path: Path) -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "EVENTS.md").read_text("utf-8")
    examples = [block.split("```", 1)[0].strip() for block in doc.split("```json\n")[1:]]
    assert len(examples) >= 3
    result = pdl("emit", "-", stdin="\n".join(examples))
    assert result.returncode == 0, result.stderr
    assert f"appended {len(examples)} event(s)" in result.stderr
