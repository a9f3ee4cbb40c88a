"""Shared fixtures: a fresh ledger per test on the embedded log or the real Kafka broker.

Kafka tests need ``PDL_TEST_KAFKA=host:port`` (``.ci/run`` starts a broker and sets it).
Without a reachable broker they skip, visibly, on a laptop; under CI or with
``PDL_REQUIRE_KAFKA=1`` they fail instead.
"""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import NoReturn

import pytest

from ledger.contract.topics import Topics
from ledger.service.backends import Backends
from ledger.service.settings import Settings
from ledger.service.settings_file import VARIABLES

# the contract suites shipped in the package: show values when their assertions fail
pytest.register_assert_rewrite(
    "ledger.log.testcase", "ledger.keys.testcase", "consumers.store_testcase"
)


def unavailable(problem: str, *require: str) -> NoReturn:
    """A part the test needs is missing: a failure under CI (or when any of the
    ``require`` variables is 1), a skip with the reason on a developer's machine."""
    if os.environ.get("CI") or any(os.environ.get(name) == "1" for name in require):
        pytest.fail(problem)
    pytest.skip(problem)


KAFKA_HELP = "start a broker with `bash infra/kafka/kafka.sh start` and set PDL_TEST_KAFKA"


@cache
def _kafka_status() -> tuple[str | None, str]:
    address = os.environ.get("PDL_TEST_KAFKA")
    if not address:
        return None, f"PDL_TEST_KAFKA is not set ({KAFKA_HELP})"
    from kafka import KafkaAdminClient
    from kafka.errors import KafkaError

    try:
        admin = KafkaAdminClient(bootstrap_servers=address, request_timeout_ms=10_000)
        admin.list_topics()
        admin.close()
    except KafkaError as exc:
        return None, f"no Kafka broker reachable at {address}: {exc!r} ({KAFKA_HELP})"
    return address, ""


def require_kafka() -> str:
    address, problem = _kafka_status()
    if address is None:
        unavailable(problem, "PDL_REQUIRE_KAFKA")
    return address


@pytest.fixture
def kafka_address() -> str:
    return require_kafka()


# Secured Kafka: the broker's TLS and SASL_SSL listeners. ``infra/kafka/kafka.sh start``
# with KAFKA_SSL_PORT and KAFKA_SASL_SSL_PORT writes ``tls/client.env`` in its data dir,
# which sets these variables; unset, the tests skip (under CI, or with
# ``PDL_REQUIRE_KAFKA=1``, they fail).
SECURED_HELP = (
    "start the broker with KAFKA_SSL_PORT and KAFKA_SASL_SSL_PORT set and source the "
    "tls/client.env it writes (infra/README.md, Secured listeners)"
)


def require_secured_kafka(protocol: str) -> dict[str, str]:
    """The ``PDL_*`` settings of a client of the broker's ``SSL`` (client certificate) or
    ``SASL_SSL`` (SCRAM user) listener."""
    ssl = protocol == "SSL"
    address = "PDL_TEST_KAFKA_SSL" if ssl else "PDL_TEST_KAFKA_SASL_SSL"
    credentials = (
        ["PDL_TEST_KAFKA_CLIENT_CERT", "PDL_TEST_KAFKA_CLIENT_KEY"]
        if ssl
        else ["PDL_TEST_KAFKA_USER", "PDL_TEST_KAFKA_PASSWORD_FILE"]
    )
    missing = [v for v in [address, "PDL_TEST_KAFKA_CA", *credentials] if not os.environ.get(v)]
    if missing:
        problem = f"{', '.join(missing)} not set ({SECURED_HELP})"
        unavailable(problem, "PDL_REQUIRE_KAFKA")
    env = {
        "PDL_LOG": f"kafka+{protocol.lower()}://{os.environ[address]}",
        "PDL_KAFKA_CA_FILE": os.environ["PDL_TEST_KAFKA_CA"],
    }
    if ssl:
        env["PDL_KAFKA_CERT_FILE"] = os.environ["PDL_TEST_KAFKA_CLIENT_CERT"]
        env["PDL_KAFKA_KEY_FILE"] = os.environ["PDL_TEST_KAFKA_CLIENT_KEY"]
    else:
        env["PDL_KAFKA_USER"] = os.environ["PDL_TEST_KAFKA_USER"]
        env["PDL_KAFKA_PASSWORD_FILE"] = os.environ["PDL_TEST_KAFKA_PASSWORD_FILE"]
    return env


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Every test gets its own topics, master key and data directory (through the
    environment, so the settings of every ledger it opens, CLI included, see them)."""
    monkeypatch.setenv("PDL_TOPIC_PREFIX", f"t{uuid.uuid4().hex[:12]}.")
    monkeypatch.setenv("PDL_MASTER_KEY", secrets.token_hex(32))
    monkeypatch.setenv("PDL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("PDL_LOG", raising=False)
    for variable in VARIABLES.values():
        if variable.startswith("PDL_KAFKA_"):  # a developer's secured cluster stays out
            monkeypatch.delenv(variable, raising=False)


def per_test_topics() -> Topics:
    """The topics of the running test (its own ``PDL_TOPIC_PREFIX``)."""
    return Settings.from_environment().topics


BACKENDS = ["embedded", pytest.param("kafka", marks=pytest.mark.kafka)]


@pytest.fixture(params=BACKENDS)
def log_url(request: pytest.FixtureRequest) -> str | None:
    """None for the embedded log, kafka://… for the real broker."""
    if request.param == "kafka":
        return f"kafka://{require_kafka()}"
    return None


LedgerFactory = Callable[[], Backends]


@pytest.fixture
def make_ledger(log_url: str | None, tmp_path: Path) -> Iterator[LedgerFactory]:
    """Opens ledgers on one backend and one data directory (a restart opens another)."""
    opened: list[Backends] = []

    def make() -> Backends:
        ledger = Backends(Settings.from_environment(log_url, tmp_path / "data"))
        opened.append(ledger)
        return ledger

    yield make
    for ledger in opened:
        ledger.close()


# PostgreSQL: the projection store's server adapter, tested against a real cluster.
# ``PDL_TEST_POSTGRES`` is a libpq URL (``.ci/run`` starts a throw-away cluster with
# ``infra/postgres/postgres.sh`` and sets it). Without a reachable server the tests skip,
# visibly, on a laptop; under CI or with ``PDL_REQUIRE_POSTGRES=1`` they fail instead.

POSTGRES_HELP = (
    "start a cluster with `infra/postgres/postgres.sh start` and set PDL_TEST_POSTGRES "
    "to the URL it prints"
)


@cache
def _postgres_status() -> tuple[str | None, str]:
    url = os.environ.get("PDL_TEST_POSTGRES")
    if not url:
        return None, f"PDL_TEST_POSTGRES is not set ({POSTGRES_HELP})"
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=10) as db:
            db.execute("SELECT 1")
    except psycopg.Error as exc:
        # libpq's reason names host and port, never the URL's password
        return None, f"no PostgreSQL reachable at PDL_TEST_POSTGRES: {exc} ({POSTGRES_HELP})"
    return url, ""


def require_postgres() -> str:
    url, problem = _postgres_status()
    if url is None:
        unavailable(problem, "PDL_REQUIRE_POSTGRES")
    return url


@pytest.fixture
def postgres_url() -> str:
    return require_postgres()


@pytest.fixture(autouse=True)
def no_store_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's ``PDL_STORE`` must not send the tests' ledgers to their database."""
    monkeypatch.delenv("PDL_STORE", raising=False)
