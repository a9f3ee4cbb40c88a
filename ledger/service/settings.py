"""The ledger's settings: one validated object, read from the flags, the environment and
a settings file.

This module is the only place the environment is read. Each setting has one variable,
and the same name as a key of the settings file:

======================  ====================  ==========================================
setting                 variable              meaning
======================  ====================  ==========================================
``log_url``             ``PDL_LOG``           ``kafka://HOST:PORT``; unset: embedded log
``data_dir``            ``PDL_DATA_DIR``      default ``$XDG_DATA_HOME/pdl`` or
                                              ``~/.local/share/pdl``
``topic_prefix``        ``PDL_TOPIC_PREFIX``  prefix of every topic name (``pdl.``)
``partitions``          ``PDL_PARTITIONS``    partitions of each event topic (3)
``metrics_port``        ``PDL_METRICS_PORT``  ``pdl run``'s metrics port; 0: none
``log_timeout_s``       ``PDL_LOG_TIMEOUT``   seconds a log request may take before a
                                              command gives up (10)
``transaction_timeout_s``  ``PDL_TRANSACTION_TIMEOUT``  seconds after which the broker
                                              aborts an append whose writer vanished (20)
``stall_timeout_s``     ``PDL_STALL_TIMEOUT``  seconds a catch-up (reads, erasures,
                                              ``pdl rebuild``) waits for the projections
                                              to make progress before it gives up (60)
``replication_factor``  ``PDL_REPLICATION_FACTOR``  replicas of each new topic; unset:
                                              the cluster's broker count, up to 3
``min_insync_replicas``  ``PDL_MIN_INSYNC_REPLICAS``  replicas an append waits for;
                                              unset: one less than the replication
``event_id_memory_days``  ``PDL_EVENT_ID_MEMORY_DAYS``  days an appended event_id is
                                              remembered, so a retry appends nothing (30)
``store_url``           ``PDL_STORE``         ``postgresql://...``: projections in
                                              PostgreSQL; unset: SQLite in the data dir
``master_key``          ``PDL_MASTER_KEY``    32 bytes, hex or base64
``master_key_file``     ``PDL_MASTER_KEY_FILE``  a file holding the master key
``backup_key_period_days``  ``PDL_BACKUP_KEY_PERIOD_DAYS``  days each backup key encrypts
                                              ``pdl keys backup`` files (30)
``backup_key_grace_days``  ``PDL_BACKUP_KEY_GRACE_DAYS``  days a backup key is kept after
                                              its period, then destroyed (7)
``pinned_public_key_file``  ``PDL_PINNED_PUBLIC_KEY_FILE``  PEM public key certificates
                                              are verified against (reports, API); unset:
                                              the data directory's key, with a warning
``api_tokens``          ``PDL_API_TOKENS``    ``token=role`` entries for ``pdl serve``
``api_tokens_file``     ``PDL_API_TOKENS_FILE``  a file of such entries
``kafka_security_protocol``  ``PDL_KAFKA_SECURITY_PROTOCOL``  PLAINTEXT (default), SSL,
                                              SASL_SSL or SASL_PLAINTEXT
``kafka_ca_file``       ``PDL_KAFKA_CA_FILE``  PEM CA the brokers' certificates chain to
``kafka_cert_file``     ``PDL_KAFKA_CERT_FILE``  PEM client certificate (mutual TLS)
``kafka_key_file``      ``PDL_KAFKA_KEY_FILE``  its unencrypted PEM key
``kafka_check_hostname``  ``PDL_KAFKA_CHECK_HOSTNAME``  ``true`` (default) or ``false``
``kafka_sasl_mechanism``  ``PDL_KAFKA_SASL_MECHANISM``  SCRAM-SHA-512 (default),
                                              SCRAM-SHA-256 or PLAIN
``kafka_user``          ``PDL_KAFKA_USER``    SASL user
``kafka_password``      ``PDL_KAFKA_PASSWORD``  SASL password
``kafka_password_file``  ``PDL_KAFKA_PASSWORD_FILE``  a file holding the SASL password
``kafka_client``        ``PDL_KAFKA_CLIENT``  the Kafka client library: ``kafka-python``
                                              (default) or ``confluent`` (librdkafka)
======================  ====================  ==========================================

The settings file is TOML (``--config FILE``, else ``PDL_CONFIG``), one top-level key
per setting, e.g. ``log_url = "kafka://broker:9092"`` and ``partitions = 6``.
Precedence: flags (``--log``, ``--data-dir``, ``--store``, ``--metrics-port``) >
environment > settings file > defaults. Values arrive as text and are checked by
``Settings.from_text``. A bad value raises ``ConfigError`` naming the variable, what is
wrong and the fix; a secret (master key, tokens) is never quoted.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

from ledger.contract.topics import DEFAULT_PARTITIONS, DEFAULT_PREFIX, Topics
from ledger.errors import ConfigError
from ledger.log.kafka_security import KafkaSecurity
from ledger.service import kafka_access
from ledger.service.layout import DataDirectory
from ledger.service.settings_file import (
    CONFIG_VARIABLE,
    NUMBER_RULES,
    VARIABLES,
    or_default,
    path_setting,
    read_settings_file,
    whole_number,
    yes_or_no,
)

#: the Kafka client libraries the log adapter can run on (``ledger.log.kafka``,
#: ``ledger.log.confluent``): the same port, topics and partitioning on either
KAFKA_CLIENTS = ("kafka-python", "confluent")

_TOPIC_NAME = re.compile(r"[A-Za-z0-9._-]*")
#: ``kafka+ssl://`` etc. name the security protocol in the URL itself
_KAFKA_URL = re.compile(r"kafka(?:\+(ssl|sasl_ssl|sasl_plaintext))?://([^/?#]+)/?")
_STORE_SCHEMES = ("postgresql://", "postgres://")


def default_data_dir(environ: Mapping[str, str]) -> Path:
    base = environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "pdl"


@dataclass(frozen=True)
class Settings:
    """Checked on construction: an instance is always usable."""

    log_url: str | None
    data_dir: Path
    topic_prefix: str = DEFAULT_PREFIX
    partitions: int = DEFAULT_PARTITIONS
    #: None: not set (``pdl run`` serves on its default port)
    metrics_port: int | None = None
    #: how long one request to the log may take: a one-shot command fails after it;
    #: ``pdl run`` reports the outage and retries
    log_timeout_s: int = 10
    #: how long an append's transaction may stay open: the broker aborts it after that
    #: when its writer died, so readers behind it wait no longer (docs/OPERATORS.md)
    transaction_timeout_s: int = 20
    #: how long a read's catch-up may make no progress before it fails; best longer than
    #: ``transaction_timeout_s``, so that an abandoned append ends before the read gives up
    stall_timeout_s: int = 60
    #: None: the cluster's broker count, up to 3, and one less in sync (at least 1)
    replication_factor: int | None = None
    min_insync_replicas: int | None = None
    #: how long intake remembers an appended event_id (``ledger.service.receipts``)
    event_id_memory_days: int = 30
    #: None: SQLite files in the data directory; else a libpq URL (may hold a password)
    store_url: str | None = field(default=None, repr=False)
    master_key: str | None = field(default=None, repr=False)
    master_key_file: Path | None = None
    #: backups of the key store: the bound on how long an erased key survives in them
    #: (``ledger.keys.backup``), which erasure certificates state
    backup_key_period_days: int = 30
    backup_key_grace_days: int = 7
    #: the erasure register's public key, distributed apart from the data directory: a
    #: key replaced there (with forged certificates) does not verify against it
    pinned_public_key_file: Path | None = None
    api_tokens: str = field(default="", repr=False)
    api_tokens_file: Path | None = None
    #: None: named by the ``--log`` scheme, else PLAINTEXT
    kafka_security_protocol: str | None = None
    kafka_ca_file: Path | None = None
    kafka_cert_file: Path | None = None
    kafka_key_file: Path | None = None
    kafka_check_hostname: bool = True
    #: None: SCRAM-SHA-512 when the protocol is SASL_*
    kafka_sasl_mechanism: str | None = None
    kafka_user: str | None = None
    kafka_password: str | None = field(default=None, repr=False)
    kafka_password_file: Path | None = None
    kafka_client: str = KAFKA_CLIENTS[0]

    def __post_init__(self) -> None:
        self.kafka_bootstrap  # noqa: B018 — an unusable URL fails here, not at first use
        kafka_access.check(self)
        if self.kafka_client not in KAFKA_CLIENTS:
            raise ConfigError(
                f"PDL_KAFKA_CLIENT {self.kafka_client!r} is not a Kafka client this ledger runs on",
                fix=f"set it to {' or '.join(KAFKA_CLIENTS)}, or unset it (kafka-python)",
            )
        if not _TOPIC_NAME.fullmatch(self.topic_prefix) or len(self.topic_prefix) > 200:
            raise ConfigError(
                f"PDL_TOPIC_PREFIX {self.topic_prefix!r} cannot start a Kafka topic name",
                fix="use letters, digits, '.', '_' and '-' only, e.g. pdl.",
            )
        if self.partitions < 1:
            raise ConfigError(
                f"PDL_PARTITIONS {self.partitions} is not a partition count",
                fix="set it to 1 or more (default 3), or unset it",
            )
        if self.metrics_port is not None and not 0 <= self.metrics_port <= 65535:
            raise ConfigError(
                f"--metrics-port/PDL_METRICS_PORT {self.metrics_port} is not a port number",
                fix="use 1 to 65535, or 0 to serve no metrics",
            )
        if self.store_url is not None and not self.store_url.startswith(_STORE_SCHEMES):
            # the URL is not quoted: it may carry a password
            raise ConfigError(
                "--store/PDL_STORE is not a PostgreSQL URL",
                fix="use postgresql://USER@HOST:PORT/DATABASE, or leave it unset for the "
                "SQLite store in the data directory",
            )
        if self.log_timeout_s < 1:
            raise ConfigError(
                f"PDL_LOG_TIMEOUT {self.log_timeout_s} is not a number of seconds",
                fix="set it to 1 or more (default 10), or unset it",
            )
        for name, value in (
            ("transaction_timeout_s", self.transaction_timeout_s),
            ("stall_timeout_s", self.stall_timeout_s),
            ("replication_factor", self.replication_factor),
            ("min_insync_replicas", self.min_insync_replicas),
        ):
            if value is not None and value < 1:
                rule, example = NUMBER_RULES[name]
                raise ConfigError(
                    f"{VARIABLES[name]} {value} is not {rule}",
                    fix=f"set it to {example}, or unset it",
                )
        for name, value in (
            ("backup_key_period_days", self.backup_key_period_days),
            ("backup_key_grace_days", self.backup_key_grace_days + 1),
        ):
            if value < 1:
                rule, example = NUMBER_RULES[name]
                raise ConfigError(
                    f"{VARIABLES[name]} is not {rule}", fix=f"set it to {example}, or unset it"
                )
        if self.event_id_memory_days < 1:
            raise ConfigError(
                f"PDL_EVENT_ID_MEMORY_DAYS {self.event_id_memory_days} is not a number of days",
                fix="set it to 1 or more (default 30): at least as long as a producer may "
                "retry, or unset it",
            )

    @classmethod
    def from_environment(
        cls,
        log: str | None = None,
        data_dir: str | Path | None = None,
        metrics_port: int | None = None,
        store: str | None = None,
        environ: Mapping[str, str] | None = None,
        fallback_data_dir: Callable[[], Path] | None = None,
        config: str | Path | None = None,
    ) -> Settings:
        """The settings of one command: its flags, else the environment, else the settings
        file (``config``, else ``PDL_CONFIG``), else defaults. ``fallback_data_dir`` is
        asked for a data directory when none of them names one (default:
        ``$XDG_DATA_HOME/pdl``)."""
        env = os.environ if environ is None else environ
        config = config or env.get(CONFIG_VARIABLE) or None
        text = read_settings_file(Path(config)) if config is not None else {}
        text.update({name: env[var] for name, var in VARIABLES.items() if env.get(var)})
        if log:
            text["log_url"] = log
        if data_dir:
            text["data_dir"] = str(data_dir)
        if store:
            text["store_url"] = store
        if "data_dir" not in text:
            fallback = default_data_dir(env) if fallback_data_dir is None else fallback_data_dir()
            text["data_dir"] = str(fallback)
        settings = cls.from_text(text)
        if metrics_port is not None:
            return replace(settings, metrics_port=metrics_port)
        return settings

    @classmethod
    def from_text(cls, text: Mapping[str, str]) -> Settings:
        """Settings from text values keyed by setting name (missing: the default); the
        data directory is required."""
        unknown = sorted(set(text) - set(VARIABLES))
        if unknown:
            raise ConfigError(
                f"unknown setting {unknown[0]!r}", fix=f"use one of {', '.join(VARIABLES)}"
            )
        partitions = whole_number(text, "partitions")
        log_timeout_s = whole_number(text, "log_timeout_s")
        transaction_s = whole_number(text, "transaction_timeout_s")
        stall_s = whole_number(text, "stall_timeout_s")
        memory_days = whole_number(text, "event_id_memory_days")
        data_dir = text.get("data_dir")
        if not data_dir:
            raise ConfigError("data_dir: no data directory given", fix="set PDL_DATA_DIR")
        return cls(
            log_url=text.get("log_url") or None,
            data_dir=Path(data_dir).expanduser(),
            topic_prefix=text.get("topic_prefix", DEFAULT_PREFIX),
            partitions=DEFAULT_PARTITIONS if partitions is None else partitions,
            metrics_port=whole_number(text, "metrics_port"),
            log_timeout_s=10 if log_timeout_s is None else log_timeout_s,
            transaction_timeout_s=20 if transaction_s is None else transaction_s,
            stall_timeout_s=60 if stall_s is None else stall_s,
            replication_factor=whole_number(text, "replication_factor"),
            min_insync_replicas=whole_number(text, "min_insync_replicas"),
            event_id_memory_days=30 if memory_days is None else memory_days,
            store_url=None if text.get("store_url") in (None, "", "sqlite") else text["store_url"],
            master_key=text.get("master_key") or None,
            master_key_file=Path(text["master_key_file"]) if text.get("master_key_file") else None,
            backup_key_period_days=or_default(whole_number(text, "backup_key_period_days"), 30),
            backup_key_grace_days=or_default(whole_number(text, "backup_key_grace_days"), 7),
            api_tokens=text.get("api_tokens", ""),
            pinned_public_key_file=(
                Path(text["pinned_public_key_file"]) if text.get("pinned_public_key_file") else None
            ),
            api_tokens_file=Path(text["api_tokens_file"]) if text.get("api_tokens_file") else None,
            kafka_security_protocol=(text.get("kafka_security_protocol") or "").upper() or None,
            kafka_ca_file=path_setting(text, "kafka_ca_file"),
            kafka_cert_file=path_setting(text, "kafka_cert_file"),
            kafka_key_file=path_setting(text, "kafka_key_file"),
            kafka_check_hostname=yes_or_no(text, "kafka_check_hostname", default=True),
            kafka_sasl_mechanism=(text.get("kafka_sasl_mechanism") or "").upper() or None,
            kafka_user=text.get("kafka_user") or None,
            kafka_password=text.get("kafka_password") or None,
            kafka_password_file=path_setting(text, "kafka_password_file"),
            kafka_client=(text.get("kafka_client") or KAFKA_CLIENTS[0]).strip().lower(),
        )

    @property
    def kafka_bootstrap(self) -> str | None:
        if self.log_url is None or self.log_url in ("embedded", "embedded:"):
            return None
        match = _KAFKA_URL.fullmatch(self.log_url)
        if match is None:
            raise ConfigError(
                f"--log/PDL_LOG {self.log_url!r} is not understood",
                fix="use kafka://HOST:PORT (several brokers: kafka://h1:9092,h2:9092; "
                "secured: kafka+ssl://, kafka+sasl_ssl://), or leave it unset for the "
                "embedded log",
            )
        return match.group(2)

    @property
    def kafka_protocol(self) -> str:
        """The security protocol of the Kafka clients: the ``--log`` scheme's, else
        ``PDL_KAFKA_SECURITY_PROTOCOL``, else PLAINTEXT."""
        match = _KAFKA_URL.fullmatch(self.log_url or "")
        from_url = match.group(1).upper() if match and match.group(1) else None
        return from_url or self.kafka_security_protocol or "PLAINTEXT"

    @cached_property
    def kafka_security(self) -> KafkaSecurity:
        """The TLS and SASL options of every Kafka client (``ledger.service.kafka_access``);
        reads the password file and checks that the named files exist."""
        return kafka_access.security_of(self)

    @property
    def log_slug(self) -> str:
        """A file-name-safe name of the log, so projections of two logs never mix."""
        bootstrap = self.kafka_bootstrap
        return "embedded" if bootstrap is None else "kafka-" + re.sub(r"[^\w.-]", "_", bootstrap)

    @cached_property
    def topics(self) -> Topics:
        return Topics(self.topic_prefix, self.partitions)

    @cached_property
    def layout(self) -> DataDirectory:
        return DataDirectory(self.data_dir)
