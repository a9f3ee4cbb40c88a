"""The ledger on a secured cluster: the broker's TLS listener (client certificate) and its
SASL_SSL listener (SCRAM), each running the log contract and one subject's whole story
(emit, catch up, state, erase) through ``pdl``; and a refused handshake is one clear line.

The listeners come from ``infra/kafka/kafka.sh`` with KAFKA_SSL_PORT and
KAFKA_SASL_SSL_PORT (``tests/conftest.py``, ``require_secured_kafka``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ledger.log.base import EventLog
from ledger.log.kafka import KafkaEventLog
from ledger.log.testcase import EventLogTestCase
from ledger.service.settings import Settings
from tests.command import pdl
from tests.conftest import require_secured_kafka
from tests.scenario import canary, collected, consent, lines


class SecuredCluster(EventLogTestCase):
    """The contract suite and one subject's story, over the listener of ``protocol``."""

    protocol: str

    @pytest.fixture(autouse=True)
    def _secured(self, monkeypatch: pytest.MonkeyPatch) -> None:
        for variable, value in require_secured_kafka(self.protocol).items():
            monkeypatch.setenv(variable, value)

    def make_log(self) -> EventLog:
        settings = Settings.from_environment()
        assert settings.kafka_security.protocol == self.protocol
        assert settings.kafka_bootstrap is not None
        # short metadata wait so the failed-batch test fails fast on the unknown topic
        return KafkaEventLog(
            settings.kafka_bootstrap,
            request_timeout_ms=8_000,
            max_block_ms=10_000,
            security=settings.kafka_security,
        )

    def test_a_subject_is_emitted_shown_and_erased(self, tmp_path: Path) -> None:
        email = canary("email") + "@example.fr"
        events = tmp_path / "events.jsonl"
        events.write_text("\n".join(lines(collected(email, email), consent(email))) + "\n")
        emitted = pdl("emit", str(events))
        assert emitted.returncode == 0, emitted.stderr
        shown = pdl("state", email, "--json")
        assert shown.returncode == 0, shown.stderr
        state = json.loads(shown.stdout)
        assert [v["value"] for v in state["values"]] == [email]
        assert [(c["purpose"], c["status"]) for c in state["consents"]] == [("newsletter", "given")]
        erased = pdl("erase", email, "--reason", "request", "--json")
        assert erased.returncode == 0, erased.stderr
        assert json.loads(erased.stdout)["erased"]["keys_destroyed"]
        after = pdl("state", email, "--json")
        assert email not in after.stdout


@pytest.mark.kafka
class TestOverTLS(SecuredCluster):
    protocol = "SSL"


@pytest.mark.kafka
class TestOverSaslScram(SecuredCluster):
    protocol = "SASL_SSL"

    def test_scram_sha_256_is_accepted_too(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("PDL_KAFKA_SASL_MECHANISM", "SCRAM-SHA-256")
        log = self.make_log()
        try:
            log.ensure_topics({f"scram256-{canary('t')}": 1})
        finally:
            log.close()


def _refused(tmp_path: Path) -> tuple[int, str]:
    events = tmp_path / "events.jsonl"
    events.write_text("\n".join(lines(consent("a@example.fr"))) + "\n")
    done = pdl("emit", str(events))
    return done.returncode, done.stderr


@pytest.mark.kafka
def test_a_wrong_password_is_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for variable, value in require_secured_kafka("SASL_SSL").items():
        monkeypatch.setenv(variable, value)
    wrong = "not-the-password-" + canary("pw")
    monkeypatch.delenv("PDL_KAFKA_PASSWORD_FILE")
    monkeypatch.setenv("PDL_KAFKA_PASSWORD", wrong)
    monkeypatch.setenv("PDL_LOG_TIMEOUT", "3")
    code, stderr = _refused(tmp_path)
    assert code == 2, stderr
    assert "Traceback" not in stderr and wrong not in stderr
    assert stderr.startswith("pdl: no Kafka broker reachable at ")
    assert "PDL_KAFKA_USER" in stderr  # the fix names what to check


@pytest.mark.kafka
def test_an_untrusted_broker_certificate_is_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    secured = require_secured_kafka("SSL")
    for variable, value in secured.items():
        monkeypatch.setenv(variable, value)
    # a certificate that did not sign the broker's: the broker is not trusted
    monkeypatch.setenv("PDL_KAFKA_CA_FILE", secured["PDL_KAFKA_CERT_FILE"])
    monkeypatch.setenv("PDL_LOG_TIMEOUT", "3")
    code, stderr = _refused(tmp_path)
    assert code == 2, stderr
    assert "Traceback" not in stderr
    assert stderr.startswith("pdl: no Kafka broker reachable at ")
    assert "PDL_KAFKA_CA_FILE" in stderr
