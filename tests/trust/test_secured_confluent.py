"""The secured cluster on the second Kafka transport (``PDL_KAFKA_CLIENT=confluent``):
the same contract suite and subject story over TLS and SASL_SSL as
tests/trust/test_secured_kafka.py, and a refused handshake is the same one clear line."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.log.base import EventLog
from ledger.service.settings import Settings
from tests.conftest import require_secured_kafka
from tests.scenario import canary
from tests.trust.test_secured_kafka import SecuredCluster, _refused


class ConfluentSecuredCluster(SecuredCluster):
    @pytest.fixture(autouse=True)
    def _on_confluent(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("PDL_KAFKA_CLIENT", "confluent")  # `pdl` runs on it too

    def make_log(self) -> EventLog:
        from ledger.log.confluent import ConfluentEventLog

        settings = Settings.from_environment()
        assert settings.kafka_security.protocol == self.protocol
        assert settings.kafka_bootstrap is not None
        return ConfluentEventLog(
            settings.kafka_bootstrap,
            request_timeout_ms=8_000,
            max_block_ms=10_000,
            security=settings.kafka_security,
        )


@pytest.mark.kafka
class TestConfluentOverTLS(ConfluentSecuredCluster):
    protocol = "SSL"


@pytest.mark.kafka
class TestConfluentOverSaslScram(ConfluentSecuredCluster):
    protocol = "SASL_SSL"


@pytest.mark.kafka
def test_a_wrong_password_is_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for variable, value in require_secured_kafka("SASL_SSL").items():
        monkeypatch.setenv(variable, value)
    monkeypatch.setenv("PDL_KAFKA_CLIENT", "confluent")
    wrong = "not-the-password-" + canary("pw")
    monkeypatch.delenv("PDL_KAFKA_PASSWORD_FILE")
    monkeypatch.setenv("PDL_KAFKA_PASSWORD", wrong)
    monkeypatch.setenv("PDL_LOG_TIMEOUT", "3")
    code, stderr = _refused(tmp_path)
    assert code == 2, stderr
    assert "Traceback" not in stderr and wrong not in stderr
    assert stderr.startswith("pdl: no Kafka broker reachable at ")
    assert "PDL_KAFKA_USER" in stderr


@pytest.mark.kafka
def test_an_untrusted_broker_certificate_is_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    secured = require_secured_kafka("SSL")
    for variable, value in secured.items():
        monkeypatch.setenv(variable, value)
    monkeypatch.setenv("PDL_KAFKA_CLIENT", "confluent")
    monkeypatch.setenv("PDL_KAFKA_CA_FILE", secured["PDL_KAFKA_CERT_FILE"])
    monkeypatch.setenv("PDL_LOG_TIMEOUT", "3")
    code, stderr = _refused(tmp_path)
    assert code == 2, stderr
    assert "Traceback" not in stderr
    assert stderr.startswith("pdl: no Kafka broker reachable at ")
    assert "PDL_KAFKA_CA_FILE" in stderr
